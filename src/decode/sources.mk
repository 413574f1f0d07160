# The decoder's one source list, included by every Makefile that builds it
# (the top-level PGXS Makefile, src/decode/, tools/, gateway/, fuzz/): a new
# file is added here and nowhere else.  Names are relative to src/decode/.
PI_DECODE_SRCS = job.c exif.c sink.c codec_png.c codec_jpeg.c codec_gif.c codec_tiff.c \
	codec_webp.c codec_avif.c codecs.c detect.c decode.c render.c
PI_DECODE_OBJS = $(PI_DECODE_SRCS:.c=.o)
PI_DECODE_HDRS = decode.h job.h exif.h sink.h codec.h codecs.h decode_sink.h
PI_DECODE_LIBS = -lpng -ljpeg -lgif -ltiff -lwebpdemux -lwebp -lavif -lm
