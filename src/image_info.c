/*
 * image_info.c
 *		image_info(bytea): the decoded header, without storing anything.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "product_image.h"

PG_FUNCTION_INFO_V1(image_info);

#define IMAGE_HEADER_NATTS 10

/* Return the image's header as a product_image.image_header. */
Datum
image_info(PG_FUNCTION_ARGS)
{
	bytea	   *image = PG_GETARG_BYTEA_PP(0);
	TupleDesc	tupdesc;
	Datum		values[IMAGE_HEADER_NATTS];
	bool		nulls[IMAGE_HEADER_NATTS] = {0};
	pi_header	h;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (tupdesc->natts != IMAGE_HEADER_NATTS)
		elog(ERROR, "product_image.image_header has %d attributes, expected %d",
			 tupdesc->natts, IMAGE_HEADER_NATTS);

	CheckImage((const uint8 *) VARDATA_ANY(image), VARSIZE_ANY_EXHDR(image), &h);

	values[0] = CStringGetTextDatum(pi_format_name(h.format));
	values[1] = CStringGetTextDatum(h.mime_type);
	values[2] = Int32GetDatum((int32) h.width);
	values[3] = Int32GetDatum((int32) h.height);
	values[4] = Int32GetDatum(h.bit_depth);
	values[5] = Int32GetDatum(h.channels);
	values[6] = BoolGetDatum(h.has_alpha != 0);
	values[7] = Int32GetDatum((int32) Min(h.frames, (uint32) PG_INT32_MAX));
	values[8] = BoolGetDatum(h.interlaced != 0);
	values[9] = Int32GetDatum(h.orientation);
	nulls[9] = (h.orientation == 0);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

PG_FUNCTION_INFO_V1(format_mime_type);

/*
 * format_mime_type(format text): the MIME type of a stored format name
 * ("png"), from the decoder's codec table; NULL for a name it does not know.
 * The blob table's CHECK constraint reads it, so a new codec needs no
 * constraint of its own.
 */
Datum
format_mime_type(PG_FUNCTION_ARGS)
{
	pi_format	f = pi_format_from_name(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	if (f == PI_FORMAT_UNKNOWN)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(pi_format_mime(f)));
}

PG_FUNCTION_INFO_V1(rendition_mime_type);

/*
 * rendition_mime_type(type text): the MIME type of a format renditions are
 * written in ("avif"), from the codec table; NULL for any other name.  The
 * rendition cache's CHECK constraint reads it.
 */
Datum
rendition_mime_type(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	pi_format	f = pi_format_from_type_name(name);

	if (f == PI_FORMAT_UNKNOWN || !pi_format_encodes(f) || strcmp(pi_format_name(f), name) != 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(pi_format_mime(f)));
}
