#!/bin/bash
# The gateway's resource bounds under hostile clients, measured from /proc on
# loopback (issue 12): memory before authentication and for authorized
# uploads against the README's formula, slow-loris heads and bodies, the
# render slot limit.  Needs the private cluster (scripts/cluster env) and an
# installed extension.  Asserts behaviour and generous bounds, never timings
# that could fail by chance; prints the figures.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
GW=${PI_GATEWAY:-$ROOT/gateway/product-image-gateway}
FX=$ROOT/test/fixtures
DB=pi_limits
PORT=${PI_LIMITS_PORT:-18481}
SECRET=0123456789abcdef0123456789abcdef-test
GATEWAY_START_TRIES=100  # start_gateway waits up to 10 s for /health here
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

psql -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null
$(gateway_fresh_sql $DB)
\c $DB
$(gateway_shop_sql)
ALTER DATABASE $DB SET product_image.max_bytes = '64MB';
SQL

# ---- memory: 20 unauthenticated 32 MB uploads (no --anon-role) ----
# Each is answered 401 from its headers and closed: no body byte is buffered.
start_gateway $PORT "$TMP/auth.log" --jwt-secret "$SECRET" --max-body 33554432
read -r _ rss0 _ peak _ held _ answered _ closed < <(python3 "$ROOT/test/http_load.py" uploads $PORT $GWPID 20 33554432 33554432)
echo "limits: 20 unauthenticated 32 MB uploads: RSS $rss0 KiB before, peak growth $peak KiB, $answered answered and $closed closed before their body was sent"
# the formula's share of 20 connections is 20 x 320 KiB; 32 MiB is generous
[ "$peak" -lt 32768 ] && ok || bad "unauthenticated uploads: the gateway grew by $peak KiB"
[ $((answered + closed)) = 20 ] && ok || bad "unauthenticated uploads: only $answered + $closed of 20 refused before their body was sent"
stop $GWPID

# ---- memory: authorized uploads in flight, against the README formula ----
# 10 uploads of a 4 MiB --max-body each hold all but one byte of their body:
# the formula gives 10 x (4 MiB + 320 KiB) over the idle gateway.
start_gateway $PORT "$TMP/anon.log" --anon-role pi_writer --max-body 4194304
read -r _ rss0 _ peak _ held _ answered _ closed < <(python3 "$ROOT/test/http_load.py" uploads $PORT $GWPID 10 4194304 4194303)
limit=$((10 * (4096 + 320) + 16384))
echo "limits: 10 authorized 4 MiB uploads in flight: RSS $rss0 -> $held KiB (growth $((held - rss0)) KiB, formula $((10 * (4096 + 320))) KiB)"
[ $((held - rss0)) -le $limit ] && ok || bad "authorized uploads: growth $((held - rss0)) KiB over the formula's $limit KiB"
[ "$answered" = 0 ] && [ "$closed" = 0 ] && ok || bad "authorized uploads: $answered answered, $closed closed before their body was sent"
stop $GWPID

# ---- memory: 30 clients that never read a 27 MB original ----
# Streamed in --stream-slice pieces (256 KiB), each connection holds one
# slice and no database connection: the formula's G x I becomes G x 256 KiB.
/usr/bin/python3 - "$TMP/big.png" <<'PY'
import random, sys
from PIL import Image
rnd = random.Random(27)
Image.frombytes("RGB", (3000, 3000), rnd.randbytes(3000 * 3000 * 3)).save(sys.argv[1], compress_level=1)
PY
start_gateway $PORT "$TMP/readers.log" --anon-role pi_writer --max-body 67108864
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$TMP/big.png" -H 'Content-Type: image/png' "http://127.0.0.1:$PORT/api/v1/Product/3/Image")
[ "$code" = 200 ] && ok || bad "slow readers: saving the $(wc -c < "$TMP/big.png") byte image answered $code"
read -r _ rss0 _ held < <(python3 "$ROOT/test/http_load.py" readers $PORT $GWPID 30 /api/v1/Product/3/Image 3)
limit=$((30 * (256 + 320) + 32768))
echo "limits: 30 clients not reading a $(( $(wc -c < "$TMP/big.png") / 1048576 )) MB image: RSS $rss0 -> $held KiB (growth $((held - rss0)) KiB; bound $limit KiB)"
[ $((held - rss0)) -le $limit ] && ok || bad "slow readers: the gateway grew by $((held - rss0)) KiB"
code=$(curl -s -o "$TMP/big.got" -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/Product/3/Image")
[ "$code" = 200 ] && cmp -s "$TMP/big.got" "$TMP/big.png" && ok || bad "slow readers: a full read answered $code or other bytes"
stop $GWPID

# ---- slow-loris: a deadline for the whole head, a minimum body rate ----
# 6 clients trickle a head one byte every 0.5 s into --max-connections 5
# (libmicrohttpd's timeout is an idle one, so before they were never closed).
start_gateway $PORT "$TMP/loris.log" --anon-role pi_writer --max-connections 5 --timeout 60 --head-timeout 2
read -r l1 l2 l3 l4 l5 l6 < <(python3 "$ROOT/test/http_load.py" loris $PORT 6 30 0.5 | tr '\n' ' ')
echo "limits: slow-loris heads (6, one byte every 0.5 s, --head-timeout 2): $l1 $l2 $l3 $l4 within 30 s; $l5 $l6 for the next client"
[ "$l2 $l3 $l4" = "6 of 6" ] && ok || bad "slow-loris heads: $l2 $l3 $l4 closed within 30 s"
[ "$l6" = 200 ] && ok || bad "slow-loris heads: the next client got $l6"
body=$(python3 "$ROOT/test/http_load.py" slowbody $PORT 30 10)
echo "limits: a body sent at 10 bytes/s (--min-body-rate 1024): $body within 30 s"
[ "$body" = closed ] && ok || bad "slow body: still $body after 30 s"
expect_health=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")
[ "$expect_health" = 200 ] && ok || bad "after slow clients: /health answered $expect_health"
stop $GWPID

# ---- render slots: renders never take the connections plain reads need ----
# A session holds the rendition cache table in SHARE mode, so every render
# blocks when it stores its result, as a long render would (deterministically,
# unlike CPU time), while cache lookups go on. With --pool 4 and
# --render-slots 1, 8 concurrent renditions not cached: each is looked up in
# the cache (any connection, a miss), one renders in the slot and waits, the
# others get 503 with Retry-After at once; a cached rendition and a plain read
# of an original are answered while the lock is still held.
start_gateway $PORT "$TMP/render.log" --anon-role pi_writer --pool 4 --render-slots 1
for p in 1 2; do
    curl -s -o /dev/null -X PUT --data-binary @"$FX/rgb.jpg" -H 'Content-Type: image/jpeg' "http://127.0.0.1:$PORT/api/v1/Product/$p/Image"
done
curl -s -o "$TMP/cached50.jpg" "http://127.0.0.1:$PORT/api/v1/Product/2/Image?w=50"
PGAPPNAME=pi_render_lock psql -X -q -d $DB >/dev/null 2>&1 <<'SQL' &
BEGIN;
LOCK TABLE product_image.rendition IN SHARE MODE;
SELECT pg_sleep(120);
SQL
lockpsql=$!
until_one() {  # TRIES SQL: until the count SQL gives is 1, a tenth of a second apart
    local tries=$1
    shift
    for _ in $(seq "$tries"); do
        [ "$(psql -X -At -d $DB -c "$1")" = 1 ] && return
        sleep 0.1
    done
}
until_one 100 "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'pi_render_lock' AND l.granted AND l.mode = 'ShareLock' AND l.relation = 'product_image.rendition'::regclass"
rendition() {
    curl -s -m 150 -o "$TMP/rend$1.body" -D "$TMP/rend$1.h" -w '%{http_code}\n' "http://127.0.0.1:$PORT/api/v1/Product/2/Image?w=$((2 + $1))" > "$TMP/rend$1.code"
}
# the first takes the slot and waits for the lock; then the others find it busy
rendition 1 &
first=$!
until_one 300 "SELECT count(*) FROM pg_locks l WHERE NOT l.granted AND l.relation = 'product_image.rendition'::regclass"
curls=""
for i in $(seq 2 8); do
    rendition $i &
    curls="$curls $!"
done
for c in $curls; do wait "$c"; done
curls=$first
t0=$(date +%s%N)
plain=$(curl -s -m 60 -o "$TMP/plain.jpg" -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/Product/1/Image")
t1=$(date +%s%N)
plain_info=$(curl -s -m 60 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/Product/1/ImageInfo")
cached=$(curl -s -m 60 -o "$TMP/cached50b.jpg" -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/Product/2/Image?w=50")
still=$(psql -X -At -d $DB -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pi_render_lock'")
psql -X -q -d $DB -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pi_render_lock'" >/dev/null
wait $lockpsql 2>/dev/null
for c in $curls; do wait "$c"; done
n200=0 n503=0 other=0 noretry=0
for i in $(seq 1 8); do
    c=$(cat "$TMP/rend$i.code")
    case "$c" in
        200) n200=$((n200 + 1)) ;;
        503) n503=$((n503 + 1)); grep -qi '^Retry-After: ' "$TMP/rend$i.h" || noretry=$((noretry + 1)) ;;
        *) other=$((other + 1)) ;;
    esac
done
echo "limits: 8 renditions not cached, renders blocked behind a lock (--pool 4 --render-slots 1): $n200 x 200 after the lock, $n503 x 503; meanwhile a plain read: $plain in $(( (t1 - t0) / 1000000 )) ms, ImageInfo $plain_info, a cached rendition $cached"
[ "$plain" = 200 ] && [ "$plain_info" = 200 ] && [ "$still" = 1 ] && ok || bad "render slots: plain read $plain, ImageInfo $plain_info, lock still held: $still"
cmp -s "$TMP/plain.jpg" "$FX/rgb.jpg" && ok || bad "render slots: the plain read's bytes differ"
[ "$cached" = 200 ] && cmp -s "$TMP/cached50.jpg" "$TMP/cached50b.jpg" && ok || bad "render slots: a cached rendition answered $cached while the slot was busy"
[ "$n200" = 1 ] && [ "$n503" = 7 ] && ok || { bad "render slots: $n200 x 200 and $n503 x 503 (expected 1 and 7)"; }
[ "$other" = 0 ] && [ "$noretry" = 0 ] && ok || bad "render slots: $other answers neither 200 nor 503, $noretry 503s without Retry-After"
# after the storm, renditions render again
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/Product/2/Image?w=31")
[ "$code" = 200 ] && ok || bad "render slots: a rendition after the lock answered $code"
stop $GWPID

summary limits
psql -X -q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
[ "$FAILED" = 0 ]
