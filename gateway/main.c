/*
 * main.c
 *		product-image-gateway: options, the libmicrohttpd daemon, and a
 *		graceful SIGTERM (stop accepting, finish in-flight requests, exit 0).
 */
#include "gateway.h"
#include "lifecycle.h"
#include "call.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


/*
 * Every option, once: its name, environment variable, where it goes, its
 * bounds and its help line.  getopt_long, the environment and --help are
 * all read from this table.
 */
typedef enum opt_kind
{
	OPT_TEXT,					/* a string */
	OPT_TEXT_OR_NONE,			/* a string; empty means none (NULL) */
	OPT_INT,					/* an int within [min, max] */
	OPT_SIZE,					/* a size_t within [min, max] */
	OPT_LONG,					/* a long within [min, max] */
	OPT_LISTEN					/* HOST:PORT, [IPv6]:PORT */
} opt_kind;

typedef struct opt_def
{
	const char *name;
	const char *env;
	const char *metavar;
	opt_kind	kind;
	void	   *target;
	long		min;
	long		max;
	const char *help;			/* what it does; the default in parentheses */
} opt_def;

static const opt_def options[] = {
	{"db-uri", "PRODUCT_IMAGE_DB_URI", "CONNINFO", OPT_TEXT, &gw.db_uri, 0, 0,
	"libpq URI or key=value string of the authenticator role (required)"},
	{"listen", "PRODUCT_IMAGE_LISTEN", "HOST:PORT", OPT_LISTEN, NULL, 0, 0,
	"address to listen on, IPv4, [IPv6] or a name (127.0.0.1:8080)"},
	{"jwt-secret", "PRODUCT_IMAGE_JWT_SECRET", "S", OPT_TEXT, &gw.jwt_secret, 0, 0,
	"HS256 secret for Bearer tokens, at least 32 characters (none: Bearer is refused)"},
	{"anon-role", "PRODUCT_IMAGE_ANON_ROLE", "R", OPT_TEXT_OR_NONE, &gw.anon_role, 0, 0,
	"role for requests without credentials (none: such requests get 401)"},
	{"max-body", "PRODUCT_IMAGE_MAX_BODY", "BYTES", OPT_SIZE, &gw.max_body, 1, INT_MAX,
	"largest request body (33554432)"},
	{"pool", "PRODUCT_IMAGE_POOL", "N", OPT_INT, &gw.pool_size, 1, 1000,
	"database connections to each server (the primary, the replica, each partition) (8)"},
	{"threads", "PRODUCT_IMAGE_THREADS", "N", OPT_INT, &gw.threads, 0, 256,
	"a pool of N HTTP worker threads; 0: a thread per connection (0)"},
	{"max-connections", "PRODUCT_IMAGE_MAX_CONNECTIONS", "N", OPT_INT, &gw.max_connections, 1, 100000,
	"open client connections before 503 (1000)"},
	{"timeout", "PRODUCT_IMAGE_TIMEOUT", "SECONDS", OPT_INT, &gw.timeout_seconds, 1, 3600,
	"idle/slow client timeout (30)"},
	{"head-timeout", "PRODUCT_IMAGE_HEAD_TIMEOUT", "SECONDS", OPT_INT, &gw.head_timeout_seconds, 1, 3600,
	"deadline for a whole request head, from the connection or the previous answer (10)"},
	{"min-body-rate", "PRODUCT_IMAGE_MIN_BODY_RATE", "BYTES/S", OPT_INT, &gw.min_body_rate, 0, INT_MAX,
	"slowest body upload, averaged, after --head-timeout seconds; 0: none (1024)"},
	{"statement-timeout", "PRODUCT_IMAGE_STATEMENT_TIMEOUT", "MS", OPT_INT, &gw.statement_timeout_ms, 0, INT_MAX,
	"longest database work per request, 0 for none; past it the answer is 503 (30000)"},
	{"render-slots", "PRODUCT_IMAGE_RENDER_SLOTS", "N", OPT_INT, &gw.render_slots, 0, 1000,
	"renditions rendered at once; past them a rendition is served only from the cache, "
	"else 503 + Retry-After (--pool / 4, at least 1)"},
	{"stream-slice", "PRODUCT_IMAGE_STREAM_SLICE", "BYTES", OPT_INT, &gw.stream_slice, 0, 64 * 1024 * 1024,
	"originals larger than this are sent in slices of it, each read in its own transaction, "
	"when the database has product_get_image_part; 0: never (262144)"},
	{"max-held-bytes", "PRODUCT_IMAGE_MAX_HELD_BYTES", "BYTES", OPT_LONG, &gw.max_held_bytes, 1, LONG_MAX,
	"whole answers (renditions, originals under --stream-slice) held for all clients at once; "
	"past it 503 + Retry-After (268435456)"},
	{"rendition-max-age", "PRODUCT_IMAGE_RENDITION_MAX_AGE", "SECONDS", OPT_INT, &gw.rendition_max_age, 0, 31536000,
	"Cache-Control max-age of GET Image with w, h, type or ifBlank; 0: no-cache, revalidated "
	"by ETag; a URL with v= naming the bytes is cached for good either way (0)"},
	{"cors-origins", "PRODUCT_IMAGE_CORS_ORIGINS", "ORIGINS", OPT_TEXT_OR_NONE, &gw.cors_origins, 0, 0,
	"origins browsers may call the API from, comma-separated (https://shop.example), or *; "
	"listed origins may send credentials, * may not (none)"},
	{"session-secret", "PRODUCT_IMAGE_SESSION_SECRET", "S", OPT_TEXT, &gw.session_secret, 0, 0,
	"signs the pi_session cookie and its XSRF token, at least 32 characters "
	"(none: POST /api/v1/Session is refused)"},
	{"session-ttl", "PRODUCT_IMAGE_SESSION_TTL", "SECONDS", OPT_INT, &gw.session_ttl, 60, 31536000,
	"a session ends this long after its login (28800)"},
	{"app-tokens", "PRODUCT_IMAGE_APP_TOKENS", "FILE", OPT_TEXT_OR_NONE, &gw.app_tokens_file, 0, 0,
	"SO-AppToken values to accept, one a line, # comments; a request without one of them is 401 "
	"(none: any or no token)"},
	{"locale-dir", "PRODUCT_IMAGE_LOCALE_DIR", "DIR", OPT_TEXT, &gw.locale_dir, 0, 0,
	"the message catalogs (DIR/C.UTF-8/LC_MESSAGES/product-image-gateway.LANG.mo) "
	"(locale/ beside the executable)"},
	{"hosts", "PRODUCT_IMAGE_HOSTS", "NAMES", OPT_TEXT_OR_NONE, &gw.hosts, 0, 0,
	"Host names requests may name, comma-separated, or * (the loopback names when listening on "
	"loopback, else *): a page of another name reaching us (DNS rebinding) gets 421"},
	{"fast-path", "PRODUCT_IMAGE_FAST_PATH", "0|1", OPT_INT, &gw.fast_path, 0, 1,
	"when --db-uri is a PL/Proxy node, send requests with a product id straight to its partition, "
	"learning the partition map from the proxy; 0: always through the proxy (1)"},
	{"read-db-uri", "PRODUCT_IMAGE_READ_DB_URI", "URI", OPT_TEXT_OR_NONE, &gw.read_db_uri, 0, 0,
	"a streaming replica for GET routes; the primary serves them when it is down or behind"},
	{"read-max-lag", "PRODUCT_IMAGE_READ_MAX_LAG", "MS", OPT_INT, &gw.read_max_lag_ms, 0, INT_MAX,
	"replica lag past which reads go to the primary (5000)"},
	{"read-own-writes", "PRODUCT_IMAGE_READ_OWN_WRITES", "MS", OPT_INT, &gw.read_own_writes_ms, 0, INT_MAX,
	"after a write, reads of that product go to the primary for this long (5000)"},
};

#define NOPTIONS ((int) (sizeof(options) / sizeof(options[0])))
#define OPT_BASE 1000			/* getopt_long's value of options[i]: OPT_BASE + i */

static void
usage(FILE *out)
{
	fprintf(out,
			"usage: product-image-gateway --db-uri CONNINFO [options]\n"
			"\n"
			"Serves SuperOffice's product image routes over the product_image extension:\n"
			"  PUT|POST /api/v1/Product/{id}/Image    save (raw body or multipart/form-data)\n"
			"  GET      /api/v1/Product/{id}/Image    the stored bytes (ETag, If-None-Match)\n"
			"  DELETE   /api/v1/Product/{id}/Image    remove (204)\n"
			"  GET|PUT  /api/v1/Product/{id}/ImageInfo the BlobEntity (JSON or XML)\n"
			"  GET      /health                       200 when the database answers, else 503\n"
			"\n"
			"options (each also from the environment variable shown; the option wins):\n");
	for (int i = 0; i < NOPTIONS; i++)
		fprintf(out, "  --%s %s\n      %s\n      [%s]\n", options[i].name, options[i].metavar,
				options[i].help, options[i].env);
	fprintf(out, "  --help\n      this text\n"
			"  --sqlstate-status SQLSTATE\n      print the HTTP status it becomes (with and without credentials)\n"
			"\n"
			"One line per request goes to stderr: method, path, status, bytes in, bytes out, time.\n");
}

static long
parse_number(const char *name, const char *v, long min, long max)
{
	char	   *end;
	long		n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
	{
		fprintf(stderr, "product-image-gateway: --%s must be a number from %ld to %ld, not \"%s\"\n",
				name, min, max, v);
		exit(2);
	}
	return n;
}

/* HOST:PORT, with an IPv6 host in brackets. */
static void
set_listen(const char *v)
{
	const char *colon = strrchr(v, ':');
	const char *host = v;
	size_t		hostlen;

	if (colon == NULL || colon == v)
	{
		fprintf(stderr, "product-image-gateway: --listen must be HOST:PORT, not \"%s\"\n", v);
		exit(2);
	}
	hostlen = (size_t) (colon - v);
	if (v[0] == '[' && hostlen >= 2 && v[hostlen - 1] == ']')
	{
		host = v + 1;
		hostlen -= 2;
	}
	gw.listen_host = strndup(host, hostlen);
	gw.listen_port = (int) parse_number("listen port", colon + 1, 1, 65535);
}

static void
apply(const opt_def *o, const char *v)
{
	switch (o->kind)
	{
		case OPT_TEXT:
			*(const char **) o->target = v;
			break;
		case OPT_TEXT_OR_NONE:
			*(const char **) o->target = *v ? v : NULL;
			break;
		case OPT_INT:
			*(int *) o->target = (int) parse_number(o->name, v, o->min, o->max);
			break;
		case OPT_SIZE:
			*(size_t *) o->target = (size_t) parse_number(o->name, v, o->min, o->max);
			break;
		case OPT_LONG:
			*(long *) o->target = parse_number(o->name, v, o->min, o->max);
			break;
		case OPT_LISTEN:
			set_listen(v);
			break;
	}
}

static void
configure(int argc, char **argv)
{
	struct option longopts[NOPTIONS + 3];
	int			c,
				index;

	for (int i = 0; i < NOPTIONS; i++)
	{
		const char *v = getenv(options[i].env);

		if (v && *v)
			apply(&options[i], v);
		longopts[i] = (struct option) {options[i].name, required_argument, NULL, OPT_BASE + i};
	}
	longopts[NOPTIONS] = (struct option) {"help", no_argument, NULL, 'h'};
	longopts[NOPTIONS + 1] = (struct option) {"sqlstate-status", required_argument, NULL, 's'};
	longopts[NOPTIONS + 2] = (struct option) {NULL, 0, NULL, 0};
	opterr = 0;
	/* a leading ':' makes a missing value ':' and leaves '?' for an unknown option */
	while ((c = getopt_long(argc, argv, ":h", longopts, &index)) != -1)
	{
		if (c == 's')
		{
			/* the status a SQLSTATE becomes, with and without credentials */
			printf("%s %d %d\n", optarg, gw_status_for_sqlstate(optarg, 1), gw_status_for_sqlstate(optarg, 0));
			exit(0);
		}
		if (c == 'h')
		{
			usage(stdout);
			exit(0);
		}
		if (c == ':')
		{
			fprintf(stderr, "product-image-gateway: %s needs a value\n", argv[optind - 1]);
			exit(2);
		}
		if (c < OPT_BASE || c >= OPT_BASE + NOPTIONS)
		{
			fprintf(stderr, "product-image-gateway: unknown option %s (see --help)\n", argv[optind - 1]);
			exit(2);
		}
		apply(&options[c - OPT_BASE], optarg);
	}
	if (optind < argc)
	{
		fprintf(stderr, "product-image-gateway: unexpected argument \"%s\" (see --help)\n", argv[optind]);
		exit(2);
	}
	if (gw.db_uri == NULL)
	{
		fprintf(stderr, "product-image-gateway: --db-uri (or PRODUCT_IMAGE_DB_URI) is required\n");
		exit(2);
	}
	if (gw.render_slots > 0 && gw.pool_size > 1 && gw.render_slots >= gw.pool_size)
	{
		fprintf(stderr, "product-image-gateway: --render-slots must be less than --pool, "
				"so that plain reads and writes always find a connection\n");
		exit(2);
	}
	if (gw.jwt_secret && strlen(gw.jwt_secret) < 32)
	{
		fprintf(stderr, "product-image-gateway: --jwt-secret must be at least 32 characters\n");
		exit(2);
	}
	if (gw.session_secret && strlen(gw.session_secret) < 32)
	{
		fprintf(stderr, "product-image-gateway: --session-secret must be at least 32 characters\n");
		exit(2);
	}
	if (gw.app_tokens_file && gw_load_app_tokens(gw.app_tokens_file) != 0)
	{
		fprintf(stderr, "product-image-gateway: cannot read --app-tokens %s\n", gw.app_tokens_file);
		exit(2);
	}
	{
		/* the catalogs: --locale-dir, else locale/ beside the executable */
		char		exe[4096],
					dir[4200];
		ssize_t		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		char	   *slash;

		exe[n > 0 ? n : 0] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		snprintf(dir, sizeof(dir), "%s/locale", exe);
		if (gw_i18n_init(gw.locale_dir ? gw.locale_dir : dir) != 0)
		{
			fprintf(stderr, "product-image-gateway: no C.UTF-8 locale for the message catalogs\n");
			exit(2);
		}
	}
}

/* The listen address by getaddrinfo: IPv4, IPv6 or a name; the first that resolves. */
static struct addrinfo *
listen_address(void)
{
	struct addrinfo hints,
			   *res = NULL;
	char		port[16];
	int			rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", gw.listen_port);
	rc = getaddrinfo(gw.listen_host, port, &hints, &res);
	if (rc != 0)
	{
		fprintf(stderr, "product-image-gateway: cannot use listen address \"%s\": %s\n",
				gw.listen_host, gai_strerror(rc));
		return NULL;
	}
	return res;
}

int
main(int argc, char **argv)
{
	struct addrinfo *addr;
	unsigned int ipv6;
	struct MHD_Daemon *d;
	sigset_t	sigs;
	int			sig = 0;

	configure(argc, argv);
	setvbuf(stderr, NULL, _IOLBF, 0);

	addr = listen_address();
	if (addr == NULL)
		return 2;
	ipv6 = addr->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0;
	if (gw_pool_init() != 0 || gw_partitions_start() != 0)
		return 1;

	/* every thread inherits the blocked signals; main waits for them */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/*
	 * A handler blocks on PostgreSQL, so by default every connection has its
	 * own thread: with a pool, connections that share a busy thread wait
	 * behind its database call (measured: 8 clients got ~10-30% less).
	 */
	if (gw.threads > 0)
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
							 MHD_USE_ERROR_LOG | ipv6,
							 (uint16_t) gw.listen_port, NULL, NULL, gw_access_handler, NULL,
							 MHD_OPTION_SOCK_ADDR, addr->ai_addr,
							 MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) gw.threads,
							 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) gw.max_connections + 64,
							 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) gw.timeout_seconds,
							 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024,
							 MHD_OPTION_NOTIFY_COMPLETED, gw_request_completed, NULL,
							 MHD_OPTION_NOTIFY_CONNECTION, gw_connection_notify, NULL,
							 MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int) 1024,
							 MHD_OPTION_STRICT_FOR_CLIENT, (int) 1,
							 MHD_OPTION_UNESCAPE_CALLBACK, gw_unescape_callback, NULL,
							 MHD_OPTION_END);
	else
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
							 MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG | ipv6,
							 (uint16_t) gw.listen_port, NULL, NULL, gw_access_handler, NULL,
							 MHD_OPTION_SOCK_ADDR, addr->ai_addr,
							 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) gw.max_connections + 64,
							 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) gw.timeout_seconds,
							 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024,
							 MHD_OPTION_THREAD_STACK_SIZE, (size_t) 256 * 1024,
							 MHD_OPTION_NOTIFY_COMPLETED, gw_request_completed, NULL,
							 MHD_OPTION_NOTIFY_CONNECTION, gw_connection_notify, NULL,
							 MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int) 1024,
							 MHD_OPTION_STRICT_FOR_CLIENT, (int) 1,
							 MHD_OPTION_UNESCAPE_CALLBACK, gw_unescape_callback, NULL,
							 MHD_OPTION_END);
	if (d == NULL)
	{
		fprintf(stderr, "product-image-gateway: cannot listen on %s:%d\n",
				gw.listen_host, gw.listen_port);
		return 1;
	}
	fprintf(stderr, "product-image-gateway: listening on http://%s%s%s:%d\n",
			ipv6 ? "[" : "", gw.listen_host, ipv6 ? "]" : "", gw.listen_port);
	{
		pthread_t	wd;

		if (pthread_create(&wd, NULL, gw_watchdog, NULL) != 0)
		{
			fprintf(stderr, "product-image-gateway: cannot start the watchdog thread\n");
			return 1;
		}
		pthread_detach(wd);
	}

	while (sigwait(&sigs, &sig) != 0)
		;
	fprintf(stderr, "product-image-gateway: signal %d, finishing in-flight requests\n", sig);
	{
		MHD_socket	ls = MHD_quiesce_daemon(d);
		struct timespec pause = {0, 20 * 1000 * 1000};

		if (ls != MHD_INVALID_SOCKET)
			close(ls);
		for (int i = 0; i < 30 * 50 && atomic_load(&gw_active_requests) > 0; i++)
			nanosleep(&pause, NULL);
	}
	MHD_stop_daemon(d);
	gw_pool_shutdown();
	fprintf(stderr, "product-image-gateway: stopped\n");
	return 0;
}
