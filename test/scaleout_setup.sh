# The scale-out topology, shared by test/scaleout.sh and bench/scaleout
# (sourced by bash, after ROOT is set): one PL/Proxy node and two partitions,
# all private clusters on loopback ports, every one reachable in $RUN/sock;
# the pi_* roles, 60 products split by residue, the test fixtures on the proxy
# (table fixture).  Gives the ports ($P the proxy, $P0 and $P1 the partitions,
# $SB for a standby, $GWPORT.. for gateways), sql, node, as_pg, dburi,
# make_standby and wait_replayed, and test/lib.sh's helpers; everything is
# torn down on exit unless PI_KEEP is set.
cd "$ROOT"
. "$ROOT/test/lib.sh"
BASE=${PI_SCALEOUT_PORT:-24351}
GWPORT=${PI_SCALEOUT_HTTP_PORT:-18291}
# The nodes' files and sockets: under the clone when the postgres user can
# reach it, else (a clone in a 0700 home or mktemp -d, as root) in a
# directory of their own under /tmp
RUN=${PI_SCALEOUT_RUN:-$ROOT/.run/scaleout}
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$ROOT" 2>/dev/null; then
    RUN=$(mktemp -d /tmp/product_image-scaleout.XXXXXX)
    chmod 755 "$RUN"
fi
GW=$ROOT/gateway/product-image-gateway
FX=$ROOT/test/fixtures
PGBIN=$(pg_config --bindir)
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
    stop_gateways
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
# PI_KEEP: leave the clusters, the gateways and $TMP as they are
[ -z "${PI_KEEP:-}" ] || trap - EXIT

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
-- as on one node (README): the gateway's fast path calls these on the partition
GRANT EXECUTE ON FUNCTION product_image.product_save_image(integer, bytea),
                          product_image.product_save_image(integer, bytea, text, text),
                          product_image.product_put_image_info(integer, jsonb),
                          product_image.product_put_image_info(integer, jsonb, text),
                          product_image.product_delete_image(integer),
                          product_image.product_delete_image(integer, text) TO pi_writer;
-- which products each role may see (row-level security applies); no right on product_image's tables
GRANT SELECT ON product TO pi_writer, pi_reader, pi_tenant;
GRANT EXECUTE ON FUNCTION product_image.product_save_image(integer, bytea) TO pi_tenant;
GRANT USAGE ON SCHEMA product_image TO pi_tenant, pi_proxy;
GRANT EXECUTE ON FUNCTION product_image.partition_save_image(name, integer, bytea),
    product_image.partition_get_image(name, integer),
    product_image.partition_get_image_rendition(name, integer, integer, integer, text, text, text, text, boolean),
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
-- as a single node's README grants it for sessions (which a proxy node lacks: 501)
GRANT USAGE ON SCHEMA product_image TO pi_authenticator;
CREATE TABLE fixture (name text PRIMARY KEY, img bytea);
\copy fixture FROM PROGRAM 'python3 $ROOT/test/copy_files.py $FX'
\copy fixture FROM PROGRAM 'python3 $ROOT/test/copy_files.py $ROOT/test/fixtures/render'
GRANT SELECT ON fixture TO PUBLIC;
SQL

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
