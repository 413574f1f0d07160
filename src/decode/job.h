/*
 * job.h
 *		The bottom floor of the decoder: one decode or encode request (pi_job)
 *		and the helpers every codec shares: the first-error message, the
 *		pixel limit, the cancel check between rows, and a bounded output
 *		buffer.  Includes only the public API; not part of it.
 */
#ifndef PI_JOB_H
#define PI_JOB_H

#include "decode.h"

/* A decode request as the codecs see it. */
typedef struct pi_job
{
	const uint8_t *data;
	size_t		len;
	pi_mode		mode;
	uint64_t	max_bytes;
	uint64_t	max_pixels;
	pi_header  *header;
	char	   *msg;			/* PI_MESSAGE_LEN bytes, never NULL */
	struct pi_sink *sink;		/* rendering: the first frame's rows go here (sink.h) */
	int			(*cancelled) (void *arg);
	void	   *cancel_arg;
	uint32_t	rows;			/* rows done, to ask cancelled() every few */
} pi_job;

/* Write a message into job->msg (first message wins) and return code. */
extern int	pi_fail(pi_job *job, int code, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Count a row; every 64 rows ask the caller's cancelled().  PI_OK or PI_ERR_CANCELLED. */
extern int	pi_row_done(pi_job *job);

/* Add one frame's pixels to the total, refusing zero sizes and the limit. */
extern int	pi_add_frame(pi_job *job, uint32_t width, uint32_t height);

/* A growing output buffer, bounded by max. */
typedef struct pi_buf
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
	size_t		max;
} pi_buf;

/* Append n bytes: PI_OK, PI_ERR_LIMIT_BYTES past max, or PI_ERR_NOMEM. */
extern int	pi_buf_append(pi_buf *buf, const void *bytes, size_t n);

#endif							/* PI_JOB_H */
