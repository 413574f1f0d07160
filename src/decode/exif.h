/*
 * exif.h
 *		The EXIF orientation tag, for the codecs that carry an EXIF block.
 */
#ifndef PI_EXIF_H
#define PI_EXIF_H

#include <stddef.h>
#include <stdint.h>

/* The EXIF orientation (1..8) in a TIFF-structured EXIF block, or 0. */
extern int	pi_exif_orientation(const uint8_t *tiff, size_t len);

#endif							/* PI_EXIF_H */
