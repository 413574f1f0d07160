/*
 * thumb.c
 *		In-process thumbnail timings: our pi_render against libjpeg-turbo's
 *		own scaled decode of the same file at the same DCT scale (the floor:
 *		entropy decoding of every coefficient, nothing else).
 *
 *	thumb BOX REPEAT FILE...   one line per file: file, ours_ms, floor_ms
 *	(medians; floor_ms is "-" for non-JPEG files)
 */
#include "decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jpeglib.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* libjpeg-turbo alone: header, scaled decode to RGB rows, as pi_render picks the scale. */
static void
jpeg_floor(const uint8_t *data, size_t len, unsigned box)
{
	struct jpeg_decompress_struct cinfo;
	struct jpeg_error_mgr err;
	JSAMPARRAY row;

	cinfo.err = jpeg_std_error(&err);
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, data, (unsigned long) len);
	jpeg_read_header(&cinfo, TRUE);
	{
		double		s = (double) box / (cinfo.image_width > cinfo.image_height ? cinfo.image_width : cinfo.image_height);
		unsigned	tw = (unsigned) (cinfo.image_width * s + 0.5),
					th = (unsigned) (cinfo.image_height * s + 0.5);

		cinfo.scale_num = 1;
		cinfo.scale_denom = 1;
		for (unsigned d = 8; d >= 2; d /= 2)
			if ((cinfo.image_width + d - 1) / d >= tw && (cinfo.image_height + d - 1) / d >= th)
			{
				cinfo.scale_denom = d;
				break;
			}
	}
	cinfo.out_color_space = JCS_RGB;
	jpeg_start_decompress(&cinfo);
	row = (*cinfo.mem->alloc_sarray) ((j_common_ptr) &cinfo, JPOOL_IMAGE,
									  cinfo.output_width * 3, 1);
	while (cinfo.output_scanline < cinfo.output_height)
		jpeg_read_scanlines(&cinfo, row, 1);
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
}

int
main(int argc, char **argv)
{
	unsigned	box;
	int			repeat;

	if (argc < 4)
	{
		fprintf(stderr, "usage: thumb BOX REPEAT FILE...\n");
		return 2;
	}
	box = (unsigned) atoi(argv[1]);
	repeat = atoi(argv[2]);
	for (int f = 3; f < argc; f++)
	{
		FILE	   *fp = fopen(argv[f], "rb");
		uint8_t    *data;
		long		len;
		double	   *ours = calloc((size_t) repeat, sizeof(double)),
				   *floor_ms = calloc((size_t) repeat, sizeof(double));
		int			is_jpeg;
		pi_render_opts ro = {0};
		pi_limits	limits = {0, 0, NULL, NULL};

		if (fp == NULL)
			return 2;
		fseek(fp, 0, SEEK_END);
		len = ftell(fp);
		fseek(fp, 0, SEEK_SET);
		data = malloc((size_t) len);
		if (fread(data, 1, (size_t) len, fp) != (size_t) len)
			return 2;
		fclose(fp);
		is_jpeg = pi_detect(data, (size_t) len) == PI_FORMAT_JPEG;
		ro.max_w = ro.max_h = box;
		ro.png_level = -1;
		limits.max_bytes = (uint64_t) len;
		/* interleaved, after one warm-up of each */
		for (int r = -1; r < repeat; r++)
		{
			pi_rendition out;
			char		msg[PI_MESSAGE_LEN];
			double		t = now_ms();

			if (pi_render(data, (size_t) len, &limits, &ro, &out, msg) != PI_OK)
			{
				fprintf(stderr, "thumb: %s: %s\n", argv[f], msg);
				return 1;
			}
			pi_rendition_free(&out);
			if (r >= 0)
				ours[r] = now_ms() - t;
			if (is_jpeg)
			{
				t = now_ms();
				jpeg_floor(data, (size_t) len, box);
				if (r >= 0)
					floor_ms[r] = now_ms() - t;
			}
		}
		qsort(ours, (size_t) repeat, sizeof(double), cmp_double);
		qsort(floor_ms, (size_t) repeat, sizeof(double), cmp_double);
		if (is_jpeg)
			printf("%s\t%.2f\t%.2f\n", argv[f], ours[repeat / 2], floor_ms[repeat / 2]);
		else
			printf("%s\t%.2f\t-\n", argv[f], ours[repeat / 2]);
		free(data);
		free(ours);
		free(floor_ms);
	}
	return 0;
}
