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
 * The cache (rendition_cache.c) is keyed by what is produced, so the
 * rendition's size is computed from the stored size and orientation before
 * anything is decoded (pi_render_size): a revalidation (304) and a cache hit
 * decode nothing.  Results leave SPI through SPI_palloc (PiCopyOut, Render's
 * allocator), never by switching memory contexts by hand.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "catalog/pg_type.h"
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
	bool		render;			/* false: from the rendition cache or not at all */
} RenderArgs;

typedef struct RenderPlans
{
	SPIPlanPtr	blob;			/* the image's row (data stays toasted until rendered) */
	SPIPlanPtr	blob_modified;	/* the same and the bytes' time (0.4.0's data_updated) */
	SPIPlanPtr	placeholder;
} RenderPlans;

static RenderPlans plans;

static void
PreparePlans(void)
{
	Oid			lookup[] = {INT4OID};
	Oid			name[] = {TEXTOID};

	if (plans.placeholder != NULL)
		return;
#define BLOB_ROW(modified) "SELECT b.format, b.sha256, b.width, b.height, b.orientation, b.data, b.blob_id, " \
	modified " FROM product_image.blob b WHERE b.product_id OPERATOR(pg_catalog.=) $1"
	plans.blob = PrepareKept(BLOB_ROW("NULL::pg_catalog.timestamptz"), 1, lookup);
	plans.placeholder = PrepareKept("SELECT p.image FROM product_image.placeholder p "
									"WHERE p.name OPERATOR(pg_catalog.=) $1", 1, name);
}

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
	a->render = true;
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
					 errhint("The type is JPEG, PNG, GIF, WebP or AVIF.")));
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

/* Render into a bytea from alloc (palloc, or SPI_palloc inside SPI), or raise the error. */
static bytea *
Render(bytea *image, const RenderArgs *a, int32 *width, int32 *height, void *(*alloc) (Size))
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
	opts.webp_quality = pi_webp_quality;
	opts.avif_quality = pi_avif_quality;
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
		result = (bytea *) alloc(VARHDRSZ + out.len);
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
	PG_RETURN_BYTEA_P(Render(PG_GETARG_BYTEA_PP(0), &a, NULL, NULL, palloc));
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

/* What a product_get_image_* call answers, before the row is built. */
enum
{
	ANS_IMAGE, ANS_MIME_TYPE, ANS_ETAG, ANS_WIDTH, ANS_HEIGHT, ANS_MODIFIED, ANS_SIZE, ANS_NOT_MODIFIED,
	ANS_COUNT
};
typedef struct Answer
{
	Datum		values[ANS_COUNT];
	bool		nulls[ANS_COUNT];
	int64		max_bytes;		/* an original larger than this is not read (0: any size) */
} Answer;

/* A text datum for the answer, out of SPI (in the caller's context). */
static Datum
TextOut(const char *str)
{
	return PointerGetDatum(PiCopyOut(CStringGetTextDatum(str)));
}

/* The ETag of a rendition of tag's image: what is produced, not what was asked. */
static char *
RenditionEtag(const char *tag, uint32 w, uint32 h, pi_format out, int32 quality)
{
	if (quality)
		return psprintf("%s-%ux%u-q%d.%s", tag, w, h, quality, pi_format_name(out));
	return psprintf("%s-%ux%u.%s", tag, w, h, pi_format_name(out));
}

/*
 * Answer with src (a stored image or a placeholder, possibly toasted) whose
 * header says stored_w x stored_h in orientation, of format source.
 * tag: the ETag's stem (the sha256 in hex, or the placeholder's name);
 * sha, blob_id: the cache key's image, sha NULL for no caching.  Inside
 * SPI; what is returned leaves it by SPI_palloc (PiCopyOut, Render).
 */
static void
Serve(Answer *ans, const RenderArgs *a, Datum src, pi_format source, uint32 stored_w, uint32 stored_h,
	  int orientation, const char *tag, bytea *sha, int32 blob_id, bool etag_only, const char *unless)
{
	int64		size = -1;		/* the answer's size, when known */
	bool		not_modified;
	pi_format	out = WantsRendition(a) ? pi_render_format(source, a->type) : source;
	int32		quality = WantsRendition(a) ? PiQualityOf(out) : 0;
	uint32		ow = stored_w,
				oh = stored_h;
	bytea	   *result = NULL;
	int32		width = (int32) stored_w,
				height = (int32) stored_h;
	char	   *etag;

	if (WantsRendition(a))
	{
		pi_render_opts opts;

		memset(&opts, 0, sizeof(opts));
		opts.max_w = (uint32) a->w;
		opts.max_h = (uint32) a->h;
		opts.max_side = (uint32) pi_max_rendition_side;
		pi_render_size(stored_w, stored_h, orientation, &opts, &ow, &oh);
		etag = RenditionEtag(tag, ow, oh, out, quality);
	}
	else
		etag = pstrdup(tag);
	not_modified = EtagListed(unless, etag);
	etag_only = etag_only || not_modified;
	if (!WantsRendition(a))
	{
		/* the stored size, without detoasting */
		size = (int64) toast_raw_datum_size(src) - VARHDRSZ;
		etag_only = etag_only || (ans->max_bytes > 0 && size > ans->max_bytes);
	}

	if (etag_only)
		;
	else if (!WantsRendition(a))
	{
		/*
		 * The stored value as it is (a TOAST pointer, out of SPI): the row
		 * this function returns inlines it (HeapTupleGetDatum), one copy
		 * straight from the TOAST table, where a copy here would be one
		 * more of the whole image.
		 */
		result = (bytea *) DatumGetPointer(SPI_datumTransfer(src, false, -1));
	}
	else
	{
		bool		cached = sha != NULL && pi_rendition_cache;
		PiCacheKey	k;

		if (cached)
		{
			PiCacheKeyMake(&k, blob_id, sha, ow, oh, out, quality);
			result = PiCacheGet(&k, &width, &height);
		}
		if (result == NULL && !a->render && cached)
			;					/* not cached, not to be made here: no image, no size */
		else if (result == NULL)
		{
			result = Render(DatumGetByteaPP(src), a, &width, &height, SPI_palloc);
			if (cached)
				PiCachePut(&k, result, width, height);
		}
	}
	if (result != NULL && WantsRendition(a))
		size = (int64) VARSIZE_ANY_EXHDR(result);
	ans->values[ANS_IMAGE] = PointerGetDatum(result);
	ans->values[ANS_MIME_TYPE] = TextOut(pi_format_mime(out));
	ans->values[ANS_ETAG] = TextOut(etag);
	ans->values[ANS_WIDTH] = Int32GetDatum(width);
	ans->values[ANS_HEIGHT] = Int32GetDatum(height);
	ans->values[ANS_SIZE] = Int64GetDatum(size);
	ans->nulls[ANS_IMAGE] = result == NULL;
	ans->nulls[ANS_MIME_TYPE] = ans->nulls[ANS_ETAG] = false;
	/* a rendition not made: no size to tell */
	ans->nulls[ANS_WIDTH] = ans->nulls[ANS_HEIGHT] = (etag_only || result == NULL) && WantsRendition(a);
	ans->nulls[ANS_SIZE] = size < 0;
	ans->values[ANS_NOT_MODIFIED] = BoolGetDatum(not_modified);
	ans->nulls[ANS_NOT_MODIFIED] = false;
}

/* Case 1: the product's stored image, in the row the blob plan found (inside SPI). */
static void
ServeStored(Answer *ans, const RenderArgs *a, bool etag_only, const char *unless)
{
	bool		isnull;
	HeapTuple	row = SPI_tuptable->vals[0];
	TupleDesc	desc = SPI_tuptable->tupdesc;
	pi_format	source = pi_format_from_name(SPI_getvalue(row, desc, 1));
	bytea	   *sha = DatumGetByteaPP(SPI_getbinval(row, desc, 2, &isnull));
	uint32		w = (uint32) DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull));
	uint32		h = (uint32) DatumGetInt32(SPI_getbinval(row, desc, 4, &isnull));
	Datum		o = SPI_getbinval(row, desc, 5, &isnull);
	int			orientation = isnull ? 0 : DatumGetInt32(o);
	Datum		data = SPI_getbinval(row, desc, 6, &isnull);
	int32		blob_id = DatumGetInt32(SPI_getbinval(row, desc, 7, &isnull));
	Datum		changed = SPI_getbinval(row, desc, 8, &isnull);
	char	   *hex = palloc(VARSIZE_ANY_EXHDR(sha) * 2 + 1);

	hex[hex_encode(VARDATA_ANY(sha), VARSIZE_ANY_EXHDR(sha), hex)] = '\0';
	{
		/*
		 * The bytes name their type, not a column (a hand-made UPDATE
		 * could leave it wrong): the signature, read from the first
		 * bytes alone of the (toasted) image.
		 */
		bytea	   *head = DatumGetByteaPSlice(data, 0, 64);
		pi_format	f = pi_detect((const uint8_t *) VARDATA_ANY(head), VARSIZE_ANY_EXHDR(head));

		if (f != PI_FORMAT_UNKNOWN)
			source = f;
	}
	Serve(ans, a, data, source, w, h, orientation, hex, sha, blob_id, etag_only, unless);
	/* out of SPI: a timestamptz is by value where float8 is (64-bit), else a pointer */
	ans->values[ANS_MODIFIED] = isnull ? (Datum) 0 : SPI_datumTransfer(changed, FLOAT8PASSBYVAL, 8);
	ans->nulls[ANS_MODIFIED] = isnull;
}

/* Case 2: no image, an ifBlank placeholder, scaled like any image (inside SPI). */
static void
ServePlaceholder(Answer *ans, const RenderArgs *a, bool etag_only, const char *unless)
{
	bool		isnull;
	const char *name = blank_names[a->blank];
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
	Serve(ans, a, src, h.format, h.width, h.height, h.orientation, name, NULL, 0,
		  etag_only, unless);
}

/*
 * Whether an Accept header names mime (a media range equal to it, any case,
 * whose q is not 0): wildcard ranges (image/star, star/star) name nothing.
 */
static bool
AcceptNames(const char *accept, const char *mime)
{
	size_t		mlen = strlen(mime);
	const char *p = accept;

	while (*p)
	{
		const char *start,
				   *end,
				   *item_end;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		start = p;
		while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
			p++;
		end = p;
		item_end = strchr(p, ',');
		if (item_end == NULL)
			item_end = p + strlen(p);
		if ((size_t) (end - start) == mlen && pg_strncasecmp(start, mime, mlen) == 0)
		{
			/* parameters: OWS ";" OWS name "=" value; a q of 0 (0, 0.0, 0.000) refuses the type */
			bool		refused = false;
			const char *q = p;

			while (q < item_end)
			{
				const char *v;

				while (q < item_end && (*q == ';' || *q == ' ' || *q == '\t'))
					q++;
				v = q;
				while (q < item_end && *q != ';')
					q++;
				if (q - v >= 2 && (v[0] == 'q' || v[0] == 'Q') && v[1] == '=')
				{
					refused = q - v > 2 && v[2] == '0';
					for (const char *d = v + 3; refused && d < q && *d != ' ' && *d != '\t'; d++)
						refused = *d == '.' || *d == '0';
				}
			}
			if (!refused)
				return true;
		}
		p = item_end;
	}
	return false;
}

/*
 * A rendition asked for without a type (w or h given): the first format of
 * product_image.auto_formats the request's Accept header names, else
 * UNKNOWN (the source's format, as without Accept).
 */
static pi_format
Negotiate(const char *accept)
{
	for (int i = 0; i < pi_auto_formats_n; i++)
		if (AcceptNames(accept, pi_format_mime(pi_auto_formats[i])))
			return pi_auto_formats[i];
	return PI_FORMAT_UNKNOWN;
}

/*
 * The rendition for product_id, w, h, type, if_blank (args 0..4) into ans:
 * image, mime_type, etag, width, height, modified, size (all NULL: nothing);
 * arg 6, max_bytes, leaves a larger original unread.  etag_only: only
 * mime_type and etag are meant, nothing is read or rendered (an HTTP
 * revalidation answered 304 costs index lookups).  The same holds when arg
 * 5, if_none_match (a comma-separated list of ETags, or "*"), names the
 * ETag: then image is NULL and etag is not.  A product the caller cannot see
 * is a product without an image.
 */
static void
GetRendition(FunctionCallInfo fcinfo, bool etag_only, bool modified, Answer *ans)
{
	RenderArgs	a;
	char	   *unless = NULL;
	int			level;
	Datum		arg;
	SPIPlanPtr	blob;

	for (int i = 0; i < ANS_COUNT; i++)
		ans->nulls[i] = true;
	ans->max_bytes = 0;
	if (PG_ARGISNULL(0))
		return;
	ParseArgs(fcinfo, 1, 4, &a);
	if (PG_NARGS() > 5 && !PG_ARGISNULL(5))
		unless = text_to_cstring(PG_GETARG_TEXT_PP(5));
	if (PG_NARGS() > 6 && !PG_ARGISNULL(6))
		ans->max_bytes = PG_GETARG_INT64(6);
	/* 0.5.0: the request's Accept header, and render => false (the cache only) */
	if (PG_NARGS() > 7 && !PG_ARGISNULL(7) && a.type == PI_FORMAT_UNKNOWN && (a.w != 0 || a.h != 0))
		a.type = Negotiate(text_to_cstring(PG_GETARG_TEXT_PP(7)));
	if (PG_NARGS() > 8 && !PG_ARGISNULL(8))
		a.render = PG_GETARG_BOOL(8);

	level = PiEnter();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PreparePlans();
	/* 0.4.0's definition asks for the bytes' time, which its schema has */
	if (modified && plans.blob_modified == NULL)
	{
		Oid			lookup[] = {INT4OID};

		plans.blob_modified = PrepareKept(BLOB_ROW("b.data_updated"), 1, lookup);
	}
	blob = modified ? plans.blob_modified : plans.blob;
	arg = PG_GETARG_DATUM(0);

	if (PiProductVisible(DatumGetInt32(arg)) &&
		PiRunAsOwner(blob, &arg, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		ServeStored(ans, &a, etag_only, unless);
	else if (a.blank != BLANK_NULL)
		ServePlaceholder(ans, &a, etag_only, unless);
	SPI_finish();
	PiLeave(level);
}

/*
 * product_get_image_rendition(product_id, w, h, type, if_blank, if_none_match
 *		[, max_bytes], OUT image, OUT mime_type, OUT etag, OUT width, OUT height
 *		[, OUT modified, OUT size, OUT not_modified]): the bracketed ones since 0.4.0; an older
 *		definition gets the row it declares.
 */
Datum
product_get_image_rendition(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc = (TupleDesc) fcinfo->flinfo->fn_extra;
	Answer		ans;

	/* the row type, blessed once per call site (a catalog lookup each time costs a tenth of a read) */
	if (tupdesc == NULL)
	{
		MemoryContext old;

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		if (tupdesc->natts != ANS_COUNT && tupdesc->natts != ANS_MODIFIED)
			elog(ERROR, "product_get_image_rendition returns %d columns, expected %d",
				 tupdesc->natts, ANS_COUNT);
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = tupdesc;
	}
	GetRendition(fcinfo, false, tupdesc->natts == ANS_COUNT, &ans);
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
	GetRendition(fcinfo, true, false, &ans);
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

	GetRendition(fcinfo, false, false, &ans);
	if (ans.nulls[0])
		PG_RETURN_NULL();
	PG_RETURN_DATUM(ans.values[0]);
}
