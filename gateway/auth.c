/*
 * auth.c
 *		PostgREST's authentication model: Bearer JWT (HS256) with a role
 *		claim, Basic (PostgreSQL checks the password), or the anonymous role.
 */
#include "gateway.h"

#include <errno.h>
#include <jwt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/*
 * A NumericDate claim (RFC 7519: a JSON number, fractions allowed).
 * Returns 1 with *out set, 0 when absent, -1 when present but not a number.
 */
static int
numeric_date(jwt_t *jwt, const char *claim, double *out)
{
	char	   *json;
	char	   *end;
	int			ret = -1;

	json = jwt_get_grants_json(jwt, claim);
	if (json == NULL)
		return 0;				/* absent */
	if ((json[0] >= '0' && json[0] <= '9') || json[0] == '-')
	{
		errno = 0;
		*out = strtod(json, &end);
		if (errno == 0 && end != json && *end == '\0')
			ret = 1;
	}
	free(json);
	return ret;
}

static void
unauthorized(gw_error *err, const char *code, const char *message)
{
	gw_error_set(err, 401, code, message, NULL, NULL);
}

/*
 * Did libmicrohttpd's decoding keep every byte?  It hands over C strings,
 * so "user:pass\0more" would arrive as "pass": the decoded length, known
 * from the base64 text, must be user ":" password exactly.
 */
static int
basic_whole(const char *b64, const char *user, const char *password)
{
	size_t		n = strspn(b64 + strspn(b64, " "), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
	const char *p = b64 + strspn(b64, " ") + n;
	size_t		pad = strspn(p, "=");
	size_t		decoded = (n + pad) / 4 * 3 - pad;

	return (n + pad) % 4 == 0 && pad <= 2 && p[pad + strspn(p + pad, " ")] == '\0' &&
		decoded == strlen(user) + 1 + strlen(password);
}

/* A signed session value (cookie or ticket) into auth->session: 0, or -1 with err. */
static int
session_of(const char *value, gw_auth *auth, gw_error *err)
{
	char		id[37];

	if (gw.session_secret == NULL || gw_session_verify(value, id) != 0)
	{
		unauthorized(err, "28000", "the session is invalid or has expired");
		return -1;
	}
	auth->session = strdup(id);
	return auth->session ? 0 : -1;
}

int
gw_authenticate(const char *authz, const char *basic_user, const char *basic_password,
				const char *session_cookie, gw_auth *auth, gw_error *err)
{
	memset(auth, 0, sizeof(*auth));
	if (authz != NULL && authz[strspn(authz, " \t")] == '\0')
	{
		/* an Authorization header that says nothing is no request for the anonymous role */
		unauthorized(err, "PGRST301", "unsupported authorization scheme");
		return -1;
	}
	if (authz == NULL && session_cookie != NULL)
	{
		auth->had_credentials = 1;
		auth->cookie = 1;
		return session_of(session_cookie, auth, err);
	}
	if (authz == NULL)
	{
		if (gw.anon_role == NULL)
		{
			unauthorized(err, "PGRST302", "authentication required");
			return -1;
		}
		auth->role = strdup(gw.anon_role);
		return 0;
	}
	auth->had_credentials = 1;

	if (strncasecmp(authz, "Bearer ", 7) == 0)
	{
		jwt_t	   *jwt = NULL;
		const char *token = authz + 7;
		const char *role;
		char	   *role_json;
		double		exp,
					nbf;
		int			has;
		struct timespec ts;
		double		now;

		clock_gettime(CLOCK_REALTIME, &ts);
		now = (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;

		while (*token == ' ')
			token++;
		if (gw.jwt_secret == NULL)
		{
			unauthorized(err, "PGRST300", "JWT authentication is not configured");
			return -1;
		}
		if (jwt_decode(&jwt, token, (const unsigned char *) gw.jwt_secret,
					   (int) strlen(gw.jwt_secret)) != 0 || jwt == NULL)
		{
			unauthorized(err, "PGRST301", "invalid JWT");
			return -1;
		}
		if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		{
			jwt_free(jwt);
			unauthorized(err, "PGRST301", "JWT must be signed with HS256");
			return -1;
		}
		/* exp and nbf are NumericDates: 4102444800.5 counts, "4102444800" is refused */
		if ((has = numeric_date(jwt, "exp", &exp)) < 0 || (has > 0 && now >= exp))
		{
			jwt_free(jwt);
			unauthorized(err, "PGRST301", has < 0 ? "JWT exp is not a number" : "JWT expired");
			return -1;
		}
		if ((has = numeric_date(jwt, "nbf", &nbf)) < 0 || (has > 0 && now < nbf))
		{
			jwt_free(jwt);
			unauthorized(err, "PGRST301", has < 0 ? "JWT nbf is not a number" : "JWT not yet valid");
			return -1;
		}
		role = jwt_get_grant(jwt, "role");
		role_json = jwt_get_grants_json(jwt, "role");
		has = role_json != NULL;
		free(role_json);
		if (role == NULL && has)
		{
			jwt_free(jwt);
			unauthorized(err, "PGRST301", "JWT role claim is not a string");
			return -1;
		}
		/* SET ROLE "none" is SET ROLE NONE: back to the authenticator, as is its own name */
		if (role && (strcasecmp(role, "none") == 0 ||
					 (gw_authenticator() && strcmp(role, gw_authenticator()) == 0)))
		{
			jwt_free(jwt);
			unauthorized(err, "PGRST301", "JWT role claim names no role");
			return -1;
		}
		if (role && *role)
			auth->role = strdup(role);
		else if (gw.anon_role)
			auth->role = strdup(gw.anon_role);
		else
		{
			jwt_free(jwt);
			unauthorized(err, "PGRST302", "JWT has no role claim");
			return -1;
		}
		auth->claims = jwt_get_grants_json(jwt, NULL);
		jwt_free(jwt);
		return 0;
	}

	if (strncasecmp(authz, "Basic ", 6) == 0)
	{
		/* decoded by libmicrohttpd (MHD_basic_auth_get_username_password) */
		if (basic_user == NULL || basic_password == NULL || *basic_user == '\0' ||
			!basic_whole(authz + 6, basic_user, basic_password))
		{
			unauthorized(err, "PGRST301", "malformed Basic credentials");
			return -1;
		}
		if (*basic_password == '\0')
		{
			/* libpq would take an empty password as none, and use another */
			unauthorized(err, "PGRST301", "Basic credentials need a password");
			return -1;
		}
		auth->basic_user = strdup(basic_user);
		auth->basic_password = strdup(basic_password);
		return 0;
	}

	/* SuperOffice's third scheme: the ticket POST /api/v1/Session answered */
	if (strncasecmp(authz, "SoTicket ", 9) == 0)
		return session_of(authz + 9 + strspn(authz + 9, " "), auth, err);

	unauthorized(err, "PGRST301", "unsupported authorization scheme");
	return -1;
}

void
gw_auth_free(gw_auth *auth)
{
	free(auth->role);
	free(auth->claims);
	free(auth->basic_user);
	if (auth->basic_password)
		memset(auth->basic_password, 0, strlen(auth->basic_password));
	free(auth->basic_password);
	free(auth->session);
	free(auth->headers);
	free(auth->timezone);
	memset(auth, 0, sizeof(*auth));
}

static int
dup_into(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && *dst == NULL ? -1 : 0;
}

int
gw_auth_copy(gw_auth *dst, const gw_auth *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->had_credentials = src->had_credentials;
	if (dup_into(&dst->role, src->role) || dup_into(&dst->claims, src->claims) ||
		dup_into(&dst->basic_user, src->basic_user) || dup_into(&dst->basic_password, src->basic_password) ||
		dup_into(&dst->session, src->session) || dup_into(&dst->headers, src->headers) ||
		dup_into(&dst->timezone, src->timezone))
	{
		gw_auth_free(dst);
		return -1;
	}
	return 0;
}
