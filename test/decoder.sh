#!/bin/sh
# The decoder on its own, under AddressSanitizer + UndefinedBehaviorSanitizer
# (LeakSanitizer included): the fixtures must decode to the committed
# expected output, and every crasher and corpus file must be answered without
# a sanitizer report, in header and full mode.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
CORPUS=${PI_CORPUS:-$ROOT/../shared/corpus}
make -s -C "$ROOT/tools" pi-inspect-asan
BIN=$ROOT/tools/pi-inspect-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98

cd "$ROOT/test/fixtures"
for mode in header full; do
    flag=""; [ $mode = full ] && flag=--full
    # shellcheck disable=SC2046
    "$BIN" $flag $(ls -p | grep -v '/$' | grep -v '\.py$') > "$TMP/fixtures_$mode.tsv"
done
cat "$TMP/fixtures_header.tsv" "$TMP/fixtures_full.tsv" > "$TMP/fixtures.tsv"
if ! diff -u "$ROOT/test/decoder_fixtures.expected" "$TMP/fixtures.tsv"; then
    echo "decoder: fixture results differ from test/decoder_fixtures.expected"
    exit 1
fi
n=$(ls -p | grep -v '/$' | grep -vc '\.py$')
echo "decoder: $n fixtures x 2 modes match the expected headers and errors (ASan+UBSan+LSan clean)"

cd "$ROOT/test/crashers"
find . -maxdepth 1 -type f ! -name '*.py' | sort > "$TMP/crashers"
for flag in "" --full; do
    xargs -a "$TMP/crashers" "$BIN" $flag > /dev/null
done
echo "decoder: $(wc -l < "$TMP/crashers") crashers x 2 modes fail cleanly (ASan+UBSan+LSan clean)"

# A GIF's canvas (its logical screen, grown by any frame drawn past it) counts
# against max_pixels on its own, in header and full mode, so what is saved can
# be rendered (issue 11, item 10); the frames' sum is checked as before and the
# canvas is not added to it.  expect_code CODE ARGS...: pi-inspect's code must be CODE.
expect_code() {
    want=$1; shift
    got=$("$BIN" "$@" | cut -f2)
    [ "$got" = "$want" ] || { echo "decoder: pi-inspect $*: code $got, want $want"; "$BIN" "$@"; exit 1; }
}
C=$ROOT/test/crashers F=$ROOT/test/fixtures
for f in gif_canvas_huge_screen.gif gif_canvas_grown_by_first_frame.gif \
         gif_canvas_grown_by_later_frame.gif gif_canvas_render_timeout.fuzz; do
    expect_code -5 "$C/$f"
    expect_code -5 --full "$C/$f"
    # a rendition draws the first frame only: its canvas is the screen grown by that frame
    [ $f = gif_canvas_grown_by_later_frame.gif ] || expect_code -5 --render 64 0 auto "$C/$f"
done
expect_code 0 --render 64 0 auto "$C/gif_canvas_grown_by_later_frame.gif"
"$BIN" "$C/gif_canvas_grown_by_later_frame.gif" | cut -f13 | grep -q 'canvas is 60001 x 60001' ||
    { echo "decoder: the canvas refusal does not say the canvas size"; exit 1; }
# at the limit the canvas fits, one pixel less it does not (65535^2, 60001^2)
expect_code 0 --max-pixels 4294836225 "$C/gif_canvas_huge_screen.gif"
expect_code -5 --max-pixels 4294836224 "$C/gif_canvas_huge_screen.gif"
expect_code 0 --full --max-pixels 3600120001 "$C/gif_canvas_grown_by_later_frame.gif"
expect_code -5 --full --max-pixels 3600120000 "$C/gif_canvas_grown_by_later_frame.gif"
# frames that fill their screen: the limit is the frames' sum, as before
# (anim3.gif: three 16 x 12 frames on a 16 x 12 screen), and it renders there
expect_code 0 --max-pixels 576 "$F/anim3.gif"
expect_code -5 --max-pixels 575 "$F/anim3.gif"
expect_code 0 --max-pixels 576 --render 8 0 auto "$F/anim3.gif"
echo "decoder: a GIF canvas over max_pixels is refused in header and full mode (4 files) and in render mode when the first frame grows it; at the limit it is accepted"

# Renditions: every fixture and crasher rendered to each type under the
# sanitizers, then the rendition checks (sizes, orientation, colour, alpha,
# quality against Pillow) on the plain build.
for type in auto png jpeg gif; do
    (cd "$ROOT/test/fixtures" && find . -type f ! -name '*.py' | sort | xargs "$BIN" --render 40 30 $type) > /dev/null
    xargs -a "$TMP/crashers" "$BIN" --render 64 0 $type > /dev/null
done
echo "decoder: fixtures and crashers rendered to PNG, JPEG and GIF (ASan+UBSan+LSan clean)"
# Type names are read from the codec table: any case and the aliases; a type
# with no encoder (TIFF) or none at all (auto) falls back as pi_render_format says.
for pair in jpeg:jpeg JPG:jpeg Jpeg:jpeg jpg:jpeg PNG:png gif:gif GIF:gif tif:png TIFF:png auto:png; do
    got=$("$BIN" --render 8 0 "${pair%%:*}" "$F/rgb.png" | cut -f3)
    [ "$got" = "${pair#*:}" ] || { echo "decoder: --render type ${pair%%:*} gave $got, want ${pair#*:}"; exit 1; }
done
[ "$("$BIN" --render 8 0 auto "$F/anim3.gif" | cut -f3)" = gif ] &&
[ "$("$BIN" --render 8 0 auto "$F/gray_lzw.tif" | cut -f3)" = png ] ||
    { echo "decoder: auto does not keep GIF or turn TIFF into PNG"; exit 1; }
echo "decoder: rendition types by name, alias and any case; TIFF and auto fall back as the codec table says"
# Cancellation: the caller's cancelled() stops full decoding and rendering between
# rows, with PI_ERR_CANCELLED (-8) and nothing leaked (ASan build)
R=$ROOT/test/fixtures/render
for args in "--render 640 480 png $R/noise.jpg" "--render 300 200 gif $R/half_clear.png" "--full $R/half_clear.png"; do
    # shellcheck disable=SC2086
    code=$("$BIN" --cancel-after 1 $args | cut -f2)
    [ "$code" = -8 ] || { echo "decoder: cancel: $args gave $code, want -8"; exit 1; }
    # shellcheck disable=SC2086
    code=$("$BIN" --cancel-after 1000000 $args | cut -f2)
    [ "$code" = 0 ] || { echo "decoder: no cancel: $args gave $code, want 0"; exit 1; }
done
echo "decoder: cancellation stops full decoding and rendering between rows (ASan+LSan clean)"
make -s -C "$ROOT" tools/pi-inspect >/dev/null
/usr/bin/python3 "$ROOT/test/render_check.py" "$ROOT/tools/pi-inspect" "$ROOT/test/fixtures/render" > "$TMP/render_check" ||
    { cat "$TMP/render_check"; exit 1; }
echo "decoder: renditions: $(grep -c '^ok' "$TMP/render_check") checks of sizes, orientation, colour, alpha and quality pass"

# Metadata bombs: the plain build's peak memory stays small (libtiff would keep
# every copy of 1000 tags naming one megabyte; libpng would inflate and keep 50
# text chunks of 7 MB), the TIFF is refused, the PNG is read without its text.
/usr/bin/python3 "$ROOT/test/make_bombs.py" "$TMP"
/usr/bin/python3 - "$ROOT/tools/pi-inspect" "$TMP" <<'PY' || exit 1
import resource, subprocess, sys
tool, tmp = sys.argv[1], sys.argv[2]
for name, want in (("tiff_tag_bomb.tif", "-3"), ("png_ztxt_bomb.png", "0")):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    for flag in ([], ["--full"], ["--render", "8", "8", "png"]):
        out = subprocess.run([tool] + flag + [f"{tmp}/{name}"], capture_output=True, text=True).stdout
        code = out.split("\t")[1]
        if code != want:
            sys.exit(f"decoder: {name} {flag}: code {code}, want {want}: {out}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak > 100 * 1024:
        sys.exit(f"decoder: {name}: peak RSS {peak} KB, over 100 MB")
    print(f"decoder: {name}: code {want} in header, full and render mode, peak RSS {peak // 1024} MB")
PY

# Every dependency arrow between the decoder's files points down (includes and nm).
"$ROOT/test/decoder_floors.sh"

# No library may write to stderr (libpng, libtiff and libjpeg would by default):
# the plain build, every fixture, crasher and corpus file, both modes, stderr kept.
PLAIN=$ROOT/tools/pi-inspect
make -s -C "$ROOT" tools/pi-inspect >/dev/null
: > "$TMP/stderr"
for flag in "" --full "--render 40 30 jpeg" "--render 40 30 png" "--render 40 30 gif"; do
    # shellcheck disable=SC2086
    (cd "$ROOT/test/fixtures" && find . -type f ! -name '*.py' | xargs "$PLAIN" $flag) > /dev/null 2>> "$TMP/stderr"
    # shellcheck disable=SC2086
    (cd "$ROOT/test/crashers" && xargs -a "$TMP/crashers" "$PLAIN" $flag) > /dev/null 2>> "$TMP/stderr"
    if [ -f "$CORPUS/manifest.csv" ]; then
        # shellcheck disable=SC2086
        tail -n +2 "$CORPUS/manifest.csv" | cut -d, -f1 |
            (cd "$CORPUS" && xargs "$PLAIN" $flag) > /dev/null 2>> "$TMP/stderr"
    fi
done
if [ -s "$TMP/stderr" ]; then
    echo "decoder: a library wrote to stderr:"; head -5 "$TMP/stderr"
    exit 1
fi
echo "decoder: no library wrote to stderr (fixtures, crashers and corpus: both modes, and rendered to JPEG, PNG, GIF)"

if [ -f "$CORPUS/manifest.csv" ]; then
    tail -n +2 "$CORPUS/manifest.csv" | cut -d, -f1 > "$TMP/files"
    cd "$CORPUS"
    xargs -a "$TMP/files" "$BIN" > /dev/null
    xargs -a "$TMP/files" "$BIN" --full > /dev/null
    xargs -a "$TMP/files" "$BIN" --render 64 64 auto > /dev/null
    echo "decoder: $(wc -l < "$TMP/files") corpus files x 2 modes and rendered, under ASan+UBSan+LSan: clean"
else
    echo "decoder: corpus SKIPPED, none at $CORPUS"
fi
