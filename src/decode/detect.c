/*
 * detect.c
 *		Format detection by magic bytes, names of formats and result codes.
 *		No image library is needed here: the gateway links this file alone.
 */
#include "decode.h"

#include <string.h>

/* Return the format named by the first bytes, or PI_FORMAT_UNKNOWN. */
pi_format
pi_detect(const uint8_t *d, size_t len)
{
	static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

	if (len >= 8 && memcmp(d, png_sig, 8) == 0)
		return PI_FORMAT_PNG;
	if (len >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
		return PI_FORMAT_JPEG;
	if (len >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0))
		return PI_FORMAT_GIF;
	if (len >= 4 &&
		((d[0] == 'I' && d[1] == 'I' && (d[2] == 42 || d[2] == 43) && d[3] == 0) ||
		 (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && (d[3] == 42 || d[3] == 43))))
		return PI_FORMAT_TIFF;
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
	if (len >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
		return "WebP";
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
	switch (format)
	{
		case PI_FORMAT_PNG:
			return "png";
		case PI_FORMAT_JPEG:
			return "jpeg";
		case PI_FORMAT_GIF:
			return "gif";
		case PI_FORMAT_TIFF:
			return "tiff";
		case PI_FORMAT_UNKNOWN:
			break;
	}
	return "unknown";
}

/* The inverse of pi_format_name; UNKNOWN for any other string. */
pi_format
pi_format_from_name(const char *name)
{
	for (int f = PI_FORMAT_PNG; f <= PI_FORMAT_TIFF; f++)
		if (name != NULL && strcmp(name, pi_format_name((pi_format) f)) == 0)
			return (pi_format) f;
	return PI_FORMAT_UNKNOWN;
}

/* MIME type of a format. */
const char *
pi_format_mime(pi_format format)
{
	switch (format)
	{
		case PI_FORMAT_PNG:
			return "image/png";
		case PI_FORMAT_JPEG:
			return "image/jpeg";
		case PI_FORMAT_GIF:
			return "image/gif";
		case PI_FORMAT_TIFF:
			return "image/tiff";
		case PI_FORMAT_UNKNOWN:
			break;
	}
	return "application/octet-stream";
}
