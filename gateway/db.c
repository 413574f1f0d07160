/*
 * db.c
 *		A small libpq connection pool.  Entries belong to the authenticator
 *		(--db-uri) or to one Basic-auth user; a Basic entry is reused only for
 *		the same user and the same password, so PostgreSQL stays the judge of
 *		every password.  An entry is connected to a target: the primary
 *		(--db-uri), the replica (--read-db-uri), or a partition behind a
 *		PL/Proxy node (its location from the proxy's partition map, with the
 *		authenticator's own credentials).  Waiting for a free entry is bounded.
 */
#include "gateway.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GW_ACQUIRE_TIMEOUT_S 10

struct gw_conn
{
	PGconn	   *pg;
	char	   *user;			/* NULL: authenticator */
	char	   *password;
	int			in_use;
	int			target;			/* GW_TARGET_PRIMARY, _REPLICA, or _PARTITION + k */
	char	   *location;		/* a partition's connection string, as the map had it */
	uint32_t	prepared;		/* bit n: statement n prepared here */
};

static gw_conn *slices[GW_TARGET_PARTITION + GW_MAX_PARTITIONS];	/* a target's --pool entries */
static int	pool_n;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_free = PTHREAD_COND_INITIALIZER;

int
gw_pool_init(void)
{
	pool_n = gw.pool_size > 0 ? gw.pool_size : 1;
	slices[GW_TARGET_PRIMARY] = calloc((size_t) pool_n, sizeof(gw_conn));
	return slices[GW_TARGET_PRIMARY] ? 0 : -1;
}

/*
 * A target's entries (with pool_lock held): --pool connections for each
 * target, a slice of its own made at its first use, so targets never take
 * each other's connections.  NULL when out of memory.
 */
static gw_conn *
slice_of(int target)
{
	if (slices[target] == NULL)
		slices[target] = calloc((size_t) pool_n, sizeof(gw_conn));
	return slices[target];
}

static void
entry_close(gw_conn *c)
{
	if (c->pg)
		PQfinish(c->pg);
	free(c->user);
	free(c->password);
	free(c->location);
	c->pg = NULL;
	c->user = c->password = c->location = NULL;
	c->prepared = 0;
}

void
gw_pool_shutdown(void)
{
	pthread_mutex_lock(&pool_lock);
	for (int t = 0; t < GW_TARGET_PARTITION + GW_MAX_PARTITIONS; t++)
		for (int i = 0; slices[t] && i < pool_n; i++)
			if (!slices[t][i].in_use)
				entry_close(&slices[t][i]);
	pthread_mutex_unlock(&pool_lock);
}

static int
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * The connection parameters of a Basic login: those of --db-uri (host, port,
 * dbname, TLS settings...) without any credential of the gateway's, then the
 * client's user and password, and a password file that holds nothing.  With
 * expand_dbname off, libpq would otherwise take a password from --db-uri,
 * PGPASSWORD or ~/.pgpass whenever the one given is empty.
 */
static int
basic_params(const char *uri, const char *user, const char *password,
			 const char ***keys_out, const char ***vals_out, PQconninfoOption **opts_out)
{
	PQconninfoOption *opts = PQconninfoParse(uri, NULL);
	size_t		n = 0,
				k = 0;
	const char **keys,
			  **vals;

	if (opts == NULL)
		return -1;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		n++;
	keys = calloc(n + 6, sizeof(char *));
	vals = calloc(n + 6, sizeof(char *));
	if (keys == NULL || vals == NULL)
	{
		free(keys);
		free(vals);
		PQconninfoFree(opts);
		return -1;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
	{
		if (o->val == NULL || o->val[0] == '\0' || strcmp(o->keyword, "user") == 0 ||
			strcmp(o->keyword, "password") == 0 || strcmp(o->keyword, "passfile") == 0 ||
			strcmp(o->keyword, "application_name") == 0 || strcmp(o->keyword, "client_encoding") == 0)
			continue;
		keys[k] = o->keyword;
		vals[k++] = o->val;
	}
	keys[k] = "user";
	vals[k++] = user;
	keys[k] = "password";
	vals[k++] = password;
	keys[k] = "passfile";
	vals[k++] = "/dev/null";
	keys[k] = "application_name";
	vals[k++] = "product-image-gateway";
	keys[k] = "client_encoding";
	vals[k++] = "UTF8";
	*keys_out = keys;
	*vals_out = vals;
	*opts_out = opts;
	return 0;
}

/*
 * PostgreSQL's notices (an identifier truncated, ...) go to our log escaped:
 * libpq's default would print them verbatim, control characters included.
 */
static void
log_notice(void *arg, const char *message)
{
	(void) arg;
	if (gw.quiet)
		return;
	fputs("gateway: database notice: ", stderr);
	for (const unsigned char *p = (const unsigned char *) message; *p; p++)
	{
		if (*p == '\n' && p[1] == '\0')
			break;
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	}
	fputc('\n', stderr);
}

/* The authenticator's role name (--db-uri's user), or NULL when it names none. */
const char *
gw_authenticator(void)
{
	static char name[128];
	static int	done;

	if (!done)
	{
		PQconninfoOption *opts = PQconninfoParse(gw.db_uri, NULL);

		for (PQconninfoOption *o = opts; o && o->keyword; o++)
			if (strcmp(o->keyword, "user") == 0 && o->val)
				snprintf(name, sizeof(name), "%s", o->val);
		PQconninfoFree(opts);
		done = 1;
	}
	return name[0] ? name : NULL;
}

/*
 * A Basic login may be only a role the authenticator could become (as a
 * token's role must be), and never a superuser or a role that bypasses
 * row-level security: HTTP is no door to every login role of the server.
 */
static int
basic_role_allowed(PGconn *pg)
{
	/*
	 * The login itself (SESSION_USER), which every Basic request runs as
	 * (SET LOCAL ROLE NONE): not CURRENT_USER, which a login's own default
	 * (ALTER ROLE ... SET role) names.
	 */
	const char *auth = gw_authenticator();
	const char *params[1] = {auth};
	PGresult   *res = PQexecParams(pg, "SELECT NOT r.rolsuper AND NOT r.rolbypassrls AND "
								   "($1::text IS NOT NULL AND pg_catalog.pg_has_role($1::text, r.oid, 'MEMBER')) "
								   "FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) SESSION_USER",
								   1, NULL, params, NULL, NULL, 0);
	int			ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		strcmp(PQgetvalue(res, 0, 0), "t") == 0;

	PQclear(res);
	return ok;
}

/* Open a connection; on failure fill err (401 for a bad login, else 503). */
/*
 * The authenticator's parameters at a partition: --db-uri's (credentials,
 * TLS and authentication requirements, timeouts) but its place, then the
 * partition's place from the map (host, hostaddr, port, dbname,
 * connect_timeout: nothing else of it, so the map can neither bring a
 * credential nor weaken --db-uri's requirements), UTF-8 and our
 * application name.  0, or -1.
 */
static int
partition_params(const char *location, const char ***keys_out, const char ***vals_out,
				 PQconninfoOption **base_out, PQconninfoOption **loc_out)
{
	PQconninfoOption *base = PQconninfoParse(gw.db_uri, NULL);
	PQconninfoOption *loc = PQconninfoParse(location, NULL);
	const char **keys,
			  **vals;
	int			n = 0,
				k = 0;

	if (base == NULL || loc == NULL)
	{
		PQconninfoFree(base);
		PQconninfoFree(loc);
		return -1;
	}
	for (PQconninfoOption *o = base; o->keyword; o++)
		n++;
	keys = calloc(2 * n + 3, sizeof(char *));
	vals = calloc(2 * n + 3, sizeof(char *));
	if (keys == NULL || vals == NULL)
	{
		free(keys);
		free(vals);
		PQconninfoFree(base);
		PQconninfoFree(loc);
		return -1;
	}
#define PLACE(kw) (strcmp(kw, "host") == 0 || strcmp(kw, "hostaddr") == 0 || strcmp(kw, "port") == 0 || \
					strcmp(kw, "dbname") == 0)
#define OURS(kw) (strcmp(kw, "application_name") == 0 || strcmp(kw, "client_encoding") == 0)
	/* everything but the place from --db-uri; from the map, the place and nothing else */
	for (PQconninfoOption *o = base; o->keyword; o++)
		if (o->val && o->val[0] && !PLACE(o->keyword) && !OURS(o->keyword))
		{
			keys[k] = o->keyword;
			vals[k++] = o->val;
		}
	for (PQconninfoOption *o = loc; o->keyword; o++)
		if (o->val && o->val[0] && (PLACE(o->keyword) || strcmp(o->keyword, "connect_timeout") == 0))
		{
			keys[k] = o->keyword;
			vals[k++] = o->val;
		}
#undef PLACE
#undef OURS
	keys[k] = "application_name";
	vals[k++] = "product-image-gateway";
	keys[k] = "client_encoding";
	vals[k++] = "UTF8";
	*keys_out = keys;
	*vals_out = vals;
	*base_out = base;
	*loc_out = loc;
	return 0;
}

/*
 * The authenticator's connection at a target; NULL with err (503) when it
 * cannot be had.  location: a partition's place, or NULL.
 */
PGconn *
gw_connect_authenticator(int target, const char *location, gw_error *err)
{
	PGconn	   *pg = NULL;

	if (target >= GW_TARGET_PARTITION)
	{
		const char **keys = NULL,
				  **vals = NULL;
		PQconninfoOption *base = NULL,
				   *loc = NULL;

		if (location == NULL || partition_params(location, &keys, &vals, &base, &loc) != 0)
		{
			gw_error_set(err, 503, "08006", "the partition for this product is unavailable", NULL, "Retry later.");
			return NULL;
		}
		pg = PQconnectdbParams(keys, vals, 0);
		free(keys);
		free(vals);
		PQconninfoFree(base);
		PQconninfoFree(loc);
	}
	else
	{
		/* UTF-8 whatever a role's defaults say: our bodies say charset=utf-8 */
		const char *keys[4] = {"dbname", "application_name", "client_encoding", NULL};
		const char *vals[4] = {target == GW_TARGET_REPLICA ? gw.read_db_uri : gw.db_uri,
		"product-image-gateway", "UTF8", NULL};

		pg = PQconnectdbParams(keys, vals, 1);
	}
	if (pg && PQstatus(pg) == CONNECTION_OK)
	{
		PQsetNoticeProcessor(pg, log_notice, NULL);
		return pg;
	}
	if (!gw.quiet)
		fprintf(stderr, "gateway: cannot connect to the %s: %s",
				target >= GW_TARGET_PARTITION ? "partition" : "database",
				pg ? PQerrorMessage(pg) : "out of memory\n");
	if (target >= GW_TARGET_PARTITION)
		gw_error_set(err, 503, "08006", "the partition for this product is unavailable", NULL, "Retry later.");
	else
		gw_error_set(err, 503, "08006", "the database is unavailable", NULL, NULL);
	PQfinish(pg);
	return NULL;
}

static PGconn *
connect_as(const char *user, const char *password, int target, const char *location, gw_error *err)
{
	const char *uri = target == GW_TARGET_REPLICA ? gw.read_db_uri : gw.db_uri;
	PGconn	   *pg;

	if (user == NULL)
		return gw_connect_authenticator(target, location, err);
	{
		const char **keys = NULL,
				  **vals = NULL;
		PQconninfoOption *opts = NULL;

		/*
		 * An empty password is refused before (auth.c); never ask libpq with
		 * one.  Nor with a name longer than PostgreSQL's (NAMEDATALEN - 1)
		 * or a password past GW_MAX_PASSWORD bytes: SCRAM hashes the
		 * password thousands of times, so a megabyte of it would hold a
		 * pool slot (and a core) for seconds, for anyone (an outside
		 * tester's 8 logins of 2 MB each took the whole pool for 16 s).
		 */
		if (password == NULL || password[0] == '\0' || strlen(user) > 63 ||
			strlen(password) > GW_MAX_PASSWORD ||
			basic_params(uri, user, password, &keys, &vals, &opts) != 0)
		{
			gw_error_set(err, 401, "28P01", "invalid user name or password", NULL, NULL);
			return NULL;
		}
		pg = PQconnectdbParams(keys, vals, 0);
		free(keys);
		free(vals);
		PQconninfoFree(opts);
		/*
		 * PostgreSQL must have checked the password: a login it let in
		 * without asking (trust, peer, cert, gss) proves nothing about it.
		 */
		if (pg && PQstatus(pg) == CONNECTION_OK && !PQconnectionUsedPassword(pg))
		{
			if (!gw.quiet)
				fprintf(stderr, "gateway: Basic login as \"%s\" refused: the server did not ask "
						"for a password (pg_hba.conf trust, peer, cert or gss)\n", user);
			PQfinish(pg);
			gw_error_set(err, 401, "28P01", "invalid user name or password", NULL, NULL);
			return NULL;
		}
	}
	if (pg && PQstatus(pg) == CONNECTION_OK && user != NULL && !basic_role_allowed(pg))
	{
		if (!gw.quiet)
			fprintf(stderr, "gateway: Basic login refused: not a role the authenticator may become "
					"(or a superuser, or BYPASSRLS)\n");
		PQfinish(pg);
		gw_error_set(err, 401, "28P01", "invalid user name or password", NULL, NULL);
		return NULL;
	}
	if (pg && PQstatus(pg) == CONNECTION_OK)
	{
		PQsetNoticeProcessor(pg, log_notice, NULL);
		return pg;
	}
	{
		const char *msg = pg ? PQerrorMessage(pg) : "out of memory";

		if (user && (strstr(msg, "authentication failed") || strstr(msg, "does not exist") ||
					 strstr(msg, "no password supplied") || strstr(msg, "not permitted to log in")))
			gw_error_set(err, 401, "28P01", "invalid user name or password", NULL, NULL);
		else
		{
			if (!gw.quiet)
				fprintf(stderr, "gateway: cannot connect to the database: %s", msg);
			gw_error_set(err, 503, "08006", "the database is unavailable", NULL, NULL);
		}
	}
	PQfinish(pg);
	return NULL;
}

/* Give back an entry whose connection could not be opened: it costs no other. */
static void
entry_give_back(gw_conn *c)
{
	entry_close(c);
	pthread_mutex_lock(&pool_lock);
	c->in_use = 0;
	pthread_cond_broadcast(&pool_free);
	pthread_mutex_unlock(&pool_lock);
}

static int
same_place(const gw_conn *e, int target, const char *location)
{
	return e->target == target && same(e->location, location);
}

gw_conn *
gw_pool_acquire_at(const char *user, const char *password, int target, const char *location,
				   gw_error *err)
{
	struct timespec deadline;
	gw_conn    *c = NULL;
	gw_conn    *slice;

	/* a Basic login connects to --db-uri only: never filed under (or sent to) a partition */
	if (target < 0 || target >= GW_TARGET_PARTITION + GW_MAX_PARTITIONS ||
		(user != NULL && target >= GW_TARGET_PARTITION))
	{
		gw_error_set(err, 503, "08006", "the database is unavailable", NULL, NULL);
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += GW_ACQUIRE_TIMEOUT_S;

	pthread_mutex_lock(&pool_lock);
	slice = slice_of(target);
	if (slice == NULL)
	{
		pthread_mutex_unlock(&pool_lock);
		gw_error_set(err, 503, "53300", "out of memory for database connections", NULL, NULL);
		return NULL;
	}
	for (;;)
	{
		gw_conn    *empty = NULL,
				   *other = NULL;

		for (int i = 0; i < pool_n && c == NULL; i++)
		{
			gw_conn    *e = &slice[i];

			if (e->in_use)
				continue;
			if (e->pg && same(e->user, user) && same(e->password, password) && same_place(e, target, location))
				c = e;
			else if (e->pg == NULL && empty == NULL)
				empty = e;
			else if (e->pg != NULL && other == NULL)
				other = e;
		}
		if (c == NULL)
			c = empty ? empty : other;
		if (c)
			break;
		if (pthread_cond_timedwait(&pool_free, &pool_lock, &deadline) == ETIMEDOUT)
		{
			pthread_mutex_unlock(&pool_lock);
			gw_error_set(err, 503, "53300", "all database connections are busy", NULL,
						 "Retry later or raise --pool.");
			return NULL;
		}
	}
	c->in_use = 1;
	pthread_mutex_unlock(&pool_lock);

	/* reuse only a live connection of the same login */
	if (c->pg && (!same(c->user, user) || !same(c->password, password) ||
				  !same_place(c, target, location) || PQstatus(c->pg) != CONNECTION_OK))
		entry_close(c);
	if (c->pg == NULL)
	{
		c->target = target;
		c->pg = connect_as(user, password, target, location, err);
		if (c->pg == NULL)
		{
			/* a refused login or a failed connect: the idle entries stay */
			entry_give_back(c);
			return NULL;
		}
		c->user = user ? strdup(user) : NULL;
		c->password = password ? strdup(password) : NULL;
		c->location = location ? strdup(location) : NULL;
	}
	return c;
}

gw_conn *
gw_pool_acquire(const char *user, const char *password, int replica, gw_error *err)
{
	return gw_pool_acquire_at(user, password, replica ? GW_TARGET_REPLICA : GW_TARGET_PRIMARY, NULL, err);
}

void
gw_pool_release(gw_conn *c, int broken)
{
	if (c == NULL)
		return;
	if (broken || (c->pg && (PQstatus(c->pg) != CONNECTION_OK ||
							 PQtransactionStatus(c->pg) != PQTRANS_IDLE)))
		broken = 1;
	/*
	 * A Basic login's connection serves its one request: reused, it would
	 * keep a password that was changed, or a role made NOLOGIN, working for
	 * as long as the connection lives.  (Not a failure: the idle ones stay.)
	 */
	if (broken || c->user != NULL)
		entry_close(c);
	pthread_mutex_lock(&pool_lock);
	/* what broke one connection (a server restart) broke the idle ones too */
	if (broken)
	{
		gw_conn    *slice = slice_of(c->target);

		for (int i = 0; i < pool_n; i++)
			if (!slice[i].in_use && &slice[i] != c)
				entry_close(&slice[i]);
	}
	c->in_use = 0;
	/* every waiter looks: they may wait for different targets */
	pthread_cond_broadcast(&pool_free);
	pthread_mutex_unlock(&pool_lock);
}

PGconn *
gw_conn_pg(gw_conn *c)
{
	return c->pg;
}

int
gw_conn_is_replica(gw_conn *c)
{
	return c->target == GW_TARGET_REPLICA;
}

int
gw_conn_target(gw_conn *c)
{
	return c->target;
}

int
gw_conn_is_prepared(gw_conn *c, int which)
{
	return (c->prepared & (1u << which)) != 0;
}

void
gw_conn_set_prepared(gw_conn *c, int which)
{
	c->prepared |= 1u << which;
}
