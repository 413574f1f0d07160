#!/bin/sh
# The decoder's floors, checked mechanically: every dependency arrow points down.
#
#   7 render.c                          renditions: decode into the sink, orient, encode
#   6 decode.c, decode_sink.h           dispatch: limits, then the codec that recognises the data
#   5 detect.c                          pi_detect, format names and MIME types, pi_strerror
#   4 codecs.c, codecs.h                the codec table
#   3 codec.h, codec_*.c                one file per image library
#   2 sink.c, sink.h                    the streaming resampler
#   1 job.c, job.h, exif.c, exif.h      helpers every codec shares
#   0 decode.h                          the public API (types and prototypes only)
#
# Includes: a file includes only headers on its floor or below.  Calls: the
# objects' undefined symbols (nm -u) that another decoder object defines must
# be defined on a strictly lower floor.  A new codec_X.c needs no change here.
# Also: each codec object exports exactly one symbol, its table entry, and no
# function or type is named with an image library's prefix.
set -eu
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
D=$ROOT/src/decode

floor() {
    case $1 in
        decode.h) echo 0 ;;
        job.[cho] | exif.[cho]) echo 1 ;;
        sink.[cho]) echo 2 ;;
        codec.h | codec_*.[co]) echo 3 ;;
        codecs.[cho]) echo 4 ;;
        detect.[co]) echo 5 ;;
        decode.[co] | decode_sink.h) echo 6 ;;
        render.[co]) echo 7 ;;
        *) echo "decoder floors: $1 has no floor; add it to test/decoder_floors.sh" >&2; exit 1 ;;
    esac
}

fail=0
make -s -C "$ROOT" tools/pi-inspect >/dev/null
SRCS=$(printf 'include sources.mk\nall:\n\t@echo $(PI_DECODE_SRCS) $(PI_DECODE_HDRS)\n' | make -s -C "$D" -f -)
OBJS=$(printf 'include sources.mk\nall:\n\t@echo $(PI_DECODE_OBJS)\n' | make -s -C "$D" -f -)
ls "$D"/*.c "$D"/*.h | while read -r f; do
    case " $SRCS " in *" ${f##*/} "*) ;; *) echo "decoder floors: ${f##*/} is not in sources.mk"; exit 1 ;; esac
done

# includes
edges=0
for f in $SRCS; do
    ff=$(floor "$f")
    for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$D/$f"); do
        edges=$((edges + 1))
        fi=$(floor "$inc")
        if [ "$fi" -gt "$ff" ]; then
            echo "decoder floors: $f (floor $ff) includes $inc (floor $fi)"
            fail=1
        fi
    done
done

# calls and data references, from the objects
for o in $OBJS; do
    [ -f "$D/$o" ] || { echo "decoder floors: $D/$o was not built"; exit 1; }
done
floors_check decoder "$D" $OBJS

# each codec exports its table entry and nothing else
codecs=0
for o in $OBJS; do
    case $o in codec_*.o) ;; *) continue ;; esac
    codecs=$((codecs + 1))
    want=pi_codec_${o#codec_}
    want=${want%.o}
    got=$(nm -g --defined-only "$D/$o" | awk 'NF == 3 { print $3 }' | tr '\n' ' ')
    if [ "$got" != "$want " ]; then
        echo "decoder floors: $o exports '$got', want only $want"
        fail=1
    fi
done

# no function or type of ours in libpng's, libjpeg's, giflib's, libtiff's, libwebp's or libavif's namespace
# (definitions and declarations start in column 0 here; a typedef's name follows its "}")
LIBPFX='(png|jpeg|jpg|gif|tiff|TIFF|Gif|DGif|EGif|WebP|webp|avif|aom)[A-Za-z0-9_]*'
st=0
grep -nE "^([A-Za-z_][A-Za-z0-9_]* +\**)*$LIBPFX( *(\(|\[|=|;)|$)|^} *$LIBPFX" \
    $(for f in $SRCS; do echo "$D/$f"; done) > "$TMP/prefixed" || st=$?
[ $st -le 1 ] || { echo "decoder floors: grep failed"; exit 1; }
if [ -s "$TMP/prefixed" ]; then
    cat "$TMP/prefixed"
    echo "decoder floors: the lines above name our own code with an image library's prefix"
    fail=1
fi

[ $fail = 0 ] || exit 1
echo "decoder: floors hold: $edges includes and $calls cross-file symbol uses all point down, $codecs codecs export one table entry each"
