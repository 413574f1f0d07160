/*
 * resources.h
 *		The routes (resources.c's table) and their handlers: one file per
 *		resource (res_image.c, res_info.c).  A new route is one row of the
 *		table and its handler functions.
 */
#ifndef PI_GATEWAY_RESOURCES_H
#define PI_GATEWAY_RESOURCES_H

#include "request.h"

/* Find the route of method and path into r->route (def NULL: none). */
extern void gw_find_route(gw_method method, const char *path, gw_route *route);

/* ---- /api/v1/Product/{id}/Image (res_image.c) ---- */
extern enum MHD_Result gw_image_head_check(struct MHD_Connection *conn, gw_request *r);
extern enum MHD_Result gw_image_get(struct MHD_Connection *conn, gw_request *r);
extern enum MHD_Result gw_image_save(struct MHD_Connection *conn, gw_request *r);
extern enum MHD_Result gw_image_delete(struct MHD_Connection *conn, gw_request *r);

/* ---- /api/v1/Product/{id}/ImageInfo (res_info.c) ---- */
extern enum MHD_Result gw_info_get(struct MHD_Connection *conn, gw_request *r);
extern enum MHD_Result gw_info_put(struct MHD_Connection *conn, gw_request *r);

/* ---- /api/v1/Session (res_session.c) ---- */
extern enum MHD_Result gw_session_login(struct MHD_Connection *conn, gw_request *r);
extern enum MHD_Result gw_session_logout(struct MHD_Connection *conn, gw_request *r);

extern enum MHD_Result gw_session_get(struct MHD_Connection *conn, gw_request *r);

/* ---- /, /page.js, /page.css, /openapi.json (res_page.c) ---- */
extern enum MHD_Result gw_page_get(struct MHD_Connection *conn, gw_request *r);

#endif							/* PI_GATEWAY_RESOURCES_H */
