/*
 * product_image.h
 *		Declarations shared by the PostgreSQL glue files.
 */
#ifndef PRODUCT_IMAGE_H
#define PRODUCT_IMAGE_H

#include "postgres.h"

#include "executor/spi.h"

#include "decode/decode.h"

/* Settings (product_image.c). */
extern int	pi_max_bytes;
extern int	pi_max_pixels;
extern int	pi_validate;

extern int	pi_jpeg_quality;
extern int	pi_max_rendition_side;
extern int	pi_rendition_cache_max_kb;
extern bool pi_rendition_cache;
extern char *pi_rendition_widths;
extern char *pi_auto_formats_text;

/* product_image.auto_formats parsed: formats a renditions' Accept may choose, in order. */
#define PI_MAX_AUTO_FORMATS 8
#define PI_DEFAULT_AUTO_FORMATS "avif,webp"
#define PI_DEFAULT_ACCEPT_FORMATS "png,jpeg,gif,tiff"
extern pi_format pi_auto_formats[PI_MAX_AUTO_FORMATS];
extern int	pi_auto_formats_n;

/* product_image.accept_formats parsed: the formats a save or check accepts. */
extern bool pi_format_accepted(pi_format format);
extern void PiAcceptedLabels(char *buf, size_t size);
extern int	pi_webp_quality;
extern int	pi_avif_quality;

/* The quality setting a rendition in format out is made with (0: none), part of its cache key. */
extern int	PiQualityOf(pi_format out);

/* A requested side rounded up to product_image.rendition_widths (product_image.c). */
extern int32 PiRoundSide(int32 side);

extern void PiInitGucs(void);

/* Validate an image, filling *header, or ereport(ERROR) (image_check.c). */
extern void CheckImage(const uint8 *data, size_t len, pi_header *header);

/* Raise the contract's error for a decoder result code (image_check.c). */
extern void ReportDecodeError(int rc, pi_format format, const char *msg);
extern int	PiCancelled(void *arg);

/* Access: the caller's view of products, our statements as the owner (product_access.c). */
typedef struct PiProduct
{
	bool		valid;
	Oid			relid;
	char	   *qualified;		/* "schema"."table", quoted */
	char	   *key;			/* the key column, quoted */
	uint64		generation;		/* bumped at each reload: plans naming the table are stale */
} PiProduct;

extern void PiInitAccess(void);
extern int	PiEnter(void);
extern void PiLeave(int level);
extern SPIPlanPtr PrepareKept(const char *sql, int nargs, Oid *argtypes);
extern int	PiRunAsOwner(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count);
extern int	PiRunAsProductOwner(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only,
								long count);
extern const PiProduct *PiGetProduct(void);
extern bool PiProductVisible(int64 product_id);
extern Datum PiCallerName(void);
extern bytea *PiCopyOut(Datum varlena);
extern void PiPreconditionFailed(int32 product_id) pg_attribute_noreturn();

/* The rendition cache, as the owner, inside SPI (rendition_cache.c). */
typedef struct PiCacheKey
{
	Datum		values[6];		/* blob id, source sha256, w, h, type, quality */
	int32		lock;			/* a fill's advisory lock key */
} PiCacheKey;

extern void PiCacheKeyMake(PiCacheKey *k, int32 blob_id, bytea *source, uint32 w, uint32 h,
						   pi_format type, int32 quality);
/* The cached bytes (out of SPI, in the caller's context), or NULL. */
extern bytea *PiCacheGet(const PiCacheKey *k, int32 *width, int32 *height);
/* Store a rendition unless another transaction is filling the same key. */
extern void PiCachePut(const PiCacheKey *k, bytea *image, int32 width, int32 height);

#endif							/* PRODUCT_IMAGE_H */
