/*
 * res_session.c
 *		/api/v1/Session: POST logs in (a JSON body {"username", "password"},
 *		checked by PostgreSQL as for Basic) and answers the role and a
 *		SoTicket ticket, with the pi_session cookie (HttpOnly) and the
 *		XSRF-TOKEN cookie (for scripts); DELETE logs out: the database forgets
 *		the session and both cookies are cleared.
 */
#include "resources.h"
#include "call.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Set-Cookie for both cookies: value NULL clears them. */
static int
set_cookies(gw_request *r, const char *signed_id, const char *xsrf)
{
	char		c[256];

	if (signed_id)
		snprintf(c, sizeof(c), "pi_session=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax", signed_id,
				 gw.session_ttl);
	else
		snprintf(c, sizeof(c), "pi_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
	if (gw_reply_header(r, MHD_HTTP_HEADER_SET_COOKIE, c) != 0)
		return -1;
	if (xsrf)
		snprintf(c, sizeof(c), "XSRF-TOKEN=%s; Path=/; Max-Age=%d; SameSite=Lax", xsrf, gw.session_ttl);
	else
		snprintf(c, sizeof(c), "XSRF-TOKEN=; Path=/; Max-Age=0; SameSite=Lax");
	return gw_reply_header(r, MHD_HTTP_HEADER_SET_COOKIE, c);
}

enum MHD_Result
gw_session_login(struct MHD_Connection *conn, gw_request *r)
{
	json_error_t jerr;
	json_t	   *body;
	const char *user = NULL,
			   *password = NULL;
	gw_auth		login = {0};
	gw_error	err = {0};
	PGresult   *res = NULL;
	char		ttl[16],
				signed_id[128],
				xsrf[44];
	const char *values[1] = {ttl};
	enum MHD_Result ret;
	char	   *answer;

	if (gw.session_secret == NULL)
		return gw_fail(conn, r, 501, "PGRST501", "sessions are not configured",
					   "The gateway runs without --session-secret.", NULL);
	body = json_loadb((const char *) r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (body == NULL || json_unpack(body, "{s:s, s:s}", "username", &user, "password", &password) != 0)
	{
		json_decref(body);
		return gw_fail(conn, r, 400, "22023", "the body must be {\"username\": ..., \"password\": ...}",
					   NULL, NULL);
	}
	if (*user == '\0' || *password == '\0')
	{
		json_decref(body);
		return gw_fail(conn, r, 401, "28P01", "invalid username or password", NULL, NULL);
	}
	/* as Basic: the pool logs in with the password, PostgreSQL judges it */
	login.had_credentials = 1;
	login.basic_user = strdup(user);
	login.basic_password = strdup(password);
	json_decref(body);
	snprintf(ttl, sizeof(ttl), "%d", gw.session_ttl);
	if (login.basic_user == NULL || login.basic_password == NULL ||
		gw_call(&gw_statements[ST_SESSION_OPEN], &login, values, NULL, NULL, 0, &res, &err) != 0)
	{
		gw_auth_free(&login);
		if (err.status == 0)
			return MHD_NO;
		/*
		 * A refused login is 401 whatever the reason (no hint about which
		 * names exist); a role that may not open sessions (42501, 403), a
		 * database without session functions (42883, 501) or one that is
		 * down (503) says so.
		 */
		if (err.status == 401 || err.status == 400 || err.status == 500)
			gw_error_set(&err, 401, "28P01", "invalid username or password", NULL, NULL);
		return gw_send_error(conn, r, &err, NULL);
	}
	gw_auth_free(&login);
	if (PQntuples(res) != 1 || gw_session_sign(PQgetvalue(res, 0, 0), signed_id, sizeof(signed_id)) != 0 ||
		gw_xsrf_token(PQgetvalue(res, 0, 0), xsrf) != 0)
	{
		PQclear(res);
		return gw_fail(conn, r, 500, "XX000", "internal server error", NULL, NULL);
	}
	{
		json_t	   *o = json_pack("{s:s, s:s}", "role", PQgetvalue(res, 0, 1), "ticket", signed_id);

		answer = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(o);
	}
	PQclear(res);
	if (answer == NULL || set_cookies(r, signed_id, xsrf) != 0)
	{
		free(answer);
		return MHD_NO;
	}
	ret = gw_send_buffer(conn, r, 200, gw_ctype_of(GW_FMT_JSON), answer, strlen(answer),
						 MHD_RESPMEM_MUST_FREE, NULL);
	return ret;
}

enum MHD_Result
gw_session_logout(struct MHD_Connection *conn, gw_request *r)
{
	gw_auth		authenticator = {0};
	gw_error	err = {0};
	PGresult   *res = NULL;
	const char *values[1] = {r->auth.session};
	int			ended;

	if (r->auth.session == NULL)
		return gw_fail(conn, r, 401, "28000", "no session to end",
					   "Send the pi_session cookie or Authorization: SoTicket.", NULL);
	authenticator.had_credentials = 1;
	if (gw_call(&gw_statements[ST_SESSION_CLOSE], &authenticator, values, NULL, NULL, 0, &res, &err) != 0)
		return gw_send_error(conn, r, &err, NULL);
	ended = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (set_cookies(r, NULL, NULL) != 0)
		return MHD_NO;
	if (!ended)
		return gw_fail(conn, r, 401, "28000", "the session is invalid or has expired", NULL, NULL);
	return gw_send_buffer(conn, r, 204, NULL, (void *) "", 0, MHD_RESPMEM_PERSISTENT, NULL);
}

/* GET /api/v1/Session: who the request is (a page asks before showing its login form). */
enum MHD_Result
gw_session_get(struct MHD_Connection *conn, gw_request *r)
{
	gw_error	err = {0};
	PGresult   *res = NULL;
	json_t	   *o;
	char	   *answer;

	if (gw_call(&gw_statements[ST_WHOAMI], &r->auth, NULL, NULL, NULL, 0, &res, &err) != 0)
		return gw_send_error(conn, r, &err, NULL);
	o = json_pack("{s:s, s:b, s:b}", "role", PQgetvalue(res, 0, 0), "writer",
				  strcmp(PQgetvalue(res, 0, 1), "t") == 0, "session", r->auth.session != NULL);
	PQclear(res);
	answer = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (answer == NULL)
		return MHD_NO;
	return gw_send_buffer(conn, r, 200, gw_ctype_of(GW_FMT_JSON), answer, strlen(answer),
						  MHD_RESPMEM_MUST_FREE, NULL);
}
