#!/bin/bash
# The gateway in a real browser: Debian's chromium driven by puppeteer-core
# (pinned in test/browser/package-lock.json; nothing is downloaded at run
# time).  run.mjs: a page on a --cors-origins origin calls the API with
# fetch; a page on another site posts a form.  page.mjs: the product image
# page the gateway serves, step by step (screenshots under .run/browser/).  Needs the private cluster
# (scripts/cluster env), the installed extension, chromium and the npm
# packages (scripts/install-deps --browser installs both).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
GW=${PI_GATEWAY:-$ROOT/gateway/product-image-gateway}
DB=pi_browser
P=${PI_BROWSER_PORT:-18681}
PAGE=$((P + 1))
SECRET=0123456789abcdef0123456789abcdef-browser
CHROMIUM=${PI_CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$CHROMIUM" ] || [ ! -d "$ROOT/test/browser/node_modules/puppeteer-core" ]; then
    echo "browser: chromium or puppeteer-core missing (scripts/install-deps --browser)"
    exit 1
fi
psql -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null
$(gateway_fresh_sql $DB)
$(gateway_login_sql)
\c $DB
$(gateway_shop_sql)
SQL
# the anonymous role may write: the form from another site is the attack
start_gateway $P "$TMP/gw.log" --anon-role pi_writer --jwt-secret "$SECRET" --session-secret "$SECRET" \
    --cors-origins "http://127.0.0.1:$PAGE"
mkdir -p "$TMP/pages" "$TMP/profile"
cp "$ROOT/test/browser/pages/index.html" "$ROOT/test/fixtures/rgb.png" "$TMP/pages/"
python3 -m http.server "$PAGE" --bind 127.0.0.1 --directory "$TMP/pages" >/dev/null 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PAGE/index.html" && break; sleep 0.1; done

# 127.0.0.1:PAGE is listed; localhost:PAGE is the same page on another site
GATEWAY="http://127.0.0.1:$P" LISTED="http://127.0.0.1:$PAGE" OTHER="http://localhost:$PAGE" \
    BEARER=$(python3 "$ROOT/test/jwt.py" "$SECRET" '{"role":"pi_writer"}') CHROMIUM="$CHROMIUM" \
    PROFILE="$TMP/profile" IMAGE="$ROOT/test/fixtures/rgb.png" \
    timeout 120 node "$ROOT/test/browser/run.mjs" > "$TMP/run.out" 2>&1
while read -r line; do
    case $line in
        ok\ *) ok ;;
        FAIL:*) bad "${line#FAIL: }" ;;
    esac
done < "$TMP/run.out"
grep -q '^browser: ' "$TMP/run.out" || bad "run.mjs did not finish: $(tail -5 "$TMP/run.out")"
# nothing of the form was stored
n=$(psql -X -At -d $DB -c "SELECT count(*) FROM product_image.blob WHERE product_id = 62")
check csrf_nothing_stored "$n" 0

# ---- the product image page (issue 15), on a gateway whose anonymous role only reads ----
PAGEGW=$((P + 2))
start_gateway $PAGEGW "$TMP/page.log" --anon-role pi_reader --session-secret "$SECRET"
SHOTS=$ROOT/.run/browser
mkdir -p "$SHOTS" "$TMP/profile2"
rm -f "$SHOTS"/*.png
printf '%%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%%%EOF\n' > "$TMP/doc.pdf"
GATEWAY="http://127.0.0.1:$PAGEGW" CHROMIUM="$CHROMIUM" PROFILE="$TMP/profile2" SHOTS="$SHOTS" \
    PNG="$ROOT/test/fixtures/rgb.png" JPG="$ROOT/test/fixtures/rgb.jpg" PDF="$TMP/doc.pdf" \
    BOMB="$ROOT/test/fixtures/bomb.png" \
    USER=pi_basic_user PASSWORD=basic-pass \
    timeout 180 node "$ROOT/test/browser/page.mjs" > "$TMP/page.out" 2>&1
while read -r line; do
    case $line in
        ok\ *) ok ;;
        FAIL:*) bad "page: ${line#FAIL: }" ;;
        timings:*) echo "browser: page steps: ${line#timings: }" ;;
    esac
done < "$TMP/page.out"
grep -q '^page: ' "$TMP/page.out" || bad "page.mjs did not finish: $(tail -5 "$TMP/page.out")"
echo "browser: screenshots of each step in $SHOTS"
summary browser
