/*
 * main.c
 *		product-image-gateway: options, the libmicrohttpd daemon, and a
 *		graceful SIGTERM (stop accepting, finish in-flight requests, exit 0).
 */
#include "gateway.h"
#include "handler.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


static void
usage(FILE *out)
{
	fprintf(out,
			"usage: product-image-gateway --db-uri CONNINFO [options]\n"
			"\n"
			"Serves SuperOffice's product image routes over the product_image extension:\n"
			"  PUT|POST /api/v1/Product/{id}/Image    save (raw body or multipart/form-data)\n"
			"  GET      /api/v1/Product/{id}/Image    the stored bytes (ETag, If-None-Match)\n"
			"  DELETE   /api/v1/Product/{id}/Image    remove (204)\n"
			"  GET|PUT  /api/v1/Product/{id}/ImageInfo the BlobEntity (JSON or XML)\n"
			"  GET      /health                       200 when the database answers, else 503\n"
			"\n"
			"options (each also from the environment variable shown):\n"
			"  --db-uri CONNINFO     libpq URI or key=value string of the authenticator role\n"
			"                        (PRODUCT_IMAGE_DB_URI; required)\n"
			"  --listen HOST:PORT    address to listen on (PRODUCT_IMAGE_LISTEN; 127.0.0.1:8080)\n"
			"  --jwt-secret S        HS256 secret for Bearer tokens, at least 32 characters\n"
			"                        (PRODUCT_IMAGE_JWT_SECRET; none: Bearer is refused)\n"
			"  --anon-role R         role for requests without credentials\n"
			"                        (PRODUCT_IMAGE_ANON_ROLE; none: such requests get 401)\n"
			"  --max-body BYTES      largest request body (PRODUCT_IMAGE_MAX_BODY; 33554432)\n"
			"  --pool N              database connections (PRODUCT_IMAGE_POOL; 8)\n"
			"  --threads N           a pool of N HTTP worker threads; 0: a thread per connection\n"
			"                        (PRODUCT_IMAGE_THREADS; 0)\n"
			"  --max-connections N   open client connections before 503\n"
			"                        (PRODUCT_IMAGE_MAX_CONNECTIONS; 1000)\n"
			"  --timeout SECONDS     idle/slow client timeout (PRODUCT_IMAGE_TIMEOUT; 30)\n"
			"  --head-timeout SECONDS  deadline for a whole request head, from the\n"
			"                        connection or the previous answer (PRODUCT_IMAGE_HEAD_TIMEOUT; 10)\n"
			"  --min-body-rate BYTES/S  slowest body upload, averaged, after --head-timeout\n"
			"                        seconds (PRODUCT_IMAGE_MIN_BODY_RATE; 1024)\n"
			"  --statement-timeout MS  longest database work per request, 0 for none; past it\n"
			"                        the answer is 503 (PRODUCT_IMAGE_STATEMENT_TIMEOUT; 30000)\n"
			"  --render-slots N      renditions rendered at once; past them a rendition is\n"
			"                        served only from the cache, else 503 + Retry-After\n"
			"                        (PRODUCT_IMAGE_RENDER_SLOTS; --pool / 4, at least 1)\n"
			"  --render-probe-ms MS  past the render slots, the time a rendition call gets\n"
			"                        (PRODUCT_IMAGE_RENDER_PROBE_MS; 250)\n"
			"  --stream-slice BYTES  originals larger than this are sent in slices of it,\n"
			"                        each read in its own transaction, when the database has\n"
			"                        product_get_image_part; 0: never (PRODUCT_IMAGE_STREAM_SLICE; 262144)\n"
			"  --rendition-max-age SECONDS  Cache-Control max-age of GET Image with w, h,\n"
			"                        type or ifBlank (PRODUCT_IMAGE_RENDITION_MAX_AGE; 300)\n"
			"  --read-db-uri URI     a streaming replica for GET routes (PRODUCT_IMAGE_READ_DB_URI);\n"
			"                        the primary serves them when it is down or behind\n"
			"  --read-max-lag MS     replica lag past which reads go to the primary\n"
			"                        (PRODUCT_IMAGE_READ_MAX_LAG; 5000)\n"
			"  --read-own-writes MS  after a write, reads of that product go to the primary\n"
			"                        for this long (PRODUCT_IMAGE_READ_OWN_WRITES; 5000)\n"
			"  --help                this text\n"
			"\n"
			"One line per request goes to stderr: method, path, status, bytes in, bytes out, time.\n");
}

static long
parse_number(const char *name, const char *v, long min, long max)
{
	char	   *end;
	long		n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
	{
		fprintf(stderr, "product-image-gateway: %s must be a number from %ld to %ld, not \"%s\"\n",
				name, min, max, v);
		exit(2);
	}
	return n;
}

static void
set_listen(const char *v)
{
	const char *colon = strrchr(v, ':');
	char	   *host;

	if (colon == NULL || colon == v)
	{
		fprintf(stderr, "product-image-gateway: --listen must be HOST:PORT, not \"%s\"\n", v);
		exit(2);
	}
	host = strndup(v, (size_t) (colon - v));
	gw.listen_host = host;
	gw.listen_port = (int) parse_number("the listen port", colon + 1, 1, 65535);
}

/* Apply one setting by its option name. */
static void
apply(const char *name, const char *v)
{
	if (strcmp(name, "db-uri") == 0)
		gw.db_uri = v;
	else if (strcmp(name, "listen") == 0)
		set_listen(v);
	else if (strcmp(name, "jwt-secret") == 0)
		gw.jwt_secret = v;
	else if (strcmp(name, "anon-role") == 0)
		gw.anon_role = *v ? v : NULL;
	else if (strcmp(name, "max-body") == 0)
		gw.max_body = (size_t) parse_number("--max-body", v, 1, INT_MAX);
	else if (strcmp(name, "pool") == 0)
		gw.pool_size = (int) parse_number("--pool", v, 1, 1000);
	else if (strcmp(name, "threads") == 0)
		gw.threads = (int) parse_number("--threads", v, 0, 256);
	else if (strcmp(name, "max-connections") == 0)
		gw.max_connections = (int) parse_number("--max-connections", v, 1, 100000);
	else if (strcmp(name, "timeout") == 0)
		gw.timeout_seconds = (int) parse_number("--timeout", v, 1, 3600);
	else if (strcmp(name, "head-timeout") == 0)
		gw.head_timeout_seconds = (int) parse_number("--head-timeout", v, 1, 3600);
	else if (strcmp(name, "min-body-rate") == 0)
		gw.min_body_rate = (int) parse_number("--min-body-rate", v, 0, INT_MAX);
	else if (strcmp(name, "stream-slice") == 0)
		gw.stream_slice = (int) parse_number("--stream-slice", v, 0, 64 * 1024 * 1024);
	else if (strcmp(name, "render-slots") == 0)
		gw.render_slots = (int) parse_number("--render-slots", v, 0, 1000);
	else if (strcmp(name, "render-probe-ms") == 0)
		gw.render_probe_ms = (int) parse_number("--render-probe-ms", v, 1, INT_MAX);
	else if (strcmp(name, "statement-timeout") == 0)
		gw.statement_timeout_ms = (int) parse_number("--statement-timeout", v, 0, INT_MAX);
	else if (strcmp(name, "read-db-uri") == 0)
		gw.read_db_uri = *v ? v : NULL;
	else if (strcmp(name, "read-max-lag") == 0)
		gw.read_max_lag_ms = (int) parse_number("--read-max-lag", v, 0, INT_MAX);
	else if (strcmp(name, "read-own-writes") == 0)
		gw.read_own_writes_ms = (int) parse_number("--read-own-writes", v, 0, INT_MAX);
	else if (strcmp(name, "rendition-max-age") == 0)
		gw.rendition_max_age = (int) parse_number("--rendition-max-age", v, 0, 31536000);
	else
	{
		fprintf(stderr, "product-image-gateway: unknown option --%s (see --help)\n", name);
		exit(2);
	}
}

static void
configure(int argc, char **argv)
{
	static const struct
	{
		const char *opt;
		const char *env;
	}			envs[] = {
		{"db-uri", "PRODUCT_IMAGE_DB_URI"}, {"listen", "PRODUCT_IMAGE_LISTEN"},
		{"jwt-secret", "PRODUCT_IMAGE_JWT_SECRET"}, {"anon-role", "PRODUCT_IMAGE_ANON_ROLE"},
		{"max-body", "PRODUCT_IMAGE_MAX_BODY"}, {"pool", "PRODUCT_IMAGE_POOL"},
		{"threads", "PRODUCT_IMAGE_THREADS"}, {"max-connections", "PRODUCT_IMAGE_MAX_CONNECTIONS"},
		{"timeout", "PRODUCT_IMAGE_TIMEOUT"},
		{"head-timeout", "PRODUCT_IMAGE_HEAD_TIMEOUT"},
		{"min-body-rate", "PRODUCT_IMAGE_MIN_BODY_RATE"},
		{"statement-timeout", "PRODUCT_IMAGE_STATEMENT_TIMEOUT"},
		{"render-slots", "PRODUCT_IMAGE_RENDER_SLOTS"},
		{"stream-slice", "PRODUCT_IMAGE_STREAM_SLICE"},
		{"render-probe-ms", "PRODUCT_IMAGE_RENDER_PROBE_MS"},
		{"rendition-max-age", "PRODUCT_IMAGE_RENDITION_MAX_AGE"},
		{"read-db-uri", "PRODUCT_IMAGE_READ_DB_URI"},
		{"read-max-lag", "PRODUCT_IMAGE_READ_MAX_LAG"},
		{"read-own-writes", "PRODUCT_IMAGE_READ_OWN_WRITES"},
	};

	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++)
	{
		const char *v = getenv(envs[i].env);

		if (v && *v)
			apply(envs[i].opt, v);
	}
	for (int i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		const char *eq;
		char		name[64];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
		{
			usage(stdout);
			exit(0);
		}
		if (strncmp(a, "--", 2) != 0)
		{
			fprintf(stderr, "product-image-gateway: unexpected argument \"%s\" (see --help)\n", a);
			exit(2);
		}
		eq = strchr(a, '=');
		if (eq)
		{
			snprintf(name, sizeof(name), "%.*s", (int) (eq - a - 2), a + 2);
			apply(name, eq + 1);
		}
		else
		{
			if (i + 1 >= argc)
			{
				fprintf(stderr, "product-image-gateway: %s needs a value\n", a);
				exit(2);
			}
			snprintf(name, sizeof(name), "%s", a + 2);
			apply(name, argv[++i]);
		}
	}
	if (gw.db_uri == NULL)
	{
		fprintf(stderr, "product-image-gateway: --db-uri (or PRODUCT_IMAGE_DB_URI) is required\n");
		exit(2);
	}
	if (gw.render_slots > 0 && gw.pool_size > 1 && gw.render_slots >= gw.pool_size)
	{
		fprintf(stderr, "product-image-gateway: --render-slots must be less than --pool, "
				"so that plain reads and writes always find a connection\n");
		exit(2);
	}
	if (gw.jwt_secret && strlen(gw.jwt_secret) < 32)
	{
		fprintf(stderr, "product-image-gateway: --jwt-secret must be at least 32 characters\n");
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct MHD_Daemon *d;
	sigset_t	sigs;
	int			sig = 0;

	configure(argc, argv);
	setvbuf(stderr, NULL, _IOLBF, 0);

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t) gw.listen_port);
	if (inet_pton(AF_INET, strcmp(gw.listen_host, "localhost") == 0 ? "127.0.0.1" : gw.listen_host,
				  &addr.sin_addr) != 1)
	{
		fprintf(stderr, "product-image-gateway: cannot use listen address \"%s\" (IPv4 only)\n",
				gw.listen_host);
		return 2;
	}
	if (gw_pool_init() != 0)
		return 1;

	/* every thread inherits the blocked signals; main waits for them */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/*
	 * A handler blocks on PostgreSQL, so by default every connection has its
	 * own thread: with a pool, connections that share a busy thread wait
	 * behind its database call (measured: 8 clients got ~10-30% less).
	 */
	if (gw.threads > 0)
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
							 MHD_USE_ERROR_LOG,
							 (uint16_t) gw.listen_port, NULL, NULL, gw_access_handler, NULL,
							 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
							 MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) gw.threads,
							 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) gw.max_connections + 64,
							 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) gw.timeout_seconds,
							 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024,
							 MHD_OPTION_NOTIFY_COMPLETED, gw_request_completed, NULL,
							 MHD_OPTION_NOTIFY_CONNECTION, gw_connection_notify, NULL,
							 MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int) 1024,
							 MHD_OPTION_STRICT_FOR_CLIENT, (int) 1,
							 MHD_OPTION_UNESCAPE_CALLBACK, gw_unescape_callback, NULL,
							 MHD_OPTION_END);
	else
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
							 MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
							 (uint16_t) gw.listen_port, NULL, NULL, gw_access_handler, NULL,
							 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
							 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) gw.max_connections + 64,
							 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) gw.timeout_seconds,
							 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024,
							 MHD_OPTION_THREAD_STACK_SIZE, (size_t) 256 * 1024,
							 MHD_OPTION_NOTIFY_COMPLETED, gw_request_completed, NULL,
							 MHD_OPTION_NOTIFY_CONNECTION, gw_connection_notify, NULL,
							 MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int) 1024,
							 MHD_OPTION_STRICT_FOR_CLIENT, (int) 1,
							 MHD_OPTION_UNESCAPE_CALLBACK, gw_unescape_callback, NULL,
							 MHD_OPTION_END);
	if (d == NULL)
	{
		fprintf(stderr, "product-image-gateway: cannot listen on %s:%d\n",
				gw.listen_host, gw.listen_port);
		return 1;
	}
	fprintf(stderr, "product-image-gateway: listening on http://%s:%d\n",
			gw.listen_host, gw.listen_port);
	{
		pthread_t	wd;

		if (pthread_create(&wd, NULL, gw_watchdog, NULL) != 0)
		{
			fprintf(stderr, "product-image-gateway: cannot start the watchdog thread\n");
			return 1;
		}
		pthread_detach(wd);
	}

	while (sigwait(&sigs, &sig) != 0)
		;
	fprintf(stderr, "product-image-gateway: signal %d, finishing in-flight requests\n", sig);
	{
		MHD_socket	ls = MHD_quiesce_daemon(d);
		struct timespec pause = {0, 20 * 1000 * 1000};

		if (ls != MHD_INVALID_SOCKET)
			close(ls);
		for (int i = 0; i < 30 * 50 && atomic_load(&gw_active_requests) > 0; i++)
			nanosleep(&pause, NULL);
	}
	MHD_stop_daemon(d);
	gw_pool_shutdown();
	fprintf(stderr, "product-image-gateway: stopped\n");
	return 0;
}
