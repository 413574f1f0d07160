#!/bin/bash
# HTTP as browsers and SuperOffice's clients use it (issue 14): cookie
# sessions with the XSRF token and SoTicket, the seed's headers (SO-Language
# and Accept-Language in en and sv, SO-TimeZone, SO-AppToken, request.headers
# for SQL, --app-tokens), ImageInfo's ETag and If-Match.  Needs the private
# cluster (scripts/cluster env) and an installed extension.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
GW=${PI_GATEWAY:-$ROOT/gateway/product-image-gateway}
FX=$ROOT/test/fixtures
DB=pi_session
P=${PI_SESSION_PORT:-18581}
TOKENS=$((P + 1))
SESSION_SECRET=abcdefghijklmnopqrstuvwxyz-0123456789-session
JAR=$TMP/jar

psql -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null
$(gateway_fresh_sql $DB)
$(gateway_login_sql)
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pi_su') THEN
    CREATE ROLE pi_su LOGIN SUPERUSER PASSWORD 'su-pass';
  END IF;
END \$\$;
\c $DB
$(gateway_shop_sql)
-- SQL sees the request's headers: product 90 is only for the shop's app
ALTER TABLE product ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_app ON product FOR SELECT USING (
    id <> 90 OR coalesce(current_setting('request.headers', true), '') <> ''
    AND (current_setting('request.headers', true)::json ->> 'so-apptoken') = 'shop-app');
SQL
start_gateway $P "$TMP/gw.log" --anon-role pi_reader --session-secret "$SESSION_SECRET"
printf '# the shop\nshop-app\n  other-app  # a comment\n\n' > "$TMP/tokens"
start_gateway $TOKENS "$TMP/tokens.log" --anon-role pi_writer --app-tokens "$TMP/tokens"
U="http://127.0.0.1:$P"
img() { echo "$U/api/v1/Product/$1/Image"; }
info() { echo "$U/api/v1/Product/$1/ImageInfo"; }
login() { curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -c "$JAR" -H 'Content-Type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"$2\"}" "$U/api/v1/Session"; }
cookie() { awk -v n="$1" '$6 == n { print $7 }' "$JAR"; }

# ---- --session-secret: at least 32 characters, or the gateway does not start ----
if "$GW" --db-uri "dbname=x" --session-secret short >/dev/null 2>"$TMP/short"; then
    bad "short_secret: the gateway started"
else
    grep -q 'session-secret must be at least 32' "$TMP/short" && ok || bad "short_secret: $(cat "$TMP/short")"
fi

# ---- login ----
check login_wrong_password "$(login pi_basic_user nope)" 401
grep -qi '^Set-Cookie' "$TMP/headers" && bad "login_wrong_password: a cookie was set" || ok
check login_superuser "$(login pi_su su-pass)" 401
check login_ok "$(login pi_basic_user basic-pass)" 200
header_has login_session_cookie 'Set-Cookie: pi_session=[^;]*; Path=/; Max-Age=[0-9]*; HttpOnly; SameSite=Lax'
header_has login_xsrf_cookie 'Set-Cookie: XSRF-TOKEN=[^;]*; Path=/; Max-Age=[0-9]*; SameSite=Lax'
grep -i '^Set-Cookie: XSRF-TOKEN' "$TMP/headers" | grep -qi httponly && bad "login_xsrf_cookie: HttpOnly (scripts must read it)" || ok
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["role"]=="pi_basic_user" and d["ticket"] else 1)' "$TMP/body" \
    && ok || bad "login_answer: $(cat "$TMP/body")"
TICKET=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ticket"])' "$TMP/body")
XSRF=$(cookie XSRF-TOKEN)
SESSION=$(cookie pi_session)
[ -n "$XSRF" ] && [ -n "$SESSION" ] && ok || bad "login: cookies not in the jar"
expect login_bad_body 400 '"code":"22023"' -- -H 'Content-Type: application/json' -d '{"user": 1}' "$U/api/v1/Session"
expect login_cross_site 403 '' -- -H 'Origin: https://evil.example' -d '{"username": "pi_basic_user", "password": "basic-pass"}' "$U/api/v1/Session"

# ---- what an outside tester found: bounded logins, whole Basic credentials ----
# a login body is read before any credential is checked: 4096 bytes at most
/usr/bin/python3 -c 'import sys; sys.stdout.write("{\"username\":\"x\",\"password\":\"" + "a" * 100000 + "\"}")' > "$TMP/big_login.json"
expect login_body_bounded 413 '' -- -H 'Content-Type: application/json' --data-binary @"$TMP/big_login.json" "$U/api/v1/Session"
# SCRAM hashes the password thousands of times: past 1024 bytes PostgreSQL is never asked
long=$(head -c 2000 /dev/zero | tr '\0' a)
expect login_long_password 401 '' -- -H 'Content-Type: application/json' -d "{\"username\":\"pi_basic_user\",\"password\":\"$long\"}" "$U/api/v1/Session"
expect basic_long_password 401 '' -- -u "pi_basic_user:$long" "$(info 1)"
expect basic_long_user 401 '' -- -u "$(head -c 100 /dev/zero | tr '\0' u):x" "$(info 1)"
# libmicrohttpd hands over C strings: a password with a NUL in it is refused, not cut
expect basic_nul_in_password 401 '' -- -H "Authorization: Basic $(printf 'pi_basic_user:basic-pass\0zzz' | base64 -w0)" "$(info 1)"
expect basic_whole 404 '' -- -H "Authorization: Basic $(printf 'pi_basic_user:basic-pass' | base64 -w0)" "$(info 1)"
# an Authorization header that says nothing is no anonymous request
expect authorization_empty 401 '' -- -H 'Authorization;' "$(info 1)"
# a login's own defaults cannot change who Basic acts as, nor the encoding of our answers
psql -X -q -d $DB -c "ALTER ROLE pi_basic_user SET role = 'pi_reader'" -c "ALTER ROLE pi_basic_user SET client_encoding = 'SJIS'" >/dev/null
expect basic_role_default_ignored 200 '' -- -u pi_basic_user:basic-pass -X PUT --data-binary @"$FX/rgb.png" "$(img 6)"
expect basic_encoding_default_ignored 200 '"Description": "ア\\x"' -- -u pi_basic_user:basic-pass -X PUT -d '{"Description":"ア\\x"}' "$(info 6)"
psql -X -q -d $DB -c "ALTER ROLE pi_basic_user RESET ALL" >/dev/null

# ---- what a second outside round found ----
# a pi_session planted with a narrower Path would be sent first: two are refused
FIX=$(awk '$6 == "pi_session" { print $7 }' "$JAR")
expect two_session_cookies 401 'more than one session cookie' -- -H "Cookie: pi_session=$FIX; pi_session=$FIX" "$(info 1)"
expect two_cookie_headers 400 'Cookie given twice' -- -H 'Cookie: a=b' -H "Cookie: pi_session=$FIX" "$(info 1)"
# Basic decodes whole: nothing may follow the padding
expect basic_after_padding 401 '' -- -H "Authorization: Basic $(printf 'pi_basic_user:basic-pass' | base64 -w0)$(printf 'x:y' | base64 -w0)" "$(info 1)"
# DNS rebinding: a loopback gateway answers only for loopback names
expect host_other_name 421 'host' -- -H 'Host: evil.example' "$(info 1)"
expect host_other_name_login 421 '' -- -H 'Host: evil.example' -H 'Origin: http://evil.example' -H 'Content-Type: application/json' -d '{"username":"pi_basic_user","password":"basic-pass"}' "$U/api/v1/Session"
expect host_localhost 404 '' -- -H "Host: localhost:$P" "$(info 1)"
# a login's default role is not what Basic checks it by: a superuser whose
# default role is an ordinary one is still a superuser (code review)
psql -X -q -d $DB -c "ALTER ROLE pi_su SET role = 'pi_reader'" >/dev/null
expect basic_superuser_with_default_role 401 '' -- -u pi_su:su-pass "$(info 1)"
psql -X -q -d $DB -c "ALTER ROLE pi_su RESET ALL" >/dev/null
# a session's role is judged again at every request: NOLOGIN ends its sessions
MAIN_JAR=$JAR
JAR=$TMP/jar_nologin
check login_before_nologin "$(login pi_basic_user basic-pass)" 200
expect session_before_nologin 404 '' -- -b "$JAR" "$(info 1)"
psql -X -q -d $DB -c "ALTER ROLE pi_basic_user NOLOGIN" >/dev/null
expect session_after_nologin 401 '"code":"28000"' -- -b "$JAR" "$(info 1)"
psql -X -q -d $DB -c "ALTER ROLE pi_basic_user LOGIN" >/dev/null
expect session_login_again 404 '' -- -b "$JAR" "$(info 1)"
JAR=$MAIN_JAR
# an error's words depend on the languages asked for: caches key on them
expect vary_languages 404 '' -- -H 'Accept-Language: sv' "$(info 1)"
header_has vary_languages_header 'Vary: Accept-Language, SO-Language'
# what credentials read is private to caches
expect private_cache 200 '' -- -u pi_basic_user:basic-pass -X PUT --data-binary @"$FX/rgb.png" "$(img 7)"
sha=$(sha256sum "$FX/rgb.png" | cut -c1-16)
expect private_immutable 200 '' -- -u pi_basic_user:basic-pass "$(img 7)?v=$sha"
header_has private_immutable_header 'Cache-Control: private, max-age=31536000, immutable'
expect public_immutable 200 '' -- "$(img 7)?v=$sha"
header_has public_immutable_header 'Cache-Control: max-age=31536000, immutable'

# ---- the cookie session: reads, and writes with the XSRF token ----
expect cookie_read_no_image 404 '' -- -b "$JAR" "$(info 1)"
expect cookie_write_no_token 403 'XSRF' -- -b "$JAR" -X PUT --data-binary @"$FX/rgb.png" "$(img 1)"
expect cookie_write_wrong_token 403 'XSRF' -- -b "$JAR" -H 'X-XSRF-TOKEN: nope' -X PUT --data-binary @"$FX/rgb.png" "$(img 1)"
expect cookie_write 200 '' -- -b "$JAR" -H "X-XSRF-TOKEN: $XSRF" -X PUT --data-binary @"$FX/rgb.png" "$(img 1)"
expect cookie_reads_as_role 200 '"UpdatedBy": "pi_basic_user"' -- -b "$JAR" "$(info 1)"
# an HTML form: the token as the field __RequestVerificationToken
expect cookie_form 200 '' -- -b "$JAR" -F "__RequestVerificationToken=$XSRF" -F "file=@$FX/rgb.jpg" "$(img 2)"
expect cookie_form_no_token 403 'XSRF' -- -b "$JAR" -F "file=@$FX/rgb.jpg" "$(img 2)"
expect cookie_form_wrong_token 403 'XSRF' -- -b "$JAR" -F "__RequestVerificationToken=x$XSRF" -F "file=@$FX/rgb.jpg" "$(img 2)"
# from another site, even with the token: refused before the body
expect cookie_cross_site 403 'another site' -- -b "$JAR" -H "X-XSRF-TOKEN: $XSRF" -H 'Origin: https://evil.example' -X PUT --data-binary @"$FX/rgb.png" "$(img 3)"
# a cookie that is not ours: 401, never the anonymous role
expect cookie_forged 401 '"code":"28000"' -- -b "pi_session=${SESSION%.*}.AAAA" "$(info 1)"
expect cookie_garbage 401 '' -- -b 'pi_session=garbage' "$(info 1)"

# ---- SoTicket: the same session, carried explicitly: no XSRF token needed ----
expect ticket_write 200 '' -- -H "Authorization: SoTicket $TICKET" -X PUT --data-binary @"$FX/rgb.jpg" "$(img 3)"
expect ticket_forged 401 '' -- -H "Authorization: SoTicket ${TICKET}x" "$(info 3)"

# ---- logout: itself an unsafe request; the server forgets the session ----
expect logout_no_token 403 'XSRF' -- -b "$JAR" -X DELETE "$U/api/v1/Session"
expect logout 204 '' -- -b "$JAR" -H "X-XSRF-TOKEN: $XSRF" -X DELETE "$U/api/v1/Session"
header_has logout_clears_session 'Set-Cookie: pi_session=; Path=/; Max-Age=0'
header_has logout_clears_xsrf 'Set-Cookie: XSRF-TOKEN=; Path=/; Max-Age=0'
expect logout_replayed_cookie 401 '"code":"28000"' -- -b "pi_session=$SESSION" "$(info 1)"
expect logout_replayed_ticket 401 '' -- -H "Authorization: SoTicket $TICKET" "$(info 1)"
expect logout_again 401 '' -- -H "Authorization: SoTicket $TICKET" -X DELETE "$U/api/v1/Session"
# an expired session: 401
check login_again "$(login pi_basic_user basic-pass)" 200
psql -X -q -d $DB -c "UPDATE product_image.session SET expires = now() - interval '1 second'" >/dev/null
expect session_expired 401 '"code":"28000"' -- -b "$JAR" "$(info 1)"

# ---- languages: SO-Language wins over Accept-Language; English when we do not have it ----
expect lang_default 404 'product 50 has no image' -- "$(img 50)"
header_has lang_default_header 'Content-Language: en'
expect lang_sv 404 'produkt 50 har ingen bild' -- -H 'Accept-Language: sv' "$(img 50)"
header_has lang_sv_header 'Content-Language: sv'
expect lang_sv_region 404 'produkt 50' -- -H 'Accept-Language: de-DE, sv-SE;q=0.8, en;q=0.5' "$(img 50)"
expect lang_q_order 404 'product 50' -- -H 'Accept-Language: sv;q=0.4, en;q=0.9' "$(img 50)"
expect lang_so_wins 404 'product 50' -- -H 'Accept-Language: sv' -H 'SO-Language: en' "$(img 50)"
expect lang_so_sv 404 'produkt 50' -- -H 'Accept-Language: en' -H 'SO-Language: sv' "$(img 50)"
expect lang_unknown 404 'product 50' -- -H 'Accept-Language: fi' "$(img 50)"
header_has lang_unknown_header 'Content-Language: en'
expect lang_route_sv 404 'ingen sådan resurs' -- -H 'Accept-Language: sv' "$U/nowhere"
# a message the catalog does not have: English, and Content-Language says so
expect lang_untranslated 400 '' -- -H 'Accept-Language: sv' "$(img 1)?w=abc"
header_has lang_untranslated_header 'Content-Language: en'
expect lang_ok_json 200 '' -- -H 'Accept-Language: sv' "$(info 1)"
header_has lang_ok_header 'Content-Language: sv'

# ---- SO-TimeZone: ImageInfo's dates in that zone, with its offset ----
expect tz_utc 200 '' -- "$(info 1)"
utc=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["UpdatedDate"])' "$TMP/body")
expect tz_oslo 200 '' -- -H 'SO-TimeZone: Europe/Oslo' "$(info 1)"
/usr/bin/python3 - "$utc" "$TMP/body" <<'PY' && ok || bad "tz_oslo: $utc vs $(cat "$TMP/body")"
import json, sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
utc = datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
got = json.load(open(sys.argv[2]))["UpdatedDate"]
want = utc.astimezone(ZoneInfo("Europe/Oslo")).isoformat(timespec="microseconds")
sys.exit(0 if got == want and got[-6:] in ("+01:00", "+02:00") else 1)
PY
expect tz_xml 200 '+0' -- -H 'SO-TimeZone: Asia/Kolkata' -H 'Accept: application/xml' "$(info 1)"
grep -q '+05:30</UpdatedDate>' "$TMP/body" && ok || bad "tz_xml: $(cat "$TMP/body")"
expect tz_unknown 400 'Mars/Olympus_Mons' -- -H 'SO-TimeZone: Mars/Olympus_Mons' "$(info 1)"
expect tz_unknown_write 400 'Mars' -- -H 'SO-TimeZone: Mars/Base' -X PUT -d '{}' "http://127.0.0.1:$TOKENS/api/v1/Product/1/ImageInfo" -H 'SO-AppToken: shop-app'

# ---- SO-AppToken: in the access log, in request.headers for SQL; --app-tokens ----
expect app_hidden 404 '' -- "$(info 90)"
# (saved over HTTP: the server may not read files of a clone in a 0700 directory)
expect app_save 200 '' -- -u pi_basic_user:basic-pass -H 'SO-AppToken: shop-app' -X PUT --data-binary @"$FX/rgb.png" "$(img 90)"
expect app_hidden_without_token 404 '' -- "$(info 90)"
expect app_seen_by_sql 200 '"BlobId"' -- -H 'SO-AppToken: shop-app' "$(info 90)"
grep -q 'GET /api/v1/Product/90/ImageInfo 200 .* app=shop-app' "$TMP/gw.log" && ok || bad "app_logged: $(tail -3 "$TMP/gw.log")"
expect tokens_missing 401 'SO-AppToken' -- "http://127.0.0.1:$TOKENS/api/v1/Product/1/ImageInfo"
expect tokens_unlisted 401 'SO-AppToken' -- -H 'SO-AppToken: evil-app' "http://127.0.0.1:$TOKENS/api/v1/Product/1/ImageInfo"
expect tokens_listed 200 '' -- -H 'SO-AppToken: shop-app' "http://127.0.0.1:$TOKENS/api/v1/Product/1/ImageInfo"
expect tokens_second 200 '' -- -H 'SO-AppToken: other-app' "http://127.0.0.1:$TOKENS/api/v1/Product/1/ImageInfo"
expect tokens_comment_not_token 401 '' -- -H 'SO-AppToken: #' "http://127.0.0.1:$TOKENS/api/v1/Product/1/ImageInfo"
expect tokens_health 200 '' -- "http://127.0.0.1:$TOKENS/health"
if "$GW" --db-uri "dbname=x" --app-tokens /nonexistent/tokens >/dev/null 2>"$TMP/notokens"; then
    bad "tokens_unreadable: the gateway started"
else
    grep -q 'cannot read --app-tokens' "$TMP/notokens" && ok || bad "tokens_unreadable: $(cat "$TMP/notokens")"
fi

# ---- ImageInfo's ETag and If-Match ----
W="http://127.0.0.1:$TOKENS/api/v1/Product/1/ImageInfo"
expect etag_get 200 '' -- -H 'SO-AppToken: shop-app' "$W"
itag=$(grep -i '^ETag:' "$TMP/headers" | cut -d' ' -f2 | tr -d '\r')
[ -n "$itag" ] && ok || bad "etag_get: no ETag in $(tr '\r\n' '  ' < "$TMP/headers")"
expect etag_xml_same 200 '' -- -H 'SO-AppToken: shop-app' -H 'Accept: application/xml' "$W"
header_has etag_xml_same_header "ETag: $itag"
expect etag_put_stale_412 412 '"code":"PI412"' -- -H 'SO-AppToken: shop-app' -H 'If-Match: "0000"' -X PUT -d '{"Description":"a"}' "$W"
expect etag_unchanged 200 '"Description": ""' -- -H 'SO-AppToken: shop-app' "$W"
expect etag_put 200 '"Description": "a"' -- -H 'SO-AppToken: shop-app' -H "If-Match: $itag" -X PUT -d '{"Description":"a"}' "$W"
ntag=$(grep -i '^ETag:' "$TMP/headers" | cut -d' ' -f2 | tr -d '\r')
[ -n "$ntag" ] && [ "$ntag" != "$itag" ] && ok || bad "etag_put: the ETag did not change ($itag, $ntag)"
expect etag_put_old_412 412 '' -- -H 'SO-AppToken: shop-app' -H "If-Match: $itag" -X PUT -d '{"Description":"b"}' "$W"
expect etag_put_star 200 '"Description": "c"' -- -H 'SO-AppToken: shop-app' -H 'If-Match: *' -X PUT -d '{"Description":"c"}' "$W"
expect etag_put_no_image_412 412 '' -- -H 'SO-AppToken: shop-app' -H 'If-Match: *' -X PUT -d '{}' "http://127.0.0.1:$TOKENS/api/v1/Product/77/ImageInfo"

summary session
