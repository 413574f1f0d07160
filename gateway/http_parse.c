/*
 * http_parse.c
 *		The HTTP parsers: methods, paths, content negotiation, ETag lists,
 *		ranges, dates, origins, header tokens, the multipart epilogue.  Pure
 *		functions of strings, so they can be tested and fuzzed without a
 *		socket; they call nothing of the gateway's.
 */
#include "gateway.h"
#include "decode.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

gw_method
gw_parse_method(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return GW_GET;
	if (strcmp(m, "HEAD") == 0)
		return GW_HEAD;
	if (strcmp(m, "PUT") == 0)
		return GW_PUT;
	if (strcmp(m, "POST") == 0)
		return GW_POST;
	if (strcmp(m, "DELETE") == 0)
		return GW_DELETE;
	if (strcmp(m, "OPTIONS") == 0)
		return GW_OPTIONS;
	return GW_OTHER;
}

/* Parse a decimal int32, no sign other than '-', no blanks, no leading '+'. */
static int
parse_int32(const char *s, size_t n, int32_t *out)
{
	long long	v = 0;
	size_t		i = 0;
	int			neg = 0;

	if (n == 0 || n > 11)
		return -1;
	if (s[0] == '-')
	{
		neg = 1;
		i = 1;
		if (n == 1)
			return -1;
	}
	for (; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (neg)
		v = -v;
	if (v < INT32_MIN || v > INT32_MAX)
		return -1;
	*out = (int32_t) v;
	return 0;
}

int
gw_match_path(const char *pattern, const char *path, int32_t *id, int *bad_id)
{
	*bad_id = 0;
	while (*pattern && *path)
	{
		size_t		pn = strcspn(pattern, "/"),
					n = strcspn(path, "/");

		if (pn == 4 && strncmp(pattern, "{id}", 4) == 0)
		{
			if (parse_int32(path, n, id) != 0)
				*bad_id = 1;
		}
		else if (pn != n || strncasecmp(pattern, path, n) != 0)
			return 0;
		pattern += pn;
		path += n;
		if (*pattern != *path)
			return 0;			/* one ends where the other goes on */
		if (*pattern == '/')
			pattern++, path++;
	}
	return *pattern == '\0' && *path == '\0';
}

/* Does a media range (lowercase, no params) select this format? */
static gw_format
format_of_range(const char *range, size_t n)
{
	static const char *const json[] = {"application/json", "text/json",
		"application/json-patch+json", "application/merge-patch+json", "*/*",
	"application/*", NULL};
	static const char *const xml[] = {"application/xml", "text/xml", NULL};

	for (int i = 0; json[i]; i++)
		if (strlen(json[i]) == n && strncasecmp(range, json[i], n) == 0)
			return GW_FMT_JSON;
	for (int i = 0; xml[i]; i++)
		if (strlen(xml[i]) == n && strncasecmp(range, xml[i], n) == 0)
			return GW_FMT_XML;
	if (n == 6 && strncasecmp(range, "text/*", 6) == 0)
		return GW_FMT_JSON;
	return GW_FMT_NONE;
}

/*
 * One media range of an Accept header: *range, *len (no parameters) and its
 * q (default 1, malformed 0).  Returns where the next range starts, or NULL
 * at the end.
 */
static const char *
accept_next(const char *p, const char **range, size_t *len, double *q)
{
	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	if (*p == '\0')
		return NULL;
	*range = p;
	while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
		p++;
	*len = (size_t) (p - *range);
	*q = 1.0;
	/* parameters: only q matters */
	while (*p && *p != ',')
	{
		if (*p == ';')
		{
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
			{
				char	   *qend;

				errno = 0;
				*q = strtod(p + 2, &qend);
				if (errno != 0 || qend == p + 2 || *q < 0.0 || *q > 1.0)
					*q = 0.0;
				p = qend;
				continue;
			}
		}
		if (*p && *p != ',')
			p++;
	}
	return p;
}

/*
 * Pick JSON or XML from an Accept header by quality (RFC 9110); ties go to
 * the first listed.  No header, or an empty one: JSON.
 */
gw_format
gw_negotiate(const char *accept)
{
	gw_format	best = GW_FMT_NONE;
	double		best_q = 0.0,
				q;
	const char *p = accept,
			   *range;
	size_t		len;

	if (accept == NULL)
		return GW_FMT_JSON;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return GW_FMT_JSON;
	while ((p = accept_next(p, &range, &len, &q)) != NULL)
	{
		gw_format	f = format_of_range(range, len);

		if (f != GW_FMT_NONE && q > 0.0 && q > best_q)
		{
			best = f;
			best_q = q;
		}
	}
	return best;
}

/*
 * The image type an Accept header asks for, when it names the MIME type of
 * a format renditions can be written in (image/jpeg, image/png, image/gif)
 * above any wildcard (image/any or any/any): its name ("jpeg"); ties go to
 * the first listed.  NULL: no preference, the
 * image keeps its own type.
 */
const char *
gw_accept_image_type(const char *accept)
{
	const char *best = NULL,
			   *p = accept,
			   *range;
	double		best_q = 0.0,
				wild_q = 0.0,
				q;
	size_t		len;

	if (accept == NULL)
		return NULL;
	while ((p = accept_next(p, &range, &len, &q)) != NULL)
	{
		if ((len == 7 && strncasecmp(range, "image/*", 7) == 0) ||
			(len == 3 && strncmp(range, "*/*", 3) == 0))
		{
			if (q > wild_q)
				wild_q = q;
			continue;
		}
		/* the decoder's codec table: the types renditions can be written in */
		if (pi_format_from_mime(range, len) != PI_FORMAT_UNKNOWN && q > best_q)
		{
			best = pi_format_name(pi_format_from_mime(range, len));
			best_q = q;
		}
	}
	return best_q > wild_q ? best : NULL;
}

/*
 * GET Image's query parameters as SQL arguments.  w and h must be decimal
 * numbers that fit an int (else 400 here, as a cast would fail); their range,
 * type and ifBlank are the database's to judge (22023, also a 400).  An empty
 * value counts as not given.  Returns 0, or -1 with *bad naming the parameter.
 */
int
gw_parse_rendition(const char *w, const char *h, const char *type, const char *if_blank,
				   gw_rendition *out, const char **bad)
{
	const char *side[2] = {w, h};

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 2; i++)
	{
		const char *v = side[i];
		size_t		n = v ? strlen(v) : 0;

		if (n == 0)
			continue;
		if (n >= sizeof(out->w) || strspn(v, "0123456789") != n)
		{
			*bad = i == 0 ? "w" : "h";
			return -1;
		}
		memcpy(i == 0 ? out->w : out->h, v, n + 1);
	}
	out->type = (type && *type) ? type : NULL;
	out->if_blank = (if_blank && *if_blank) ? if_blank : NULL;
	out->given = out->w[0] || out->h[0] || out->type || out->if_blank;
	return 0;
}

gw_body_kind
gw_body_kind_of(const char *ct, const char **declared)
{
	static const char *const images[] = {"image/png", "image/jpeg", "image/gif", "image/tiff", NULL};
	size_t		n;

	*declared = NULL;
	if (ct == NULL)
		return GW_BODY_RAW;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strcspn(ct, "; \t");
	if (n == 0)
		return GW_BODY_RAW;
	for (int i = 0; images[i]; i++)
		if (strlen(images[i]) == n && strncasecmp(ct, images[i], n) == 0)
		{
			*declared = images[i];
			return GW_BODY_RAW;
		}
	if (n == 9 && strncasecmp(ct, "image/jpg", 9) == 0)
	{
		*declared = "image/jpeg";
		return GW_BODY_RAW;
	}
	if (n == 24 && strncasecmp(ct, "application/octet-stream", 24) == 0)
		return GW_BODY_RAW;
	if (n == 19 && strncasecmp(ct, "multipart/form-data", 19) == 0)
		return GW_BODY_MULTIPART;
	if ((n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
		(n == 9 && strncasecmp(ct, "text/json", 9) == 0))
		return GW_BODY_JSON;
	return GW_BODY_UNSUPPORTED;
}

/* If-None-Match as a comma-separated list of bare tags, or "*", or NULL. */
char *
gw_etag_list(const char *inm)
{
	char	   *out;
	size_t		o = 0;

	if (inm == NULL)
		return NULL;
	out = malloc(strlen(inm) + 1);
	if (out == NULL)
		return NULL;
	for (const char *p = inm; *p;)
	{
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '*')
		{
			strcpy(out, "*");
			return out;
		}
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (*p == '"')
		{
			const char *e = strchr(p + 1, '"');

			if (e == NULL)
				break;
			if (o > 0)
				out[o++] = ',';
			memcpy(out + o, p + 1, (size_t) (e - p - 1));
			o += (size_t) (e - p - 1);
			p = e + 1;
		}
		else if (*p)
			p++;
	}
	out[o] = '\0';
	return out;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode in place, as libmicrohttpd would, except %2F ('/') and %00
 * (NUL), which stay as sent: routing sees the path's segments as the client
 * sent them, so "1%2FImageInfo" is one (bad) id segment and "/health%00" is
 * no route, never another route.  Returns the new length.
 */
size_t
gw_unescape(char *s)
{
	char	   *o = s;

	for (const char *p = s; *p;)
	{
		int			hi,
					lo;

		if (p[0] == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0)
		{
			char		c = (char) (hi * 16 + lo);

			if (c != '/' && c != '\0')
			{
				*o++ = c;
				p += 3;
				continue;
			}
		}
		*o++ = *p++;
	}
	*o = '\0';
	return (size_t) (o - s);
}

int
gw_parse_range(const char *range, const char *if_range, const char *etag, uint64_t size,
			   uint64_t *first, uint64_t *last)
{
	const char *p;
	char	   *end;
	unsigned long long a,
				b;

	if (range == NULL || strncmp(range, "bytes=", 6) != 0 || strchr(range, ',') != NULL)
		return 0;				/* absent, another unit, or several ranges: the whole image */
	if (if_range != NULL && strcmp(if_range, etag) != 0)
		return 0;				/* an If-Range that is a date or another ETag: whole */
	p = range + 6;
	if (*p == '-')
	{
		errno = 0;
		b = strtoull(p + 1, &end, 10);
		if (end == p + 1 || *end != '\0' || errno)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	errno = 0;
	a = strtoull(p, &end, 10);
	if (end == p || *end != '-' || errno)
		return 0;
	p = end + 1;
	if (*p == '\0')
		b = size ? size - 1 : 0;
	else
	{
		b = strtoull(p, &end, 10);
		if (*end != '\0' || errno || b < a)
			return 0;
		if (b >= size)
			b = size - 1;
	}
	if (a >= size)
		return -1;
	*first = a;
	*last = b;
	return 1;
}

int64_t
gw_http_time(const char *s)
{
	struct tm	tm = {0};
	const char *end = s ? strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;

	return end && *end == '\0' ? (int64_t) timegm(&tm) : -1;
}

void
gw_http_date(int64_t t, char *out, size_t outlen)
{
	time_t		tt = (time_t) t;
	struct tm	tm;

	out[0] = '\0';
	if (gmtime_r(&tt, &tm) != NULL)
		strftime(out, outlen, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

int
gw_origin_listed(const char *p, const char *origin)
{
	size_t		n = origin ? strlen(origin) : 0;

	if (p == NULL || n == 0)
		return 0;
	while (*p)
	{
		size_t		len;

		while (*p == ' ' || *p == ',')
			p++;
		len = strcspn(p, ", ");
		if (len == n && strncasecmp(p, origin, n) == 0)
			return 1;
		if (len == 1 && *p == '*')
			return 2;
		p += len;
	}
	return 0;
}

/*
 * Same origin: our own scheme://Host.  A request with neither Origin nor
 * Sec-Fetch-Site (curl, a server) is no browser's cross-site request.
 * Listed origins are trusted; "*" is not (it may not send credentials
 * either).
 */
int
gw_cross_site(const char *list, const char *origin, const char *host, const char *site)
{
	if (origin != NULL)
	{
		const char *rest = strncasecmp(origin, "http://", 7) == 0 ? origin + 7
			: strncasecmp(origin, "https://", 8) == 0 ? origin + 8 : NULL;

		if (rest != NULL && host != NULL && strcasecmp(rest, host) == 0)
			return 0;
		return gw_origin_listed(list, origin) != 1;
	}
	if (site != NULL)
		return strcasecmp(site, "cross-site") == 0 || strcasecmp(site, "same-site") == 0;
	return 0;
}

int
gw_is_token(const char *key, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		unsigned char ch = (unsigned char) key[i];

		if (ch <= 0x20 || ch >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", ch))
			return 0;
	}
	return n > 0;
}

int
gw_te_is_chunked(const char *v)
{
	size_t		n;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return n == 7 && strncasecmp(v, "chunked", 7) == 0;
}

void
gw_epilogue_init(gw_epilogue *e, const char *ct)
{
	const char *b = ct ? strcasestr(ct, "boundary=") : NULL;
	size_t		n;
	int			k = 0;

	memset(e, 0, sizeof(*e));
	if (b == NULL)
		return;
	b += 9;
	if (*b == '"')
		b++;
	n = strcspn(b, "\";, \t");
	if (n == 0 || n > 70)
		return;
	e->len = snprintf(e->close, sizeof(e->close), "\r\n--%.*s--", (int) n, b);
	e->fail[0] = 0;
	for (int i = 1; i < e->len; i++)
	{
		while (k > 0 && e->close[i] != e->close[k])
			k = e->fail[k - 1];
		if (e->close[i] == e->close[k])
			k++;
		e->fail[i] = k;
	}
}

size_t
gw_epilogue_cut(gw_epilogue *e, const char *data, size_t n)
{
	if (e->done)
		return 0;
	if (e->len == 0)
		return n;
	for (size_t i = 0; i < n; i++)
	{
		while (e->match > 0 && data[i] != e->close[e->match])
			e->match = e->fail[e->match - 1];
		if (data[i] == e->close[e->match])
			e->match++;
		if (e->match == e->len)
		{
			e->done = 1;
			return i + 1;
		}
	}
	return n;
}
