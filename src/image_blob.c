/*
 * image_blob.c
 *		product_get_image(id), product_get_image_info(id),
 *		product_put_image_info(id, info), product_delete_image(id).
 *
 * Each asks as the caller whether the product is visible and then reads or
 * writes product_image.blob as its owner (product_access.c): a product the
 * caller's GRANTs or row-level security hide behaves as one that does not
 * exist (NULL, false or P0002), and no caller needs a right on blob.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "product_image.h"

PG_FUNCTION_INFO_V1(product_get_image);
PG_FUNCTION_INFO_V1(product_get_image_info);
PG_FUNCTION_INFO_V1(product_put_image_info);
PG_FUNCTION_INFO_V1(product_delete_image);

typedef enum BlobOp
{
	OP_GET_IMAGE,
	OP_GET_INFO,
	OP_PUT_INFO,
	OP_CHECK_INFO,
	OP_DELETE,
	OP_COUNT
} BlobOp;

/* $1 is the product id; $2 the ImageInfo; $3 the caller's name. */
static const char *const op_sql[OP_COUNT] = {
	"SELECT b.data FROM product_image.blob b WHERE b.product_id OPERATOR(pg_catalog.=) $1",
	"SELECT product_image.blob_entity(b) FROM product_image.blob b "
	"WHERE b.product_id OPERATOR(pg_catalog.=) $1",
	"UPDATE product_image.blob AS b SET "
	" description = product_image.image_info_text($2, 'Description', b.description), "
	" extra_info = product_image.image_info_text($2, 'ExtraInfo', b.extra_info), "
	" conceptual_type = product_image.image_info_text($2, 'ConceptualType', b.conceptual_type), "
	" updated = pg_catalog.now(), updated_by = $3 "
	"WHERE b.product_id OPERATOR(pg_catalog.=) $1 RETURNING product_image.blob_entity(b)",
	"SELECT product_image.image_info_check($2)",
	"WITH d AS (DELETE FROM product_image.blob b WHERE b.product_id OPERATOR(pg_catalog.=) $1 "
	" RETURNING 1) SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM d",
};

static SPIPlanPtr op_plan[OP_COUNT];

/*
 * Run op for product_id (ImageInfo in info) as the owner, once the caller
 * has seen the product; the first column of its row, out of SPI, or
 * *isnull when there is no row (or no visible product).
 */
static Datum
RunOp(BlobOp op, int32 product_id, Datum info, bool *isnull)
{
	Oid			argtypes[] = {INT4OID, JSONBOID, NAMEOID};
	Datum		args[3];
	char		nulls[3] = {' ', info == (Datum) 0 ? 'n' : ' ', ' '};
	Datum		result = (Datum) 0;
	int			level = PiEnter();
	int			rc;

	*isnull = true;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (op_plan[op] == NULL)
		op_plan[op] = PrepareKept(op_sql[op], 3, argtypes);
	args[0] = Int32GetDatum(product_id);
	args[1] = info;
	args[2] = PiCallerName();
	if (op == OP_PUT_INFO)
	{
		/* the ImageInfo's shape first, whatever the product: 22023, 22001 */
		if (op_plan[OP_CHECK_INFO] == NULL)
			op_plan[OP_CHECK_INFO] = PrepareKept(op_sql[OP_CHECK_INFO], 3, argtypes);
		if (SPI_execute_plan(op_plan[OP_CHECK_INFO], args, nulls, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "checking the image info failed");
	}
	if (PiProductVisible(product_id))
	{
		rc = PiRunAsOwner(op_plan[op], args, nulls, op == OP_GET_IMAGE || op == OP_GET_INFO, 1);
		if (rc < 0)
			elog(ERROR, "product_image: statement failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 1)
		{
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);

			if (!*isnull)
				result = op == OP_DELETE ? d : PointerGetDatum(PiCopyOut(d));
		}
	}
	SPI_finish();
	PiLeave(level);
	return result;
}

/* product_get_image(product_id int) returns bytea: the stored bytes, NULL when none. */
Datum
product_get_image(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		d = RunOp(OP_GET_IMAGE, PG_GETARG_INT32(0), (Datum) 0, &isnull);

	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(d);
}

/* product_get_image_info(product_id int) returns jsonb: the BlobEntity, NULL when none. */
Datum
product_get_image_info(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		d = RunOp(OP_GET_INFO, PG_GETARG_INT32(0), (Datum) 0, &isnull);

	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(d);
}

/* product_put_image_info(product_id int, info jsonb) returns jsonb; P0002 when no image. */
Datum
product_put_image_info(PG_FUNCTION_ARGS)
{
	bool		isnull;
	int32		product_id;
	Datum		d;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("image info must be a JSON object"),
				 errdetail("Writable properties are Description, ExtraInfo and ConceptualType.")));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("product id must not be null")));
	product_id = PG_GETARG_INT32(0);
	d = RunOp(OP_PUT_INFO, product_id, PG_GETARG_DATUM(1), &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("product %d has no image", product_id)));
	PG_RETURN_DATUM(d);
}

/* product_delete_image(product_id int) returns boolean: true if there was an image. */
Datum
product_delete_image(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		d = RunOp(OP_DELETE, PG_GETARG_INT32(0), (Datum) 0, &isnull);

	PG_RETURN_BOOL(!isnull && DatumGetBool(d));
}

PG_FUNCTION_INFO_V1(product_get_image_part);

/*
 * product_get_image_part(product_id int, etag text, offset bigint, length int)
 * returns bytea: length bytes of the stored image from offset (0-based), when
 * its ETag (the sha256 in hex) is still etag; NULL when the image is gone,
 * changed or hidden.  The column is STORAGE EXTERNAL, so only the TOAST
 * chunks of the slice are read: the gateway streams large originals with it.
 */
Datum
product_get_image_part(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[] = {INT4OID, TEXTOID, INT8OID, INT4OID};
	Datum		args[4];
	int32		product_id;
	int64		offset;
	int32		length;
	Datum		result = (Datum) 0;
	bool		isnull = true;
	int			level;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	product_id = PG_GETARG_INT32(0);
	offset = PG_GETARG_INT64(2);
	length = PG_GETARG_INT32(3);
	if (offset < 0 || offset > PG_INT32_MAX || length < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("offset must be from 0 and length at least 1, not %lld and %d",
						(long long) offset, length)));
	level = PiEnter();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
		plan = PrepareKept("SELECT pg_catalog.substring(b.data, ($3 OPERATOR(pg_catalog.+) 1)::pg_catalog.int4, $4) "
						   "FROM product_image.blob b WHERE b.product_id OPERATOR(pg_catalog.=) $1 "
						   "AND pg_catalog.encode(b.sha256, 'hex') OPERATOR(pg_catalog.=) $2",
						   4, argtypes);
	args[0] = Int32GetDatum(product_id);
	args[1] = PG_GETARG_DATUM(1);
	args[2] = Int64GetDatum(offset);
	args[3] = Int32GetDatum(length);
	if (PiProductVisible(product_id) &&
		PiRunAsOwner(plan, args, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			result = PointerGetDatum(PiCopyOut(d));
	}
	SPI_finish();
	PiLeave(level);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(product_delete_image_if);

/*
 * product_delete_image(product_id int, if_match text) returns boolean: the
 * delete only when the stored image has one of the ETags (or any, "*"),
 * judged in the DELETE itself; else PI412 (HTTP 412), also when there is
 * no image (RFC 9110: If-Match fails without a current representation).
 */
Datum
product_delete_image_if(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[] = {INT4OID, TEXTOID};
	Datum		args[2];
	int32		product_id;
	bool		deleted = false;
	int			level;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	product_id = PG_GETARG_INT32(0);
	if (PG_ARGISNULL(1))
		PG_RETURN_DATUM(DirectFunctionCall1(product_delete_image, Int32GetDatum(product_id)));
	level = PiEnter();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
		plan = PrepareKept("WITH d AS (DELETE FROM product_image.blob b WHERE b.product_id OPERATOR(pg_catalog.=) $1 "
						   "AND ($2 OPERATOR(pg_catalog.=) '*' OR pg_catalog.encode(b.sha256, 'hex') "
						   "OPERATOR(pg_catalog.=) ANY (pg_catalog.string_to_array($2, ','))) RETURNING 1) "
						   "SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM d", 2, argtypes);
	args[0] = Int32GetDatum(product_id);
	args[1] = PG_GETARG_DATUM(1);
	if (PiProductVisible(product_id) &&
		PiRunAsOwner(plan, args, NULL, false, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;

		deleted = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	PiLeave(level);
	if (!deleted)
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE('P', 'I', '4', '1', '2')),
				 errmsg("the image of product %d is not the one the condition names", product_id),
				 errhint("If-Match names the ETag the stored image must have.")));
	PG_RETURN_BOOL(true);
}
