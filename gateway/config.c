/*
 * config.c
 *		The gateway's settings and their defaults (set from options in main.c).
 */
#include "gateway.h"

#include <time.h>

gw_config	gw = {
	.db_uri = NULL,
	.listen_host = "127.0.0.1",
	.listen_port = 8080,
	.max_body = 32u * 1024u * 1024u,
	.pool_size = 8,
	.threads = 0,
	.max_connections = 1000,
	.timeout_seconds = 30,
	.head_timeout_seconds = 10,
	.min_body_rate = 1024,
	.statement_timeout_ms = 30000,
	.render_slots = 0,
	.render_probe_ms = 250,
	.stream_slice = 256 * 1024,
	.max_held_bytes = 256L * 1024 * 1024,
	.rendition_max_age = 0,
	.read_max_lag_ms = 5000,
	.read_own_writes_ms = 5000,
	.quiet = 0,
};

int64_t
gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
