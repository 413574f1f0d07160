/*
 * tools/pi_inspect.c
 *		Run the decoder on files, outside PostgreSQL: one tab-separated line
 *		per file.  Used by the corpus conformance run, the crasher replay and
 *		the decode benchmark.
 *
 *	pi-inspect [--full] [--max-pixels N] [--max-bytes N] [--repeat N] FILE...
 *	pi-inspect --render W H TYPE [--out PATH] [--quality Q] [--webp-quality Q]
 *			   [--avif-quality Q] [--avif-speed S] [--repeat N] FILE...
 *	--cancel-after N: the cancelled() callback says stop on its Nth call (tests)
 *
 * Columns: path, code, format, width, height, frames, bit_depth, channels,
 * color_type, has_alpha, interlaced, orientation, message.
 * With --render (W, H: 0 for "not given"; TYPE png, jpeg, gif, webp, avif or auto, any case,
 * aliases such as jpg; --quality is JPEG's):
 * path, code, format, width, height, bytes, message; --out writes the last
 * file's rendition.
 * Exit status 0 even when files are rejected; 2 on usage or I/O errors.
 */
#include "decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long cancel_after = -1;
static long cancel_calls;

static int
cancel_after_n(void *arg)
{
	(void) arg;
	return cancel_after >= 0 && ++cancel_calls >= cancel_after;
}

/* Read a whole file into a malloc'd buffer. */
static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *buf = NULL;
	size_t		cap = 0,
				n = 0;

	if (f == NULL)
		return NULL;
	for (;;)
	{
		size_t		got;

		if (n == cap)
		{
			uint8_t    *nb;

			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (nb == NULL)
			{
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		if (got == 0)
			break;
		n += got;
	}
	fclose(f);
	*len = n;
	return buf;
}

int
main(int argc, char **argv)
{
	pi_mode		mode = PI_MODE_HEADER;
	pi_limits	limits = {0, 0, NULL, NULL};
	long		repeat = 1;
	int			i,
				render = 0;
	pi_render_opts ro;
	const char *out_path = NULL;

	memset(&ro, 0, sizeof(ro));

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++)
	{
		if (strcmp(argv[i], "--full") == 0)
			mode = PI_MODE_FULL;
		else if (strcmp(argv[i], "--max-pixels") == 0 && i + 1 < argc)
			limits.max_pixels = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--max-bytes") == 0 && i + 1 < argc)
			limits.max_bytes = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
			repeat = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--render") == 0 && i + 3 < argc)
		{
			render = 1;
			ro.max_w = (uint32_t) strtoul(argv[++i], NULL, 10);
			ro.max_h = (uint32_t) strtoul(argv[++i], NULL, 10);
			i++;
			ro.type = pi_format_from_type_name(argv[i]);	/* "JPG" too; "auto": the source's */
			ro.png_level = -1;
		}
		else if (strcmp(argv[i], "--quality") == 0 && i + 1 < argc)
			ro.jpeg_quality = atoi(argv[++i]);
		else if (strcmp(argv[i], "--webp-quality") == 0 && i + 1 < argc)
			ro.webp_quality = atoi(argv[++i]);
		else if (strcmp(argv[i], "--avif-quality") == 0 && i + 1 < argc)
			ro.avif_quality = atoi(argv[++i]);
		else if (strcmp(argv[i], "--avif-speed") == 0 && i + 1 < argc)
			ro.avif_speed = atoi(argv[++i]);
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out_path = argv[++i];
		else if (strcmp(argv[i], "--cancel-after") == 0 && i + 1 < argc)
		{
			cancel_after = strtol(argv[++i], NULL, 10);
			limits.cancelled = cancel_after_n;
		}
		else
		{
			fprintf(stderr, "usage: pi-inspect [--full] [--max-pixels N] [--max-bytes N] [--repeat N] FILE...\n"
					"       pi-inspect --render W H png|jpeg|gif|webp|avif|auto [--out PATH] [--quality Q]\n"
					"                  [--webp-quality Q] [--avif-quality Q] [--avif-speed S] [--repeat N] FILE...\n");
			return 2;
		}
	}
	for (; i < argc; i++)
	{
		size_t		len = 0;
		uint8_t    *data = read_file(argv[i], &len);
		pi_header	h;
		char		msg[PI_MESSAGE_LEN];
		int			rc = 0;

		cancel_calls = 0;
		if (data == NULL)
		{
			fprintf(stderr, "pi-inspect: cannot read %s\n", argv[i]);
			return 2;
		}
		if (render)
		{
			pi_rendition out = {0};

			for (long r = 0; r < repeat; r++)
			{
				pi_rendition_free(&out);
				rc = pi_render(data, len, &limits, &ro, &out, msg);
			}
			for (char *p = msg; *p; p++)
				if (*p == '\t' || *p == '\n' || *p == '\r')
					*p = ' ';
			printf("%s\t%d\t%s\t%u\t%u\t%zu\t%s\n", argv[i], rc,
				   rc == 0 ? pi_format_name(out.format) : "-", out.width, out.height,
				   out.len, rc == 0 ? "" : msg);
			if (rc == 0 && out_path != NULL)
			{
				FILE	   *f = fopen(out_path, "wb");

				if (f == NULL || fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0)
				{
					fprintf(stderr, "pi-inspect: cannot write %s\n", out_path);
					return 2;
				}
			}
			pi_rendition_free(&out);
			free(data);
			continue;
		}
		for (long r = 0; r < repeat; r++)
			rc = pi_decode(data, len, mode, &limits, &h, msg);
		for (char *p = msg; *p; p++)
			if (*p == '\t' || *p == '\n' || *p == '\r')
				*p = ' ';
		printf("%s\t%d\t%s\t%u\t%u\t%u\t%d\t%d\t%s\t%d\t%d\t%d\t%s\n",
			   argv[i], rc, rc == 0 ? pi_format_name(h.format) : "-",
			   h.width, h.height, h.frames, h.bit_depth, h.channels,
			   h.color_type[0] ? h.color_type : "-", h.has_alpha, h.interlaced,
			   h.orientation, rc == 0 ? "" : msg);
		free(data);
	}
	return 0;
}
