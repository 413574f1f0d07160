/*
 * call.h
 *		The database call: one statement in its own pipelined transaction as
 *		the request's role (call.c), on the primary or a fit replica
 *		(replica.c).  Statements are data (statements.c): their SQL, their
 *		parameters, and whether they read or write.
 */
#ifndef PI_GATEWAY_CALL_H
#define PI_GATEWAY_CALL_H

#include "gateway.h"

typedef enum gw_access
{
	GW_NEUTRAL = 0,				/* the primary, and $1 is no product id */
	GW_READS,					/* may be answered by a fit replica */
	GW_WRITES					/* the product's ($1) next reads go to the primary for a while */
} gw_access;

typedef struct gw_statement
{
	int			slot;			/* its index in gw_statements: its prepared name is gw<slot> */
	const char *sql;
	int			nparams;		/* $1 is the product id when there is one */
	gw_access	access;
} gw_statement;

typedef enum gw_statement_id
{
	ST_SAVE, ST_SAVE_IF, ST_GET_IMAGE, ST_GET_PART, ST_DELETE, ST_DELETE_IF,
	ST_INFO, ST_PUT_INFO, ST_PUT_INFO_IF, ST_SESSION_OPEN, ST_SESSION_CLOSE, ST_WHOAMI, ST_HEALTH, ST_MAY_CALL,
	ST_PRELUDE, ST_SESSION_ROLE, ST_CLAIMS, ST_TIMEZONE,
	ST_COUNT
} gw_statement_id;

extern const gw_statement gw_statements[ST_COUNT];

/*
 * Run one statement in its own transaction as the request's role, under
 * timeout_ms (0: none).  Serialization failures and deadlocks are retried
 * once, and so is a lost connection.  0 with *out (caller clears), or -1
 * with err filled.
 */
extern int	gw_call_timeout(const gw_statement *st, const gw_auth *auth, const char *const *values,
							const int *lengths, const int *formats, int binary_result,
							int timeout_ms, PGresult **out, gw_error *err);
/* The same under --statement-timeout. */
extern int	gw_call(const gw_statement *st, const gw_auth *auth, const char *const *values,
					const int *lengths, const int *formats, int binary_result,
					PGresult **out, gw_error *err);

/* ---- replica routing (replica.c) ---- */

/*
 * A connection for this statement: the replica for reads when it is fit,
 * else the primary, which is target (GW_TARGET_PRIMARY, or a partition at
 * location: the fast path).
 */
extern gw_conn *gw_replica_acquire(const gw_statement *st, const gw_auth *auth, int32_t product_id,
								   int *tried_replica, int target, const char *location, gw_error *err);
/* A write committed: the product's reads go to the primary for --read-own-writes. */
extern void gw_replica_note_write(int32_t product_id);

/* ---- the fast path past a PL/Proxy node (partitions.c) ---- */

/* Start keeping the partition map (with --fast-path): 0, or -1. */
extern int	gw_partitions_start(void);
/* The partition of a product and its location (connection string), or -1: go through --db-uri. */
extern int	gw_partition_of(int32_t product_id, char *location, size_t size);
/* A partition could not be reached: read the map again now. */
extern void gw_partition_unreachable(void);

#endif							/* PI_GATEWAY_CALL_H */
