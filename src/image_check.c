/*
 * image_check.c
 *		Run the decoder and turn its result codes into ereport.
 *
 * This is the one place where decoder codes become SQLSTATEs; the decoder
 * has freed everything of its own before returning, so nothing is leaked
 * by the longjmp that ereport(ERROR) performs.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "product_image.h"

/*
 * The decoder asks this between rows: a cancel, a statement timeout or a
 * termination stops it within a row's time (its loops cannot take
 * CHECK_FOR_INTERRUPTS' longjmp themselves).
 */
int
PiCancelled(void *arg)
{
	(void) arg;
	return QueryCancelPending || ProcDiePending;
}

/*
 * Validate an image, filling *header, or raise the contract's error.  The
 * decoder checks emptiness and the byte limit first, before any library runs.
 */
void
CheckImage(const uint8 *data, size_t len, pi_header *header)
{
	pi_limits	limits;
	char		msg[PI_MESSAGE_LEN];
	int			rc;

	limits.max_bytes = (uint64_t) pi_max_bytes;
	limits.max_pixels = (uint64_t) pi_max_pixels;
	limits.cancelled = PiCancelled;
	limits.cancel_arg = NULL;
	{
		/* a format the decoder reads but product_image.accept_formats does not list */
		pi_format	f = len > 0 && (uint64) len <= (uint64) pi_max_bytes ? pi_detect(data, len) : PI_FORMAT_UNKNOWN;

		if (f != PI_FORMAT_UNKNOWN && !pi_format_accepted(f))
		{
			header->format = f;
			snprintf(msg, sizeof(msg), "The data looks like %s, which product_image.accept_formats does not list.",
					 pi_format_label(f));
			ReportDecodeError(PI_ERR_UNSUPPORTED, f, msg);
		}
	}
	rc = pi_decode(data, len, (pi_mode) pi_validate, &limits, header, msg);
	if (rc != PI_OK)
		ReportDecodeError(rc, header->format, msg);
}

/* One SQLSTATE per decoder code, for validation and rendering alike. */
void
ReportDecodeError(int rc, pi_format format, const char *msg)
{
	switch (rc)
	{
		case PI_OK:
			return;
		case PI_ERR_EMPTY:
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("Image bitmap is missing from body.")));
			break;
		case PI_ERR_UNSUPPORTED:
			{
				char		labels[128];

				PiAcceptedLabels(labels, sizeof(labels));
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("unsupported image format"),
						 errdetail("%s", msg),
						 errhint("Supported formats are %s.", labels)));
			}
			break;
		case PI_ERR_CORRUPT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("corrupt or truncated %s image", pi_format_name(format)),
					 errdetail("%s", msg)));
			break;
		case PI_ERR_LIMIT_BYTES:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("image exceeds product_image.max_bytes"),
					 errdetail("%s", msg),
					 errhint("A superuser can raise product_image.max_bytes.")));
			break;
		case PI_ERR_LIMIT_PIXELS:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("image exceeds product_image.max_pixels"),
					 errdetail("%s", msg),
					 errhint("A superuser can raise product_image.max_pixels.")));
			break;
		case PI_ERR_NOMEM:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory while decoding image"),
					 errdetail("%s", msg)));
			break;
		case PI_ERR_CANCELLED:
			/* the pending interrupt raises the right error (57014, 57P01, ...) */
			CHECK_FOR_INTERRUPTS();
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("canceling image work")));
			break;
		default:
			elog(ERROR, "image decoder failed with code %d: %s", rc, msg);
	}
}
