/*
 * codec_png.c
 *		PNG with libpng: header and stream validation, rows for rendering, encoder.
 *
 * libpng reports errors by longjmp to the setjmp in pi_png_decode; nothing
 * longjmps out of this file.  Header mode reads up to the first IDAT (so the
 * CRC of IHDR and of every critical chunk before it is checked); full mode
 * then inflates every row, one row buffer at a time, and reads the chunks
 * after the image data (IDAT CRC and zlib's Adler-32 included).
 */
#include "codec.h"
#include "exif.h"
#include "sink.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#define PI_PNG_MAX_CHUNK ((size_t) 8 * 1024 * 1024)

/* The 8-byte signature. */
static int
pi_png_detect(const uint8_t *d, size_t len)
{
	static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

	return len >= 8 && memcmp(d, sig, 8) == 0;
}

typedef struct pi_png_src
{
	pi_job	   *job;
	size_t		pos;
} pi_png_src;

/* libpng error callback: keep the message, unwind to our setjmp. */
static void
pi_png_on_error(png_structp png, png_const_charp message)
{
	pi_png_src    *src = (pi_png_src *) png_get_error_ptr(png);

	pi_fail(src->job, PI_ERR_CORRUPT, "libpng: %s", message);
	png_longjmp(png, 1);
}

/* libpng warning callback: warnings are not failures and never reach stderr. */
static void
pi_png_on_warning(png_structp png, png_const_charp message)
{
	(void) png;
	(void) message;
}

/* libpng read callback: serve bytes from the buffer, error past its end. */
static void
pi_png_read_mem(png_structp png, png_bytep out, size_t n)
{
	pi_png_src    *src = (pi_png_src *) png_get_io_ptr(png);

	if (n > src->job->len - src->pos)
		png_error(png, "unexpected end of data");
	memcpy(out, src->job->data + src->pos, n);
	src->pos += n;
}

/*
 * One walk over the chunk headers, before libpng runs.
 *
 * libpng allocates a chunk's buffer from its length field before reading the
 * data, so a few bytes can ask for 2 GB (found by fuzzing): refuse any chunk
 * that claims more bytes than remain, up to the first IDAT (all libpng reads
 * in header mode) or, in full mode, up to IEND.
 *
 * On the way, APNG's frame count: acTL's num_frames, plus one when the
 * default image (IDAT) is not itself a frame (no fcTL before IDAT), as Pillow
 * counts.  *apng_frames is 0 when not an APNG or when acTL is invalid
 * (num_frames 0 or over 2^31 - 1, or acTL twice).
 */
static int
pi_png_scan_chunks(pi_job *job, uint32_t *apng_frames)
{
	const uint8_t *d = job->data;
	size_t		pos = 8;
	uint32_t	num_frames = 0;
	int			fctl_before_idat = 0,
				actl_invalid = 0,
				seen_idat = 0;

	*apng_frames = 0;
	while (job->len - pos >= 8)
	{
		uint32_t	clen = (uint32_t) d[pos] << 24 | (uint32_t) d[pos + 1] << 16 |
			(uint32_t) d[pos + 2] << 8 | d[pos + 3];
		const uint8_t *type = d + pos + 4;

		if ((uint64_t) clen + 12 > job->len - pos)
			return pi_fail(job, PI_ERR_CORRUPT,
						   "chunk %.4s at offset %zu needs %llu bytes, only %zu remain",
						   (const char *) type, pos, (unsigned long long) clen + 12, job->len - pos);
		if (memcmp(type, "IEND", 4) == 0)
			break;
		if (memcmp(type, "IDAT", 4) == 0)
		{
			seen_idat = 1;
			if (job->mode != PI_MODE_FULL)
				break;
		}
		else if (!seen_idat && memcmp(type, "fcTL", 4) == 0)
			fctl_before_idat = 1;
		else if (!seen_idat && memcmp(type, "acTL", 4) == 0)
		{
			if (num_frames != 0)
				actl_invalid = 1;	/* a second acTL makes the animation invalid */
			else if (clen >= 8)
			{
				const uint8_t *p = d + pos + 8;

				num_frames = (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
					(uint32_t) p[2] << 8 | p[3];
				if (num_frames > 0x7FFFFFFFu)
					actl_invalid = 1;
			}
		}
		pos += 12 + (size_t) clen;
	}
	if (num_frames != 0 && !actl_invalid)
		*apng_frames = fctl_before_idat ? num_frames : num_frames + 1;
	return PI_OK;
}

/*
 * Rendering: the first (default) image as 8-bit RGB or RGBA rows.  Rows
 * stream to the sink; an interlaced image is read whole into *buf first
 * (Adam7 completes no row before its last pass).  Called under the caller's
 * setjmp; *buf is freed by the caller.
 */
static int
pi_png_render(pi_job *job, png_structp png, png_infop info, uint8_t *volatile *buf)
{
	uint32_t	want_w,
				want_h,
				width = png_get_image_width(png, info),
				height = png_get_image_height(png, info);
	int			passes,
				rc;
	size_t		rowbytes;

	pi_sink_want(job, &want_w, &want_h);
	/*
	 * The image was validated when saved: rendering skips the IDAT CRC and
	 * zlib's Adler-32 (8% of a large PNG's time), as image viewers do.
	 */
	png_set_crc_action(png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
#ifdef PNG_IGNORE_ADLER32
	png_set_option(png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#endif
	png_set_expand(png);		/* palette, low-bit gray and tRNS to 8-bit RGB(A) */
	png_set_strip_16(png);
	png_set_gray_to_rgb(png);
	passes = png_set_interlace_handling(png);
	png_read_update_info(png, info);
	rowbytes = png_get_rowbytes(png, info);
	if (rowbytes == 0 || rowbytes != (size_t) width * png_get_channels(png, info))
		return pi_fail(job, PI_ERR_CORRUPT, "libpng: unexpected row size");
	rc = pi_sink_begin(job, width, height, png_get_channels(png, info));
	if (rc != PI_OK)
		return rc;
	*buf = malloc(passes > 1 ? rowbytes * height : rowbytes);
	if (*buf == NULL)
		return pi_fail(job, PI_ERR_NOMEM, "cannot allocate %zu bytes",
					   passes > 1 ? rowbytes * height : rowbytes);
	if (passes > 1)
	{
		for (int pass = 0; pass < passes; pass++)
			for (uint32_t y = 0; y < height; y++)
			{
				png_read_row(png, *buf + rowbytes * y, NULL);
				if ((rc = pi_row_done(job)) != PI_OK)
					return rc;
			}
		for (uint32_t y = 0; y < height; y++)
			if ((rc = pi_sink_row(job, *buf + rowbytes * y)) != PI_OK)
				return rc;
	}
	else
		for (uint32_t y = 0; y < height; y++)
		{
			png_read_row(png, *buf, NULL);
			if ((rc = pi_sink_row(job, *buf)) != PI_OK)
				return rc;
		}
	return PI_OK;
}

/* The codec's decode (codec.h): validate, or stream the first image to the sink. */
static int
pi_png_decode(pi_job *job)
{
	pi_header  *h = job->header;
	pi_png_src		src = {job, 0};
	png_structp png;
	png_infop	info = NULL;
	uint8_t    *volatile row = NULL;
	volatile int rc = PI_OK;
	png_uint_32 width,
				height;
	int			bit_depth,
				color_type,
				interlace;

	rc = pi_png_scan_chunks(job, &h->frames);	/* 0 unless an APNG */
	if (h->frames == 0)
		h->frames = 1;
	if (rc != PI_OK)
		return rc;
	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, pi_png_on_error, pi_png_on_warning);
	if (png == NULL)
		return pi_fail(job, PI_ERR_NOMEM, "libpng: cannot create read struct");
	info = png_create_info_struct(png);
	if (info == NULL)
	{
		png_destroy_read_struct(&png, NULL, NULL);
		return pi_fail(job, PI_ERR_NOMEM, "libpng: cannot create info struct");
	}

	if (setjmp(png_jmpbuf(png)))
	{
		/* the callback recorded the message; rc may have been set before */
		if (rc == PI_OK)
			rc = PI_ERR_CORRUPT;
		goto done;
	}

	png_set_read_fn(png, &src, pi_png_read_mem);
	/* our own max_pixels applies, not libpng's default 1M x 1M */
	png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
	/* decompressed ancillary chunks (iCCP, zTXt, iTXt) get 8 MiB at most */
	png_set_chunk_malloc_max(png, PI_PNG_MAX_CHUNK);
	/*
	 * Text chunks are skipped, not inflated and kept (a thousand zTXt of
	 * 8 MiB each would cost 8 GB), and few other ancillary chunks are cached.
	 */
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, (png_const_bytep) "tEXt\0zTXt\0iTXt\0", 3);
	png_set_chunk_cache_max(png, 128);
	png_read_info(png, info);
	png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);

	h->width = width;
	h->height = height;
	h->bit_depth = bit_depth;
	h->channels = png_get_channels(png, info);
	h->interlaced = interlace != PNG_INTERLACE_NONE;
	h->has_alpha = (color_type & PNG_COLOR_MASK_ALPHA) != 0 ||
		png_get_valid(png, info, PNG_INFO_tRNS) != 0;
	switch (color_type)
	{
		case PNG_COLOR_TYPE_GRAY:
			strcpy(h->color_type, "gray");
			break;
		case PNG_COLOR_TYPE_GRAY_ALPHA:
			strcpy(h->color_type, "gray+alpha");
			break;
		case PNG_COLOR_TYPE_PALETTE:
			strcpy(h->color_type, "palette");
			break;
		case PNG_COLOR_TYPE_RGB:
			strcpy(h->color_type, "rgb");
			break;
		default:
			strcpy(h->color_type, "rgb+alpha");
			break;
	}
#ifdef PNG_eXIf_SUPPORTED
	{
		png_uint_32 exif_len = 0;
		png_bytep	exif = NULL;

		if (png_get_eXIf_1(png, info, &exif_len, &exif) != 0 && exif != NULL)
			h->orientation = pi_exif_orientation(exif, exif_len);
	}
#endif

	rc = pi_add_frame(job, width, height);
	if (rc == PI_OK && job->sink != NULL)
		rc = pi_png_render(job, png, info, &row);
	if (rc != PI_OK || job->mode != PI_MODE_FULL || job->sink != NULL)
		goto done;

	{
		int			passes = png_set_interlace_handling(png);
		size_t		rowbytes;

		/* in full mode libpng's "benign" errors (extra data, ...) are errors */
		png_set_benign_errors(png, 0);
		png_read_update_info(png, info);
		rowbytes = png_get_rowbytes(png, info);
		if (rowbytes == 0)
		{
			rc = pi_fail(job, PI_ERR_CORRUPT, "libpng: row size overflows");
			goto done;
		}
		row = malloc(rowbytes);
		if (row == NULL)
		{
			rc = pi_fail(job, PI_ERR_NOMEM, "cannot allocate a row of %zu bytes", rowbytes);
			goto done;
		}
		for (int pass = 0; pass < passes; pass++)
			for (png_uint_32 y = 0; y < height; y++)
			{
				png_read_row(png, row, NULL);
				if ((rc = pi_row_done(job)) != PI_OK)
					goto done;
			}
		png_read_end(png, NULL);
	}

done:
	free(row);
	png_destroy_read_struct(&png, &info, NULL);
	return rc;
}

typedef struct pi_png_dst
{
	pi_png_src		src;			/* first: the error callback reads it */
	pi_buf	   *buf;
	int			code;
} pi_png_dst;

static void
pi_png_write_mem(png_structp png, png_bytep bytes, size_t n)
{
	pi_png_dst    *dst = (pi_png_dst *) png_get_io_ptr(png);
	int			rc = pi_buf_append(dst->buf, bytes, n);

	if (rc != PI_OK)
	{
		dst->code = rc;
		png_error(png, "output buffer limit");
	}
}

static void
pi_png_flush_mem(png_structp png)
{
	(void) png;
}

/* Encode RGBA (or, when opaque, RGB) rows as a non-interlaced PNG at opts->png_level. */
static int
pi_png_encode(pi_job *job, const pi_frame *frame, const pi_render_opts *opts, pi_buf *out)
{
	const uint8_t *rgba = frame->rgba;
	uint32_t	w = frame->width,
				h = frame->height;
	int			has_alpha = frame->has_alpha,
				level = opts->png_level;
	pi_png_dst		dst = {{job, 0}, out, PI_ERR_INTERNAL};
	png_structp png;
	png_infop	info = NULL;
	uint8_t    *volatile row = NULL;
	volatile int rc = PI_OK;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &dst, pi_png_on_error, pi_png_on_warning);
	if (png == NULL)
		return pi_fail(job, PI_ERR_NOMEM, "libpng: cannot create write struct");
	info = png_create_info_struct(png);
	if (info == NULL)
	{
		png_destroy_write_struct(&png, NULL);
		return pi_fail(job, PI_ERR_NOMEM, "libpng: cannot create info struct");
	}
	if (setjmp(png_jmpbuf(png)))
	{
		rc = dst.code;
		goto done;
	}
	png_set_write_fn(png, &dst, pi_png_write_mem, pi_png_flush_mem);
	png_set_compression_level(png, level);
	png_set_IHDR(png, info, w, h, 8, has_alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
				 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	if (!has_alpha)
	{
		row = malloc((size_t) w * 3);
		if (row == NULL)
		{
			rc = pi_fail(job, PI_ERR_NOMEM, "cannot allocate a row of %u pixels", w);
			goto done;
		}
	}
	for (uint32_t y = 0; y < h; y++)
	{
		const uint8_t *p = rgba + (size_t) y * w * 4;

		if (has_alpha)
			png_write_row(png, p);
		else
		{
			for (uint32_t x = 0; x < w; x++)
				memcpy(row + (size_t) x * 3, p + (size_t) x * 4, 3);
			png_write_row(png, row);
		}
	}
	png_write_end(png, info);

done:
	free(row);
	png_destroy_write_struct(&png, &info);
	return rc;
}

/* The file's one export: its row in the codec table (codecs.c). */
const pi_codec pi_codec_png = {
	.format = PI_FORMAT_PNG,
	.name = "png",
	.label = "PNG",
	.mime_type = "image/png",
	.detect = pi_png_detect,
	.decode = pi_png_decode,
	.encode = pi_png_encode,
};
