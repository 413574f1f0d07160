# product_image: PGXS build of the extension, plus the decoder tool and the gateway.
EXTENSION = product_image product_image_proxy
EXTVERSION = 0.3.0

MODULE_big = product_image
include src/decode/sources.mk
DECODE_OBJS = $(addprefix src/decode/,$(PI_DECODE_OBJS))
OBJS = src/product_image.o src/product_access.o src/image_check.o src/image_info.o src/image_save.o \
	src/rendition_cache.o \
	src/image_blob.o src/image_render.o \
	$(DECODE_OBJS)

# 0.2.0 installs as 0.1.0 plus the update script, as PostgreSQL does when no
# 0.2.0 install script exists: one path, tested by every install.
DATA = product_image--0.1.0.sql product_image--0.1.0--0.2.0.sql product_image--0.2.0--0.3.0.sql \
	product_image--0.3.0--0.4.0.sql product_image_proxy--0.2.0.sql \
	product_image_proxy--0.2.0--0.3.0.sql product_image_proxy--0.3.0--0.4.0.sql \
	product_image--0.4.0--0.5.0.sql product_image_proxy--0.4.0--0.5.0.sql

# pg_regress: sql/NAME.sql and expected/NAME.out, in this order.
REGRESS = setup formats errors save attach privileges limits modes postgrest renditions security
REGRESS_OPTS = --inputdir=. --load-extension=product_image

OPTFLAGS ?= -O2
PG_CPPFLAGS = -I$(srcdir)/src -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers -Werror
PG_CFLAGS = $(OPTFLAGS)
SHLIB_LINK = $(PI_DECODE_LIBS)

EXTRA_CLEAN = tools/pi-inspect src/decode/libpidecode.a

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

all: tools/pi-inspect gateway

tools/pi-inspect: tools/pi_inspect.c $(DECODE_OBJS)
	$(CC) $(CFLAGS) -Wall -Wextra -Werror -Isrc/decode -o $@ $^ $(PI_DECODE_LIBS)

gateway:
	$(MAKE) -C gateway

clean: clean-extra
clean-extra:
	-$(MAKE) -C gateway clean
	-$(MAKE) -C fuzz clean
	-$(MAKE) -C tools clean
	rm -f bench/libpq_put

.PHONY: gateway clean-extra

# Long runs, not part of the test command.
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) -C fuzz run FUZZ_SECONDS=$(FUZZ_SECONDS)

bench:
	bench/run

.PHONY: fuzz bench
