/*
 * sink.c
 *		The streaming resampler: an exact area average, row by row.
 *
 * The codecs deliver the first frame's rows through the sink (pi_sink_begin,
 * pi_sink_row); the sink scales them as they arrive with an exact area
 * average (each output pixel is the mean of the source area it covers,
 * fractional edges weighted by coverage), computed on premultiplied alpha so
 * transparent pixels lend no colour.  It keeps one horizontally scaled row
 * and one accumulator row, whatever the source's height.  render.c turns the
 * small output frame upright and encodes it.
 *
 * Why written here rather than taken from pixman, libswscale or libvips:
 * pixman's separable convolution and libswscale need the whole source frame
 * in memory (libswscale's slices still buffer filter-height rows per plane,
 * and it allocates through av_malloc, out of our control), and libvips runs
 * its own thread pool and global caches, which a PostgreSQL backend must not
 * host.  An area average is a few dozen lines, streams, allocates two rows,
 * and is what Pillow's reduce() and libvips' shrink do for large factors.
 */
#include "sink.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Fit w x h inside the box (0: not given) and max_side, keeping the aspect
 * ratio and never scaling up.
 */
void
pi_fit_box(uint32_t w, uint32_t h, uint32_t box_w, uint32_t box_h, uint32_t max_side,
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
int
pi_swaps_axes(int orientation)
{
	return orientation >= 5 && orientation <= 8;
}

/* The output size in stored orientation, which the codec may decode down to. */
void
pi_sink_want(pi_job *job, uint32_t *want_w, uint32_t *want_h)
{
	pi_sink    *s = job->sink;
	const pi_header *h = job->header;
	uint32_t	dw,
				dh;
	int			swap = pi_swaps_axes(h->orientation);

	/* the box is in display orientation */
	pi_fit_box(swap ? h->height : h->width, swap ? h->width : h->height,
			s->opts->max_w, s->opts->max_h, s->opts->max_side, &dw, &dh);
	s->out_w = swap ? dh : dw;
	s->out_h = swap ? dw : dh;
	*want_w = s->out_w;
	*want_h = s->out_h;
}

/* Allocate the rows and weights for a width x height frame of 3 or 4 channels. */
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

/* Round and clamp a sample to 0..255. */
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

/* Take one source row: accumulate it into the output rows it covers. */
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

/* An empty sink for a rendition with these (defaulted) options. */
void
pi_sink_init(pi_sink *s, const pi_render_opts *opts)
{
	memset(s, 0, sizeof(*s));
	s->opts = opts;
}

/* Emit the rows a stream that ended early left: they stay transparent. */
void
pi_sink_finish(pi_sink *s)
{
	while (s->begun && s->out_y < s->out_h)
		emit_row(s);
}

/* Free what pi_sink_begin allocated (any sink, begun or not). */
void
pi_sink_free(pi_sink *s)
{
	free(s->xstart);
	free(s->xcount);
	free(s->xoff);
	free(s->xw);
	free(s->hrow);
	free(s->acc);
	free(s->out);
}

