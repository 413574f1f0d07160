/*
 * fuzz_request.c
 *		libFuzzer target for the gateway's request handling, without a
 *		network: the pure parsers (method, the route table, Accept,
 *		Content-Type, If-None-Match, Range, dates, origins, the multipart
 *		epilogue) get the input as a string, and the whole input goes as
 *		one HTTP request through libmicrohttpd and our access handler over a
 *		socketpair (MHD_add_connection).  The database is unreachable on
 *		purpose, so requests that pass validation end in a fast 503.
 */
#include "gateway.h"
#include "lifecycle.h"
#include "resources.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct MHD_Daemon *daemon_;

static void
start(void)
{
	signal(SIGPIPE, SIG_IGN);
	gw.db_uri = "host=/nonexistent/pi-fuzz port=1 connect_timeout=1";
	gw.anon_role = "fuzz";
	gw.jwt_secret = "0123456789abcdef0123456789abcdef";
	gw.max_body = 64 * 1024;
	gw.pool_size = 2;
	gw.max_connections = 100;
	gw.quiet = 1;
	gw_pool_init();
	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC,
							   0, NULL, NULL, gw_access_handler, NULL,
							   MHD_OPTION_NOTIFY_COMPLETED, gw_request_completed, NULL,
							   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 16 * 1024,
							   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 1,
							   MHD_OPTION_STRICT_FOR_CLIENT, (int) 1,
							   MHD_OPTION_UNESCAPE_CALLBACK, gw_unescape_callback, NULL,
							   MHD_OPTION_END);
	if (daemon_ == NULL)
		abort();
}

/* The pure parsers, on the input as a NUL-terminated string. */
static void
parsers(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size + 1);
	gw_route	route;
	const char *declared;

	if (s == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	for (int m = GW_GET; m <= GW_OTHER; m++)
		gw_find_route((gw_method) m, s, &route);
	(void) gw_parse_method(s);
	(void) gw_negotiate(s);
	(void) gw_accept_image_type(s);
	{
		gw_rendition rd;
		const char *bad;

		(void) gw_parse_rendition(s, s, s, s, &rd, &bad);
	}
	(void) gw_body_kind_of(s, &declared);
	free(gw_etag_list(s));
	{
		uint64_t	first,
					last;
		gw_epilogue e;

		(void) gw_parse_range(s, NULL, "\"x\"", size, &first, &last);
		(void) gw_http_time(s);
		(void) gw_origin_listed(s, "http://a");
		(void) gw_cross_site("http://a", s, s, s);
		gw_epilogue_init(&e, s);
		(void) gw_epilogue_cut(&e, s, size);
	}
	(void) gw_unescape(s);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int			sv[2];
	struct sockaddr_in addr;
	size_t		sent = 0;
	char		buf[4096];

	if (daemon_ == NULL)
		start();
	parsers(data, size);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 0;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (MHD_add_connection(daemon_, sv[0], (struct sockaddr *) &addr, sizeof(addr)) != MHD_YES)
	{
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	/* send, reading answers as they come so neither side blocks */
	for (int rounds = 0; rounds < 2000; rounds++)
	{
		struct pollfd p = {sv[1], POLLIN | (sent < size ? POLLOUT : 0), 0};

		if (poll(&p, 1, 100) <= 0)
			break;
		if (p.revents & POLLIN)
		{
			ssize_t		n = read(sv[1], buf, sizeof(buf));

			if (n <= 0)
				break;
		}
		if (sent < size && (p.revents & POLLOUT))
		{
			ssize_t		n = write(sv[1], data + sent, size - sent);

			if (n <= 0)
				break;
			sent += (size_t) n;
			if (sent == size)
				shutdown(sv[1], SHUT_WR);
		}
		if (p.revents & (POLLHUP | POLLERR))
			break;
	}
	close(sv[1]);
	return 0;
}
