/*
 * replica.c
 *		Read replica routing: reads go to --read-db-uri while it is within
 *		--read-max-lag of the primary, except a product's reads just after a
 *		write of it through this gateway (--read-own-writes).
 */
#include "call.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define GW_RECENT_SLOTS 4096

/* product id and until when (ms, monotonic) its reads go to the primary */
static struct
{
	_Atomic int32_t product_id;
	_Atomic int64_t until_ms;
}			recent_writes[GW_RECENT_SLOTS];
static _Atomic int64_t lag_checked_ms;
static atomic_int replica_behind;

void
gw_replica_note_write(int32_t product_id)
{
	unsigned	slot = (uint32_t) product_id % GW_RECENT_SLOTS;

	atomic_store(&recent_writes[slot].product_id, product_id);
	atomic_store(&recent_writes[slot].until_ms, gw_now_ms() + gw.read_own_writes_ms);
}

static int
written_recently(int32_t product_id)
{
	unsigned	slot = (uint32_t) product_id % GW_RECENT_SLOTS;

	return atomic_load(&recent_writes[slot].product_id) == product_id &&
		atomic_load(&recent_writes[slot].until_ms) > gw_now_ms();
}

/*
 * Is the replica within --read-max-lag?  Asked at most once a second, on a
 * replica connection: caught up with what it received counts as no lag
 * (an idle primary sends nothing), else the age of the last replayed commit.
 */
static int
replica_fresh(PGconn *pg)
{
	int64_t		now = gw_now_ms();

	if (now - atomic_load(&lag_checked_ms) >= 1000)
	{
		PGresult   *res = PQexec(pg, "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
								 "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
								 "ELSE coalesce(1000 * extract(epoch FROM now() - "
								 "pg_last_xact_replay_timestamp()), 1e12) END::bigint");

		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
			atomic_store(&replica_behind, atoll(PQgetvalue(res, 0, 0)) > gw.read_max_lag_ms);
		else
			atomic_store(&replica_behind, 1);
		PQclear(res);
		atomic_store(&lag_checked_ms, now);
	}
	return !atomic_load(&replica_behind);
}

/* A connection for this statement: the replica for reads when it is fit, else the primary. */
gw_conn *
gw_replica_acquire(const gw_statement *st, const gw_auth *auth, int32_t product_id, int *tried_replica,
				   int target, const char *location, gw_error *err)
{
	if (gw.read_db_uri && st->access == GW_READS && auth->session == NULL && !*tried_replica && !written_recently(product_id))
	{
		gw_error	ignored = {0};
		gw_conn    *c = gw_pool_acquire(auth->basic_user, auth->basic_password, 1, &ignored);

		*tried_replica = 1;
		gw_error_free(&ignored);
		if (c != NULL && replica_fresh(gw_conn_pg(c)))
			return c;
		if (c != NULL)
			gw_pool_release(c, PQstatus(gw_conn_pg(c)) != CONNECTION_OK);
	}
	return gw_pool_acquire_at(auth->basic_user, auth->basic_password, target, location, err);
}

