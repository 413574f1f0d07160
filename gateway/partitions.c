/*
 * partitions.c
 *		The fast path past a PL/Proxy node: the partition map, learnt from
 *		the proxy itself (product_image.partition_map(): the partitions'
 *		connection strings as its cluster's SQL/MED server lists them, and a
 *		version that changes with them), so a request with a product id goes
 *		straight to its partition, the image as a binary parameter, instead
 *		of through the proxy's text protocol.  The partition of product i is
 *		i & (n - 1), PL/Proxy's RUN ON product_id with n a power of two.
 *
 * One thread keeps the map: it reads it at start, then once a second (a
 * changed version, e.g. resharding's ALTER SERVER, is picked up without a
 * restart) and at once when a request could not reach a partition.  A
 * database that is no proxy, or a map that is not a power of two, means no
 * fast path: every request goes to --db-uri as before.
 */
#include "call.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t map_poke = PTHREAD_COND_INITIALIZER;
static int	map_n;				/* 0: no fast path */
static char *map_loc[GW_MAX_PARTITIONS];
static char map_version[64];
static int	poked;

static void
map_clear_locked(void)
{
	for (int i = 0; i < map_n; i++)
	{
		free(map_loc[i]);
		map_loc[i] = NULL;
	}
	map_n = 0;
	map_version[0] = '\0';
}

/*
 * Read the map from the proxy on pg: 0 (the map as it is now), 1 (no proxy
 * here: no fast path, for good), or -1 (not read: try again).
 */
static int
map_load(PGconn *pg)
{
	PGresult   *res = PQexec(pg, "SELECT partition, partitions, connstr, version "
							 "FROM product_image.partition_map()");
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	int			n,
				ok;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		/* no such function (not a proxy, or an older one), or no right to it: no fast path */
		int			none = state && (strcmp(state, "42883") == 0 || strcmp(state, "3F000") == 0 ||
									 strcmp(state, "42501") == 0);

		/* a single node has no map (42883): nothing to say; a proxy that refuses it is worth a line */
		if (state && strcmp(state, "42501") == 0 && !gw.quiet)
			fprintf(stderr, "gateway: no fast path: %s", PQresultErrorMessage(res));
		PQclear(res);
		if (!none)
			return -1;
		pthread_mutex_lock(&map_lock);
		map_clear_locked();
		pthread_mutex_unlock(&map_lock);
		return 1;
	}
	n = PQntuples(res);
	/* partitions 0..n-1 in order, n a power of two, as RUN ON product_id needs */
	ok = n > 0 && n <= GW_MAX_PARTITIONS && (n & (n - 1)) == 0;
	for (int i = 0; ok && i < n; i++)
		ok = atoi(PQgetvalue(res, i, 0)) == i && atoi(PQgetvalue(res, i, 1)) == n &&
			!PQgetisnull(res, i, 2);
	pthread_mutex_lock(&map_lock);
	if (!ok || strcmp(PQgetvalue(res, 0, 3), map_version) != 0 || map_n != n)
	{
		if (!gw.quiet && (ok || map_n > 0))
			fprintf(stderr, "gateway: partition map %s: %d partition%s\n", ok ? "read" : "unusable, using the proxy",
					ok ? n : 0, n == 1 ? "" : "s");
		map_clear_locked();
		if (ok)
		{
			for (int i = 0; i < n; i++)
				map_loc[i] = strdup(PQgetvalue(res, i, 2));
			map_n = n;
			snprintf(map_version, sizeof(map_version), "%s", PQgetvalue(res, 0, 3));
			for (int i = 0; i < n; i++)
				if (map_loc[i] == NULL)
					map_clear_locked();
		}
	}
	pthread_mutex_unlock(&map_lock);
	PQclear(res);
	return 0;
}

static void *
map_keeper(void *arg)
{
	PGconn	   *pg = NULL;

	(void) arg;
	for (;;)
	{
		struct timespec until;

		if (pg == NULL || PQstatus(pg) != CONNECTION_OK)
		{
			gw_error	err = {0};

			PQfinish(pg);
			pg = gw_connect_authenticator(GW_TARGET_PRIMARY, NULL, &err);
			gw_error_free(&err);
		}
		if (pg != NULL)
		{
			int			rc = map_load(pg);

			if (rc == 1)
				break;
			if (rc != 0)
			{
				PQfinish(pg);
				pg = NULL;
			}
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_mutex_lock(&map_lock);
		while (!poked && pthread_cond_timedwait(&map_poke, &map_lock, &until) == 0)
			;
		poked = 0;
		pthread_mutex_unlock(&map_lock);
	}
	PQfinish(pg);
	return NULL;
}

int
gw_partitions_start(void)
{
	pthread_t	t;

	if (!gw.fast_path)
		return 0;
	if (pthread_create(&t, NULL, map_keeper, NULL) != 0)
		return -1;
	pthread_detach(t);
	return 0;
}

int
gw_partition_of(int32_t product_id, char *location, size_t size)
{
	int			k = -1;

	pthread_mutex_lock(&map_lock);
	if (map_n > 0)
	{
		k = (int) ((uint32_t) product_id & (uint32_t) (map_n - 1));
		if ((size_t) snprintf(location, size, "%s", map_loc[k]) >= size)
			k = -1;
	}
	pthread_mutex_unlock(&map_lock);
	return k;
}

void
gw_partition_unreachable(void)
{
	pthread_mutex_lock(&map_lock);
	poked = 1;
	pthread_cond_signal(&map_poke);
	pthread_mutex_unlock(&map_lock);
}
