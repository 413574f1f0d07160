/*
 * render.c
 *		Renditions: the top floor.  Decode the first frame into the streaming
 *		resampler (sink.c), turn the small frame upright (EXIF/TIFF
 *		orientation), encode it with the codec pi_render_format picks from
 *		the codec table.
 */
#include "codecs.h"
#include "decode_sink.h"
#include "sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The requested type when it has an encoder, else the source's, else the table's default. */
pi_format
pi_render_format(pi_format source, pi_format requested)
{
	if (pi_format_encodes(requested))
		return requested;
	if (pi_format_encodes(source))
		return source;
	return pi_codec_render_default->format;
}

/* The rendition's size, upright, before decoding (decode.h). */
void
pi_render_size(uint32_t width, uint32_t height, int orientation, const pi_render_opts *opts,
			   uint32_t *out_w, uint32_t *out_h)
{
	uint32_t	max_side = opts->max_side ? opts->max_side : PI_DEFAULT_MAX_SIDE;
	int			swap = pi_swaps_axes(orientation);

	pi_fit_box(swap ? height : width, swap ? width : height, opts->max_w, opts->max_h, max_side,
			out_w, out_h);
}

/* Turn the stored-orientation frame upright; returns a new buffer or NULL. */
static uint8_t *
orient(const uint8_t *src, uint32_t w, uint32_t h, int orientation)
{
	int			swap = pi_swaps_axes(orientation);
	uint32_t	dw = swap ? h : w,
				dh = swap ? w : h;
	uint32_t   *d;
	const uint32_t *s = (const uint32_t *) src;

	d = malloc((size_t) dw * dh * 4);
	if (d == NULL)
		return NULL;
	for (uint32_t Y = 0; Y < dh; Y++)
		for (uint32_t X = 0; X < dw; X++)
		{
			uint32_t	x,
						y;

			switch (orientation)
			{
				case 2:
					x = w - 1 - X, y = Y;
					break;
				case 3:
					x = w - 1 - X, y = h - 1 - Y;
					break;
				case 4:
					x = X, y = h - 1 - Y;
					break;
				case 5:
					x = Y, y = X;
					break;
				case 6:
					x = Y, y = h - 1 - X;
					break;
				case 7:
					x = w - 1 - Y, y = h - 1 - X;
					break;
				case 8:
					x = w - 1 - Y, y = X;
					break;
				default:
					x = X, y = Y;
					break;
			}
			d[(size_t) Y * dw + X] = s[(size_t) y * w + x];
		}
	return (uint8_t *) d;
}

void
pi_rendition_free(pi_rendition *out)
{
	free(out->data);
	out->data = NULL;
	out->len = 0;
}

/* Decode, scale, orient and encode the first frame or page (decode.h). */
int
pi_render(const uint8_t *data, size_t len, const pi_limits *limits,
		  const pi_render_opts *opts, pi_rendition *out, char *msg)
{
	char		localmsg[PI_MESSAGE_LEN];
	pi_render_opts o = *opts;
	pi_header	h;
	pi_sink		s;
	pi_job		job;
	pi_buf		buf = {NULL, 0, 0, 0};
	uint8_t    *frame = NULL;
	uint32_t	fw,
				fh;
	int			has_alpha = 0,
				rc;

	memset(out, 0, sizeof(*out));
	if (msg == NULL)
		msg = localmsg;
	if (o.max_side == 0)
		o.max_side = PI_DEFAULT_MAX_SIDE;
	if (o.jpeg_quality <= 0 || o.jpeg_quality > 100)
		o.jpeg_quality = PI_DEFAULT_JPEG_QUALITY;
	if (o.webp_quality <= 0 || o.webp_quality > 100)
		o.webp_quality = PI_DEFAULT_WEBP_QUALITY;
	if (o.avif_quality <= 0 || o.avif_quality > 100)
		o.avif_quality = PI_DEFAULT_AVIF_QUALITY;
	/* slower speeds cost seconds a thumbnail: never below 6 */
	if (o.avif_speed < 6 || o.avif_speed > 10)
		o.avif_speed = PI_DEFAULT_AVIF_SPEED;
	if (o.png_level < 0 || o.png_level > 9)
		o.png_level = 1;
	pi_sink_init(&s, &o);

	rc = pi_decode_sink(data, len, PI_MODE_HEADER, limits, &h, msg, &s);
	if (rc == PI_OK && !s.begun)
	{
		rc = PI_ERR_CORRUPT;
		snprintf(msg, PI_MESSAGE_LEN, "the image has no pixels to render");
	}
	if (rc != PI_OK)
		goto done;
	/* a stream that ended early leaves its last rows transparent */
	pi_sink_finish(&s);

	frame = orient(s.out, s.out_w, s.out_h, h.orientation);
	if (frame == NULL)
	{
		rc = PI_ERR_NOMEM;
		snprintf(msg, PI_MESSAGE_LEN, "render: cannot allocate the output frame");
		goto done;
	}
	fw = pi_swaps_axes(h.orientation) ? s.out_h : s.out_w;
	fh = pi_swaps_axes(h.orientation) ? s.out_w : s.out_h;
	for (size_t i = 3; i < (size_t) fw * fh * 4; i += 4)
		if (frame[i] != 255)
		{
			has_alpha = 1;
			break;
		}

	/* the encoders' output: generous for incompressible pixels, still bounded */
	buf.max = (size_t) fw * fh * 4 + (size_t) fh * 16 + 65536;
	memset(&job, 0, sizeof(job));
	job.data = data;
	job.len = len;
	job.header = &h;
	job.msg = msg;
	job.cancelled = limits ? limits->cancelled : NULL;	/* for encoders that can stop (WebP) */
	job.cancel_arg = limits ? limits->cancel_arg : NULL;
	msg[0] = '\0';
	out->format = pi_render_format(h.format, o.type);
	{
		pi_frame	f = {frame, fw, fh, has_alpha};
		const pi_codec *codec = pi_codec_of(out->format);

		/* pi_render_format picks a format that encodes, unless the table's default cannot */
		rc = (codec && codec->encode) ? codec->encode(&job, &f, &o, &buf)
			: pi_fail(&job, PI_ERR_INTERNAL, "render: no encoder for %s", pi_format_name(out->format));
	}
	if (rc != PI_OK)
	{
		if (msg[0] == '\0')
			snprintf(msg, PI_MESSAGE_LEN, "render: cannot encode %s: %s",
					 pi_format_name(out->format), pi_strerror(rc));
		free(buf.data);
		goto done;
	}
	out->data = buf.data;
	out->len = buf.len;
	out->width = fw;
	out->height = fh;

done:
	free(frame);
	pi_sink_free(&s);
	return rc;
}
