/*
 * call.c
 *		The database call: BEGIN, the statement timeout, SET LOCAL ROLE, the
 *		JWT claims, the statement's preparation (once per connection), the
 *		call and COMMIT, sent as one libpq pipeline (one network round trip);
 *		retries; a failed step's SQLSTATE turned into an HTTP error.
 */
#include "call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Turn a failed result into an error; 500s keep their details in the log. */
static void
error_from_result(PGresult *res, PGconn *pg, int had_credentials, gw_error *err)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int			status;

	if (st == NULL || PQstatus(pg) != CONNECTION_OK)
	{
		fprintf(stderr, "gateway: database connection lost: %s", PQerrorMessage(pg));
		gw_error_set(err, 503, "08006", "the database is unavailable", NULL, "Retry later.");
		return;
	}
	status = gw_status_for_sqlstate(st, had_credentials);
	if (status == 500)
	{
		fprintf(stderr, "gateway: SQLSTATE %s: %s", st, PQresultErrorMessage(res));
		gw_error_set(err, 500, st, "internal server error", NULL, NULL);
		return;
	}
	if (status == 503)
	{
		gw_error_set(err, 503, st, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
					 NULL, "Retry the request.");
		return;
	}
	if (strcmp(st, "42883") == 0)
	{
		/* a proxy node (or an older version) lacks the function: say so without naming it */
		fprintf(stderr, "gateway: SQLSTATE 42883: %s", PQresultErrorMessage(res));
		gw_error_set(err, status, st, "the database lacks what this route needs", NULL,
					 "A PL/Proxy node has no sessions and no If-Match for ImageInfo; "
					 "point the gateway at a partition for them.");
		return;
	}
	/* PostgreSQL's text names the schema, table or function: not for clients */
	if (strcmp(st, "42501") == 0)
	{
		if (!gw.quiet)
			fprintf(stderr, "gateway: SQLSTATE 42501: %s", PQresultErrorMessage(res));
		gw_error_set(err, status, st, "permission denied", NULL, NULL);
		return;
	}
	gw_error_set(err, status, st, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
				 PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
				 PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
}

static int
exec_simple(PGconn *pg, const char *sql, PGresult **failed)
{
	PGresult   *res = PQexec(pg, sql);

	if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		PQclear(res);
		return 0;
	}
	if (failed)
		*failed = res;
	else
		PQclear(res);
	return -1;
}

/* The steps of one request's transaction, sent as one pipeline. */
enum
{
	STEP_BEGIN, STEP_TIMEOUT, STEP_ROLE, STEP_CLAIMS, STEP_CONTEXT, STEP_PREPARE, STEP_CALL, STEP_COMMIT,
	STEP_COUNT
};

/*
 * Send BEGIN, SET LOCAL ROLE, the JWT claims, the statement's preparation
 * (once per connection), the call and COMMIT in one libpq pipeline (one network round trip), and collect the results.
 * Returns the step that failed (its result in *failed), STEP_COUNT on
 * success (the call's result in *out), or -1 when the connection broke.
 */
static int
pipeline(gw_conn *c, const gw_statement *stmt, const gw_auth *auth, const char *const *values,
		 const int *lengths, const int *formats, int binary_result, int timeout_ms,
		 PGresult **out, PGresult **failed)
{
	PGconn	   *pg = gw_conn_pg(c);
	char		name[16];
	char	   *role_sql = NULL;
	int			sent[STEP_COUNT];	/* each step is sent at most once */
	int			nsent = 0;
	int			failed_step = STEP_COUNT;
	int			need_prepare = !gw_conn_is_prepared(c, stmt->slot);

	*out = *failed = NULL;
	snprintf(name, sizeof(name), "gw%d", stmt->slot);
	if (auth->role)
	{
		char	   *ident = PQescapeIdentifier(pg, auth->role, strlen(auth->role));

		if (ident == NULL || asprintf(&role_sql, "SET LOCAL ROLE %s", ident) < 0)
			role_sql = NULL;
		PQfreemem(ident);
		if (role_sql == NULL)
			return -1;
	}
	if (PQenterPipelineMode(pg) != 1)
	{
		free(role_sql);
		return -1;
	}
	if (PQsendQueryParams(pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
		sent[nsent++] = STEP_BEGIN;
	if (timeout_ms > 0)
	{
		char		timeout[64];

		snprintf(timeout, sizeof(timeout), "SET LOCAL statement_timeout = %d", timeout_ms);
		if (PQsendQueryParams(pg, timeout, 0, NULL, NULL, NULL, NULL, 0))
			sent[nsent++] = STEP_TIMEOUT;
	}
	if (role_sql && PQsendQueryParams(pg, role_sql, 0, NULL, NULL, NULL, NULL, 0))
		sent[nsent++] = STEP_ROLE;
	else if (auth->basic_user)
	{
		/* the login itself, whatever role its own defaults (ALTER ROLE ... SET role) name */
		if (PQsendQueryParams(pg, "SET LOCAL ROLE NONE", 0, NULL, NULL, NULL, NULL, 0))
			sent[nsent++] = STEP_ROLE;
	}
	else if (auth->session)
	{
		/* a session's role, looked up by the authenticator (28000 when the session is not valid) */
		const char *session[1] = {auth->session};

		if (PQsendQueryParams(pg, "SELECT pg_catalog.set_config('role', "
							  "product_image.session_role($1), true)", 1, NULL, session, NULL, NULL, 0))
			sent[nsent++] = STEP_ROLE;
	}
	if (auth->claims)
	{
		const char *claims[1] = {auth->claims};

		if (PQsendQueryParams(pg, "SELECT pg_catalog.set_config('request.jwt.claims', $1, true)",
							  1, NULL, claims, NULL, NULL, 0))
			sent[nsent++] = STEP_CLAIMS;
	}
	if (auth->headers || auth->timezone)
	{
		/* request.headers as PostgREST sets it; SO-TimeZone (22023 for a zone PostgreSQL does not know) */
		const char *context[2] = {auth->headers, auth->timezone};

		if (PQsendQueryParams(pg, "SELECT pg_catalog.set_config('request.headers', coalesce($1, ''), true), "
							  "pg_catalog.set_config('TimeZone', coalesce($2, "
							  "pg_catalog.current_setting('TimeZone')), true)",
							  2, NULL, context, NULL, NULL, 0))
			sent[nsent++] = STEP_CONTEXT;
	}
	/* prepared as the request's role: the names resolve with its rights */
	if (need_prepare && PQsendPrepare(pg, name, stmt->sql, stmt->nparams, NULL))
		sent[nsent++] = STEP_PREPARE;
	if (PQsendQueryPrepared(pg, name, stmt->nparams, values, lengths, formats, binary_result))
		sent[nsent++] = STEP_CALL;
	if (PQsendQueryParams(pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
		sent[nsent++] = STEP_COMMIT;
	free(role_sql);
	if (PQpipelineSync(pg) != 1)
	{
		PQexitPipelineMode(pg);
		return -1;
	}

	/* each command's results end with NULL; then comes the sync */
	for (int i = 0; i < nsent; i++)
	{
		PGresult   *res;

		while ((res = PQgetResult(pg)) != NULL)
		{
			ExecStatusType st = PQresultStatus(res);

			if (st == PGRES_FATAL_ERROR && failed_step == STEP_COUNT)
			{
				failed_step = sent[i];
				*failed = res;
			}
			else if (sent[i] == STEP_CALL && st == PGRES_TUPLES_OK && *out == NULL)
				*out = res;
			else
				PQclear(res);
		}
		if (PQstatus(pg) != CONNECTION_OK)
			break;
	}
	for (;;)
	{
		PGresult   *res = PQgetResult(pg);

		if (res == NULL)
		{
			if (PQstatus(pg) != CONNECTION_OK)
				break;
			continue;
		}
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC)
		{
			PQclear(res);
			break;
		}
		PQclear(res);
	}
	PQexitPipelineMode(pg);
	if (PQstatus(pg) != CONNECTION_OK)
	{
		PQclear(*out);
		PQclear(*failed);
		*out = *failed = NULL;
		return -1;
	}
	if (need_prepare && (failed_step == STEP_COUNT || failed_step > STEP_PREPARE))
		gw_conn_set_prepared(c, stmt->slot);
	if (failed_step != STEP_COUNT)
	{
		PQclear(*out);
		*out = NULL;
	}
	return failed_step;
}

int
gw_call_timeout(const gw_statement *st, const gw_auth *auth, const char *const *values, const int *lengths,
			const int *formats, int binary_result, int timeout_ms, PGresult **out, gw_error *err)
{
	int32_t		product_id = (st->nparams > 0 && values[0]) ? atoi(values[0]) : 0;
	int			tried_replica = 0;

	for (int attempt = 0; attempt < 2; attempt++)
	{
		gw_conn    *c = gw_replica_acquire(st, auth, product_id, &tried_replica, err);
		PGconn	   *pg;
		PGresult   *res = NULL,
				   *bad = NULL;
		const char *state;
		int			step;

		if (c == NULL)
			return -1;
		pg = gw_conn_pg(c);
		step = pipeline(c, st, auth, values, lengths, formats, binary_result, timeout_ms,
						&res, &bad);
		if (step == STEP_COUNT)
		{
			gw_pool_release(c, 0);
			if (st->access == GW_WRITES && gw.read_db_uri)
				gw_replica_note_write(product_id);
			*out = res;
			return 0;
		}
		if (step < 0)
		{
			int			was_replica = gw_conn_is_replica(c);

			if (!gw.quiet)
				fprintf(stderr, "gateway: pipeline failed: %s", PQerrorMessage(pg));
			gw_pool_release(c, 1);
			/* a lost replica: the primary answers, and the retry is not spent */
			if (attempt == 0 || was_replica)
			{
				if (was_replica)
					attempt--;
				continue;
			}
			fprintf(stderr, "gateway: database connection lost: %s", PQerrorMessage(pg));
			gw_error_set(err, 503, "08006", "the database is unavailable", NULL, "Retry later.");
			return -1;
		}
		/* a failed step leaves the transaction aborted: end it */
		exec_simple(pg, "ROLLBACK", NULL);
		state = PQresultErrorField(bad, PG_DIAG_SQLSTATE);
		if (attempt == 0 && state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
		{
			PQclear(bad);
			gw_pool_release(c, 0);
			continue;
		}
		error_from_result(bad, pg, auth->had_credentials, err);
		/* the role itself was refused: that is an authentication failure */
		if (step == STEP_ROLE && err->status != 503 && strcmp(err->code, "28000") == 0 && auth->session)
			err->status = 401;	/* the session's own message: not valid, expired, or ended */
		else if (step == STEP_ROLE && err->status != 503)
		{
			char		code[sizeof(err->code)];

			memcpy(code, err->code, sizeof(code));
			gw_error_set(err, 401, code, "the role of these credentials cannot be used", NULL, NULL);
		}
		PQclear(bad);
		gw_pool_release(c, PQstatus(pg) != CONNECTION_OK);
		return -1;
	}
	return -1;
}

int
gw_call(const gw_statement *st, const gw_auth *auth, const char *const *values, const int *lengths,
		const int *formats, int binary_result, PGresult **out, gw_error *err)
{
	return gw_call_timeout(st, auth, values, lengths, formats, binary_result,
					   gw.statement_timeout_ms, out, err);
}

