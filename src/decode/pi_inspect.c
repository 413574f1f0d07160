/*
 * pi_inspect.c
 *		Run the decoder on files, outside PostgreSQL: one tab-separated line
 *		per file.  Used by the corpus conformance run, the crasher replay and
 *		the decode benchmark.
 *
 *	pi-inspect [--full] [--max-pixels N] [--max-bytes N] [--repeat N] FILE...
 *
 * Columns: path, code, format, width, height, frames, bit_depth, channels,
 * color_type, has_alpha, interlaced, orientation, message.
 * Exit status 0 even when files are rejected; 2 on usage or I/O errors.
 */
#include "decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	pi_limits	limits = {0, 0};
	long		repeat = 1;
	int			i;

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
		else
		{
			fprintf(stderr, "usage: pi-inspect [--full] [--max-pixels N] [--max-bytes N] [--repeat N] FILE...\n");
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

		if (data == NULL)
		{
			fprintf(stderr, "pi-inspect: cannot read %s\n", argv[i]);
			return 2;
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
