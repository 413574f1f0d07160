/*
 * fuzz_decode.c
 *		libFuzzer target for src/decode: the last input byte picks the options
 *		(mode, pixel limit, byte limit), so one target covers the whole API.
 */
#include "decode.h"

#include <stddef.h>
#include <stdint.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t pixel_limits[4] = {0, 1000000, 10000, 64};
	pi_limits	limits = {0, 0};
	pi_header	header;
	char		msg[PI_MESSAGE_LEN];
	uint8_t		opt;

	if (size == 0)
		return 0;
	opt = data[size - 1];
	size--;
	limits.max_pixels = pixel_limits[(opt >> 1) & 3];
	if (opt & 0x08)
		limits.max_bytes = size > 1 ? size - 1 : 1;	/* one byte too few */
	(void) pi_decode(data, size, (opt & 1) ? PI_MODE_FULL : PI_MODE_HEADER, &limits, &header, msg);
	(void) pi_describe_unsupported(data, size);
	return 0;
}
