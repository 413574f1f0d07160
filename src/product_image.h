/*
 * product_image.h
 *		Declarations shared by the PostgreSQL glue files.
 */
#ifndef PRODUCT_IMAGE_H
#define PRODUCT_IMAGE_H

#include "postgres.h"

#include "decode/decode.h"

/* Settings (product_image.c). */
extern int	pi_max_bytes;
extern int	pi_max_pixels;
extern int	pi_validate;

extern void PiInitGucs(void);
extern void PiInitSaveCache(void);

/* Validate an image, filling *header, or ereport(ERROR) (image_check.c). */
extern void CheckImage(const uint8 *data, size_t len, pi_header *header);

#endif							/* PRODUCT_IMAGE_H */
