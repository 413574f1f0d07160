/*
 * fuzz_decode.c
 *		libFuzzer target for src/decode: the last input byte picks the options
 *		(mode, pixel limit, byte limit, and whether to render, to which box
 *		and type), so one target covers the whole API.  One property is
 *		checked beyond "no crash": a GIF or WebP that validation accepts
 *		renders within the same limits (its canvas counts at validation).
 *
 * Render types, from bits 0x08 and 0x01: neither, the source's; 0x01, JPEG;
 * 0x08, GIF; both, WebP, or AVIF when 0x02 is set too.
 */
#include "decode.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t pixel_limits[4] = {0, 1000000, 10000, 64};
	pi_limits	limits = {0, 0, NULL, NULL};
	pi_header	header;
	char		msg[PI_MESSAGE_LEN];
	uint8_t		opt;
	int			rc;

	if (size == 0)
		return 0;
	opt = data[size - 1];
	size--;
	limits.max_pixels = pixel_limits[(opt >> 1) & 3];
	if (opt & 0x08)
		limits.max_bytes = size > 1 ? size - 1 : 1;	/* one byte too few */
	if (opt & 0x10)
	{
		static const uint32_t boxes[4] = {0, 1, 7, 64};
		pi_render_opts ro = {0};
		pi_rendition out;

		/* render: the pixel limit keeps the fuzzer's memory small */
		if (limits.max_pixels == 0)
			limits.max_pixels = 4000000;
		ro.max_w = boxes[(opt >> 5) & 3];
		ro.max_h = boxes[(opt >> 6) & 3];
		ro.max_side = 256;
		if ((opt & 0x09) == 0x09)
			ro.type = (opt & 0x02) ? PI_FORMAT_AVIF : PI_FORMAT_WEBP;
		else
			ro.type = (opt & 0x08) ? PI_FORMAT_GIF : (opt & 1) ? PI_FORMAT_JPEG : PI_FORMAT_UNKNOWN;
		limits.max_bytes = 0;
		rc = pi_render(data, size, &limits, &ro, &out, msg);
		if (rc == PI_OK)
			pi_rendition_free(&out);
		/* what is saved must be renderable (TIFF strips are checked only when read) */
		if (rc == PI_ERR_LIMIT_PIXELS &&
			(pi_detect(data, size) == PI_FORMAT_GIF || pi_detect(data, size) == PI_FORMAT_WEBP) &&
			pi_decode(data, size, PI_MODE_HEADER, &limits, &header, msg) == PI_OK)
			abort();
		return 0;
	}
	(void) pi_decode(data, size, (opt & 1) ? PI_MODE_FULL : PI_MODE_HEADER, &limits, &header, msg);
	(void) pi_describe_unsupported(data, size);
	return 0;
}
