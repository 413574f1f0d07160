/*
 * lifecycle.h
 *		The libmicrohttpd callbacks (lifecycle.c), used by main.c.
 */
#ifndef PI_GATEWAY_LIFECYCLE_H
#define PI_GATEWAY_LIFECYCLE_H

#include <microhttpd.h>
#include <stdatomic.h>

extern atomic_int gw_active_requests;
extern atomic_int gw_open_connections;

extern enum MHD_Result gw_access_handler(void *cls, struct MHD_Connection *conn,
										 const char *url, const char *method,
										 const char *version, const char *upload_data,
										 size_t *upload_size, void **con_cls);
extern void gw_request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
								 enum MHD_RequestTerminationCode toe);
/* Closes connections past the head deadline or under the body rate (main.c). */
extern void *gw_watchdog(void *arg);
extern size_t gw_unescape_callback(void *cls, struct MHD_Connection *conn, char *s);
extern void gw_connection_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
								 enum MHD_ConnectionNotificationCode toe);

#endif
