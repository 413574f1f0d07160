/*
 * decode_gif.c
 *		GIF header and stream validation with giflib.
 *
 * giflib returns error codes (no longjmp).  Header mode walks the block
 * structure (extensions and the LZW sub-blocks of every frame, without
 * decompressing) to count frames; full mode decompresses every line of
 * every frame into one line buffer.  A file that ends cleanly after a
 * complete frame but lacks the trailer byte is accepted, as browsers and
 * Pillow do, and so is a stray byte between blocks.  The reported size is
 * the logical screen, grown to hold a first frame drawn past it.
 */
#include "decode_internal.h"

#include <gif_lib.h>
#include <stdlib.h>
#include <string.h>

typedef struct gif_src
{
	pi_job	   *job;
	size_t		pos;
} gif_src;

/* giflib input callback: copy up to n bytes, fewer at the end. */
static int
gif_read_mem(GifFileType *gif, GifByteType *out, int n)
{
	gif_src    *src = (gif_src *) gif->UserData;
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
gif_error(pi_job *job, int err)
{
	const char *s = GifErrorString(err);

	if (err == D_GIF_ERR_NOT_ENOUGH_MEM)
		return pi_fail(job, PI_ERR_NOMEM, "giflib: %s", s ? s : "out of memory");
	return pi_fail(job, PI_ERR_CORRUPT, "giflib: %s", s ? s : "unknown error");
}

int
pi_decode_gif(pi_job *job)
{
	pi_header  *h = job->header;
	gif_src		src = {job, 0};
	GifFileType *gif;
	GifByteType *line = NULL;
	int			err = 0,
				rc = PI_OK;
	uint32_t	frames = 0;

	gif = DGifOpen(&src, gif_read_mem, &err);
	if (gif == NULL)
		return gif_error(job, err);

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
			rc = gif_error(job, gif->Error);
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
				rc = gif_error(job, gif->Error);
				goto done;
			}
			while (ext != NULL)
			{
				if (code == GRAPHICS_EXT_FUNC_CODE && ext[0] >= 4 && (ext[1] & 1))
					h->has_alpha = 1;
				code = -1;		/* only the first sub-block carries the flags */
				if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR)
				{
					rc = gif_error(job, gif->Error);
					goto done;
				}
			}
		}
		else if (type == IMAGE_DESC_RECORD_TYPE)
		{
			uint32_t	fw,
						fh;

			if (DGifGetImageDesc(gif) == GIF_ERROR)
			{
				rc = gif_error(job, gif->Error);
				goto done;
			}
			fw = (uint32_t) gif->Image.Width;
			fh = (uint32_t) gif->Image.Height;
			/* the canvas grows to hold a first frame drawn past the screen, as in Pillow */
			if (frames == 0 && (uint32_t) gif->Image.Left + fw > h->width)
				h->width = (uint32_t) gif->Image.Left + fw;
			if (frames == 0 && (uint32_t) gif->Image.Top + fh > h->height)
				h->height = (uint32_t) gif->Image.Top + fh;
			if (frames == 0)
				h->interlaced = gif->Image.Interlace ? 1 : 0;
			rc = pi_add_frame(job, fw, fh);
			if (rc != PI_OK)
				goto done;
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
						rc = gif_error(job, gif->Error);
						goto done;
					}
			}
			else
			{
				int			codesize;
				GifByteType *block;

				if (DGifGetCode(gif, &codesize, &block) == GIF_ERROR)
				{
					rc = gif_error(job, gif->Error);
					goto done;
				}
				while (block != NULL)
					if (DGifGetCodeNext(gif, &block) == GIF_ERROR)
					{
						rc = gif_error(job, gif->Error);
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
