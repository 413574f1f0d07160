/*
 * decode.h
 *		Image format detection and header/stream validation, without PostgreSQL.
 *
 * The decoder takes a byte buffer, detects PNG, JPEG, GIF, TIFF or WebP by
 * content (never by a caller's claim), and reads the header with the real
 * library (libpng, libjpeg-turbo, giflib, libtiff, libwebp).  In full mode it
 * also decodes every row of every frame or page, one row (or strip, or tile)
 * at a time.  Renditions may also be written as AVIF (libavif with libaom),
 * a format that is never read: no AVIF is detected, validated or stored.
 *
 * Every entry point returns an int code: PI_OK (0) on success, a negative
 * PI_ERR_* otherwise; pi_strerror() names each code, and the context's
 * message buffer holds the library's own words.  No function here aborts,
 * exits, writes to stderr, or lets a longjmp escape its own file.
 */
#ifndef PI_DECODE_H
#define PI_DECODE_H

#include <stddef.h>
#include <stdint.h>

typedef enum pi_format
{
	PI_FORMAT_UNKNOWN = 0,
	PI_FORMAT_PNG,
	PI_FORMAT_JPEG,
	PI_FORMAT_GIF,
	PI_FORMAT_TIFF,
	PI_FORMAT_WEBP,
	PI_FORMAT_AVIF				/* renditions only: never detected or stored */
} pi_format;

typedef enum pi_mode
{
	PI_MODE_HEADER = 0,			/* signature, header, structure up to the data */
	PI_MODE_FULL = 1			/* plus every row of every frame or page */
} pi_mode;

/* Result codes.  0 is success; every error is negative. */
#define PI_OK					0
#define PI_ERR_EMPTY			(-1)	/* no bytes at all */
#define PI_ERR_UNSUPPORTED		(-2)	/* no codec recognises it (PNG, JPEG, GIF, TIFF, WebP) */
#define PI_ERR_CORRUPT			(-3)	/* invalid or truncated per the format */
#define PI_ERR_LIMIT_BYTES		(-4)	/* over the caller's byte limit */
#define PI_ERR_LIMIT_PIXELS		(-5)	/* over the caller's pixel limit */
#define PI_ERR_NOMEM			(-6)	/* an allocation failed */
#define PI_ERR_INTERNAL			(-7)	/* a library failed in an unexpected way */
#define PI_ERR_CANCELLED		(-8)	/* the caller's cancelled() said stop */

/*
 * Limits; zero means "use the default".  cancelled, when not NULL, is asked
 * between rows (full mode and rendering): nonzero stops the work with
 * PI_ERR_CANCELLED, so a caller's statement timeout or cancel is honoured
 * within a row's time.
 */
typedef struct pi_limits
{
	uint64_t	max_bytes;		/* default PI_DEFAULT_MAX_BYTES */
	uint64_t	max_pixels;		/* width x height summed over frames/pages; also a GIF canvas alone */
	int			(*cancelled) (void *arg);
	void	   *cancel_arg;
} pi_limits;

#define PI_DEFAULT_MAX_BYTES	(32u * 1024u * 1024u)
#define PI_DEFAULT_MAX_PIXELS	50000000u

#define PI_COLOR_TYPE_LEN		16
#define PI_MESSAGE_LEN			256

/* What the header says. */
typedef struct pi_header
{
	pi_format	format;
	const char *mime_type;		/* static string */
	uint32_t	width;
	uint32_t	height;
	int			bit_depth;		/* bits per sample */
	int			channels;		/* samples per pixel, alpha included */
	char		color_type[PI_COLOR_TYPE_LEN];	/* "rgb", "gray", "palette", "cmyk", ... */
	int			has_alpha;
	uint32_t	frames;			/* GIF, APNG and WebP frames, TIFF pages, else 1 */
	int			interlaced;		/* PNG Adam7, GIF interlace, progressive JPEG */
	int			orientation;	/* EXIF orientation 1..8, or 0 when absent */
	uint64_t	total_pixels;	/* width x height summed over frames/pages */
} pi_header;

/*
 * Detect and validate an image.  On success fills *header and returns PI_OK.
 * On failure returns a PI_ERR_* code and writes a message (NUL-terminated,
 * at most PI_MESSAGE_LEN bytes) into msg when msg is not NULL.
 */
extern int	pi_decode(const uint8_t *data, size_t len, pi_mode mode,
					  const pi_limits *limits, pi_header *header,
					  char *msg);

/* Format detection by magic bytes alone. */
extern pi_format pi_detect(const uint8_t *data, size_t len);

/* For data that is not a supported format: a guess at what it is, or NULL. */
extern const char *pi_describe_unsupported(const uint8_t *data, size_t len);

/* Short lowercase names. */
extern const char *pi_strerror(int code);
extern const char *pi_format_name(pi_format format);
extern const char *pi_format_label(pi_format format);	/* for messages: "WebP" */
/* A stored format's name, exact ("jpeg"); UNKNOWN for any other, and for "avif" (never stored). */
extern pi_format pi_format_from_name(const char *name);
extern const char *pi_format_mime(pi_format format);

/* A type a user typed: any case, names and aliases ("JPG", "tif"); UNKNOWN otherwise. */
extern pi_format pi_format_from_type_name(const char *name);

/* The format of a MIME type (n bytes, any case) when renditions can be written in it. */
extern pi_format pi_format_from_mime(const char *mime, size_t n);

/* Nonzero when renditions can be written in the format (PNG, JPEG, GIF, WebP, AVIF). */
extern int	pi_format_encodes(pi_format format);

/*
 * Renditions: decode the first frame or page, apply the orientation, scale
 * down to fit a box (never up), encode as JPEG, PNG, GIF, WebP or AVIF.
 *
 * JPEG sources decode at 1/2, 1/4 or 1/8 scale when the box allows, and so
 * do opaque still WebP sources (libwebp's own scaler); PNG (non-interlaced),
 * JPEG and TIFF rows stream into an area-averaging resampler, so memory is
 * one output frame plus a few source rows (an interlaced PNG, a GIF frame, a
 * TIFF strip or tile band and a WebP frame are held whole, within
 * max_pixels).  The output never exceeds max_side on either side.
 */
typedef struct pi_render_opts
{
	uint32_t	max_w;			/* box width, 0 when not given */
	uint32_t	max_h;			/* box height, 0 when not given */
	uint32_t	max_side;		/* hard bound on either output side (0: 4096) */
	pi_format	type;			/* PNG, JPEG, GIF, WEBP or AVIF; UNKNOWN: the source's (TIFF: PNG) */
	int			jpeg_quality;	/* 1..100 (0: 85) */
	int			webp_quality;	/* 1..99 lossy, 100 lossless (0: 80) */
	int			avif_quality;	/* 1..100, mapped onto AV1's quantizer 62..0 (0: 60) */
	int			avif_speed;		/* libavif speed 6..10, faster as it grows (0: 8) */
	int			png_level;		/* zlib level 0..9 (-1: 1, fast) */
} pi_render_opts;

typedef struct pi_rendition
{
	uint8_t    *data;			/* malloc'd; free with pi_rendition_free */
	size_t		len;
	uint32_t	width;
	uint32_t	height;
	pi_format	format;
} pi_rendition;

#define PI_DEFAULT_MAX_SIDE		4096
#define PI_DEFAULT_JPEG_QUALITY 85
#define PI_DEFAULT_WEBP_QUALITY 80
#define PI_DEFAULT_AVIF_QUALITY 60
#define PI_DEFAULT_AVIF_SPEED	8

extern int	pi_render(const uint8_t *data, size_t len, const pi_limits *limits,
					  const pi_render_opts *opts, pi_rendition *out, char *msg);
extern void pi_rendition_free(pi_rendition *out);

/*
 * The size, upright, of the rendition pi_render makes of a width x height
 * image stored in EXIF orientation 1-8 (0: none): known before decoding, so a
 * cache can be keyed by what is produced.  (A JPEG decoded at a DCT scale may,
 * rarely, come out a pixel smaller.)
 */
extern void pi_render_size(uint32_t width, uint32_t height, int orientation,
						   const pi_render_opts *opts, uint32_t *out_w, uint32_t *out_h);

/* The output format pi_render picks for a source format and a requested type. */
extern pi_format pi_render_format(pi_format source, pi_format requested);

#endif							/* PI_DECODE_H */
