#!/bin/bash
# Scale-out: one PL/Proxy node, two partitions and a streaming standby of
# partition 0 (pg_basebackup), all private clusters on loopback ports, plus
# gateways on the proxy and on partition 0 with the standby as --read-db-uri.
# Checks the SQL and HTTP contracts through the proxy, where products and
# blob ids land, a partition going down and coming back, replica reads and
# reading one's own write.
#   PI_SCALEOUT_BENCH=1 test/scaleout.sh   instead of the checks, measure the
#   proxy hop (bench/scaleout calls this)
#   PI_SCALEOUT_RESHARD=1 test/scaleout.sh instead, reshard from 2 partitions
#   to 4 by the procedure of docs/scale-out.md and check that nothing moved
#   wrongly, nothing was lost and new blob ids stay unique
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BASE=${PI_SCALEOUT_PORT:-24351}
GWPORT=${PI_SCALEOUT_HTTP_PORT:-18291}
RUN=$ROOT/.run/scaleout
GW=$ROOT/gateway/product-image-gateway
FX=$ROOT/test/fixtures
PGBIN=$(pg_config --bindir)
PASS=0
FAILED=0
PIDS=""
TMP=$(mktemp -d)

ok() { PASS=$((PASS + 1)); }
bad() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
check() {  # NAME GOT WANT
    if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
node() {  # NAME PORT CMD: run scripts/cluster for one node
    PI_RUN_DIR=$RUN/$1 PI_PGPORT=$2 scripts/cluster "$3"
}
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
sql() {  # PORT SQL -> unaligned output; an error as "ERROR <sqlstate> <message>"
    local port=$1 out
    shift
    out=$(PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 \
        -v VERBOSITY=verbose -h "$RUN/sock" -p "$port" -U postgres -d shop -c "$*" 2>&1)
    if grep -q '^ERROR:' <<<"$out"; then
        grep '^ERROR:' <<<"$out" | head -1 | sed -E 's/^ERROR:  ([0-9A-Z]{5}): /ERROR \1 /'
    else
        echo "$out"
    fi
}
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    for d in standby p2 p3; do
        if [ -f "$RUN/$d/pgdata/PG_VERSION" ]; then
            as_pg "$PGBIN/pg_ctl" -D "$RUN/$d/pgdata" -m immediate -w stop >/dev/null 2>&1
        fi
    done
    for n in proxy:$BASE p0:$((BASE + 1)) p1:$((BASE + 2)); do
        node "${n%%:*}" "${n##*:}" destroy >/dev/null 2>&1
    done
    rm -rf "$RUN" "$TMP"
}
[ -n "${PI_KEEP:-}" ] || trap cleanup EXIT

P=$BASE P0=$((BASE + 1)) P1=$((BASE + 2)) SB=$((BASE + 3))
rm -rf "$RUN"
mkdir -p "$RUN/sock"
for n in proxy:$P p0:$P0 p1:$P1; do
    node "${n%%:*}" "${n##*:}" start || exit 1
done
# one more socket directory shared by every node, so connection strings stay short
chmod 777 "$RUN/sock"
for n in proxy:$P p0:$P0 p1:$P1; do
    as_pg "$PGBIN/psql" -X -q -h "$RUN/${n%%:*}/sock" -p "${n##*:}" -U postgres -d postgres \
        -c "ALTER SYSTEM SET unix_socket_directories = '$RUN/${n%%:*}/sock', '$RUN/sock'" >/dev/null
    node "${n%%:*}" "${n##*:}" stop
    node "${n%%:*}" "${n##*:}" start || exit 1
done

ROLES="SET client_min_messages = warning;
CREATE ROLE pi_authenticator LOGIN NOINHERIT PASSWORD 'auth-secret';
CREATE ROLE pi_writer NOLOGIN; CREATE ROLE pi_reader NOLOGIN; CREATE ROLE pi_tenant NOLOGIN;
GRANT pi_writer, pi_reader, pi_tenant TO pi_authenticator;"

# ---- partitions: the extension unchanged, products of their residue ----
for k in 0 1; do
    port=$((P0 + k))
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN/sock" -p $port -U postgres -d postgres <<SQL >/dev/null || exit 1
$ROLES
-- the proxy's login: a password (scram), NOINHERIT, the roles it may act for
CREATE ROLE pi_proxy LOGIN NOINHERIT PASSWORD 'proxy-secret';
GRANT pi_writer, pi_reader, pi_tenant TO pi_proxy;
CREATE DATABASE shop;
\c shop
CREATE EXTENSION product_image;
CREATE TABLE product (id int PRIMARY KEY, name text);
-- this partition's products: id & 1 = $k, as PL/Proxy's RUN ON product_id routes them
INSERT INTO product SELECT g, 'p' || g FROM generate_series(1, 60) g WHERE g & 1 = $k;
SELECT product_image.attach('product');
SELECT product_image.configure_partition($k, 2);
GRANT USAGE ON SCHEMA product_image TO pi_writer, pi_reader;
GRANT EXECUTE ON FUNCTION product_image.product_save_image(integer, bytea),
                          product_image.product_put_image_info(integer, jsonb),
                          product_image.product_delete_image(integer) TO pi_writer;
-- which products each role may see (row-level security applies); no right on product_image's tables
GRANT SELECT ON product TO pi_writer, pi_reader, pi_tenant;
GRANT EXECUTE ON FUNCTION product_image.product_save_image(integer, bytea) TO pi_tenant;
GRANT USAGE ON SCHEMA product_image TO pi_tenant, pi_proxy;
GRANT EXECUTE ON FUNCTION product_image.partition_save_image(name, integer, bytea),
    product_image.partition_get_image(name, integer),
    product_image.partition_get_image_rendition(name, integer, integer, integer, text, text, text),
    product_image.partition_get_image_etag(name, integer, integer, integer, text, text),
    product_image.partition_get_image_info(name, integer),
    product_image.partition_put_image_info(name, integer, jsonb),
    product_image.partition_delete_image(name, integer) TO pi_proxy;
-- pi_tenant sees products below 40 only
ALTER TABLE product ENABLE ROW LEVEL SECURITY;
CREATE POLICY everyone ON product USING (true);
CREATE POLICY tenant ON product AS RESTRICTIVE TO pi_tenant USING (id < 40);
SQL
done

# ---- the proxy ----
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN/sock" -p $P -U postgres -d postgres <<SQL >/dev/null || exit 1
$ROLES
CREATE DATABASE shop;
\c shop
SET client_min_messages = warning;
CREATE EXTENSION product_image_proxy CASCADE;
CREATE SERVER product_image FOREIGN DATA WRAPPER plproxy OPTIONS (
    connection_lifetime '1800',
    p0 'host=127.0.0.1 port=$P0 dbname=shop connect_timeout=3',
    p1 'host=127.0.0.1 port=$P1 dbname=shop connect_timeout=3');
-- partitions authenticate the proxy (scram over TCP); no caller gets USAGE on
-- the server, so none can map itself to another partition login
CREATE USER MAPPING FOR PUBLIC SERVER product_image OPTIONS (user 'pi_proxy', password 'proxy-secret');
GRANT USAGE ON SCHEMA product_image TO pi_writer, pi_reader, pi_tenant;
GRANT EXECUTE ON FUNCTION product_image.product_save_image(integer, bytea),
                          product_image.product_put_image_info(integer, jsonb),
                          product_image.product_delete_image(integer) TO pi_writer;
GRANT EXECUTE ON FUNCTION product_image.product_save_image(integer, bytea) TO pi_tenant;
CREATE TABLE fixture (name text PRIMARY KEY, img bytea);
\copy fixture FROM PROGRAM 'python3 $ROOT/test/copy_files.py $FX'
\copy fixture FROM PROGRAM 'python3 $ROOT/test/copy_files.py $ROOT/test/fixtures/render'
GRANT SELECT ON fixture TO PUBLIC;
SQL

start_gateway() {  # PORT LOG ARGS...
    local port=$1 log=$2
    shift 2
    "$GW" --listen "127.0.0.1:$port" "$@" 2>>"$log" &
    PIDS="$PIDS $!"
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$port/health" && return 0
        sleep 0.1
    done
    echo "gateway on $port did not start:"; cat "$log"; exit 1
}
dburi() { echo "host=127.0.0.1 port=$1 dbname=shop user=pi_authenticator password=auth-secret"; }

make_standby() {  # [NAME SOURCE_PORT PORT]: a pg_basebackup -R standby, default of partition 0 on $SB
    local name=${1:-standby} from=${2:-$P0} port=${3:-$SB}
    mkdir -p "$RUN/$name"
    chown postgres "$RUN/$name" 2>/dev/null
    as_pg "$PGBIN/pg_basebackup" -h "$RUN/sock" -p "$from" -U postgres -D "$RUN/$name/pgdata" -R -X stream -c fast ||
        { bad "pg_basebackup failed"; return 1; }
    cat >> "$RUN/$name/pgdata/postgresql.auto.conf" <<CONF
port = $port
unix_socket_directories = '$RUN/sock'
hot_standby = on
CONF
    as_pg "$PGBIN/pg_ctl" -D "$RUN/$name/pgdata" -l "$RUN/$name/postgres.log" -w -t 60 start >/dev/null ||
        { tail "$RUN/$name/postgres.log"; bad "$name did not start"; return 1; }
}
flushed_lsn() {  # PORT: the primary's WAL position once every commit so far is flushed
    # (the clusters commit asynchronously; one synchronous commit flushes them all)
    sql "$1" "SET synchronous_commit = on; SELECT txid_current()" >/dev/null
    sql "$1" "SELECT pg_current_wal_lsn()"
}
wait_replayed() {  # [PRIMARY_PORT STANDBY_PORT]: until the standby has replayed all the primary committed
    local from=${1:-$P0} to=${2:-$SB} lsn
    lsn=$(flushed_lsn "$from")
    for _ in $(seq 100); do
        [ "$(sql "$to" "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && return 0
        sleep 0.1
    done
    return 1
}

if [ -n "${PI_SCALEOUT_RESHARD:-}" ]; then
    # ---- resharding 2 -> 4, as docs/scale-out.md describes ----
    for id in $(seq 1 16); do
        sql $P "SET ROLE pi_writer; SELECT product_image.product_save_image($id, img) FROM fixture WHERE name = 'rgb.png'" >/dev/null
    done
    sql $P "SET ROLE pi_writer; SELECT product_image.product_save_image(5, img) FROM fixture WHERE name = 'progressive.jpg'" >/dev/null
    before=$(sql $P "SET ROLE pi_writer; SELECT string_agg(i || ':' || (product_image.product_get_image_info(i)->>'Sha256'), ' ' ORDER BY i)
                     FROM generate_series(1, 16) i")
    for k in 0 1; do
        old=$((P0 + k)) new=$((P0 + k + 2 + 1))  # p2, p3 on BASE + 4, BASE + 5
        make_standby "p$((k + 2))" $old $new || exit 1
        wait_replayed $old $new || bad "p$((k + 2)) did not catch up"
        as_pg "$PGBIN/pg_ctl" -D "$RUN/p$((k + 2))/pgdata" -w promote >/dev/null || bad "promote p$((k + 2))"
        check "split_new_$k" "$(sql $new "SELECT product_image.configure_partition($((k + 2)), 4); DELETE FROM product WHERE id & 3 = $k")" ""
        check "split_old_$k" "$(sql $old "SELECT product_image.configure_partition($k, 4); DELETE FROM product WHERE id & 3 = $((k + 2))")" ""
    done
    sql $P "ALTER SERVER product_image OPTIONS (ADD p2 'host=127.0.0.1 port=$((BASE + 4)) dbname=shop connect_timeout=3',
                                                ADD p3 'host=127.0.0.1 port=$((BASE + 5)) dbname=shop connect_timeout=3')" >/dev/null
    after=$(sql $P "SET ROLE pi_writer; SELECT string_agg(i || ':' || (product_image.product_get_image_info(i)->>'Sha256'), ' ' ORDER BY i)
                    FROM generate_series(1, 16) i")
    check reshard_every_image_readable "$after" "$before"
    for k in 0 1 2 3; do
        port=$((k < 2 ? P0 + k : BASE + k + 2))
        check "reshard_p${k}_only_its_products" "$(sql $port "SELECT count(*) || ' ' || bool_and(product_id & 3 = $k) FROM product_image.blob")" "4 true"
        check "reshard_p${k}_no_orphans" "$(sql $port "SELECT count(*) FROM product_image.blob b WHERE NOT EXISTS (SELECT 1 FROM product p WHERE p.id = b.product_id)")" 0
    done
    for id in $(seq 17 32); do
        sql $P "SET ROLE pi_writer; SELECT product_image.product_save_image($id & 15 + 1, img) FROM fixture WHERE name = 'rgb.jpg'" >/dev/null
    done
    all=""
    for k in 0 1 2 3; do
        port=$((k < 2 ? P0 + k : BASE + k + 2))
        # products 1..16 were re-saved: same blob ids; add a first save of a new product per partition
        sql $port "INSERT INTO product VALUES ($((40 + k)), 'new')" >/dev/null
        sql $P "SET ROLE pi_writer; SELECT product_image.product_save_image($((40 + k)), img) FROM fixture WHERE name = 'rgb.png'" >/dev/null
        check "reshard_p${k}_new_id_residue" "$(sql $port "SELECT blob_id % 4 FROM product_image.blob WHERE product_id = $((40 + k))")" "$(((k + 1) % 4))"
        all="$all $(sql $port "SELECT string_agg(blob_id::text, ' ') FROM product_image.blob")"
    done
    check reshard_blob_ids_unique "$(echo $all | tr ' ' '\n' | sort | uniq -d | wc -l)" 0
    check reshard_blob_count "$(echo $all | wc -w)" 20
    echo "reshard: $PASS passed, $FAILED failed"
    [ "$FAILED" = 0 ]
    exit
fi

if [ -n "${PI_SCALEOUT_BENCH:-}" ]; then
    # ---- the proxy hop: saves per second through the proxy and directly ----
    SECS=${BENCH_SECONDS:-5}
    /usr/bin/python3 "$ROOT/bench/make_images.py" "$TMP/img" >/dev/null
    for n in proxy:$P p0:$P0; do
        "$PGBIN/psql" -X -q -h "$RUN/sock" -p "${n##*:}" -U postgres -d shop \
            -c "CREATE TABLE IF NOT EXISTS bench_image (name text PRIMARY KEY, img bytea)" \
            -c "\\copy bench_image FROM PROGRAM 'python3 $ROOT/test/copy_files.py $TMP/img png_40k.png jpeg_700k.jpg'" >/dev/null
    done
    echo "| image | direct on the partition (saves/s) | through the proxy (saves/s) | proxy / direct | bytes on the proxy hop per save |"
    echo "|---|---|---|---|---|"
    for img in png_40k.png jpeg_700k.jpg; do
        d=(); x=()
        for _ in 1 2 3; do
            printf '\\set pid random(1, 30)\nSET ROLE pi_writer;\nSELECT product_image.product_save_image(:pid * 2, img) FROM bench_image WHERE name = '"'$img'"';\n' > "$TMP/b.sql"
            d+=("$("$PGBIN/pgbench" -n -T "$SECS" -f "$TMP/b.sql" -h "$RUN/sock" -p $P0 -U postgres shop 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')")
            x+=("$("$PGBIN/pgbench" -n -T "$SECS" -f "$TMP/b.sql" -h "$RUN/sock" -p $P -U postgres shop 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')")
        done
        size=$(stat -c %s "$TMP/img/$img")
        /usr/bin/python3 - "$img" "$size" "${d[*]}" "${x[*]}" <<'PY'
import statistics, sys
img, size, d, x = sys.argv[1], int(sys.argv[2]), list(map(float, sys.argv[3].split())), list(map(float, sys.argv[4].split()))
md, mx = statistics.median(d), statistics.median(x)
print(f"| {img} ({size / 1e3:.0f} KB) | {md:.0f} | {mx:.0f} | {mx / md:.2f}x | {2 * size + 2:,} (hex text) |")
PY
    done
    # ---- reads: GET of a 36 KB image through a gateway on partition 0, from the primary
    # and from the standby (--read-db-uri), wrk, 8 connections ----
    make_standby || exit 1
    "$PGBIN/psql" -X -q -h "$RUN/sock" -p $P0 -U postgres -d shop \
        -c "SELECT product_image.product_save_image(2, img) FROM bench_image WHERE name = 'png_40k.png'" >/dev/null
    wait_replayed
    start_gateway $GWPORT "$TMP/g1.log" --db-uri "$(dburi $P0)" --anon-role pi_writer
    start_gateway $((GWPORT + 1)) "$TMP/g2.log" --db-uri "$(dburi $P0)" --read-db-uri "$(dburi $SB)" --anon-role pi_writer
    echo
    echo "| GET Image (36 KB), 8 connections | requests/s, primary | requests/s, standby via --read-db-uri | standby / primary |"
    echo "|---|---|---|---|"
    a=(); b=()
    for _ in 1 2 3; do
        a+=("$(wrk -t 2 -c 8 -d "${SECS}s" "http://127.0.0.1:$GWPORT/api/v1/Product/2/Image" | sed -n 's/^Requests\/sec: *//p')")
        b+=("$(wrk -t 2 -c 8 -d "${SECS}s" "http://127.0.0.1:$((GWPORT + 1))/api/v1/Product/2/Image" | sed -n 's/^Requests\/sec: *//p')")
    done
    /usr/bin/python3 -c 'import statistics, sys; a = statistics.median(map(float, sys.argv[1].split())); b = statistics.median(map(float, sys.argv[2].split())); print(f"| png_40k.png | {a:.0f} | {b:.0f} | {b / a:.2f}x |")' "${a[*]}" "${b[*]}"
    exit 0
fi

# ---- the SQL contract through the proxy ----
save() { sql $P "SET ROLE pi_writer; SELECT product_image.product_save_image($1, img) FROM fixture WHERE name = '$2'"; }
ids=""
for id in 1 2 3 4 5 6 7 8; do
    ids="$ids $(save $id rgb.png)"
done
check blob_ids_unique "$(echo $ids | tr ' ' '\n' | sort -u | wc -l)" 8
check p0_products_even "$(sql $P0 "SELECT count(*) FILTER (WHERE product_id % 2 = 0) || '/' || count(*) FROM product_image.blob")" "4/4"
check p1_products_odd "$(sql $P1 "SELECT count(*) FILTER (WHERE product_id % 2 = 1) || '/' || count(*) FROM product_image.blob")" "4/4"
check p0_ids_odd "$(sql $P0 "SELECT bool_and(blob_id % 2 = 1) FROM product_image.blob")" t
check p1_ids_even "$(sql $P1 "SELECT bool_and(blob_id % 2 = 0) FROM product_image.blob")" t
check get_bytes "$(sql $P "SET ROLE pi_writer; SELECT product_image.product_get_image(3) = img FROM fixture WHERE name = 'rgb.png'")" t
check get_info "$(sql $P "SET ROLE pi_writer; SELECT product_image.product_get_image_info(4)->>'Width'")" 16
check put_info "$(sql $P "SET ROLE pi_writer; SELECT product_image.product_put_image_info(5, '{\"Description\": \"d\"}')->>'Description'")" d
check rendition "$(sql $P "SET ROLE pi_reader; SELECT width || 'x' || height || ' ' || mime_type FROM product_image.product_get_image_rendition(7, 8, 8, 'gif', NULL)")" "8x6 image/gif"
check rendition_blank "$(sql $P "SET ROLE pi_reader; SELECT mime_type FROM product_image.product_get_image_rendition(9, 8, 8, NULL, 'SrNoPhoto')")" "image/png"
check image_info_local "$(sql $P "SELECT (product_image.image_info(img)).width FROM fixture WHERE name = 'rgb.png'")" 16
check delete "$(sql $P "SET ROLE pi_writer; SELECT product_image.product_delete_image(8)")" t
check not_image "$(save 3 not_image.bmp)" "ERROR 0A000 unsupported image format"
check missing_product "$(save 1001 rgb.png)" "ERROR P0002 product 1001 does not exist"
check empty "$(sql $P "SET ROLE pi_writer; SELECT product_image.product_save_image(2, ''::bytea)")" "ERROR 22004 Image bitmap is missing from body."
check reader_cannot_save "$(sql $P "SET ROLE pi_reader; SELECT product_image.product_save_image(2, img) FROM fixture WHERE name = 'rgb.png'")" \
    "ERROR 42501 permission denied for function product_save_image"
# the caller's role reaches the partition: its GRANTs and RLS decide, and CreatedBy names it
check proxy_created_by "$(sql $P "SET ROLE pi_writer; SELECT product_image.product_get_image_info(1)->>'CreatedBy'")" pi_writer
check proxy_superuser_not_carried "$(sql $P "SELECT product_image.product_get_image_info(1)")" \
    "ERROR 42501 permission denied to set role \"postgres\""
check proxy_rls_hidden "$(sql $P "SET ROLE pi_tenant; SELECT product_image.product_save_image(41, img) FROM fixture WHERE name = 'rgb.png'")" \
    "ERROR P0002 product 41 does not exist"
check proxy_rls_visible "$(sql $P "SET ROLE pi_tenant; SELECT product_image.product_save_image(31, img) > 0 FROM fixture WHERE name = 'rgb.png'")" t
check proxy_rls_read_hidden "$(sql $P "SET ROLE pi_tenant; SELECT product_image.product_get_image_info(3) IS NOT NULL, product_image.product_get_image_info(41) IS NULL")" "t|t"
check proxy_reader_no_mapping "$(sql $P "SET ROLE pi_reader; CREATE USER MAPPING FOR pi_reader SERVER product_image OPTIONS (user 'postgres')")" \
    "ERROR 42501 permission denied for foreign server product_image"
check proxy_remote_not_public "$(sql $P "SET ROLE pi_writer; SELECT product_image.remote_save_image('postgres', 2, img) FROM fixture WHERE name = 'rgb.png'")" \
    "ERROR 42501 permission denied for function remote_save_image"
check partition_login_needs_password "$(PGPASSWORD= "$PGBIN/psql" -X -w -h 127.0.0.1 -p $P0 -U pi_proxy -d shop -c 'SELECT 1' 2>&1 | grep -c 'password')" 1
as_proxy_login() { PGPASSWORD=proxy-secret "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p $P0 -U pi_proxy -d shop -c "$1" 2>&1 | sed -nE 's/^(psql:[^ ]* )?ERROR:  (.*)$/ERROR \2/p'; }
check partition_login_acts_only_for_its_roles "$(as_proxy_login "SELECT product_image.partition_save_image('postgres', 2, '\\x00'::bytea)")" \
    'ERROR permission denied to set role "postgres"'
check partition_login_names_a_role "$(as_proxy_login "SELECT product_image.partition_get_image('pi_proxy', 2)")" \
    'ERROR a proxied call must name the role it acts for, not pi_proxy'
# install: plproxy in a schema a non-superuser owns (it could drop the handler) is refused
check proxy_plproxy_squatted "$(PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -X -q -At -h "$RUN/sock" -p $P -U postgres -d postgres \
    -c "DROP DATABASE IF EXISTS squat" -c "CREATE DATABASE squat" -c '\c squat' \
    -c "CREATE SCHEMA squatted AUTHORIZATION pi_reader" -c "CREATE EXTENSION plproxy SCHEMA squatted" \
    -c "CREATE EXTENSION product_image_proxy" 2>&1 | sed -n 's/^.*ERROR:  //p')" \
    "plproxy is installed in a schema that a role other than a superuser owns (so it could drop it)"
check partition_fixed "$(sql $P0 "SELECT product_image.configure_partition(1, 2)")" "ERROR 55000 this node is partition 0 of 2, not 1 of 2"
check partition_same "$(sql $P0 "SELECT product_image.configure_partition(0, 2)")" ""
check partition_not_power_of_two "$(sql $P0 "SELECT product_image.configure_partition(0, 3)")" "ERROR 22023 partition 0 of 3 is not valid"

# ---- the HTTP contract through the proxy ----
G=$GWPORT
start_gateway $G "$TMP/gw.log" --db-uri "$(dburi $P)" --anon-role pi_writer
url() { echo "http://127.0.0.1:$1/api/v1/Product/$2/$3"; }
code() { curl -s -o "$TMP/body" -w '%{http_code}' "$@"; }
check http_put_even "$(code -X PUT --data-binary @"$FX/rgb.jpg" -H 'Content-Type: image/jpeg' "$(url $G 10 Image)")" 200
check http_put_odd "$(code -X PUT --data-binary @"$FX/rgb.jpg" -H 'Content-Type: image/jpeg' "$(url $G 11 Image)")" 200
check http_get "$(code "$(url $G 11 Image)")" 200
cmp -s "$TMP/body" "$FX/rgb.jpg" && ok || bad "http_get: not the saved bytes"
check http_rendition "$(code "$(url $G 11 Image)?w=8&type=png")" 200
check http_info "$(code -H 'Accept: application/xml' "$(url $G 10 ImageInfo)")" 200
check http_415 "$(code -X PUT --data-binary @"$FX/not_image.bmp" -H 'Content-Type: application/octet-stream' "$(url $G 11 Image)")" 415
grep -q '"message":"unsupported image format"' "$TMP/body" && ! grep -q 'REMOTE' "$TMP/body" && ok ||
    bad "http_415: error body not as on one node: $(cat "$TMP/body")"
check http_missing_404 "$(code -X PUT --data-binary @"$FX/rgb.png" -H 'Content-Type: image/png' "$(url $G 1001 Image)")" 404
grep -q '"message":"product 1001 does not exist"' "$TMP/body" && ok || bad "http_missing_404: body $(cat "$TMP/body")"
check http_delete "$(code -X DELETE "$(url $G 10 Image)")" 204

# ---- a partition down, then back ----
node p1 $P1 stop
check down_odd_503 "$(code -X PUT --data-binary @"$FX/rgb.png" -H 'Content-Type: image/png' "$(url $G 13 Image)")" 503
check down_odd_get_503 "$(code "$(url $G 11 Image)")" 503
check down_even_200 "$(code -X PUT --data-binary @"$FX/rgb.png" -H 'Content-Type: image/png' "$(url $G 12 Image)")" 200
check down_even_get_200 "$(code "$(url $G 12 ImageInfo)")" 200
node p1 $P1 start
check healed_odd "$(code -X PUT --data-binary @"$FX/rgb.png" -H 'Content-Type: image/png' "$(url $G 13 Image)")" 200
check healed_get "$(code "$(url $G 11 Image)")" 200

# ---- a streaming standby of partition 0, and a gateway reading from it ----
make_standby || exit 1
check standby_in_recovery "$(sql $SB "SELECT pg_is_in_recovery()")" t
R=$((G + 1))
start_gateway $R "$TMP/replica.log" --db-uri "$(dburi $P0)" --read-db-uri "$(dburi $SB)" --anon-role pi_writer
wait_replayed || bad "the standby did not catch up"
gw_sessions() { sql $SB "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'product-image-gateway'"; }
check replica_unused_before "$(gw_sessions)" 0
check replica_get "$(code "$(url $R 4 Image)")" 200
cmp -s "$TMP/body" "$FX/rgb.png" && ok || bad "replica_get: not the bytes partition 0 holds"
check replica_info "$(code "$(url $R 4 ImageInfo)")" 200
[ "$(gw_sessions)" -ge 1 ] && ok || bad "replica_get: the gateway has no session on the standby"
grep -q '"Sha256"' "$TMP/body" && ok || bad "replica_info: body $(cat "$TMP/body")"
# read one's own write: a PUT, then at once a GET of the same product
check own_write_put "$(code -X PUT --data-binary @"$FX/progressive.jpg" -H 'Content-Type: image/jpeg' "$(url $R 6 Image)")" 200
check own_write_get "$(code "$(url $R 6 Image)")" 200
cmp -s "$TMP/body" "$FX/progressive.jpg" && ok || bad "own_write_get: read the old image"
# A standby whose replay is paused (it still receives the WAL), after
# it has replayed one commit (so its lag is known, not infinite):
# - a gateway allowing no lag reads product 4, rewritten on the primary by
#   hand, from the primary;
# - a gateway allowing any lag reads a product it has just written from the
#   primary (read-own-writes), though the standby still has the old image.
sql $P0 "SELECT product_image.product_put_image_info(2, '{\"Description\": \"tick\"}')" >/dev/null
wait_replayed || bad "the standby did not catch up"
# replay paused and holding back product 4's new image (the startup process
# may apply what was in flight when it confirmed the pause: then try again,
# from product 4's old image replayed)
held=f
for _ in 1 2 3 4 5; do
    sql $P0 "SELECT product_image.product_save_image(4, product_image.product_get_image(2))" >/dev/null
    wait_replayed || bad "the standby did not catch up"
    sql $SB "SELECT pg_wal_replay_pause()" >/dev/null
    for _ in $(seq 100); do
        [ "$(sql $SB "SELECT pg_get_wal_replay_pause_state()")" = paused ] && break
        sleep 0.1
    done
    sql $P0 "SELECT product_image.product_save_image(4, product_image.product_get_image(6))" >/dev/null
    lsn=$(flushed_lsn $P0)
    for _ in $(seq 300); do
        [ "$(sql $SB "SELECT pg_last_wal_receive_lsn() >= '$lsn'")" = t ] && break
        sleep 0.1
    done
    held=$(sql $SB "SELECT pg_last_wal_receive_lsn() >= '$lsn' AND pg_last_wal_replay_lsn() < '$lsn'")
    [ "$held" = t ] && break
    sql $SB "SELECT pg_wal_replay_resume()" >/dev/null
done
check standby_holds_back_the_save "$held" t
L=$((G + 2)) O=$((G + 3))
start_gateway $L "$TMP/lag.log" --db-uri "$(dburi $P0)" --read-db-uri "$(dburi $SB)" --anon-role pi_writer \
    --read-max-lag 0 --read-own-writes 0
start_gateway $O "$TMP/own.log" --db-uri "$(dburi $P0)" --read-db-uri "$(dburi $SB)" --anon-role pi_writer \
    --read-max-lag 2000000000 --read-own-writes 60000
check standby_still_old "$(sql $SB "SELECT product_image.product_get_image(4) = product_image.product_get_image(2)")" t
check lagging_replica_get "$(code "$(url $L 4 Image)")" 200
cmp -s "$TMP/body" "$FX/progressive.jpg" && ok || bad "lagging_replica_get: served the standby's old image"
check own_write_delayed_put "$(code -X PUT --data-binary @"$FX/rgb.jpg" -H 'Content-Type: image/jpeg' "$(url $O 8 Image)")" 200
check own_write_delayed_standby_old "$(sql $SB "SELECT count(*) FROM product_image.blob WHERE product_id = 8")" 0
check own_write_delayed_get "$(code "$(url $O 8 Image)")" 200
cmp -s "$TMP/body" "$FX/rgb.jpg" && ok || bad "own_write_delayed_get: read the standby, not the own write"
# the control: the same gateway reads other products from the (stale) standby
check other_product_from_standby "$(code "$(url $O 4 Image)")" 200
cmp -s "$TMP/body" "$FX/rgb.png" && ok || bad "other_product_from_standby: not the standby's old image"
sql $SB "SELECT pg_wal_replay_resume()" >/dev/null

# the standby gone: reads go to the primary
as_pg "$PGBIN/pg_ctl" -D "$RUN/standby/pgdata" -m fast -w stop >/dev/null
check replica_down_get "$(code "$(url $R 4 Image)")" 200
cmp -s "$TMP/body" "$FX/progressive.jpg" && ok || bad "replica_down_get: wrong bytes"

echo "scaleout: $PASS passed, $FAILED failed"
[ "$FAILED" = 0 ]
