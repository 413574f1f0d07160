/*
 * image_render.c
 *		render(image, w, h, type) and product_get_image_rendition(...).
 *
 * The image is read as the caller (GRANTs on product_image.blob apply).  The
 * rendition cache and the placeholders are read and written as the owner of
 * product_image.rendition, the way PostgreSQL's foreign-key triggers switch
 * to the table owner: callers need no right on the cache, and so cannot put
 * bytes of their own choosing in it.  A cached rendition is one index lookup
 * and no decode.  The cache is written only in read-write transactions (a
 * hot standby renders every time) and only while the image is unchanged:
 * the blob row is locked FOR SHARE with the sha256 the rendition was made
 * from, so a concurrent re-save either waits for us and then deletes our row
 * (its trigger), or has committed and we insert nothing.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"

#include "product_image.h"

PG_FUNCTION_INFO_V1(pi_render_image);
PG_FUNCTION_INFO_V1(product_get_image_rendition);
PG_FUNCTION_INFO_V1(product_get_image_bytes);
PG_FUNCTION_INFO_V1(product_get_image_etag);

/* A cached rendition's last_used is refreshed at most this often. */
#define TOUCH_INTERVAL "60 seconds"
/* Rows looked at per eviction statement. */
#define EVICT_BATCH 64

typedef enum BlankMode
{
	BLANK_NULL = 0,				/* Default, Null, not given: no image, NULL */
	BLANK_CLEAR_PIXEL,
	BLANK_NO_PHOTO,
	BLANK_NO_PHOTO_BORDER,
	BLANK_FILE_ICON
} BlankMode;

static const char *const blank_names[] = {
	NULL, "ClearPixel", "SrNoPhoto", "SrNoPhotoWithBorder", "GenericFileIcon"
};

typedef struct RenderArgs
{
	int32		w;				/* 0: not given */
	int32		h;
	pi_format	type;			/* UNKNOWN: not given */
	BlankMode	blank;
} RenderArgs;

typedef struct RenderPlans
{
	SPIPlanPtr	blob;			/* as the caller */
	SPIPlanPtr	combined;		/* the image's row and its cached rendition, as the owner */
	SPIPlanPtr	owner;
	SPIPlanPtr	placeholder;	/* as the cache owner from here on */
	SPIPlanPtr	get;
	SPIPlanPtr	touch;
	SPIPlanPtr	lock;
	SPIPlanPtr	put;
	SPIPlanPtr	evict;
	Oid			cache_owner;
} RenderPlans;

static RenderPlans plans;

static int32
SideArg(FunctionCallInfo fcinfo, int n, const char *name)
{
	int32		v;

	if (PG_ARGISNULL(n))
		return 0;
	v = PG_GETARG_INT32(n);
	if (v < 1 || v > pi_max_rendition_side)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between 1 and %d, not %d", name, pi_max_rendition_side, v),
				 errhint("product_image.max_rendition_side bounds the width and height of renditions.")));
	return v;
}

/* w, h and type at args first..first+2; if_blank at blank_arg (or -1). */
static void
ParseArgs(FunctionCallInfo fcinfo, int first, int blank_arg, RenderArgs *a)
{
	memset(a, 0, sizeof(*a));
	a->w = SideArg(fcinfo, first, "w");
	a->h = SideArg(fcinfo, first + 1, "h");
	if (!PG_ARGISNULL(first + 2))
	{
		char	   *t = text_to_cstring(PG_GETARG_TEXT_PP(first + 2));

		if (pg_strcasecmp(t, "jpeg") == 0 || pg_strcasecmp(t, "jpg") == 0)
			a->type = PI_FORMAT_JPEG;
		else if (pg_strcasecmp(t, "png") == 0)
			a->type = PI_FORMAT_PNG;
		else if (pg_strcasecmp(t, "gif") == 0)
			a->type = PI_FORMAT_GIF;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown image type \"%s\"", t),
					 errhint("The type is JPEG, PNG or GIF.")));
	}
	if (blank_arg >= 0 && !PG_ARGISNULL(blank_arg))
	{
		char	   *b = text_to_cstring(PG_GETARG_TEXT_PP(blank_arg));
		bool		found = pg_strcasecmp(b, "Default") == 0 || pg_strcasecmp(b, "Null") == 0;

		for (int i = 1; !found && i < lengthof(blank_names); i++)
			if (pg_strcasecmp(b, blank_names[i]) == 0)
			{
				a->blank = (BlankMode) i;
				found = true;
			}
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown ifBlank value \"%s\"", b),
					 errhint("ifBlank is Default, Null, ClearPixel, SrNoPhoto, SrNoPhotoWithBorder "
							 "or GenericFileIcon.")));
	}
}

static bool
WantsRendition(const RenderArgs *a)
{
	return a->w != 0 || a->h != 0 || a->type != PI_FORMAT_UNKNOWN;
}

/* Render into a bytea in the current memory context, or raise the error. */
static bytea *
Render(bytea *image, const RenderArgs *a, int32 *width, int32 *height)
{
	pi_render_opts opts;
	pi_limits	limits;
	pi_rendition out;
	char		msg[PI_MESSAGE_LEN];
	bytea	   *result;
	int			rc;

	memset(&opts, 0, sizeof(opts));
	opts.max_w = (uint32) a->w;
	opts.max_h = (uint32) a->h;
	opts.max_side = (uint32) pi_max_rendition_side;
	opts.type = a->type;
	opts.jpeg_quality = pi_jpeg_quality;
	opts.png_level = -1;
	/* the stored image passed max_bytes when saved; max_pixels applies again */
	limits.max_bytes = (uint64_t) (MaxAllocSize - VARHDRSZ);
	limits.max_pixels = (uint64_t) pi_max_pixels;
	limits.cancelled = PiCancelled;
	limits.cancel_arg = NULL;

	rc = pi_render((const uint8_t *) VARDATA_ANY(image), VARSIZE_ANY_EXHDR(image),
				   &limits, &opts, &out, msg);
	if (rc != PI_OK)
		ReportDecodeError(rc, pi_detect((const uint8_t *) VARDATA_ANY(image),
										VARSIZE_ANY_EXHDR(image)), msg);
	if (out.len > MaxAllocSize - VARHDRSZ)
	{
		pi_rendition_free(&out);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("rendition too large")));
	}
	result = (bytea *) palloc(VARHDRSZ + out.len);
	SET_VARSIZE(result, VARHDRSZ + out.len);
	memcpy(VARDATA(result), out.data, out.len);
	if (width)
		*width = (int32) out.width;
	if (height)
		*height = (int32) out.height;
	pi_rendition_free(&out);
	return result;
}

/* render(image bytea, w int, h int, type text): no cache, no table. */
Datum
pi_render_image(PG_FUNCTION_ARGS)
{
	RenderArgs	a;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	ParseArgs(fcinfo, 1, -1, &a);
	PG_RETURN_BYTEA_P(Render(PG_GETARG_BYTEA_PP(0), &a, NULL, NULL));
}

static void
PreparePlans(void)
{
	Oid			lookup[] = {INT4OID};
	Oid			key[] = {INT4OID, INT4OID, INT4OID, TEXTOID};
	Oid			lock[] = {INT4OID, BYTEAOID};
	Oid			put[] = {INT4OID, INT4OID, INT4OID, TEXTOID, BYTEAOID, INT4OID, INT4OID};
	Oid			evict[] = {INT8OID};
	Oid			name[] = {TEXTOID};
	bool		isnull;
	int			rc;

	if (plans.evict != NULL)
		return;
	plans.blob = PrepareKept("SELECT blob_id, format, sha256, mime_type, width, height, data "
							 "FROM product_image.blob WHERE product_id = $1", 1, lookup);
	/* the output type as pi_render_format picks it, when type is not given */
	plans.combined = PrepareKept("SELECT b.blob_id, b.format, b.sha256, b.mime_type, b.width, b.height, b.data, "
								 " r.data, r.width, r.height, "
								 " r.last_used < pg_catalog.now() - interval '" TOUCH_INTERVAL "' "
								 "FROM product_image.blob b LEFT JOIN product_image.rendition r "
								 " ON r.blob_id = b.blob_id AND r.w = $2 AND r.h = $3 AND r.type = "
								 " coalesce($4, CASE b.format WHEN 'jpeg' THEN 'jpeg' WHEN 'gif' THEN 'gif' "
								 " ELSE 'png' END) "
								 "WHERE b.product_id = $1", 4, key);
	plans.owner = PrepareKept("SELECT relowner FROM pg_catalog.pg_class "
							  "WHERE oid = 'product_image.rendition'::pg_catalog.regclass", 0, NULL);
	plans.placeholder = PrepareKept("SELECT image FROM product_image.placeholder WHERE name = $1",
									1, name);
	plans.get = PrepareKept("SELECT data, width, height, "
							"last_used < pg_catalog.now() - interval '" TOUCH_INTERVAL "' "
							"FROM product_image.rendition "
							"WHERE blob_id = $1 AND w = $2 AND h = $3 AND type = $4", 4, key);
	plans.touch = PrepareKept("UPDATE product_image.rendition SET last_used = pg_catalog.now() "
							  "WHERE blob_id = $1 AND w = $2 AND h = $3 AND type = $4", 4, key);
	plans.lock = PrepareKept("SELECT 1 FROM product_image.blob "
							 "WHERE blob_id = $1 AND sha256 = $2 FOR SHARE", 2, lock);
	plans.put = PrepareKept("WITH i AS (INSERT INTO product_image.rendition "
							" (blob_id, w, h, type, data, bytes, width, height) "
							" VALUES ($1, $2, $3, $4, $5, pg_catalog.octet_length($5), $6, $7) "
							" ON CONFLICT DO NOTHING RETURNING bytes) "
							"UPDATE product_image.rendition_usage u SET bytes = u.bytes + i.bytes "
							"FROM i RETURNING u.bytes", 7, put);
	/* the least recently used rows, just enough of them to free $1 bytes */
	plans.evict = PrepareKept("WITH v AS (SELECT blob_id, w, h, type, bytes, last_used "
							  " FROM product_image.rendition ORDER BY last_used "
							  " LIMIT " CppAsString2(EVICT_BATCH) " FOR UPDATE SKIP LOCKED), "
							  "s AS (SELECT blob_id, w, h, type, pg_catalog.sum(bytes) OVER "
							  " (ORDER BY last_used, blob_id, w, h, type) - bytes AS before FROM v), "
							  "d AS (DELETE FROM product_image.rendition r USING s "
							  " WHERE r.blob_id = s.blob_id AND r.w = s.w AND r.h = s.h "
							  " AND r.type = s.type AND s.before < $1 RETURNING r.bytes) "
							  "SELECT pg_catalog.count(*), pg_catalog.sum(bytes) FROM d", 1, evict);
	rc = SPI_execute_plan(plans.owner, NULL, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "cannot find the owner of product_image.rendition");
	plans.cache_owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
													   SPI_tuptable->tupdesc, 1, &isnull));
}

/* Run a plan as the cache's owner, as foreign-key triggers do. */
static int
RunAsOwner(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count)
{
	Oid			save_userid;
	int			save_sec;
	int			rc;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(plans.cache_owner,
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	rc = SPI_execute_plan(plan, values, nulls, read_only, count);
	SetUserIdAndSecContext(save_userid, save_sec);
	return rc;
}

/*
 * May the caller read every row of product_image.blob?  Then the image's row
 * and its cached rendition can come from one statement run as the owner:
 * the caller's own SELECT would have been allowed and seen the same row.
 * Column grants or row-level security on blob: the two-statement path.
 */
static bool
CallerMayReadBlobs(void)
{
	Oid			nsp = get_namespace_oid("product_image", true);
	Oid			rel = OidIsValid(nsp) ? get_relname_relid("blob", nsp) : InvalidOid;

	return OidIsValid(rel) &&
		pg_class_aclcheck(rel, GetUserId(), ACL_SELECT) == ACLCHECK_OK &&
		check_enable_rls(rel, InvalidOid, true) == RLS_NONE;
}

static bool
CacheWritable(void)
{
	return !RecoveryInProgress() && !XactReadOnly;
}

/*
 * A cached rendition in columns col.. col+3 of a row (data, width, height,
 * stale): the bytes, copied into the caller's context, or NULL when the
 * row has none.  A stale last_used is refreshed when the cache is writable.
 */
static bytea *
TakeHit(HeapTuple row, TupleDesc desc, int col, MemoryContext caller, Datum *key,
		int32 *width, int32 *height)
{
	bool		isnull;
	Datum		data = SPI_getbinval(row, desc, col, &isnull);
	bool		stale;
	bytea	   *result;

	if (isnull)
		return NULL;
	*width = DatumGetInt32(SPI_getbinval(row, desc, col + 1, &isnull));
	*height = DatumGetInt32(SPI_getbinval(row, desc, col + 2, &isnull));
	stale = DatumGetBool(SPI_getbinval(row, desc, col + 3, &isnull));
	MemoryContextSwitchTo(caller);
	result = (bytea *) PG_DETOAST_DATUM_COPY(data);
	if (stale && CacheWritable())
		RunAsOwner(plans.touch, key, NULL, false, 0);
	return result;
}

/* Is etag in the If-None-Match list ("*" or bare tags separated by commas)? */
static bool
EtagListed(const char *list, const char *etag)
{
	size_t		n = strlen(etag);

	if (list == NULL)
		return false;
	if (strcmp(list, "*") == 0)
		return true;
	for (const char *p = list; *p; p++)
	{
		if (strncmp(p, etag, n) == 0 && (p[n] == ',' || p[n] == '\0') &&
			(p == list || p[-1] == ','))
			return true;
	}
	return false;
}

/* Keep the cache within product_image.rendition_cache_max_bytes. */
static void
Evict(int64 total)
{
	int64		max = (int64) pi_rendition_cache_max_kb * 1024;

	for (int i = 0; i < 1000 && total > max; i++)
	{
		Datum		arg = Int64GetDatum(total - max);
		bool		isnull;
		int64		deleted;
		Datum		d;

		if (RunAsOwner(plans.evict, &arg, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "evicting renditions failed");
		deleted = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		/* freed bytes (numeric: sum of integer is bigint, so int8) */
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		if (!isnull)
			total -= DatumGetInt64(d);
		if (deleted == 0)
			break;				/* the rest is locked by others, who evict too */
	}
}

/*
 * The rendition for product_id, w, h, type, if_blank (args 0..4) into
 * values/nulls: image, mime_type, etag, width, height (all NULL: nothing).
 * etag_only: only mime_type and etag are meant, nothing is read or rendered
 * (an HTTP revalidation answered 304 costs one index lookup).  The same
 * holds when arg 5, if_none_match (a comma-separated list of ETags, or "*"),
 * names the ETag: then image is NULL and etag is not.
 */
static void
GetRendition(FunctionCallInfo fcinfo, bool etag_only, Datum *values, bool *nulls)
{
	MemoryContext caller = CurrentMemoryContext;
	RenderArgs	a;
	Datum		arg;
	bool		isnull,
				combined;
	int			rc;
	char	   *unless = NULL;
	char	   *etag;

	for (int i = 0; i < 5; i++)
		nulls[i] = true;
	if (PG_ARGISNULL(0))
		return;
	ParseArgs(fcinfo, 1, 4, &a);
	if (PG_NARGS() > 5 && !PG_ARGISNULL(5))
		unless = text_to_cstring(PG_GETARG_TEXT_PP(5));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PreparePlans();

	arg = PG_GETARG_DATUM(0);
	combined = !etag_only && WantsRendition(&a) && pi_rendition_cache && CallerMayReadBlobs();
	if (combined)
	{
		Datum		cargs[4] = {arg, Int32GetDatum(a.w), Int32GetDatum(a.h), (Datum) 0};
		char		cnulls[4] = {' ', ' ', ' ', 'n'};

		if (a.type != PI_FORMAT_UNKNOWN)
		{
			cargs[3] = CStringGetTextDatum(pi_format_name(a.type));
			cnulls[3] = ' ';
		}
		rc = RunAsOwner(plans.combined, cargs, cnulls, true, 1);
	}
	else
		rc = SPI_execute_plan(plans.blob, &arg, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading the image failed: %s", SPI_result_code_string(rc));

	if (SPI_processed == 0)
	{
		/* no image: NULL, or a placeholder scaled like any image */
		const char *name = blank_names[a.blank];
		bytea	   *src;

		if (a.blank != BLANK_NULL)
		{
			Datum		n = CStringGetTextDatum(name);
			int32		width = 0,
						height = 0;
			pi_format	f;

			if (RunAsOwner(plans.placeholder, &n, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
				elog(ERROR, "placeholder \"%s\" is missing", name);
			src = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			f = pi_render_format(PI_FORMAT_PNG, a.type);
			MemoryContextSwitchTo(caller);
			etag = psprintf("%s-%dx%d.%s", name, a.w, a.h, pi_format_name(f));
			etag_only = etag_only || EtagListed(unless, etag);
			values[0] = (Datum) 0;
			if (etag_only)
				;
			else if (WantsRendition(&a))
				values[0] = PointerGetDatum(Render(src, &a, &width, &height));
			else
			{
				pi_header	h;

				values[0] = PointerGetDatum(PG_DETOAST_DATUM_COPY(PointerGetDatum(src)));
				CheckImage((const uint8 *) VARDATA_ANY(src), VARSIZE_ANY_EXHDR(src), &h);
				width = (int32) h.width;
				height = (int32) h.height;
			}
			values[1] = CStringGetTextDatum(pi_format_mime(f));
			values[2] = CStringGetTextDatum(etag);
			if (width > 0)
			{
				values[3] = Int32GetDatum(width);
				values[4] = Int32GetDatum(height);
				nulls[3] = nulls[4] = false;
			}
			nulls[0] = nulls[1] = nulls[2] = false;
		}
	}
	else
	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		blob_id = SPI_getbinval(row, desc, 1, &isnull);
		char	   *format = SPI_getvalue(row, desc, 2);
		bytea	   *sha = DatumGetByteaPP(SPI_getbinval(row, desc, 3, &isnull));
		char	   *hex = palloc(VARSIZE_ANY_EXHDR(sha) * 2 + 1);
		pi_format	source = pi_format_from_name(format);

		hex[hex_encode(VARDATA_ANY(sha), VARSIZE_ANY_EXHDR(sha), hex)] = '\0';
		if (!WantsRendition(&a))
		{
			Datum		data = SPI_getbinval(row, desc, 7, &isnull);
			char	   *mime = SPI_getvalue(row, desc, 4);

			etag_only = etag_only || EtagListed(unless, hex);
			values[3] = SPI_getbinval(row, desc, 5, &isnull);
			values[4] = SPI_getbinval(row, desc, 6, &isnull);
			MemoryContextSwitchTo(caller);
			values[0] = etag_only ? (Datum) 0 : PointerGetDatum(PG_DETOAST_DATUM_COPY(data));
			values[1] = CStringGetTextDatum(mime);
			values[2] = CStringGetTextDatum(hex);
		}
		else
		{
			pi_format	out = pi_render_format(source, a.type);
			Datum		key[4];
			Datum		image = SPI_getbinval(row, desc, 7, &isnull);
			Datum		sha_datum = PointerGetDatum(sha);
			bytea	   *result = NULL;
			int32		width = 0,
						height = 0;

			key[0] = blob_id;
			key[1] = Int32GetDatum(a.w);
			key[2] = Int32GetDatum(a.h);
			key[3] = CStringGetTextDatum(pi_format_name(out));
			etag = psprintf("%s-%dx%d.%s", hex, a.w, a.h, pi_format_name(out));
			etag_only = etag_only || EtagListed(unless, etag);

			if (etag_only)
				;
			else if (combined)
				result = TakeHit(row, desc, 8, caller, key, &width, &height);
			else if (pi_rendition_cache)
			{
				rc = RunAsOwner(plans.get, key, NULL, true, 1);
				if (rc != SPI_OK_SELECT)
					elog(ERROR, "reading the rendition cache failed: %s", SPI_result_code_string(rc));
				if (SPI_processed == 1)
					result = TakeHit(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, caller, key,
									 &width, &height);
			}
			if (result == NULL && !etag_only)
			{
				MemoryContextSwitchTo(caller);
				result = Render(DatumGetByteaPP(image), &a, &width, &height);
				if (pi_rendition_cache && CacheWritable() &&
					RunAsOwner(plans.lock, (Datum[]) {blob_id, sha_datum}, NULL, false, 1) == SPI_OK_SELECT &&
					SPI_processed == 1)
				{
					Datum		put[7] = {key[0], key[1], key[2], key[3], PointerGetDatum(result),
					Int32GetDatum(width), Int32GetDatum(height)};

					rc = RunAsOwner(plans.put, put, NULL, false, 1);
					if (rc != SPI_OK_UPDATE_RETURNING)
						elog(ERROR, "writing the rendition cache failed: %s", SPI_result_code_string(rc));
					if (SPI_processed == 1)
						Evict(DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
														  SPI_tuptable->tupdesc, 1, &isnull)));
				}
			}
			MemoryContextSwitchTo(caller);
			values[0] = PointerGetDatum(result);
			values[1] = CStringGetTextDatum(pi_format_mime(out));
			values[2] = CStringGetTextDatum(etag);
			values[3] = Int32GetDatum(width);
			values[4] = Int32GetDatum(height);
		}
		for (int i = 0; i < 5; i++)
			nulls[i] = false;
		/* not rendered: no size to tell */
		if (etag_only && WantsRendition(&a))
			nulls[3] = nulls[4] = true;
	}
	if (etag_only)
		nulls[0] = true;
	MemoryContextSwitchTo(caller);
	SPI_finish();
}

/*
 * product_get_image_rendition(product_id, w, h, type, if_blank,
 *		OUT image, OUT mime_type, OUT etag, OUT width, OUT height)
 */
Datum
product_get_image_rendition(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	GetRendition(fcinfo, false, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * product_get_image_etag(product_id, w, h, type, if_blank, OUT etag, OUT mime_type):
 * what product_get_image_rendition would answer, without the bytes.
 */
Datum
product_get_image_etag(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[5],
				out[2];
	bool		nulls[5],
				outnulls[2];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	GetRendition(fcinfo, true, values, nulls);
	out[0] = values[2];
	outnulls[0] = nulls[2];
	out[1] = values[1];
	outnulls[1] = nulls[1];
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, out, outnulls)));
}

/* product_get_image(product_id, w, h, type, if_blank): the bytes alone, no row built. */
Datum
product_get_image_bytes(PG_FUNCTION_ARGS)
{
	Datum		values[5];
	bool		nulls[5];

	GetRendition(fcinfo, false, values, nulls);
	if (nulls[0])
		PG_RETURN_NULL();
	PG_RETURN_DATUM(values[0]);
}
