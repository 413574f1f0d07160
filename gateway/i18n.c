/*
 * i18n.c
 *		Languages: the gateway's messages in the language a request asks for
 *		(SO-Language, else Accept-Language), English when we do not have it.
 *		Translations are gettext catalogs (po/LANG.po, compiled by make to
 *		locale/C.UTF-8/LC_MESSAGES/product-image-gateway.LANG.mo): one
 *		text domain per language, so every thread can answer in another
 *		language without touching the process's locale.  A new language is a
 *		new po/LANG.po.
 */
#include "gateway.h"

#include <dirent.h>
#include <libintl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DOMAIN_PREFIX "product-image-gateway."
#define MAX_LANGUAGES 32

static char languages[MAX_LANGUAGES][16];	/* the catalogs found, by language tag */
static int	n_languages;

int
gw_i18n_init(const char *dir)
{
	char		path[4096];
	DIR		   *d;
	struct dirent *e;

	/*
	 * gettext translates in any locale but "C"; C.UTF-8 is always there on
	 * Debian (without it: English only).  LANGUAGE would override the
	 * catalogs' lookup: the request chooses, not the environment.
	 */
	unsetenv("LANGUAGE");
	if (setlocale(LC_MESSAGES, "C.UTF-8") == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/C.UTF-8/LC_MESSAGES", dir);
	if ((d = opendir(path)) == NULL)
		return 0;				/* no catalogs: English only */
	while ((e = readdir(d)) != NULL && n_languages < MAX_LANGUAGES)
	{
		size_t		n = strlen(e->d_name),
					p = strlen(DOMAIN_PREFIX);
		char		domain[64];

		if (n <= p + 3 || strncmp(e->d_name, DOMAIN_PREFIX, p) != 0 || strcmp(e->d_name + n - 3, ".mo") != 0 ||
			n - p - 3 >= sizeof(languages[0]))
			continue;
		snprintf(languages[n_languages], sizeof(languages[0]), "%.*s", (int) (n - p - 3), e->d_name + p);
		snprintf(domain, sizeof(domain), DOMAIN_PREFIX "%s", languages[n_languages]);
		bindtextdomain(domain, dir);
		bind_textdomain_codeset(domain, "UTF-8");
		n_languages++;
	}
	closedir(d);
	return 0;
}

/* The language we have for tag ("sv", "sv-SE", "SV"), or NULL; English is always had. */
static const char *
have(const char *tag, size_t n)
{
	size_t		primary = 0;

	while (primary < n && tag[primary] != '-' && tag[primary] != '_')
		primary++;
	if (primary == 2 && strncasecmp(tag, "en", 2) == 0)
		return "en";
	for (int i = 0; i < n_languages; i++)
		if (strlen(languages[i]) == primary && strncasecmp(tag, languages[i], primary) == 0)
			return languages[i];
	return NULL;
}

const char *
gw_language(const char *so_language, const char *accept_language)
{
	const char *best = NULL,
			   *p = accept_language;
	double		best_q = 0.0;

	if (so_language != NULL)
	{
		size_t		n = strspn(so_language, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_");
		const char *l = have(so_language, n);

		if (l != NULL && n > 0)
			return l;
	}
	/* Accept-Language: tags with optional q values; the best we have wins, ties to the first */
	while (p != NULL && *p)
	{
		const char *tag,
				   *q;
		size_t		n;
		double		qv = 1.0;
		const char *l;

		p += strspn(p, " \t,");
		tag = p;
		n = strcspn(p, " \t,;");
		p += strcspn(p, ",");
		q = strchr(tag, ';');
		if (q != NULL && q < p)
		{
			q += 1 + strspn(q + 1, " \t");
			if (strncasecmp(q, "q=", 2) == 0)
				qv = strtod(q + 2, NULL);
		}
		if (n > 0 && qv > best_q && (l = have(tag, n)) != NULL)
		{
			best = l;
			best_q = qv;
		}
	}
	return best ? best : "en";
}

const char *
gw_tr(const char *lang, const char *msgid)
{
	char		domain[64];

	if (msgid == NULL || lang == NULL || strcmp(lang, "en") == 0 || *msgid == '\0')
		return msgid;
	snprintf(domain, sizeof(domain), DOMAIN_PREFIX "%s", lang);
	return dgettext(domain, msgid);
}
