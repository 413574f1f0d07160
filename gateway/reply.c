/*
 * reply.c
 *		Sending answers: the headers every answer carries (nosniff, Vary,
 *		CORS), holding an early answer until a bodiless request is read,
 *		Connection: close when a body is left unread, error bodies, and the
 *		bound on answers held whole (--max-held-bytes).
 */
#include "request.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
gw_add_common_headers(struct MHD_Response *resp, const gw_request *r)
{
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, gw.cors_origins ? "Accept, Origin" : "Accept");
	if (r->cors)
	{
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", r->cors == 1 ? r->origin : "*");
		if (r->cors == 1)
			MHD_add_response_header(resp, "Access-Control-Allow-Credentials", "true");
		MHD_add_response_header(resp, "Access-Control-Expose-Headers",
								"ETag, Last-Modified, Content-Language, Content-Range, Retry-After");
	}
}

/* Bytes of whole answers queued and not yet sent (--max-held-bytes). */
static _Atomic size_t held_bytes;

typedef struct held
{
	PGresult   *res;
	size_t		n;
} held;

/* libmicrohttpd is done with an answer that held a result. */
static void
release_held(void *cls)
{
	held	   *h = cls;

	atomic_fetch_sub(&held_bytes, h->n);
	PQclear(h->res);
	free(h);
}

/*
 * libmicrohttpd closes a
 * keep-alive connection when an answer is queued while the request is
 * still being read, so an answer to a bodiless request made as its headers
 * arrive (a 404, 405, 406, ...) is held until the next call, when the
 * request is complete, and the connection stays open.
 */
enum MHD_Result
gw_queue(struct MHD_Connection *conn, gw_request *r, unsigned int status, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (r->in_first_call && !r->has_body && !r->close && r->pending == NULL)
	{
		r->pending = resp;
		r->pending_status = status;
		return MHD_YES;
	}
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

int
gw_reply_header(gw_request *r, const char *name, const char *value)
{
	if (r->n_extra >= (int) (sizeof(r->extra) / sizeof(r->extra[0])))
		return -1;
	if ((r->extra[r->n_extra].value = strdup(value)) == NULL)
		return -1;
	r->extra[r->n_extra++].name = name;
	return 0;
}

void
gw_reply_free(gw_request *r)
{
	for (int i = 0; i < r->n_extra; i++)
		free(r->extra[i].value);
	r->n_extra = 0;
}

enum MHD_Result
gw_send_buffer(struct MHD_Connection *conn, gw_request *r, int status, const char *ctype,
			void *data, size_t len, enum MHD_ResponseMemoryMode mode, const char *allow)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, mode);
	enum MHD_Result ret;

	if (resp == NULL)
	{
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(data);
		return MHD_NO;
	}
	if (ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	gw_add_common_headers(resp, r);
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	for (int i = 0; i < r->n_extra; i++)
		MHD_add_response_header(resp, r->extra[i].name, r->extra[i].value);
	/* the language of what a body says (an error's message: the language it is in) */
	if (ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_LANGUAGE,
								r->content_lang ? r->content_lang : r->lang ? r->lang : "en");
	/* an error's words depend on the request's languages: caches must key on them */
	if (ctype && status >= 400)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Language, SO-Language");
	if (status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
								"Bearer realm=\"product_image\", Basic realm=\"product_image\", "
								"SoTicket realm=\"product_image\"");
	/* an answer before the whole body was read: the rest is never read */
	if (status == 503 || status == 413 || r->close || (r->has_body && !r->body_done))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	if (status == 503)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	/* MHD_destroy_response (in queue) frees MUST_FREE data once nothing holds it */
	ret = gw_queue(conn, r, (unsigned) status, resp);
	if (ret == MHD_YES)
	{
		r->status = status;
		r->bytes_out = len;
		r->responded = 1;
	}
	return ret;
}

const char *
gw_ctype_of(gw_format fmt)
{
	return fmt == GW_FMT_XML ? "application/xml; charset=utf-8" : "application/json; charset=utf-8";
}

enum MHD_Result
gw_send_error(struct MHD_Connection *conn, gw_request *r, gw_error *err, const char *allow)
{
	size_t		len = 0;
	gw_format	fmt = r->fmt == GW_FMT_NONE ? GW_FMT_JSON : r->fmt;
	char	   *body;
	enum MHD_Result ret;
	const char *lang = r->lang ? r->lang : "en";
	const char *m = gw_tr(lang, err->message);

	/*
	 * The request's language when the catalog has the message (the
	 * gateway's own, and the database's that carry no value), else English,
	 * and Content-Language says which.
	 */
	if (r->content_lang == NULL)	/* else the caller translated it */
		r->content_lang = err->message == NULL || m != err->message ? lang : "en";
	if (m != err->message)
	{
		/* copies first: an untranslated text is err's own, which gw_error_set frees */
		char	   *tm = strdup(m),
				   *td = err->details ? strdup(gw_tr(lang, err->details)) : NULL,
				   *th = err->hint ? strdup(gw_tr(lang, err->hint)) : NULL;

		gw_error_set(err, err->status, err->code, tm, td, th);
		free(tm);
		free(td);
		free(th);
	}
	body = gw_error_body(err, fmt, &len);
	if (body == NULL)
		return MHD_NO;
	ret = gw_send_buffer(conn, r, err->status, gw_ctype_of(fmt), body, len, MHD_RESPMEM_MUST_FREE, allow);
	gw_error_free(err);
	return ret;
}

enum MHD_Result
gw_fail(struct MHD_Connection *conn, gw_request *r, int status, const char *code,
	 const char *message, const char *details, const char *allow)
{
	gw_error	err = {0};

	gw_error_set(&err, status, code, message, details, NULL);
	return gw_send_error(conn, r, &err, allow);
}

enum MHD_Result
gw_fail_no_image(struct MHD_Connection *conn, gw_request *r)
{
	char		msg[64];
	const char *format = gw_tr(r->lang, "product %d has no image");	/* c-format, checked by msgfmt */

	r->content_lang = strcmp(format, "product %d has no image") != 0 ? r->lang : "en";
	snprintf(msg, sizeof(msg), format, r->route.product_id);
	return gw_fail(conn, r, 404, "P0002", msg, NULL, NULL);
}

struct MHD_Response *
gw_held_response(PGresult *res, int col)
{
	size_t		n = (size_t) PQgetlength(res, 0, col);
	struct MHD_Response *resp;
	held	   *h;

	/*
	 * Answers held whole (renditions, originals under --stream-slice) count
	 * against --max-held-bytes: slow readers of large renditions cannot make
	 * the gateway hold more (an outside tester held 2.5 GB with 100
	 * anonymous connections reading 25 MB renditions).
	 */
	if (atomic_fetch_add(&held_bytes, n) + n > (size_t) gw.max_held_bytes && n > 0)
	{
		atomic_fetch_sub(&held_bytes, n);
		PQclear(res);
		return NULL;
	}
	h = malloc(sizeof(*h));
	if (h == NULL)
	{
		atomic_fetch_sub(&held_bytes, n);
		PQclear(res);
		return NULL;
	}
	h->res = res;
	h->n = n;
	/* one copy: the result buffer goes to MHD as is, freed with the result */
	resp = MHD_create_response_from_buffer_with_free_callback_cls(n, PQgetvalue(res, 0, col),
																   release_held, h);
	if (resp == NULL)
		release_held(h);
	return resp;
}
