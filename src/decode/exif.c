/*
 * exif.c
 *		Read the orientation tag from an EXIF block, trusting no offset.
 */
#include "exif.h"

/* Read a 16- or 32-bit value in the block's byte order. */
static uint32_t
rd(const uint8_t *p, int n, int big)
{
	if (n == 2)
		return big ? (uint32_t) (p[0] << 8 | p[1]) : (uint32_t) (p[1] << 8 | p[0]);
	return big ? ((uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3])
		: ((uint32_t) p[3] << 24 | (uint32_t) p[2] << 16 | (uint32_t) p[1] << 8 | p[0]);
}

int
pi_exif_orientation(const uint8_t *t, size_t len)
{
	int			big;
	uint32_t	ifd,
				count;

	if (t == NULL || len < 8)
		return 0;
	if (t[0] == 'I' && t[1] == 'I')
		big = 0;
	else if (t[0] == 'M' && t[1] == 'M')
		big = 1;
	else
		return 0;
	if (rd(t + 2, 2, big) != 42)
		return 0;
	ifd = rd(t + 4, 4, big);
	if (ifd > len || len - ifd < 2)
		return 0;
	count = rd(t + ifd, 2, big);
	for (uint32_t i = 0; i < count; i++)
	{
		size_t		off = (size_t) ifd + 2 + (size_t) i * 12;
		uint32_t	v;

		if (off > len || len - off < 12)
			return 0;
		if (rd(t + off, 2, big) != 0x0112)
			continue;
		/* type SHORT (3), count 1: the value sits in the first two bytes */
		if (rd(t + off + 2, 2, big) != 3 || rd(t + off + 4, 4, big) != 1)
			return 0;
		v = rd(t + off + 8, 2, big);
		return (v >= 1 && v <= 8) ? (int) v : 0;
	}
	return 0;
}
