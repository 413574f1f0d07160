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

extern void PiInitGucs(void);
extern void PiInitSaveCache(void);

/* Validate an image, filling *header, or ereport(ERROR) (image_check.c). */
extern void CheckImage(const uint8 *data, size_t len, pi_header *header);

/* Raise the contract's error for a decoder result code (image_check.c). */
extern void ReportDecodeError(int rc, pi_format format, const char *msg);
extern int	PiCancelled(void *arg);

/* Prepare and keep a generic SPI plan, or fail (image_save.c). */
extern SPIPlanPtr PrepareKept(const char *sql, int nargs, Oid *argtypes);

#endif							/* PRODUCT_IMAGE_H */
