/*
 * decode_sink.h
 *		decode.c's one entry that is not public: pi_decode with a sink, for
 *		render.c (the floor above).
 */
#ifndef PI_DECODE_SINK_H
#define PI_DECODE_SINK_H

#include "sink.h"

/* pi_decode, delivering the first frame's pixels to sink when not NULL. */
extern int	pi_decode_sink(const uint8_t *data, size_t len, pi_mode mode,
						   const pi_limits *limits, pi_header *header, char *msg,
						   pi_sink *sink);

#endif							/* PI_DECODE_SINK_H */
