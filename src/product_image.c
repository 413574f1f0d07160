/*
 * product_image.c
 *		Module entry point and settings (GUCs).
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "product_image.h"

PG_MODULE_MAGIC;

int			pi_max_bytes = PI_DEFAULT_MAX_BYTES;
int			pi_max_pixels = PI_DEFAULT_MAX_PIXELS;
int			pi_validate = PI_MODE_HEADER;
int			pi_jpeg_quality = PI_DEFAULT_JPEG_QUALITY;
int			pi_max_rendition_side = PI_DEFAULT_MAX_SIDE;
int			pi_rendition_cache_max_kb = 256 * 1024;
bool		pi_rendition_cache = true;

static const struct config_enum_entry validate_options[] = {
	{"header", PI_MODE_HEADER, false},
	{"full", PI_MODE_FULL, false},
	{NULL, 0, false}
};

void		_PG_init(void);

/* Define the product_image.* settings. */
void
PiInitGucs(void)
{
	DefineCustomIntVariable("product_image.max_bytes",
							"Largest image, in bytes, that product_image accepts.",
							NULL,
							&pi_max_bytes,
							PI_DEFAULT_MAX_BYTES, 1, MaxAllocSize - VARHDRSZ,
							PGC_SUSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("product_image.max_pixels",
							"Largest image, in pixels summed over all frames or pages, that product_image accepts.",
							"Checked from the header, before any pixel buffer exists.",
							&pi_max_pixels,
							PI_DEFAULT_MAX_PIXELS, 1, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("product_image.validate",
							 "How deeply product_image validates an image: header or full.",
							 "header reads the signature, header and structure up to the image data; "
							 "full also decodes every row of every frame or page.",
							 &pi_validate,
							 PI_MODE_HEADER, validate_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("product_image.jpeg_quality",
							"JPEG quality of renditions (1 to 100).",
							NULL,
							&pi_jpeg_quality,
							PI_DEFAULT_JPEG_QUALITY, 1, 100,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("product_image.max_rendition_side",
							"Largest width or height, in pixels, of a rendition.",
							"Larger w or h arguments are refused; an image converted without w and h "
							"is scaled down to fit.",
							&pi_max_rendition_side,
							PI_DEFAULT_MAX_SIDE, 1, 65535,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("product_image.rendition_cache_max_bytes",
							"Size of the rendition cache; the least recently used renditions are evicted past it.",
							"0 keeps nothing.",
							&pi_rendition_cache_max_kb,
							256 * 1024, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("product_image.rendition_cache",
							 "Whether renditions are read from and written to the rendition cache.",
							 NULL,
							 &pi_rendition_cache,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("product_image");
#else
	EmitWarningsOnPlaceholders("product_image");
#endif
}

/* Called when the module is loaded. */
void
_PG_init(void)
{
	PiInitGucs();
	PiInitSaveCache();
}
