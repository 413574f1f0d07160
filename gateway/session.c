/*
 * session.c
 *		Cookie sessions' tokens: the session id the database made (a UUID),
 *		signed with --session-secret (HMAC-SHA256) into the pi_session cookie
 *		and the SoTicket ticket, and the XSRF token bound to it.  A value
 *		whose signature does not hold never reaches the database.
 */
#include "gateway.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define UUID_LEN 36

/* base64url (no padding) of HMAC-SHA256(secret, purpose ":" id) into out[44] */
static int
mac(const char *purpose, const char *id, char out[44])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char		msg[64];
	unsigned char b64[64];
	int			n;

	if (gw.session_secret == NULL)
		return -1;
	snprintf(msg, sizeof(msg), "%s:%s", purpose, id);
	if (HMAC(EVP_sha256(), gw.session_secret, (int) strlen(gw.session_secret),
			 (const unsigned char *) msg, strlen(msg), md, &mdlen) == NULL)
		return -1;
	n = EVP_EncodeBlock(b64, md, (int) mdlen);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	for (int i = 0; i < n; i++)
		out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char) b64[i];
	out[n] = '\0';
	return 0;
}

static int
is_uuid(const char *s, size_t n)
{
	if (n != UUID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
	{
		int			dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
			return 0;
	}
	return 1;
}

int
gw_session_sign(const char *id, char *out, size_t outlen)
{
	char		sig[44];

	if (!is_uuid(id, strlen(id)) || mac("session", id, sig) != 0)
		return -1;
	return snprintf(out, outlen, "%s.%s", id, sig) < (int) outlen ? 0 : -1;
}

int
gw_session_verify(const char *value, char id[37])
{
	char		sig[44];
	const char *dot = value ? strchr(value, '.') : NULL;

	if (dot == NULL || !is_uuid(value, (size_t) (dot - value)))
		return -1;
	memcpy(id, value, UUID_LEN);
	id[UUID_LEN] = '\0';
	if (mac("session", id, sig) != 0 || strlen(dot + 1) != strlen(sig) ||
		CRYPTO_memcmp(dot + 1, sig, strlen(sig)) != 0)
		return -1;
	return 0;
}

int
gw_xsrf_token(const char *id, char out[44])
{
	return mac("xsrf", id, out);
}

int
gw_xsrf_ok(const char *id, const char *token)
{
	char		want[44];

	return token != NULL && gw_xsrf_token(id, want) == 0 && strlen(token) == strlen(want) &&
		CRYPTO_memcmp(token, want, strlen(want)) == 0;
}
