/*
 * config.c
 *		The gateway's settings and their defaults (set from options in main.c).
 */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

gw_config	gw = {
	.db_uri = NULL,
	.listen_host = "127.0.0.1",
	.listen_port = 8080,
	.max_body = 32u * 1024u * 1024u,
	.pool_size = 8,
	.threads = 0,
	.max_connections = 1000,
	.timeout_seconds = 30,
	.head_timeout_seconds = 10,
	.min_body_rate = 1024,
	.statement_timeout_ms = 30000,
	.render_slots = 0,
	.stream_slice = 256 * 1024,
	.fast_path = 1,
	.max_held_bytes = 256L * 1024 * 1024,
	.rendition_max_age = 0,
	.read_max_lag_ms = 5000,
	.read_own_writes_ms = 5000,
	.session_ttl = 8 * 3600,
	.quiet = 0,
};

int64_t
gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --app-tokens: the accepted SO-AppToken values, sorted for bsearch */
static char **app_tokens;
static size_t n_app_tokens;
static int	app_tokens_on;

static int
cmp_token(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

int
gw_load_app_tokens(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		n;

	if (f == NULL)
		return -1;
	while ((n = getline(&line, &cap, f)) >= 0)
	{
		char	   *t = line + strspn(line, " \t");
		size_t		len = strcspn(t, " \t\r\n#");
		char	  **grown;

		if (len == 0)
			continue;
		t[len] = '\0';
		grown = realloc(app_tokens, (n_app_tokens + 1) * sizeof(char *));
		if (grown == NULL || (grown[n_app_tokens] = strdup(t)) == NULL)
		{
			free(line);
			fclose(f);
			return -1;
		}
		app_tokens = grown;
		n_app_tokens++;
	}
	free(line);
	fclose(f);
	qsort(app_tokens, n_app_tokens, sizeof(char *), cmp_token);
	app_tokens_on = 1;
	return 0;
}

int
gw_app_token_ok(const char *token)
{
	if (!app_tokens_on)
		return 1;
	return token != NULL && *token != '\0' &&
		bsearch(&token, app_tokens, n_app_tokens, sizeof(char *), cmp_token) != NULL;
}

/* Is name (n bytes) in the comma-separated list (any case)? */
static int
listed(const char *list, const char *name, size_t n)
{
	for (const char *p = list; *p;)
	{
		size_t		len;

		p += strspn(p, " ,");
		len = strcspn(p, " ,");
		if (len == 1 && *p == '*')
			return 1;
		if (len == n && len > 0 && strncasecmp(p, name, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

static int
loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

int
gw_host_allowed(const char *host)
{
	const char *list = gw.hosts;
	size_t		n;

	if (host == NULL)
		return 1;				/* HTTP/1.0 without Host */
	if (list == NULL)
		list = loopback(gw.listen_host) ? "localhost,127.0.0.1,[::1]" : "*";
	/* the name without the port: "[::1]:8080" -> "[::1]", "a:80" -> "a" */
	n = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":");
	if (n > strlen(host))
		n = strlen(host);
	return listed(list, host, n);
}
