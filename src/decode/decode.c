/*
 * decode.c
 *		Dispatch: the byte limit, then the codec that recognises the data
 *		(the codec table, through pi_detect) decodes it.
 */
#include "codecs.h"
#include "decode_sink.h"

#include <string.h>

/* Detect and validate (decode.h). */
int
pi_decode(const uint8_t *data, size_t len, pi_mode mode,
		  const pi_limits *limits, pi_header *header, char *msg)
{
	return pi_decode_sink(data, len, mode, limits, header, msg, NULL);
}

/* pi_decode, streaming the first frame into sink when not NULL (render.c). */
int
pi_decode_sink(const uint8_t *data, size_t len, pi_mode mode,
			   const pi_limits *limits, pi_header *header, char *msg, pi_sink *sink)
{
	char		localmsg[PI_MESSAGE_LEN];
	pi_job		job;
	const pi_codec *codec;
	int			rc;

	job.data = data;
	job.len = len;
	job.mode = mode;
	job.max_bytes = (limits && limits->max_bytes) ? limits->max_bytes : PI_DEFAULT_MAX_BYTES;
	job.max_pixels = (limits && limits->max_pixels) ? limits->max_pixels : PI_DEFAULT_MAX_PIXELS;
	job.header = header;
	job.msg = msg ? msg : localmsg;
	job.msg[0] = '\0';
	job.sink = sink;
	job.cancelled = limits ? limits->cancelled : NULL;
	job.cancel_arg = limits ? limits->cancel_arg : NULL;
	job.rows = 0;

	memset(header, 0, sizeof(*header));
	header->frames = 1;

	if (data == NULL || len == 0)
		return pi_fail(&job, PI_ERR_EMPTY, "image is empty");
	if ((uint64_t) len > job.max_bytes)
		return pi_fail(&job, PI_ERR_LIMIT_BYTES, "The image is %llu bytes; the limit is %llu bytes.",
					   (unsigned long long) len, (unsigned long long) job.max_bytes);

	header->format = pi_detect(data, len);
	header->mime_type = pi_format_mime(header->format);
	codec = pi_codec_of(header->format);
	if (!pi_codec_reads(codec))
	{
		const char *what = pi_describe_unsupported(data, len);
		char		labels[128];

		if (what)
			return pi_fail(&job, PI_ERR_UNSUPPORTED, "The data looks like %s.", what);
		pi_codec_labels(labels, sizeof(labels));
		return pi_fail(&job, PI_ERR_UNSUPPORTED,
					   "The data does not start with a %s signature.", labels);
	}
	rc = codec->decode(&job);
	if (rc != PI_OK && job.msg[0] == '\0')
		pi_fail(&job, rc, "%s", pi_strerror(rc));
	return rc;
}
