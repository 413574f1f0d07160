/*
 * decode_internal.h
 *		Shared between the per-format decoders; not part of the API.
 */
#ifndef PI_DECODE_INTERNAL_H
#define PI_DECODE_INTERNAL_H

#include "decode.h"

/* A decode request as the per-format functions see it. */
typedef struct pi_job
{
	const uint8_t *data;
	size_t		len;
	pi_mode		mode;
	uint64_t	max_bytes;
	uint64_t	max_pixels;
	pi_header  *header;
	char	   *msg;			/* PI_MESSAGE_LEN bytes, never NULL */
	struct pi_sink *sink;		/* rendering: the first frame's rows go here */
	int			(*cancelled) (void *arg);
	void	   *cancel_arg;
	uint32_t	rows;			/* rows done, to ask cancelled() every few */
} pi_job;

extern int	pi_decode_png(pi_job *job);
extern int	pi_decode_jpeg(pi_job *job);
extern int	pi_decode_gif(pi_job *job);
extern int	pi_decode_tiff(pi_job *job);

/* Write a message into job->msg (first message wins) and return code. */
extern int	pi_fail(pi_job *job, int code, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Count a row; every 64 rows ask the caller's cancelled().  PI_OK or PI_ERR_CANCELLED. */
extern int	pi_row_done(pi_job *job);

/* Add one frame's pixels to the total, refusing zero sizes and the limit. */
extern int	pi_add_frame(pi_job *job, uint32_t width, uint32_t height);

/* The EXIF orientation (1..8) in a TIFF-structured EXIF block, or 0. */
extern int	pi_exif_orientation(const uint8_t *tiff, size_t len);

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

/* A growing output buffer, bounded by max. */
typedef struct pi_buf
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
	size_t		max;
} pi_buf;

/* pi_decode, delivering the first frame's pixels to sink when not NULL. */
extern int	pi_decode_sink(const uint8_t *data, size_t len, pi_mode mode,
						   const pi_limits *limits, pi_header *header, char *msg,
						   pi_sink *sink);

extern int	pi_buf_append(pi_buf *buf, const void *bytes, size_t n);

/* Encoders: RGBA rows in, a complete file in *out (malloc'd). */
extern int	pi_encode_png(pi_job *job, const uint8_t *rgba, uint32_t w, uint32_t h,
						  int has_alpha, int level, pi_buf *out);
extern int	pi_encode_jpeg(pi_job *job, const uint8_t *rgba, uint32_t w, uint32_t h,
						   int quality, pi_buf *out);
extern int	pi_encode_gif(pi_job *job, const uint8_t *rgba, uint32_t w, uint32_t h,
						  int has_alpha, pi_buf *out);

#endif							/* PI_DECODE_INTERNAL_H */
