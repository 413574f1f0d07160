/*
 * detect.c
 *		Format detection and the names and MIME types of formats, all read
 *		from the codec table (codecs.c); a guess at unsupported data; the
 *		names of result codes.
 */
#include "codecs.h"

#include <string.h>

/* Return the format whose codec recognises the first bytes, or PI_FORMAT_UNKNOWN. */
pi_format
pi_detect(const uint8_t *d, size_t len)
{
	for (const pi_codec *const *c = pi_codecs; *c != NULL; c++)
		if (pi_codec_reads(*c) && (*c)->detect(d, len))
			return (*c)->format;
	return PI_FORMAT_UNKNOWN;
}

/* Does the buffer start with the string (case-insensitive, after blanks)? */
static int
starts_with_ci(const uint8_t *d, size_t len, const char *s)
{
	size_t		i = 0,
				n = strlen(s);

	while (i < len && i < 64 && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
		i++;
	if (len - i < n)
		return 0;
	for (size_t k = 0; k < n; k++)
	{
		uint8_t		c = d[i + k];

		if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		if (c != (uint8_t) s[k])
			return 0;
	}
	return 1;
}

/* A guess at what unsupported data is, for error details; NULL if unknown. */
const char *
pi_describe_unsupported(const uint8_t *d, size_t len)
{
	size_t		printable = 0,
				n;

	if (len == 0)
		return NULL;
	if (len >= 2 && d[0] == 'B' && d[1] == 'M')
		return "BMP";
	if (len >= 12 && memcmp(d + 4, "ftyp", 4) == 0)
	{
		if (memcmp(d + 8, "avif", 4) == 0 || memcmp(d + 8, "avis", 4) == 0)
			return "AVIF";
		if (memcmp(d + 8, "hei", 3) == 0 || memcmp(d + 8, "mif1", 4) == 0)
			return "HEIF";
		return "ISO media (MP4/MOV)";
	}
	if (len >= 12 && memcmp(d, "\0\0\0\x0cjP  \r\n\x87\n", 12) == 0)
		return "JPEG 2000";
	if (len >= 2 && d[0] == 0xFF && d[1] == 0x0A)
		return "JPEG XL";
	if (len >= 4 && memcmp(d, "8BPS", 4) == 0)
		return "Photoshop PSD";
	if (len >= 4 && memcmp(d, "\0\0\1\0", 4) == 0)
		return "ICO";
	if (len >= 5 && memcmp(d, "%PDF-", 5) == 0)
		return "PDF";
	if (len >= 4 && memcmp(d, "PK\3\4", 4) == 0)
		return "ZIP";
	if (len >= 2 && d[0] == 0x1F && d[1] == 0x8B)
		return "gzip";
	if (len >= 2 && d[0] == 0xFF && d[1] == 0xD8)
		return "JPEG with a broken marker";
	if (len >= 4 && d[0] == 0x89 && memcmp(d + 1, "PNG", 3) == 0)
		return "PNG with a damaged signature";
	if (len >= 3 && memcmp(d, "GIF", 3) == 0)
		return "GIF of an unknown version";
	if (starts_with_ci(d, len, "<!doctype html") || starts_with_ci(d, len, "<html"))
		return "HTML";
	if (starts_with_ci(d, len, "<svg") || starts_with_ci(d, len, "<?xml"))
		return starts_with_ci(d, len, "<svg") ? "SVG" : "XML";
	if (len >= 2 && d[0] == 'P' && d[1] >= '1' && d[1] <= '7')
		return "PNM (PBM/PGM/PPM)";
	n = len < 512 ? len : 512;
	for (size_t i = 0; i < n; i++)
		if ((d[i] >= 0x20 && d[i] < 0x7F) || d[i] == '\t' || d[i] == '\r' || d[i] == '\n')
			printable++;
	if (printable == n)
	{
		if (starts_with_ci(d, len, "{") || starts_with_ci(d, len, "["))
			return "JSON or text";
		return "text";
	}
	return NULL;
}

/* Name of a result code. */
const char *
pi_strerror(int code)
{
	switch (code)
	{
		case PI_OK:
			return "success";
		case PI_ERR_EMPTY:
			return "image is empty";
		case PI_ERR_UNSUPPORTED:
			return "unsupported image format";
		case PI_ERR_CORRUPT:
			return "corrupt or truncated image";
		case PI_ERR_LIMIT_BYTES:
			return "image exceeds the byte limit";
		case PI_ERR_LIMIT_PIXELS:
			return "image exceeds the pixel limit";
		case PI_ERR_NOMEM:
			return "out of memory while decoding image";
		case PI_ERR_INTERNAL:
			return "internal decoder error";
		case PI_ERR_CANCELLED:
			return "cancelled";
	}
	return "unknown decoder error";
}

/* Lowercase format name as stored and returned by SQL. */
const char *
pi_format_name(pi_format format)
{
	const pi_codec *c = pi_codec_of(format);

	return c ? c->name : "unknown";
}

/* The format's name for messages ("WebP"). */
const char *
pi_format_label(pi_format format)
{
	const pi_codec *c = pi_codec_of(format);

	return c ? c->label : "unknown";
}

/*
 * The inverse of pi_format_name (exact, lowercase) for formats that can be
 * stored, i.e. read; UNKNOWN for any other string, and for an encoder's alone
 * ("avif"): the blob table's CHECK reads this, so no row can claim AVIF.
 */
pi_format
pi_format_from_name(const char *name)
{
	for (const pi_codec *const *c = pi_codecs; name != NULL && *c != NULL; c++)
		if (pi_codec_reads(*c) && strcmp(name, (*c)->name) == 0)
			return (*c)->format;
	return PI_FORMAT_UNKNOWN;
}

/* ASCII case-insensitive equality (no locale: "JPG" is "jpg" everywhere). */
static int
equal_ci(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
	{
		char		x = (*a >= 'A' && *a <= 'Z') ? (char) (*a - 'A' + 'a') : *a,
					y = (*b >= 'A' && *b <= 'Z') ? (char) (*b - 'A' + 'a') : *b;

		if (x != y)
			return 0;
	}
	return *a == *b;
}

/* A name a caller typed: any case, the name or an alias ("JPG"); UNKNOWN otherwise. */
pi_format
pi_format_from_type_name(const char *name)
{
	for (const pi_codec *const *c = pi_codecs; name != NULL && *c != NULL; c++)
	{
		if (equal_ci(name, (*c)->name))
			return (*c)->format;
		for (const char *const *a = (*c)->aliases; *a != NULL; a++)
			if (equal_ci(name, *a))
				return (*c)->format;
	}
	return PI_FORMAT_UNKNOWN;
}

/* MIME type of a format. */
const char *
pi_format_mime(pi_format format)
{
	const pi_codec *c = pi_codec_of(format);

	return c ? c->mime_type : "application/octet-stream";
}

/* The format whose MIME type is these n bytes (any case), renditions of it writable: for Accept. */
pi_format
pi_format_from_mime(const char *mime, size_t n)
{
	for (const pi_codec *const *c = pi_codecs; mime != NULL && *c != NULL; c++)
	{
		const char *m = (*c)->mime_type;
		size_t		i = 0;

		while (i < n && m[i] != '\0' &&
			   (mime[i] | 0x20) == (m[i] | 0x20) && (m[i] != '/' || mime[i] == '/'))
			i++;
		if (i == n && m[i] == '\0' && (*c)->encode != NULL)
			return (*c)->format;
	}
	return PI_FORMAT_UNKNOWN;
}

/* Can renditions be written in this format? */
int
pi_format_encodes(pi_format format)
{
	const pi_codec *c = pi_codec_of(format);

	return c != NULL && c->encode != NULL;
}
