/*
 * codec.h
 *		What a codec is: one image library's decoder, row streaming and
 *		encoder, exported as ONE table entry (as pgcrypto's cipher tables do).
 *
 * A codec file (codec_png.c, ...) includes this, job.h, sink.h and exif.h,
 * keeps everything else static, and defines one `const pi_codec pi_codec_X`.
 * codecs.c lists the entries; dispatch (decode.c), detection and names
 * (detect.c) and rendering (render.c) read that list and nothing else.
 */
#ifndef PI_CODEC_H
#define PI_CODEC_H

#include "job.h"

#define PI_CODEC_MAX_ALIASES	3

/* A rendition's pixels, upright: width x height RGBA, 4 bytes a pixel. */
typedef struct pi_frame
{
	const uint8_t *rgba;
	uint32_t	width;
	uint32_t	height;
	int			has_alpha;		/* any pixel not opaque */
} pi_frame;

typedef struct pi_codec
{
	pi_format	format;
	const char *name;			/* lowercase, as stored and returned by SQL: "jpeg" */
	const char *aliases[PI_CODEC_MAX_ALIASES + 1];	/* other names a caller may type ("jpg"), NULL-ended */
	const char *label;			/* for messages: "JPEG" */
	const char *mime_type;		/* "image/jpeg" */

	/*
	 * Nonzero when the first bytes are this format's signature (magic bytes
	 * only).  NULL, with decode, for a format renditions are written in but
	 * that is never read (AVIF): no data is ever taken for it.
	 */
	int			(*detect) (const uint8_t *data, size_t len);

	/*
	 * Fill job->header from the header; in PI_MODE_FULL also decode every
	 * row of every frame or page; with job->sink set, stream the first
	 * frame's rows into it (sink.h) instead.  PI_OK or a PI_ERR_* code, with
	 * the message in job->msg (pi_fail).  No longjmp leaves the codec's file.
	 */
	int			(*decode) (pi_job *job);

	/*
	 * Encode an upright RGBA frame as a complete file appended to *out
	 * (within out->max), with the options' quality or level.  NULL when the
	 * codec cannot write: renditions of such a source use codecs.c's default.
	 */
	int			(*encode) (pi_job *job, const pi_frame *frame, const pi_render_opts *opts,
						   pi_buf *out);
} pi_codec;

#endif							/* PI_CODEC_H */
