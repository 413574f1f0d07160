#!/bin/bash
# The OpenAPI document (gateway/openapi.json): it lints clean with
# @redocly/cli's recommended rules (none switched off, warnings count), it is
# served as is at /openapi.json, and it describes the real gateway both ways
# (test/openapi_contract.py): every route and status the HTTP harnesses
# produced is described (their access logs, PI_ACCESS_LOG_DIR), nothing
# described is missing, and live answers validate against its schemas.
# Runs after the HTTP harnesses in the test command.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
GW=${PI_GATEWAY:-$ROOT/gateway/product-image-gateway}
DB=pi_openapi
P=${PI_OPENAPI_PORT:-18781}
BARE=$((P + 1))
SECRET=0123456789abcdef0123456789abcdef-openapi
NPM=$ROOT/test/browser

# ---- lint: no error, no warning ----
if [ ! -x "$NPM/node_modules/.bin/redocly" ]; then
    bad "lint: @redocly/cli missing (scripts/install-deps --browser)"
else
    (cd "$NPM" && timeout 120 node_modules/.bin/redocly lint --format=stylish "$ROOT/gateway/openapi.json") > "$TMP/lint" 2>&1
    if grep -q 'Your API description is valid' "$TMP/lint" && ! grep -qiE '(warning|error) ' "$TMP/lint"; then
        ok
    else
        bad "lint: $(grep -iE 'warning|error' "$TMP/lint" | head -10)"
    fi
fi

# ---- the contract ----
psql -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null
$(gateway_fresh_sql $DB)
$(gateway_login_sql)
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pi_nobody') THEN CREATE ROLE pi_nobody NOLOGIN; END IF;
END \$\$;
GRANT pi_nobody TO pi_authenticator;
\c $DB
$(gateway_shop_sql)
SQL
mkdir -p "$TMP/logs"
start_gateway $P "$TMP/logs/gw.log" --anon-role pi_reader --session-secret "$SECRET" --jwt-secret "$SECRET" \
    --max-body 100000
start_gateway $BARE "$TMP/logs/bare.log" --anon-role ""
/usr/bin/python3 "$ROOT/test/openapi_contract.py" "$ROOT/gateway/openapi.json" \
    "${PI_ACCESS_LOG_DIR:--}:$TMP/logs" "http://127.0.0.1:$P" "http://127.0.0.1:$BARE" \
    pi_basic_user basic-pass "$ROOT/test/fixtures/rgb.png" \
    "$(python3 "$ROOT/test/jwt.py" "$SECRET" '{"role":"pi_nobody"}')" > "$TMP/contract" 2>&1
while read -r line; do
    case $line in
        ok\ *) ok ;;
        FAIL:*) bad "${line#FAIL: }" ;;
    esac
done < "$TMP/contract"
grep '^openapi: ' "$TMP/contract" || true
grep -q '^contract: ' "$TMP/contract" || bad "openapi_contract.py did not finish: $(tail -5 "$TMP/contract")"
summary openapi
