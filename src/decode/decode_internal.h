/*
 * decode_internal.h
 *		Shared between the per-format decoders; not part of the API.
 */
#ifndef PI_DECODE_INTERNAL_H
#define PI_DECODE_INTERNAL_H

#include "exif.h"
#include "sink.h"

extern int	pi_decode_png(pi_job *job);
extern int	pi_decode_jpeg(pi_job *job);
extern int	pi_decode_gif(pi_job *job);
extern int	pi_decode_tiff(pi_job *job);

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
