/*
 * codec_avif.c
 *		AVIF renditions with libavif and libaom: an encoder only.
 *
 * No AVIF is ever read: the codec has no detect and no decode, so no data
 * is taken for AVIF, validated or stored as it (pi_detect and
 * pi_format_from_name skip the row; pi_describe_unsupported still names
 * AVIF data).  Renditions are written as one still image, YUV 4:2:0, 8 bits,
 * full range, sRGB (CICP 1/13/6, avifenc's defaults), alpha in an auxiliary
 * image when any pixel is not opaque.
 *
 * Defaults (decode.h, measured by bench/formats.py on six photos, 256-pixel
 * thumbnails): speed 8, quality 60 (quantizer 25, alpha 12).  Against JPEG
 * q85 that is 0.56 times the bytes at a mean SSIM of 0.945 (JPEG 0.943),
 * about 11 ms an image.  Speed 6 and 7 gain little (0.57, 0.56 times) for
 * 2.5 and 1.3 times the time; 9 and 10 (the same in libaom: cpu-used 9)
 * take 4 ms but need quality 62 to match JPEG's SSIM, at 0.64 times.
 * Quality maps linearly onto AV1's quantizer (100: 0, lossless; 1: 62); the
 * alpha plane gets half the quantizer (a cut-out's edge stays within a few
 * levels, for a fifth of lossless alpha's bytes).
 *
 * What the libraries do inside our process, and how it is bounded:
 *
 * - Threads.  libavif asks the AV1 encoder for maxThreads threads; we set 1,
 *   so libaom keeps g_threads at its default (one, the caller's) and row-mt
 *   off, and creates no worker thread (test/decoder.sh: strace sees no
 *   clone).  The encoder is pinned to libaom: Debian's libavif also links
 *   rav1e and SVT-AV1, which run thread pools of their own; a libavif
 *   without libaom makes AVIF renditions fail rather than go to another.
 * - Global state.  libaom fills its CPU-dispatch tables once per process
 *   (aom_once, a pthread_once); nothing else outlives a call: each
 *   rendition creates and destroys its own avifEncoder and avifImage.
 * - Output.  Neither library prints (test/decoder.sh checks stderr over the
 *   fixtures, crashers and corpus): libavif leaves its message in
 *   encoder->diag, read here into job->msg.
 * - Memory.  libavif and libaom allocate with malloc (libavif 0.11 has no
 *   allocator hook): the YUV and alpha planes, libaom's encoder state (a
 *   second encoder for alpha) and the output; about 15 bytes a pixel in all
 *   (a 4096 x 4096 frame: 250 MB on top of the frame, 2 s).  Frames over
 *   max_side or PI_AVIF_MAX_PIXELS are refused before anything is
 *   allocated, and the output is checked against the buffer's bound.
 * - Time.  avifEncoderWrite cannot be interrupted (no progress hook in
 *   libavif 0.11): cancelled() is asked before it starts, and render.c never
 *   lets speed go below 6.
 * - Loading.  libavif brings all its codecs' libraries into the process
 *   (libaom, dav1d, libgav1, rav1e, SVT-AV1, libyuv, libstdc++): mapped,
 *   none of them started.
 */
#include "codec.h"

#include <avif/avif.h>
#include <string.h>

/* the largest frame encoded: the default max_side squared */
#define PI_AVIF_MAX_PIXELS	((uint64_t) PI_DEFAULT_MAX_SIDE * PI_DEFAULT_MAX_SIDE)

/* AV1's quantizer, 0 (best) .. 63, for a quality 1..100 */
static int
pi_avif_quantizer(int quality)
{
	return ((100 - quality) * AVIF_QUANTIZER_WORST_QUALITY + 50) / 100;
}

/* A libavif result as our code, with libavif's own words when it left some. */
static int
pi_avif_fail(pi_job *job, avifResult r, const char *what, const avifDiagnostics *diag)
{
	int			code = r == AVIF_RESULT_OUT_OF_MEMORY ? PI_ERR_NOMEM : PI_ERR_INTERNAL;

	if (diag != NULL && diag->error[0] != '\0')
		return pi_fail(job, code, "libavif: %s: %s: %s", what, avifResultToString(r), diag->error);
	return pi_fail(job, code, "libavif: %s: %s", what, avifResultToString(r));
}

/*
 * Encode RGBA rows as an AVIF at opts->avif_quality and opts->avif_speed
 * (render.c defaults both), alpha kept.
 */
static int
pi_avif_encode(pi_job *job, const pi_frame *frame, const pi_render_opts *opts, pi_buf *out)
{
	uint32_t	w = frame->width,
				h = frame->height;
	int			q = pi_avif_quantizer(opts->avif_quality),
				rc = PI_OK;
	avifImage  *image = NULL;
	avifEncoder *enc = NULL;
	avifRGBImage rgb;
	avifRWData	output = AVIF_DATA_EMPTY;
	avifResult	r;

	if (w > opts->max_side || h > opts->max_side || (uint64_t) w * h > PI_AVIF_MAX_PIXELS)
		return pi_fail(job, PI_ERR_LIMIT_PIXELS, "an AVIF rendition is at most %llu pixels, not %u x %u",
					   (unsigned long long) PI_AVIF_MAX_PIXELS, w, h);
	if (avifCodecName(AVIF_CODEC_CHOICE_AOM, AVIF_CODEC_FLAG_CAN_ENCODE) == NULL)
		return pi_fail(job, PI_ERR_INTERNAL, "libavif has no libaom encoder");
	if (job->cancelled != NULL && job->cancelled(job->cancel_arg))
		return pi_fail(job, PI_ERR_CANCELLED, "cancelled");

	image = avifImageCreate(w, h, 8, AVIF_PIXEL_FORMAT_YUV420);
	if (image == NULL)
		return pi_fail(job, PI_ERR_NOMEM, "libavif: cannot create a %u x %u image", w, h);
	image->yuvRange = AVIF_RANGE_FULL;
	image->colorPrimaries = AVIF_COLOR_PRIMARIES_BT709;
	image->transferCharacteristics = AVIF_TRANSFER_CHARACTERISTICS_SRGB;
	image->matrixCoefficients = AVIF_MATRIX_COEFFICIENTS_BT601;

	avifRGBImageSetDefaults(&rgb, image);
	rgb.format = AVIF_RGB_FORMAT_RGBA;
	rgb.depth = 8;
	rgb.pixels = (uint8_t *) frame->rgba;	/* read only */
	rgb.rowBytes = w * 4;
	rgb.ignoreAlpha = frame->has_alpha ? AVIF_FALSE : AVIF_TRUE;
	r = avifImageRGBToYUV(image, &rgb);
	if (r != AVIF_RESULT_OK)
	{
		rc = pi_avif_fail(job, r, "RGB to YUV", NULL);
		goto done;
	}

	enc = avifEncoderCreate();
	if (enc == NULL)
	{
		rc = pi_fail(job, PI_ERR_NOMEM, "libavif: cannot create an encoder");
		goto done;
	}
	enc->codecChoice = AVIF_CODEC_CHOICE_AOM;
	enc->maxThreads = 1;
	enc->speed = opts->avif_speed;
	enc->minQuantizer = enc->maxQuantizer = q;
	enc->minQuantizerAlpha = enc->maxQuantizerAlpha = q / 2;
	enc->tileRowsLog2 = enc->tileColsLog2 = 0;
	r = avifEncoderWrite(enc, image, &output);
	if (r != AVIF_RESULT_OK)
	{
		rc = pi_avif_fail(job, r, "encoding", &enc->diag);
		goto done;
	}
	rc = pi_buf_append(out, output.data, output.size);
	if (rc != PI_OK)
		pi_fail(job, rc, rc == PI_ERR_LIMIT_BYTES ? "AVIF output of %zu bytes is over %zu bytes"
				: "cannot allocate %zu bytes of AVIF output (bound %zu)", output.size, out->max);

done:
	avifRWDataFree(&output);
	if (enc != NULL)
		avifEncoderDestroy(enc);
	avifImageDestroy(image);
	return rc;
}

/* The file's one export: its row in the codec table (codecs.c). */
const pi_codec pi_codec_avif = {
	.format = PI_FORMAT_AVIF,
	.name = "avif",
	.label = "AVIF",
	.mime_type = "image/avif",
	.detect = NULL,				/* never read: see the top of this file */
	.decode = NULL,
	.encode = pi_avif_encode,
};
