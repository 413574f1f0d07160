/*
 * rendition_cache.c
 *		The rendition cache: lookup, fill, eviction, all as the owner.
 *
 * Keyed by the image and what is produced, not by what was asked: the blob
 * id and its sha256, the rendition's own size, its type and, for JPEG, its
 * quality.  Boxes that give the same picture share one row, and a rendition
 * is right for its source forever (a re-save has another sha256), so no
 * lock on the image is needed to keep the cache right.  Renditions are never
 * shared between images: one product's cache tells nothing of another's.  Bookkeeping never waits and
 * never makes others wait: a fill first takes a try-advisory lock on its key
 * (a concurrent fill of the same key just renders), refreshing last_used and
 * eviction skip rows locked by others, and there is no shared counter row.
 * A reader's open transaction therefore blocks no save, no ImageInfo update,
 * no delete and no fill of another image.  Written only in read-write
 * transactions (a hot standby renders every time).
 *
 * Callers are inside SPI_connect (product_access.c's PiEnter around it).
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "product_image.h"

/* A cached rendition's last_used is refreshed at most this often. */
#define TOUCH_INTERVAL "60 seconds"
/* Rows looked at per eviction statement. */
#define EVICT_BATCH 64
/* pg_try_advisory_xact_lock's first key for cache fills ("PIMG") */
#define FILL_LOCK_CLASS 0x50494d47

#define EQ " OPERATOR(pg_catalog.=) "
#define KEY_WHERE "r.blob_id" EQ "$1 AND r.source" EQ "$2 AND r.w" EQ "$3 AND r.h" EQ "$4 " \
	"AND r.type" EQ "$5 AND r.quality" EQ "$6 "

typedef struct CachePlans
{
	SPIPlanPtr	get;
	SPIPlanPtr	touch;
	SPIPlanPtr	trylock;
	SPIPlanPtr	put;
	SPIPlanPtr	total;
	SPIPlanPtr	evict;
} CachePlans;

static CachePlans plans;

/*
 * The lookup alone: preparing a write plan locks the table as a write does,
 * so a lookup that prepared them would wait behind anyone holding the
 * table in SHARE mode (a backup, a bulk load) although it only reads.
 */
static void
PrepareGet(void)
{
	Oid			key[] = {INT4OID, BYTEAOID, INT4OID, INT4OID, TEXTOID, INT4OID};

	if (plans.get != NULL)
		return;
	plans.get = PrepareKept("SELECT r.data, r.width, r.height, "
							"r.last_used OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) "
							" '" TOUCH_INTERVAL "'::pg_catalog.interval) "
							"FROM product_image.rendition r WHERE " KEY_WHERE, 6, key);
}

/* The plans that write: touch, fill, eviction. */
static void
PreparePlans(void)
{
	Oid			key[] = {INT4OID, BYTEAOID, INT4OID, INT4OID, TEXTOID, INT4OID};
	Oid			lock[] = {INT4OID, INT4OID};
	Oid			put[] = {INT4OID, BYTEAOID, INT4OID, INT4OID, TEXTOID, INT4OID, BYTEAOID, INT4OID, INT4OID};
	Oid			evict[] = {INT8OID};

	if (plans.evict != NULL)
		return;
	plans.touch = PrepareKept("WITH s AS (SELECT r.ctid FROM product_image.rendition r WHERE " KEY_WHERE
							  " FOR UPDATE SKIP LOCKED) "
							  "UPDATE product_image.rendition r SET last_used = pg_catalog.now() "
							  "FROM s WHERE r.ctid" EQ "s.ctid", 6, key);
	plans.trylock = PrepareKept("SELECT pg_catalog.pg_try_advisory_xact_lock($1, $2)", 2, lock);
	plans.put = PrepareKept("INSERT INTO product_image.rendition "
							" (blob_id, source, w, h, type, quality, data, bytes, width, height) "
							"VALUES ($1, $2, $3, $4, $5, $6, $7, pg_catalog.octet_length($7), $8, $9) "
							"ON CONFLICT DO NOTHING", 9, put);
	plans.total = PrepareKept("SELECT pg_catalog.sum(r.bytes) FROM product_image.rendition r", 0, NULL);
	/* the least recently used rows nobody holds, just enough of them to free $1 bytes */
	plans.evict = PrepareKept("WITH v AS (SELECT r.ctid, r.bytes, r.last_used FROM product_image.rendition r "
							  " ORDER BY r.last_used LIMIT " CppAsString2(EVICT_BATCH) " FOR UPDATE SKIP LOCKED), "
							  "s AS (SELECT v.ctid, pg_catalog.sum(v.bytes) OVER (ORDER BY v.last_used, v.ctid) "
							  " OPERATOR(pg_catalog.-) v.bytes AS before FROM v), "
							  "d AS (DELETE FROM product_image.rendition r USING s "
							  " WHERE r.ctid" EQ "s.ctid AND s.before OPERATOR(pg_catalog.<) $1 RETURNING r.bytes) "
							  "SELECT pg_catalog.count(*), pg_catalog.sum(d.bytes) FROM d", 1, evict);
}

static bool
CacheWritable(void)
{
	return !RecoveryInProgress() && !XactReadOnly;
}

/* Keep the cache within product_image.rendition_cache_max_bytes. */
static void
Evict(void)
{
	int64		max = (int64) pi_rendition_cache_max_kb * 1024;
	int64		total;
	bool		isnull;
	Datum		d;

	/* not read-only: the fill just made must be counted */
	if (PiRunAsOwner(plans.total, NULL, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "reading the rendition cache's size failed");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	total = isnull ? 0 : DatumGetInt64(d);
	for (int i = 0; i < 1000 && total > max; i++)
	{
		Datum		arg = Int64GetDatum(total - max);
		int64		deleted;

		if (PiRunAsOwner(plans.evict, &arg, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "evicting renditions failed");
		deleted = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		if (!isnull)
			total -= DatumGetInt64(d);
		if (deleted == 0)
			break;				/* the rest is held by others, who evict too */
	}
}

void
PiCacheKeyMake(PiCacheKey *k, int32 blob_id, bytea *source, uint32 w, uint32 h, pi_format type,
			   int32 quality)
{
	StringInfoData buf;

	k->values[0] = Int32GetDatum(blob_id);
	k->values[1] = PointerGetDatum(source);
	k->values[2] = Int32GetDatum((int32) w);
	k->values[3] = Int32GetDatum((int32) h);
	k->values[4] = CStringGetTextDatum(pi_format_name(type));
	k->values[5] = Int32GetDatum(quality);
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, VARDATA_ANY(source), VARSIZE_ANY_EXHDR(source));
	appendStringInfo(&buf, "/%d/%u/%u/%s/%d", blob_id, w, h, pi_format_name(type), quality);
	k->lock = (int32) hash_bytes((const unsigned char *) buf.data, buf.len);
	pfree(buf.data);
}

bytea *
PiCacheGet(const PiCacheKey *k, int32 *width, int32 *height)
{
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull,
				stale;
	bytea	   *result;

	PrepareGet();
	if (PiRunAsOwner(plans.get, (Datum *) k->values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading the rendition cache failed");
	if (SPI_processed == 0)
		return NULL;
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	result = PiCopyOut(SPI_getbinval(row, desc, 1, &isnull));
	*width = DatumGetInt32(SPI_getbinval(row, desc, 2, &isnull));
	*height = DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull));
	stale = DatumGetBool(SPI_getbinval(row, desc, 4, &isnull));
	/* a row another transaction holds is left as it is */
	if (stale && CacheWritable())
	{
		PreparePlans();
		PiRunAsOwner(plans.touch, (Datum *) k->values, NULL, false, 0);
	}
	return result;
}

void
PiCachePut(const PiCacheKey *k, bytea *image, int32 width, int32 height)
{
	Datum		lock[2] = {Int32GetDatum(FILL_LOCK_CLASS), Int32GetDatum(k->lock)};
	Datum		put[9];
	bool		isnull;

	if (!CacheWritable())
		return;
	PreparePlans();
	if (PiRunAsOwner(plans.trylock, lock, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "locking a rendition cache key failed");
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		return;					/* another transaction is filling it: it stores the same bytes */
	memcpy(put, k->values, sizeof(k->values));
	put[6] = PointerGetDatum(image);
	put[7] = Int32GetDatum(width);
	put[8] = Int32GetDatum(height);
	if (PiRunAsOwner(plans.put, put, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "writing the rendition cache failed");
	if (SPI_processed == 1)
		Evict();
}
