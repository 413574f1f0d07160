# test/lib.sh: what the shell test harnesses share.  Sourced, once ROOT is set:
#   ROOT=$(cd "$(dirname "$0")/.." && pwd)
#   . "$ROOT/test/lib.sh"
# Plain sh (dash sources it too); nothing here runs a test by itself.
#
# Sourcing it makes $TMP (a fresh directory) and sets an EXIT trap that calls
# cleanup: the gateways start_gateway(_uri) started are stopped and $TMP removed
# (kept, and named, with PI_KEEP set).  A harness with more to clean redefines
# cleanup after sourcing (calling stop_gateways itself), or sets its own trap.

# ---- counting: every check ends in ok or bad; summary prints the line CI
# parses ("NAME: N passed, M failed") and answers whether all passed ----
PASS=0
FAILED=0
ok() { PASS=$((PASS + 1)); }
bad() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
check() {  # NAME GOT WANT
    if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
summary() {  # NAME [NOTE]: "NAME: N passed, M failed[ NOTE]"
    echo "$1: $PASS passed, $FAILED failed${2:+ $2}"
    [ "$FAILED" = 0 ]
}

# ---- a scratch directory, and what is left running ----
TMP=$(mktemp -d)
PIDS=""
stop_gateways() {  # (|| true: a harness under set -e keeps its exit status)
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
cleanup() {
    stop_gateways
    # the gateways' access logs, for the OpenAPI contract test (test/openapi.sh)
    if [ -n "${PI_ACCESS_LOG_DIR:-}" ]; then
        mkdir -p "$PI_ACCESS_LOG_DIR"
        for f in "$TMP"/*.log; do
            [ -f "$f" ] && cp "$f" "$PI_ACCESS_LOG_DIR/$(basename "$0" .sh)-$(basename "$f")"
        done
    fi
    if [ -n "${PI_KEEP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# ---- the gateway over HTTP ----
# start_gateway_uri PORT LOG DB_URI ARGS...: $GW on 127.0.0.1:PORT with
# --db-uri DB_URI and ARGS (the environment passes through), its stderr
# appended to LOG, its pid in $GWPID and added to $PIDS; the harness exits
# (printing LOG) when /health does not answer within GATEWAY_START_TRIES
# tenths of a second (default 50).
start_gateway_uri() {
    local port=$1 log=$2 uri=$3
    shift 3
    "$GW" --listen "127.0.0.1:$port" --db-uri "$uri" "$@" 2>>"$log" &
    GWPID=$!
    PIDS="$PIDS $GWPID"
    for _ in $(seq "${GATEWAY_START_TRIES:-50}"); do
        curl -s -o /dev/null "http://127.0.0.1:$port/health" && return 0
        sleep 0.1
    done
    echo "gateway on $port did not start:"; cat "$log"; exit 1
}
# start_gateway PORT LOG ARGS...: the same, logged in to $DB on the private
# cluster ($PGPORT) as pi_authenticator (see gateway_roles_sql)
start_gateway() {
    local port=$1 log=$2
    shift 2
    start_gateway_uri "$port" "$log" "host=127.0.0.1 port=$PGPORT dbname=$DB user=pi_authenticator password=auth-secret" "$@"
}
url() { echo "http://127.0.0.1:$1/api/v1/Product/$2/$3"; }  # PORT PRODUCT Image|ImageInfo
# expect NAME STATUS [BODY_SUBSTRING] -- curl args...: the answer's status
# (and body) as wanted; its body in $TMP/body, its headers in $TMP/headers
expect() {
    local name=$1 want=$2 sub=$3
    shift 4
    local got
    got=$(curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@")
    if [ "$got" != "$want" ]; then
        bad "$name: status $got, want $want; body: $(head -c 300 "$TMP/body")"
    elif [ -n "$sub" ] && ! grep -qF -- "$sub" "$TMP/body"; then
        bad "$name: body lacks '$sub': $(head -c 300 "$TMP/body")"
    else
        ok
    fi
}
header_has() {  # NAME PATTERN: the last expect's headers match PATTERN (any case)
    if grep -qi -- "$2" "$TMP/headers"; then ok; else bad "$1: no header '$2' in $(tr '\r\n' '  ' < "$TMP/headers")"; fi
}

# ---- a database set up as the README says, for the gateway harnesses ----
# Each prints SQL lines for the harness's own psql script (its DO block and
# its database), so a harness adds what only it needs around them.
gateway_roles_sql() {  # inside a DO block: the login and the roles it acts for
    cat <<'SQL'
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pi_authenticator') THEN
    CREATE ROLE pi_authenticator LOGIN NOINHERIT PASSWORD 'auth-secret';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pi_writer') THEN CREATE ROLE pi_writer NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pi_reader') THEN CREATE ROLE pi_reader NOLOGIN; END IF;
SQL
}
gateway_fresh_sql() {  # DB: a fresh database, the login and the roles it acts for, granted
    cat <<SQL
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $1;
CREATE DATABASE $1;
DO \$\$ BEGIN
$(gateway_roles_sql)
END \$\$;
GRANT pi_writer, pi_reader TO pi_authenticator;
SQL
}
gateway_login_sql() {  # pi_basic_user, a writer that logs in with a password, which the authenticator may become
    cat <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pi_basic_user') THEN
    CREATE ROLE pi_basic_user LOGIN PASSWORD 'basic-pass';
  END IF;
END $$;
GRANT pi_writer TO pi_basic_user;
GRANT pi_basic_user TO pi_authenticator;
SQL
}
gateway_shop_sql() {  # connected to the new database: products 1..100, attached, granted
    cat <<'SQL'
CREATE EXTENSION product_image;
CREATE TABLE product (id int PRIMARY KEY, name text);
INSERT INTO product SELECT g, 'p' || g FROM generate_series(1, 100) g;
SELECT product_image.attach('product');
GRANT USAGE ON SCHEMA product_image TO pi_writer, pi_reader;
GRANT EXECUTE ON FUNCTION product_image.product_save_image(integer, bytea),
                          product_image.product_put_image_info(integer, jsonb),
                          product_image.product_delete_image(integer),
                          product_image.product_save_image(integer, bytea, text, text),
                          product_image.product_delete_image(integer, text),
                          product_image.product_put_image_info(integer, jsonb, text) TO pi_writer;
-- which products each role may see (row-level security applies); no right on product_image's tables
GRANT SELECT ON product TO pi_writer, pi_reader;
-- cookie sessions: the authenticator turns a session into its role, and ends it
GRANT USAGE ON SCHEMA product_image TO pi_authenticator;
GRANT EXECUTE ON FUNCTION product_image.session_role(uuid), product_image.session_close(uuid)
    TO pi_authenticator;
SQL
}

# floors_check NAME DIR OBJECT...: every symbol an object takes from another
# of these objects (nm) is defined on a strictly lower floor, as the caller's
# floor() function says; prints the violations, sets $fail, counts $calls.
floors_check() {
    _name=$1 _dir=$2
    shift 2
    for _o in "$@"; do
        nm -g --defined-only "$_dir/$_o" | awk -v o="$_o" 'NF == 3 { print $3, o }'
    done | sort > "$TMP/defined"
    calls=0
    for _o in "$@"; do
        _fo=$(floor "$_o")
        nm -u "$_dir/$_o" | awk '{ print $NF }' | sort > "$TMP/undef"
        join "$TMP/undef" "$TMP/defined" > "$TMP/uses" || true
        while read -r _sym _def; do
            calls=$((calls + 1))
            _fd=$(floor "$_def")
            if [ "$_def" = "$_o" ] || [ "$_fd" -ge "$_fo" ]; then
                echo "$_name floors: $_o (floor $_fo) uses $_sym from $_def (floor $_fd)"
                fail=1
            fi
        done < "$TMP/uses"
        echo "$calls $fail" > "$TMP/calls"
    done
    read -r calls fail < "$TMP/calls"
}
