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
} pi_job;

extern int	pi_decode_png(pi_job *job);
extern int	pi_decode_jpeg(pi_job *job);
extern int	pi_decode_gif(pi_job *job);
extern int	pi_decode_tiff(pi_job *job);

/* Write a message into job->msg (first message wins) and return code. */
extern int	pi_fail(pi_job *job, int code, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Add one frame's pixels to the total, refusing zero sizes and the limit. */
extern int	pi_add_frame(pi_job *job, uint32_t width, uint32_t height);

/* The EXIF orientation (1..8) in a TIFF-structured EXIF block, or 0. */
extern int	pi_exif_orientation(const uint8_t *tiff, size_t len);

#endif							/* PI_DECODE_INTERNAL_H */
