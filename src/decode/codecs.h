/*
 * codecs.h
 *		The codec table (codecs.c) and its lookups: the one place that knows
 *		which formats exist.  Above the codecs, below detect.c, decode.c and
 *		render.c.
 */
#ifndef PI_CODECS_H
#define PI_CODECS_H

#include "codec.h"

/* Every codec, NULL-terminated, in detection order. */
extern const pi_codec *const pi_codecs[];

/* The codec renditions are written with when neither the request nor the source has an encoder. */
extern const pi_codec *const pi_codec_render_default;

/* The codec of a format; NULL for PI_FORMAT_UNKNOWN or any other value. */
extern const pi_codec *pi_codec_of(pi_format format);

/* Nonzero when the codec detects and decodes (AVIF's only encodes). */
extern int	pi_codec_reads(const pi_codec *c);

/* "PNG, JPEG, GIF, TIFF or WebP": the readable codecs' labels, for messages (truncated to size). */
extern void pi_codec_labels(char *buf, size_t size);

#endif							/* PI_CODECS_H */
