/*
 * job.c
 *		Helpers shared by every codec: messages, limits, cancellation, output.
 */
#include "job.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keep the first message only: the library's own words beat a later summary. */
int
pi_fail(pi_job *job, int code, const char *fmt,...)
{
	va_list		ap;

	if (job->msg[0] == '\0')
	{
		va_start(ap, fmt);
		vsnprintf(job->msg, PI_MESSAGE_LEN, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Count a row and, every 64 rows, ask the caller whether to stop. */
int
pi_row_done(pi_job *job)
{
	if (job->cancelled != NULL && (++job->rows & 63) == 0 && job->cancelled(job->cancel_arg))
		return pi_fail(job, PI_ERR_CANCELLED, "cancelled");
	return PI_OK;
}

/* Add a frame's area to the total, against max_pixels, without overflow. */
int
pi_add_frame(pi_job *job, uint32_t width, uint32_t height)
{
	uint64_t	pixels;

	if (width == 0 || height == 0)
		return pi_fail(job, PI_ERR_CORRUPT, "image has zero width or height (%u x %u)",
					   width, height);
	pixels = (uint64_t) width * (uint64_t) height;	/* cannot overflow 64 bits */
	if (pixels > job->max_pixels ||
		job->header->total_pixels > job->max_pixels - pixels)
		return pi_fail(job, PI_ERR_LIMIT_PIXELS,
					   "image has %llu pixels or more, the limit is %llu",
					   (unsigned long long) (job->header->total_pixels + pixels),
					   (unsigned long long) job->max_pixels);
	job->header->total_pixels += pixels;
	return PI_OK;
}

/* Append to the buffer, doubling its capacity up to buf->max. */
int
pi_buf_append(pi_buf *buf, const void *bytes, size_t n)
{
	if (n > buf->max - buf->len)
		return PI_ERR_LIMIT_BYTES;
	if (buf->len + n > buf->cap)
	{
		size_t		cap = buf->cap ? buf->cap : 16384;
		uint8_t    *p;

		while (cap < buf->len + n)
			cap = (cap > buf->max / 2) ? buf->max : cap * 2;
		p = realloc(buf->data, cap);
		if (p == NULL)
			return PI_ERR_NOMEM;
		buf->data = p;
		buf->cap = cap;
	}
	memcpy(buf->data + buf->len, bytes, n);
	buf->len += n;
	return PI_OK;
}
