/*
 * res_page.c
 *		The product image page (/, /page.js, /page.css) and the OpenAPI
 *		document (/openapi.json): files embedded at build time (assets.c),
 *		served as they are, under a strict Content-Security-Policy.
 */
#include "resources.h"

#include <string.h>

/*
 * Scripts and styles from this gateway only (no inline script, no eval),
 * images from here (and blob: previews), requests to here only.
 */
#define PAGE_CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; " \
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

enum MHD_Result
gw_page_get(struct MHD_Connection *conn, gw_request *r)
{
	for (const gw_asset *a = gw_assets; a->path != NULL; a++)
	{
		if (strcmp(a->path, r->route.def->pattern) != 0)
			continue;
		if (gw_reply_header(r, "Content-Security-Policy", PAGE_CSP) != 0 ||
			gw_reply_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache") != 0 ||
			gw_reply_header(r, "Referrer-Policy", "same-origin") != 0)
			return MHD_NO;
		r->content_lang = "en";
		return gw_send_buffer(conn, r, 200, a->content_type, (void *) a->data, a->len,
							  MHD_RESPMEM_PERSISTENT, NULL);
	}
	return gw_fail(conn, r, 404, "PGRST125", "no such route", NULL, NULL);
}
