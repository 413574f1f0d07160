/*
 * handler.c
 *		The libmicrohttpd access handler: per-request state made on the first
 *		callback, the body consumed chunk by chunk (raw or through MHD's
 *		multipart post processor), the answer decided on the last call, one
 *		log line in the completion callback.  Every request is one
 *		transaction on a pooled connection; the image travels to PostgreSQL
 *		as a binary bytea parameter of a prepared statement.
 */
#include "gateway.h"
#include "handler.h"
#include "decode.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

atomic_int	gw_active_requests;
atomic_int	gw_open_connections;

/*
 * Every open connection, for the watchdog: libmicrohttpd's timeout is an
 * idle timeout, so a client sending a byte now and then would hold its
 * connection forever.  The watchdog closes a connection whose request head
 * is not complete within --head-timeout seconds (of opening it, or of the
 * previous answer), or whose body arrives slower than --min-body-rate
 * bytes a second on average once --head-timeout seconds have passed.
 * While the handler works or an answer is sent, nothing is enforced here.
 */
enum
{
	PHASE_HEAD, PHASE_BODY, PHASE_BUSY
};

typedef struct gw_conn_ctx
{
	int			fd;
	atomic_int	phase;
	_Atomic int64_t since_ms;	/* the phase began */
	_Atomic uint64_t body_bytes;
	int			killed;			/* under ctx_lock */
	struct gw_conn_ctx *prev,
			   *next;
} gw_conn_ctx;

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static gw_conn_ctx *ctx_head;

static int64_t now_ms(void);

static gw_conn_ctx *
conn_ctx(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
																 MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? (gw_conn_ctx *) ci->socket_context : NULL;
}

static void
set_phase(struct MHD_Connection *conn, int phase)
{
	gw_conn_ctx *c = conn_ctx(conn);

	if (c == NULL)
		return;
	atomic_store(&c->since_ms, now_ms());
	atomic_store(&c->body_bytes, 0);
	atomic_store(&c->phase, phase);
}

void *
gw_watchdog(void *arg)
{
	static const char timeout_408[] = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
		"Content-Length: 0\r\nX-Content-Type-Options: nosniff\r\n\r\n";
	struct timespec tick = {0, 250 * 1000 * 1000};

	(void) arg;
	for (;;)
	{
		int64_t		now = now_ms(),
					head_ms = (int64_t) gw.head_timeout_seconds * 1000;

		pthread_mutex_lock(&ctx_lock);
		for (gw_conn_ctx *c = ctx_head; c; c = c->next)
		{
			int			phase = atomic_load(&c->phase);
			int64_t		el = now - atomic_load(&c->since_ms);
			const char *why = NULL;

			if (c->killed)
				continue;
			if (phase == PHASE_HEAD && el > head_ms)
				why = "request head not complete in time";
			else if (phase == PHASE_BODY && el > head_ms &&
					 atomic_load(&c->body_bytes) * 1000 < (uint64_t) gw.min_body_rate * (uint64_t) el)
				why = "request body slower than --min-body-rate";
			if (why == NULL)
				continue;
			/*
			 * A request under way gets a 408 first: its thread is reading, not
			 * writing (100 Continue went out seconds ago), so it cannot
			 * interleave with an answer.  A head may be an idle keep-alive
			 * connection: closed quietly.  shutdown() (not close) keeps the fd
			 * libmicrohttpd's until it closes it, after the CLOSED notice that
			 * takes this lock.
			 */
			if (phase == PHASE_BODY)
				(void) send(c->fd, timeout_408, sizeof(timeout_408) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			shutdown(c->fd, SHUT_RDWR);
			c->killed = 1;
			if (!gw.quiet)
				fprintf(stderr, "gateway: closed a connection: %s\n", why);
		}
		pthread_mutex_unlock(&ctx_lock);
		nanosleep(&tick, NULL);
	}
	return NULL;
}

enum
{
	ST_SAVE, ST_GET_IMAGE, ST_GET_RENDITION, ST_DELETE, ST_INFO_JSON, ST_INFO_ROWS, ST_PUT_JSON, ST_PUT_ROWS,
	ST_HEALTH, ST_MAY_CALL, ST_GET_PART, ST_SAVE_IF, ST_DELETE_IF
};

static const struct
{
	const char *sql;
	int			nparams;
}			statements[] = {
	[ST_SAVE] = {"SELECT product_image.product_save_image($1::int, $2::bytea)", 2},
	/*
	 * The stored image.  Columns: type, ETag, update time, the image (NULL
	 * for a matching If-None-Match ($2): 304; or when streamed), its size,
	 * and 'true' when it is streamed: larger than $3 bytes and the database
	 * has product_get_image_part.  Not streamed, bytes, ETag and type come
	 * from one call (one snapshot, also on a partition behind a proxy);
	 * streamed, the slices are pinned to the ETag.  Types come from the
	 * format table, never from a text column.  No image: NULL ETag (404).
	 */
	[ST_GET_IMAGE] = {"SELECT coalesce(r.mime_type, e.mime_type), coalesce(r.etag, e.etag), "
		"i->>'UpdatedDate', r.image, i->>'BlobSize', "
		"coalesce(s.stream AND NOT ($2::text = '*' OR e.etag = ANY (string_to_array($2::text, ','))), "
		"false)::text "
		"FROM product_image.product_get_image_info($1::int) AS i "
		"CROSS JOIN LATERAL (SELECT $3::bigint > 0 AND (i->>'BlobSize')::bigint > $3::bigint "
		"AND EXISTS (SELECT FROM pg_catalog.pg_proc p WHERE p.proname = 'product_get_image_part' "
		"AND p.pronamespace = 'product_image'::pg_catalog.regnamespace) AS stream) AS s "
		"LEFT JOIN LATERAL (SELECT * FROM product_image.product_get_image_etag($1::int) WHERE s.stream) AS e "
		"ON true "
		"LEFT JOIN LATERAL (SELECT * FROM product_image.product_get_image_rendition($1::int, NULL, NULL, "
		"NULL, NULL, nullif($2::text, '')) WHERE NOT coalesce(s.stream, false)) AS r ON true", 3},
	/*
	 * Same columns as ST_GET_IMAGE, with the rendition's own ETag; a matching
	 * If-None-Match reads and renders nothing (image NULL: 304).
	 * Placeholders have no date.
	 */
	[ST_GET_RENDITION] = {"SELECT r.mime_type, r.etag, i->>'UpdatedDate', r.image "
		"FROM product_image.product_get_image_rendition($1::int, $2::int, $3::int, $4::text, "
		"$5::text, nullif($6::text, '')) r "
		"LEFT JOIN LATERAL product_image.product_get_image_info($1::int) AS i ON true "
	"WHERE r.etag IS NOT NULL", 6},
	[ST_DELETE] = {"SELECT product_image.product_delete_image($1::int)", 1},
	[ST_INFO_JSON] = {"SELECT product_image.product_get_image_info($1::int)::text", 1},
	[ST_INFO_ROWS] = {"SELECT e.key, e.value FROM product_image.product_get_image_info($1::int) AS i, "
	"jsonb_each_text(i) AS e", 1},
	[ST_PUT_JSON] = {"SELECT product_image.product_put_image_info($1::int, $2::jsonb)::text", 2},
	[ST_PUT_ROWS] = {"SELECT e.key, e.value FROM jsonb_each_text("
	"product_image.product_put_image_info($1::int, $2::jsonb)) AS e", 2},
	[ST_HEALTH] = {"SELECT 1", 0},
	/* If-Match / If-None-Match, judged by the database in the write itself (412: PI412) */
	[ST_SAVE_IF] = {"SELECT product_image.product_save_image($1::int, $2::bytea, $3::text, $4::text)", 4},
	[ST_DELETE_IF] = {"SELECT product_image.product_delete_image($1::int, $2::text)", 2},
	/*
	 * Before a body is read: may the request's role call the function at
	 * all?  PostgreSQL judges; a function it does not know lets the call
	 * itself answer.
	 */
	/* one slice of a streamed image, of the version with that ETag (types as the function has them) */
	[ST_GET_PART] = {"SELECT product_image.product_get_image_part($1, $2, $3, $4)", 4},
	[ST_MAY_CALL] = {"SELECT coalesce(pg_catalog.has_function_privilege("
	"pg_catalog.to_regprocedure($1::text), 'EXECUTE'), true)", 1},
};

typedef struct gw_request
{
	gw_method	method;
	gw_route	route;
	char		id[16];			/* route.product_id as SQL parameter text */
	gw_format	fmt;
	char	   *path;
	char	   *method_name;
	struct timespec start;
	size_t		bytes_in;
	size_t		bytes_out;
	int			status;
	int			responded;
	int			close;			/* answer with Connection: close */
	int			has_body;		/* Content-Length > 0 or Transfer-Encoding */
	int			body_done;		/* the whole body has been read */
	int			authed;			/* auth holds the request's credentials */
	gw_auth		auth;
	gw_body_kind body_kind;
	const char *declared;		/* image type the Content-Type names */
	char	   *part_type;		/* Content-Type of the chosen multipart part */
	uint8_t    *body;
	size_t		body_len;
	size_t		body_cap;
	struct MHD_PostProcessor *pp;
	int			part_state;		/* 0 none, 1 tentative (no filename), 2 file part */
	char	   *part_key;
	int			parts;
	int			skipping;		/* the current part is not the one we keep */
	int			multipart_bad;
	char		origin[256];	/* the Origin header, when it is a CORS-allowed one */
	int			cors;			/* 0: no CORS; 1: a listed origin; 2: any ("*") */
	int			in_first_call;	/* headers just read: an answer now would close the connection */
	struct MHD_Response *pending;	/* an answer held until the (empty) body is read */
	unsigned int pending_status;
	char		mp_close[80];	/* "\r\n--BOUNDARY--": after it, the epilogue */
	int			mp_fail[80];	/* its KMP failure table */
	int			mp_len;
	int			mp_match;		/* bytes of mp_close matched so far */
	int			mp_done;		/* the close delimiter was read */
	gw_rendition rendition;		/* GET Image's w, h, type, ifBlank (or Accept's type) */
} gw_request;

/*
 * RFC 2046: whatever follows the close delimiter is an epilogue, to be
 * ignored (got's encoder ends with an empty line; libmicrohttpd's parser
 * would call it malformed).  The delimiter is found across chunks with KMP.
 */
static void
multipart_close_init(gw_request *r, const char *ct)
{
	const char *b = ct ? strcasestr(ct, "boundary=") : NULL;
	size_t		n;
	int			k = 0;

	r->mp_len = 0;
	if (b == NULL)
		return;
	b += 9;
	if (*b == '"')
		b++;
	n = strcspn(b, "\";, \t");
	if (n == 0 || n > 70)
		return;
	r->mp_len = snprintf(r->mp_close, sizeof(r->mp_close), "\r\n--%.*s--", (int) n, b);
	r->mp_fail[0] = 0;
	for (int i = 1; i < r->mp_len; i++)
	{
		while (k > 0 && r->mp_close[i] != r->mp_close[k])
			k = r->mp_fail[k - 1];
		if (r->mp_close[i] == r->mp_close[k])
			k++;
		r->mp_fail[i] = k;
	}
}

/* How many of these n bytes belong before the epilogue. */
static size_t
multipart_before_epilogue(gw_request *r, const char *data, size_t n)
{
	if (r->mp_done)
		return 0;
	if (r->mp_len == 0)
		return n;
	for (size_t i = 0; i < n; i++)
	{
		while (r->mp_match > 0 && data[i] != r->mp_close[r->mp_match])
			r->mp_match = r->mp_fail[r->mp_match - 1];
		if (data[i] == r->mp_close[r->mp_match])
			r->mp_match++;
		if (r->mp_match == r->mp_len)
		{
			r->mp_done = 1;
			return i + 1;
		}
	}
	return n;
}

/* ---- CORS and cross-site writes ---- */

/* Is origin (scheme://host[:port]) in --cors-origins?  1 listed, 2 by "*", 0 not. */
static int
cors_allows(const char *origin)
{
	const char *p = gw.cors_origins;
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
 * A write from another site?  Judged by Origin (same origin: our own
 * scheme://Host), else by Sec-Fetch-Site; a request with neither (curl, a
 * server) is no browser's cross-site request.  Listed --cors-origins are
 * trusted; "*" is not (it may not send credentials either).
 */
static int
cross_site(struct MHD_Connection *conn)
{
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");

	if (origin != NULL)
	{
		const char *rest = strncasecmp(origin, "http://", 7) == 0 ? origin + 7
			: strncasecmp(origin, "https://", 8) == 0 ? origin + 8 : NULL;

		if (rest != NULL && host != NULL && strcasecmp(rest, host) == 0)
			return 0;
		return cors_allows(origin) != 1;
	}
	if (site != NULL)
		return strcasecmp(site, "cross-site") == 0 || strcasecmp(site, "same-site") == 0;
	return 0;
}

/* Headers every answer of ours carries: nosniff, Vary, and CORS's. */
static void
add_common_headers(struct MHD_Response *resp, const gw_request *r)
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

/* ---- responses ---- */

/* Bytes of whole answers queued and not yet sent (--max-held-bytes). */
static _Atomic size_t held_bytes;

/* libmicrohttpd is done with an answer that held a result. */
static void
release_held(void *cls)
{
	PGresult   *res = cls;

	atomic_fetch_sub(&held_bytes, (size_t) PQgetlength(res, 0, 3));
	PQclear(res);
}

/*
 * Queue resp (and release our reference).  libmicrohttpd closes a
 * keep-alive connection when an answer is queued while the request is
 * still being read, so an answer to a bodiless request made as its headers
 * arrive (a 404, 405, 406, ...) is held until the next call, when the
 * request is complete, and the connection stays open.
 */
static enum MHD_Result
queue(struct MHD_Connection *conn, gw_request *r, unsigned int status, struct MHD_Response *resp)
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

/* Queue a response; MHD_RESPMEM_MUST_FREE data is ours to free only if MHD never took it. */
static enum MHD_Result
send_buffer(struct MHD_Connection *conn, gw_request *r, int status, const char *ctype,
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
	add_common_headers(resp, r);
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
								"Bearer realm=\"product_image\", Basic realm=\"product_image\"");
	/* an answer before the whole body was read: the rest is never read */
	if (status == 503 || status == 413 || r->close || (r->has_body && !r->body_done))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	if (status == 503)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	/* MHD_destroy_response (in queue) frees MUST_FREE data once nothing holds it */
	ret = queue(conn, r, (unsigned) status, resp);
	if (ret == MHD_YES)
	{
		r->status = status;
		r->bytes_out = len;
		r->responded = 1;
	}
	return ret;
}

static const char *
ctype_of(gw_format fmt)
{
	return fmt == GW_FMT_XML ? "application/xml; charset=utf-8" : "application/json; charset=utf-8";
}

static enum MHD_Result
send_error(struct MHD_Connection *conn, gw_request *r, gw_error *err, const char *allow)
{
	size_t		len = 0;
	gw_format	fmt = r->fmt == GW_FMT_NONE ? GW_FMT_JSON : r->fmt;
	char	   *body = gw_error_body(err, fmt, &len);
	enum MHD_Result ret;

	if (body == NULL)
		return MHD_NO;
	ret = send_buffer(conn, r, err->status, ctype_of(fmt), body, len, MHD_RESPMEM_MUST_FREE, allow);
	gw_error_free(err);
	return ret;
}

static enum MHD_Result
fail(struct MHD_Connection *conn, gw_request *r, int status, const char *code,
	 const char *message, const char *details, const char *allow)
{
	gw_error	err = {0};

	gw_error_set(&err, status, code, message, details, NULL);
	return send_error(conn, r, &err, allow);
}

/* 404 for a product without an image (P0002, as the SQL functions say it). */
static enum MHD_Result
fail_no_image(struct MHD_Connection *conn, gw_request *r)
{
	char		msg[64];

	snprintf(msg, sizeof(msg), "product %d has no image", r->route.product_id);
	return fail(conn, r, 404, "P0002", msg, NULL, NULL);
}

/* ---- database ---- */

/* Turn a failed result into an error; 500s keep their details in the log. */
static void
error_from_result(PGresult *res, PGconn *pg, int had_credentials, gw_error *err)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int			status;

	if (st == NULL || PQstatus(pg) != CONNECTION_OK)
	{
		fprintf(stderr, "gateway: database connection lost: %s", PQerrorMessage(pg));
		gw_error_set(err, 503, "08006", "the database is unavailable", NULL, "Retry later.");
		return;
	}
	status = gw_status_for_sqlstate(st, had_credentials);
	if (status == 500)
	{
		fprintf(stderr, "gateway: SQLSTATE %s: %s", st, PQresultErrorMessage(res));
		gw_error_set(err, 500, st, "internal server error", NULL, NULL);
		return;
	}
	if (status == 503)
	{
		gw_error_set(err, 503, st, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
					 NULL, "Retry the request.");
		return;
	}
	/* PostgreSQL's text names the schema, table or function: not for clients */
	if (strcmp(st, "42501") == 0)
	{
		if (!gw.quiet)
			fprintf(stderr, "gateway: SQLSTATE 42501: %s", PQresultErrorMessage(res));
		gw_error_set(err, status, st, "permission denied", NULL, NULL);
		return;
	}
	gw_error_set(err, status, st, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
				 PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
				 PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
}

static int
exec_simple(PGconn *pg, const char *sql, PGresult **failed)
{
	PGresult   *res = PQexec(pg, sql);

	if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		PQclear(res);
		return 0;
	}
	if (failed)
		*failed = res;
	else
		PQclear(res);
	return -1;
}

/* The steps of one request's transaction, sent as one pipeline. */
enum
{
	STEP_BEGIN, STEP_TIMEOUT, STEP_ROLE, STEP_CLAIMS, STEP_PREPARE, STEP_CALL, STEP_COMMIT,
	STEP_COUNT
};

/*
 * Send BEGIN, SET LOCAL ROLE, the JWT claims, the statement's preparation
 * (once per connection), the call and COMMIT in one libpq pipeline (one network round trip), and collect the results.
 * Returns the step that failed (its result in *failed), STEP_COUNT on
 * success (the call's result in *out), or -1 when the connection broke.
 */
static int
pipeline(gw_conn *c, int which, const gw_auth *auth, const char *const *values,
		 const int *lengths, const int *formats, int binary_result, int timeout_ms,
		 PGresult **out, PGresult **failed)
{
	PGconn	   *pg = gw_conn_pg(c);
	char		name[16];
	char	   *role_sql = NULL;
	int			sent[STEP_COUNT];	/* each step is sent at most once */
	int			nsent = 0;
	int			failed_step = STEP_COUNT;
	int			need_prepare = !gw_conn_is_prepared(c, which);

	*out = *failed = NULL;
	snprintf(name, sizeof(name), "gw%d", which);
	if (auth->role)
	{
		char	   *ident = PQescapeIdentifier(pg, auth->role, strlen(auth->role));

		if (ident == NULL || asprintf(&role_sql, "SET LOCAL ROLE %s", ident) < 0)
			role_sql = NULL;
		PQfreemem(ident);
		if (role_sql == NULL)
			return -1;
	}
	if (PQenterPipelineMode(pg) != 1)
	{
		free(role_sql);
		return -1;
	}
	if (PQsendQueryParams(pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
		sent[nsent++] = STEP_BEGIN;
	if (timeout_ms > 0)
	{
		char		timeout[64];

		snprintf(timeout, sizeof(timeout), "SET LOCAL statement_timeout = %d", timeout_ms);
		if (PQsendQueryParams(pg, timeout, 0, NULL, NULL, NULL, NULL, 0))
			sent[nsent++] = STEP_TIMEOUT;
	}
	if (role_sql && PQsendQueryParams(pg, role_sql, 0, NULL, NULL, NULL, NULL, 0))
		sent[nsent++] = STEP_ROLE;
	if (auth->claims)
	{
		const char *claims[1] = {auth->claims};

		if (PQsendQueryParams(pg, "SELECT pg_catalog.set_config('request.jwt.claims', $1, true)",
							  1, NULL, claims, NULL, NULL, 0))
			sent[nsent++] = STEP_CLAIMS;
	}
	/* prepared as the request's role: the names resolve with its rights */
	if (need_prepare && PQsendPrepare(pg, name, statements[which].sql, statements[which].nparams, NULL))
		sent[nsent++] = STEP_PREPARE;
	if (PQsendQueryPrepared(pg, name, statements[which].nparams, values, lengths, formats, binary_result))
		sent[nsent++] = STEP_CALL;
	if (PQsendQueryParams(pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
		sent[nsent++] = STEP_COMMIT;
	free(role_sql);
	if (PQpipelineSync(pg) != 1)
	{
		PQexitPipelineMode(pg);
		return -1;
	}

	/* each command's results end with NULL; then comes the sync */
	for (int i = 0; i < nsent; i++)
	{
		PGresult   *res;

		while ((res = PQgetResult(pg)) != NULL)
		{
			ExecStatusType st = PQresultStatus(res);

			if (st == PGRES_FATAL_ERROR && failed_step == STEP_COUNT)
			{
				failed_step = sent[i];
				*failed = res;
			}
			else if (sent[i] == STEP_CALL && st == PGRES_TUPLES_OK && *out == NULL)
				*out = res;
			else
				PQclear(res);
		}
		if (PQstatus(pg) != CONNECTION_OK)
			break;
	}
	for (;;)
	{
		PGresult   *res = PQgetResult(pg);

		if (res == NULL)
		{
			if (PQstatus(pg) != CONNECTION_OK)
				break;
			continue;
		}
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC)
		{
			PQclear(res);
			break;
		}
		PQclear(res);
	}
	PQexitPipelineMode(pg);
	if (PQstatus(pg) != CONNECTION_OK)
	{
		PQclear(*out);
		PQclear(*failed);
		*out = *failed = NULL;
		return -1;
	}
	if (need_prepare && (failed_step == STEP_COUNT || failed_step > STEP_PREPARE))
		gw_conn_set_prepared(c, which);
	if (failed_step != STEP_COUNT)
	{
		PQclear(*out);
		*out = NULL;
	}
	return failed_step;
}

/*
 * Run one prepared statement in its own transaction as the request's role.
 * Serialization failures and deadlocks are retried once, and so is a lost
 * connection (the transaction did not commit).  On success *out holds the
 * result (caller clears); on failure err is filled.
 */
/* ---- read replica: routing, lag, reading one's own writes ---- */

#define GW_RECENT_SLOTS 4096

/* product id and until when (ms, monotonic) its reads go to the primary */
static struct
{
	_Atomic int32_t product_id;
	_Atomic int64_t until_ms;
}			recent_writes[GW_RECENT_SLOTS];
static _Atomic int64_t lag_checked_ms;
static atomic_int replica_behind;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
is_read(int which)
{
	return which == ST_GET_IMAGE || which == ST_GET_RENDITION || which == ST_GET_PART || which == ST_INFO_JSON ||
		which == ST_INFO_ROWS;
}

static int
is_write(int which)
{
	return which == ST_SAVE || which == ST_DELETE || which == ST_PUT_JSON || which == ST_PUT_ROWS;
}

static void
note_write(int32_t product_id)
{
	unsigned	slot = (uint32_t) product_id % GW_RECENT_SLOTS;

	atomic_store(&recent_writes[slot].product_id, product_id);
	atomic_store(&recent_writes[slot].until_ms, now_ms() + gw.read_own_writes_ms);
}

static int
written_recently(int32_t product_id)
{
	unsigned	slot = (uint32_t) product_id % GW_RECENT_SLOTS;

	return atomic_load(&recent_writes[slot].product_id) == product_id &&
		atomic_load(&recent_writes[slot].until_ms) > now_ms();
}

/*
 * Is the replica within --read-max-lag?  Asked at most once a second, on a
 * replica connection: caught up with what it received counts as no lag
 * (an idle primary sends nothing), else the age of the last replayed commit.
 */
static int
replica_fresh(PGconn *pg)
{
	int64_t		now = now_ms();

	if (now - atomic_load(&lag_checked_ms) >= 1000)
	{
		PGresult   *res = PQexec(pg, "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
								 "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
								 "ELSE coalesce(1000 * extract(epoch FROM now() - "
								 "pg_last_xact_replay_timestamp()), 1e12) END::bigint");

		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
			atomic_store(&replica_behind, atoll(PQgetvalue(res, 0, 0)) > gw.read_max_lag_ms);
		else
			atomic_store(&replica_behind, 1);
		PQclear(res);
		atomic_store(&lag_checked_ms, now);
	}
	return !atomic_load(&replica_behind);
}

/* A connection for this statement: the replica for reads when it is fit, else the primary. */
static gw_conn *
acquire_for(int which, const gw_auth *auth, int32_t product_id, int *tried_replica, gw_error *err)
{
	if (gw.read_db_uri && is_read(which) && !*tried_replica && !written_recently(product_id))
	{
		gw_error	ignored = {0};
		gw_conn    *c = gw_pool_acquire(auth->basic_user, auth->basic_password, 1, &ignored);

		*tried_replica = 1;
		gw_error_free(&ignored);
		if (c != NULL && replica_fresh(gw_conn_pg(c)))
			return c;
		if (c != NULL)
			gw_pool_release(c, PQstatus(gw_conn_pg(c)) != CONNECTION_OK);
	}
	return gw_pool_acquire(auth->basic_user, auth->basic_password, 0, err);
}

/* As run(), with this statement timeout (ms; 0: none) instead of --statement-timeout. */
static int
run_timeout(int which, const gw_auth *auth, const char *const *values, const int *lengths,
			const int *formats, int binary_result, int timeout_ms, PGresult **out, gw_error *err)
{
	int32_t		product_id = (statements[which].nparams > 0 && values[0]) ? atoi(values[0]) : 0;
	int			tried_replica = 0;

	for (int attempt = 0; attempt < 2; attempt++)
	{
		gw_conn    *c = acquire_for(which, auth, product_id, &tried_replica, err);
		PGconn	   *pg;
		PGresult   *res = NULL,
				   *bad = NULL;
		const char *st;
		int			step;

		if (c == NULL)
			return -1;
		pg = gw_conn_pg(c);
		step = pipeline(c, which, auth, values, lengths, formats, binary_result, timeout_ms,
						&res, &bad);
		if (step == STEP_COUNT)
		{
			gw_pool_release(c, 0);
			if (is_write(which) && gw.read_db_uri)
				note_write(product_id);
			*out = res;
			return 0;
		}
		if (step < 0)
		{
			int			was_replica = gw_conn_is_replica(c);

			if (!gw.quiet)
				fprintf(stderr, "gateway: pipeline failed: %s", PQerrorMessage(pg));
			gw_pool_release(c, 1);
			/* a lost replica: the primary answers, and the retry is not spent */
			if (attempt == 0 || was_replica)
			{
				if (was_replica)
					attempt--;
				continue;
			}
			fprintf(stderr, "gateway: database connection lost: %s", PQerrorMessage(pg));
			gw_error_set(err, 503, "08006", "the database is unavailable", NULL, "Retry later.");
			return -1;
		}
		/* a failed step leaves the transaction aborted: end it */
		exec_simple(pg, "ROLLBACK", NULL);
		st = PQresultErrorField(bad, PG_DIAG_SQLSTATE);
		if (attempt == 0 && st && (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0))
		{
			PQclear(bad);
			gw_pool_release(c, 0);
			continue;
		}
		error_from_result(bad, pg, auth->had_credentials, err);
		/* the role itself was refused: that is an authentication failure */
		if (step == STEP_ROLE && err->status != 503)
		{
			char		code[sizeof(err->code)];

			memcpy(code, err->code, sizeof(code));
			gw_error_set(err, 401, code, "the role of these credentials cannot be used", NULL, NULL);
		}
		PQclear(bad);
		gw_pool_release(c, PQstatus(pg) != CONNECTION_OK);
		return -1;
	}
	return -1;
}

static int
run(int which, const gw_auth *auth, const char *const *values, const int *lengths,
	const int *formats, int binary_result, PGresult **out, gw_error *err)
{
	return run_timeout(which, auth, values, lengths, formats, binary_result,
					   gw.statement_timeout_ms, out, err);
}

/*
 * Render slots: at most --render-slots rendition calls hold a connection
 * for as long as a render takes, so the rest of the pool always serves
 * plain reads and writes.  Past the limit a rendition call is still tried,
 * under --render-probe-ms: a cached rendition (one index lookup) is
 * answered; one that would need rendering is cancelled there and answered
 * 503 with Retry-After.
 */
static atomic_int renders_in_flight;
static atomic_int probes_in_flight;

static int
render_slots(void)
{
	if (gw.render_slots > 0)
		return gw.render_slots;
	return gw.pool_size > 4 ? gw.pool_size / 4 : 1;
}

/* ---- route handlers ---- */

static enum MHD_Result
reply_rows_xml(struct MHD_Connection *conn, gw_request *r, PGresult *res)
{
	size_t		cap = 256,
				len = 0;
	char	   *buf = malloc(cap);
	static const char open[] = "<BlobEntity xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" "
		"xmlns=\"http://schemas.datacontract.org/2004/07/SuperOffice.WebApi.Data\">";
	static const char close_tag[] = "</BlobEntity>";

	if (buf == NULL)
		return MHD_NO;
	len = (size_t) snprintf(buf, cap, "%s", open);
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *key = PQgetvalue(res, i, 0);
		char	   *val;
		size_t		need;

		/* an element name must be a name: a key that is not one is left out */
		if (!(key[0] == '_' || (key[0] >= 'A' && key[0] <= 'Z') || (key[0] >= 'a' && key[0] <= 'z')) ||
			strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != strlen(key))
			continue;
		val = PQgetisnull(res, i, 1) ? NULL : gw_xml_escape(PQgetvalue(res, i, 1));
		need = 2 * strlen(key) + (val ? strlen(val) : 0) + 32;

		if (len + need + sizeof(close_tag) > cap)
		{
			char	   *nb;

			cap = (len + need + sizeof(close_tag)) * 2;
			nb = realloc(buf, cap);
			if (nb == NULL)
			{
				free(buf);
				free(val);
				return MHD_NO;
			}
			buf = nb;
		}
		if (val)
			len += (size_t) sprintf(buf + len, "<%s>%s</%s>", key, val, key);
		else
			len += (size_t) sprintf(buf + len, "<%s i:nil=\"true\"/>", key);
		free(val);
	}
	len += (size_t) sprintf(buf + len, "%s", close_tag);
	return send_buffer(conn, r, 200, ctype_of(GW_FMT_XML), buf, len, MHD_RESPMEM_MUST_FREE, NULL);
}

/* ISO 8601 "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" to an HTTP date. */
static void
http_date(const char *iso, char *out, size_t outlen)
{
	struct tm	tm = {0};

	out[0] = '\0';
	if (iso == NULL || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
							  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	{
		time_t		t = timegm(&tm);

		gmtime_r(&t, &tm);
		strftime(out, outlen, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	}
}

/* An HTTP-date (IMF-fixdate) as seconds, or -1. */
static time_t
http_time(const char *s)
{
	struct tm	tm = {0};
	const char *end = s ? strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;

	return end && *end == '\0' ? timegm(&tm) : (time_t) -1;
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

static char *
dup_opt(const char *v)
{
	return v ? strdup(v) : NULL;
}

/* Read the slice that starts at off into s->res; -1 (logged) when it cannot be had. */
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
	if (run(ST_GET_PART, &s->auth, values, NULL, NULL, 1, &res, err) != 0)
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

/* The answer for a streamed original; its first slice is read here, so errors are answers. */
static struct MHD_Response *
stream_response(gw_request *r, const gw_auth *auth, const char *etag, uint64_t base, uint64_t end,
				gw_error *err, const char **ctype)
{
	gw_stream  *s = calloc(1, sizeof(*s));
	struct MHD_Response *resp;
	pi_format	f;

	if (s == NULL)
		return NULL;
	snprintf(s->id, sizeof(s->id), "%s", r->id);
	snprintf(s->etag, sizeof(s->etag), "%s", etag);
	s->size = end;
	s->base = base;
	s->auth.had_credentials = auth->had_credentials;
	s->auth.role = dup_opt(auth->role);
	s->auth.claims = dup_opt(auth->claims);
	s->auth.basic_user = dup_opt(auth->basic_user);
	s->auth.basic_password = dup_opt(auth->basic_password);
	if (stream_fetch(s, base, err) != 0)
	{
		stream_free(s);
		return NULL;
	}
	if (base == 0)
	{
		f = pi_detect((const uint8_t *) PQgetvalue(s->res, 0, 0), (size_t) PQgetlength(s->res, 0, 0));
		*ctype = f == PI_FORMAT_UNKNOWN ? "application/octet-stream" : pi_format_mime(f);
	}
	resp = MHD_create_response_from_callback(end - base, 32 * 1024, stream_read, s, stream_free);
	if (resp == NULL)
		stream_free(s);
	return resp;
}

/*
 * A single byte range of an original ("bytes=a-b", "bytes=a-", "bytes=-n"),
 * honoured only when If-Range is absent or names this ETag: 1 with
 * [*first, *last] within size, 0 when there is none to honour (a whole
 * answer), -1 when it cannot be satisfied (416).
 */
static int
parse_range(const char *range, const char *if_range, const char *etag, uint64_t size,
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

static enum MHD_Result
handle_get_image(struct MHD_Connection *conn, gw_request *r, const gw_auth *auth)
{
	char	   *tags = gw_etag_list(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
															 MHD_HTTP_HEADER_IF_NONE_MATCH));
	const gw_rendition *rd = &r->rendition;
	char		slice[16];
	const char *values[6] = {r->id, tags ? tags : "", slice};
	int			has_inm = tags != NULL;	/* tags is freed before the answer is built */
	int			which = ST_GET_IMAGE;
	PGresult   *res = NULL;
	gw_error	err = {0};
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char		etag[160],
				lastmod[64],
				cache_control[64];
	int			status;
	int			not_modified;

	if (rd->given)
	{
		which = ST_GET_RENDITION;
		values[1] = rd->w[0] ? rd->w : NULL;
		values[2] = rd->h[0] ? rd->h : NULL;
		values[3] = rd->type;
		values[4] = rd->if_blank;
		values[5] = tags ? tags : "";
	}
	/*
	 * Never stale: an image or a rendition is revalidated by its ETag (a
	 * cheap 304) unless --rendition-max-age says otherwise; a URL whose v=
	 * names the bytes (below) is cached for good.
	 */
	if (rd->given && gw.rendition_max_age > 0)
		snprintf(cache_control, sizeof(cache_control), "max-age=%d", gw.rendition_max_age);
	else
		snprintf(cache_control, sizeof(cache_control), "no-cache");
	snprintf(slice, sizeof(slice), "%d", gw.stream_slice);
	/* a Range on an original: answered from slices, whatever the image's size */
	if (!rd->given && r->method == GW_GET && gw.stream_slice > 0 &&
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE) != NULL)
		snprintf(slice, sizeof(slice), "1");

	if (which == ST_GET_RENDITION)
	{
		int			slot = atomic_fetch_add(&renders_in_flight, 1) < render_slots();
		int			probe = 0;
		int			rc;

		if (!slot)
		{
			atomic_fetch_sub(&renders_in_flight, 1);
			/*
			 * Past the slots, as many probes (a cached rendition is served)
			 * as slots, no more: a flood of probes would queue for the very
			 * pool connections plain reads and writes need.
			 */
			probe = atomic_fetch_add(&probes_in_flight, 1) < render_slots();
			if (!probe)
			{
				atomic_fetch_sub(&probes_in_flight, 1);
				free(tags);
				return fail(conn, r, 503, "53000", "all render slots are busy",
							"Retry after a second; originals are served meanwhile.", NULL);
			}
		}
		rc = run_timeout(which, auth, values, NULL, NULL, 1,
						 slot ? gw.statement_timeout_ms : gw.render_probe_ms, &res, &err);
		if (slot)
			atomic_fetch_sub(&renders_in_flight, 1);
		if (probe)
			atomic_fetch_sub(&probes_in_flight, 1);
		if (rc != 0 && !slot && strcmp(err.code, "57014") == 0)
			gw_error_set(&err, 503, "53000", "all render slots are busy", NULL,
						 "Retry after a second; cached renditions and originals are served meanwhile.");
		if (rc != 0)
		{
			free(tags);
			return send_error(conn, r, &err, NULL);
		}
	}
	else if (run(which, auth, values, NULL, NULL, 1, &res, &err) != 0)
	{
		free(tags);
		return send_error(conn, r, &err, NULL);
	}
	free(tags);
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
	{
		PQclear(res);
		return fail_no_image(conn, r);
	}
	snprintf(etag, sizeof(etag), "\"%.*s\"", PQgetlength(res, 0, 1), PQgetvalue(res, 0, 1));
	{
		/*
		 * v= with the first 16 or more hex characters of the image's sha256,
		 * or the whole ETag: a URL that names its bytes may be cached
		 * forever; a v= that names other bytes gets these, revalidated.
		 */
		const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "v");
		size_t		vn = v ? strlen(v) : 0;
		int			elen = PQgetlength(res, 0, 1);
		const char *ev = PQgetvalue(res, 0, 1);

		if (v && ((vn >= 16 && vn <= (size_t) elen && strspn(v, "0123456789abcdef") == vn &&
				   strncmp(ev, v, vn) == 0 && strspn(ev, "0123456789abcdef") >= 64) ||
				  ((int) vn == elen && strcmp(ev, v) == 0)))
			snprintf(cache_control, sizeof(cache_control), "max-age=31536000, immutable");
		else if (v)
			snprintf(cache_control, sizeof(cache_control), "no-cache");
	}
	{
		char		iso[40];

		snprintf(iso, sizeof(iso), "%.*s", PQgetlength(res, 0, 2), PQgetvalue(res, 0, 2));
		http_date(iso, lastmod, sizeof(lastmod));
	}
	/*
	 * If-Modified-Since, when there is no If-None-Match (RFC 9110 13.1.3):
	 * not modified since (HTTP dates have whole seconds: the ETag is the
	 * exact validator, and browsers send it when they have one).
	 */
	{
		const char *ims = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
													  MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
		time_t		since = ims && !has_inm && lastmod[0] ? http_time(ims) : (time_t) -1;
		time_t		modified = since >= 0 ? http_time(lastmod) : (time_t) -1;

		not_modified = since >= 0 && modified >= 0 && modified <= since;
	}
	if (not_modified)
	{
		status = 304;
		resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
	}
	else if (which == ST_GET_IMAGE && strcmp(PQgetvalue(res, 0, 5), "true") == 0)
	{
		uint64_t	size = strtoull(PQgetvalue(res, 0, 4), NULL, 10);
		const char *ctype = NULL;
		char		sha[80];

		uint64_t	first = 0,
					last = size ? size - 1 : 0;
		int			ranged;
		char		ctype_db[64];

		snprintf(sha, sizeof(sha), "%s", PQgetvalue(res, 0, 1));
		snprintf(ctype_db, sizeof(ctype_db), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		res = NULL;
		ranged = r->method == GW_GET
			? parse_range(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE),
						  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_RANGE),
						  etag, size, &first, &last)
			: 0;
		if (ranged < 0)
		{
			char		cr[48];
			struct MHD_Response *e = MHD_create_response_from_buffer(0, (void *) "",
																	 MHD_RESPMEM_PERSISTENT);

			if (e == NULL)
				return MHD_NO;
			snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long) size);
			add_common_headers(e, r);
			MHD_add_response_header(e, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
			MHD_add_response_header(e, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
			ret = queue(conn, r, MHD_HTTP_RANGE_NOT_SATISFIABLE, e);
			r->status = MHD_HTTP_RANGE_NOT_SATISFIABLE;
			r->responded = 1;
			return ret;
		}
		resp = stream_response(r, auth, sha, first, last + 1, &err, &ctype);
		if (resp == NULL)
			return err.status ? send_error(conn, r, &err, NULL) : MHD_NO;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, first == 0 && ctype ? ctype : ctype_db);
		r->bytes_out = (size_t) (last + 1 - first);
		status = 200;
		if (ranged)
		{
			char		cr[80];

			snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long) first,
					 (unsigned long long) last, (unsigned long long) size);
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
			status = MHD_HTTP_PARTIAL_CONTENT;
		}
	}
	else if (PQgetisnull(res, 0, 3))
	{
		status = 304;
		resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
	}
	else
	{
		size_t		n = (size_t) PQgetlength(res, 0, 3);

		/*
		 * Answers held whole (renditions, originals under --stream-slice)
		 * count against --max-held-bytes: slow readers of large renditions
		 * cannot make the gateway hold more (an outside tester held 2.5 GB
		 * with 100 anonymous connections reading 25 MB renditions).
		 */
		if (atomic_fetch_add(&held_bytes, n) + n > (size_t) gw.max_held_bytes && n > 0)
		{
			atomic_fetch_sub(&held_bytes, n);
			PQclear(res);
			return fail(conn, r, 503, "53200", "the gateway holds too many large answers",
						"Retry after a second.", NULL);
		}
		status = 200;
		/* one copy: the result buffer goes to MHD as is, freed with the result */
		resp = MHD_create_response_from_buffer_with_free_callback_cls(n, PQgetvalue(res, 0, 3),
																	   release_held, res);
	}
	if (resp == NULL)
	{
		PQclear(res);
		return MHD_NO;
	}
	if (status == 200 && res != NULL)
	{
		/* our format table names the bytes; no text column of the database does */
		pi_format	f = pi_detect((const uint8_t *) PQgetvalue(res, 0, 3), (size_t) PQgetlength(res, 0, 3));

		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
								f == PI_FORMAT_UNKNOWN ? "application/octet-stream" : pi_format_mime(f));
		r->bytes_out = (size_t) PQgetlength(res, 0, 3);
	}
	add_common_headers(resp, r);
	MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'none'; sandbox");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	if (!rd->given && gw.stream_slice > 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (lastmod[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, lastmod);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache_control);
	ret = MHD_queue_response(conn, (unsigned) status, resp);
	MHD_destroy_response(resp);
	if (status == 304)
		PQclear(res);
	r->status = status;
	r->responded = 1;
	return ret;
}

static enum MHD_Result
handle_save(struct MHD_Connection *conn, gw_request *r, const gw_auth *auth)
{
	const char *values[4] = {NULL, NULL, NULL, NULL};
	int			lengths[4] = {0, 0, 0, 0};
	int			formats[4] = {0, 1, 0, 0};
	PGresult   *res = NULL;
	gw_error	err = {0};
	size_t		len;
	char	   *body;

	if (r->multipart_bad)
		return fail(conn, r, 400, "PGRST102", "malformed multipart body", NULL, NULL);
	if (r->body_len == 0)
		return fail(conn, r, 400, "22004", "Image bitmap is missing from body.", NULL, NULL);
	/*
	 * The bytes decide: a label naming another image type (a PNG named .jpg
	 * by a browser) is not an error; the database refuses what is none of
	 * the four formats (0A000, 415, saying what it looks like).
	 */
	values[0] = r->id;
	values[1] = (const char *) r->body;
	lengths[1] = (int) r->body_len;
	{
		char	   *im = gw_etag_list(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
																	MHD_HTTP_HEADER_IF_MATCH));
		char	   *inm = gw_etag_list(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
																	 MHD_HTTP_HEADER_IF_NONE_MATCH));
		int			rc;

		values[2] = im;
		values[3] = inm;
		rc = run(im || inm ? ST_SAVE_IF : ST_SAVE, auth, values, lengths, formats, 0, &res, &err);
		free(im);
		free(inm);
		if (rc != 0)
			return send_error(conn, r, &err, NULL);
	}
	body = gw_int_body(strtol(PQgetvalue(res, 0, 0), NULL, 10), r->fmt, &len);
	PQclear(res);
	if (body == NULL)
		return MHD_NO;
	return send_buffer(conn, r, 200, ctype_of(r->fmt), body, len, MHD_RESPMEM_MUST_FREE, NULL);
}

static enum MHD_Result
handle_info(struct MHD_Connection *conn, gw_request *r, const gw_auth *auth)
{
	const char *values[2];
	int			lengths[2] = {0, 0};
	int			formats[2] = {0, 0};
	PGresult   *res = NULL;
	gw_error	err = {0};
	int			put = r->method == GW_PUT;
	int			which = put ? (r->fmt == GW_FMT_XML ? ST_PUT_ROWS : ST_PUT_JSON)
		: (r->fmt == GW_FMT_XML ? ST_INFO_ROWS : ST_INFO_JSON);
	char	   *text = NULL;
	enum MHD_Result ret;

	values[0] = r->id;
	if (put)
	{
		if (r->body_len == 0)
			return fail(conn, r, 400, "22023", "ImageInfo is missing from body.", NULL, NULL);
		text = malloc(r->body_len + 1);
		if (text == NULL)
			return MHD_NO;
		memcpy(text, r->body, r->body_len);
		text[r->body_len] = '\0';
		if (strlen(text) != r->body_len)
		{
			free(text);
			return fail(conn, r, 400, "22P02", "ImageInfo body contains a NUL byte", NULL, NULL);
		}
		values[1] = text;
	}
	ret = run(which, auth, values, lengths, formats, 0, &res, &err);
	free(text);
	if (ret != 0)
		return send_error(conn, r, &err, NULL);
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
	{
		PQclear(res);
		return fail_no_image(conn, r);
	}
	if (r->fmt == GW_FMT_XML)
		ret = reply_rows_xml(conn, r, res);
	else
	{
		size_t		n = (size_t) PQgetlength(res, 0, 0);
		char	   *body = malloc(n ? n : 1);

		if (body == NULL)
		{
			PQclear(res);
			return MHD_NO;
		}
		memcpy(body, PQgetvalue(res, 0, 0), n);
		ret = send_buffer(conn, r, 200, ctype_of(r->fmt), body, n, MHD_RESPMEM_MUST_FREE, NULL);
	}
	PQclear(res);
	return ret;
}

static enum MHD_Result
handle_delete(struct MHD_Connection *conn, gw_request *r, const gw_auth *auth)
{
	char	   *im = gw_etag_list(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
																MHD_HTTP_HEADER_IF_MATCH));
	const char *values[2] = {r->id, im};
	PGresult   *res = NULL;
	gw_error	err = {0};
	int			rc = run(im ? ST_DELETE_IF : ST_DELETE, auth, values, NULL, NULL, 0, &res, &err);

	free(im);
	if (rc != 0)
		return send_error(conn, r, &err, NULL);
	PQclear(res);
	return send_buffer(conn, r, 204, NULL, (void *) "", 0, MHD_RESPMEM_PERSISTENT, NULL);
}

static enum MHD_Result
handle_health(struct MHD_Connection *conn, gw_request *r)
{
	gw_auth		none = {0};
	PGresult   *res = NULL;
	gw_error	err = {0};
	static const char ok[] = "{\"status\":\"ok\"}";
	static const char down[] = "{\"status\":\"unavailable\"}";

	if (run(ST_HEALTH, &none, NULL, NULL, NULL, 0, &res, &err) != 0)
	{
		gw_error_free(&err);
		return send_buffer(conn, r, 503, ctype_of(GW_FMT_JSON), (void *) down, sizeof(down) - 1,
						   MHD_RESPMEM_PERSISTENT, NULL);
	}
	PQclear(res);
	return send_buffer(conn, r, 200, ctype_of(GW_FMT_JSON), (void *) ok, sizeof(ok) - 1,
					   MHD_RESPMEM_PERSISTENT, NULL);
}

/* ---- body ---- */

static int
body_append(gw_request *r, const char *data, size_t size)
{
	if (size == 0)
		return 0;
	if (r->body_len + size > gw.max_body)
		return -1;
	if (r->body_len + size > r->body_cap)
	{
		size_t		cap = r->body_cap ? r->body_cap : 65536;
		uint8_t    *nb;

		while (cap < r->body_len + size)
			cap *= 2;
		if (cap > gw.max_body)
			cap = gw.max_body;
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

/* ---- the access handler ---- */

/*
 * Request framing, judged from all the header lines as received (RFC 9112
 * 6.1, 6.3, 5.1, 3.2) before any body byte is read: what a proxy in front
 * could read differently from us is refused, and the connection closed.
 */
typedef struct framing
{
	int			status;			/* 0: fine; 400 or 501 */
	const char *message;
	int			http10;
	int			n_host;
	int			n_auth;
	int			n_te;
	int			n_cl;
	char		cl[24];			/* the first Content-Length, as sent */
} framing;

static int
is_tchar_name(const char *key, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		unsigned char ch = (unsigned char) key[i];

		if (ch <= 0x20 || ch >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", ch))
			return 0;
	}
	return n > 0;
}

/* Is this Transfer-Encoding value exactly "chunked" (any case, optional blanks)? */
static int
te_is_chunked(const char *v)
{
	size_t		n;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return n == 7 && strncasecmp(v, "chunked", 7) == 0;
}

static enum MHD_Result
framing_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
			   const char *value, size_t value_size)
{
	framing    *f = cls;

	(void) kind;
	if (f->status)
		return MHD_NO;
	if (!is_tchar_name(key, key_size) || (value && strlen(value) != value_size))
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
	if (strcasecmp(key, "Host") == 0)
		f->n_host++;
	else if (strcasecmp(key, "Transfer-Encoding") == 0)
	{
		f->n_te++;
		if (!te_is_chunked(value ? value : ""))
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

static void
check_framing(struct MHD_Connection *conn, const char *version, framing *f)
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

/*
 * Authenticate from the headers, and for a request with a body ask the
 * database whether its role may call the function at all, all before a body
 * byte is read (and before libmicrohttpd sends 100 Continue, which it does
 * only when this first call queued no answer).
 */
static enum MHD_Result
authorize(struct MHD_Connection *conn, gw_request *r)
{
	gw_error	err = {0};
	const char *fn;
	const char *values[1];
	PGresult   *res = NULL;
	int			may;

	if (gw_authenticate(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
													MHD_HTTP_HEADER_AUTHORIZATION), &r->auth, &err) != 0)
		return send_error(conn, r, &err, NULL);
	r->authed = 1;
	/*
	 * A write that relies on ambient credentials (Basic, which a browser
	 * resends by itself, or the anonymous role) from another site is a
	 * cross-site request forgery: refused before its body is read.  A Bearer
	 * token is sent by the page's own code, so it is no ambient credential.
	 */
	if ((r->method == GW_PUT || r->method == GW_POST || r->method == GW_DELETE) &&
		r->auth.claims == NULL && cross_site(conn))
	{
		gw_error_set(&err, 403, "42501", "a write from another site needs a Bearer token",
					 "Its origin is neither this gateway's nor one of --cors-origins.", NULL);
		return send_error(conn, r, &err, NULL);
	}
	if (r->method != GW_PUT && r->method != GW_POST)
		return MHD_YES;
	fn = r->route.resource == GW_RES_IMAGE_INFO ? "product_image.product_put_image_info(integer, jsonb)"
		: "product_image.product_save_image(integer, bytea)";
	values[0] = fn;
	if (run(ST_MAY_CALL, &r->auth, values, NULL, NULL, 0, &res, &err) != 0)
		return send_error(conn, r, &err, NULL);
	may = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!may)
	{
		gw_error_set(&err, gw_status_for_sqlstate("42501", r->auth.had_credentials), "42501",
					 "permission denied", NULL, NULL);
		return send_error(conn, r, &err, NULL);
	}
	return MHD_YES;
}

/*
 * OPTIONS: 204 with Allow; a CORS preflight from an allowed origin also gets
 * the methods, the request headers a client may send, and a max age.
 * Answered before authentication: a preflight carries no credentials.
 */
static enum MHD_Result
answer_options(struct MHD_Connection *conn, gw_request *r)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	add_common_headers(resp, r);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->route.allow);
	if (r->cors && MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Access-Control-Request-Method"))
	{
		MHD_add_response_header(resp, "Access-Control-Allow-Methods", r->route.allow);
		MHD_add_response_header(resp, "Access-Control-Allow-Headers",
								"Authorization, Content-Type, Accept, Accept-Language, SO-Language, "
								"SO-Culture, SO-TimeZone, SO-AppToken, X-XSRF-TOKEN, If-Match, "
								"If-None-Match, If-Modified-Since, Range");
		MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	}
	ret = queue(conn, r, MHD_HTTP_NO_CONTENT, resp);
	r->status = MHD_HTTP_NO_CONTENT;
	r->responded = 1;
	return ret;
}

static enum MHD_Result
first_call(struct MHD_Connection *conn, gw_request *r, const char *url, const char *version)
{
	const char *cl;
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	framing		fr;

	check_framing(conn, version, &fr);
	if (fr.status)
	{
		r->close = 1;
		return fail(conn, r, fr.status, fr.status == 501 ? "PGRST501" : "PGRST400", fr.message,
					NULL, NULL);
	}
	r->has_body = fr.n_te > 0 || (fr.n_cl > 0 && strspn(fr.cl, "0") != strlen(fr.cl));
	gw_parse_route(r->method, url, &r->route);
	snprintf(r->id, sizeof(r->id), "%d", r->route.product_id);
	r->fmt = gw_negotiate(accept);
	{
		const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");

		r->cors = cors_allows(origin);
		if (r->cors == 1 && strlen(origin) < sizeof(r->origin))
			snprintf(r->origin, sizeof(r->origin), "%s", origin);
		else if (r->cors == 1)
			r->cors = 0;
	}

	if (atomic_load(&gw_open_connections) > gw.max_connections)
		return fail(conn, r, 503, "PGRST503", "too many connections", NULL, NULL);
	if (r->route.resource == GW_RES_NONE)
		return fail(conn, r, 404, "PGRST125", "no such route", NULL, NULL);
	if (!r->route.method_allowed)
		return fail(conn, r, 405, "PGRST117", "method not allowed", NULL, r->route.allow);
	if (r->route.bad_id)
		return fail(conn, r, 400, "22P02", "productId must be a 32-bit integer", NULL, NULL);
	if (r->method == GW_OPTIONS)
		return answer_options(conn, r);
	if (r->route.resource == GW_RES_IMAGE && (r->method == GW_GET || r->method == GW_HEAD))
	{
		const char *bad = NULL;

		if (gw_parse_rendition(MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "w"),
							   MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "h"),
							   MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "type"),
							   MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "ifBlank"),
							   &r->rendition, &bad) != 0)
		{
			char		msg[64];

			snprintf(msg, sizeof(msg), "invalid %s", bad);
			return fail(conn, r, 400, "22023", msg, "w and h are whole numbers from 1.", NULL);
		}
		/* Accept: image/png and the like choose the type when the query does not */
		if (r->rendition.type == NULL &&
			(r->rendition.type = gw_accept_image_type(accept)) != NULL)
			r->rendition.given = 1;
	}
	/* image bytes need no negotiation; everything else answers JSON or XML */
	if (r->fmt == GW_FMT_NONE &&
		!(r->route.resource == GW_RES_IMAGE && (r->method == GW_GET || r->method == GW_HEAD ||
												r->method == GW_DELETE)) &&
		r->route.resource != GW_RES_HEALTH)
	{
		r->fmt = GW_FMT_JSON;
		return fail(conn, r, 406, "PGRST107", "none of the Accept media types can be produced",
					"Available: application/json, text/json, application/xml, text/xml.", NULL);
	}
	if (r->fmt == GW_FMT_NONE)
		r->fmt = GW_FMT_JSON;

	/* GET, HEAD, DELETE take no body: refused before a byte of it is read */
	if (r->has_body && r->method != GW_PUT && r->method != GW_POST)
		return fail(conn, r, 400, "PGRST400", "this method takes no request body", NULL, NULL);

	if (r->method == GW_PUT || r->method == GW_POST)
	{
		const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
													 MHD_HTTP_HEADER_CONTENT_TYPE);

		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > gw.max_body)
		{
			char		msg[96];

			snprintf(msg, sizeof(msg), "the body is larger than %zu bytes", gw.max_body);
			return fail(conn, r, 413, "54000", msg, NULL, NULL);
		}
		r->body_kind = gw_body_kind_of(ct, &r->declared);
		/*
		 * Whatever the label says (curl's and HTML forms'
		 * application/x-www-form-urlencoded, text/plain, none): an ImageInfo
		 * body is parsed as JSON (22P02 when it is not), an image body is
		 * judged by its bytes.  Only multipart is read as multipart.
		 */
		if (r->route.resource == GW_RES_IMAGE_INFO)
			r->body_kind = GW_BODY_JSON;
		else if (r->body_kind != GW_BODY_MULTIPART)
			r->body_kind = GW_BODY_RAW;
		if (r->body_kind == GW_BODY_MULTIPART)
		{
			r->pp = MHD_create_post_processor(conn, 65536, multipart_part, r);
			multipart_close_init(r, ct);
			if (r->pp == NULL)
				return fail(conn, r, 400, "PGRST102", "malformed multipart Content-Type",
							"The boundary parameter is missing or invalid.", NULL);
		}
	}
	if (r->route.resource == GW_RES_HEALTH)
		return MHD_YES;
	return authorize(conn, r);
}

enum MHD_Result
gw_access_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size,
				  void **con_cls)
{
	gw_request *r = *con_cls;
	enum MHD_Result ret;

	(void) cls;
	if (r == NULL)
	{
		r = calloc(1, sizeof(*r));
		if (r == NULL)
			return MHD_NO;
		*con_cls = r;
		atomic_fetch_add(&gw_active_requests, 1);
		clock_gettime(CLOCK_MONOTONIC, &r->start);
		r->method = gw_parse_method(method);
		r->method_name = strdup(method);
		r->path = strdup(url);
		set_phase(conn, PHASE_BUSY);
		r->in_first_call = 1;
		ret = first_call(conn, r, url, version);
		r->in_first_call = 0;
		/* a body to read: the watchdog now checks its rate */
		if (ret == MHD_YES && !r->responded && r->has_body)
			set_phase(conn, PHASE_BODY);
		return ret;
	}
	if (r->responded)
	{
		*upload_size = 0;
		if (r->pending)
		{
			struct MHD_Response *resp = r->pending;

			r->pending = NULL;
			ret = MHD_queue_response(conn, r->pending_status, resp);
			MHD_destroy_response(resp);
			return ret;
		}
		return MHD_YES;
	}
	if (*upload_size > 0)
	{
		size_t		n = *upload_size;

		r->bytes_in += n;
		*upload_size = 0;
		{
			gw_conn_ctx *c = conn_ctx(conn);

			if (c)
				atomic_fetch_add(&c->body_bytes, n);
		}
		if (r->bytes_in > gw.max_body)
		{
			char		msg[96];

			snprintf(msg, sizeof(msg), "the body is larger than %zu bytes", gw.max_body);
			if (fail(conn, r, 413, "54000", msg, NULL, NULL) != MHD_YES)
				return MHD_NO;	/* cannot answer mid-body: close the connection */
			return MHD_YES;
		}
		if (r->pp)
		{
			size_t		keep = multipart_before_epilogue(r, upload_data, n);

			if (!r->multipart_bad && keep > 0 && MHD_post_process(r->pp, upload_data, keep) != MHD_YES)
				r->multipart_bad = 1;
		}
		else if (body_append(r, upload_data, n) != 0)
			return MHD_NO;
		return MHD_YES;
	}

	/* the whole request is here */
	r->body_done = 1;
	set_phase(conn, PHASE_BUSY);
	if (r->pp && r->parts > 1 && r->part_state != 2)
		r->body_len = 0;		/* several parts, none a file */
	if (r->route.resource == GW_RES_HEALTH)
		return handle_health(conn, r);
	if (!r->authed)
		return MHD_NO;			/* cannot happen: the first call authenticated */
	if (r->route.resource == GW_RES_IMAGE_INFO)
		ret = handle_info(conn, r, &r->auth);
	else if (r->method == GW_PUT || r->method == GW_POST)
		ret = handle_save(conn, r, &r->auth);
	else if (r->method == GW_DELETE)
		ret = handle_delete(conn, r, &r->auth);
	else
		ret = handle_get_image(conn, r, &r->auth);
	return ret;
}

/*
 * A field of the access log as printable ASCII: control characters, space,
 * backslash, DEL and every non-ASCII byte as \xNN, so a path can neither
 * forge a line nor reach the terminal.
 */
static char *
log_escape(const char *s)
{
	char	   *out = malloc(4 * strlen(s) + 1),
			   *o = out;

	if (out == NULL)
		return NULL;
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
			o += sprintf(o, "\\x%02x", *p);
		else
			*o++ = (char) *p;
	}
	*o = '\0';
	return out;
}

void
gw_request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
					 enum MHD_RequestTerminationCode toe)
{
	gw_request *r = *con_cls;
	struct timespec end;
	double		ms;
	(void) cls;
	if (r == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &end);
	ms = (double) (end.tv_sec - r->start.tv_sec) * 1000.0 +
		(double) (end.tv_nsec - r->start.tv_nsec) / 1e6;
	if (!gw.quiet)
	{
		char	   *m = log_escape(r->method_name ? r->method_name : "-");
		char	   *p = log_escape(r->path ? r->path : "-");

		fprintf(stderr, "%s %s %d %zu %zu %.1fms%s\n", m ? m : "?", p ? p : "?",
				r->status, r->bytes_in, r->bytes_out, ms,
				toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
		free(m);
		free(p);
	}
	if (r->pp)
		MHD_destroy_post_processor(r->pp);
	free(r->body);
	free(r->path);
	free(r->method_name);
	free(r->part_key);
	if (r->pending)
		MHD_destroy_response(r->pending);
	free(r->part_type);
	gw_auth_free(&r->auth);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&gw_active_requests, 1);
	/* the next request's head starts now */
	set_phase(conn, PHASE_HEAD);
}

size_t
gw_unescape_callback(void *cls, struct MHD_Connection *conn, char *s)
{
	(void) cls;
	(void) conn;
	return gw_unescape(s);
}

void
gw_connection_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
					 enum MHD_ConnectionNotificationCode toe)
{
	(void) cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
	{
		gw_conn_ctx *c = calloc(1, sizeof(*c));
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
																	 MHD_CONNECTION_INFO_CONNECTION_FD);

		atomic_fetch_add(&gw_open_connections, 1);
		if (c == NULL || ci == NULL)
		{
			free(c);
			*socket_context = NULL;
			return;
		}
		c->fd = ci->connect_fd;
		atomic_store(&c->phase, PHASE_HEAD);
		atomic_store(&c->since_ms, now_ms());
		pthread_mutex_lock(&ctx_lock);
		c->next = ctx_head;
		if (ctx_head)
			ctx_head->prev = c;
		ctx_head = c;
		pthread_mutex_unlock(&ctx_lock);
		*socket_context = c;
	}
	else
	{
		gw_conn_ctx *c = *socket_context;

		atomic_fetch_sub(&gw_open_connections, 1);
		if (c == NULL)
			return;
		/* before libmicrohttpd closes the fd: the watchdog never sees it again */
		pthread_mutex_lock(&ctx_lock);
		if (c->prev)
			c->prev->next = c->next;
		else
			ctx_head = c->next;
		if (c->next)
			c->next->prev = c->prev;
		pthread_mutex_unlock(&ctx_lock);
		free(c);
		*socket_context = NULL;
	}
}
