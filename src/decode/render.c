/*
 * render.c
 *		Renditions: fit, area-averaging resampler, orientation, encode.
 *
 * The per-format decoders deliver the first frame's rows through the sink
 * (pi_sink_begin, pi_sink_row); the sink scales them as they arrive with an
 * exact area average (each output pixel is the mean of the source area it
 * covers, fractional edges weighted by coverage), computed on premultiplied
 * alpha so transparent pixels lend no colour.  It keeps one horizontally
 * scaled row and one accumulator row, whatever the source's height.  Then
 * the small output frame is turned upright (EXIF/TIFF orientation) and
 * encoded by libjpeg-turbo, libpng or giflib.
 *
 * Why written here rather than taken from pixman, libswscale or libvips:
 * pixman's separable convolution and libswscale need the whole source frame
 * in memory (libswscale's slices still buffer filter-height rows per plane,
 * and it allocates through av_malloc, out of our control), and libvips runs
 * its own thread pool and global caches, which a PostgreSQL backend must not
 * host.  An area average is a few dozen lines, streams, allocates two rows,
 * and is what Pillow's reduce() and libvips' shrink do for large factors.
 */
#include "decode_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pi_sink
{
	const pi_render_opts *opts;
	uint32_t	out_w;			/* output size, stored orientation */
	uint32_t	out_h;
	uint32_t	in_h;			/* source rows; the width only sizes the weights */
	int			channels;
	uint32_t   *xstart;			/* per output column: first source column */
	uint32_t   *xcount;			/* ... how many source columns */
	uint32_t   *xoff;			/* ... where its weights start in xw */
	float	   *xw;
	float	   *hrow;			/* one source row scaled horizontally, 4 per pixel */
	float	   *acc;			/* the output row being accumulated */
	double		acc_weight;
	double		yscale;
	uint32_t	in_y;
	uint32_t	out_y;
	uint8_t    *out;			/* out_w x out_h RGBA */
	int			begun;
};

pi_format
pi_render_format(pi_format source, pi_format requested)
{
	if (requested == PI_FORMAT_PNG || requested == PI_FORMAT_JPEG || requested == PI_FORMAT_GIF)
		return requested;
	if (source == PI_FORMAT_JPEG || source == PI_FORMAT_GIF)
		return source;
	return PI_FORMAT_PNG;
}

/*
 * Fit w x h inside the box (0: not given) and max_side, keeping the aspect
 * ratio and never scaling up.
 */
static void
fit_box(uint32_t w, uint32_t h, uint32_t box_w, uint32_t box_h, uint32_t max_side,
		uint32_t *out_w, uint32_t *out_h)
{
	double		s = 1.0;
	double		ow,
				oh;

	if (box_w && (double) box_w / w < s)
		s = (double) box_w / w;
	if (box_h && (double) box_h / h < s)
		s = (double) box_h / h;
	if ((double) max_side / w < s)
		s = (double) max_side / w;
	if ((double) max_side / h < s)
		s = (double) max_side / h;
	ow = floor(w * s + 0.5);
	oh = floor(h * s + 0.5);
	*out_w = ow < 1 ? 1 : (uint32_t) ow;
	*out_h = oh < 1 ? 1 : (uint32_t) oh;
	if (*out_w > w)
		*out_w = w;
	if (*out_h > h)
		*out_h = h;
}

/* Orientations 5 to 8 swap the axes. */
static int
swaps_axes(int orientation)
{
	return orientation >= 5 && orientation <= 8;
}

void
pi_render_size(uint32_t width, uint32_t height, int orientation, const pi_render_opts *opts,
			   uint32_t *out_w, uint32_t *out_h)
{
	uint32_t	max_side = opts->max_side ? opts->max_side : PI_DEFAULT_MAX_SIDE;
	int			swap = swaps_axes(orientation);

	fit_box(swap ? height : width, swap ? width : height, opts->max_w, opts->max_h, max_side,
			out_w, out_h);
}

void
pi_sink_want(pi_job *job, uint32_t *want_w, uint32_t *want_h)
{
	pi_sink    *s = job->sink;
	const pi_header *h = job->header;
	uint32_t	dw,
				dh;
	int			swap = swaps_axes(h->orientation);

	/* the box is in display orientation */
	fit_box(swap ? h->height : h->width, swap ? h->width : h->height,
			s->opts->max_w, s->opts->max_h, s->opts->max_side, &dw, &dh);
	s->out_w = swap ? dh : dw;
	s->out_h = swap ? dw : dh;
	*want_w = s->out_w;
	*want_h = s->out_h;
}

int
pi_sink_begin(pi_job *job, uint32_t width, uint32_t height, int channels)
{
	pi_sink    *s = job->sink;
	double		xscale;
	uint32_t	nweights = 0;

	if (s->begun)
		return pi_fail(job, PI_ERR_INTERNAL, "render: frame begun twice");
	s->begun = 1;
	if (width == 0 || height == 0 || (channels != 3 && channels != 4))
		return pi_fail(job, PI_ERR_INTERNAL, "render: bad frame %u x %u x %d", width, height, channels);
	/* the frame streamed here (a GIF's canvas, say) may be larger than any frame checked */
	if ((uint64_t) width * height > job->max_pixels)
		return pi_fail(job, PI_ERR_LIMIT_PIXELS, "a %u x %u frame is over the limit of %llu pixels",
					   width, height, (unsigned long long) job->max_pixels);
	/* a DCT-scaled frame may be a little smaller than the target: fit again */
	if (s->out_w > width)
		s->out_w = width;
	if (s->out_h > height)
		s->out_h = height;
	s->in_h = height;
	s->channels = channels;
	s->yscale = (double) height / s->out_h;
	xscale = (double) width / s->out_w;

	s->xstart = malloc(sizeof(uint32_t) * s->out_w);
	s->xcount = malloc(sizeof(uint32_t) * s->out_w);
	s->xoff = malloc(sizeof(uint32_t) * s->out_w);
	/* each output column spans at most ceil(xscale) + 1 source columns */
	s->xw = malloc(sizeof(float) * ((size_t) s->out_w + width + s->out_w));
	s->hrow = malloc(sizeof(float) * 4 * (size_t) s->out_w);
	s->acc = calloc((size_t) s->out_w * 4, sizeof(float));
	s->out = malloc((size_t) s->out_w * s->out_h * 4);
	if (!s->xstart || !s->xcount || !s->xoff || !s->xw || !s->hrow || !s->acc || !s->out)
		return pi_fail(job, PI_ERR_NOMEM, "render: cannot allocate a %u x %u frame",
					   s->out_w, s->out_h);

	for (uint32_t x = 0; x < s->out_w; x++)
	{
		double		lo = x * xscale,
					hi = (x + 1 == s->out_w) ? (double) width : (x + 1) * xscale;
		uint32_t	first = (uint32_t) floor(lo),
					last = (uint32_t) ceil(hi);
		double		total = 0;

		if (last > width)
			last = width;
		if (last <= first)
			last = first + 1;
		s->xstart[x] = first;
		s->xcount[x] = last - first;
		s->xoff[x] = nweights;
		for (uint32_t i = first; i < last; i++)
		{
			double		w = fmin(i + 1.0, hi) - fmax((double) i, lo);

			if (w < 0)
				w = 0;
			s->xw[nweights + (i - first)] = (float) w;
			total += w;
		}
		for (uint32_t i = 0; i < s->xcount[x]; i++)
			s->xw[nweights + i] = total > 0 ? (float) (s->xw[nweights + i] / total)
				: 1.0f / s->xcount[x];
		nweights += s->xcount[x];
	}
	return PI_OK;
}

/* Scale one source row horizontally into s->hrow (premultiplied RGBA). */
static void
scale_row(pi_sink *s, const uint8_t *row)
{
	float	   *o = s->hrow;

	for (uint32_t x = 0; x < s->out_w; x++, o += 4)
	{
		const float *w = s->xw + s->xoff[x];
		uint32_t	n = s->xcount[x];
		float		r = 0,
					g = 0,
					b = 0,
					a = 0;

		if (s->channels == 3)
		{
			const uint8_t *p = row + (size_t) s->xstart[x] * 3;

			for (uint32_t i = 0; i < n; i++, p += 3)
			{
				r += w[i] * p[0];
				g += w[i] * p[1];
				b += w[i] * p[2];
			}
			a = 1.0f;
		}
		else
		{
			const uint8_t *p = row + (size_t) s->xstart[x] * 4;

			for (uint32_t i = 0; i < n; i++, p += 4)
			{
				float		wa = w[i] * p[3] * (1.0f / 255.0f);

				r += wa * p[0];
				g += wa * p[1];
				b += wa * p[2];
				a += wa;
			}
		}
		o[0] = r;
		o[1] = g;
		o[2] = b;
		o[3] = a;
	}
}

static uint8_t
clamp8(float v)
{
	if (v <= 0)
		return 0;
	if (v >= 255)
		return 255;
	return (uint8_t) (v + 0.5f);
}

/* Write the accumulated output row and start the next one. */
static void
emit_row(pi_sink *s)
{
	uint8_t    *o = s->out + (size_t) s->out_y * s->out_w * 4;
	float	   *a = s->acc;
	float		norm = s->acc_weight > 0 ? (float) (1.0 / s->acc_weight) : 0;

	for (uint32_t x = 0; x < s->out_w; x++, a += 4, o += 4)
	{
		float		alpha = a[3];

		if (alpha > 0)
		{
			o[0] = clamp8(a[0] / alpha);
			o[1] = clamp8(a[1] / alpha);
			o[2] = clamp8(a[2] / alpha);
		}
		else
			o[0] = o[1] = o[2] = 0;
		o[3] = clamp8(alpha * norm * 255.0f);
	}
	memset(s->acc, 0, sizeof(float) * 4 * s->out_w);
	s->acc_weight = 0;
	s->out_y++;
}

int
pi_sink_row(pi_job *job, const uint8_t *row)
{
	pi_sink    *s = job->sink;
	double		top,
				bottom;

	if (s->in_y >= s->in_h)
		return PI_OK;
	if (pi_row_done(job) != PI_OK)
		return PI_ERR_CANCELLED;
	top = s->in_y;
	bottom = s->in_y + 1.0;
	s->in_y++;
	scale_row(s, row);
	/* a source row covers at most two output rows, since we never scale up */
	while (s->out_y < s->out_h)
	{
		double		lo = s->out_y * s->yscale,
					hi = (s->out_y + 1 == s->out_h) ? (double) s->in_h : (s->out_y + 1) * s->yscale;
		double		cover = fmin(bottom, hi) - fmax(top, lo);

		if (cover > 0)
		{
			float		w = (float) cover;

			for (uint32_t i = 0; i < 4 * s->out_w; i++)
				s->acc[i] += w * s->hrow[i];
			s->acc_weight += cover;
		}
		if (hi > bottom + 1e-9)
			break;
		emit_row(s);
	}
	return PI_OK;
}

/* Turn the stored-orientation frame upright; returns a new buffer or NULL. */
static uint8_t *
orient(const uint8_t *src, uint32_t w, uint32_t h, int orientation)
{
	int			swap = swaps_axes(orientation);
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

static void
sink_free(pi_sink *s)
{
	free(s->xstart);
	free(s->xcount);
	free(s->xoff);
	free(s->xw);
	free(s->hrow);
	free(s->acc);
	free(s->out);
}

void
pi_rendition_free(pi_rendition *out)
{
	free(out->data);
	out->data = NULL;
	out->len = 0;
}

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
	memset(&s, 0, sizeof(s));
	if (msg == NULL)
		msg = localmsg;
	if (o.max_side == 0)
		o.max_side = PI_DEFAULT_MAX_SIDE;
	if (o.jpeg_quality <= 0 || o.jpeg_quality > 100)
		o.jpeg_quality = PI_DEFAULT_JPEG_QUALITY;
	if (o.png_level < 0 || o.png_level > 9)
		o.png_level = 1;
	s.opts = &o;

	rc = pi_decode_sink(data, len, PI_MODE_HEADER, limits, &h, msg, &s);
	if (rc == PI_OK && !s.begun)
	{
		rc = PI_ERR_CORRUPT;
		snprintf(msg, PI_MESSAGE_LEN, "the image has no pixels to render");
	}
	/* a stream that ended early leaves its last rows transparent */
	while (rc == PI_OK && s.out_y < s.out_h)
		emit_row(&s);
	if (rc != PI_OK)
		goto done;

	frame = orient(s.out, s.out_w, s.out_h, h.orientation);
	if (frame == NULL)
	{
		rc = PI_ERR_NOMEM;
		snprintf(msg, PI_MESSAGE_LEN, "render: cannot allocate the output frame");
		goto done;
	}
	fw = swaps_axes(h.orientation) ? s.out_h : s.out_w;
	fh = swaps_axes(h.orientation) ? s.out_w : s.out_h;
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
	msg[0] = '\0';
	out->format = pi_render_format(h.format, o.type);
	switch (out->format)
	{
		case PI_FORMAT_JPEG:
			rc = pi_encode_jpeg(&job, frame, fw, fh, o.jpeg_quality, &buf);
			break;
		case PI_FORMAT_GIF:
			rc = pi_encode_gif(&job, frame, fw, fh, has_alpha, &buf);
			break;
		default:
			rc = pi_encode_png(&job, frame, fw, fh, has_alpha, o.png_level, &buf);
			break;
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
	sink_free(&s);
	return rc;
}
