#!/bin/bash
# Hard faults and memory bounds (issue: hostile input and hard faults):
#  1. a backend terminated (pg_terminate_backend) and one SIGKILLed in the
#     middle of saving a 20 MB image: the cluster recovers, no partial row,
#     no orphan, earlier images intact (checksums, amcheck);
#  2. the gateway SIGKILLed mid-upload: nothing stored, it restarts and serves;
#  3. backend peak memory for a 30 MB save under 4x the image; a pixel bomb
#     refused with no pixel buffer; full mode on a 10 MB JPEG within a few rows;
#  4. 1000 idle connections to the gateway: others still served, its memory
#     flat, the idle ones closed at the timeout.
# Needs the private cluster (scripts/cluster env) as root or its owner.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
GW=$ROOT/gateway/product-image-gateway
DB=pi_hostile
PORT=${PI_HOSTILE_PORT:-18281}
IMAGES=$ROOT/.run/test-images
GWPID=""
trap '[ -n "$GWPID" ] && kill $GWPID 2>/dev/null; rm -rf "$TMP"' EXIT
q() { psql -X -At -d $DB -c "$1"; }

mkdir -p "$IMAGES"
[ -f "$IMAGES/scale_30m.jpg" ] || /usr/bin/python3 "$ROOT/bench/make_images.py" "$IMAGES" >/dev/null
/usr/bin/python3 - "$IMAGES/big20.tif" <<'PY'
import os, random, sys
from PIL import Image
if not os.path.exists(sys.argv[1]):
    rnd = random.Random(20)
    Image.frombytes("RGB", (2600, 2600), rnd.randbytes(2600 * 2600 * 3)).save(sys.argv[1])
PY

psql -X -q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d $DB -v copy="python3 $ROOT/test/copy_files.py $IMAGES big20.tif scale_30m.jpg scale_10m.jpg scale_1m.jpg" <<'SQL' >/dev/null
ALTER DATABASE pi_hostile SET product_image.max_bytes = '64MB';
CREATE EXTENSION product_image;
CREATE EXTENSION amcheck;
CREATE TABLE product (id int PRIMARY KEY);
INSERT INTO product SELECT generate_series(1, 100);
SELECT product_image.attach('product');
CREATE TABLE img (name text PRIMARY KEY, data bytea);
\set copycmd '\\copy img FROM PROGRAM ' :'copy'
:copycmd
SQL
# earlier images, with their checksums
q "SELECT product_image.product_save_image(g, data) FROM img, generate_series(1, 10) g WHERE name = 'scale_1m.jpg'" >/dev/null
before=$(q "SELECT string_agg(product_id || ':' || encode(sha256, 'hex'), ',' ORDER BY product_id) FROM product_image.blob")

integrity() {  # LABEL: earlier images intact, no orphan, no partial row, heap and indexes sound
    local label=$1 now orphans partial corrupt
    now=$(q "SELECT string_agg(product_id || ':' || encode(sha256, 'hex'), ',' ORDER BY product_id) FROM product_image.blob WHERE product_id <= 10")
    [ "$now" = "$before" ] && ok || bad "$label: earlier images changed"
    orphans=$(q "SELECT count(*) FROM product_image.blob b WHERE NOT EXISTS (SELECT 1 FROM product p WHERE p.id = b.product_id)")
    [ "$orphans" = 0 ] && ok || bad "$label: $orphans orphan blobs"
    partial=$(q "SELECT count(*) FROM product_image.blob WHERE sha256 <> sha256(data) OR blob_size <> octet_length(data)")
    [ "$partial" = 0 ] && ok || bad "$label: $partial rows whose bytes do not match ImageInfo"
    corrupt=$(q "SELECT count(*) FROM verify_heapam('product_image.blob', check_toast => true)")
    [ "$corrupt" = 0 ] && ok || bad "$label: verify_heapam reports $corrupt problems"
    q "SELECT bt_index_check(indexrelid) FROM pg_index WHERE indrelid = 'product_image.blob'::regclass" >/dev/null \
        && ok || bad "$label: bt_index_check failed"
}

# a save of the 20 MB image, repeated, in one transaction that we kill
victim() {
    PGAPPNAME=pi_victim psql -X -q -d $DB -c "SET product_image.validate = full" -c "DO \$\$ BEGIN
        FOR i IN 1..40 LOOP PERFORM product_image.product_save_image(50, data) FROM img WHERE name = 'big20.tif'; END LOOP; END \$\$" >/dev/null 2>&1 &
    for _ in $(seq 100); do
        pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'pi_victim' AND state = 'active'")
        [ -n "$pid" ] && break
        sleep 0.05
    done
    sleep 0.3
}

# 1a. pg_terminate_backend
victim
q "SELECT pg_terminate_backend($pid)" >/dev/null
wait
n=$(q "SELECT count(*) FROM product_image.blob WHERE product_id = 50")
[ "$n" = 0 ] && ok || bad "terminate: the killed save left $n rows"
integrity "terminate"

# 1b. SIGKILL of the backend: the postmaster reinitializes, crash recovery
victim
kill -KILL "$pid"
wait
for _ in $(seq 100); do
    pg_isready -q && q "SELECT 1" >/dev/null 2>&1 && break
    sleep 0.1
done
q "SELECT 1" >/dev/null 2>&1 && ok || bad "sigkill: the cluster did not come back"
n=$(q "SELECT count(*) FROM product_image.blob WHERE product_id = 50")
[ "$n" = 0 ] && ok || bad "sigkill: the killed save left $n rows"
integrity "sigkill"
echo "hostile: backend killed mid-save twice (terminate, SIGKILL): recovered, $(q "SELECT count(*) FROM product_image.blob") blobs intact"

# 2. the gateway SIGKILLed mid-upload, then restarted
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
IDLE=$(( $(ulimit -n) - 200 ))
[ "$IDLE" -gt 1000 ] && IDLE=1000
# not start_gateway (test/lib.sh): here a gateway that does not come up is
# counted by the checks that follow rather than ending the run
start_gw() {
    "$GW" --listen 127.0.0.1:$PORT --anon-role postgres --timeout 3 --max-connections 1100 \
        --db-uri "host=$PGHOST port=$PGPORT dbname=$DB user=postgres" 2>>"$TMP/gw.log" &
    GWPID=$!
    for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:$PORT/health && return; sleep 0.1; done
}
start_gw
curl -s -o /dev/null --limit-rate 4M -X PUT --data-binary @"$IMAGES/big20.tif" \
    -H 'Content-Type: application/octet-stream' http://127.0.0.1:$PORT/api/v1/Product/51/Image &
sleep 1
kill -KILL $GWPID
wait $GWPID 2>/dev/null
wait
n=$(q "SELECT count(*) FROM product_image.blob WHERE product_id = 51")
[ "$n" = 0 ] && ok || bad "gateway kill: $n rows stored from the cut upload"
start_gw
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$IMAGES/scale_1m.jpg" \
    -H 'Content-Type: application/octet-stream' http://127.0.0.1:$PORT/api/v1/Product/51/Image)
[ "$code" = 200 ] && ok || bad "gateway restart: PUT answered $code"
integrity "gateway kill"
echo "hostile: gateway killed mid-upload: nothing stored, restarted and served"

# 3. memory bounds (private memory of the backend: VmHWM - RssShmem - RssFile)
peak_sql="SELECT ((regexp_match(s, 'VmHWM:\\s+(\\d+)'))[1]::bigint - (regexp_match(s, 'RssShmem:\\s+(\\d+)'))[1]::bigint
               - (regexp_match(s, 'RssFile:\\s+(\\d+)'))[1]::bigint) * 1024 FROM pg_read_file('/proc/self/status') s"
base=$(psql -X -At -d $DB -c "SELECT 1" -c "$peak_sql" | tail -1)
size30=$(q "SELECT octet_length(data) FROM img WHERE name = 'scale_30m.jpg'")
for attempt in first resave; do
    peak=$(psql -X -At -d $DB -c "SELECT product_image.product_save_image(60, data) FROM img WHERE name = 'scale_30m.jpg'" -c "$peak_sql" | tail -1)
    ratio=$(awk -v p="$peak" -v s="$size30" 'BEGIN { printf "%.2f", p / s }')
    awk -v r="$ratio" 'BEGIN { exit !(r < 4) }' && ok || bad "memory: $attempt save of 30 MB peaked at ${ratio}x"
    echo "hostile: $attempt save of a $((size30 / 1000000)) MB JPEG: backend peak private memory $((peak / 1000000)) MB (${ratio}x the image; idle backend $((base / 1000000)) MB)"
done
bomb=$(psql -X -At -d $DB -c "DO \$\$ BEGIN PERFORM product_image.product_save_image(61,
        decode('89504e470d0a1a0a0000000d494844520001869f0001869f0802000000' || '00000000', 'hex'));
        EXCEPTION WHEN OTHERS THEN NULL; END \$\$" -c "$peak_sql" | tail -1)
[ $((bomb - base)) -lt $((4 * 1024 * 1024)) ] && ok || bad "memory: the pixel bomb raised the peak by $(((bomb - base) / 1000000)) MB"
echo "hostile: pixel bomb (99999 x 99999 claimed): peak $((bomb / 1000000)) MB, idle $((base / 1000000)) MB"
size10=$(q "SELECT octet_length(data) FROM img WHERE name = 'scale_10m.jpg'")
full=$(psql -X -At -d $DB -c "SET product_image.validate = full" -c "SELECT (product_image.image_info(data)).width FROM img WHERE name = 'scale_10m.jpg'" -c "$peak_sql" | tail -1)
extra=$((full - base - size10))
[ $extra -lt $((16 * 1024 * 1024)) ] && ok || bad "memory: full mode on 10 MB JPEG used $((extra / 1000000)) MB beyond the image"
echo "hostile: full-mode decode of a $((size10 / 1000000)) MB 4800x3600 JPEG: backend peak $((full / 1000000)) MB, idle $((base / 1000000)) MB: the image itself and no frame buffer (an RGB frame is 52 MB)"

# a rendition holds one output frame and a few source rows, not the source frame
thumb=$(psql -X -At -d $DB -c "SELECT octet_length(product_image.render(data, 256, 256, 'jpeg')) FROM img WHERE name = 'scale_10m.jpg'" -c "$peak_sql" | tail -1)
extra=$((thumb - base - size10))
[ $extra -lt $((8 * 1024 * 1024)) ] && ok || bad "memory: a 256-pixel rendition of the 10 MB JPEG used $((extra / 1000000)) MB beyond the image"
echo "hostile: 256-pixel rendition of the $((size10 / 1000000)) MB 4800x3600 JPEG: backend peak $((thumb / 1000000)) MB, idle $((base / 1000000)) MB (a source RGB frame would be 52 MB)"

# a statement timeout stops a long rendering between rows (57014), the backend lives on
t0=$(date +%s%N)
out=$(psql -X -At -d $DB -c "SET statement_timeout = '100ms'" \
    -c "SELECT octet_length(product_image.render(data, 4096, 4096, 'png')) FROM img WHERE name = 'scale_30m.jpg'" 2>&1)
t1=$(date +%s%N)
case "$out" in *"canceling statement due to statement timeout"*) ok ;; *) bad "render timeout: $out" ;; esac
[ "$(q "SELECT 1")" = 1 ] && ok || bad "render timeout: the server did not answer afterwards"
echo "hostile: rendering the 30 MB JPEG at 4096 px under statement_timeout 100ms: canceled after $(((t1 - t0) / 1000000)) ms"

# 4. 1000 idle connections; other clients still served; memory flat; idle closed at the timeout
rss() { awk '/VmRSS/ { print $2 }' /proc/$GWPID/status; }
rss0=$(rss)
/usr/bin/python3 - $PORT "$IMAGES/scale_1m.jpg" $IDLE > "$TMP/idle.txt" <<'PY'
import socket, subprocess, sys, time
port, image, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
idle = []
for _ in range(count):
    idle.append(socket.create_connection(("127.0.0.1", port)))
time.sleep(0.5)
code = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "--data-binary", "@" + image,
                       "-H", "Content-Type: application/octet-stream",
                       f"http://127.0.0.1:{port}/api/v1/Product/70/Image"], capture_output=True, text=True).stdout
print("served", code)
deadline = time.time() + 10
closed = 0
for s in idle:
    s.settimeout(max(0.01, deadline - time.time()))
    try:
        if s.recv(1) == b"":
            closed += 1
    except OSError:
        pass
print("closed", closed)
PY
rss1=$(rss)
grep -q "served 200" "$TMP/idle.txt" && ok || bad "idle: another client was not served: $(cat "$TMP/idle.txt")"
closed=$(awk '/closed/ { print $2 }' "$TMP/idle.txt")
[ "$closed" = "$IDLE" ] && ok || bad "idle: only $closed of $IDLE idle connections closed at the timeout"
[ $((rss1 - rss0)) -lt 65536 ] && ok || bad "idle: gateway RSS grew from $rss0 KB to $rss1 KB"
echo "hostile: $IDLE idle connections: another PUT served, all $IDLE closed at the 3 s timeout, gateway RSS $rss0 KB -> $rss1 KB"

summary hostile
kill $GWPID 2>/dev/null; GWPID=""
psql -X -q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
[ "$FAILED" = 0 ]
