/*
 * resources.c
 *		The route table: every path the gateway answers, its methods and
 *		their handlers, what a write calls (its EXECUTE is checked before a
 *		body byte is read) and how its body is read.  A new route is a row
 *		here and its handlers in a res_*.c file.
 */
#include "resources.h"
#include "call.h"

#include <string.h>

static enum MHD_Result health(struct MHD_Connection *conn, gw_request *r);

#define PAGE_FILE(path) {.pattern = path, .allow = "GET, HEAD, OPTIONS", .get = gw_page_get, .public_route = 1, .bytes = 1}

static const gw_route_def routes[] = {
	PAGE_FILE("/"), PAGE_FILE("/page.js"), PAGE_FILE("/page.css"), PAGE_FILE("/openapi.json"),
	{
		.pattern = "/health", .allow = "GET, HEAD, OPTIONS",
		.get = health, .public_route = 1, .bytes = 1,
	},
	{
		.pattern = "/api/v1/Product/{id}/Image", .allow = "GET, HEAD, PUT, POST, DELETE, OPTIONS",
		.get = gw_image_get, .put = gw_image_save, .post = gw_image_save, .del = gw_image_delete,
		.head_check = gw_image_head_check,
		.write_function = "product_image.product_save_image(integer, bytea)",
		.body = GW_BODY_RAW, .bytes = 1,
	},
	{
		.pattern = "/api/v1/Product/{id}/ImageInfo", .allow = "GET, HEAD, PUT, OPTIONS",
		.get = gw_info_get, .put = gw_info_put,
		.write_function = "product_image.product_put_image_info(integer, jsonb)",
		.body = GW_BODY_JSON,
	},
	{
		/* POST logs in (no credentials needed, so not judged as a write of theirs); DELETE logs out */
		.pattern = "/api/v1/Session", .allow = "GET, HEAD, POST, DELETE, OPTIONS",
		.get = gw_session_get, .post = gw_session_login, .del = gw_session_logout, .login = 1,
		.body = GW_BODY_JSON, .max_body = 4096,	/* read before any credential is checked */
	},
};

void
gw_find_route(gw_method method, const char *path, gw_route *route)
{
	memset(route, 0, sizeof(*route));
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
	{
		const gw_route_def *d = &routes[i];
		int32_t		id = 0;
		int			bad_id = 0;

		if (!gw_match_path(d->pattern, path, &id, &bad_id))
			continue;
		route->def = d;
		route->product_id = id;
		route->bad_id = bad_id;
		route->handler = method == GW_GET || method == GW_HEAD ? d->get
			: method == GW_PUT ? d->put
			: method == GW_POST ? d->post
			: method == GW_DELETE ? d->del : NULL;
		return;
	}
}

/* /health: can the gateway reach the database?  No credentials needed. */
static enum MHD_Result
health(struct MHD_Connection *conn, gw_request *r)
{
	gw_auth		none = {0};
	PGresult   *res = NULL;
	gw_error	err = {0};
	static const char ok[] = "{\"status\":\"ok\"}";
	static const char down[] = "{\"status\":\"unavailable\"}";

	if (gw_call(&gw_statements[ST_HEALTH], &none, NULL, NULL, NULL, 0, &res, &err) != 0)
	{
		gw_error_free(&err);
		return gw_send_buffer(conn, r, 503, gw_ctype_of(GW_FMT_JSON), (void *) down, sizeof(down) - 1,
							  MHD_RESPMEM_PERSISTENT, NULL);
	}
	PQclear(res);
	return gw_send_buffer(conn, r, 200, gw_ctype_of(GW_FMT_JSON), (void *) ok, sizeof(ok) - 1,
						  MHD_RESPMEM_PERSISTENT, NULL);
}
