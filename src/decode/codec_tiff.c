/*
 * codec_tiff.c
 *		TIFF and BigTIFF with libtiff: header and stream validation, the
 *		first page's rows for rendering; no encoder (renditions are PNG).
 *
 * libtiff reports through per-handle error and warning handlers (libtiff
 * 4.5's TIFFOpenOptions), which record the first error and never print.
 * Header mode reads every directory of the IFD chain (counting pages and
 * their pixels, with libtiff's own loop detection); full mode also decodes
 * every strip or tile of every page into one strip-sized buffer.  No single
 * allocation inside libtiff may exceed PI_TIFF_MAX_ALLOC.
 */
#include "codec.h"
#include "exif.h"
#include "sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

/* libtiff's handler type has no format attribute; gcc would ask for one */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wsuggest-attribute=format"
#endif

#define PI_TIFF_MAX_ALLOC	((tmsize_t) 256 * 1024 * 1024)
#define PI_TIFF_MAX_PAGES	10000
/* tags in one directory: real files have tens */
#define PI_TIFF_MAX_TAGS	1024
/* tag data past the file's own length that directories may claim in total
 * (tags pointing again and again at the same block: libtiff would read and
 * keep every copy) */
#define PI_TIFF_MAX_TAG_OVERLAP	((uint64_t) 16 * 1024 * 1024)

/* II*\0 or MM\0* (TIFF), II+\0 or MM\0+ (BigTIFF). */
static int
pi_tiff_detect(const uint8_t *d, size_t len)
{
	return len >= 4 &&
		((d[0] == 'I' && d[1] == 'I' && (d[2] == 42 || d[2] == 43) && d[3] == 0) ||
		 (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && (d[3] == 42 || d[3] == 43)));
}

typedef struct pi_tiff_src
{
	pi_job	   *job;
	uint64_t	pos;
	int			errors;			/* errors reported since last reset */
} pi_tiff_src;

static tmsize_t
pi_tiff_read(thandle_t h, void *buf, tmsize_t size)
{
	pi_tiff_src   *src = (pi_tiff_src *) h;
	uint64_t	left;

	if (size <= 0 || src->pos >= src->job->len)
		return 0;
	left = src->job->len - src->pos;
	if ((uint64_t) size > left)
		size = (tmsize_t) left;
	memcpy(buf, src->job->data + src->pos, (size_t) size);
	src->pos += (uint64_t) size;
	return size;
}

static tmsize_t
pi_tiff_write(thandle_t h, void *buf, tmsize_t size)
{
	(void) h;
	(void) buf;
	(void) size;
	return -1;
}

static toff_t
pi_tiff_seek(thandle_t h, toff_t off, int whence)
{
	pi_tiff_src   *src = (pi_tiff_src *) h;
	uint64_t	base;

	switch (whence)
	{
		case SEEK_SET:
			base = 0;
			break;
		case SEEK_CUR:
			base = src->pos;
			break;
		case SEEK_END:
			base = src->job->len;
			break;
		default:
			return (toff_t) -1;
	}
	if (off > UINT64_MAX - base)
		return (toff_t) -1;
	src->pos = base + off;		/* past the end is allowed; reads return 0 */
	return (toff_t) src->pos;
}

static int
pi_tiff_close(thandle_t h)
{
	(void) h;
	return 0;
}

static toff_t
pi_tiff_size(thandle_t h)
{
	return (toff_t) ((pi_tiff_src *) h)->job->len;
}

static int
pi_tiff_map(thandle_t h, void **base, toff_t *size)
{
	pi_tiff_src   *src = (pi_tiff_src *) h;

	*base = (void *) src->job->data;
	*size = (toff_t) src->job->len;
	return 1;
}

static void
pi_tiff_unmap(thandle_t h, void *base, toff_t size)
{
	(void) h;
	(void) base;
	(void) size;
}

/* Record libtiff's first error; returning 1 keeps it from the global handler. */
static int
pi_tiff_on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	pi_tiff_src   *src = (pi_tiff_src *) user;
	char		buf[PI_MESSAGE_LEN];

	(void) tif;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	src->errors++;
	pi_fail(src->job, PI_ERR_CORRUPT, "libtiff: %s%s%s", module ? module : "",
			module ? ": " : "", buf);
	return 1;
}

static int
pi_tiff_on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	(void) tif;
	(void) user;
	(void) module;
	(void) fmt;
	(void) ap;
	return 1;
}

/* Read what one directory says; the first page fills the header. */
static int
pi_tiff_read_page(pi_job *job, TIFF *tif, uint32_t page)
{
	pi_header  *h = job->header;
	uint32_t	width = 0,
				height = 0;
	uint16_t	bps = 1,
				spp = 1,
				photometric = 0,
				extra_count = 0,
				orientation = 0;
	uint16_t   *extra = NULL;

	if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width) ||
		!TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height))
		return pi_fail(job, PI_ERR_CORRUPT, "libtiff: page %u has no ImageWidth or ImageLength",
					   page + 1);
	if (page > 0)
		return pi_add_frame(job, width, height);

	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
	TIFFGetFieldDefaulted(tif, TIFFTAG_EXTRASAMPLES, &extra_count, &extra);
	if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric))
		photometric = spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
	if (TIFFGetField(tif, TIFFTAG_ORIENTATION, &orientation) && orientation >= 1 && orientation <= 8)
		h->orientation = orientation;

	h->width = width;
	h->height = height;
	h->bit_depth = bps;
	h->channels = spp;
	for (uint16_t i = 0; extra != NULL && i < extra_count; i++)
		if (extra[i] == EXTRASAMPLE_ASSOCALPHA || extra[i] == EXTRASAMPLE_UNASSALPHA)
			h->has_alpha = 1;
	switch (photometric)
	{
		case PHOTOMETRIC_MINISWHITE:
		case PHOTOMETRIC_MINISBLACK:
			strcpy(h->color_type, h->has_alpha ? "gray+alpha" : "gray");
			break;
		case PHOTOMETRIC_RGB:
			strcpy(h->color_type, h->has_alpha ? "rgb+alpha" : "rgb");
			break;
		case PHOTOMETRIC_PALETTE:
			strcpy(h->color_type, "palette");
			break;
		case PHOTOMETRIC_SEPARATED:
			strcpy(h->color_type, "cmyk");
			break;
		case PHOTOMETRIC_YCBCR:
			strcpy(h->color_type, "ycbcr");
			break;
		case PHOTOMETRIC_CIELAB:
		case PHOTOMETRIC_ICCLAB:
		case PHOTOMETRIC_ITULAB:
			strcpy(h->color_type, "lab");
			break;
		default:
			strcpy(h->color_type, "other");
			break;
	}
	return pi_add_frame(job, width, height);
}

/* Decode every strip or tile of the current page, one at a time. */
static int
pi_tiff_decode_page(pi_job *job, TIFF *tif, pi_tiff_src *src)
{
	int			tiled = TIFFIsTiled(tif);
	uint64_t	size = tiled ? TIFFTileSize64(tif) : TIFFStripSize64(tif);
	uint32_t	n = tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
	void	   *buf;

	if (size == 0 || n == 0)
		return pi_fail(job, PI_ERR_CORRUPT, "libtiff: page has no %s", tiled ? "tiles" : "strips");
	if (size > (uint64_t) PI_TIFF_MAX_ALLOC)
		return pi_fail(job, PI_ERR_LIMIT_PIXELS, "libtiff: a %s of %llu bytes exceeds the limit of %lld",
					   tiled ? "tile" : "strip", (unsigned long long) size,
					   (long long) PI_TIFF_MAX_ALLOC);
	buf = malloc((size_t) size);
	if (buf == NULL)
		return pi_fail(job, PI_ERR_NOMEM, "cannot allocate %llu bytes", (unsigned long long) size);
	for (uint32_t i = 0; i < n; i++)
	{
		tmsize_t	got = tiled ? TIFFReadEncodedTile(tif, i, buf, (tmsize_t) size)
			: TIFFReadEncodedStrip(tif, i, buf, (tmsize_t) size);

		if (got < 0 || src->errors > 0)
		{
			free(buf);
			return pi_fail(job, PI_ERR_CORRUPT, "libtiff: cannot decode %s %u",
						   tiled ? "tile" : "strip", i);
		}
		if (pi_row_done(job) != PI_OK)
		{
			free(buf);
			return PI_ERR_CANCELLED;
		}
	}
	free(buf);
	return PI_OK;
}

/*
 * Rendering: the first page through libtiff's RGBA interface, which handles
 * every photometric, bit depth, planar layout and compression libtiff knows,
 * in bands of whole strips or tile rows (at most PI_TIFF_MAX_ALLOC bytes),
 * rows in stored order (the orientation tag is applied by the renderer).
 */
static int
pi_tiff_render(pi_job *job, TIFF *tif, pi_tiff_src *src)
{
	TIFFRGBAImage img;
	char		emsg[1024];
	uint32_t	want_w,
				want_h,
				band = 0;
	uint32_t   *raster = NULL;
	int			rc = PI_OK;

	pi_sink_want(job, &want_w, &want_h);
	if (!TIFFRGBAImageOK(tif, emsg) || !TIFFRGBAImageBegin(&img, tif, 0, emsg))
		return pi_fail(job, PI_ERR_UNSUPPORTED, "libtiff cannot render this page: %s", emsg);
	img.req_orientation = img.orientation;	/* no flips: rows as stored */
	if (TIFFIsTiled(tif))
		TIFFGetField(tif, TIFFTAG_TILELENGTH, &band);
	else
		TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &band);
	if (band == 0 || band > img.height)
		band = img.height;
	if ((uint64_t) band * img.width * 4 > (uint64_t) PI_TIFF_MAX_ALLOC)
		band = (uint32_t) ((uint64_t) PI_TIFF_MAX_ALLOC / ((uint64_t) img.width * 4));
	if (band == 0)
	{
		rc = pi_fail(job, PI_ERR_LIMIT_PIXELS, "libtiff: a row of %u pixels is too wide", img.width);
		goto done;
	}
	raster = malloc((size_t) band * img.width * 4);
	if (raster == NULL)
	{
		rc = pi_fail(job, PI_ERR_NOMEM, "cannot allocate %u rows of %u pixels", band, img.width);
		goto done;
	}
	rc = pi_sink_begin(job, img.width, img.height, 4);
	for (uint32_t y = 0; rc == PI_OK && y < img.height; y += band)
	{
		uint32_t	n = img.height - y < band ? img.height - y : band;

		img.row_offset = (int) y;
		img.col_offset = 0;
		if (!TIFFRGBAImageGet(&img, raster, img.width, n) || src->errors > 0)
		{
			rc = pi_fail(job, PI_ERR_CORRUPT, "libtiff: cannot decode rows %u to %u", y, y + n - 1);
			break;
		}
		/* ABGR words on little and big endian alike: unpack to RGBA bytes in place */
		for (size_t i = 0; i < (size_t) n * img.width; i++)
		{
			uint32_t	p = raster[i];
			uint8_t    *o = (uint8_t *) &raster[i];

			o[0] = (uint8_t) TIFFGetR(p);
			o[1] = (uint8_t) TIFFGetG(p);
			o[2] = (uint8_t) TIFFGetB(p);
			o[3] = (uint8_t) TIFFGetA(p);
		}
		for (uint32_t r = 0; rc == PI_OK && r < n; r++)
			rc = pi_sink_row(job, (const uint8_t *) (raster + (size_t) r * img.width));
	}

done:
	free(raster);
	TIFFRGBAImageEnd(&img);
	return rc;
}

static uint64_t
pi_tiff_get(const uint8_t *p, int size, int big_endian)
{
	uint64_t	v = 0;

	for (int i = 0; i < size; i++)
		v |= (uint64_t) p[big_endian ? i : size - 1 - i] << (8 * (size - 1 - i));
	return v;
}

/* Bytes per value of a TIFF field type (0: unknown type, libtiff ignores it). */
static uint32_t
pi_tiff_type_size(uint32_t type)
{
	static const uint8_t sizes[] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8, 8, 8};

	return type < sizeof(sizes) ? sizes[type] : 0;
}

/*
 * Walk the directory chain before libtiff does, distrusting every count: at
 * most PI_TIFF_MAX_TAGS entries a directory, and the data all tags claim
 * outside their entries at most the file's length plus
 * PI_TIFF_MAX_TAG_OVERLAP (libtiff reads and keeps every tag it does not
 * know, so a thousand tags naming the same megabyte cost a gigabyte).  Asks
 * cancelled() between directories.  Structure errors are left to libtiff.
 */
static int
pi_tiff_prescan(pi_job *job)
{
	const uint8_t *d = job->data;
	size_t		len = job->len;
	int			be,
				big;
	uint64_t	off,
				claimed = 0;
	uint32_t	dirs = 0;

	if (len < 16)
		return PI_OK;
	be = d[0] == 'M';
	big = pi_tiff_get(d + 2, 2, be) == 43;
	off = big ? pi_tiff_get(d + 8, 8, be) : pi_tiff_get(d + 4, 4, be);
	while (off != 0 && dirs++ <= PI_TIFF_MAX_PAGES)
	{
		int			count_size = big ? 8 : 2,
					entry_size = big ? 20 : 12,
					inline_size = big ? 8 : 4;
		uint64_t	n;

		if (job->cancelled != NULL && job->cancelled(job->cancel_arg))
			return pi_fail(job, PI_ERR_CANCELLED, "cancelled");
		if (off > len || len - off < (uint64_t) count_size)
			return PI_OK;
		n = pi_tiff_get(d + off, count_size, be);
		if (n > PI_TIFF_MAX_TAGS)
			return pi_fail(job, PI_ERR_CORRUPT,
						   "TIFF directory %u has %llu tags, more than %d", dirs,
						   (unsigned long long) n, PI_TIFF_MAX_TAGS);
		/* the entries and the next directory's offset (left to libtiff when short) */
		if (len - off - count_size < (uint64_t) inline_size ||
			(len - off - count_size - inline_size) / entry_size < n)
			return PI_OK;
		for (uint64_t i = 0; i < n; i++)
		{
			const uint8_t *e = d + off + count_size + i * entry_size;
			uint32_t	type = (uint32_t) pi_tiff_get(e + 2, 2, be);
			uint64_t	values = pi_tiff_get(e + 4, big ? 8 : 4, be);
			uint64_t	size = pi_tiff_type_size(type);

			if (size != 0 && values > UINT64_MAX / size)
				return pi_fail(job, PI_ERR_CORRUPT, "TIFF tag %u claims %llu values",
							   (unsigned) pi_tiff_get(e, 2, be), (unsigned long long) values);
			size *= values;
			if (size > (uint64_t) inline_size)
				claimed += size;
		}
		if (claimed > (uint64_t) len + PI_TIFF_MAX_TAG_OVERLAP)
			return pi_fail(job, PI_ERR_CORRUPT,
						   "TIFF tags claim %llu bytes of data in a %zu-byte file",
						   (unsigned long long) claimed, len);
		off = pi_tiff_get(d + off + count_size + n * entry_size, big ? 8 : 4, be);
	}
	return PI_OK;
}

/* The codec's decode (codec.h): validate, or stream the first page to the sink. */
static int
pi_tiff_decode(pi_job *job)
{
	pi_tiff_src	src = {job, 0, 0};
	TIFFOpenOptions *opts;
	TIFF	   *tif;
	uint32_t	pages = 0;
	int			rc = PI_OK;

	rc = pi_tiff_prescan(job);
	if (rc != PI_OK)
		return rc;
	opts = TIFFOpenOptionsAlloc();
	if (opts == NULL)
		return pi_fail(job, PI_ERR_NOMEM, "libtiff: cannot allocate options");
	TIFFOpenOptionsSetMaxSingleMemAlloc(opts, PI_TIFF_MAX_ALLOC);
	TIFFOpenOptionsSetErrorHandlerExtR(opts, pi_tiff_on_error, &src);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, pi_tiff_on_warning, &src);
	/* "m": no memory mapping, so every read goes through pi_tiff_read's bounds */
	tif = TIFFClientOpenExt("image", "rm", (thandle_t) &src, pi_tiff_read, pi_tiff_write,
							pi_tiff_seek, pi_tiff_close, pi_tiff_size, pi_tiff_map, pi_tiff_unmap, opts);
	TIFFOpenOptionsFree(opts);
	if (tif == NULL)
		return pi_fail(job, PI_ERR_CORRUPT, "libtiff: cannot read the TIFF header");

	for (;;)
	{
		int			more;

		/* errors libtiff reported while reading the directory but recovered from */
		src.errors = 0;
		job->msg[0] = '\0';
		rc = pi_tiff_read_page(job, tif, pages);
		if (rc != PI_OK)
			break;
		{
			/*
			 * A page whose data is another image format (WebP, JPEG XL
			 * strips, libtiff's codecs 50001 and 50002) is that format
			 * under a TIFF label: refused like the format itself, so
			 * its decoder never sees what a TIFF upload carries (an
			 * outside tester stored WebP strips while WebP uploads
			 * were refused).
			 */
			uint16_t	comp = COMPRESSION_NONE;

			TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &comp);
			if (comp == COMPRESSION_WEBP || comp == COMPRESSION_JXL)
			{
				rc = pi_fail(job, PI_ERR_UNSUPPORTED, "TIFF page %u holds %s data, which is not accepted", pages + 1,
							 comp == COMPRESSION_WEBP ? "WebP" : "JPEG XL");
				break;
			}
		}
		if (pages == 0)
		{
			/*
			 * What is saved can be rendered: the first page (the one
			 * renditions show) must be one libtiff's RGBA interface
			 * reads (not 12-bit samples, floating point with a
			 * predictor, an unknown photometric...), or every
			 * thumbnail of it would fail (found by an outside tester).
			 */
			char		emsg[1024];

			if (!TIFFRGBAImageOK(tif, emsg))
			{
				rc = pi_fail(job, PI_ERR_UNSUPPORTED, "libtiff cannot render this TIFF's first page: %s", emsg);
				break;
			}
		}
		if (job->sink != NULL)
		{
			rc = pi_tiff_render(job, tif, &src);
			break;
		}
		if (job->mode == PI_MODE_FULL)
		{
			rc = pi_tiff_decode_page(job, tif, &src);
			if (rc != PI_OK)
				break;
		}
		pages++;
		if (pages >= PI_TIFF_MAX_PAGES && TIFFLastDirectory(tif) == 0)
		{
			rc = pi_fail(job, PI_ERR_LIMIT_PIXELS, "TIFF has more than %d pages", PI_TIFF_MAX_PAGES);
			break;
		}
		if (job->cancelled != NULL && job->cancelled(job->cancel_arg))
		{
			rc = pi_fail(job, PI_ERR_CANCELLED, "cancelled");
			break;
		}
		src.errors = 0;
		job->msg[0] = '\0';
		more = TIFFReadDirectory(tif);
		if (!more)
		{
			if (src.errors > 0)
				rc = PI_ERR_CORRUPT;
			break;
		}
	}
	if (rc == PI_OK)
		job->header->frames = pages;
	TIFFClose(tif);
	return rc;
}

/* The file's one export: its row in the codec table (codecs.c). */
const pi_codec pi_codec_tiff = {
	.format = PI_FORMAT_TIFF,
	.name = "tiff",
	.aliases = {"tif", NULL},
	.label = "TIFF",
	.mime_type = "image/tiff",
	.detect = pi_tiff_detect,
	.decode = pi_tiff_decode,
	.encode = NULL,				/* renditions of a TIFF use codecs.c's default */
};
