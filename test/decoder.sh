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
# with them, the rendition fixtures whose header matters: a WebP's EXIF orientation
EXTRA_FIXTURES="render/orient6.webp"
for mode in header full; do
    flag=""; [ $mode = full ] && flag=--full
    # shellcheck disable=SC2046,SC2086
    "$BIN" $flag $(ls -p | grep -v '/$' | grep -v '\.py$') $EXTRA_FIXTURES > "$TMP/fixtures_$mode.tsv"
done
cat "$TMP/fixtures_header.tsv" "$TMP/fixtures_full.tsv" > "$TMP/fixtures.tsv"
if ! diff -u "$ROOT/test/decoder_fixtures.expected" "$TMP/fixtures.tsv"; then
    echo "decoder: fixture results differ from test/decoder_fixtures.expected"
    exit 1
fi
n=$(( $(ls -p | grep -v '/$' | grep -vc '\.py$') + $(echo $EXTRA_FIXTURES | wc -w) ))
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
# So is an animated WebP's canvas (60000 x 60000, one 1x1 frame), at the limit accepted
for flag in "" --full "--render 64 0 auto"; do
    # shellcheck disable=SC2086
    expect_code -5 $flag "$C/webp_canvas_huge.webp"
done
expect_code 0 --max-pixels 3600000000 "$C/webp_canvas_huge.webp"
expect_code -5 --max-pixels 3599999999 "$C/webp_canvas_huge.webp"
# WebP: header fine, image data short (refused in full mode and rendering); a frame
# outside its canvas, RIFF and chunk lengths past the end
for f in short_vp8.webp short_vp8l.webp; do
    expect_code 0 "$F/$f"
    expect_code -3 --full "$F/$f"
    expect_code -3 --render 8 0 auto "$F/$f"
done
for f in webp_frame_outside.webp webp_riff_huge.webp webp_chunk_huge.webp; do
    expect_code -3 "$C/$f"
done
echo "decoder: a WebP canvas over max_pixels is refused in header, full and render mode; short WebP data in full and render mode; bad containers in header mode"

# Renditions: every fixture and crasher rendered to each type under the
# sanitizers, then the rendition checks (sizes, orientation, colour, alpha,
# quality against Pillow) on the plain build.
for type in auto png jpeg gif webp avif; do
    (cd "$ROOT/test/fixtures" && find . -type f ! -name '*.py' | sort | xargs "$BIN" --render 40 30 $type) > /dev/null
    xargs -a "$TMP/crashers" "$BIN" --render 64 0 $type > /dev/null
done
echo "decoder: fixtures and crashers rendered to PNG, JPEG, GIF, WebP and AVIF (ASan+UBSan+LSan clean)"
# Type names are read from the codec table: any case and the aliases; a type
# with no encoder (TIFF) or none at all (auto) falls back as pi_render_format says.
for pair in jpeg:jpeg JPG:jpeg Jpeg:jpeg jpg:jpeg PNG:png gif:gif GIF:gif tif:png TIFF:png auto:png \
            webp:webp WEBP:webp WebP:webp avif:avif AVIF:avif Avif:avif; do
    got=$("$BIN" --render 8 0 "${pair%%:*}" "$F/rgb.png" | cut -f3)
    [ "$got" = "${pair#*:}" ] || { echo "decoder: --render type ${pair%%:*} gave $got, want ${pair#*:}"; exit 1; }
done
[ "$("$BIN" --render 8 0 auto "$F/anim3.gif" | cut -f3)" = gif ] &&
[ "$("$BIN" --render 8 0 auto "$F/anim.webp" | cut -f3)" = webp ] &&
[ "$("$BIN" --render 8 0 auto "$F/gray_lzw.tif" | cut -f3)" = png ] ||
    { echo "decoder: auto does not keep GIF and WebP or turn TIFF into PNG"; exit 1; }
echo "decoder: rendition types by name, alias and any case; TIFF and auto fall back as the codec table says"
# AVIF is written, never read: not even an AVIF made here is recognised
"$BIN" --render 16 0 avif --out "$TMP/made.avif" "$F/rgba.png" > /dev/null
expect_code -2 "$TMP/made.avif"
"$BIN" "$TMP/made.avif" | cut -f13 | grep -q 'looks like AVIF' ||
    { echo "decoder: an AVIF is not described as AVIF"; exit 1; }
echo "decoder: an AVIF rendition is refused as unsupported (-2, \"looks like AVIF\")"
# Cancellation: the caller's cancelled() stops full decoding and rendering between
# rows, with PI_ERR_CANCELLED (-8) and nothing leaked (ASan build)
R=$ROOT/test/fixtures/render
for args in "--render 640 480 png $R/noise.jpg" "--render 300 200 gif $R/half_clear.png" "--full $R/half_clear.png" \
            "--render 640 480 png $R/smooth.webp"; do
    # shellcheck disable=SC2086
    code=$("$BIN" --cancel-after 1 $args | cut -f2)
    [ "$code" = -8 ] || { echo "decoder: cancel: $args gave $code, want -8"; exit 1; }
    # shellcheck disable=SC2086
    code=$("$BIN" --cancel-after 1000000 $args | cut -f2)
    [ "$code" = 0 ] || { echo "decoder: no cancel: $args gave $code, want 0"; exit 1; }
done
echo "decoder: cancellation stops full decoding and rendering between rows (ASan+LSan clean)"
make -s -C "$ROOT" tools/pi-inspect >/dev/null
/usr/bin/python3 "$ROOT/test/render_check.py" "$ROOT/tools/pi-inspect" "$ROOT/test/fixtures/render" "$CORPUS" \
    > "$TMP/render_check" || { cat "$TMP/render_check"; exit 1; }
echo "decoder: renditions: $(grep -c '^ok' "$TMP/render_check") checks of sizes, orientation, colour, alpha and quality pass"
grep -c '^ok   corpus' "$TMP/render_check" | sed 's/^/decoder: of which corpus WebP EXIF orientations (vs. Pillow exif_transpose): /' |
    grep -v ': 0$' || true
sed -n 's/^skip /decoder: SKIPPED /p' "$TMP/render_check"

# Metadata bombs: the plain build's peak memory stays small (libtiff would keep
# every copy of 1000 tags naming one megabyte; libpng would inflate and keep 50
# text chunks of 7 MB), the TIFF is refused, the PNG is read without its text.
/usr/bin/python3 "$ROOT/test/make_bombs.py" "$TMP"
/usr/bin/python3 - "$ROOT/tools/pi-inspect" "$TMP" <<'PY' || exit 1
import resource, subprocess, sys
tool, tmp = sys.argv[1], sys.argv[2]
for name, want in (("tiff_tag_bomb.tif", "-3"), ("png_ztxt_bomb.png", "0"),
                   ("webp_many_chunks.webp", "-3"), ("webp_chunks_at_cap.webp", "0"),
                   ("webp_many_frames.webp", "-5"), ("webp_frames_at_cap.webp", "0")):
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
for flag in "" --full "--render 40 30 jpeg" "--render 40 30 png" "--render 40 30 gif" \
            "--render 40 30 webp" "--render 40 30 avif"; do
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
echo "decoder: no library wrote to stderr (fixtures, crashers and corpus: both modes, and rendered to JPEG, PNG, GIF, WebP, AVIF)"

# No library starts a thread (a backend must not host one): libwebp and libaom
# are asked for none; strace sees every clone of a WebP and AVIF rendition.
if command -v strace > /dev/null 2>&1 && strace -f -o /dev/null true 2> /dev/null; then
    for args in "--render 0 0 avif" "--render 0 0 webp" "--full"; do
        # shellcheck disable=SC2086
        strace -f -e trace=clone,clone3 -o "$TMP/clones" "$PLAIN" $args "$R/smooth.webp" "$R/half_clear.png" > /dev/null
        if grep -q clone "$TMP/clones"; then
            echo "decoder: pi-inspect $args started a thread:"; cat "$TMP/clones"; exit 1
        fi
    done
    echo "decoder: WebP and AVIF renditions and WebP decoding start no thread (strace: no clone)"
else
    echo "decoder: thread check SKIPPED (no working strace)"
fi

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
