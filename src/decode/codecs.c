/*
 * codecs.c
 *		The codec table: one row per image library.  A new format is a
 *		codec_X.c defining pi_codec_X, its row here, its value in decode.h's
 *		pi_format and its file in sources.mk; nothing else in the decoder
 *		names a format.
 */
#include "codecs.h"

#include <stdio.h>
#include <string.h>

extern const pi_codec pi_codec_png;
extern const pi_codec pi_codec_jpeg;
extern const pi_codec pi_codec_gif;
extern const pi_codec pi_codec_tiff;

const pi_codec *const pi_codecs[] = {
	&pi_codec_png,
	&pi_codec_jpeg,
	&pi_codec_gif,
	&pi_codec_tiff,
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

/* Join the labels as a sentence does: "A", "A or B", "A, B or C". */
void
pi_codec_labels(char *buf, size_t size)
{
	size_t		n = 0,
				used = 0;

	while (pi_codecs[n] != NULL)
		n++;
	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++)
	{
		int			w = snprintf(buf + used, size - used, "%s%s",
								 i == 0 ? "" : (i + 1 == n ? " or " : ", "), pi_codecs[i]->label);

		if (w < 0)
			break;
		used += (size_t) w;
	}
}
