/*
 * product_image.c
 *		Module entry point and settings (GUCs).
 */
#include "postgres.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

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
char	   *pi_rendition_widths = NULL;
char	   *pi_auto_formats_text = NULL;
char	   *pi_accept_formats_text = NULL;
int			pi_webp_quality = PI_DEFAULT_WEBP_QUALITY;
int			pi_avif_quality = PI_DEFAULT_AVIF_QUALITY;
static pi_format accept_formats[PI_MAX_AUTO_FORMATS];
static int	accept_formats_n = 0;
pi_format	pi_auto_formats[PI_MAX_AUTO_FORMATS];
int			pi_auto_formats_n = 0;

/* product_image.rendition_widths parsed: ascending, at most MAX_WIDTHS */
#define MAX_WIDTHS 64
static int32 widths[MAX_WIDTHS];
static int	nwidths = 0;

static const struct config_enum_entry validate_options[] = {
	{"header", PI_MODE_HEADER, false},
	{"full", PI_MODE_FULL, false},
	{NULL, 0, false}
};

void		_PG_init(void);

/*
 * Parse "avif, webp" into formats renditions can be written in; false (and
 * *bad the offending name) on a name the codec table does not know or
 * cannot write, a repeat, or too many.
 */
static bool
ParseFormats(const char *value, bool reads, pi_format *out, int *n, char *bad, size_t badlen)
{
	const char *p = value ? value : "";
	int			k = 0;

	while (*p)
	{
		char		name[32];
		size_t		len = 0;
		pi_format	f;

		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		while (p[len] && p[len] != ',' && p[len] != ' ')
			len++;
		snprintf(name, sizeof(name), "%.*s", (int) (len < sizeof(name) ? len : sizeof(name) - 1), p);
		p += len;
		f = pi_format_from_type_name(name);
		for (int i = 0; f != PI_FORMAT_UNKNOWN && i < k; i++)
			if (out[i] == f)
				f = PI_FORMAT_UNKNOWN;
		/* reads: a format images can be stored in; else one renditions can be written in */
		if (f == PI_FORMAT_UNKNOWN || k == PI_MAX_AUTO_FORMATS ||
			(reads ? pi_format_from_name(pi_format_name(f)) != f : !pi_format_encodes(f)))
		{
			snprintf(bad, badlen, "%s", name);
			return false;
		}
		out[k++] = f;
	}
	*n = k;
	return true;
}

/*
 * A list setting's check: formats renditions can be written in (reads
 * false) or images can be stored in (reads true, and at least one).
 */
static bool
CheckFormatList(const char *value, bool reads)
{
	pi_format	f[PI_MAX_AUTO_FORMATS];
	int			n;
	char		bad[32];

	if (!ParseFormats(value, reads, f, &n, bad, sizeof(bad)))
	{
		GUC_check_errdetail("\"%s\" is not a format %s, or is repeated.", bad,
							reads ? "images can be stored in" : "renditions can be written in");
		return false;
	}
	if (reads && n == 0)
	{
		GUC_check_errdetail("At least one format must be accepted.");
		return false;
	}
	return true;
}

static bool
CheckFormats(char **newval, void **extra, GucSource source)
{
	return CheckFormatList(*newval, false);
}

static bool
CheckAccept(char **newval, void **extra, GucSource source)
{
	return CheckFormatList(*newval, true);
}

static void
AssignAccept(const char *newval, void *extra)
{
	char		bad[32];

	if (!ParseFormats(newval, true, accept_formats, &accept_formats_n, bad, sizeof(bad)))
		accept_formats_n = 0;
}

/* Whether product_image.accept_formats lists the format. */
bool
pi_format_accepted(pi_format format)
{
	for (int i = 0; i < accept_formats_n; i++)
		if (accept_formats[i] == format)
			return true;
	return false;
}

/* The accepted formats as a sentence lists them: "PNG, JPEG, GIF and TIFF". */
void
PiAcceptedLabels(char *buf, size_t size)
{
	size_t		used = 0;

	buf[0] = '\0';
	for (int i = 0; i < accept_formats_n && used < size; i++)
	{
		int			w = snprintf(buf + used, size - used, "%s%s",
								 i == 0 ? "" : (i + 1 == accept_formats_n ? " and " : ", "),
								 pi_format_label(accept_formats[i]));

		if (w < 0)
			break;
		used += (size_t) w;
	}
}

/* The quality a rendition in out is made with: part of its cache key and ETag. */
int
PiQualityOf(pi_format out)
{
	switch (out)
	{
		case PI_FORMAT_JPEG:
			return pi_jpeg_quality;
		case PI_FORMAT_WEBP:
			return pi_webp_quality;
		case PI_FORMAT_AVIF:
			return pi_avif_quality;
		default:
			return 0;
	}
}

static void
AssignFormats(const char *newval, void *extra)
{
	char		bad[32];

	if (!ParseFormats(newval, false, pi_auto_formats, &pi_auto_formats_n, bad, sizeof(bad)))
		pi_auto_formats_n = 0;
}

/* Parse "64, 128, 256" into ascending sides; false with *n untouched on error. */
static bool
ParseWidths(const char *value, int32 *out, int *n)
{
	const char *p = value ? value : "";
	int			k = 0;

	while (*p)
	{
		char	   *end;
		long		v;

		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno != 0 || v < 1 || v > 65535 || k == MAX_WIDTHS ||
			(k > 0 && v <= out[k - 1]))
			return false;
		out[k++] = (int32) v;
		p = end;
		if (*p != '\0' && *p != ',' && *p != ' ')
			return false;
	}
	*n = k;
	return true;
}

static bool
CheckWidths(char **newval, void **extra, GucSource source)
{
	int32		tmp[MAX_WIDTHS];
	int			n;

	if (!ParseWidths(*newval, tmp, &n))
	{
		GUC_check_errdetail("product_image.rendition_widths is a comma-separated list of at most %d "
							"ascending sizes from 1 to 65535, or empty.", MAX_WIDTHS);
		return false;
	}
	return true;
}

static void
AssignWidths(const char *newval, void *extra)
{
	if (!ParseWidths(newval, widths, &nwidths))
		nwidths = 0;
}

int32
PiRoundSide(int32 side)
{
	if (side <= 0 || nwidths == 0)
		return side;
	for (int i = 0; i < nwidths; i++)
		if (widths[i] >= side)
			return widths[i];
	return widths[nwidths - 1];
}

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
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("product_image.jpeg_quality",
							"JPEG quality of renditions (1 to 100).",
							NULL,
							&pi_jpeg_quality,
							PI_DEFAULT_JPEG_QUALITY, 1, 100,
							PGC_SUSET, 0,
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

	DefineCustomStringVariable("product_image.rendition_widths",
							   "Sizes a rendition's w and h are rounded up to (empty: any size).",
							   "A comma-separated ascending list, like 64,128,256,512,1024,2048; "
							   "a side over the largest becomes the largest.",
							   &pi_rendition_widths,
							   "",
							   PGC_SUSET, 0,
							   CheckWidths, AssignWidths, NULL);

	DefineCustomStringVariable("product_image.accept_formats",
							   "Formats product_save_image and image_info accept.",
							   "A comma-separated list of png, jpeg, gif, tiff and webp; others are refused "
							   "as unsupported (0A000) even when the decoder reads them.",
							   &pi_accept_formats_text,
							   PI_DEFAULT_ACCEPT_FORMATS,
							   PGC_SUSET, GUC_LIST_INPUT,
							   CheckAccept, AssignAccept, NULL);

	DefineCustomIntVariable("product_image.webp_quality",
							"WebP quality of renditions (1 to 100; 100 is lossless).",
							NULL,
							&pi_webp_quality,
							PI_DEFAULT_WEBP_QUALITY, 1, 100,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("product_image.avif_quality",
							"AVIF quality of renditions (1 to 100).",
							NULL,
							&pi_avif_quality,
							PI_DEFAULT_AVIF_QUALITY, 1, 100,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("product_image.auto_formats",
							   "Formats a rendition asked for without a type may take, in order of preference.",
							   "The first that the request's Accept header names explicitly is made; "
							   "empty: renditions keep the source's format.",
							   &pi_auto_formats_text,
							   PI_DEFAULT_AUTO_FORMATS,
							   PGC_SUSET, GUC_LIST_INPUT,
							   CheckFormats, AssignFormats, NULL);

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
	PiInitAccess();
}
