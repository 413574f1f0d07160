/*
 * decode_internal.h
 *		Shared between the per-format decoders; not part of the API.
 */
#ifndef PI_DECODE_INTERNAL_H
#define PI_DECODE_INTERNAL_H

#include "exif.h"
#include "job.h"

extern int	pi_decode_png(pi_job *job);
extern int	pi_decode_jpeg(pi_job *job);
extern int	pi_decode_gif(pi_job *job);
extern int	pi_decode_tiff(pi_job *job);

/*
 * Rendering (render.c).  With job->sink set, a decoder stops after the first
 * frame's header, asks pi_sink_want for the smallest size it may decode to
 * (JPEG picks its DCT scale from it), then calls pi_sink_begin once with the
 * size and channels (3: RGB, 4: RGBA) it will deliver, and pi_sink_row for
 * every row, top to bottom, in stored orientation.
 */
typedef struct pi_sink pi_sink;

extern void pi_sink_want(pi_job *job, uint32_t *want_w, uint32_t *want_h);
extern int	pi_sink_begin(pi_job *job, uint32_t width, uint32_t height, int channels);
extern int	pi_sink_row(pi_job *job, const uint8_t *row);

/* pi_decode, delivering the first frame's pixels to sink when not NULL. */
extern int	pi_decode_sink(const uint8_t *data, size_t len, pi_mode mode,
						   const pi_limits *limits, pi_header *header, char *msg,
						   pi_sink *sink);

/* Encoders: RGBA rows in, a complete file in *out (malloc'd). */
extern int	pi_encode_png(pi_job *job, const uint8_t *rgba, uint32_t w, uint32_t h,
						  int has_alpha, int level, pi_buf *out);
extern int	pi_encode_jpeg(pi_job *job, const uint8_t *rgba, uint32_t w, uint32_t h,
						   int quality, pi_buf *out);
extern int	pi_encode_gif(pi_job *job, const uint8_t *rgba, uint32_t w, uint32_t h,
						  int has_alpha, pi_buf *out);

#endif							/* PI_DECODE_INTERNAL_H */
