#!/bin/sh
# The README's first command from a clone the postgres user cannot reach:
# as root, a copy of this tree in a fresh mktemp -d directory (mode 0700),
# then scripts/demo (without reinstalling: the test command just installed
# the extension from this tree) must save an image over HTTP and serve it,
# and scripts/demo stop must leave nothing behind.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
    echo "clone_0700: skipped (needs root: the cluster then runs as postgres)"
    exit 0
fi
HTTP_PORT=${PI_CLONE_HTTP_PORT:-18381}
PGPORT_=${PI_CLONE_PGPORT:-54381}
D=$(mktemp -d)
trap 'cd /; [ -x "$D/product_image/scripts/demo" ] && PI_DEMO_PORT=$HTTP_PORT PI_DEMO_PGPORT=$PGPORT_ "$D/product_image/scripts/demo" stop >/dev/null 2>&1; rm -rf "$D"' EXIT
chmod 700 "$D"
mkdir "$D/product_image"
# the working tree as it is (built objects included, .run excluded)
tar -C "$ROOT" --exclude=./.run -cf - . | tar -C "$D/product_image" -xf -
if runuser -u postgres -- test -x "$D" 2>/dev/null; then
    echo "clone_0700: FAIL: postgres can traverse $D; the test would prove nothing"
    exit 1
fi
cd "$D/product_image"
out=$(PI_DEMO_PORT=$HTTP_PORT PI_DEMO_PGPORT=$PGPORT_ PI_DEMO_NO_INSTALL=1 scripts/demo 2>"$D/demo.err") || {
    echo "clone_0700: FAIL: scripts/demo from a 0700 directory:"; cat "$D/demo.err"; exit 1; }
# stdout: the blob id, then the page's URL
blob=$(echo "$out" | sed -n 1p)
page=$(echo "$out" | sed -n 2p)
case "$blob" in
    ''|*[!0-9]*) echo "clone_0700: FAIL: scripts/demo printed '$blob', not a blob id"; cat "$D/demo.err"; exit 1 ;;
esac
if [ "$page" != "http://127.0.0.1:$HTTP_PORT/" ] || ! curl -s "$page" | grep -q '<title>Product images</title>'; then
    echo "clone_0700: FAIL: scripts/demo printed '$page', not the page's URL"
    exit 1
fi
code=$(curl -s -o "$D/got.png" -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/api/v1/Product/1/Image")
if [ "$code" != 200 ] || ! cmp -s "$D/got.png" test/fixtures/rgb.png; then
    echo "clone_0700: FAIL: GET after the demo answered $code"
    exit 1
fi
pgroot=$(readlink .run/demo/pgroot 2>/dev/null || true)
PI_DEMO_PORT=$HTTP_PORT PI_DEMO_PGPORT=$PGPORT_ scripts/demo stop >/dev/null
if [ -n "$pgroot" ] && [ -e "$pgroot" ]; then
    echo "clone_0700: FAIL: scripts/demo stop left $pgroot"
    exit 1
fi
echo "clone_0700: scripts/demo from a 0700 directory as root: blob id $blob saved and served${pgroot:+ (cluster in $pgroot)}, stopped cleanly"
