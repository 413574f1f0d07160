/*
 * request.h
 *		One HTTP request as the gateway holds it, the route table's row type,
 *		and the floors every handler uses: replies (reply.c) and body intake
 *		(intake.c).
 */
#ifndef PI_GATEWAY_REQUEST_H
#define PI_GATEWAY_REQUEST_H

#include "gateway.h"

#include <microhttpd.h>
#include <time.h>

typedef struct gw_request gw_request;
typedef enum MHD_Result (*gw_handler) (struct MHD_Connection *conn, gw_request *r);

/*
 * A route: one row of resources.c's table.  Methods without a handler are
 * 405; HEAD is GET's handler (libmicrohttpd drops the body); OPTIONS is
 * answered for every route.
 */
typedef struct gw_route_def
{
	const char *pattern;		/* "/api/v1/Product/{id}/Image" */
	const char *allow;			/* the Allow header: its methods */
	gw_handler	get,
				put,
				post,
				del;
	gw_handler	head_check;		/* route checks of the request head, before any body byte, or NULL */
	const char *write_function; /* what PUT/POST call: EXECUTE is checked before the body */
	gw_body_kind body;			/* GW_BODY_JSON: read as JSON whatever the label; else image or multipart */
	int			public_route;	/* no authentication */
	int			login;			/* POST logs in: no authentication, but no cross-site request either */
	int			bytes;			/* GET and DELETE answer no JSON/XML: no 406 for them */
	size_t		max_body;		/* the largest body of this route; 0: --max-body */
} gw_route_def;

typedef struct gw_route
{
	const gw_route_def *def;	/* NULL: no such route (404) */
	int			bad_id;			/* the {id} segment is not an int32 */
	int32_t		product_id;
	gw_handler	handler;		/* the method's handler; NULL: 405 (or OPTIONS) */
} gw_route;

struct gw_request
{
	gw_method	method;
	gw_route	route;
	char		id[16];			/* route.product_id as SQL parameter text */
	gw_format	fmt;
	char	   *path;
	char	   *method_name;
	char	   *app_token;		/* SO-AppToken (its first 128 bytes), for the log */
	struct timespec start;
	size_t		bytes_in;
	size_t		bytes_out;
	int			status;
	int			responded;
	int			close;			/* answer with Connection: close */
	int			has_body;		/* Content-Length > 0 or Transfer-Encoding */
	size_t		max_body;		/* the route's limit, or --max-body */
	int			body_done;		/* the whole body has been read */
	int			authed;			/* auth holds the request's credentials */
	int			xsrf_from_form; /* a cookie session's form: the token is a field of the body */
	char		form_xsrf[64];	/* the __RequestVerificationToken field, when there is one */
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
	gw_epilogue epilogue;
	char		origin[256];	/* the Origin header, when it is a CORS-allowed one */
	int			cors;			/* 0: no CORS; 1: a listed origin; 2: any ("*") */
	int			in_first_call;	/* headers just read: an answer now would close the connection */
	struct MHD_Response *pending;	/* an answer held until the (empty) body is read */
	unsigned int pending_status;
	gw_rendition rendition;		/* GET Image's w, h, type, ifBlank (or Accept's type) */
	const char *accept;			/* a rendition's Accept header when no type chose the format */
	struct
	{
		const char *name;
		char	   *value;
	}			extra[4];		/* headers for the reply gw_send_buffer sends (gw_reply_header) */
	int			n_extra;
	const char *lang;			/* the language to answer in (SO-Language, Accept-Language) */
	const char *content_lang;	/* the language the reply's body is in, when it is not lang */
};

/* ---- replies (reply.c) ---- */

/* A header (ETag, Set-Cookie, ...) for the reply the next gw_send_buffer sends: 0, or -1. */
extern int	gw_reply_header(gw_request *r, const char *name, const char *value);
extern void gw_reply_free(gw_request *r);

/* Headers every answer of ours carries: nosniff, Vary, and CORS's. */
extern void gw_add_common_headers(struct MHD_Response *resp, const gw_request *r);
/* Queue resp (and release our reference), holding it while a bodiless request is read. */
extern enum MHD_Result gw_queue(struct MHD_Connection *conn, gw_request *r, unsigned int status,
								struct MHD_Response *resp);
/* MHD_RESPMEM_MUST_FREE data is ours to free only if MHD never took it. */
extern enum MHD_Result gw_send_buffer(struct MHD_Connection *conn, gw_request *r, int status,
									  const char *ctype, void *data, size_t len,
									  enum MHD_ResponseMemoryMode mode, const char *allow);
extern enum MHD_Result gw_send_error(struct MHD_Connection *conn, gw_request *r, gw_error *err,
									 const char *allow);
extern enum MHD_Result gw_fail(struct MHD_Connection *conn, gw_request *r, int status,
							   const char *code, const char *message, const char *details,
							   const char *allow);
/* 404 for a product without an image (P0002, as the SQL functions say it). */
extern enum MHD_Result gw_fail_no_image(struct MHD_Connection *conn, gw_request *r);
extern const char *gw_ctype_of(gw_format fmt);
/*
 * A whole answer held in a libpq result (column col of row 0), counted
 * against --max-held-bytes: NULL (and res cleared) past the limit.
 */
extern struct MHD_Response *gw_held_response(PGresult *res, int col);

/* ---- body intake (intake.c) ---- */

/*
 * The framing of a request, judged from all its header lines (RFC 9112
 * 6.1, 6.3, 5.1, 3.2) before a body byte is read: status 0 when fine, else
 * 400 or 501 with a message, and the connection is to be closed.
 */
typedef struct gw_framing
{
	int			status;
	const char *message;
	int			http10;
	int			n_host;
	int			n_auth;
	int			n_cookie;
	int			n_te;
	int			n_cl;
	char		cl[24];			/* the first Content-Length, as sent */
} gw_framing;

extern void gw_check_framing(struct MHD_Connection *conn, const char *version, gw_framing *f);
/* Get ready to read the body as r->body_kind says: 0, or -1 for a malformed multipart type. */
extern int	gw_intake_begin(struct MHD_Connection *conn, gw_request *r, const char *content_type);
/* A chunk of body: 0, or -1 when it cannot be kept (the connection is closed). */
extern int	gw_intake_chunk(gw_request *r, const char *data, size_t n);
/* The whole body is read: settle which multipart part is the image. */
extern void gw_intake_end(gw_request *r);
extern void gw_intake_free(gw_request *r);

#endif							/* PI_GATEWAY_REQUEST_H */
