/*
 * image_render.c
 *		render(image, w, h, type) and product_get_image_rendition(...).
 *
 * Who may read which image is decided as in every entry point (see
 * product_access.c): the caller must see the product in the product table;
 * the image, the placeholders and the rendition cache are then read and
 * written as the owner, under a pinned search_path.  Callers need no right
 * on product_image's tables, and so cannot put bytes of their own choosing in
 * the cache.
 *
 * The cache is keyed by what is produced, not by what was asked: the stored
 * image's sha256, the rendition's own size (known from the stored size and
 * orientation before decoding), its type and, for JPEG, its quality.  Boxes
 * that give the same picture share one row, a rendition is correct for its
 * source forever (a re-save has another sha256), and no lock on the image is
 * needed to keep the cache right.  Cache bookkeeping never waits and never
 * makes others wait: a fill first takes a try-advisory lock on its key (a
 * concurrent fill of the same key just renders), refreshing last_used and
 * eviction skip rows locked by others, and there is no shared counter row.
 * A reader's open transaction therefore blocks no save, no ImageInfo update,
 * no delete and no fill of another image.
 */
#include "postgres.h"

#include "access/hash.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"

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
	SPIPlanPtr	blob;			/* the image's row (data stays toasted until rendered) */
	SPIPlanPtr	placeholder;
	SPIPlanPtr	get;
	SPIPlanPtr	touch;
	SPIPlanPtr	trylock;
	SPIPlanPtr	put;
	SPIPlanPtr	total;
	SPIPlanPtr	evict;
} RenderPlans;

static RenderPlans plans;

/* pg_try_advisory_xact_lock's first key for cache fills ("PIMG") */
#define FILL_LOCK_CLASS 0x50494d47

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
	a->w = PiRoundSide(SideArg(fcinfo, first, "w"));
	a->h = PiRoundSide(SideArg(fcinfo, first + 1, "h"));
	if (!PG_ARGISNULL(first + 2))
	{
		char	   *t = text_to_cstring(PG_GETARG_TEXT_PP(first + 2));

		/* the decoder's codec table: any case, aliases ("jpg"), and only types it can write */
		a->type = pi_format_from_type_name(t);
		if (!pi_format_encodes(a->type))
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
	bytea	   *volatile result = NULL;
	int			rc;

	memset(&opts, 0, sizeof(opts));
	opts.max_w = (uint32) a->w;
	opts.max_h = (uint32) a->h;
	opts.max_side = (uint32) pi_max_rendition_side;
	opts.type = a->type;
	opts.jpeg_quality = pi_jpeg_quality;
	opts.png_level = -1;
	/* every limit applies at every entry point, whatever was true at save */
	limits.max_bytes = (uint64_t) pi_max_bytes;
	limits.max_pixels = (uint64_t) pi_max_pixels;
	limits.cancelled = PiCancelled;
	limits.cancel_arg = NULL;

	rc = pi_render((const uint8_t *) VARDATA_ANY(image), VARSIZE_ANY_EXHDR(image),
				   &limits, &opts, &out, msg);
	if (rc != PI_OK)
		ReportDecodeError(rc, pi_detect((const uint8_t *) VARDATA_ANY(image),
										VARSIZE_ANY_EXHDR(image)), msg);
	if (width)
		*width = (int32) out.width;
	if (height)
		*height = (int32) out.height;
	if (out.len > MaxAllocSize - VARHDRSZ)
	{
		pi_rendition_free(&out);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("rendition too large")));
	}
	/* palloc may raise: the decoder's malloc'd output is freed on every path */
	PG_TRY();
	{
		result = (bytea *) palloc(VARHDRSZ + out.len);
		SET_VARSIZE(result, VARHDRSZ + out.len);
		memcpy(VARDATA(result), out.data, out.len);
	}
	PG_FINALLY();
	{
		pi_rendition_free(&out);
	}
	PG_END_TRY();
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


#define EQ " OPERATOR(pg_catalog.=) "
#define KEY_WHERE "r.source" EQ "$1 AND r.w" EQ "$2 AND r.h" EQ "$3 AND r.type" EQ "$4 AND r.quality" EQ "$5 "

static void
PreparePlans(void)
{
	Oid			lookup[] = {INT4OID};
	Oid			key[] = {BYTEAOID, INT4OID, INT4OID, TEXTOID, INT4OID};
	Oid			lock[] = {INT4OID, INT4OID};
	Oid			put[] = {BYTEAOID, INT4OID, INT4OID, TEXTOID, INT4OID, BYTEAOID, INT4OID, INT4OID};
	Oid			evict[] = {INT8OID};
	Oid			name[] = {TEXTOID};

	if (plans.evict != NULL)
		return;
	plans.blob = PrepareKept("SELECT b.format, b.sha256, b.width, b.height, b.orientation, b.data "
							 "FROM product_image.blob b WHERE b.product_id" EQ "$1", 1, lookup);
	plans.placeholder = PrepareKept("SELECT p.image FROM product_image.placeholder p "
									"WHERE p.name" EQ "$1", 1, name);
	plans.get = PrepareKept("SELECT r.data, r.width, r.height, "
							"r.last_used OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) "
							" '" TOUCH_INTERVAL "'::pg_catalog.interval) "
							"FROM product_image.rendition r WHERE " KEY_WHERE, 5, key);
	plans.touch = PrepareKept("WITH s AS (SELECT r.ctid FROM product_image.rendition r WHERE " KEY_WHERE
							  " FOR UPDATE SKIP LOCKED) "
							  "UPDATE product_image.rendition r SET last_used = pg_catalog.now() "
							  "FROM s WHERE r.ctid" EQ "s.ctid", 5, key);
	plans.trylock = PrepareKept("SELECT pg_catalog.pg_try_advisory_xact_lock($1, $2)", 2, lock);
	plans.put = PrepareKept("INSERT INTO product_image.rendition "
							" (source, w, h, type, quality, data, bytes, width, height) "
							"VALUES ($1, $2, $3, $4, $5, $6, pg_catalog.octet_length($6), $7, $8) "
							"ON CONFLICT DO NOTHING", 8, put);
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
Evict(void)
{
	int64		max = (int64) pi_rendition_cache_max_kb * 1024;
	int64		total;
	bool		isnull;
	Datum		d;

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

/* A rendition's cache key: the source's sha256 and what is produced. */
typedef struct CacheKey
{
	Datum		values[5];		/* source, w, h, type, quality */
	int32		lock;			/* the fill's advisory lock key */
} CacheKey;

/* The cached rendition for key, copied into caller's context, or NULL. */
static bytea *
CacheGet(CacheKey *k, MemoryContext caller, int32 *width, int32 *height)
{
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull,
				stale;
	Datum		data;
	bytea	   *result;

	if (PiRunAsOwner(plans.get, k->values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading the rendition cache failed");
	if (SPI_processed == 0)
		return NULL;
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	data = SPI_getbinval(row, desc, 1, &isnull);
	*width = DatumGetInt32(SPI_getbinval(row, desc, 2, &isnull));
	*height = DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull));
	stale = DatumGetBool(SPI_getbinval(row, desc, 4, &isnull));
	{
		MemoryContext old = MemoryContextSwitchTo(caller);

		result = (bytea *) PG_DETOAST_DATUM_COPY(data);
		MemoryContextSwitchTo(old);
	}
	/* a row another transaction holds is left as it is */
	if (stale && CacheWritable())
		PiRunAsOwner(plans.touch, k->values, NULL, false, 0);
	return result;
}

/*
 * Store a rendition, unless another transaction is filling the same key (it
 * will store the same bytes): nobody ever waits on a fill.
 */
static void
CachePut(CacheKey *k, bytea *image, int32 width, int32 height)
{
	Datum		lock[2] = {Int32GetDatum(FILL_LOCK_CLASS), Int32GetDatum(k->lock)};
	Datum		put[8];
	bool		isnull;

	if (PiRunAsOwner(plans.trylock, lock, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "locking a rendition cache key failed");
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		return;
	memcpy(put, k->values, sizeof(k->values));
	put[5] = PointerGetDatum(image);
	put[6] = Int32GetDatum(width);
	put[7] = Int32GetDatum(height);
	if (PiRunAsOwner(plans.put, put, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "writing the rendition cache failed");
	if (SPI_processed == 1)
		Evict();
}

/* What a product_get_image_* call answers, before the row is built. */
typedef struct Answer
{
	Datum		values[5];		/* image, mime_type, etag, width, height */
	bool		nulls[5];
} Answer;

/*
 * Answer with src (a stored image or a placeholder, possibly toasted) whose
 * header says stored_w x stored_h in orientation, of format source.
 * tag: the ETag's stem (the sha256 in hex, or the placeholder's name);
 * sha: the source's sha256 for the cache key, NULL for no caching.
 * All that is returned is allocated in caller.
 */
static void
Serve(Answer *ans, const RenderArgs *a, Datum src, pi_format source, uint32 stored_w, uint32 stored_h,
	  int orientation, const char *tag, bytea *sha, bool etag_only, const char *unless,
	  MemoryContext caller)
{
	MemoryContext old = MemoryContextSwitchTo(caller);
	char	   *etag;

	for (int i = 0; i < 5; i++)
		ans->nulls[i] = false;
	if (!WantsRendition(a))
	{
		etag = pstrdup(tag);
		etag_only = etag_only || EtagListed(unless, etag);
		ans->values[0] = etag_only ? (Datum) 0 : PointerGetDatum(PG_DETOAST_DATUM_COPY(src));
		ans->nulls[0] = etag_only;
		ans->values[1] = CStringGetTextDatum(pi_format_mime(source));
		ans->values[2] = CStringGetTextDatum(etag);
		ans->values[3] = Int32GetDatum((int32) stored_w);
		ans->values[4] = Int32GetDatum((int32) stored_h);
	}
	else
	{
		pi_format	out = pi_render_format(source, a->type);
		int32		quality = out == PI_FORMAT_JPEG ? pi_jpeg_quality : 0;
		pi_render_opts opts;
		uint32		ow,
					oh;
		bytea	   *result = NULL;
		int32		width = 0,
					height = 0;
		CacheKey	k;

		memset(&opts, 0, sizeof(opts));
		opts.max_w = (uint32) a->w;
		opts.max_h = (uint32) a->h;
		opts.max_side = (uint32) pi_max_rendition_side;
		pi_render_size(stored_w, stored_h, orientation, &opts, &ow, &oh);
		if (quality)
			etag = psprintf("%s-%ux%u-q%d.%s", tag, ow, oh, quality, pi_format_name(out));
		else
			etag = psprintf("%s-%ux%u.%s", tag, ow, oh, pi_format_name(out));
		etag_only = etag_only || EtagListed(unless, etag);

		if (!etag_only)
		{
			bool		cached = sha != NULL && pi_rendition_cache;

			if (cached)
			{
				StringInfoData buf;

				k.values[0] = PointerGetDatum(sha);
				k.values[1] = Int32GetDatum((int32) ow);
				k.values[2] = Int32GetDatum((int32) oh);
				k.values[3] = CStringGetTextDatum(pi_format_name(out));
				k.values[4] = Int32GetDatum(quality);
				initStringInfo(&buf);
				appendBinaryStringInfo(&buf, VARDATA_ANY(sha), VARSIZE_ANY_EXHDR(sha));
				appendStringInfo(&buf, "/%u/%u/%s/%d", ow, oh, pi_format_name(out), quality);
				k.lock = (int32) hash_bytes((const unsigned char *) buf.data, buf.len);
				result = CacheGet(&k, caller, &width, &height);
			}
			if (result == NULL)
			{
				/* SPI leaves its own context current: the result outlives it */
				MemoryContextSwitchTo(caller);
				result = Render(DatumGetByteaPP(src), a, &width, &height);
				if (cached && CacheWritable())
					CachePut(&k, result, width, height);
			}
		}
		MemoryContextSwitchTo(caller);
		ans->values[0] = PointerGetDatum(result);
		ans->nulls[0] = etag_only;
		ans->values[1] = CStringGetTextDatum(pi_format_mime(out));
		ans->values[2] = CStringGetTextDatum(etag);
		ans->values[3] = Int32GetDatum(width);
		ans->values[4] = Int32GetDatum(height);
		/* not rendered: no size to tell */
		ans->nulls[3] = ans->nulls[4] = etag_only;
	}
	MemoryContextSwitchTo(old);
}

/*
 * The rendition for product_id, w, h, type, if_blank (args 0..4) into ans:
 * image, mime_type, etag, width, height (all NULL: nothing).  etag_only: only
 * mime_type and etag are meant, nothing is read or rendered (an HTTP
 * revalidation answered 304 costs index lookups).  The same holds when arg
 * 5, if_none_match (a comma-separated list of ETags, or "*"), names the
 * ETag: then image is NULL and etag is not.  A product the caller cannot see
 * is a product without an image.
 */
static void
GetRendition(FunctionCallInfo fcinfo, bool etag_only, Answer *ans)
{
	MemoryContext caller = CurrentMemoryContext;
	RenderArgs	a;
	char	   *unless = NULL;
	int			level;
	Datum		arg;
	bool		isnull;

	for (int i = 0; i < 5; i++)
		ans->nulls[i] = true;
	if (PG_ARGISNULL(0))
		return;
	ParseArgs(fcinfo, 1, 4, &a);
	if (PG_NARGS() > 5 && !PG_ARGISNULL(5))
		unless = text_to_cstring(PG_GETARG_TEXT_PP(5));

	level = PiEnter();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PreparePlans();
	arg = PG_GETARG_DATUM(0);

	if (PiProductVisible(DatumGetInt32(arg)) &&
		PiRunAsOwner(plans.blob, &arg, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		pi_format	source = pi_format_from_name(SPI_getvalue(row, desc, 1));
		bytea	   *sha = DatumGetByteaPP(SPI_getbinval(row, desc, 2, &isnull));
		uint32		w = (uint32) DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull));
		uint32		h = (uint32) DatumGetInt32(SPI_getbinval(row, desc, 4, &isnull));
		Datum		o = SPI_getbinval(row, desc, 5, &isnull);
		int			orientation = isnull ? 0 : DatumGetInt32(o);
		Datum		data = SPI_getbinval(row, desc, 6, &isnull);
		char	   *hex = palloc(VARSIZE_ANY_EXHDR(sha) * 2 + 1);

		hex[hex_encode(VARDATA_ANY(sha), VARSIZE_ANY_EXHDR(sha), hex)] = '\0';
		Serve(ans, &a, data, source, w, h, orientation, hex, sha, etag_only, unless, caller);
	}
	else if (a.blank != BLANK_NULL)
	{
		/* no image: a placeholder, scaled like any image */
		const char *name = blank_names[a.blank];
		Datum		n = CStringGetTextDatum(name);
		Datum		src;
		pi_header	h;

		if (PiRunAsOwner(plans.placeholder, &n, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "placeholder \"%s\" is missing", name);
		src = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		{
			/* our own small images: the header alone, whatever the caller's limits */
			pi_limits	limits = {(uint64_t) MaxAllocSize, (uint64_t) PI_DEFAULT_MAX_PIXELS, NULL, NULL};
			bytea	   *img = DatumGetByteaPP(src);

			if (pi_decode((const uint8_t *) VARDATA_ANY(img), VARSIZE_ANY_EXHDR(img), PI_MODE_HEADER,
						  &limits, &h, NULL) != PI_OK)
				elog(ERROR, "placeholder \"%s\" is not a valid image", name);
		}
		Serve(ans, &a, src, h.format, h.width, h.height, h.orientation, name, NULL,
			  etag_only, unless, caller);
	}
	MemoryContextSwitchTo(caller);
	SPI_finish();
	PiLeave(level);
}

/*
 * product_get_image_rendition(product_id, w, h, type, if_blank,
 *		OUT image, OUT mime_type, OUT etag, OUT width, OUT height)
 */
Datum
product_get_image_rendition(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Answer		ans;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	GetRendition(fcinfo, false, &ans);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, ans.values, ans.nulls)));
}

/*
 * product_get_image_etag(product_id, w, h, type, if_blank, OUT etag, OUT mime_type):
 * what product_get_image_rendition would answer, without the bytes.
 */
Datum
product_get_image_etag(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Answer		ans;
	Datum		out[2];
	bool		outnulls[2];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	GetRendition(fcinfo, true, &ans);
	out[0] = ans.values[2];
	outnulls[0] = ans.nulls[2];
	out[1] = ans.values[1];
	outnulls[1] = ans.nulls[1];
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, out, outnulls)));
}

/* product_get_image(product_id, w, h, type, if_blank): the bytes alone, no row built. */
Datum
product_get_image_bytes(PG_FUNCTION_ARGS)
{
	Answer		ans;

	GetRendition(fcinfo, false, &ans);
	if (ans.nulls[0])
		PG_RETURN_NULL();
	PG_RETURN_DATUM(ans.values[0]);
}
