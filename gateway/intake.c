/*
 * intake.c
 *		Reading a request: its framing judged from the head, then its body
 *		chunk by chunk, raw or through libmicrohttpd's multipart post
 *		processor (the first part with a filename, or else the only part,
 *		is the image; the epilogue is ignored), within --max-body.
 */
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static enum MHD_Result
framing_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
			   const char *value, size_t value_size)
{
	gw_framing *f = cls;

	(void) kind;
	if (f->status)
		return MHD_NO;
	if (!gw_is_token(key, key_size) || (value && strlen(value) != value_size))
	{
		f->status = 400;
		f->message = "malformed header field (whitespace before the colon, or a NUL)";
		return MHD_NO;
	}
	if (strcasecmp(key, "Authorization") == 0 && f->n_auth++ > 0)
	{
		f->status = 400;
		f->message = "Authorization given twice";
		return MHD_NO;
	}
	if (strcasecmp(key, "Cookie") == 0 && f->n_cookie++ > 0)
	{
		/* RFC 6265 5.4: one Cookie header; a second one is read by no one the same way */
		f->status = 400;
		f->message = "Cookie given twice";
		return MHD_NO;
	}
	if (strcasecmp(key, "Host") == 0)
		f->n_host++;
	else if (strcasecmp(key, "Transfer-Encoding") == 0)
	{
		f->n_te++;
		if (!gw_te_is_chunked(value ? value : ""))
		{
			/* chunked must be the last coding, and we know no other */
			f->status = strcasestr(value ? value : "", "chunked") ? 400 : 501;
			f->message = f->status == 400 ? "chunked must be the final transfer coding"
				: "unsupported transfer coding";
			return MHD_NO;
		}
	}
	else if (strcasecmp(key, "Content-Length") == 0)
	{
		const char *v = value ? value : "";
		size_t		n;

		while (*v == ' ' || *v == '\t')
			v++;
		n = strspn(v, "0123456789");
		if (n == 0 || n >= sizeof(f->cl) || v[n + strspn(v + n, " \t")] != '\0')
		{
			f->status = 400;
			f->message = "invalid Content-Length";
			return MHD_NO;
		}
		if (f->n_cl++ == 0)
			snprintf(f->cl, sizeof(f->cl), "%.*s", (int) n, v);
		else if (strlen(f->cl) != n || strncmp(f->cl, v, n) != 0)
		{
			f->status = 400;
			f->message = "Content-Length given twice with different values";
			return MHD_NO;
		}
	}
	return MHD_YES;
}

void
gw_check_framing(struct MHD_Connection *conn, const char *version, gw_framing *f)
{
	memset(f, 0, sizeof(*f));
	f->http10 = version && strcmp(version, MHD_HTTP_VERSION_1_0) == 0;
	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, framing_header, f);
	if (f->status)
		return;
	if (f->n_te && f->n_cl)
	{
		f->status = 400;
		f->message = "Content-Length together with Transfer-Encoding";
	}
	else if (f->n_te && f->http10)
	{
		f->status = 400;
		f->message = "Transfer-Encoding in an HTTP/1.0 request";
	}
	else if (f->n_host != 1 && !(f->http10 && f->n_host == 0))
	{
		f->status = 400;
		f->message = f->n_host ? "more than one Host header" : "no Host header";
	}
}

static int
body_append(gw_request *r, const char *data, size_t size)
{
	if (size == 0)
		return 0;
	if (r->body_len + size > r->max_body)
		return -1;
	if (r->body_len + size > r->body_cap)
	{
		size_t		cap = r->body_cap ? r->body_cap : 65536;
		uint8_t    *nb;

		while (cap < r->body_len + size)
			cap *= 2;
		if (cap > r->max_body)
			cap = r->max_body;
		nb = realloc(r->body, cap);
		if (nb == NULL)
			return -1;
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, size);
	r->body_len += size;
	return 0;
}

/* Keep the first part with a filename, or else the only part. */
static enum MHD_Result
multipart_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
			   const char *content_type, const char *transfer_encoding,
			   const char *data, uint64_t off, size_t size)
{
	gw_request *r = cls;

	(void) kind;
	(void) transfer_encoding;
	if (key == NULL)
		key = "";
	/* ASP.NET's form field for the XSRF token: kept aside, bounded, never the image */
	if (filename == NULL && strcmp(key, "__RequestVerificationToken") == 0)
	{
		size_t		have = strlen(r->form_xsrf);

		if (off == 0)
			have = r->form_xsrf[0] = '\0';
		if (have + size < sizeof(r->form_xsrf))
		{
			memcpy(r->form_xsrf + have, data, size);
			r->form_xsrf[have + size] = '\0';
		}
		return MHD_YES;
	}
	if (off == 0)
	{
		/* a new part begins (parts may share a field name: offsets tell them apart) */
		r->parts++;
		r->skipping = 1;
		if (r->part_state == 2)
			return MHD_YES;		/* already have the file part: skip the rest */
		if (filename != NULL || r->part_state == 0)
		{
			r->skipping = 0;
			free(r->part_key);
			free(r->part_type);
			r->part_key = strdup(key);
			r->part_type = NULL;
			r->body_len = 0;
			r->part_state = filename ? 2 : 1;
			if (content_type)
			{
				const char *declared;

				if (gw_body_kind_of(content_type, &declared) == GW_BODY_RAW && declared)
					r->part_type = strdup(declared);
			}
		}
		else
			return MHD_YES;
	}
	else if (r->part_key == NULL || strcmp(r->part_key, key) != 0 || r->skipping)
		return MHD_YES;
	if (body_append(r, data, size) != 0)
		return MHD_NO;
	return MHD_YES;
}

int
gw_intake_begin(struct MHD_Connection *conn, gw_request *r, const char *ct)
{
	if (r->body_kind != GW_BODY_MULTIPART)
		return 0;
	r->pp = MHD_create_post_processor(conn, 65536, multipart_part, r);
	gw_epilogue_init(&r->epilogue, ct);
	return r->pp ? 0 : -1;
}

int
gw_intake_chunk(gw_request *r, const char *data, size_t n)
{
	if (r->pp)
	{
		size_t		keep = gw_epilogue_cut(&r->epilogue, data, n);

		if (!r->multipart_bad && keep > 0 && MHD_post_process(r->pp, data, keep) != MHD_YES)
			r->multipart_bad = 1;
		return 0;
	}
	return body_append(r, data, n);
}

void
gw_intake_end(gw_request *r)
{
	if (r->pp && r->parts > 1 && r->part_state != 2)
		r->body_len = 0;		/* several parts, none a file */
}

void
gw_intake_free(gw_request *r)
{
	if (r->pp)
		MHD_destroy_post_processor(r->pp);
	r->pp = NULL;
	free(r->body);
	free(r->part_key);
	free(r->part_type);
	r->body = NULL;
	r->part_key = r->part_type = NULL;
}
