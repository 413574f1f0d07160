/*
 * image_blob.c
 *		product_get_image(id), product_get_image_info(id),
 *		product_put_image_info(id, info), product_delete_image(id[, if_match]),
 *		product_get_image_part(id, etag, offset, length).
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
PG_FUNCTION_INFO_V1(product_delete_image_if);
PG_FUNCTION_INFO_V1(product_get_image_part);

typedef enum BlobOp
{
	OP_GET_IMAGE,
	OP_GET_INFO,
	OP_PUT_INFO,
	OP_PUT_INFO_IF,
	OP_CHECK_INFO,
	OP_DELETE,
	OP_DELETE_IF,
	OP_GET_PART,
	OP_COUNT
} BlobOp;

#define EQ " OPERATOR(pg_catalog.=) "
#define ETAG_IN(list) "pg_catalog.encode(b.sha256, 'hex')" EQ "ANY (pg_catalog.string_to_array(" list ", ','))"

/* Each statement, its parameters ($1 is the product id but in OP_CHECK_INFO). */
static const struct
{
	const char *sql;
	int			nargs;
	Oid			argtypes[4];
	bool		read_only;
	bool		byval;			/* the result is a boolean, not a varlena */
}			ops[OP_COUNT] = {
	[OP_GET_IMAGE] = {"SELECT b.data FROM product_image.blob b WHERE b.product_id" EQ "$1",
	1, {INT4OID}, true, false},
	[OP_GET_INFO] = {"SELECT product_image.blob_entity(b) FROM product_image.blob b "
		"WHERE b.product_id" EQ "$1", 1, {INT4OID}, true, false},
	/* $2 the ImageInfo, $3 the caller's name */
	[OP_PUT_INFO] = {"UPDATE product_image.blob AS b SET "
		" description = product_image.image_info_text($2, 'Description', b.description), "
		" extra_info = product_image.image_info_text($2, 'ExtraInfo', b.extra_info), "
		" conceptual_type = product_image.image_info_text($2, 'ConceptualType', b.conceptual_type), "
		" updated = pg_catalog.now(), updated_by = $3 "
		"WHERE b.product_id" EQ "$1 RETURNING product_image.blob_entity(b)",
	3, {INT4OID, JSONBOID, NAMEOID}, false, false},
	/* $4 If-Match: "*" or ImageInfo ETags (the md5 of its JSON), judged in the UPDATE itself */
	[OP_PUT_INFO_IF] = {"UPDATE product_image.blob AS b SET "
		" description = product_image.image_info_text($2, 'Description', b.description), "
		" extra_info = product_image.image_info_text($2, 'ExtraInfo', b.extra_info), "
		" conceptual_type = product_image.image_info_text($2, 'ConceptualType', b.conceptual_type), "
		" updated = pg_catalog.now(), updated_by = $3 "
		"WHERE b.product_id" EQ "$1 AND ($4" EQ "'*' OR pg_catalog.md5(product_image.blob_entity(b)::pg_catalog.text)"
		EQ "ANY (pg_catalog.string_to_array($4, ','))) RETURNING product_image.blob_entity(b)",
	4, {INT4OID, JSONBOID, NAMEOID, TEXTOID}, false, false},
	/* as the caller: the ImageInfo's shape ($1), whatever the product */
	[OP_CHECK_INFO] = {"SELECT product_image.image_info_check($1)", 1, {JSONBOID}, true, false},
	[OP_DELETE] = {"WITH d AS (DELETE FROM product_image.blob b WHERE b.product_id" EQ "$1 "
		" RETURNING 1) SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM d",
	1, {INT4OID}, false, true},
	/* $2 If-Match: "*" or ETags, judged in the DELETE itself */
	[OP_DELETE_IF] = {"WITH d AS (DELETE FROM product_image.blob b WHERE b.product_id" EQ "$1 "
		"AND ($2" EQ "'*' OR " ETAG_IN("$2") ") RETURNING 1) "
		"SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM d",
	2, {INT4OID, TEXTOID}, false, true},
	/* $2 the ETag, $3 the offset (0-based), $4 the length; only the slice's TOAST chunks are read */
	[OP_GET_PART] = {"SELECT pg_catalog.substring(b.data, ($3 OPERATOR(pg_catalog.+) 1)::pg_catalog.int4, $4) "
		"FROM product_image.blob b WHERE b.product_id" EQ "$1 "
		"AND pg_catalog.encode(b.sha256, 'hex')" EQ "$2",
	4, {INT4OID, TEXTOID, INT8OID, INT4OID}, true, false},
};

static SPIPlanPtr op_plan[OP_COUNT];

static SPIPlanPtr
OpPlan(BlobOp op)
{
	if (op_plan[op] == NULL)
		op_plan[op] = PrepareKept(ops[op].sql, ops[op].nargs, (Oid *) ops[op].argtypes);
	return op_plan[op];
}

/*
 * Run op with args (args[0] the product id, none NULL) as the owner, once
 * the caller has seen the product; the first column of its row, out of SPI,
 * or *isnull when there is no row (or no visible product).
 */
static Datum
RunOp(BlobOp op, Datum *args, bool *isnull)
{
	Datum		result = (Datum) 0;
	int			level = PiEnter();
	int			rc;

	*isnull = true;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if ((op == OP_PUT_INFO || op == OP_PUT_INFO_IF) &&
		SPI_execute_plan(OpPlan(OP_CHECK_INFO), &args[1], NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "checking the image info failed");
	if (PiProductVisible(DatumGetInt32(args[0])))
	{
		rc = PiRunAsOwner(OpPlan(op), args, NULL, ops[op].read_only, 1);
		if (rc < 0)
			elog(ERROR, "product_image: statement failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 1)
		{
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);

			if (!*isnull)
				result = ops[op].byval ? d : PointerGetDatum(PiCopyOut(d));
		}
	}
	SPI_finish();
	PiLeave(level);
	return result;
}

/* The answer of an op that returns a value or NULL. */
static Datum
RunOpOrNull(FunctionCallInfo fcinfo, BlobOp op, Datum *args)
{
	bool		isnull;
	Datum		d = RunOp(op, args, &isnull);

	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(d);
}


/* product_get_image(product_id int) returns bytea: the stored bytes, NULL when none. */
Datum
product_get_image(PG_FUNCTION_ARGS)
{
	Datum		id = PG_GETARG_DATUM(0);

	return RunOpOrNull(fcinfo, OP_GET_IMAGE, &id);
}

/* product_get_image_info(product_id int) returns jsonb: the BlobEntity, NULL when none. */
Datum
product_get_image_info(PG_FUNCTION_ARGS)
{
	Datum		id = PG_GETARG_DATUM(0);

	return RunOpOrNull(fcinfo, OP_GET_INFO, &id);
}

/*
 * product_put_image_info(product_id int, info jsonb [, if_match text])
 * returns jsonb; P0002 when no image.  With if_match ("*", or ImageInfo
 * ETags: the md5 of the ImageInfo's JSON text), the update only when the
 * ImageInfo is still one of them, judged in the UPDATE itself; else PI412
 * (HTTP 412), also when there is no image.
 */
Datum
product_put_image_info(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		args[4];
	Datum		d;
	bool		conditional = PG_NARGS() > 2 && !PG_ARGISNULL(2);

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("image info must be a JSON object"),
				 errdetail("Writable properties are Description, ExtraInfo and ConceptualType.")));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("product id must not be null")));
	args[0] = PG_GETARG_DATUM(0);
	args[1] = PG_GETARG_DATUM(1);
	args[2] = PiCallerName();
	if (conditional)
		args[3] = PG_GETARG_DATUM(2);
	d = RunOp(conditional ? OP_PUT_INFO_IF : OP_PUT_INFO, args, &isnull);
	if (isnull && conditional)
		PiPreconditionFailed(PG_GETARG_INT32(0));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("product %d has no image", PG_GETARG_INT32(0))));
	PG_RETURN_DATUM(d);
}

/* product_delete_image(product_id int) returns boolean: true if there was an image. */
Datum
product_delete_image(PG_FUNCTION_ARGS)
{
	Datum		id = PG_GETARG_DATUM(0);
	bool		isnull;
	Datum		d = RunOp(OP_DELETE, &id, &isnull);

	PG_RETURN_BOOL(!isnull && DatumGetBool(d));
}

/*
 * product_delete_image(product_id int, if_match text) returns boolean: the
 * delete only when the stored image has one of the ETags (or any, "*"),
 * judged in the DELETE itself; else PI412 (HTTP 412), also when there is
 * no image (RFC 9110: If-Match fails without a current representation).
 */
Datum
product_delete_image_if(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		args[2];
	Datum		d;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(1))
		return product_delete_image(fcinfo);
	args[0] = PG_GETARG_DATUM(0);
	args[1] = PG_GETARG_DATUM(1);
	d = RunOp(OP_DELETE_IF, args, &isnull);
	if (isnull || !DatumGetBool(d))
		PiPreconditionFailed(PG_GETARG_INT32(0));
	PG_RETURN_BOOL(true);
}

/*
 * product_get_image_part(product_id int, etag text, offset bigint, length int)
 * returns bytea: length bytes of the stored image from offset (0-based), when
 * its ETag (the sha256 in hex) is still etag; NULL when the image is gone,
 * changed or hidden.  The gateway streams large originals with it.
 */
Datum
product_get_image_part(PG_FUNCTION_ARGS)
{
	Datum		args[4];
	int64		offset;
	int32		length;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	offset = PG_GETARG_INT64(2);
	length = PG_GETARG_INT32(3);
	if (offset < 0 || offset > PG_INT32_MAX || length < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("offset must be from 0 and length at least 1, not %lld and %d",
						(long long) offset, length)));
	for (int i = 0; i < 4; i++)
		args[i] = PG_GETARG_DATUM(i);
	return RunOpOrNull(fcinfo, OP_GET_PART, args);
}
