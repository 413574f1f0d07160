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
	int			render_probe_ms;	/* past the slots: a cached rendition's time */
	int			stream_slice;	/* originals larger than this are streamed in slices; 0: never */
	int			rendition_max_age;	/* Cache-Control max-age of renditions, seconds */
	const char *read_db_uri;	/* streaming replica for GET routes, or NULL */
	int			read_max_lag_ms;	/* replica further behind: read the primary */
	int			read_own_writes_ms;	/* after a write, that product reads the primary */
	long		max_held_bytes;	/* whole answers queued at once, all connections */
	const char *cors_origins;	/* origins browsers may call us from ("*": any), or NULL */
	int			quiet;			/* no request log (the fuzz target) */
} gw_config;

extern gw_config gw;

/* ---- routes and negotiation (route.c): pure functions, no socket ---- */
typedef enum gw_resource
{
	GW_RES_NONE = 0,			/* unknown path: 404 */
	GW_RES_HEALTH,
	GW_RES_IMAGE,				/* /api/v1/Product/{id}/Image */
	GW_RES_IMAGE_INFO			/* /api/v1/Product/{id}/ImageInfo */
} gw_resource;

typedef enum gw_method
{
	GW_GET, GW_HEAD, GW_PUT, GW_POST, GW_DELETE, GW_OPTIONS, GW_OTHER
} gw_method;

typedef struct gw_route
{
	gw_resource resource;
	int			bad_id;			/* the id segment is not an int32 */
	int32_t		product_id;
	const char *allow;			/* methods allowed on the resource */
	int			method_allowed;
} gw_route;

typedef enum gw_format
{
	GW_FMT_JSON = 0,
	GW_FMT_XML,
	GW_FMT_NONE					/* nothing acceptable: 406 */
} gw_format;

extern gw_method gw_parse_method(const char *method);
extern void gw_parse_route(gw_method method, const char *path, gw_route *route);
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

/* ---- responses (respond.c) ---- */
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
extern char *gw_json_escape(const char *s);
extern char *gw_xml_escape(const char *s);

/* ---- database (db.c) ---- */
typedef struct gw_conn gw_conn;

extern int	gw_pool_init(void);
extern void gw_pool_shutdown(void);
/* user/password NULL: the authenticator from --db-uri; else a Basic login. */
extern gw_conn *gw_pool_acquire(const char *user, const char *password, int replica,
								 gw_error *err);
extern int	gw_conn_is_replica(gw_conn *c);
extern void gw_pool_release(gw_conn *c, int broken);
extern PGconn *gw_conn_pg(gw_conn *c);
/* Which statements are prepared on this connection. */
extern int	gw_conn_is_prepared(gw_conn *c, int which);
extern void gw_conn_set_prepared(gw_conn *c, int which);

/* ---- authentication (auth.c) ---- */
typedef struct gw_auth
{
	int			had_credentials;
	char	   *role;			/* SET LOCAL ROLE, or NULL */
	char	   *claims;			/* JWT claims as JSON, or NULL */
	char	   *basic_user;		/* Basic: log in as this user */
	char	   *basic_password;
} gw_auth;

/* The authenticator's role name (--db-uri's user), or NULL (db.c). */
extern const char *gw_authenticator(void);

/* 0 on success; else fills err (401) and returns -1. */
extern int	gw_authenticate(const char *authorization, gw_auth *auth, gw_error *err);
extern void gw_auth_free(gw_auth *auth);

#endif							/* PI_GATEWAY_H */
