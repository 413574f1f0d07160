/*
 * libpq_put.c
 *		The gateway's baseline: the same SQL call the gateway makes for
 *		PUT .../Image (product_save_image with the image as a binary bytea
 *		parameter of a prepared statement), made directly with libpq from
 *		N threads, one connection each, for S seconds.
 *
 *	libpq_put CONNINFO IMAGE THREADS SECONDS
 *	libpq_put CONNINFO - THREADS SECONDS PRODUCT_ID
 *		the second form is the reads' baseline: a plain SELECT of the
 *		stored bytes (binary result) of one product, no HTTP, no function;
 *		PI_BENCH_SQL replaces that SELECT ($1: the product id) to compare
 *		other reads the same way
 *	prints: requests_per_second p50_ms p99_ms errors
 */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *conninfo;
static char *image;
static long image_len;
static double seconds;
static const char *read_id;		/* the second form's product */

typedef struct worker
{
	pthread_t	thread;
	unsigned	seed;
	long		done;
	long		errors;
	double	   *lat;
	long		cap;
} worker;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
run(void *arg)
{
	worker	   *w = arg;
	PGconn	   *pg = PQconnectdb(conninfo);
	PGresult   *res;
	double		end;

	if (PQstatus(pg) != CONNECTION_OK)
	{
		fprintf(stderr, "libpq_put: %s", PQerrorMessage(pg));
		exit(1);
	}
	res = PQprepare(pg, "save", read_id ? (getenv("PI_BENCH_SQL") ? getenv("PI_BENCH_SQL") : "SELECT b.data FROM product_image.blob b WHERE b.product_id = $1::int")
					: "SELECT product_image.product_save_image($1::int, $2::bytea)", read_id ? 1 : 2, NULL);
	PQclear(res);
	end = now() + seconds;
	while (now() < end)
	{
		char		id[16];
		const char *values[2] = {id, image};
		int			lengths[2] = {0, (int) image_len};
		int			formats[2] = {0, 1};
		double		t0 = now();

		snprintf(id, sizeof(id), "%d", 1 + (int) (rand_r(&w->seed) % 1000));
		if (read_id)
			res = PQexecPrepared(pg, "save", 1, &read_id, NULL, NULL, 1);
		else
			res = PQexecPrepared(pg, "save", 2, values, lengths, formats, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			w->errors++;
		PQclear(res);
		if (w->done == w->cap)
		{
			w->cap = w->cap ? w->cap * 2 : 4096;
			w->lat = realloc(w->lat, w->cap * sizeof(double));
		}
		w->lat[w->done++] = (now() - t0) * 1000.0;
	}
	PQfinish(pg);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	FILE	   *f;
	int			n;
	worker	   *ws;
	long		total = 0,
				errors = 0,
				k = 0;
	double	   *all;
	double		t0;

	if (argc != 5 && argc != 6)
	{
		fprintf(stderr, "usage: libpq_put CONNINFO IMAGE THREADS SECONDS\n"
				"       libpq_put CONNINFO - THREADS SECONDS PRODUCT_ID\n");
		return 2;
	}
	conninfo = argv[1];
	if (argc == 6)
		read_id = argv[5];
	f = fopen(argc == 6 ? "/dev/null" : argv[2], "rb");
	if (f == NULL)
		return 2;
	fseek(f, 0, SEEK_END);
	image_len = ftell(f);
	fseek(f, 0, SEEK_SET);
	image = malloc(image_len);
	if (fread(image, 1, image_len, f) != (size_t) image_len)
		return 2;
	fclose(f);
	n = atoi(argv[3]);
	seconds = atof(argv[4]);
	ws = calloc(n, sizeof(worker));
	t0 = now();
	for (int i = 0; i < n; i++)
	{
		ws[i].seed = 1234 + i;
		pthread_create(&ws[i].thread, NULL, run, &ws[i]);
	}
	for (int i = 0; i < n; i++)
	{
		pthread_join(ws[i].thread, NULL);
		total += ws[i].done;
		errors += ws[i].errors;
	}
	t0 = now() - t0;
	all = malloc((total ? total : 1) * sizeof(double));
	for (int i = 0; i < n; i++)
		for (long j = 0; j < ws[i].done; j++)
			all[k++] = ws[i].lat[j];
	qsort(all, total, sizeof(double), cmp);
	printf("%.1f %.2f %.2f %ld\n", total / t0, total ? all[total / 2] : 0.0,
		   total ? all[(long) (total * 0.99)] : 0.0, errors);
	return 0;
}
