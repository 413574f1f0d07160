/*
 * codec_gif.c
 *		GIF with giflib: header and stream validation, the first frame's
 *		canvas rows for rendering, encoder.
 *
 * giflib returns error codes (no longjmp).  Header mode walks the block
 * structure (extensions and the LZW sub-blocks of every frame, without
 * decompressing) to count frames; full mode decompresses every line of
 * every frame into one line buffer.  A file that ends cleanly after a
 * complete frame but lacks the trailer byte is accepted, as browsers and
 * Pillow do, and so is a stray byte between blocks.  The reported size is
 * the logical screen, grown to hold a first frame drawn past it.
 *
 * max_pixels bounds two things here: the frames' areas summed (the work of
 * full mode, as for TIFF pages), and, on its own, the canvas: the logical
 * screen grown by every frame drawn past it, which a renderer (ours streams
 * every canvas row; Pillow's seek grows and bomb-checks it) must produce.
 * The canvas is not added to the sum, so a GIF whose frames fill its screen
 * has the limit a PNG of that size has.
 */
#include "codec.h"
#include "exif.h"
#include "sink.h"

#include <gif_lib.h>
#include <stdlib.h>
#include <string.h>

/* GIF87a or GIF89a. */
static int
pi_gif_detect(const uint8_t *d, size_t len)
{
	return len >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0);
}

typedef struct pi_gif_src
{
	pi_job	   *job;
	size_t		pos;
} pi_gif_src;

/* giflib input callback: copy up to n bytes, fewer at the end. */
static int
pi_gif_read_mem(GifFileType *gif, GifByteType *out, int n)
{
	pi_gif_src    *src = (pi_gif_src *) gif->UserData;
	size_t		left = src->job->len - src->pos;
	size_t		k = (n < 0) ? 0 : (size_t) n;

	if (k > left)
		k = left;
	memcpy(out, src->job->data + src->pos, k);
	src->pos += k;
	return (int) k;
}

/* Turn a giflib error into our code and message. */
static int
pi_gif_error(pi_job *job, int err)
{
	const char *s = GifErrorString(err);

	if (err == D_GIF_ERR_NOT_ENOUGH_MEM)
		return pi_fail(job, PI_ERR_NOMEM, "giflib: %s", s ? s : "out of memory");
	return pi_fail(job, PI_ERR_CORRUPT, "giflib: %s", s ? s : "unknown error");
}

/*
 * The canvas, w x h, against max_pixels; screen_w x screen_h is the logical
 * screen and frame the 1-based frame that grew it (0: not grown).
 */
static int
pi_gif_check_canvas(pi_job *job, uint32_t w, uint32_t h,
				 uint32_t screen_w, uint32_t screen_h, uint32_t frame)
{
	uint64_t	pixels = (uint64_t) w * h;	/* at most 131070^2: no overflow */

	if (pixels <= job->max_pixels)
		return PI_OK;
	if (frame == 0)
		return pi_fail(job, PI_ERR_LIMIT_PIXELS,
					   "GIF canvas is %u x %u = %llu pixels, the limit is %llu",
					   w, h, (unsigned long long) pixels,
					   (unsigned long long) job->max_pixels);
	return pi_fail(job, PI_ERR_LIMIT_PIXELS,
				   "GIF canvas is %u x %u = %llu pixels (the %u x %u screen grown by frame %u), the limit is %llu",
				   w, h, (unsigned long long) pixels, screen_w, screen_h, frame,
				   (unsigned long long) job->max_pixels);
}

/*
 * Rendering: the first frame, drawn on a transparent canvas of the reported
 * size.  The frame's indices are read whole (GIF interlacing completes no
 * row in order), then canvas rows stream to the sink as RGBA.  *buf is
 * freed by the caller.
 */
static int
pi_gif_render(pi_job *job, GifFileType *gif, int trans, GifByteType **buf)
{
	const pi_header *h = job->header;
	const ColorMapObject *map = gif->Image.ColorMap ? gif->Image.ColorMap : gif->SColorMap;
	uint32_t	fw = (uint32_t) gif->Image.Width,
				fh = (uint32_t) gif->Image.Height,
				left = (uint32_t) gif->Image.Left,
				top = (uint32_t) gif->Image.Top,
				want_w,
				want_h;
	GifByteType *frame;
	uint8_t    *rgba;
	int			rc;

	pi_sink_want(job, &want_w, &want_h);
	*buf = malloc((size_t) fw * fh + (size_t) h->width * 4);
	if (*buf == NULL)
		return pi_fail(job, PI_ERR_NOMEM, "cannot allocate a %u x %u frame", fw, fh);
	frame = *buf;
	rgba = *buf + (size_t) fw * fh;
	if (gif->Image.Interlace)
	{
		static const uint32_t start[4] = {0, 4, 2, 1},
					step[4] = {8, 8, 4, 2};

		for (int pass = 0; pass < 4; pass++)
			for (uint32_t y = start[pass]; y < fh; y += step[pass])
				if (DGifGetLine(gif, frame + (size_t) y * fw, (int) fw) == GIF_ERROR)
					return pi_gif_error(job, gif->Error);
				else if ((rc = pi_row_done(job)) != PI_OK)
					return rc;
	}
	else
		for (uint32_t y = 0; y < fh; y++)
			if (DGifGetLine(gif, frame + (size_t) y * fw, (int) fw) == GIF_ERROR)
				return pi_gif_error(job, gif->Error);
			else if ((rc = pi_row_done(job)) != PI_OK)
				return rc;

	rc = pi_sink_begin(job, h->width, h->height, 4);
	if (rc != PI_OK)
		return rc;
	for (uint32_t y = 0; y < h->height; y++)
	{
		memset(rgba, 0, (size_t) h->width * 4);
		if (y >= top && y - top < fh)
		{
			const GifByteType *idx = frame + (size_t) (y - top) * fw;

			for (uint32_t x = 0; x < fw && left + x < h->width; x++)
			{
				uint8_t    *o = rgba + (size_t) (left + x) * 4;

				if (idx[x] == trans)
					continue;
				if (map != NULL && idx[x] < map->ColorCount)
				{
					o[0] = map->Colors[idx[x]].Red;
					o[1] = map->Colors[idx[x]].Green;
					o[2] = map->Colors[idx[x]].Blue;
				}
				else if (map == NULL)
					o[0] = o[1] = o[2] = idx[x];	/* no palette at all: gray */
				o[3] = 255;
			}
		}
		if ((rc = pi_sink_row(job, rgba)) != PI_OK)
			return rc;
	}
	return PI_OK;
}

/* The codec's decode (codec.h): validate, or stream the first frame's canvas to the sink. */
static int
pi_gif_decode(pi_job *job)
{
	pi_header  *h = job->header;
	pi_gif_src		src = {job, 0};
	GifFileType *gif;
	GifByteType *line = NULL;
	int			err = 0,
				rc = PI_OK,
				trans = -1;		/* the first frame's transparent index */
	uint32_t	frames = 0,
				canvas_w,		/* the screen grown by every frame so far */
				canvas_h;

	gif = DGifOpen(&src, pi_gif_read_mem, &err);
	if (gif == NULL)
		return pi_gif_error(job, err);

	h->width = (uint32_t) gif->SWidth;
	h->height = (uint32_t) gif->SHeight;
	h->channels = 1;
	h->bit_depth = gif->SColorMap ? gif->SColorMap->BitsPerPixel : 8;
	strcpy(h->color_type, "palette");
	if (h->width == 0 || h->height == 0)
	{
		rc = pi_fail(job, PI_ERR_CORRUPT, "image has zero width or height (%u x %u)",
					 h->width, h->height);
		goto done;
	}
	canvas_w = h->width;
	canvas_h = h->height;
	rc = pi_gif_check_canvas(job, canvas_w, canvas_h, canvas_w, canvas_h, 0);
	if (rc != PI_OK)
		goto done;

	for (;;)
	{
		GifRecordType type;

		if (DGifGetRecordType(gif, &type) == GIF_ERROR)
		{
			/* a missing trailer after a complete frame is tolerated */
			if (frames > 0 && src.pos >= job->len && gif->Error == D_GIF_ERR_READ_FAILED)
				break;
			/* a stray byte between blocks is skipped, as browsers and Pillow do */
			if (gif->Error == D_GIF_ERR_WRONG_RECORD)
				continue;
			rc = pi_gif_error(job, gif->Error);
			goto done;
		}
		if (type == TERMINATE_RECORD_TYPE)
			break;
		if (type == EXTENSION_RECORD_TYPE)
		{
			int			code;
			GifByteType *ext;

			if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR)
			{
				rc = pi_gif_error(job, gif->Error);
				goto done;
			}
			while (ext != NULL)
			{
				if (code == GRAPHICS_EXT_FUNC_CODE && ext[0] >= 4 && frames == 0)
					trans = (ext[1] & 1) ? ext[4] : -1;
				if (code == GRAPHICS_EXT_FUNC_CODE && ext[0] >= 4 && (ext[1] & 1))
					h->has_alpha = 1;
				code = -1;		/* only the first sub-block carries the flags */
				if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR)
				{
					rc = pi_gif_error(job, gif->Error);
					goto done;
				}
			}
		}
		else if (type == IMAGE_DESC_RECORD_TYPE)
		{
			uint32_t	fw,
						fh,
						right,
						bottom;

			if (DGifGetImageDesc(gif) == GIF_ERROR)
			{
				rc = pi_gif_error(job, gif->Error);
				goto done;
			}
			fw = (uint32_t) gif->Image.Width;
			fh = (uint32_t) gif->Image.Height;
			right = (uint32_t) gif->Image.Left + fw;
			bottom = (uint32_t) gif->Image.Top + fh;
			/* the reported size grows to hold a first frame drawn past the screen, as in Pillow */
			if (frames == 0 && right > h->width)
				h->width = right;
			if (frames == 0 && bottom > h->height)
				h->height = bottom;
			if (frames == 0)
				h->interlaced = gif->Image.Interlace ? 1 : 0;
			rc = pi_add_frame(job, fw, fh);
			if (rc != PI_OK)
				goto done;
			/* the canvas, grown by any frame, before that frame's data is read */
			if (right > canvas_w || bottom > canvas_h)
			{
				canvas_w = right > canvas_w ? right : canvas_w;
				canvas_h = bottom > canvas_h ? bottom : canvas_h;
				rc = pi_gif_check_canvas(job, canvas_w, canvas_h,
									  (uint32_t) gif->SWidth, (uint32_t) gif->SHeight, frames + 1);
				if (rc != PI_OK)
					goto done;
			}
			if (job->sink != NULL)
			{
				rc = pi_gif_render(job, gif, trans, &line);
				goto done;
			}
			if (job->mode == PI_MODE_FULL)
			{
				free(line);
				line = malloc(fw);
				if (line == NULL)
				{
					rc = pi_fail(job, PI_ERR_NOMEM, "cannot allocate a line of %u bytes", fw);
					goto done;
				}
				for (uint32_t y = 0; y < fh; y++)
					if (DGifGetLine(gif, line, (int) fw) == GIF_ERROR)
					{
						rc = pi_gif_error(job, gif->Error);
						goto done;
					}
					else if ((rc = pi_row_done(job)) != PI_OK)
						goto done;
			}
			else
			{
				int			codesize;
				GifByteType *block;

				if (DGifGetCode(gif, &codesize, &block) == GIF_ERROR)
				{
					rc = pi_gif_error(job, gif->Error);
					goto done;
				}
				while (block != NULL)
					if (DGifGetCodeNext(gif, &block) == GIF_ERROR)
					{
						rc = pi_gif_error(job, gif->Error);
						goto done;
					}
			}
			frames++;
		}
		else
		{
			rc = pi_fail(job, PI_ERR_CORRUPT, "giflib: unknown record type");
			goto done;
		}
	}
	if (frames == 0)
	{
		rc = pi_fail(job, PI_ERR_CORRUPT, "GIF has no image");
		goto done;
	}
	h->frames = frames;

done:
	free(line);
	DGifCloseFile(gif, &err);
	return rc;
}

/* giflib output callback: append to the pi_buf. */
static int
pi_gif_write_mem(GifFileType *gif, const GifByteType *bytes, int n)
{
	pi_buf	   *buf = (pi_buf *) gif->UserData;

	if (n < 0 || pi_buf_append(buf, bytes, (size_t) n) != PI_OK)
		return 0;
	return n;
}

/*
 * Encode RGBA as a single-frame GIF: giflib's median-cut GifQuantizeBuffer
 * picks the palette (255 colours and a transparent index when any pixel is
 * less than half opaque).
 */
static int
pi_gif_encode(pi_job *job, const pi_frame *frame, const pi_render_opts *opts, pi_buf *out)
{
	const uint8_t *rgba = frame->rgba;
	uint32_t	w = frame->width,
				h = frame->height;
	int			has_alpha = frame->has_alpha;
	size_t		n = (size_t) w * h;
	GifByteType *planes = NULL,
			   *idx;
	GifColorType colors[256];
	ColorMapObject *map = NULL;
	GifFileType *gif = NULL;
	int			ncolors = has_alpha ? 255 : 256,
				err = 0,
				rc = PI_OK;

	if (w > 65535 || h > 65535)
		return pi_fail(job, PI_ERR_LIMIT_PIXELS, "GIF sides are at most 65535 pixels");
	planes = malloc(n * 4);
	if (planes == NULL)
		return pi_fail(job, PI_ERR_NOMEM, "cannot allocate %zu bytes", n * 4);
	idx = planes + 3 * n;
	for (size_t i = 0; i < n; i++)
	{
		planes[i] = rgba[i * 4];
		planes[n + i] = rgba[i * 4 + 1];
		planes[2 * n + i] = rgba[i * 4 + 2];
	}
	memset(colors, 0, sizeof(colors));
	if (GifQuantizeBuffer(w, h, &ncolors, planes, planes + n, planes + 2 * n, idx, colors) == GIF_ERROR)
	{
		rc = pi_fail(job, PI_ERR_NOMEM, "giflib: cannot quantize the image");
		goto done;
	}
	/*
	 * giflib's median cut works on 5 bits per channel (255 comes out as 248):
	 * set each palette entry to the mean of the pixels mapped to it.
	 */
	{
		uint64_t	sum[256][4];

		memset(sum, 0, sizeof(sum));
		for (size_t i = 0; i < n; i++)
		{
			uint64_t   *e = sum[idx[i]];

			e[0] += rgba[i * 4];
			e[1] += rgba[i * 4 + 1];
			e[2] += rgba[i * 4 + 2];
			e[3]++;
		}
		for (int c = 0; c < 256; c++)
			if (sum[c][3] > 0)
			{
				colors[c].Red = (GifByteType) ((sum[c][0] + sum[c][3] / 2) / sum[c][3]);
				colors[c].Green = (GifByteType) ((sum[c][1] + sum[c][3] / 2) / sum[c][3]);
				colors[c].Blue = (GifByteType) ((sum[c][2] + sum[c][3] / 2) / sum[c][3]);
			}
	}
	if (has_alpha)
		for (size_t i = 0; i < n; i++)
			if (rgba[i * 4 + 3] < 128)
				idx[i] = 255;
	map = GifMakeMapObject(256, colors);
	gif = EGifOpen(out, pi_gif_write_mem, &err);
	if (map == NULL || gif == NULL)
	{
		rc = pi_fail(job, PI_ERR_NOMEM, "giflib: cannot start the encoder");
		goto done;
	}
	EGifSetGifVersion(gif, true);
	if (EGifPutScreenDesc(gif, (int) w, (int) h, 8, 0, map) == GIF_ERROR)
		goto fail;
	if (has_alpha)
	{
		GifByteType gce[4] = {0x01, 0, 0, 255};	/* transparent index 255 */

		if (EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, gce) == GIF_ERROR)
			goto fail;
	}
	if (EGifPutImageDesc(gif, 0, 0, (int) w, (int) h, false, NULL) == GIF_ERROR)
		goto fail;
	for (uint32_t y = 0; y < h; y++)
		if (EGifPutLine(gif, idx + (size_t) y * w, (int) w) == GIF_ERROR)
			goto fail;
	rc = EGifCloseFile(gif, &err) == GIF_ERROR ? pi_fail(job, PI_ERR_LIMIT_BYTES, "giflib: cannot write (%d)", err) : PI_OK;
	gif = NULL;
	goto done;

fail:
	rc = pi_fail(job, PI_ERR_LIMIT_BYTES, "giflib: cannot write: %s", GifErrorString(gif->Error));
done:
	if (gif != NULL)
		EGifCloseFile(gif, &err);
	GifFreeMapObject(map);
	free(planes);
	return rc;
}

/* The file's one export: its row in the codec table (codecs.c). */
const pi_codec pi_codec_gif = {
	.format = PI_FORMAT_GIF,
	.name = "gif",
	.label = "GIF",
	.mime_type = "image/gif",
	.detect = pi_gif_detect,
	.decode = pi_gif_decode,
	.encode = pi_gif_encode,
};
