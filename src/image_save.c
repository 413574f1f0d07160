/*
 * image_save.c
 *		product_save_image(product_id int, image bytea) returns int
 *
 * Validate the image (CheckImage), ask as the caller whether the product is
 * visible (GRANTs and row-level security on the product table decide, see
 * product_access.c), then in SPI with kept plans:
 *	1. lock the product row FOR KEY SHARE, as the product table's owner (not
 *	   ours: nothing of that table may run with more than its owner's rights),
 *	   so a concurrent DELETE of the product waits for us (its cascade then
 *	   sees our blob; nothing is orphaned), and the caller needs no UPDATE
 *	   right on the product table;
 *	2. as our owner, UPDATE the product's blob row; only when there is none,
 *	   INSERT it with ON CONFLICT on the unique product_id.
 *	   Concurrent saves of the same product serialize on that row (or index
 *	   entry), saves of different products never wait on each other, and a
 *	   re-save keeps the blob id and the user-entered fields.
 * Plans are generic, so the image is never copied into a plan; it goes to
 * the UPDATE or INSERT as the same detoasted datum the decoder read (or its
 * compressed form, see StoredForm), and sha256 and its size are computed
 * by the server from it.
 */
#include "postgres.h"

#if PG_VERSION_NUM >= 140000
#include "access/toast_compression.h"
#include "access/toast_internals.h"
#endif
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"

#include "product_image.h"

PG_FUNCTION_INFO_V1(product_save_image);

#define SAVE_NARGS 19

/* The lock plan names the product table: rebuilt when it changes. */
typedef struct SaveCache
{
	uint64		generation;		/* of the PiProduct it was made for */
	SPIPlanPtr	lock_plan;		/* lock the product row, as the product table's owner */
	SPIPlanPtr	resave_plan;	/* UPDATE the product's blob, as our owner */
	SPIPlanPtr	insert_plan;	/* INSERT its first blob, as our owner */
	SPIPlanPtr	create_plan;	/* INSERT only when there is none (If-None-Match) */
	SPIPlanPtr	exists_plan;	/* is there a blob (a failed condition, or none)? */
} SaveCache;

static SaveCache cache;

/*
 * How an image is stored: compressed (IsZipped, BlobSize the compressed
 * size, OriginalSize the image's) when that saves at least a tenth, else as
 * it is.  Most images are compressed already (JPEG, PNG, GIF, WebP, a
 * Deflate or JPEG TIFF) and a compressor's try on their whole bytes is time
 * lost (a plain bytea column's pglz tries every value), so a sample from
 * the middle of the image is compressed first, and only one that shrinks by
 * a tenth has the whole image compressed.  LZ4 where PostgreSQL has it (fast
 * both ways), else pglz.  Reads are unchanged: PostgreSQL decompresses.
 * Only images up to MAX_COMPRESS_BYTES: a slice of a compressed value
 * (product_get_image_part, the gateway's streaming) decompresses from its
 * start, so streaming a large one would cost the square of its size.
 * PostgreSQL 13 (no toast_compress_datum with a method) stores every image
 * as it is.
 */
#define SAMPLE_BYTES	8192
#define MIN_SAVING_TENTHS 1
#define MAX_COMPRESS_BYTES (4 * 1024 * 1024)

#if PG_VERSION_NUM >= 140000
#ifdef USE_LZ4
#define STORE_METHOD TOAST_LZ4_COMPRESSION
#else
#define STORE_METHOD TOAST_PGLZ_COMPRESSION
#endif

static bool
SavesTenth(Size raw, Size packed)
{
	return packed <= raw - raw * MIN_SAVING_TENTHS / 10;
}
#endif

static Datum
StoredForm(bytea *image, bool *zipped)
{
#if PG_VERSION_NUM >= 140000
	Size		len = VARSIZE_ANY_EXHDR(image);
	Datum		packed;

	*zipped = false;
	if (len < 2 * SAMPLE_BYTES || len > MAX_COMPRESS_BYTES)
		return PointerGetDatum(image);
	{
		bytea	   *sample = palloc(VARHDRSZ + SAMPLE_BYTES);
		Datum		c;

		SET_VARSIZE(sample, VARHDRSZ + SAMPLE_BYTES);
		memcpy(VARDATA(sample), VARDATA_ANY(image) + len / 2 - SAMPLE_BYTES / 2, SAMPLE_BYTES);
		c = toast_compress_datum(PointerGetDatum(sample), STORE_METHOD);
		pfree(sample);
		if (DatumGetPointer(c) == NULL)
			return PointerGetDatum(image);
		if (!SavesTenth(SAMPLE_BYTES, VARSIZE(DatumGetPointer(c)) - VARHDRSZ))
		{
			pfree(DatumGetPointer(c));
			return PointerGetDatum(image);
		}
		pfree(DatumGetPointer(c));
	}
	packed = toast_compress_datum(PointerGetDatum(image), STORE_METHOD);
	if (DatumGetPointer(packed) == NULL)
		return PointerGetDatum(image);
	if (!SavesTenth(len, VARSIZE(DatumGetPointer(packed)) - VARHDRSZ))
	{
		pfree(DatumGetPointer(packed));
		return PointerGetDatum(image);
	}
	*zipped = true;
	return packed;
#else
	*zipped = false;
	return PointerGetDatum(image);
#endif
}

/*
 * The decoded fields, in the parameter order of both write plans: $2 the
 * stored form, $17 the image (its sha256), $18 the stored size, $19 zipped.
 */
static void
FillParams(Datum *values, char *nulls, int32 product_id, Datum image, const pi_header *h)
{
	bool		zipped;
	Datum		stored = StoredForm(DatumGetByteaPP(image), &zipped);

	memset(nulls, ' ', SAVE_NARGS);
	values[0] = Int32GetDatum(product_id);
	values[1] = stored;
	values[16] = image;
	values[17] = Int32GetDatum((int32) VARSIZE_ANY_EXHDR(DatumGetPointer(stored)));
	values[18] = BoolGetDatum(zipped);
	values[2] = CStringGetTextDatum(h->mime_type);
	values[3] = CStringGetTextDatum(pi_format_name(h->format));
	values[4] = Int32GetDatum((int32) h->width);
	values[5] = Int32GetDatum((int32) h->height);
	values[6] = Int32GetDatum(h->bit_depth);
	values[7] = Int32GetDatum(h->channels);
	values[8] = CStringGetTextDatum(h->color_type[0] ? h->color_type : "unknown");
	values[9] = BoolGetDatum(h->has_alpha != 0);
	values[10] = Int32GetDatum((int32) Min(h->frames, (uint32) PG_INT32_MAX));
	values[11] = BoolGetDatum(h->interlaced != 0);
	values[12] = Int32GetDatum(h->orientation);
	if (h->orientation == 0)
		nulls[12] = 'n';
	values[13] = PiCallerName();
	nulls[14] = nulls[15] = 'n';	/* no If-Match, no If-None-Match */
}

#define SAVE_SET_LIST \
	"data = $2, blob_size = $18, original_size = pg_catalog.octet_length($17), is_zipped = $19, " \
	"mime_type = $3, format = $4, width = $5, height = $6, bit_depth = $7, channels = $8, " \
	"color_type = $9, has_alpha = $10, frames = $11, interlaced = $12, orientation = $13, " \
	"sha256 = pg_catalog.sha256($17), updated = pg_catalog.now(), updated_by = $14 "

/* Prepare the plans (the lock's again when the product table changed). */
static void
PrepareSavePlans(const PiProduct *p)
{
	static Oid	argtypes[SAVE_NARGS] = {INT4OID, BYTEAOID, TEXTOID, TEXTOID, INT4OID, INT4OID,
		INT4OID, INT4OID, TEXTOID, BOOLOID, INT4OID, BOOLOID, INT4OID, NAMEOID, TEXTOID, TEXTOID,
	BYTEAOID, INT4OID, BOOLOID};
	Oid			lock_args[] = {INT8OID};
	StringInfoData sql;

	initStringInfo(&sql);
	if (cache.lock_plan)
		SPI_freeplan(cache.lock_plan);
	cache.lock_plan = NULL;
	appendStringInfo(&sql, "SELECT 1 FROM %s WHERE %s OPERATOR(pg_catalog.=) $1 FOR KEY SHARE",
					 p->qualified, p->key);
	cache.lock_plan = PrepareKept(sql.data, 1, lock_args);
	cache.generation = p->generation;
	if (cache.resave_plan)
		return;

	resetStringInfo(&sql);
	/*
	 * $15, If-Match: "*" or ETags (the sha256 in hex) one of which the
	 * stored image must have; $16, If-None-Match: "*" (there must be none)
	 * or ETags it must not have.  Checked in the UPDATE itself, so a
	 * concurrent save is waited for and the condition judged again.
	 */
	appendStringInfo(&sql, "UPDATE product_image.blob AS b SET " SAVE_SET_LIST
					 "WHERE b.product_id OPERATOR(pg_catalog.=) $1 "
					 "AND ($15 IS NULL OR $15 OPERATOR(pg_catalog.=) '*' OR pg_catalog.encode(b.sha256, 'hex') "
					 " OPERATOR(pg_catalog.=) ANY (pg_catalog.string_to_array($15, ','))) "
					 "AND ($16 IS NULL OR ($16 OPERATOR(pg_catalog.<>) '*' AND NOT pg_catalog.encode(b.sha256, 'hex') "
					 " OPERATOR(pg_catalog.=) ANY (pg_catalog.string_to_array($16, ',')))) "
					 "RETURNING b.blob_id");
	cache.resave_plan = PrepareKept(sql.data, SAVE_NARGS, argtypes);

	resetStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO product_image.blob AS b (product_id, data, blob_size, "
					 " original_size, mime_type, format, width, height, bit_depth, channels, color_type, "
					 " has_alpha, frames, interlaced, orientation, sha256, created_by, updated_by, is_zipped) "
					 "VALUES ($1, $2, $18, pg_catalog.octet_length($17), "
					 " $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, pg_catalog.sha256($17), $14, $14, $19) "
					 "ON CONFLICT (product_id) DO UPDATE SET " SAVE_SET_LIST
					 "RETURNING b.blob_id");
	cache.insert_plan = PrepareKept(sql.data, SAVE_NARGS, argtypes);

	resetStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO product_image.blob AS b (product_id, data, blob_size, "
					 " original_size, mime_type, format, width, height, bit_depth, channels, color_type, "
					 " has_alpha, frames, interlaced, orientation, sha256, created_by, updated_by, is_zipped) "
					 "SELECT $1, $2, $18, pg_catalog.octet_length($17), "
					 " $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, pg_catalog.sha256($17), $14, $14, $19 "
					 "ON CONFLICT (product_id) DO NOTHING RETURNING b.blob_id");
	cache.create_plan = PrepareKept(sql.data, SAVE_NARGS, argtypes);
	cache.exists_plan = PrepareKept("SELECT 1 FROM product_image.blob b "
									"WHERE b.product_id OPERATOR(pg_catalog.=) $1", SAVE_NARGS, argtypes);
}


/*
 * Lock the product and refresh its blob, or insert the first one; return
 * the blob id.  The product row is locked FOR KEY SHARE (as the product
 * table's owner, once the caller has seen it), so a concurrent DELETE of the
 * product waits for us and its cascade then sees our blob.  A re-save is a
 * plain UPDATE (one copy of the image in the new tuple; ON CONFLICT DO
 * UPDATE would hold two); a first save takes an INSERT whose ON CONFLICT
 * covers a concurrent first save of the same product.
 */
static int32
SaveBlob(int32 product_id, Datum image, const pi_header *h, text *if_match, text *if_none_match)
{
	Datum		values[SAVE_NARGS];
	char		nulls[SAVE_NARGS];
	Datum		key = Int64GetDatum(product_id);
	bool		isnull;
	int			rc;
	const PiProduct *p;

	if (!PiProductVisible(product_id))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("product %d does not exist", product_id)));
	p = PiGetProduct();
	if (cache.lock_plan == NULL || cache.generation != p->generation)
		PrepareSavePlans(p);
	rc = PiRunAsProductOwner(cache.lock_plan, &key, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "locking the product failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)		/* gone meanwhile */
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("product %d does not exist", product_id)));
	FillParams(values, nulls, product_id, image, h);
	if (if_match)
	{
		values[14] = PointerGetDatum(if_match);
		nulls[14] = ' ';
	}
	if (if_none_match)
	{
		values[15] = PointerGetDatum(if_none_match);
		nulls[15] = ' ';
	}

	rc = PiRunAsOwner(cache.resave_plan, values, nulls, false, 1);
	if (rc != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "saving the image failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
		return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	if (if_match || if_none_match)
	{
		/* no row updated: an image failing the condition, or none at all */
		if (PiRunAsOwner(cache.exists_plan, values, nulls, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "saving the image failed");
		if (SPI_processed > 0 || if_match)
			PiPreconditionFailed(product_id);
		/* none, and If-None-Match allows a first one: unless another came first */
		rc = PiRunAsOwner(cache.create_plan, values, nulls, false, 1);
		if (rc != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "saving the image failed: %s", SPI_result_code_string(rc));
		if (SPI_processed != 1)
			PiPreconditionFailed(product_id);
		return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}

	rc = PiRunAsOwner(cache.insert_plan, values, nulls, false, 1);
	if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "saving the image failed: %s", SPI_result_code_string(rc));
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Validate, store, refresh ImageInfo; return the blob id. */
Datum
product_save_image(PG_FUNCTION_ARGS)
{
	int32		product_id;
	bytea	   *image;
	pi_header	h;
	int32		blob_id;
	int			level;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("Image bitmap is missing from body.")));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("product id must not be null")));
	product_id = PG_GETARG_INT32(0);
	image = PG_GETARG_BYTEA_PP(1);

	CheckImage((const uint8 *) VARDATA_ANY(image), VARSIZE_ANY_EXHDR(image), &h);

	level = PiEnter();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	blob_id = SaveBlob(product_id, PointerGetDatum(image), &h,
					   PG_NARGS() > 2 && !PG_ARGISNULL(2) ? PG_GETARG_TEXT_PP(2) : NULL,
					   PG_NARGS() > 3 && !PG_ARGISNULL(3) ? PG_GETARG_TEXT_PP(3) : NULL);
	SPI_finish();
	PiLeave(level);

	PG_RETURN_INT32(blob_id);
}
