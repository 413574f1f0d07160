/*
 * codecs.c
 *		The codec table: one row per image library.  A new format is a
 *		codec_X.c defining pi_codec_X, its row here, its value in decode.h's
 *		pi_format and its file in sources.mk; nothing else in the decoder
 *		names a format.  A codec without detect and decode (AVIF) only
 *		writes renditions: no data is ever recognised, validated or stored
 *		as its format.
 */
#include "codecs.h"

#include <stdio.h>
#include <string.h>

extern const pi_codec pi_codec_png;
extern const pi_codec pi_codec_jpeg;
extern const pi_codec pi_codec_gif;
extern const pi_codec pi_codec_tiff;
extern const pi_codec pi_codec_webp;
extern const pi_codec pi_codec_avif;

const pi_codec *const pi_codecs[] = {
	&pi_codec_png,
	&pi_codec_jpeg,
	&pi_codec_gif,
	&pi_codec_tiff,
	&pi_codec_webp,
	&pi_codec_avif,
	NULL
};

/* TIFF (no encoder here) renders as PNG: lossless, and alpha survives. */
const pi_codec *const pi_codec_render_default = &pi_codec_png;

/* Look a format up in the table. */
const pi_codec *
pi_codec_of(pi_format format)
{
	for (const pi_codec *const *c = pi_codecs; *c != NULL; c++)
		if ((*c)->format == format)
			return *c;
	return NULL;
}

/* Can data be recognised and read as this codec's format (not an encoder alone)? */
int
pi_codec_reads(const pi_codec *c)
{
	return c != NULL && c->detect != NULL && c->decode != NULL;
}

/* Join the readable formats' labels as a sentence does: "A", "A or B", "A, B or C". */
void
pi_codec_labels(char *buf, size_t size)
{
	size_t		n = 0,
				k = 0,
				used = 0;

	for (const pi_codec *const *c = pi_codecs; *c != NULL; c++)
		if (pi_codec_reads(*c))
			n++;
	if (size == 0)
		return;
	buf[0] = '\0';
	for (const pi_codec *const *c = pi_codecs; *c != NULL && used < size; c++)
	{
		int			w;

		if (!pi_codec_reads(*c))
			continue;
		w = snprintf(buf + used, size - used, "%s%s",
					 k == 0 ? "" : (k + 1 == n ? " or " : ", "), (*c)->label);
		if (w < 0)
			break;
		used += (size_t) w;
		k++;
	}
}
