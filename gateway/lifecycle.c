/*
 * lifecycle.c
 *		libmicrohttpd's callbacks: a connection opens and closes (and the
 *		watchdog enforces the head deadline and the body rate), a request's
 *		first call judges its head (framing, route, negotiation,
 *		authentication, the right to call the write) before any body byte,
 *		the body is taken in chunk by chunk, the last call runs the route's
 *		handler, and one log line is written when the request completes.
 */
#include "lifecycle.h"
#include "resources.h"
#include "call.h"

#include <ctype.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

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
	atomic_store(&c->since_ms, gw_now_ms());
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
		int64_t		now = gw_now_ms(),
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

static int
unsafe(const gw_request *r)
{
	return r->method == GW_PUT || r->method == GW_POST || r->method == GW_DELETE;
}

/* Credentials a browser sends by itself: Basic, the session cookie, none (the anonymous role). */
static int
ambient(const gw_auth *a)
{
	return a->claims == NULL && (a->session == NULL || a->cookie);
}

/*
 * A cookie session's unsafe request carries the session's XSRF token as
 * X-XSRF-TOKEN, or (an HTML form) as the multipart field
 * __RequestVerificationToken, checked once the body is read.
 */
static int
xsrf_refused(struct MHD_Connection *conn, gw_request *r)
{
	const char *header = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-XSRF-TOKEN");

	if (!r->auth.cookie)
		return 0;
	if (header != NULL)
		return !gw_xsrf_ok(r->auth.session, header);
	if (r->body_kind == GW_BODY_MULTIPART)
	{
		r->xsrf_from_form = 1;
		return 0;
	}
	return 1;
}

/* The request's headers as PostgREST passes them (request.headers): JSON, lower-case names. */
static enum MHD_Result
add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	json_t	   *o = cls;
	char		name[128];
	size_t		n = strlen(key);

	(void) kind;
	if (n >= sizeof(name) || value == NULL)
		return MHD_YES;
	for (size_t i = 0; i <= n; i++)
		name[i] = (char) tolower((unsigned char) key[i]);
	/* credentials stay out of reach of SQL: they are the gateway's to check */
	if (strcmp(name, "authorization") == 0 || strcmp(name, "cookie") == 0)
		return MHD_YES;
	{
		json_t	   *v = json_string(value);	/* NULL for bytes that are not UTF-8: left out */

		if (v != NULL)
			json_object_set_new(o, name, v);
	}
	return MHD_YES;
}

static enum MHD_Result
count_sessions(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void) kind;
	(void) value;
	if (strcmp(key, "pi_session") == 0)
		(*(int *) cls)++;
	return MHD_YES;
}

/*
 * Who the request is (Authorization, else the pi_session cookie, else the
 * anonymous role) and its context for the database: its headers and
 * SO-TimeZone.  0, or -1 with err (401).
 */
static int
authenticate(struct MHD_Connection *conn, gw_request *r, gw_error *err)
{
	const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *tz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "SO-TimeZone");
	char	   *password = NULL;
	char	   *user = authz && strncasecmp(authz, "Basic ", 6) == 0
		? MHD_basic_auth_get_username_password(conn, &password) : NULL;
	int			sessions = 0;
	int			rc;

	/*
	 * One pi_session cookie or none: a browser sends a narrower Path's cookie
	 * first, so one planted by a sibling site (Path=/api) would win over the
	 * login's own (session fixation, found by an outside tester).
	 */
	if (authz == NULL)
		MHD_get_connection_values(conn, MHD_COOKIE_KIND, count_sessions, &sessions);
	if (sessions > 1)
	{
		MHD_free(user);
		MHD_free(password);
		gw_error_set(err, 401, "28000", "more than one session cookie", NULL, NULL);
		return -1;
	}
	rc = gw_authenticate(authz, user, password,
						 MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "pi_session"), &r->auth, err);
	json_t	   *headers;

	if (password)
		explicit_bzero(password, strlen(password));
	MHD_free(user);
	MHD_free(password);
	if (rc != 0)
		return -1;
	r->authed = 1;
	if (tz != NULL && *tz != '\0' && (r->auth.timezone = strdup(tz)) == NULL)
		return -1;
	if ((headers = json_object()) != NULL)
	{
		MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header, headers);
		r->auth.headers = json_dumps(headers, JSON_COMPACT);
		json_decref(headers);
	}
	return 0;
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

	if (authenticate(conn, r, &err) != 0)
		return gw_send_error(conn, r, &err, NULL);
	if (unsafe(r) && ambient(&r->auth))
	{
		/*
		 * A write that relies on ambient credentials (Basic or the session
		 * cookie, which a browser resends by itself, or the anonymous role)
		 * from another site is a cross-site request forgery: refused before
		 * its body is read.  A Bearer token or a SoTicket is sent by the
		 * page's own code, so it is no ambient credential.
		 */
		if (gw_cross_site(gw.cors_origins, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"),
						  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
						  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site")))
		{
			gw_error_set(&err, 403, "42501", "a write from another site needs a Bearer token",
						 "Its origin is neither this gateway's nor one of --cors-origins.", NULL);
			return gw_send_error(conn, r, &err, NULL);
		}
		if (xsrf_refused(conn, r))
			return gw_fail(conn, r, 403, "42501", "the XSRF token is missing or does not match",
						   "Send the XSRF-TOKEN cookie's value as X-XSRF-TOKEN, or as the form field "
						   "__RequestVerificationToken.", NULL);
	}
	if (r->method != GW_PUT && r->method != GW_POST)
		return MHD_YES;
	fn = r->route.def->write_function;
	if (fn == NULL)
		return MHD_YES;
	values[0] = fn;
	if (gw_call(&gw_statements[ST_MAY_CALL], &r->auth, values, NULL, NULL, 0, &res, &err) != 0)
		return gw_send_error(conn, r, &err, NULL);
	may = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!may)
	{
		gw_error_set(&err, gw_status_for_sqlstate("42501", r->auth.had_credentials), "42501",
					 "permission denied", NULL, NULL);
		return gw_send_error(conn, r, &err, NULL);
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
	gw_add_common_headers(resp, r);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->route.def->allow);
	if (r->cors && MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Access-Control-Request-Method"))
	{
		MHD_add_response_header(resp, "Access-Control-Allow-Methods", r->route.def->allow);
		MHD_add_response_header(resp, "Access-Control-Allow-Headers",
								"Authorization, Content-Type, Accept, Accept-Language, SO-Language, "
								"SO-Culture, SO-TimeZone, SO-AppToken, X-XSRF-TOKEN, If-Match, "
								"If-None-Match, If-Modified-Since, Range");
		MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	}
	ret = gw_queue(conn, r, MHD_HTTP_NO_CONTENT, resp);
	r->status = MHD_HTTP_NO_CONTENT;
	r->responded = 1;
	return ret;
}

static enum MHD_Result
first_call(struct MHD_Connection *conn, gw_request *r, const char *url, const char *version)
{
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	const gw_route_def *def;
	gw_framing	fr;

	gw_check_framing(conn, version, &fr);
	if (fr.status)
	{
		r->close = 1;
		return gw_fail(conn, r, fr.status, fr.status == 501 ? "PGRST501" : "PGRST400", fr.message,
					   NULL, NULL);
	}
	r->has_body = fr.n_te > 0 || (fr.n_cl > 0 && strspn(fr.cl, "0") != strlen(fr.cl));
	/* --hosts: a page of another name (DNS rebinding) is not served */
	if (!gw_host_allowed(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST)))
		return gw_fail(conn, r, 421, "PGRST421", "this gateway does not answer for that host",
					   "Its --hosts names the hosts it serves.", NULL);
	gw_find_route(r->method, url, &r->route);
	def = r->route.def;
	r->max_body = def && def->max_body ? def->max_body : gw.max_body;
	snprintf(r->id, sizeof(r->id), "%d", r->route.product_id);
	r->fmt = gw_negotiate(accept);
	{
		const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");

		r->cors = gw_origin_listed(gw.cors_origins, origin);
		if (r->cors == 1 && strlen(origin) < sizeof(r->origin))
			snprintf(r->origin, sizeof(r->origin), "%s", origin);
		else if (r->cors == 1)
			r->cors = 0;
	}

	r->lang = gw_language(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "SO-Language"),
						  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
	if (atomic_load(&gw_open_connections) > gw.max_connections)
		return gw_fail(conn, r, 503, "PGRST503", "too many connections", NULL, NULL);
	if (def == NULL)
		return gw_fail(conn, r, 404, "PGRST125", "no such route", NULL, NULL);
	if (r->route.handler == NULL && r->method != GW_OPTIONS)
		return gw_fail(conn, r, 405, "PGRST117", "method not allowed", NULL, def->allow);
	if (r->route.bad_id)
		return gw_fail(conn, r, 400, "22P02", "productId must be a 32-bit integer", NULL, NULL);
	if (r->method == GW_OPTIONS)
		return answer_options(conn, r);
	/* --app-tokens: the application must be one of those listed */
	if (!def->public_route &&
		!gw_app_token_ok(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "SO-AppToken")))
		return gw_fail(conn, r, 401, "PGRST301", "a listed SO-AppToken is required", NULL, NULL);
	if (def->head_check && (def->head_check(conn, r) != MHD_YES || r->responded))
		return r->responded ? MHD_YES : MHD_NO;
	/* image bytes need no negotiation; everything else answers JSON or XML */
	if (r->fmt == GW_FMT_NONE &&
		!(def->bytes && (r->method == GW_GET || r->method == GW_HEAD || r->method == GW_DELETE)))
	{
		r->fmt = GW_FMT_JSON;
		return gw_fail(conn, r, 406, "PGRST107", "none of the Accept media types can be produced",
					   "Available: application/json, text/json, application/xml, text/xml.", NULL);
	}
	if (r->fmt == GW_FMT_NONE)
		r->fmt = GW_FMT_JSON;

	/* GET, HEAD, DELETE take no body: refused before a byte of it is read */
	if (r->has_body && r->method != GW_PUT && r->method != GW_POST)
		return gw_fail(conn, r, 400, "PGRST400", "this method takes no request body", NULL, NULL);

	if (r->method == GW_PUT || r->method == GW_POST)
	{
		const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

		if (cl != NULL && strtoull(cl, NULL, 10) > r->max_body)
		{
			char		msg[96];

			snprintf(msg, sizeof(msg), "the body is larger than %zu bytes", r->max_body);
			return gw_fail(conn, r, 413, "54000", msg, NULL, NULL);
		}
		r->body_kind = gw_body_kind_of(ct, &r->declared);
		/*
		 * Whatever the label says (curl's and HTML forms'
		 * application/x-www-form-urlencoded, text/plain, none): a JSON body
		 * is parsed as JSON (22P02 when it is not), an image body is judged
		 * by its bytes.  Only multipart is read as multipart.
		 */
		if (def->body == GW_BODY_JSON)
			r->body_kind = GW_BODY_JSON;
		else if (r->body_kind != GW_BODY_MULTIPART)
			r->body_kind = GW_BODY_RAW;
		if (gw_intake_begin(conn, r, ct) != 0)
			return gw_fail(conn, r, 400, "PGRST102", "malformed multipart Content-Type",
						   "The boundary parameter is missing or invalid.", NULL);
	}
	if (def->public_route)
		return MHD_YES;
	if (def->login && r->method == GW_POST)
	{
		/* no credentials yet; a login from another site is refused (login CSRF) */
		if (gw_cross_site(gw.cors_origins, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"),
						  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
						  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site")))
			return gw_fail(conn, r, 403, "42501", "a login from another site is refused",
						   "Its origin is neither this gateway's nor one of --cors-origins.", NULL);
		r->authed = 1;
		return MHD_YES;
	}
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
		{
			/* SO-AppToken: which application asked, for the access log */
			const char *app = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "SO-AppToken");

			if (app != NULL && *app != '\0')
				r->app_token = strndup(app, 128);
		}
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
		if (r->bytes_in > r->max_body)
		{
			char		msg[96];

			snprintf(msg, sizeof(msg), "the body is larger than %zu bytes", r->max_body);
			if (gw_fail(conn, r, 413, "54000", msg, NULL, NULL) != MHD_YES)
				return MHD_NO;	/* cannot answer mid-body: close the connection */
			return MHD_YES;
		}
		return gw_intake_chunk(r, upload_data, n) == 0 ? MHD_YES : MHD_NO;
	}

	/* the whole request is here */
	r->body_done = 1;
	set_phase(conn, PHASE_BUSY);
	gw_intake_end(r);
	if (!r->authed && !r->route.def->public_route)
		return MHD_NO;			/* cannot happen: the first call authenticated */
	if (r->xsrf_from_form && !gw_xsrf_ok(r->auth.session, r->form_xsrf))
		return gw_fail(conn, r, 403, "42501", "the XSRF token is missing or does not match",
					   "Send the XSRF-TOKEN cookie's value as X-XSRF-TOKEN, or as the form field "
					   "__RequestVerificationToken.", NULL);
	return r->route.handler(conn, r);
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

		char	   *app = r->app_token ? log_escape(r->app_token) : NULL;

		fprintf(stderr, "%s %s %d %zu %zu %.1fms%s%s%s\n", m ? m : "?", p ? p : "?",
				r->status, r->bytes_in, r->bytes_out, ms,
				toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)",
				app ? " app=" : "", app ? app : "");
		free(m);
		free(p);
		free(app);
	}
	gw_intake_free(r);
	gw_reply_free(r);
	free(r->app_token);
	free(r->path);
	free(r->method_name);
	if (r->pending)
		MHD_destroy_response(r->pending);
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
		atomic_store(&c->since_ms, gw_now_ms());
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
