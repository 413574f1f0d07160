/*
 * error.c
 *		SQLSTATE to HTTP status, and the bodies of errors: PostgREST's error
 *		shape in JSON or XML, and ASP.NET's DataContract form for an int.
 */
#include "gateway.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The contract's mapping, as data: the first row whose SQLSTATE (or class
 * prefix) matches decides; anything unlisted is a 500.  The README's
 * "SQLSTATEs and HTTP statuses" table is checked against this one
 * (test/sqlstates.sh, through --sqlstate-status).
 */
static const struct
{
	const char *state;			/* five characters, or a prefix */
	int			status;			/* 0: 401 without credentials, else 403 */
}			sqlstate_status[] = {
	{"22004", 400}, {"22P03", 400}, {"22023", 400}, {"22001", 400}, {"22P02", 400},
	{"0A000", 415},
	{"54000", 413},
	{"54001", 400},				/* JSON nested past the server's stack depth */
	{"P0002", 404},
	{"PI412", 412},				/* If-Match / If-None-Match not met */
	{"42501", 0},
	{"42883", 501},				/* a function this database lacks (a proxy node) */
	{"28P01", 401}, {"28000", 401},
	{"40001", 503}, {"40P01", 503},	/* the gateway retries once first */
	{"08", 503}, {"57P", 503}, {"53300", 503},	/* unavailable */
	{"57014", 503}, {"55P03", 503},	/* timed out, lock not available */
	{"22", 400},				/* other data exceptions: what the client sent */
};

int
gw_status_for_sqlstate(const char *s, int had_credentials)
{
	if (s == NULL)
		return 500;
	for (size_t i = 0; i < sizeof(sqlstate_status) / sizeof(sqlstate_status[0]); i++)
	{
		const char *st = sqlstate_status[i].state;

		if (strncmp(s, st, strlen(st)) == 0)
			return sqlstate_status[i].status ? sqlstate_status[i].status
				: (had_credentials ? 403 : 401);
	}
	return 500;
}

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void
gw_error_set(gw_error *err, int status, const char *code, const char *message,
			 const char *details, const char *hint)
{
	char		copy[sizeof(err->code)];

	/* code may be err->code itself: copy it before anything is overwritten */
	snprintf(copy, sizeof(copy), "%s", code ? code : "");
	gw_error_free(err);
	err->status = status;
	memcpy(err->code, copy, sizeof(copy));
	err->message = dup_or_null(message);
	err->details = dup_or_null(details);
	err->hint = dup_or_null(hint);
}

void
gw_error_free(gw_error *err)
{
	free(err->message);
	free(err->details);
	free(err->hint);
	err->message = err->details = err->hint = NULL;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one. */
static int
utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		return (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xE0 && p[0] <= 0xEF)
	{
		if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0))
			return 0;			/* overlong, or a surrogate */
		return 3;
	}
	if (p[0] >= 0xF0 && p[0] <= 0xF4)
	{
		if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		if ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/* A JSON string of s (null for NULL), with what is not UTF-8 left out. */
static json_t *
json_text(const char *s)
{
	json_t	   *j;
	char	   *clean,
			   *o;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	o = clean = malloc(strlen(s) + 1);
	if (clean == NULL)
		return json_null();
	for (const unsigned char *p = (const unsigned char *) s; *p;)
	{
		int			n = utf8_len(p);

		if (n == 0)
			p++;
		else
		{
			memcpy(o, p, (size_t) n);
			o += n;
			p += n;
		}
	}
	*o = '\0';
	j = json_string(clean);
	free(clean);
	return j ? j : json_null();
}

/*
 * Text escaped for XML element content, well-formed XML 1.0 for any input:
 * markup characters as entities, CR as &#xD; (a parser would turn a raw CR
 * into LF), and what XML 1.0 does not allow at all, not even as a
 * character reference, dropped: C0 controls other than tab, LF and CR,
 * U+FFFE, U+FFFF, and bytes that are not UTF-8.
 */
char *
gw_xml_escape(const char *s)
{
	char	   *out,
			   *o;

	if (s == NULL)
		s = "";
	out = malloc(5 * strlen(s) + 1);
	if (out == NULL)
		return NULL;
	o = out;
	for (const unsigned char *p = (const unsigned char *) s; *p;)
	{
		int			n = utf8_len(p);

		if (n == 0)
		{
			p++;				/* not UTF-8: dropped */
			continue;
		}
		if (n == 3 && p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))
		{
			p += 3;				/* U+FFFE, U+FFFF */
			continue;
		}
		if (n > 1)
		{
			memcpy(o, p, (size_t) n);
			o += n;
			p += n;
			continue;
		}
		if (*p == '<')
			o += sprintf(o, "&lt;");
		else if (*p == '>')
			o += sprintf(o, "&gt;");
		else if (*p == '&')
			o += sprintf(o, "&amp;");
		else if (*p == '\r')
			o += sprintf(o, "&#xD;");
		else if (*p >= 0x20 || *p == '\t' || *p == '\n')
			*o++ = (char) *p;
		p++;
	}
	*o = '\0';
	return out;
}

char *
gw_error_body(const gw_error *err, gw_format fmt, size_t *len)
{
	char	   *body = NULL;
	int			n;

	if (fmt == GW_FMT_XML)
	{
		char	   *c = gw_xml_escape(err->code),
				   *m = gw_xml_escape(err->message),
				   *d = gw_xml_escape(err->details),
				   *h = gw_xml_escape(err->hint);

		n = asprintf(&body, "<Error><code>%s</code><message>%s</message>"
					 "<details>%s</details><hint>%s</hint></Error>",
					 c ? c : "", m ? m : "", d ? d : "", h ? h : "");
		free(c);
		free(m);
		free(d);
		free(h);
	}
	else
	{
		/* jansson: escaping, and the UTF-8 check (bytes that are not UTF-8 are left out) */
		json_t	   *o = json_object();

		if (o == NULL)
			return NULL;
		json_object_set_new(o, "code", json_text(err->code));
		json_object_set_new(o, "message", json_text(err->message));
		json_object_set_new(o, "details", json_text(err->details));
		json_object_set_new(o, "hint", json_text(err->hint));
		body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		n = body ? (int) strlen(body) : -1;
	}
	if (n < 0)
		return NULL;
	*len = (size_t) n;
	return body;
}

char *
gw_int_body(long value, gw_format fmt, size_t *len)
{
	char	   *body = NULL;
	int			n;

	if (fmt == GW_FMT_XML)
		n = asprintf(&body, "<int xmlns=\"http://schemas.microsoft.com/2003/10/Serialization/\">%ld</int>", value);
	else
		n = asprintf(&body, "%ld", value);
	if (n < 0)
		return NULL;
	*len = (size_t) n;
	return body;
}
