/*
 * sink.h
 *		The streaming resampler: where a codec delivers the first frame's rows
 *		when rendering, and what render.c reads back.
 *
 * With job->sink set, a codec's decode stops after the first frame's header,
 * asks pi_sink_want for the smallest size it may decode to (JPEG picks its
 * DCT scale from it), then calls pi_sink_begin once with the size and
 * channels (3: RGB, 4: RGBA) it will deliver, and pi_sink_row for every row,
 * top to bottom, in stored orientation.  Includes only job.h.
 */
#ifndef PI_SINK_H
#define PI_SINK_H

#include "job.h"

typedef struct pi_sink
{
	const pi_render_opts *opts;	/* box and max_side (set), read by pi_sink_want */
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
	uint8_t    *out;			/* out_w x out_h RGBA, once begun */
	int			begun;
} pi_sink;

/* The codec's side. */
extern void pi_sink_want(pi_job *job, uint32_t *want_w, uint32_t *want_h);
extern int	pi_sink_begin(pi_job *job, uint32_t width, uint32_t height, int channels);
extern int	pi_sink_row(pi_job *job, const uint8_t *row);

/* The renderer's side: opts must outlive the sink (max_side already defaulted). */
extern void pi_sink_init(pi_sink *s, const pi_render_opts *opts);
/* After a begun frame: emit the rows a stream that ended early left (transparent). */
extern void pi_sink_finish(pi_sink *s);
extern void pi_sink_free(pi_sink *s);

/* Geometry shared with render.c: fit inside a box, never up; axes swapped by orientation. */
extern void pi_fit_box(uint32_t w, uint32_t h, uint32_t box_w, uint32_t box_h, uint32_t max_side,
					   uint32_t *out_w, uint32_t *out_h);
extern int	pi_swaps_axes(int orientation);

#endif							/* PI_SINK_H */
