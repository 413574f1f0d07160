/*
 * codec_webp.c
 *		WebP with libwebp: header and stream validation, the first frame's
 *		rows for rendering, encoder.
 *
 * libwebp returns status codes (no longjmp, no output of its own).  The
 * container is read with libwebp's demuxer (WebPDemux), which checks the
 * chunk structure: frames inside the canvas, ALPH before the image data,
 * one image per frame; a still image's one frame, an animation's every ANMF
 * frame.  The demuxer keeps a record per chunk and per frame, so one walk
 * over the chunk headers first refuses more than PI_WEBP_MAX_CHUNKS chunks
 * or PI_WEBP_MAX_FRAMES frames.  Header mode reads the container and each
 * frame's bitstream header; full mode also decodes every frame (at 1/8
 * scale, by libwebp's own scaler: the bitstream is entropy-decoded whole,
 * the output buffer is small).
 *
 * max_pixels bounds the frames' areas summed and, on its own, an
 * animation's canvas (a rendition draws the first frame on it, as GIF).
 * Rendering decodes the first frame whole into one buffer (libwebp has no
 * row callback), RGB or RGBA, within max_pixels: an opaque still image at
 * 1/2, 1/4 or 1/8 scale when the box allows, as JPEG's DCT scaling (an image
 * with alpha is decoded whole, so the sink's premultiplied average sees its
 * edges).  An animation's first frame is drawn on a transparent canvas,
 * as libwebp's own WebPAnimDecoder does.  Decoding goes through the
 * incremental decoder, PI_WEBP_STEP bytes at a time, so cancelled() is asked
 * as rows come out.  The EXIF orientation is read, as JPEG's and PNG's, from
 * an extended WebP's EXIF chunk (VP8X with the EXIF flag), which holds the
 * TIFF-structured block itself or, from some writers, after "Exif\0\0";
 * the renderer applies it (render.c).  Nothing here starts a thread.
 * Inside libwebp, a lossless (VP8L) frame costs 4 bytes a pixel whatever
 * the scale (its ARGB image is kept whole); a lossy one a few rows.
 *
 * The encoder writes a lossy WebP (lossless at quality 100), alpha kept, with
 * the advanced API: a writer appending to the output buffer within its
 * bound, and a progress hook that asks cancelled().
 */
#include "codec.h"
#include "exif.h"
#include "sink.h"

#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>

/* animated WebPs have at most this many frames (as TIFF pages) */
#define PI_WEBP_MAX_FRAMES	10000
/* chunks in all, frames' own included: ANMF, ALPH and VP8 are three a frame */
#define PI_WEBP_MAX_CHUNKS	(4 * PI_WEBP_MAX_FRAMES)
/* compressed bytes given to the incremental decoder between cancel checks */
#define PI_WEBP_STEP		((size_t) 65536)
/* lossy encoder effort 0..6 (libwebp's default is 4): 2 makes a 256 px thumbnail in
 * 2.6 ms instead of 4.1 ms for 3% more bytes (bench/formats.py), so an
 * uncached WebP rendition costs about what a JPEG one does */
#define PI_WEBP_METHOD		2
/* lossless preset 0..9 (libwebp's default is 6) */
#define PI_WEBP_LOSSLESS_LEVEL	4

/* RIFF, a length, WEBP. */
static int
pi_webp_detect(const uint8_t *d, size_t len)
{
	return len >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0;
}

static uint32_t
pi_webp_le32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/*
 * One walk over the chunk headers, before the demuxer runs, in the order
 * the demuxer reads them: every chunk is skipped by its length but ANMF,
 * whose 16-byte frame header is stepped over and whose chunks follow.  Each
 * chunk costs the demuxer a record, each frame another: refuse more than
 * PI_WEBP_MAX_CHUNKS chunks or PI_WEBP_MAX_FRAMES frames.  Lengths past the
 * end are left to the demuxer (it says truncated or corrupt).
 */
static int
pi_webp_scan_chunks(pi_job *job)
{
	const uint8_t *d = job->data;
	uint64_t	end = job->len,
				pos = 12;
	uint32_t	chunks = 0,
				frames = 0;

	if ((uint64_t) pi_webp_le32(d + 4) + 8 < end)
		end = (uint64_t) pi_webp_le32(d + 4) + 8;
	while (pos + 8 <= end)
	{
		uint32_t	clen = pi_webp_le32(d + pos + 4);

		if (++chunks > PI_WEBP_MAX_CHUNKS)
			return pi_fail(job, PI_ERR_CORRUPT, "WebP has more than %d chunks", PI_WEBP_MAX_CHUNKS);
		if (memcmp(d + pos, "ANMF", 4) == 0)
		{
			if (++frames > PI_WEBP_MAX_FRAMES)
				return pi_fail(job, PI_ERR_LIMIT_PIXELS, "WebP has more than %d frames",
							   PI_WEBP_MAX_FRAMES);
			pos += 8 + 16;
		}
		else
			pos += 8 + (uint64_t) clen + (clen & 1);
	}
	return PI_OK;
}

/*
 * The EXIF orientation (1..8) of an extended WebP, or 0: its first EXIF
 * chunk, which the demuxer keeps only when VP8X has the EXIF flag and only
 * when the chunk lies inside the data.  The chunk is the TIFF-structured
 * block, or that block after an "Exif\0\0" header (as in a JPEG's APP1);
 * pi_exif_orientation trusts none of its offsets.
 */
static int
pi_webp_orientation(WebPDemuxer *dmux, uint32_t flags)
{
	WebPChunkIterator chunk;
	const uint8_t *exif;
	size_t		len;
	int			orientation = 0;

	if ((flags & EXIF_FLAG) == 0 || !WebPDemuxGetChunk(dmux, "EXIF", 1, &chunk))
		return 0;
	exif = chunk.chunk.bytes;
	len = chunk.chunk.size;
	if (exif != NULL)
	{
		if (len >= 6 && memcmp(exif, "Exif\0\0", 6) == 0)
		{
			exif += 6;
			len -= 6;
		}
		orientation = pi_exif_orientation(exif, len);
	}
	WebPDemuxReleaseChunkIterator(&chunk);
	return orientation;
}

/* A libwebp decoding status as our code, with a message. */
static int
pi_webp_status(pi_job *job, VP8StatusCode st)
{
	switch (st)
	{
		case VP8_STATUS_OK:
			return PI_OK;
		case VP8_STATUS_OUT_OF_MEMORY:
			return pi_fail(job, PI_ERR_NOMEM, "libwebp: out of memory");
		case VP8_STATUS_INVALID_PARAM:
			return pi_fail(job, PI_ERR_INTERNAL, "libwebp: invalid parameter");
		case VP8_STATUS_BITSTREAM_ERROR:
			return pi_fail(job, PI_ERR_CORRUPT, "libwebp: bitstream error");
		case VP8_STATUS_UNSUPPORTED_FEATURE:
			return pi_fail(job, PI_ERR_CORRUPT, "libwebp: unsupported feature");
		case VP8_STATUS_SUSPENDED:
		case VP8_STATUS_NOT_ENOUGH_DATA:
			return pi_fail(job, PI_ERR_CORRUPT, "libwebp: image data ends early");
		case VP8_STATUS_USER_ABORT:
			return pi_fail(job, PI_ERR_CANCELLED, "cancelled");
	}
	return pi_fail(job, PI_ERR_INTERNAL, "libwebp: status %d", (int) st);
}

/*
 * Decode one frame's bitstream (its ALPH and VP8 or VP8L chunks) into out:
 * out_w x out_h pixels of channels 3 (RGB) or 4 (RGBA), scaled by libwebp
 * when smaller than the frame.  The incremental decoder is given
 * PI_WEBP_STEP more bytes at a time, and each row it completes counts
 * (pi_row_done asks cancelled()).
 */
static int
pi_webp_decode_frame(pi_job *job, const WebPData *frag, uint32_t frame_w, uint32_t frame_h,
					 uint32_t out_w, uint32_t out_h, int channels, uint8_t *out)
{
	WebPDecoderConfig config;
	WebPIDecoder *idec;
	size_t		fed = 0;
	int			rows = 0,
				rc = PI_OK;

	if (!WebPInitDecoderConfig(&config))
		return pi_fail(job, PI_ERR_INTERNAL, "libwebp: decoder version mismatch");
	config.options.use_threads = 0;
	if (out_w != frame_w || out_h != frame_h)
	{
		config.options.use_scaling = 1;
		config.options.scaled_width = (int) out_w;
		config.options.scaled_height = (int) out_h;
	}
	config.output.colorspace = channels == 4 ? MODE_RGBA : MODE_RGB;
	config.output.is_external_memory = 1;
	config.output.u.RGBA.rgba = out;
	config.output.u.RGBA.stride = (int) out_w * channels;
	config.output.u.RGBA.size = (size_t) out_w * out_h * channels;
	idec = WebPIDecode(NULL, 0, &config);
	if (idec == NULL)
		return pi_fail(job, PI_ERR_NOMEM, "libwebp: cannot create a decoder");
	for (;;)
	{
		VP8StatusCode st;
		int			last_y = 0;

		fed = frag->size - fed > PI_WEBP_STEP ? fed + PI_WEBP_STEP : frag->size;
		st = WebPIUpdate(idec, frag->bytes, fed);
		if (WebPIDecGetRGB(idec, &last_y, NULL, NULL, NULL) != NULL)
			for (; rows < last_y; rows++)
				if ((rc = pi_row_done(job)) != PI_OK)
					goto done;
		if (st == VP8_STATUS_OK)
			break;
		if (st != VP8_STATUS_SUSPENDED || fed == frag->size)
		{
			rc = pi_webp_status(job, st);
			goto done;
		}
	}

done:
	WebPIDelete(idec);
	return rc;
}

/*
 * Rendering: the first frame, as RGB or RGBA rows to the sink.  An opaque
 * still image is decoded at the smallest of 1/8, 1/4 and 1/2 scale that
 * still covers the target; an animation's first frame is drawn on its
 * transparent canvas, row by row.
 */
static int
pi_webp_render(pi_job *job, WebPDemuxer *dmux, int animated)
{
	pi_header  *h = job->header;
	WebPIterator iter;
	uint32_t	want_w,
				want_h,
				w,
				ht,
				dw,
				dh;
	uint8_t    *buf = NULL,
			   *row = NULL;
	int			channels,
				rc;

	pi_sink_want(job, &want_w, &want_h);
	if (!WebPDemuxGetFrame(dmux, 1, &iter))
		return pi_fail(job, PI_ERR_CORRUPT, "WebP has no frame");
	w = dw = (uint32_t) iter.width;
	ht = dh = (uint32_t) iter.height;
	channels = (iter.has_alpha || animated) ? 4 : 3;
	if (!animated && !iter.has_alpha)
		for (uint32_t d = 8; d >= 2; d /= 2)
			if ((w + d - 1) / d >= want_w && (ht + d - 1) / d >= want_h)
			{
				dw = (w + d - 1) / d;
				dh = (ht + d - 1) / d;
				break;
			}
	buf = malloc((size_t) dw * dh * channels);
	if (buf == NULL)
	{
		rc = pi_fail(job, PI_ERR_NOMEM, "cannot allocate a %u x %u frame", dw, dh);
		goto done;
	}
	rc = pi_webp_decode_frame(job, &iter.fragment, w, ht, dw, dh, channels, buf);
	if (rc != PI_OK)
		goto done;
	if (!animated)
	{
		rc = pi_sink_begin(job, dw, dh, channels);
		for (uint32_t y = 0; rc == PI_OK && y < dh; y++)
			rc = pi_sink_row(job, buf + (size_t) y * dw * channels);
		goto done;
	}

	/* the demuxer keeps every frame inside the canvas */
	rc = pi_sink_begin(job, h->width, h->height, 4);
	if (rc != PI_OK)
		goto done;
	row = calloc(h->width, 4);
	if (row == NULL)
	{
		rc = pi_fail(job, PI_ERR_NOMEM, "cannot allocate a row of %u pixels", h->width);
		goto done;
	}
	for (uint32_t y = 0; rc == PI_OK && y < h->height; y++)
	{
		uint8_t    *at = row + (size_t) iter.x_offset * 4;
		int			inside = y >= (uint32_t) iter.y_offset && y - (uint32_t) iter.y_offset < ht;

		if (inside)
			memcpy(at, buf + (size_t) (y - (uint32_t) iter.y_offset) * w * 4, (size_t) w * 4);
		rc = pi_sink_row(job, row);
		if (inside)
			memset(at, 0, (size_t) w * 4);	/* the rest of the row stays transparent */
	}

done:
	WebPDemuxReleaseIterator(&iter);
	free(row);
	free(buf);
	return rc;
}

/* Full mode: decode every frame at 1/8 scale (the bitstream whole, a small output). */
static int
pi_webp_decode_all(pi_job *job, WebPDemuxer *dmux)
{
	WebPIterator iter;
	int			rc = PI_OK;

	if (!WebPDemuxGetFrame(dmux, 1, &iter))
		return pi_fail(job, PI_ERR_CORRUPT, "WebP has no frame");
	do
	{
		uint32_t	w = (uint32_t) iter.width,
					ht = (uint32_t) iter.height,
					dw = (w + 7) / 8,
					dh = (ht + 7) / 8;
		uint8_t    *buf = malloc((size_t) dw * dh * 4);

		if (buf == NULL)
			rc = pi_fail(job, PI_ERR_NOMEM, "cannot allocate a %u x %u frame", dw, dh);
		else
			rc = pi_webp_decode_frame(job, &iter.fragment, w, ht, dw, dh,
									  iter.has_alpha ? 4 : 3, buf);
		free(buf);
	} while (rc == PI_OK && WebPDemuxNextFrame(&iter));
	WebPDemuxReleaseIterator(&iter);
	return rc;
}

/* The codec's decode (codec.h): validate, or stream the first frame to the sink. */
static int
pi_webp_decode(pi_job *job)
{
	pi_header  *h = job->header;
	WebPData	data = {job->data, job->len};
	WebPDemuxState state;
	WebPDemuxer *dmux;
	WebPIterator iter;
	WebPBitstreamFeatures features;
	uint32_t	flags;
	int			animated,
				rc;

	rc = pi_webp_scan_chunks(job);
	if (rc != PI_OK)
		return rc;
	dmux = WebPDemuxPartial(&data, &state);
	if (dmux == NULL)
		return pi_fail(job, PI_ERR_CORRUPT, state == WEBP_DEMUX_PARSING_HEADER ?
					   "WebP header is truncated" : "invalid WebP container");
	if (state != WEBP_DEMUX_DONE)
	{
		WebPDemuxDelete(dmux);
		return pi_fail(job, PI_ERR_CORRUPT, "WebP data ends early");
	}

	flags = WebPDemuxGetI(dmux, WEBP_FF_FORMAT_FLAGS);
	animated = (flags & ANIMATION_FLAG) != 0;
	h->width = WebPDemuxGetI(dmux, WEBP_FF_CANVAS_WIDTH);
	h->height = WebPDemuxGetI(dmux, WEBP_FF_CANVAS_HEIGHT);
	h->frames = WebPDemuxGetI(dmux, WEBP_FF_FRAME_COUNT);
	h->bit_depth = 8;
	h->interlaced = 0;
	h->orientation = pi_webp_orientation(dmux, flags);

	/* an animation's canvas alone, as a GIF's: a rendition draws the first frame on it */
	if (animated && (uint64_t) h->width * h->height > job->max_pixels)
	{
		rc = pi_fail(job, PI_ERR_LIMIT_PIXELS, "WebP canvas is %u x %u = %llu pixels, the limit is %llu",
					 h->width, h->height, (unsigned long long) h->width * h->height,
					 (unsigned long long) job->max_pixels);
		goto done;
	}
	if (!WebPDemuxGetFrame(dmux, 1, &iter))
	{
		rc = pi_fail(job, PI_ERR_CORRUPT, "WebP has no frame");
		goto done;
	}
	/* the first frame's bitstream names the kind: lossy (VP8) or lossless (VP8L) */
	if (WebPGetFeatures(iter.fragment.bytes, iter.fragment.size, &features) != VP8_STATUS_OK)
		features.format = 0;
	do
	{
		h->has_alpha |= iter.has_alpha != 0;
		rc = pi_add_frame(job, (uint32_t) iter.width, (uint32_t) iter.height);
	} while (rc == PI_OK && WebPDemuxNextFrame(&iter));
	WebPDemuxReleaseIterator(&iter);
	if (rc != PI_OK)
		goto done;
	h->channels = h->has_alpha ? 4 : 3;
	strcpy(h->color_type, features.format == 2 ? "rgb" : "ycbcr");
	if (h->has_alpha)
		strcat(h->color_type, "+alpha");

	if (job->sink != NULL)
		rc = pi_webp_render(job, dmux, animated);
	else if (job->mode == PI_MODE_FULL)
		rc = pi_webp_decode_all(job, dmux);

done:
	WebPDemuxDelete(dmux);
	return rc;
}

typedef struct pi_webp_dst
{
	pi_job	   *job;
	pi_buf	   *buf;
	int			code;			/* why the writer or the hook stopped libwebp */
} pi_webp_dst;

/* libwebp's writer: append to the output buffer, stop at its bound. */
static int
pi_webp_write(const uint8_t *data, size_t size, const WebPPicture *pic)
{
	pi_webp_dst *dst = (pi_webp_dst *) pic->custom_ptr;
	int			rc = pi_buf_append(dst->buf, data, size);

	if (rc != PI_OK)
	{
		dst->code = rc;
		return 0;
	}
	return 1;
}

/* libwebp's progress hook: stop when the caller's cancelled() says so. */
static int
pi_webp_progress(int percent, const WebPPicture *pic)
{
	pi_webp_dst *dst = (pi_webp_dst *) pic->custom_ptr;

	(void) percent;
	if (dst->job->cancelled != NULL && dst->job->cancelled(dst->job->cancel_arg))
	{
		dst->code = PI_ERR_CANCELLED;
		return 0;
	}
	return 1;
}

/*
 * Encode RGBA rows as a WebP at opts->webp_quality: lossy (VP8, alpha in an
 * ALPH chunk, losslessly) below 100, lossless (VP8L) at 100.
 */
static int
pi_webp_encode(pi_job *job, const pi_frame *frame, const pi_render_opts *opts, pi_buf *out)
{
	WebPConfig	config;
	WebPPicture pic;
	pi_webp_dst dst = {job, out, PI_OK};
	uint32_t	w = frame->width,
				h = frame->height;
	int			lossless = opts->webp_quality >= 100,
				ok,
				rc = PI_OK;

	if (w > WEBP_MAX_DIMENSION || h > WEBP_MAX_DIMENSION)
		return pi_fail(job, PI_ERR_LIMIT_PIXELS, "a WebP is at most %d pixels a side, not %u x %u",
					   WEBP_MAX_DIMENSION, w, h);
	if (!WebPConfigInit(&config) || !WebPPictureInit(&pic))
		return pi_fail(job, PI_ERR_INTERNAL, "libwebp: encoder version mismatch");
	if (lossless)
		ok = WebPConfigLosslessPreset(&config, PI_WEBP_LOSSLESS_LEVEL);
	else
	{
		config.quality = (float) opts->webp_quality;
		config.method = PI_WEBP_METHOD;
		ok = 1;
	}
	config.thread_level = 0;	/* no threads in a backend */
	if (!ok || !WebPValidateConfig(&config))
		return pi_fail(job, PI_ERR_INTERNAL, "libwebp: invalid configuration");

	pic.use_argb = lossless;
	pic.width = (int) w;
	pic.height = (int) h;
	ok = frame->has_alpha ? WebPPictureImportRGBA(&pic, frame->rgba, (int) w * 4)
		: WebPPictureImportRGBX(&pic, frame->rgba, (int) w * 4);
	if (!ok)
	{
		WebPPictureFree(&pic);
		return pi_fail(job, PI_ERR_NOMEM, "libwebp: cannot import a %u x %u picture", w, h);
	}
	pic.writer = pi_webp_write;
	pic.custom_ptr = &dst;
	pic.progress_hook = pi_webp_progress;

	if (!WebPEncode(&config, &pic))
	{
		switch (pic.error_code)
		{
			case VP8_ENC_ERROR_OUT_OF_MEMORY:
			case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY:
				rc = pi_fail(job, PI_ERR_NOMEM, "libwebp: out of memory encoding %u x %u", w, h);
				break;
			case VP8_ENC_ERROR_BAD_WRITE:
			case VP8_ENC_ERROR_USER_ABORT:
				rc = dst.code != PI_OK ? dst.code : PI_ERR_INTERNAL;
				if (rc == PI_ERR_LIMIT_BYTES)
					pi_fail(job, rc, "WebP output over %zu bytes", out->max);
				else
					pi_fail(job, rc, rc == PI_ERR_CANCELLED ? "cancelled" : "libwebp: write failed");
				break;
			default:
				rc = pi_fail(job, PI_ERR_INTERNAL, "libwebp: encoding failed (error %d)",
							 (int) pic.error_code);
				break;
		}
	}
	WebPPictureFree(&pic);
	return rc;
}

/* The file's one export: its row in the codec table (codecs.c). */
const pi_codec pi_codec_webp = {
	.format = PI_FORMAT_WEBP,
	.name = "webp",
	.label = "WebP",
	.mime_type = "image/webp",
	.detect = pi_webp_detect,
	.decode = pi_webp_decode,
	.encode = pi_webp_encode,
};
