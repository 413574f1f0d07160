/*
 * call.c
 *		The database call: the statement timeout and the role, the JWT
 *		claims, the statement's preparation (once per connection) and the
 *		call, sent as one libpq pipeline in one implicit transaction (one
 *		network round trip); retries; a failed step's SQLSTATE turned into an
 *		HTTP error.
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

/*
 * The steps of one request's transaction, sent as one pipeline, in this
 * order; each internal statement's preparation (once per connection) is
 * the step before its execution.
 */
enum
{
	STEP_PREPARE_ROLE, STEP_ROLE, STEP_PREPARE_SESSION, STEP_SESSION, STEP_PREPARE_CLAIMS, STEP_CLAIMS,
	STEP_PREPARE_TIMEZONE, STEP_TIMEZONE, STEP_PREPARE, STEP_CALL,
	STEP_COUNT
};

/*
 * A prepared statement's result, sent in the pipeline (prepared first when
 * this connection has not): 0, or -1 when it could not be sent (then
 * nothing after it may be: the call would run without its role).
 */
static int
send_prepared(gw_conn *c, const gw_statement *st, int step, const char *const *values, const int *lengths,
			  const int *formats, int binary_result, int *sent, int *nsent, int *prepared_now)
{
	PGconn	   *pg = gw_conn_pg(c);
	char		name[16];

	snprintf(name, sizeof(name), "gw%d", st->slot);
	if (!gw_conn_is_prepared(c, st->slot))
	{
		if (!PQsendPrepare(pg, name, st->sql, st->nparams, NULL))
			return -1;
		sent[(*nsent)++] = step - 1;
		prepared_now[step - 1] = st->slot + 1;
	}
	if (!PQsendQueryPrepared(pg, name, st->nparams, values, lengths, formats, binary_result))
		return -1;
	sent[(*nsent)++] = step;
	return 0;
}

/*
 * Send the prelude (the statement timeout, the role and request.headers,
 * set_config(..., true): local to the transaction), a session's role, the
 * JWT claims, SO-TimeZone and the call, each a statement prepared once per
 * connection, in one libpq pipeline ending in one Sync: one network round
 * trip and one transaction, PostgreSQL's implicit one, which the Sync
 * commits (or rolls back when a step failed: the steps after it are
 * skipped).  No BEGIN and COMMIT, nothing parsed per request: a request is
 * two statements (prelude, call) where it was six.  Returns the
 * step that failed (a preparation counts as its statement's step; its result
 * in *failed), STEP_COUNT on success (the call's result in *out), or -1 when
 * the connection broke.
 */
static int
pipeline(gw_conn *c, const gw_statement *stmt, const gw_auth *auth, const char *const *values,
		 const int *lengths, const int *formats, int binary_result, int timeout_ms,
		 PGresult **out, PGresult **failed)
{
	PGconn	   *pg = gw_conn_pg(c);
	char		timeout[16];
	const char *role;
	int			sent[STEP_COUNT];	/* each step is sent at most once */
	int			prepared_now[STEP_COUNT] = {0};	/* slot + 1 of what a preparation step prepares */
	int			nsent = 0;
	int			failed_step = STEP_COUNT;

	*out = *failed = NULL;
	snprintf(timeout, sizeof(timeout), "%d", timeout_ms);
	/* the request's role; a Basic login acts as itself, whatever its defaults say (ALTER ROLE ... SET role) */
	role = auth->role ? auth->role : auth->basic_user ? "none" : NULL;
	if (PQenterPipelineMode(pg) != 1)
		return -1;
	{
		/* --statement-timeout 0: the database's own setting stands */
		const char *pv[3] = {timeout_ms > 0 ? timeout : NULL, role, auth->headers};
		const char *session[1] = {auth->session};
		const char *claims[1] = {auth->claims};
		/* SO-TimeZone (22023 for a zone PostgreSQL does not know: 400, not the role's 401) */
		const char *timezone[1] = {auth->timezone};

		/* a session's role, looked up by the authenticator (28000 when the session is not valid) */
		if (send_prepared(c, &gw_statements[ST_PRELUDE], STEP_ROLE, pv, NULL, NULL, 0, sent, &nsent,
						  prepared_now) != 0 ||
			(role == NULL && auth->session &&
			 send_prepared(c, &gw_statements[ST_SESSION_ROLE], STEP_SESSION, session, NULL, NULL, 0, sent,
						   &nsent, prepared_now) != 0) ||
			(auth->claims &&
			 send_prepared(c, &gw_statements[ST_CLAIMS], STEP_CLAIMS, claims, NULL, NULL, 0, sent, &nsent,
						   prepared_now) != 0) ||
			(auth->timezone &&
			 send_prepared(c, &gw_statements[ST_TIMEZONE], STEP_TIMEZONE, timezone, NULL, NULL, 0, sent, &nsent,
						   prepared_now) != 0) ||
		/* prepared as the request's role: the names resolve with its rights */
			send_prepared(c, stmt, STEP_CALL, values, lengths, formats, binary_result, sent, &nsent,
						  prepared_now) != 0 ||
			PQpipelineSync(pg) != 1)
		{
			/* not sent whole: the connection is dropped, nothing of it runs (no Sync, no commit) */
			PQexitPipelineMode(pg);
			return -1;
		}
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
		/*
		 * An error at the Sync is the implicit COMMIT's (a serialization
		 * failure, a deferred constraint): the call did not take.
		 */
		if (PQresultStatus(res) == PGRES_FATAL_ERROR && failed_step == STEP_COUNT)
		{
			failed_step = STEP_CALL;
			*failed = res;
			continue;
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
	/* a preparation before the failed step (or with none failed) took: this connection has it */
	for (int i = 0; i < STEP_COUNT; i++)
		if (prepared_now[i] && i < failed_step)
			gw_conn_set_prepared(c, prepared_now[i] - 1);
	/* a failed preparation counts as its statement's step */
	if (failed_step < STEP_COUNT && prepared_now[failed_step])
		failed_step++;
	if (failed_step != STEP_COUNT)
	{
		PQclear(*out);
		*out = NULL;
	}
	else if (*out == NULL)
		return -1;				/* no result and no error: not what was asked */
	return failed_step;
}

int
gw_call_timeout(const gw_statement *st, const gw_auth *auth, const char *const *values, const int *lengths,
			const int *formats, int binary_result, int timeout_ms, PGresult **out, gw_error *err)
{
	int32_t		product_id = (st->access != GW_NEUTRAL && st->nparams > 0 && values[0]) ? atoi(values[0]) : 0;
	int			tried_replica = 0;
	int			target = GW_TARGET_PRIMARY;
	char		location[1024];

	/*
	 * The fast path: a statement of one product ($1), as the authenticator
	 * acting for a role (anonymous or a Bearer token), goes to the
	 * product's partition.  A Basic login (its own connection) and a
	 * session (the sessions live on --db-uri) go through --db-uri.
	 */
	if (st->access != GW_NEUTRAL && st->nparams > 0 && values[0] && auth->basic_user == NULL &&
		auth->session == NULL)
	{
		int			k = gw_partition_of(product_id, location, sizeof(location));

		if (k >= 0)
			target = GW_TARGET_PARTITION + k;
	}

	for (int attempt = 0; attempt < 2; attempt++)
	{
		gw_conn    *c = gw_replica_acquire(st, auth, product_id, &tried_replica, target,
										   target >= GW_TARGET_PARTITION ? location : NULL, err);
		PGconn	   *pg;
		PGresult   *res = NULL,
				   *bad = NULL;
		const char *state;
		int			step;

		if (c == NULL)
		{
			if (target >= GW_TARGET_PARTITION)
				gw_partition_unreachable();
			return -1;
		}
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

			if (!gw.quiet || (attempt > 0 && !was_replica))
				fprintf(stderr, "gateway: %s: %s", attempt > 0 && !was_replica ? "database connection lost" :
						"pipeline failed", PQerrorMessage(pg));
			if (gw_conn_target(c) >= GW_TARGET_PARTITION)
				gw_partition_unreachable();
			gw_pool_release(c, 1);	/* (pg is gone) */
			/* a lost replica: the primary answers, and the retry is not spent */
			if (attempt == 0 || was_replica)
			{
				if (was_replica)
					attempt--;
				continue;
			}
			gw_error_set(err, 503, "08006", "the database is unavailable", NULL, "Retry later.");
			return -1;
		}
		/* (the Sync rolled the failed transaction back) */
		state = PQresultErrorField(bad, PG_DIAG_SQLSTATE);
		if (attempt == 0 && state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
		{
			PQclear(bad);
			gw_pool_release(c, 0);
			continue;
		}
		error_from_result(bad, pg, auth->had_credentials, err);
		/* the role itself was refused: that is an authentication failure */
		if (step == STEP_SESSION && err->status != 503 && strcmp(err->code, "28000") == 0)
			err->status = 401;	/* the session's own message: not valid, expired, or ended */
		else if ((step == STEP_SESSION && err->status != 503) ||
				 (step == STEP_ROLE && (strcmp(err->code, "22023") == 0 || strcmp(err->code, "42501") == 0)))
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

