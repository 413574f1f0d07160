/*
 * gateway.h
 *		product-image-gateway: SuperOffice's Product Image routes over HTTP,
 *		mapped onto the product_image SQL functions.  No business rule lives
 *		here: HTTP in, SQL function call, SQLSTATE to status code out.
 */
#ifndef PI_GATEWAY_H
#define PI_GATEWAY_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

/* ---- settings (main.c) ---- */
typedef struct gw_config
{
	const char *db_uri;
	const char *listen_host;
	int			listen_port;
	const char *jwt_secret;
	const char *anon_role;
	size_t		max_body;
	int			pool_size;
	int			threads;
	int			max_connections;
	int			timeout_seconds;
	int			head_timeout_seconds;	/* whole request head, from open or the last answer */
	int			min_body_rate;	/* bytes a second, averaged, after head_timeout_seconds */
	int			statement_timeout_ms;	/* per request transaction; 0: none */
	int			render_slots;	/* rendition calls at full timeout; 0: pool / 4, at least 1 */
	int			stream_slice;	/* originals larger than this are streamed in slices; 0: never */
	int			rendition_max_age;	/* Cache-Control max-age of renditions, seconds */
	const char *read_db_uri;	/* streaming replica for GET routes, or NULL */
	int			read_max_lag_ms;	/* replica further behind: read the primary */
	int			read_own_writes_ms;	/* after a write, that product reads the primary */
	long		max_held_bytes;	/* whole answers queued at once, all connections */
	const char *cors_origins;	/* origins browsers may call us from ("*": any), or NULL */
	const char *session_secret; /* signs session cookies, or NULL: no sessions */
	int			session_ttl;	/* seconds a session lasts */
	const char *app_tokens_file;	/* --app-tokens, or NULL */
	const char *locale_dir;		/* message catalogs, or NULL: beside the executable */
	const char *hosts;			/* Host names served ("*": any), or NULL: by the listen address */
	int			fast_path;		/* behind a PL/Proxy node: requests go straight to their partition */
	int			quiet;			/* no request log (the fuzz target) */
} gw_config;

extern gw_config gw;

/* A monotonic clock in milliseconds (config.c). */
extern int64_t gw_now_ms(void);
/* Read --app-tokens (one a line, # comments): 0, or -1 (config.c). */
extern int	gw_load_app_tokens(const char *path);
/*
 * May a request name this Host (its name, without the port)?  --hosts, or
 * by default: the loopback names when listening on loopback, else any.
 */
extern int	gw_host_allowed(const char *host);
/* Is this SO-AppToken listed (always, without --app-tokens)? */
extern int	gw_app_token_ok(const char *token);

/* ---- pure HTTP parsers (http_parse.c): functions of strings, no socket ---- */
typedef enum gw_method
{
	GW_GET, GW_HEAD, GW_PUT, GW_POST, GW_DELETE, GW_OPTIONS, GW_OTHER
} gw_method;

typedef enum gw_format
{
	GW_FMT_JSON = 0,
	GW_FMT_XML,
	GW_FMT_NONE					/* nothing acceptable: 406 */
} gw_format;

extern gw_method gw_parse_method(const char *method);
/*
 * Does path match pattern?  Segments compare without regard to case (ASP.NET's
 * routes do not care); "{id}" matches any segment, parsed as an int32 into
 * *id (*bad_id when it is none).  1 on a match.
 */
extern int	gw_match_path(const char *pattern, const char *path, int32_t *id, int *bad_id);
extern gw_format gw_negotiate(const char *accept);
/* Percent-decoding of the path and query (MHD_OPTION_UNESCAPE_CALLBACK). */
extern size_t gw_unescape(char *s);
extern const char *gw_accept_image_type(const char *accept);

/* GET Image's rendition parameters, as SQL parameter text (empty: not given). */
typedef struct gw_rendition
{
	char		w[10];			/* up to 9 digits: fits an int */
	char		h[10];
	const char *type;			/* as sent, Accept's "JPEG"/"PNG"/"GIF", or NULL */
	const char *if_blank;		/* as sent, or NULL */
	int			given;			/* any of them */
} gw_rendition;

extern int	gw_parse_rendition(const char *w, const char *h, const char *type,
							   const char *if_blank, gw_rendition *out, const char **bad);

typedef enum gw_body_kind
{
	GW_BODY_RAW = 0,			/* image bytes as the body */
	GW_BODY_MULTIPART,
	GW_BODY_JSON,
	GW_BODY_UNSUPPORTED
} gw_body_kind;

/* Classify a Content-Type; *declared gets "image/png" etc. when it names one. */
extern gw_body_kind gw_body_kind_of(const char *content_type, const char **declared);

/* If-None-Match as a comma-separated list of bare tags, "*", or NULL (malloc'd). */
extern char *gw_etag_list(const char *if_none_match);

/*
 * One byte range of a representation of size bytes, honoured only when
 * If-Range is absent or is this (quoted) ETag: 1 with [*first, *last], 0
 * for a whole answer, -1 when it cannot be satisfied (416).
 */
extern int	gw_parse_range(const char *range, const char *if_range, const char *etag,
						   uint64_t size, uint64_t *first, uint64_t *last);
/* An HTTP-date (IMF-fixdate) as seconds since the epoch, or -1. */
extern int64_t gw_http_time(const char *s);
/* Seconds since the epoch as an IMF-fixdate. */
extern void gw_http_date(int64_t t, char *out, size_t outlen);
/* Is origin in the comma-separated list?  1 listed, 2 by "*", 0 not. */
extern int	gw_origin_listed(const char *list, const char *origin);
/*
 * Is this a request from another site (CSRF)?  Judged by Origin against our
 * own scheme://Host and the listed origins, else by Sec-Fetch-Site.
 */
extern int	gw_cross_site(const char *list, const char *origin, const char *host,
						  const char *sec_fetch_site);
/* Is this a header field name of tchars (RFC 9110 5.1)? */
extern int	gw_is_token(const char *s, size_t n);
/* Is this Transfer-Encoding value exactly "chunked" (any case, optional blanks)? */
extern int	gw_te_is_chunked(const char *v);

/*
 * Where a multipart body's close delimiter ends (RFC 2046: what follows is an
 * epilogue, ignored), found across chunks with KMP.
 */
typedef struct gw_epilogue
{
	char		close[80];		/* "\r\n--BOUNDARY--" */
	int			fail[80];		/* its KMP failure table */
	int			len;			/* 0: no boundary known: nothing is cut */
	int			match;			/* bytes of close matched so far */
	int			done;			/* the close delimiter was read */
} gw_epilogue;

extern void gw_epilogue_init(gw_epilogue *e, const char *content_type);
/* How many of these n bytes belong before the epilogue. */
extern size_t gw_epilogue_cut(gw_epilogue *e, const char *data, size_t n);

/* ---- files embedded at build time (assets.c, written by embed.py) ---- */
typedef struct gw_asset
{
	const char *path;			/* "/page.js" */
	const char *content_type;
	const unsigned char *data;
	size_t		len;
} gw_asset;

extern const gw_asset gw_assets[];	/* ends with a NULL path */

/* ---- languages (i18n.c): gettext catalogs, one text domain per language ---- */

/* Find the catalogs in dir (DIR/C.UTF-8/LC_MESSAGES/product-image-gateway.LANG.mo): 0, or -1. */
extern int	gw_i18n_init(const char *dir);
/* The language to answer in: SO-Language's when we have it, else Accept-Language's best, else "en". */
extern const char *gw_language(const char *so_language, const char *accept_language);
/* msgid in lang (itself when there is no translation). */
extern const char *gw_tr(const char *lang, const char *msgid);

/* ---- session tokens (session.c): HMAC-SHA256 with --session-secret ---- */

/* "ID.SIGNATURE" for a session id (a UUID): the pi_session cookie and the SoTicket ticket. */
extern int	gw_session_sign(const char *id, char *out, size_t outlen);
/* The session id of a signed value whose signature holds: 0, or -1. */
extern int	gw_session_verify(const char *value, char id[37]);
/* The XSRF token of a session (43 characters). */
extern int	gw_xsrf_token(const char *id, char out[44]);
/* Is token the session's XSRF token (compared in constant time)? */
extern int	gw_xsrf_ok(const char *id, const char *token);

/* ---- errors (error.c): the SQLSTATE table and the bodies of errors ---- */
typedef struct gw_error
{
	int			status;
	char		code[16];		/* SQLSTATE, or PGRSTnnn for gateway errors */
	char	   *message;
	char	   *details;
	char	   *hint;
} gw_error;

extern int	gw_status_for_sqlstate(const char *sqlstate, int had_credentials);
extern char *gw_error_body(const gw_error *err, gw_format fmt, size_t *len);
extern char *gw_int_body(long value, gw_format fmt, size_t *len);
extern void gw_error_set(gw_error *err, int status, const char *code, const char *message,
						 const char *details, const char *hint);
extern void gw_error_free(gw_error *err);
extern char *gw_xml_escape(const char *s);

/* ---- database (db.c) ---- */

/* The longest password a login may send (SCRAM's cost grows with it). */
#define GW_MAX_PASSWORD 1024
typedef struct gw_conn gw_conn;

extern int	gw_pool_init(void);
extern void gw_pool_shutdown(void);
/* user/password NULL: the authenticator from --db-uri; else a Basic login. */
extern gw_conn *gw_pool_acquire(const char *user, const char *password, int replica,
								 gw_error *err);
/* Where a connection goes: the primary, the replica, or partition k (GW_TARGET_PARTITION + k). */
#define GW_TARGET_PRIMARY	0
#define GW_TARGET_REPLICA	1
#define GW_TARGET_PARTITION 2
#define GW_MAX_PARTITIONS	1024	/* a larger partition map is not used: through the proxy */
/* The same at a target; a partition's location is its connection string from the map. */
extern gw_conn *gw_pool_acquire_at(const char *user, const char *password, int target,
								   const char *location, gw_error *err);
/* The authenticator's own connection at a target (not pooled): NULL with err (503). */
extern PGconn *gw_connect_authenticator(int target, const char *location, gw_error *err);
extern int	gw_conn_is_replica(gw_conn *c);
extern int	gw_conn_target(gw_conn *c);
extern void gw_pool_release(gw_conn *c, int broken);
extern PGconn *gw_conn_pg(gw_conn *c);
/* Which statements (by their slot, below GW_MAX_STATEMENTS) are prepared on this connection. */
#define GW_MAX_STATEMENTS 64
extern int	gw_conn_is_prepared(gw_conn *c, int slot);
extern void gw_conn_set_prepared(gw_conn *c, int slot);

/* ---- authentication (auth.c) ---- */
typedef struct gw_auth
{
	int			had_credentials;
	char	   *role;			/* SET LOCAL ROLE, or NULL */
	char	   *claims;			/* JWT claims as JSON, or NULL */
	char	   *basic_user;		/* Basic: log in as this user */
	char	   *basic_password;
	char	   *session;		/* a session cookie's or SoTicket's id: its role, as the database has it */
	int			cookie;			/* the session came in the pi_session cookie: an ambient credential */
	/* the request's context, set in its transaction */
	char	   *headers;		/* request.headers: the request's headers as JSON, lower-case names */
	char	   *timezone;		/* SO-TimeZone, or NULL */
} gw_auth;

/* A deep copy of auth (for answers that outlive the request): 0, or -1. */
extern int	gw_auth_copy(gw_auth *dst, const gw_auth *src);

/* The authenticator's role name (--db-uri's user), or NULL (db.c). */
extern const char *gw_authenticator(void);

/*
 * The Authorization header's credentials (Basic's user and password as
 * libmicrohttpd decoded them, or NULL), else the pi_session cookie, else the
 * anonymous role, into auth: 0, or -1 with err (401; an invalid cookie never
 * falls back to the anonymous role).
 */
extern int	gw_authenticate(const char *authorization, const char *basic_user,
							const char *basic_password, const char *session_cookie, gw_auth *auth,
							gw_error *err);
extern void gw_auth_free(gw_auth *auth);

#endif							/* PI_GATEWAY_H */
