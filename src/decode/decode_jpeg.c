/*
 * decode_jpeg.c
 *		JPEG header and stream validation with libjpeg-turbo.
 *
 * libjpeg reports fatal errors through error_exit, which we turn into a
 * longjmp to the setjmp in pi_decode_jpeg.  In full mode a corrupt-data
 * warning is fatal too (as libjpeg-turbo's own "stop on warning" option).
 * The number of progressive scans is capped: a few kilobytes of scans can
 * otherwise cost minutes of CPU.  Full mode entropy-decodes everything but
 * reconstructs pixels at 1/8 scale (one small row buffer).
 */
#include "decode_internal.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

#define PI_JPEG_MAX_SCANS 500

typedef struct jpeg_ctx
{
	struct jpeg_error_mgr pub;	/* must be first */
	jmp_buf		jump;
	pi_job	   *job;
	int			code;
} jpeg_ctx;

/* Keep libjpeg's message and unwind. */
static void
jpeg_on_error(j_common_ptr cinfo)
{
	jpeg_ctx   *ctx = (jpeg_ctx *) cinfo->err;
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
jpeg_on_message(j_common_ptr cinfo, int level)
{
	jpeg_ctx   *ctx = (jpeg_ctx *) cinfo->err;

	if (level >= 0)
		return;
	cinfo->err->num_warnings++;
	if (ctx->job->mode == PI_MODE_FULL)
		jpeg_on_error(cinfo);
}

/* Never print. */
static void
jpeg_on_output(j_common_ptr cinfo)
{
	(void) cinfo;
}

/* Refuse pathological progressive files before they burn CPU. */
static void
jpeg_on_progress(j_common_ptr cinfo)
{
	j_decompress_ptr dinfo = (j_decompress_ptr) cinfo;
	jpeg_ctx   *ctx = (jpeg_ctx *) cinfo->err;

	if (dinfo->input_scan_number > PI_JPEG_MAX_SCANS)
	{
		pi_fail(ctx->job, PI_ERR_CORRUPT, "libjpeg: more than %d scans", PI_JPEG_MAX_SCANS);
		longjmp(ctx->jump, 1);
	}
}

int
pi_decode_jpeg(pi_job *job)
{
	pi_header  *h = job->header;
	struct jpeg_decompress_struct cinfo;
	struct jpeg_progress_mgr progress;
	jpeg_ctx	ctx;
	uint8_t    *volatile row = NULL;
	volatile int rc = PI_OK;

	memset(&cinfo, 0, sizeof(cinfo));
	cinfo.err = jpeg_std_error(&ctx.pub);
	ctx.pub.error_exit = jpeg_on_error;
	ctx.pub.emit_message = jpeg_on_message;
	ctx.pub.output_message = jpeg_on_output;
	ctx.job = job;
	ctx.code = PI_ERR_CORRUPT;

	if (setjmp(ctx.jump))
	{
		rc = ctx.code;
		goto done;
	}

	jpeg_create_decompress(&cinfo);
	progress.progress_monitor = jpeg_on_progress;
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
	if (rc != PI_OK || job->mode != PI_MODE_FULL)
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
		}
	}
	jpeg_finish_decompress(&cinfo);

done:
	free(row);
	jpeg_destroy_decompress(&cinfo);
	return rc;
}
