/*
 * codec_jpeg.c
 *		JPEG with libjpeg-turbo: header and stream validation, rows for
 *		rendering (at a DCT scale), encoder.
 *
 * libjpeg reports fatal errors through error_exit, which we turn into a
 * longjmp to the setjmp in pi_jpeg_decode.  In full mode a corrupt-data
 * warning is fatal too (as libjpeg-turbo's own "stop on warning" option).
 * The number of progressive scans is capped: a few kilobytes of scans can
 * otherwise cost minutes of CPU.  Full mode entropy-decodes everything but
 * reconstructs pixels at 1/8 scale (one small row buffer).
 */
#include "codec.h"
#include "exif.h"
#include "sink.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

#define PI_JPEG_MAX_SCANS 500

/* SOI and the first marker's 0xFF. */
static int
pi_jpeg_detect(const uint8_t *d, size_t len)
{
	return len >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF;
}

typedef struct pi_jpeg_ctx
{
	struct jpeg_error_mgr pub;	/* must be first */
	jmp_buf		jump;
	pi_job	   *job;
	int			code;
} pi_jpeg_ctx;

/* Keep libjpeg's message and unwind. */
static void
pi_jpeg_on_error(j_common_ptr cinfo)
{
	pi_jpeg_ctx   *ctx = (pi_jpeg_ctx *) cinfo->err;
	char		buf[JMSG_LENGTH_MAX];

	(*cinfo->err->format_message) (cinfo, buf);
	/* over libjpeg's own dimension limit is over a limit, not corrupt */
	if (cinfo->err->msg_code == JERR_IMAGE_TOO_BIG)
		ctx->code = PI_ERR_LIMIT_PIXELS;
	pi_fail(ctx->job, ctx->code, "libjpeg: %s", buf);
	longjmp(ctx->jump, 1);
}

/* Warnings (level -1) are fatal in full mode; trace messages are dropped. */
static void
pi_jpeg_on_message(j_common_ptr cinfo, int level)
{
	pi_jpeg_ctx   *ctx = (pi_jpeg_ctx *) cinfo->err;

	if (level >= 0)
		return;
	cinfo->err->num_warnings++;
	if (ctx->job->mode == PI_MODE_FULL)
		pi_jpeg_on_error(cinfo);
}

/* Never print. */
static void
pi_jpeg_on_output(j_common_ptr cinfo)
{
	(void) cinfo;
}

/* Our error manager: messages kept, never printed, errors unwind to ctx->jump. */
static struct jpeg_error_mgr *
pi_jpeg_init_errors(pi_jpeg_ctx *ctx, pi_job *job, int code)
{
	struct jpeg_error_mgr *err = jpeg_std_error(&ctx->pub);

	ctx->pub.error_exit = pi_jpeg_on_error;
	ctx->pub.emit_message = pi_jpeg_on_message;
	ctx->pub.output_message = pi_jpeg_on_output;
	ctx->job = job;
	ctx->code = code;
	return err;
}

/* Refuse pathological progressive files before they burn CPU. */
static void
pi_jpeg_on_progress(j_common_ptr cinfo)
{
	j_decompress_ptr dinfo = (j_decompress_ptr) cinfo;
	pi_jpeg_ctx   *ctx = (pi_jpeg_ctx *) cinfo->err;

	if (dinfo->input_scan_number > PI_JPEG_MAX_SCANS)
	{
		pi_fail(ctx->job, PI_ERR_CORRUPT, "libjpeg: more than %d scans", PI_JPEG_MAX_SCANS);
		longjmp(ctx->jump, 1);
	}
}

/*
 * Rendering: pick the smallest DCT scale (1/8, 1/4, 1/2) that still covers
 * the target, decode to RGB rows (CMYK and YCCK converted here; Adobe's
 * inverted CMYK when the Adobe marker says so) and stream them to the sink.
 * Called under the caller's setjmp; *buf is freed by the caller.
 */
static int
pi_jpeg_render(pi_job *job, j_decompress_ptr cinfo, uint8_t *volatile *buf)
{
	uint32_t	want_w,
				want_h;
	int			cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
	int			rc;

	pi_sink_want(job, &want_w, &want_h);
	cinfo->scale_num = 1;
	cinfo->scale_denom = 1;
	for (unsigned d = 8; d >= 2; d /= 2)
		if ((cinfo->image_width + d - 1) / d >= want_w && (cinfo->image_height + d - 1) / d >= want_h)
		{
			cinfo->scale_denom = d;
			break;
		}
	cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
	jpeg_start_decompress(cinfo);
	rc = pi_sink_begin(job, cinfo->output_width, cinfo->output_height, 3);
	if (rc != PI_OK)
		return rc;
	*buf = malloc((size_t) cinfo->output_width * (cmyk ? 7 : 3));
	if (*buf == NULL)
		return pi_fail(job, PI_ERR_NOMEM, "cannot allocate a row of %u pixels", cinfo->output_width);
	while (cinfo->output_scanline < cinfo->output_height)
	{
		JSAMPROW	rows[1];
		uint8_t    *rgb = *buf;

		rows[0] = cmyk ? *buf + (size_t) cinfo->output_width * 3 : *buf;
		if (jpeg_read_scanlines(cinfo, rows, 1) != 1)
			return pi_fail(job, PI_ERR_CORRUPT, "libjpeg: no progress reading scanlines");
		if (cmyk)
		{
			const uint8_t *p = rows[0];
			int			inv = cinfo->saw_Adobe_marker;

			for (uint32_t x = 0; x < cinfo->output_width; x++, p += 4, rgb += 3)
			{
				unsigned	k = inv ? p[3] : 255u - p[3];

				for (int c = 0; c < 3; c++)
					rgb[c] = (uint8_t) (((inv ? p[c] : 255u - p[c]) * k + 127) / 255);
			}
		}
		if ((rc = pi_sink_row(job, *buf)) != PI_OK)
			return rc;
	}
	return PI_OK;
}

/* The codec's decode (codec.h): validate, or stream the first image to the sink. */
static int
pi_jpeg_decode(pi_job *job)
{
	pi_header  *h = job->header;
	struct jpeg_decompress_struct cinfo;
	struct jpeg_progress_mgr progress;
	pi_jpeg_ctx	ctx;
	uint8_t    *volatile row = NULL;
	volatile int rc = PI_OK;

	memset(&cinfo, 0, sizeof(cinfo));
	cinfo.err = pi_jpeg_init_errors(&ctx, job, PI_ERR_CORRUPT);

	if (setjmp(ctx.jump))
	{
		rc = ctx.code;
		goto done;
	}

	jpeg_create_decompress(&cinfo);
	progress.progress_monitor = pi_jpeg_on_progress;
	cinfo.progress = &progress;
	jpeg_mem_src(&cinfo, job->data, (unsigned long) job->len);
	jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
	jpeg_read_header(&cinfo, TRUE);

	h->width = cinfo.image_width;
	h->height = cinfo.image_height;
	h->bit_depth = cinfo.data_precision;
	h->channels = cinfo.num_components;
	h->has_alpha = 0;
	h->interlaced = cinfo.progressive_mode ? 1 : 0;
	switch (cinfo.jpeg_color_space)
	{
		case JCS_GRAYSCALE:
			strcpy(h->color_type, "gray");
			break;
		case JCS_YCbCr:
			strcpy(h->color_type, "ycbcr");
			break;
		case JCS_RGB:
			strcpy(h->color_type, "rgb");
			break;
		case JCS_CMYK:
			strcpy(h->color_type, "cmyk");
			break;
		case JCS_YCCK:
			strcpy(h->color_type, "ycck");
			break;
		default:
			strcpy(h->color_type, "unknown");
			break;
	}
	for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != NULL; m = m->next)
	{
		if (m->marker == JPEG_APP0 + 1 && m->data_length > 6 &&
			memcmp(m->data, "Exif\0\0", 6) == 0)
		{
			h->orientation = pi_exif_orientation(m->data + 6, m->data_length - 6);
			break;
		}
	}

	rc = pi_add_frame(job, h->width, h->height);
	if (rc == PI_OK && job->sink != NULL)
		rc = pi_jpeg_render(job, &cinfo, &row);
	if (rc != PI_OK || job->mode != PI_MODE_FULL || job->sink != NULL)
		goto done;

	/*
	 * Every MCU of every scan is entropy-decoded (where corruption shows),
	 * but the inverse DCT, upsampling and color conversion run at 1/8 scale:
	 * validation needs the stream checked, not the pixels.
	 */
	cinfo.scale_num = 1;
	cinfo.scale_denom = 8;
	cinfo.dct_method = JDCT_IFAST;
	cinfo.do_fancy_upsampling = FALSE;
	jpeg_start_decompress(&cinfo);
	{
		size_t		rowbytes = (size_t) cinfo.output_width * (size_t) cinfo.output_components;

		row = malloc(rowbytes ? rowbytes : 1);
		if (row == NULL)
		{
			rc = pi_fail(job, PI_ERR_NOMEM, "cannot allocate a row of %zu bytes", rowbytes);
			goto done;
		}
		while (cinfo.output_scanline < cinfo.output_height)
		{
			JSAMPROW	rows[1];

			rows[0] = row;
			if (jpeg_read_scanlines(&cinfo, rows, 1) != 1)
			{
				rc = pi_fail(job, PI_ERR_CORRUPT, "libjpeg: no progress reading scanlines");
				goto done;
			}
			if ((rc = pi_row_done(job)) != PI_OK)
				goto done;
		}
	}
	jpeg_finish_decompress(&cinfo);

done:
	free(row);
	jpeg_destroy_decompress(&cinfo);
	return rc;
}

/* A destination manager writing into a pi_buf, 64 KiB at a time. */
#define PI_JPEG_CHUNK 65536

typedef struct pi_jpeg_dst
{
	struct jpeg_destination_mgr pub;	/* must be first */
	pi_buf	   *buf;
	pi_jpeg_ctx   *ctx;
	JOCTET		chunk[PI_JPEG_CHUNK];
} pi_jpeg_dst;

static void
pi_jpeg_dst_init(j_compress_ptr cinfo)
{
	pi_jpeg_dst   *d = (pi_jpeg_dst *) cinfo->dest;

	d->pub.next_output_byte = d->chunk;
	d->pub.free_in_buffer = PI_JPEG_CHUNK;
}

static void
pi_jpeg_dst_put(j_compress_ptr cinfo, size_t n)
{
	pi_jpeg_dst   *d = (pi_jpeg_dst *) cinfo->dest;
	int			rc = pi_buf_append(d->buf, d->chunk, n);

	if (rc != PI_OK)
	{
		d->ctx->code = rc;
		pi_fail(d->ctx->job, rc, "JPEG output over %zu bytes", d->buf->max);
		longjmp(d->ctx->jump, 1);
	}
	d->pub.next_output_byte = d->chunk;
	d->pub.free_in_buffer = PI_JPEG_CHUNK;
}

static boolean
pi_jpeg_dst_empty(j_compress_ptr cinfo)
{
	pi_jpeg_dst_put(cinfo, PI_JPEG_CHUNK);
	return TRUE;
}

static void
pi_jpeg_dst_term(j_compress_ptr cinfo)
{
	pi_jpeg_dst_put(cinfo, PI_JPEG_CHUNK - cinfo->dest->free_in_buffer);
}

/* Encode RGBA rows as a baseline JPEG at opts->jpeg_quality, flattening any alpha on white. */
static int
pi_jpeg_encode(pi_job *job, const pi_frame *frame, const pi_render_opts *opts, pi_buf *out)
{
	const uint8_t *rgba = frame->rgba;
	uint32_t	w = frame->width,
				h = frame->height;
	int			quality = opts->jpeg_quality;
	struct jpeg_compress_struct cinfo;
	pi_jpeg_ctx	ctx;
	pi_jpeg_dst   *volatile dst = NULL;
	uint8_t    *volatile row = NULL;
	volatile int rc = PI_OK;

	memset(&cinfo, 0, sizeof(cinfo));
	cinfo.err = pi_jpeg_init_errors(&ctx, job, PI_ERR_INTERNAL);
	if (setjmp(ctx.jump))
	{
		rc = ctx.code;
		goto done;
	}
	jpeg_create_compress(&cinfo);
	dst = malloc(sizeof(pi_jpeg_dst));
	row = malloc((size_t) w * 3);
	if (dst == NULL || row == NULL)
	{
		rc = pi_fail(job, PI_ERR_NOMEM, "cannot allocate a row of %u pixels", w);
		goto done;
	}
	dst->pub.init_destination = pi_jpeg_dst_init;
	dst->pub.empty_output_buffer = pi_jpeg_dst_empty;
	dst->pub.term_destination = pi_jpeg_dst_term;
	dst->buf = out;
	dst->ctx = &ctx;
	cinfo.dest = &dst->pub;
	cinfo.image_width = w;
	cinfo.image_height = h;
	cinfo.input_components = 3;
	cinfo.in_color_space = JCS_RGB;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, quality, TRUE);
	jpeg_start_compress(&cinfo, TRUE);
	for (uint32_t y = 0; y < h; y++)
	{
		const uint8_t *p = rgba + (size_t) y * w * 4;
		JSAMPROW	rows[1];

		for (uint32_t x = 0; x < w; x++, p += 4)
			for (int c = 0; c < 3; c++)
				row[x * 3 + c] = (uint8_t) ((p[c] * p[3] + 255u * (255u - p[3]) + 127) / 255);
		rows[0] = row;
		jpeg_write_scanlines(&cinfo, rows, 1);
	}
	jpeg_finish_compress(&cinfo);

done:
	cinfo.dest = NULL;			/* ours, not libjpeg's pool */
	jpeg_destroy_compress(&cinfo);
	free(row);
	free(dst);
	return rc;
}

/* The file's one export: its row in the codec table (codecs.c). */
const pi_codec pi_codec_jpeg = {
	.format = PI_FORMAT_JPEG,
	.name = "jpeg",
	.aliases = {"jpg", NULL},
	.label = "JPEG",
	.mime_type = "image/jpeg",
	.detect = pi_jpeg_detect,
	.decode = pi_jpeg_decode,
	.encode = pi_jpeg_encode,
};
