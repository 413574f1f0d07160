/*
 * res_image.c
 *		/api/v1/Product/{id}/Image: GET and HEAD (the original or a
 *		rendition, one call of product_get_image_rendition), PUT and POST
 *		(product_save_image), DELETE (product_delete_image).
 */
#include "resources.h"
#include "call.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns of ST_GET_IMAGE */
enum
{
	COL_MIME_TYPE, COL_ETAG, COL_MODIFIED, COL_IMAGE, COL_SIZE, COL_NOT_MODIFIED
};

/* The parameters of ST_GET_IMAGE that change between its calls */
enum
{
	GET_RENDER = 8
};

/* w, h, type, ifBlank (or Accept's type): judged from the head, 400 before anything else. */
enum MHD_Result
gw_image_head_check(struct MHD_Connection *conn, gw_request *r)
{
	const char *bad = NULL;

	if (r->method != GW_GET && r->method != GW_HEAD)
		return MHD_YES;
	if (gw_parse_rendition(MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "w"),
						   MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "h"),
						   MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "type"),
						   MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "ifBlank"),
						   &r->rendition, &bad) != 0)
	{
		char		msg[64];

		snprintf(msg, sizeof(msg), "invalid %s", bad);
		return gw_fail(conn, r, 400, "22023", msg, "w and h are whole numbers from 1.", NULL);
	}
	/*
	 * A rendition (w or h) without type: an Accept naming image/png and the
	 * like above any wildcard chooses it; else the database picks from
	 * product_image.auto_formats what Accept names (a browser's AVIF or
	 * WebP).  An original is never converted without w, h or type.
	 */
	if (r->rendition.type == NULL && (r->rendition.w[0] || r->rendition.h[0]))
	{
		r->accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
		r->rendition.type = gw_accept_image_type(r->accept);
	}
	return MHD_YES;
}

/*
 * Render slots: at most --render-slots calls that render hold a connection
 * for as long as a render takes, so the rest of the pool always serves
 * plain reads and writes.  A rendition is first asked for from the cache
 * alone (render => false, one index lookup, any connection); only one not
 * cached takes a slot to be made, and past the slots it is 503 with
 * Retry-After.
 */
static atomic_int renders_in_flight;

static int
render_slots(void)
{
	if (gw.render_slots > 0)
		return gw.render_slots;
	return gw.pool_size > 4 ? gw.pool_size / 4 : 1;
}

/* The call for an original, or a rendition: from the cache, else made in a render slot. */
static int
get_call(const gw_request *r, const char **values, PGresult **res, gw_error *err)
{
	const gw_statement *st = &gw_statements[ST_GET_IMAGE];
	int			rc;

	values[GET_RENDER] = "false";
	rc = gw_call(st, &r->auth, values, NULL, NULL, 1, res, err);
	/* an original, an answer, or a rendition the cache had (or a 304) */
	if (rc != 0 || !r->rendition.given || PQntuples(*res) != 1 || PQgetisnull(*res, 0, COL_ETAG) ||
		!PQgetisnull(*res, 0, COL_IMAGE) || strcmp(PQgetvalue(*res, 0, COL_NOT_MODIFIED), "true") == 0)
		return rc;
	PQclear(*res);
	*res = NULL;
	if (atomic_fetch_add(&renders_in_flight, 1) >= render_slots())
	{
		atomic_fetch_sub(&renders_in_flight, 1);
		gw_error_set(err, 503, "53000", "all render slots are busy", NULL,
					 "Retry after a second; cached renditions and originals are served meanwhile.");
		return -1;
	}
	values[GET_RENDER] = "true";
	rc = gw_call(st, &r->auth, values, NULL, NULL, 1, res, err);
	atomic_fetch_sub(&renders_in_flight, 1);
	return rc;
}

/*
 * Never stale: an image or a rendition is revalidated by its ETag (a cheap
 * 304) unless --rendition-max-age says otherwise.  A URL whose v= holds the
 * first 16 or more hex characters of the image's sha256, or the whole ETag,
 * names its bytes and may be cached forever; a v= naming other bytes gets
 * these, revalidated.
 */
static void
cache_control(struct MHD_Connection *conn, const gw_request *r, const char *etag, char *out, size_t n)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "v");
	size_t		vn = v ? strlen(v) : 0,
				en = strlen(etag);

	/* what credentials read is no shared cache's to keep (a cookie is no Authorization to it) */
	const char *scope = r->auth.had_credentials ? "private, " : "";

	if (v && ((vn >= 16 && vn <= en && strspn(v, "0123456789abcdef") == vn &&
			   strncmp(etag, v, vn) == 0 && strspn(etag, "0123456789abcdef") >= 64) ||
			  strcmp(etag, v) == 0))
		snprintf(out, n, "%smax-age=31536000, immutable", scope);
	else if (!v && r->rendition.given && gw.rendition_max_age > 0)
		snprintf(out, n, "%smax-age=%d", scope, gw.rendition_max_age);
	else
		snprintf(out, n, "%sno-cache", scope);
}

/*
 * If-Modified-Since, when there is no If-None-Match (RFC 9110 13.1.3): not
 * modified since (HTTP dates have whole seconds: the ETag is the exact
 * validator, and browsers send it when they have one).
 */
static int
unmodified_since(struct MHD_Connection *conn, int64_t modified)
{
	const char *ims = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	int64_t		since;

	if (ims == NULL || modified < 0 ||
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH) != NULL)
		return 0;
	since = gw_http_time(ims);
	return since >= 0 && modified <= since;
}

static ssize_t
no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	return MHD_CONTENT_READER_END_OF_STREAM;
}

/*
 * A 304 has no body (RFC 9112 6.3), and a Content-Length only when it is the
 * size of the 200 it stands for (RFC 9110 8.6).  libmicrohttpd sends the
 * size a response is made with, and no body, for a 304: the true size when
 * it is known (originals); else (a rendition revalidated without being
 * made) the answer says nothing of a length and closes the connection, as
 * libmicrohttpd 0.9.75 would otherwise end it with a chunked body's last
 * chunk, which a 304 must not have.
 */
static struct MHD_Response *
not_modified_response(int64_t size)
{
	struct MHD_Response *resp = MHD_create_response_from_callback(size >= 0 ? (uint64_t) size : MHD_SIZE_UNKNOWN,
																  1024, no_body, NULL, NULL);

	if (resp != NULL && size < 0)
		MHD_set_response_options(resp, MHD_RF_HTTP_1_0_SERVER, MHD_RO_END);
	return resp;
}

/*
 * A large original, streamed: libmicrohttpd asks for the bytes as the
 * client takes them, and each --stream-slice of them is read in its own
 * short transaction (product_get_image_part, pinned to the ETag the answer
 * began with), so a slow reader holds one slice and no database connection.
 */
typedef struct gw_stream
{
	char		id[16];
	char		etag[80];
	uint64_t	size;			/* the image offset where the answer ends (its size, whole) */
	uint64_t	base;			/* the image offset of the answer's first byte (a Range) */
	uint64_t	off;			/* image offset of the slice held in res */
	PGresult   *res;
	gw_auth		auth;			/* the request's, copied: the stream outlives it */
} gw_stream;

static void
stream_free(void *cls)
{
	gw_stream  *s = cls;

	PQclear(s->res);
	gw_auth_free(&s->auth);
	free(s);
}

/* Read the slice that starts at off into s->res; -1 when it cannot be had. */
static int
stream_fetch(gw_stream *s, uint64_t off, gw_error *err)
{
	char		off_text[24],
				len_text[16];
	uint64_t	want = s->size - off < (uint64_t) gw.stream_slice ? s->size - off : (uint64_t) gw.stream_slice;
	const char *values[4] = {s->id, s->etag, off_text, len_text};
	PGresult   *res = NULL;

	snprintf(off_text, sizeof(off_text), "%llu", (unsigned long long) off);
	snprintf(len_text, sizeof(len_text), "%llu", (unsigned long long) want);
	if (gw_call(&gw_statements[ST_GET_PART], &s->auth, values, NULL, NULL, 1, &res, err) != 0)
		return -1;
	/* another ETag (the image was saved again) or a short read: not this image */
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) || (uint64_t) PQgetlength(res, 0, 0) != want)
	{
		PQclear(res);
		gw_error_set(err, 503, "40001", "the image changed while it was being sent", NULL, NULL);
		return -1;
	}
	PQclear(s->res);
	s->res = res;
	s->off = off;
	return 0;
}

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	gw_stream  *s = cls;
	uint64_t	have;
	size_t		n;

	pos += s->base;
	if (pos >= s->size)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (s->res == NULL || pos < s->off || pos >= s->off + (uint64_t) PQgetlength(s->res, 0, 0))
	{
		gw_error	err = {0};

		if (stream_fetch(s, pos, &err) != 0)
		{
			if (!gw.quiet)
				fprintf(stderr, "gateway: streaming product %s cut at byte %llu: %s\n", s->id,
						(unsigned long long) pos, err.message ? err.message : "");
			gw_error_free(&err);
			return MHD_CONTENT_READER_END_WITH_ERROR;	/* the client sees a short body */
		}
	}
	have = s->off + (uint64_t) PQgetlength(s->res, 0, 0) - pos;
	n = have < max ? (size_t) have : max;
	memcpy(buf, PQgetvalue(s->res, 0, 0) + (pos - s->off), n);
	return (ssize_t) n;
}

/* The answer for bytes [base, end) of a streamed original; its first slice is read here. */
static struct MHD_Response *
stream_response(const gw_request *r, const char *etag, uint64_t base, uint64_t end, gw_error *err)
{
	gw_stream  *s = calloc(1, sizeof(*s));
	struct MHD_Response *resp;

	if (s == NULL)
		return NULL;
	snprintf(s->id, sizeof(s->id), "%s", r->id);
	snprintf(s->etag, sizeof(s->etag), "%s", etag);
	s->size = end;
	s->base = base;
	if (gw_auth_copy(&s->auth, &r->auth) != 0 || stream_fetch(s, base, err) != 0)
	{
		stream_free(s);
		return NULL;
	}
	resp = MHD_create_response_from_callback(end - base, 32 * 1024, stream_read, s, stream_free);
	if (resp == NULL)
		stream_free(s);
	return resp;
}

/* A streamed original, whole or one Range of it (206, or 416). */
static enum MHD_Result
answer_streamed(struct MHD_Connection *conn, gw_request *r, const char *etag, const char *bare_etag,
				uint64_t size, struct MHD_Response **resp, int *status)
{
	uint64_t	first = 0,
				last = size ? size - 1 : 0;
	int			ranged = 0;
	gw_error	err = {0};

	if (r->method == GW_GET)
		ranged = gw_parse_range(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE),
								MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_RANGE),
								etag, size, &first, &last);
	if (ranged < 0)
	{
		char		cr[48];
		struct MHD_Response *e = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);

		if (e == NULL)
			return MHD_NO;
		snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long) size);
		gw_add_common_headers(e, r);
		MHD_add_response_header(e, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
		MHD_add_response_header(e, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
		r->status = MHD_HTTP_RANGE_NOT_SATISFIABLE;
		r->responded = 1;
		return gw_queue(conn, r, MHD_HTTP_RANGE_NOT_SATISFIABLE, e);
	}
	*resp = stream_response(r, bare_etag, first, last + 1, &err);
	if (*resp == NULL)
		return err.status ? gw_send_error(conn, r, &err, NULL) : MHD_NO;
	r->bytes_out = (size_t) (last + 1 - first);
	*status = 200;
	if (ranged)
	{
		char		cr[80];

		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long) first,
				 (unsigned long long) last, (unsigned long long) size);
		MHD_add_response_header(*resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
		*status = MHD_HTTP_PARTIAL_CONTENT;
	}
	return MHD_YES;
}

enum MHD_Result
gw_image_get(struct MHD_Connection *conn, gw_request *r)
{
	const gw_rendition *rd = &r->rendition;
	char	   *tags = gw_etag_list(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
															 MHD_HTTP_HEADER_IF_NONE_MATCH));
	char		max_bytes[16];
	const char *values[9] = {r->id, rd->w[0] ? rd->w : NULL, rd->h[0] ? rd->h : NULL, rd->type,
	rd->if_blank, tags ? tags : "", max_bytes, rd->type ? NULL : r->accept, "false"};
	PGresult   *res = NULL;
	gw_error	err = {0};
	struct MHD_Response *resp = NULL;
	enum MHD_Result ret;
	char		etag[160],
				lastmod[64] = "",
				cc[64],
				mime[64];
	int64_t		modified = -1;
	int			status = 200;

	/* originals larger than --stream-slice are streamed; any with a Range is */
	snprintf(max_bytes, sizeof(max_bytes), "%d", gw.stream_slice);
	if (!rd->given && r->method == GW_GET && gw.stream_slice > 0 &&
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE) != NULL)
		snprintf(max_bytes, sizeof(max_bytes), "1");
	ret = get_call(r, values, &res, &err);
	free(tags);
	if (ret != 0)
		return gw_send_error(conn, r, &err, NULL);
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, COL_ETAG))
	{
		PQclear(res);
		return gw_fail_no_image(conn, r);
	}
	snprintf(etag, sizeof(etag), "\"%s\"", PQgetvalue(res, 0, COL_ETAG));
	snprintf(mime, sizeof(mime), "%s", PQgetvalue(res, 0, COL_MIME_TYPE));
	cache_control(conn, r, PQgetvalue(res, 0, COL_ETAG), cc, sizeof(cc));
	if (!PQgetisnull(res, 0, COL_MODIFIED))
	{
		modified = strtoll(PQgetvalue(res, 0, COL_MODIFIED), NULL, 10);
		gw_http_date(modified, lastmod, sizeof(lastmod));
	}

	if (strcmp(PQgetvalue(res, 0, COL_NOT_MODIFIED), "true") == 0 || unmodified_since(conn, modified))
	{
		int64_t		size = PQgetisnull(res, 0, COL_SIZE) ? -1 : strtoll(PQgetvalue(res, 0, COL_SIZE), NULL, 10);

		status = MHD_HTTP_NOT_MODIFIED;
		PQclear(res);
		resp = not_modified_response(size);
	}
	else if (PQgetisnull(res, 0, COL_IMAGE))
	{
		uint64_t	size = strtoull(PQgetvalue(res, 0, COL_SIZE), NULL, 10);
		char		bare[80];

		snprintf(bare, sizeof(bare), "%s", PQgetvalue(res, 0, COL_ETAG));
		PQclear(res);
		ret = answer_streamed(conn, r, etag, bare, size, &resp, &status);
		if (resp == NULL)
			return ret;
	}
	else
	{
		r->bytes_out = (size_t) PQgetlength(res, 0, COL_IMAGE);
		resp = gw_held_response(res, COL_IMAGE);
		if (resp == NULL)
			return gw_fail(conn, r, 503, "53200", "the gateway holds too many large answers",
						   "Retry after a second.", NULL);
	}
	if (resp == NULL)
		return MHD_NO;
	if (status != MHD_HTTP_NOT_MODIFIED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
	gw_add_common_headers(resp, r);
	MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'none'; sandbox");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	if (!rd->given && gw.stream_slice > 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (lastmod[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, lastmod);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
	ret = MHD_queue_response(conn, (unsigned) status, resp);
	MHD_destroy_response(resp);
	r->status = status;
	r->responded = 1;
	return ret;
}

enum MHD_Result
gw_image_save(struct MHD_Connection *conn, gw_request *r)
{
	char	   *im = gw_etag_list(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MATCH));
	char	   *inm = gw_etag_list(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
															MHD_HTTP_HEADER_IF_NONE_MATCH));
	const char *values[4] = {r->id, (const char *) r->body, im, inm};
	int			lengths[4] = {0, (int) r->body_len, 0, 0};
	int			formats[4] = {0, 1, 0, 0};
	PGresult   *res = NULL;
	gw_error	err = {0};
	size_t		len;
	char	   *body;
	int			rc;

	if (r->multipart_bad || r->body_len == 0)
	{
		free(im);
		free(inm);
		return r->multipart_bad ? gw_fail(conn, r, 400, "PGRST102", "malformed multipart body", NULL, NULL)
			: gw_fail(conn, r, 400, "22004", "Image bitmap is missing from body.", NULL, NULL);
	}
	/*
	 * The bytes decide: a label naming another image type (a PNG named .jpg
	 * by a browser) is not an error; the database refuses what is none of
	 * the four formats (0A000, 415, saying what it looks like).
	 * If-Match / If-None-Match are judged in the write itself.
	 */
	rc = gw_call(&gw_statements[im || inm ? ST_SAVE_IF : ST_SAVE], &r->auth, values, lengths, formats, 0,
				 &res, &err);
	free(im);
	free(inm);
	if (rc != 0)
		return gw_send_error(conn, r, &err, NULL);
	body = gw_int_body(strtol(PQgetvalue(res, 0, 0), NULL, 10), r->fmt, &len);
	PQclear(res);
	if (body == NULL)
		return MHD_NO;
	return gw_send_buffer(conn, r, 200, gw_ctype_of(r->fmt), body, len, MHD_RESPMEM_MUST_FREE, NULL);
}

enum MHD_Result
gw_image_delete(struct MHD_Connection *conn, gw_request *r)
{
	char	   *im = gw_etag_list(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MATCH));
	const char *values[2] = {r->id, im};
	PGresult   *res = NULL;
	gw_error	err = {0};
	int			rc = gw_call(&gw_statements[im ? ST_DELETE_IF : ST_DELETE], &r->auth, values, NULL, NULL, 0,
							 &res, &err);

	free(im);
	if (rc != 0)
		return gw_send_error(conn, r, &err, NULL);
	PQclear(res);
	return gw_send_buffer(conn, r, 204, NULL, (void *) "", 0, MHD_RESPMEM_PERSISTENT, NULL);
}
