#!/bin/bash
# The HTTP contract through real HTTP: every route, status code, negotiation
# and auth case, multipart, limits, malformed requests, 200 concurrent PUTs,
# database loss and SIGTERM.  Needs the private cluster (scripts/cluster env)
# and an installed extension; starts its own gateways on loopback ports.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
# PI_GATEWAY: the binary under test (the test command also runs the
# AddressSanitizer + UBSan build, gateway/product-image-gateway-asan)
GW=${PI_GATEWAY:-$ROOT/gateway/product-image-gateway}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
FX=$ROOT/test/fixtures
DB=pi_http
PORT_ANON=${PI_HTTP_PORT:-18181}
PORT_AUTH=$((PORT_ANON + 1))
PORT_SMALL=$((PORT_ANON + 2))
SECRET=0123456789abcdef0123456789abcdef-test
# count PATTERN FILE [GREP_FLAGS]: lines matching, always one number (grep -c
# prints 0 *and* exits 1 when nothing matches, and nothing for a missing file)
count() { local n; n=$(grep -c ${3:-} -- "$1" "$2" 2>/dev/null); echo "${n:-0}"; }

# ---- database: extension, products, roles as in the README ----
psql -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null
$(gateway_fresh_sql $DB)
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pi_nobody') THEN CREATE ROLE pi_nobody NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pi_basic_user') THEN
    CREATE ROLE pi_basic_user LOGIN PASSWORD 'basic-pass';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pi_su') THEN
    CREATE ROLE pi_su LOGIN SUPERUSER PASSWORD 'su-pass';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pi_outsider') THEN
    CREATE ROLE pi_outsider LOGIN PASSWORD 'out-pass';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pi_changer') THEN
    CREATE ROLE pi_changer LOGIN PASSWORD 'old-pass';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pi_pool_auth') THEN
    CREATE ROLE pi_pool_auth LOGIN NOINHERIT PASSWORD 'pool-secret';
  END IF;
END \$\$;
GRANT pi_nobody TO pi_authenticator;
GRANT pi_writer TO pi_basic_user;
-- Basic logins: roles the authenticator may become (as a token's role must be)
GRANT pi_basic_user, pi_changer TO pi_authenticator;
GRANT pi_writer TO pi_changer;
ALTER ROLE pi_changer LOGIN PASSWORD 'old-pass';
GRANT pi_writer, pi_reader TO pi_pool_auth;
\c $DB
$(gateway_shop_sql)
SQL

start_gateway $PORT_ANON "$TMP/anon.log" --anon-role pi_writer --jwt-secret "$SECRET"
start_gateway $PORT_AUTH "$TMP/auth.log" --jwt-secret "$SECRET" --anon-role ""
start_gateway $PORT_SMALL "$TMP/small.log" --anon-role pi_writer --max-body 100000 --timeout 3 --max-connections 50
A=$PORT_ANON
OCT=(-H 'Content-Type: application/octet-stream')

# ---- save ----
expect put_png 200 "" -- -X PUT --data-binary @"$FX/rgb.png" -H 'Content-Type: image/png' "$(url $A 1 Image)"
first=$(cat "$TMP/body")
[[ "$first" =~ ^[0-9]+$ ]] && ok || bad "put_png: body '$first' is not a blob id"
header_has put_png_type 'Content-Type: application/json; charset=utf-8'
expect resave_same_id 200 "$first" -- -X PUT --data-binary @"$FX/rgb.jpg" -H 'Content-Type: image/jpeg' "$(url $A 1 Image)"
expect post_raw 200 "" -- -X POST --data-binary @"$FX/anim3.gif" "${OCT[@]}" "$(url $A 2 Image)"
expect put_no_content_type 200 "" -- -X PUT --data-binary @"$FX/pages3.tif" -H 'Content-Type:' "$(url $A 3 Image)"
expect put_tiff_typed 200 "" -- -X PUT --data-binary @"$FX/gray.btf" -H 'Content-Type: image/tiff' "$(url $A 4 Image)"
expect put_xml 200 '<int xmlns="http://schemas.microsoft.com/2003/10/Serialization/">' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" -H 'Accept: application/xml' "$(url $A 5 Image)"
header_has put_xml_type 'Content-Type: application/xml'
expect put_text_xml 200 '</int>' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" -H 'Accept: text/xml' "$(url $A 5 Image)"
for acc in 'application/json' 'text/json' 'application/json-patch+json' 'application/merge-patch+json' '*/*'; do
    expect "accept_$acc" 200 "" -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" -H "Accept: $acc" "$(url $A 5 Image)"
    header_has "accept_${acc}_type" 'Content-Type: application/json'
done
expect accept_q_prefers_xml 200 '<int' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" -H 'Accept: application/json;q=0.5, application/xml' "$(url $A 5 Image)"
expect accept_406 406 '"code":"PGRST107"' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" -H 'Accept: text/html' "$(url $A 5 Image)"

# ---- save errors ----
expect empty_body 400 '"message":"Image bitmap is missing from body."' -- -X PUT "${OCT[@]}" --data-binary '' "$(url $A 6 Image)"
expect bmp_415 415 '"code":"0A000"' -- -X PUT --data-binary @"$FX/not_image.bmp" "${OCT[@]}" "$(url $A 6 Image)"
expect html_415 415 'HTML' -- -X PUT --data-binary @"$FX/not_image.html" "${OCT[@]}" "$(url $A 6 Image)"
head -c 40 "$FX/rgb.png" > "$TMP/trunc.png"
expect corrupt_400 400 '"code":"22P03"' -- -X PUT --data-binary @"$TMP/trunc.png" "${OCT[@]}" "$(url $A 6 Image)"
expect bomb_413 413 '"code":"54000"' -- -X PUT --data-binary @"$FX/bomb.png" "${OCT[@]}" "$(url $A 6 Image)"
expect missing_product 404 '"code":"P0002"' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" "$(url $A 4242 Image)"
expect xml_error 415 '<code>0A000</code>' -- -X PUT --data-binary @"$FX/not_image.bmp" "${OCT[@]}" -H 'Accept: application/xml' "$(url $A 6 Image)"
expect html_as_png_415 415 'HTML' -- -X PUT --data-binary @"$FX/not_image.html" -H 'Content-Type: image/png' "$(url $A 6 Image)"
expect nothing_stored_for_6 404 '' -- "$(url $A 6 Image)"
# the bytes decide, whatever the label: another image type, text/plain, curl's
# and forms' application/x-www-form-urlencoded, or none at all
expect type_label_gif_png_bytes 200 '' -- -X PUT --data-binary @"$FX/rgb.png" -H 'Content-Type: image/gif' "$(url $A 6 Image)"
expect type_label_text_plain 200 '' -- -X PUT --data-binary @"$FX/rgb.png" -H 'Content-Type: text/plain' "$(url $A 6 Image)"
expect type_label_form_urlencoded 200 '' -- -X PUT --data-binary @"$FX/rgb.jpg" "$(url $A 6 Image)"
expect type_label_none 200 '' -- -X PUT --data-binary @"$FX/rgb.png" -H 'Content-Type:' "$(url $A 6 Image)"
curl -s "$(url $A 6 Image)" -o "$TMP/got6"
cmp -s "$TMP/got6" "$FX/rgb.png" && ok || bad "type_label_none: stored bytes differ"
expect type_label_png_served_as_png 200 '' -- "$(url $A 6 Image)"
header_has type_label_png_served_as_png_type 'Content-Type: image/png'
curl -s -o /dev/null -X DELETE "$(url $A 6 Image)"

# ---- multipart ----
expect multipart_file 200 "" -- -F "name=front" -F "file=@$FX/rgb.png;type=image/png" "$(url $A 7 Image)"
expect multipart_put 200 "" -- -X PUT -F "file=@$FX/rgb.jpg" "$(url $A 8 Image)"
curl -s "$(url $A 8 Image)" -o "$TMP/got8"
cmp -s "$TMP/got8" "$FX/rgb.jpg" && ok || bad "multipart_put: stored bytes differ"
expect multipart_two_files_same_name 200 "" -- -X PUT -F "file=@$FX/gray.png" -F "file=@$FX/rgb.jpg" "$(url $A 19 Image)"
curl -s "$(url $A 19 Image)" -o "$TMP/got19"
cmp -s "$TMP/got19" "$FX/gray.png" && ok || bad "multipart_two_files_same_name: stored bytes are not the first file"
expect multipart_only_part 200 "" -- -X PUT -F "image=<$FX/rgb.png" "$(url $A 9 Image)"
expect multipart_no_file 400 'Image bitmap is missing from body.' -- -X PUT -F "a=1" -F "b=2" "$(url $A 10 Image)"
expect multipart_no_boundary 400 '' -- -X PUT -H 'Content-Type: multipart/form-data' --data-binary 'x' "$(url $A 10 Image)"
expect multipart_label_ignored 200 '' -- -X PUT -F "file=@$FX/rgb.png;type=image/gif" "$(url $A 10 Image)"
# RFC 2046: bytes after the close delimiter (got's encoder ends with an empty line) are ignored
printf -- '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n' > "$TMP/mp_epilogue"
cat "$FX/rgb.png" >> "$TMP/mp_epilogue"
printf -- '\r\n--XyZ--\r\n\r\nan epilogue\r\n' >> "$TMP/mp_epilogue"
expect multipart_epilogue 200 '' -- -X PUT -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary @"$TMP/mp_epilogue" "$(url $A 10 Image)"
curl -s -o /dev/null -X DELETE "$(url $A 10 Image)"

# ---- get ----
expect get_image 200 "" -- "$(url $A 1 Image)"
cmp -s "$TMP/body" "$FX/rgb.jpg" && ok || bad "get_image: bytes differ from the saved JPEG"
header_has get_type 'Content-Type: image/jpeg'
header_has get_etag 'ETag: "'
header_has get_last_modified 'Last-Modified: '
etag=$(grep -i '^ETag:' "$TMP/headers" | cut -d' ' -f2 | tr -d '\r')
expect get_304 304 "" -- -H "If-None-Match: $etag" "$(url $A 1 Image)"
expect get_304_weak 304 "" -- -H "If-None-Match: \"x\", W/$etag" "$(url $A 1 Image)"
expect get_other_etag 200 "" -- -H 'If-None-Match: "abc"' "$(url $A 1 Image)"
expect get_none 404 '"code":"P0002"' -- "$(url $A 50 Image)"
expect head_image 200 "" -- -I "$(url $A 1 Image)"
# what is served: nosniff everywhere, a sandboxing CSP on images, and the
# image's Content-Type from the bytes, never from a text column
expect get_image_headers 200 "" -- "$(url $A 1 Image)"
header_has get_image_nosniff 'X-Content-Type-Options: nosniff'
header_has get_image_csp "Content-Security-Policy: default-src 'none'; sandbox"
for case in "200 $(url $A 1 ImageInfo)" "404 $(url $A 50 Image)" "404 http://127.0.0.1:$A/nowhere" "405 -X PATCH $(url $A 1 Image)" \
            "304 -H If-None-Match:$etag $(url $A 1 Image)" "401 $(url $PORT_AUTH 1 Image)" "200 http://127.0.0.1:$A/health"; do
    # shellcheck disable=SC2086
    expect "nosniff_${case%% *}" "${case%% *}" "" -- ${case#* }
    header_has "nosniff_${case%% *}_header" 'X-Content-Type-Options: nosniff'
done
# (columns that disagree with the bytes, as a bug or a hand-made UPDATE could leave them)
psql -X -q -d $DB -c "UPDATE product_image.blob SET format = 'png', mime_type = 'image/png' WHERE product_id = 1" >/dev/null
n=$(psql -X -At -d $DB -c "SELECT count(*) FROM product_image.blob WHERE product_id = 1 AND mime_type = 'image/png'")
[ "$n" = 1 ] && ok || bad "content_type_from_bytes: could not set up the columns"
expect content_type_from_bytes 200 "" -- "$(url $A 1 Image)"
header_has content_type_from_bytes_jpeg 'Content-Type: image/jpeg'

# ---- ImageInfo ----
expect info_json 200 '"BlobId": '"$first" -- "$(url $A 1 ImageInfo)"
header_has info_json_type 'Content-Type: application/json; charset=utf-8'
expect info_xml 200 '<BlobId>'"$first"'</BlobId>' -- -H 'Accept: application/xml' "$(url $A 1 ImageInfo)"
# .NET's DataContractSerializer reads a DataContract without explicit Order
# in ordinal (alphabetical) order and silently drops an element out of it:
# the XML's elements are in that order, and carry the JSON's fields, typed
cp "$TMP/body" "$TMP/info.xml"
expect info_json_fields 200 '' -- "$(url $A 1 ImageInfo)"
/usr/bin/python3 - "$TMP/info.xml" "$TMP/body" <<'PY' && ok || bad "info_xml_order: $(head -c 600 "$TMP/info.xml")"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
names = [e.tag.split("}")[1] for e in root]
j = json.load(open(sys.argv[2]))
ordinal = sorted(names, key=lambda n: n.encode("utf-16-be"))
ok = (names == ordinal and names == list(j) and len(names) >= 18
      and isinstance(j["BlobId"], int) and isinstance(j["IsZipped"], bool)
      and root.find("{*}IsZipped").text in ("true", "false"))
sys.exit(0 if ok else 1)
PY
expect info_none 404 '"code":"P0002"' -- "$(url $A 50 ImageInfo)"
expect info_put 200 '"Description": "front & <back>"' -- -X PUT -H 'Content-Type: application/json' -d '{"Description":"front & <back>","BlobSize":1}' "$(url $A 1 ImageInfo)"
expect info_put_text_json 200 '"ExtraInfo": "x"' -- -X PUT -H 'Content-Type: text/json' -d '{"ExtraInfo":"x"}' "$(url $A 1 ImageInfo)"
expect info_put_xml_escaped 200 '<Description>front &amp; &lt;back&gt;</Description>' -- -X PUT -H 'Content-Type: application/json' -H 'Accept: text/xml' -d '{}' "$(url $A 1 ImageInfo)"
# XML stays well-formed for any string: CR kept (as &#xD;), what XML 1.0
# cannot carry (C0 controls, U+FFFE, U+FFFF) dropped
expect info_put_controls 200 '' -- -X PUT -H 'Content-Type: application/json' -d '{"Description":"a\u0001b\rc\ufffed\uffffe<&\u001b[31m"}' "$(url $A 1 ImageInfo)"
expect info_xml_controls 200 '' -- -H 'Accept: application/xml' "$(url $A 1 ImageInfo)"
/usr/bin/python3 - "$TMP/body" <<'PY' && ok || bad "info_xml_controls: not well-formed or altered: $(head -c 600 "$TMP/body")"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
d = [e.text for e in root if e.tag.endswith("}Description")]
sys.exit(0 if d == ["ab\rcde<&[31m"] else 1)
PY
expect info_put_restore 200 '' -- -X PUT -H 'Content-Type: application/json' -d '{"Description":"front & <back>"}' "$(url $A 1 ImageInfo)"
expect info_put_bad_json 400 '"code":"22P02"' -- -X PUT -H 'Content-Type: application/json' -d '{nope' "$(url $A 1 ImageInfo)"
expect info_put_array 400 '"code":"22023"' -- -X PUT -H 'Content-Type: application/json' -d '[1]' "$(url $A 1 ImageInfo)"
expect info_put_text_plain 200 '"BlobId"' -- -X PUT -H 'Content-Type: text/plain' -d '{}' "$(url $A 1 ImageInfo)"
expect info_put_form_urlencoded 200 '"BlobId"' -- -X PUT -d '{}' "$(url $A 1 ImageInfo)"
expect info_put_no_image 404 '"code":"P0002"' -- -X PUT -H 'Content-Type: application/json' -d '{}' "$(url $A 50 ImageInfo)"
expect info_put_empty 400 '' -- -X PUT -H 'Content-Type: application/json' --data-binary '' "$(url $A 1 ImageInfo)"
# ImageInfo properties are strings or null, of bounded length; JSON nested past the stack is the client's error
expect info_put_nested 400 '"code":"22023"' -- -X PUT -H 'Content-Type: application/json' -d '{"Description":{"a":1}}' "$(url $A 1 ImageInfo)"
/usr/bin/python3 -c 'import sys; sys.stdout.write("{\"Description\": \"" + "x" * 4001 + "\"}")' > "$TMP/long.json"
expect info_put_too_long 400 '"code":"22001"' -- -X PUT -H 'Content-Type: application/json' --data-binary @"$TMP/long.json" "$(url $A 1 ImageInfo)"
/usr/bin/python3 -c 'import sys; sys.stdout.write("{\"Description\": " + "[" * 200000 + "]" * 200000 + "}")' > "$TMP/deep.json"
expect info_put_too_deep 400 '"code":"54001"' -- -X PUT -H 'Content-Type: application/json' --data-binary @"$TMP/deep.json" "$(url $A 1 ImageInfo)"
expect info_kept_after_refusals 200 '"Description": "front & <back>"' -- "$(url $A 1 ImageInfo)"

# ---- delete ----
expect delete_204 204 "" -- -X DELETE "$(url $A 2 Image)"
expect deleted_gone 404 "" -- "$(url $A 2 Image)"
expect delete_again_204 204 "" -- -X DELETE "$(url $A 2 Image)"

# ---- routes ----
expect unknown_route 404 '' -- "http://127.0.0.1:$A/api/v1/Contact/1/Image"
expect unknown_sub 404 '' -- "$(url $A 1 Thumbnail)"
expect wrong_method 405 '' -- -X PATCH "$(url $A 1 Image)"
header_has allow_header 'Allow: GET, HEAD, PUT, POST, DELETE'
expect wrong_method_info 405 '' -- -X DELETE "$(url $A 1 ImageInfo)"
header_has allow_info 'Allow: GET, HEAD, PUT'
expect id_text 400 '' -- "$(url $A abc Image)"
expect id_overflow 400 '' -- "$(url $A 2147483648 Image)"
expect id_empty 400 '' -- "http://127.0.0.1:$A/api/v1/Product//Image"
expect id_negative_missing 404 '"code":"P0002"' -- "$(url $A -5 Image)"
expect case_insensitive 200 '' -- "http://127.0.0.1:$A/API/V1/product/1/image"
expect health 200 '"ok"' -- "http://127.0.0.1:$A/health"
# routing on the path as sent: an encoded '/' or NUL never makes another route
expect encoded_slash_not_info 404 '' -- --path-as-is "http://127.0.0.1:$A/api/v1/Product/1%2FImageInfo"
expect encoded_slash_not_image 404 '' -- --path-as-is "http://127.0.0.1:$A/api/v1/Product/1%2fImage"
expect encoded_slash_in_id 400 '' -- --path-as-is "http://127.0.0.1:$A/api/v1/Product/1%2F2/Image"
expect encoded_nul_health 404 '' -- --path-as-is "http://127.0.0.1:$A/health%00"
expect encoded_nul_image 404 '' -- --path-as-is "http://127.0.0.1:$A/api/v1/Product/1/Image%00.png"
expect encoded_nul_query 400 '' -- "$(url $A 1 Image)?w=8%00"
expect encoded_digit_still_decoded 200 '' -- --path-as-is "http://127.0.0.1:$A/api/v1/Product/%31/ImageInfo"

# ---- authentication ----
U=$PORT_AUTH
tok() { python3 "$ROOT/test/jwt.py" "$SECRET" "$1" "${2:-HS256}"; }
now=$(date +%s)
expect no_credentials_401 401 '' -- "$(url $U 1 Image)"
header_has www_authenticate 'WWW-Authenticate: Bearer'
expect bearer_writer 200 '' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" -H "Authorization: Bearer $(tok '{"role":"pi_writer"}')" "$(url $U 11 Image)"
expect bearer_exp_ok 200 '' -- -H "Authorization: Bearer $(tok "{\"role\":\"pi_writer\",\"exp\":$((now + 600))}")" "$(url $U 11 Image)"
expect bearer_expired 401 'expired' -- -H "Authorization: Bearer $(tok "{\"role\":\"pi_writer\",\"exp\":$((now - 10))}")" "$(url $U 11 Image)"
expect bearer_nbf_future 401 '' -- -H "Authorization: Bearer $(tok "{\"role\":\"pi_writer\",\"nbf\":$((now + 600))}")" "$(url $U 11 Image)"
# NumericDate is a JSON number: fractions count (they were ignored)
expect bearer_nbf_fraction 401 '' -- -H "Authorization: Bearer $(tok '{"role":"pi_writer","nbf":4102444800.0}')" "$(url $U 11 Image)"
expect bearer_exp_fraction_past 401 '' -- -H "Authorization: Bearer $(tok "{\"role\":\"pi_writer\",\"exp\":$((now - 10)).5}")" "$(url $U 11 Image)"
expect bearer_exp_fraction_future 200 '' -- -H "Authorization: Bearer $(tok "{\"role\":\"pi_writer\",\"exp\":$((now + 600)).5}")" "$(url $U 11 Image)"
expect bearer_exp_string 401 '' -- -H "Authorization: Bearer $(tok "{\"role\":\"pi_writer\",\"exp\":\"$((now + 600))\"}")" "$(url $U 11 Image)"
# role "none": SET ROLE "none" is SET ROLE NONE, i.e. the authenticator itself
expect bearer_role_none 401 '' -- -H "Authorization: Bearer $(tok '{"role":"none"}')" "$(url $U 11 ImageInfo)"
expect bearer_role_not_string 401 '' -- -H "Authorization: Bearer $(tok '{"role":42}')" "$(url $U 11 ImageInfo)"
# a 4xx never names the schema or tables behind it
expect bearer_no_rights_403 403 '"code":"42501"' -- -H "Authorization: Bearer $(tok '{"role":"pi_nobody"}')" "$(url $U 11 ImageInfo)"
if grep -qiE 'product_image|schema|table' "$TMP/body"; then bad "bearer_no_rights_403: body names internals: $(cat "$TMP/body")"; else ok; fi
expect bearer_bad_signature 401 '' -- -H "Authorization: Bearer $(python3 "$ROOT/test/jwt.py" wrong-secret-wrong-secret-wrong-secret '{"role":"pi_writer"}')" "$(url $U 11 Image)"
expect bearer_alg_none 401 '' -- -H "Authorization: Bearer $(tok '{"role":"pi_writer"}' none)" "$(url $U 11 Image)"
expect bearer_garbage 401 '' -- -H 'Authorization: Bearer not.a.jwt' "$(url $U 11 Image)"
expect bearer_no_role 401 '' -- -H "Authorization: Bearer $(tok '{"sub":"x"}')" "$(url $U 11 Image)"
expect bearer_unknown_role 401 '' -- -H "Authorization: Bearer $(tok '{"role":"no_such_role"}')" "$(url $U 11 Image)"
# the 401 keeps the SQLSTATE that refused the role (it was copied onto itself: "code":"")
grep -qE '"code":"[0-9A-Z]{5}"' "$TMP/body" && ok || bad "bearer_unknown_role_code: $(cat "$TMP/body")"
expect bearer_reader_put_403 403 '"code":"42501"' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" -H "Authorization: Bearer $(tok '{"role":"pi_reader"}')" "$(url $U 11 Image)"
expect bearer_reader_get 200 '' -- -H "Authorization: Bearer $(tok '{"role":"pi_reader"}')" "$(url $U 11 ImageInfo)"
expect basic_ok 200 '' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" -u pi_basic_user:basic-pass "$(url $U 12 Image)"
expect basic_again_pooled 200 '' -- -u pi_basic_user:basic-pass "$(url $U 12 ImageInfo)"
expect basic_wrong_password 401 '' -- -u pi_basic_user:nope "$(url $U 12 ImageInfo)"
# Basic is no door to every login role: not a superuser, not a role the authenticator cannot become
expect basic_superuser 401 '' -- -u pi_su:su-pass "$(url $U 12 ImageInfo)"
expect basic_outsider 401 '' -- -u pi_outsider:out-pass "$(url $U 12 ImageInfo)"
# a changed password (or NOLOGIN) takes effect at once: Basic connections are not reused
expect basic_before_change 200 '' -- -u pi_changer:old-pass "$(url $U 12 ImageInfo)"
psql -X -q -d $DB -c "ALTER ROLE pi_changer PASSWORD 'new-pass'"
expect basic_old_password_after_change 401 '' -- -u pi_changer:old-pass "$(url $U 12 ImageInfo)"
expect basic_new_password 200 '' -- -u pi_changer:new-pass "$(url $U 12 ImageInfo)"
psql -X -q -d $DB -c "ALTER ROLE pi_changer NOLOGIN"
expect basic_after_nologin 401 '' -- -u pi_changer:new-pass "$(url $U 12 ImageInfo)"
# two Authorization headers: 400 (a proxy that appends its own must not be bypassed)
expect two_authorizations 400 'Authorization given twice' -- -H "Authorization: Bearer $(tok '{"role":"pi_reader"}')" \
    -H "Authorization: Basic $(printf 'pi_basic_user:basic-pass' | base64)" "$(url $U 12 ImageInfo)"
# a token naming the authenticator itself is as "none": 401
expect bearer_role_authenticator 401 '' -- -H "Authorization: Bearer $(tok '{"role":"pi_authenticator"}')" "$(url $U 11 ImageInfo)"
# a database notice (a role name truncated) reaches the log escaped: no forged line, no ESC
expect bearer_role_notice 401 '' -- -H "Authorization: Bearer $(tok "{\"role\":\"$(printf 'a%.0s' $(seq 70))\\nFORGED 200\\n\\u001b[31m\"}")" "$(url $U 11 ImageInfo)"
if grep -a -q '^FORGED' "$TMP/auth.log" || grep -a -q "$(printf '\033')" "$TMP/auth.log"; then bad "notice_escaped: a forged line or ESC in the log"; else ok; fi
expect basic_unknown_user 401 '' -- -u nobody_here:x "$(url $U 12 ImageInfo)"
expect basic_malformed 401 '' -- -H 'Authorization: Basic !!!' "$(url $U 12 ImageInfo)"
expect soticket_401 401 '' -- -H 'Authorization: SoTicket 7T:abc' "$(url $U 12 ImageInfo)"
# Nothing before authentication: a 32 MB upload without valid credentials,
# or from a role that may not save, is answered from its headers and closed
# without a body byte read; 100 Continue only for a request that can succeed;
# GET/HEAD/DELETE bodies are refused unread.
while read -r name status conn; do
    case "$name" in
        put_32mb_no_credentials|put_32mb_bad_token) want="401 close" ;;
        put_32mb_reader) want="403 close" ;;
        expect_no_credentials) want="401" ;;
        expect_reader) want="403" ;;
        expect_writer) want="100" ;;
        get_4gb_body|delete_chunked_body|head_body) want="400 close" ;;
    esac
    got="$status${conn:+ $conn}"
    [ "$got" = "$want" ] && ok || bad "raw $name: got '$got', want '$want'"
done < <(PI_TOKEN_WRITER=$(tok '{"role":"pi_writer"}') PI_TOKEN_READER=$(tok '{"role":"pi_reader"}') \
    python3 "$ROOT/test/http_raw.py" "$U" "$FX/rgb.png" put_32mb_no_credentials put_32mb_bad_token put_32mb_reader \
    expect_no_credentials expect_reader expect_writer get_4gb_body delete_chunked_body head_body)
# An empty Basic password is 401: libpq takes "" as no password and would use
# one the gateway holds (the --db-uri password, PGPASSWORD, ~/.pgpass).
expect basic_empty_password_db_uri 401 '' -- -u pi_authenticator: "$(url $U 12 ImageInfo)"
expect basic_empty_password_basic_user 401 '' -- -u pi_basic_user: "$(url $U 12 ImageInfo)"
CRED1=$((PORT_ANON + 8)) CRED2=$((PORT_ANON + 9)) TRUST=$((PORT_ANON + 10))
PGPASSWORD=auth-secret start_gateway_uri $CRED1 "$TMP/cred1.log" "host=127.0.0.1 port=$PGPORT dbname=$DB user=pi_authenticator" --anon-role pi_writer
expect basic_empty_password_pgpassword 401 '' -- -u pi_authenticator: "$(url $CRED1 12 ImageInfo)"
expect basic_ok_beside_pgpassword 200 '' -- -u pi_basic_user:basic-pass "$(url $CRED1 12 ImageInfo)"
printf '*:*:*:pi_authenticator:auth-secret\n*:*:*:pi_basic_user:basic-pass\n' > "$TMP/pgpass"
chmod 600 "$TMP/pgpass"
PGPASSFILE=$TMP/pgpass start_gateway_uri $CRED2 "$TMP/cred2.log" "host=127.0.0.1 port=$PGPORT dbname=$DB user=pi_authenticator" --anon-role pi_writer
expect basic_empty_password_pgpass 401 '' -- -u pi_basic_user: "$(url $CRED2 12 ImageInfo)"
expect basic_wrong_password_pgpass 401 '' -- -u pi_basic_user:nope "$(url $CRED2 12 ImageInfo)"
expect basic_ok_beside_pgpass 200 '' -- -u pi_basic_user:basic-pass "$(url $CRED2 12 ImageInfo)"
# over the Unix socket the cluster trusts every local login: a password
# PostgreSQL never asked for proves nothing, so Basic is refused there
start_gateway_uri $TRUST "$TMP/trust.log" "host=$PGHOST port=$PGPORT dbname=$DB user=pi_authenticator" --anon-role pi_writer
expect basic_not_checked_by_server 401 '' -- -u pi_basic_user:wrong-password "$(url $TRUST 12 ImageInfo)"
expect anon_over_trusted_socket 200 '' -- "$(url $TRUST 12 ImageInfo)"
# A failed Basic login costs only its own connection: the gateway's idle
# pooled connections (of their own role here, to count them) stay open.
POOLP=$((PORT_ANON + 11))
start_gateway_uri $POOLP "$TMP/pool.log" "host=127.0.0.1 port=$PGPORT dbname=$DB user=pi_pool_auth password=pool-secret" --anon-role pi_writer --pool 8
seq 1 24 | xargs -P 8 -I{} curl -s -o /dev/null "$(url $POOLP 12 ImageInfo)"
pool_pids() { psql -X -At -d $DB -c "SELECT pid FROM pg_stat_activity WHERE usename = 'pi_pool_auth' AND state = 'idle' ORDER BY pid"; }
pool_pids > "$TMP/pool_before"
for _ in 1 2 3; do curl -s -o /dev/null -u pi_basic_user:wrong "$(url $POOLP 12 ImageInfo)"; done
sleep 1
pool_pids > "$TMP/pool_after"
k=$(wc -l < "$TMP/pool_before")
kept=$(comm -12 "$TMP/pool_before" "$TMP/pool_after" | wc -l)
# each failed login may take an idle entry when the pool has no empty one,
# and then reuses the entry it emptied: at most one is lost
want=$((k - 1)); [ $want -lt 1 ] && want=1
[ "$k" -ge 1 ] && [ "$kept" -ge $want ] && ok || bad "basic_failure_keeps_pool: $kept of $k idle pooled connections survived 3 wrong Basic logins"
echo "http: 3 wrong Basic logins: $kept of $k idle pooled connections kept"
# anonymous role without the right: 401, not 403 (the request had no credentials)
start_gateway $((PORT_ANON + 3)) "$TMP/reader.log" --anon-role pi_reader
expect anon_reader_put_401 401 '"code":"42501"' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" "$(url $((PORT_ANON + 3)) 13 Image)"
# one pooled connection, requests of different roles one after the other: a
# role, the claims and the statement timeout are local to each request's
# transaction (the pipeline's Sync ends it), so nothing carries over, also
# after a request that failed
ONE=$((PORT_ANON + 40))
start_gateway $ONE "$TMP/one.log" --anon-role pi_reader --jwt-secret "$SECRET" --pool 1
WRITER=$(tok '{"role":"pi_writer","shop":"x"}')
expect one_writer_put 200 '' -- -X PUT -H "Authorization: Bearer $WRITER" --data-binary @"$FX/rgb.png" "${OCT[@]}" "$(url $ONE 13 Image)"
expect one_then_anon_reader_401 401 '"code":"42501"' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" "$(url $ONE 13 Image)"
expect one_writer_415 415 '' -- -X PUT -H "Authorization: Bearer $WRITER" --data-binary @"$FX/not_image.bmp" "${OCT[@]}" "$(url $ONE 13 Image)"
expect one_after_failure_anon_401 401 '"code":"42501"' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" "$(url $ONE 13 Image)"
expect one_unknown_role_401 401 '' -- -X PUT -H "Authorization: Bearer $(tok '{"role":"pi_no_such_role"}')" --data-binary @"$FX/rgb.png" "${OCT[@]}" "$(url $ONE 13 Image)"
expect one_after_bad_role_anon_401 401 '"code":"42501"' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" "$(url $ONE 13 Image)"
expect one_bad_zone_400 400 '"code":"22023"' -- -H "Authorization: Bearer $WRITER" -H 'SO-TimeZone: Nowhere/Atlantis' "$(url $ONE 13 ImageInfo)"
expect one_after_bad_zone_utc 200 '"CreatedDate":' -- "$(url $ONE 13 ImageInfo)"
grep -q '"CreatedBy": *"pi_writer"' "$TMP/body" && grep -Eq '"UpdatedDate": *"[0-9T:.-]+Z"' "$TMP/body" && ok ||
    bad "one_after_bad_zone_utc: not pi_writer's save in UTC: $(cat "$TMP/body")"
# ---- renditions: GET Image?w=&h=&type=&ifBlank= ----
RFX=$ROOT/test/fixtures/render
# dims FILE: "FORMAT WxH" as Pillow decodes the body
# Pillow decodes the answer (AVIF, which Debian's Pillow 9.4 cannot read, through libavif's avifdec)
decodable() {  # FILE: a path Pillow opens (an AVIF converted to PNG beside it)
    if [ "$(head -c 12 "$1" | tail -c 4)" = avif ]; then avifdec "$1" "$1.png" >/dev/null 2>&1 && echo "$1.png"; else echo "$1"; fi
}
dims() {
    local f; f=$(decodable "$1")
    /usr/bin/python3 -c 'import sys; from PIL import Image; im = Image.open(sys.argv[1]); print("%s %dx%d" % ("AVIF" if sys.argv[1].endswith(".png") and sys.argv[2] == "avif" else im.format, im.size[0], im.size[1]))' "$f" "$([ "$f" != "$1" ] && echo avif)" 2>&1
}
body_is() {  # NAME "FORMAT WxH"
    local got; got=$(dims "$TMP/body")
    if [ "$got" = "$2" ]; then ok; else bad "$1: body decodes as '$got', want '$2'"; fi
}
expect rend_save 200 "" -- -X PUT --data-binary @"$RFX/noise.jpg" "${OCT[@]}" "$(url $A 40 Image)"
expect rend_box 200 "" -- "$(url $A 40 Image)?w=64&h=64"
body_is rend_box "JPEG 64x48"
header_has rend_box_type 'Content-Type: image/jpeg'
header_has rend_box_cache 'Cache-Control: no-cache'
header_has rend_box_vary 'Vary: Accept'
# the ETag names what is produced (size, quality), not the box asked for
header_has rend_box_etag 'ETag: ".*-64x48-q85.jpeg"'
rtag=$(grep -i '^ETag:' "$TMP/headers" | cut -d' ' -f2 | tr -d '\r')
expect rend_304 304 "" -- -H "If-None-Match: $rtag" "$(url $A 40 Image)?w=64&h=64"
expect rend_other_size_200 200 "" -- -H "If-None-Match: $rtag" "$(url $A 40 Image)?w=65&h=64"
expect rend_w_png 200 "" -- "$(url $A 40 Image)?w=64&type=png"
body_is rend_w_png "PNG 64x48"
header_has rend_w_png_type 'Content-Type: image/png'
expect rend_h_gif 200 "" -- "$(url $A 40 Image)?h=30&type=GIF"
body_is rend_h_gif "GIF 40x30"
expect rend_no_upscale 200 "" -- "$(url $A 40 Image)?w=4000&h=4000"
body_is rend_no_upscale "JPEG 640x480"
expect rend_accept_png 200 "" -- -H 'Accept: image/png' "$(url $A 40 Image)?w=100"
body_is rend_accept_png "PNG 100x75"
# Accept chooses a rendition's type; an original is never converted without w, h or type
expect rend_accept_only 200 "" -- -H 'Accept: image/gif, image/*;q=0.5' "$(url $A 40 Image)"
cmp -s "$TMP/body" "$RFX/noise.jpg" && ok || bad "rend_accept_only: not the stored bytes"
expect rend_accept_w 200 "" -- -H 'Accept: image/gif, image/*;q=0.5' "$(url $A 40 Image)?w=64"
body_is rend_accept_w "GIF 64x48"
expect rend_accept_type_wins 200 "" -- -H 'Accept: image/gif' "$(url $A 40 Image)?type=png&w=10"
body_is rend_accept_type_wins "PNG 10x8"
expect rend_browser_accept 200 "" -- -H 'Accept: image/avif,image/webp,image/apng,image/*,*/*;q=0.8' "$(url $A 40 Image)"
header_has rend_browser_accept_stored 'Cache-Control: no-cache'
cmp -s "$TMP/body" "$RFX/noise.jpg" && ok || bad "rend_browser_accept: not the stored bytes"
expect rend_head 200 "" -- -I "$(url $A 40 Image)?w=20"
header_has rend_head_type 'Content-Type: image/jpeg'
for q in 'w=abc' 'w=0' 'w=-5' 'h=99999999999' 'w=1.5' 'type=bmp' 'ifBlank=Foo' 'w=1e3' 'h=0x10'; do
    expect "rend_400_$q" 400 '"code":"22023"' -- "$(url $A 40 Image)?$q"
done
expect rend_over_max_side 400 'max_rendition_side' -- "$(url $A 40 Image)?w=5000"
expect rend_empty_is_absent 200 "" -- "$(url $A 40 Image)?w=&type="
cmp -s "$TMP/body" "$RFX/noise.jpg" && ok || bad "rend_empty_is_absent: not the stored bytes"
# every source kind through HTTP: orientation, CMYK, alpha, 16-bit, animation, pages
# pixel NAME X Y "R G B A" TOLERANCE: a pixel of the last body, as Pillow decodes it
rgba_at() {  # X Y: "R G B A" of the last body's pixel, as Pillow decodes it
    /usr/bin/python3 -c 'import sys; from PIL import Image; im = Image.open(sys.argv[1]).convert("RGBA"); print(*im.getpixel((int(sys.argv[2]), int(sys.argv[3]))))' "$(decodable "$TMP/body")" "$1" "$2"
}
pixel() {
    local got
    got=$(rgba_at "$2" "$3")
    if /usr/bin/python3 -c 'import sys; a = sys.argv[1].split(); b = sys.argv[2].split(); sys.exit(any(abs(int(x) - int(y)) > int(sys.argv[3]) for x, y in zip(a, b)))' "$got" "$4" "$5"; then
        ok
    else
        bad "$1: pixel ($2, $3) is $got, want $4"
    fi
}
pid=50
for o in 1 2 3 4 5 6 7 8; do
    expect "rend_orient${o}_put" 200 "" -- -X PUT --data-binary @"$RFX/orient$o.jpg" "${OCT[@]}" "$(url $A $pid Image)"
    expect "rend_orient$o" 200 "" -- "$(url $A $pid Image)?w=24&h=24&type=png"
    body_is "rend_orient$o" "PNG 24x16"
    pixel "rend_orient${o}_red_top_left" 3 3 "255 0 0 255" 60
    pixel "rend_orient${o}_white_bottom_right" 20 12 "255 255 255 255" 60
    if [ "$o" = 6 ]; then
        for t in webp avif; do
            expect "rend_orient6_$t" 200 "" -- "$(url $A $pid Image)?w=24&h=24&type=$t"
            body_is "rend_orient6_$t" "$(echo $t | tr a-z A-Z) 24x16"
            pixel "rend_orient6_${t}_red_top_left" 3 3 "255 0 0 255" 60
            pixel "rend_orient6_${t}_white_bottom_right" 20 12 "255 255 255 255" 60
        done
    fi
    pid=$((pid + 1))
done
while read -r fixture query fmt size x y rgba; do
    expect "rend_${fixture}_put" 200 "" -- -X PUT --data-binary @"$RFX/$fixture" "${OCT[@]}" "$(url $A $pid Image)"
    expect "rend_${fixture}" 200 "" -- "$(url $A $pid Image)?$query"
    body_is "rend_${fixture}" "$fmt $size"
    pixel "rend_${fixture}_pixel" "$x" "$y" "$(echo "$rgba" | tr , ' ')" 12
    pid=$((pid + 1))
done <<'CASES'
cmyk_red.jpg w=32&type=png PNG 32x24 5 5 255,0,0,255
half_clear.png w=60 PNG 60x40 50 5 0,0,0,0
half_clear.png w=60&type=jpeg JPEG 60x40 50 5 255,255,255,255
deep16.png w=50 PNG 50x25 5 5 156,156,156,255
anim_red_blue.gif w=20 GIF 20x15 5 5 255,0,0,255
half_clear.png w=60&type=webp WEBP 60x40 5 5 255,0,0,255
half_clear.png w=60&type=avif AVIF 60x40 5 5 255,0,0,255
pages_green_red.tif w=25 PNG 25x20 5 5 0,255,0,255
CASES
# alpha survives in WebP and AVIF: the transparent half stays transparent
alpha_at() {  # NAME X Y: the pixel's alpha in the last body is under 20
    local a
    a=$(rgba_at "$2" "$3" | cut -d' ' -f4)
    [ -n "$a" ] && [ "$a" -lt 20 ] && ok || bad "$1: alpha at ($2, $3) is '$a', want transparent"
}
for t in webp avif; do
    expect "rend_alpha_$t" 200 "" -- "$(url $A $((pid - 3)) Image)?w=60&type=$t"
    alpha_at "rend_alpha_${t}_clear" 50 5
done

# WebP and AVIF chosen by Accept for a rendition (w or h) without type:
# product_image.auto_formats (avif, webp) in order, only when Accept names
# them; Vary: Accept; an ETag per format; originals never converted
CHROMIUM_ACCEPT='image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8'
expect neg_chromium 200 "" -- -H "Accept: $CHROMIUM_ACCEPT" "$(url $A 40 Image)?w=64"
header_has neg_chromium_type 'Content-Type: image/avif'
header_has neg_chromium_vary 'Vary: Accept'
header_has neg_chromium_etag 'ETag: ".*-64x48-q60.avif"'
body_is neg_chromium "AVIF 64x48"
avif_tag=$(grep -i '^ETag:' "$TMP/headers" | cut -d' ' -f2 | tr -d '\r')
expect neg_chromium_304 304 "" -- -H "Accept: $CHROMIUM_ACCEPT" -H "If-None-Match: $avif_tag" "$(url $A 40 Image)?w=64"
expect neg_webp 200 "" -- -H 'Accept: image/webp,*/*;q=0.8' "$(url $A 40 Image)?w=64"
header_has neg_webp_type 'Content-Type: image/webp'
body_is neg_webp "WEBP 64x48"
expect neg_webp_not_avif_tag 200 "" -- -H 'Accept: image/webp,*/*;q=0.8' -H "If-None-Match: $avif_tag" "$(url $A 40 Image)?w=64"
expect neg_any 200 "" -- -H 'Accept: */*' "$(url $A 40 Image)?w=64"
header_has neg_any_type 'Content-Type: image/jpeg'
expect neg_type_wins 200 "" -- -H "Accept: $CHROMIUM_ACCEPT" "$(url $A 40 Image)?w=64&type=png"
header_has neg_type_wins_type 'Content-Type: image/png'
expect neg_q0 200 "" -- -H 'Accept: image/avif;q=0, image/webp' "$(url $A 40 Image)?w=64"
header_has neg_q0_type 'Content-Type: image/webp'
expect neg_original 200 "" -- -H "Accept: $CHROMIUM_ACCEPT" "$(url $A 40 Image)"
cmp -s "$TMP/body" "$RFX/noise.jpg" && ok || bad "neg_original: an original was converted"
expect neg_head 200 "" -- -I -H "Accept: $CHROMIUM_ACCEPT" "$(url $A 40 Image)?h=20"
header_has neg_head_type 'Content-Type: image/avif'
expect type_webp 200 "" -- "$(url $A 40 Image)?w=32&type=WEBP"
body_is type_webp "WEBP 32x24"
expect type_avif 200 "" -- "$(url $A 40 Image)?w=32&type=avif"
body_is type_avif "AVIF 32x24"
# WebP uploads are refused unless product_image.accept_formats lists webp (a superuser's setting)
expect webp_upload_refused 415 '"code":"0A000"' -- -X PUT --data-binary @"$ROOT/test/fixtures/rgba_lossy.webp" -H 'Content-Type: image/webp' "$(url $A 42 Image)"
grep -q 'accept_formats' "$TMP/body" && ok || bad "webp_upload_refused: the answer does not name product_image.accept_formats"
# nor as the strips of a TIFF (libtiff's WebP codec): an outside tester stored one
expect tiff_webp_strips_refused 415 '"code":"0A000"' -- -X PUT --data-binary @"$ROOT/test/crashers/tiff_webp_strips.tif" "${OCT[@]}" "$(url $A 42 Image)"
grep -q 'holds WebP data' "$TMP/body" && ok || bad "tiff_webp_strips_refused: $(cat "$TMP/body")"
# what is saved can be rendered: a TIFF of 12-bit samples (libtiff reads it, its RGBA interface cannot) is 415 at save
python3 -c '
import struct, sys
w, h = 4, 2
data = bytes(w * h * 12 // 8)
tags = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 1, 12), (259, 3, 1, 1), (262, 3, 1, 1),
        (273, 4, 1, 8 + 2 + 12 * 8 + 4), (277, 3, 1, 1), (279, 4, 1, len(data))]
ifd = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", *t) for t in tags) + struct.pack("<I", 0)
sys.stdout.buffer.write(b"II*\0" + struct.pack("<I", 8) + ifd + data)' > "$TMP/twelve.tif"
expect tiff_12bit_refused 415 '"code":"0A000"' -- -X PUT --data-binary @"$TMP/twelve.tif" "${OCT[@]}" "$(url $A 42 Image)"
grep -q '12-bit' "$TMP/body" && ok || bad "tiff_12bit_refused: $(cat "$TMP/body")"

# the cache through HTTP: a second GET of the same rendition is a hit with the same ETag
expect rend_cache_first 200 "" -- "$(url $A 40 Image)?w=33"
tag1=$(grep -i '^ETag:' "$TMP/headers" | tr -d '\r')
expect rend_cache_again 200 "" -- "$(url $A 40 Image)?w=33"
tag2=$(grep -i '^ETag:' "$TMP/headers" | tr -d '\r')
check_same() { if [ "$2" = "$3" ]; then ok; else bad "$1: '$2' vs '$3'"; fi; }
check_same rend_cache_same_etag "$tag1" "$tag2"
n=$(psql -X -At -d $DB -c "SELECT count(*) FROM product_image.rendition r JOIN product_image.blob b ON b.sha256 = r.source WHERE b.product_id = 40 AND r.w = 33")
check_same rend_cache_filled "$n" 1

# no image: ifBlank
expect blank_none 404 '' -- "$(url $A 41 Image)?w=50"
expect blank_null 404 '' -- "$(url $A 41 Image)?ifBlank=Null"
expect blank_default 404 '' -- "$(url $A 41 Image)?ifBlank=default"
expect blank_clear_gif 200 "" -- "$(url $A 41 Image)?ifBlank=ClearPixel&type=gif"
body_is blank_clear_gif "GIF 1x1"
expect blank_no_photo 200 "" -- "$(url $A 41 Image)?ifBlank=SrNoPhoto&w=50"
body_is blank_no_photo "PNG 50x50"
expect blank_border_jpeg 200 "" -- "$(url $A 41 Image)?ifBlank=SrNoPhotoWithBorder&type=jpeg"
body_is blank_border_jpeg "JPEG 128x128"
expect blank_file_icon 200 "" -- "$(url $A 41 Image)?ifBlank=GenericFileIcon&h=64"
body_is blank_file_icon "PNG 64x64"
expect blank_missing_product 200 "" -- "$(url $A 4242 Image)?ifBlank=SrNoPhoto"
# a reader (no right on the cache) gets renditions; a re-save changes them
R=$((PORT_ANON + 3))
expect rend_reader 200 "" -- "$(url $R 40 Image)?w=32"
body_is rend_reader "JPEG 32x24"
expect rend_resave 200 "" -- -X PUT --data-binary @"$RFX/orient6.jpg" "${OCT[@]}" "$(url $A 40 Image)"
expect rend_after_resave 200 "" -- -H "If-None-Match: $rtag" "$(url $A 40 Image)?w=64&h=64"
body_is rend_after_resave "JPEG 48x32"

# every flag also from the environment
ENVP=$((PORT_ANON + 6))
PRODUCT_IMAGE_DB_URI="host=127.0.0.1 port=$PGPORT dbname=$DB user=pi_authenticator password=auth-secret" \
PRODUCT_IMAGE_LISTEN="127.0.0.1:$ENVP" PRODUCT_IMAGE_ANON_ROLE=pi_writer PRODUCT_IMAGE_MAX_BODY=100 \
    "$GW" 2>>"$TMP/env.log" &
PIDS="$PIDS $!"
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$ENVP/health" && break; sleep 0.1; done
expect env_configured 200 '' -- "$(url $ENVP 1 ImageInfo)"
expect env_max_body 413 '' -- -X PUT --data-binary @"$FX/rgb.jpg" "${OCT[@]}" "$(url $ENVP 18 Image)"
# ---- browsers: OPTIONS, CORS, cross-site writes, Vary ----
expect options_no_cors 204 '' -- -X OPTIONS "$(url $A 1 Image)"
header_has options_no_cors_allow 'Allow: GET, HEAD, PUT, POST, DELETE, OPTIONS'
expect vary_on_info 200 '' -- "$(url $A 1 ImageInfo)"
header_has vary_on_info_header 'Vary: Accept'
expect vary_on_error 404 '' -- "$(url $A 4242 ImageInfo)"
header_has vary_on_error_header 'Vary: Accept'
# an anonymous (or Basic) write from another site: 403 before the body is read
expect csrf_origin_foreign 403 'another site' -- -X PUT --data-binary @"$FX/rgb.png" -H 'Origin: https://evil.example' "$(url $A 77 Image)"
expect csrf_fetch_site 403 '' -- -X DELETE -H 'Sec-Fetch-Site: cross-site' "$(url $A 77 Image)"
expect csrf_form_post 403 '' -- -X POST -F "file=@$FX/rgb.png" -H 'Origin: null' "$(url $A 77 Image)"
expect csrf_nothing_stored 404 '' -- "$(url $A 77 Image)"
expect csrf_same_origin 200 '' -- -X PUT --data-binary @"$FX/rgb.png" -H "Origin: http://127.0.0.1:$A" "$(url $A 77 Image)"
expect csrf_same_origin_fetch 200 '' -- -X PUT --data-binary @"$FX/rgb.png" -H 'Sec-Fetch-Site: same-origin' "$(url $A 77 Image)"
expect csrf_bearer_is_not_ambient 200 '' -- -X PUT --data-binary @"$FX/rgb.png" -H 'Origin: https://evil.example' \
    -H "Authorization: Bearer $(tok '{"role":"pi_writer"}')" "$(url $PORT_AUTH 77 Image)"
# caching that is never stale: no-cache + ETag; v= naming the bytes: immutable
expect cache_original 200 '' -- "$(url $A 40 Image)"
header_has cache_original_no_cache 'Cache-Control: no-cache'
vtag=$(grep -i '^ETag:' "$TMP/headers" | cut -d'"' -f2)
expect cache_v_prefix 200 '' -- "$(url $A 40 Image)?v=${vtag:0:16}"
header_has cache_v_prefix_immutable 'Cache-Control: max-age=31536000, immutable'
expect cache_v_other 200 '' -- "$(url $A 40 Image)?v=0123456789abcdef"
header_has cache_v_other_no_cache 'Cache-Control: no-cache'
expect cache_v_short 200 '' -- "$(url $A 40 Image)?v=${vtag:0:8}"
header_has cache_v_short_no_cache 'Cache-Control: no-cache'
expect cache_rendition 200 '' -- "$(url $A 40 Image)?w=20"
rtag2=$(grep -i '^ETag:' "$TMP/headers" | cut -d'"' -f2)
header_has cache_rendition_no_cache 'Cache-Control: no-cache'
expect cache_rendition_v 200 '' -- "$(url $A 40 Image)?w=20&v=$rtag2"
header_has cache_rendition_v_immutable 'Cache-Control: max-age=31536000, immutable'

# conditional writes: decided by the database in the write itself; 412 writes nothing
expect cond_create 200 '' -- -X PUT --data-binary @"$FX/rgb.png" -H 'If-None-Match: *' "$(url $A 47 Image)"
ctag=$(curl -s -D - -o /dev/null "$(url $A 47 Image)" | grep -i '^ETag:' | cut -d' ' -f2 | tr -d '\r')
expect cond_create_again_412 412 '"code":"PI412"' -- -X PUT --data-binary @"$FX/rgb.jpg" -H 'If-None-Match: *' "$(url $A 47 Image)"
expect cond_if_match_other_412 412 '' -- -X PUT --data-binary @"$FX/rgb.jpg" -H 'If-Match: "0123"' "$(url $A 47 Image)"
expect cond_unchanged 200 '' -- "$(url $A 47 Image)"
cmp -s "$TMP/body" "$FX/rgb.png" && ok || bad "cond: a 412 changed the image"
expect cond_if_match 200 '' -- -X PUT --data-binary @"$FX/rgb.jpg" -H "If-Match: $ctag" "$(url $A 47 Image)"
expect cond_if_match_stale_412 412 '' -- -X PUT --data-binary @"$FX/rgb.png" -H "If-Match: $ctag" "$(url $A 47 Image)"
expect cond_delete_stale_412 412 '' -- -X DELETE -H "If-Match: $ctag" "$(url $A 47 Image)"
expect cond_delete_any 204 '' -- -X DELETE -H 'If-Match: *' "$(url $A 47 Image)"
expect cond_if_match_none_412 412 '' -- -X PUT --data-binary @"$FX/rgb.png" -H 'If-Match: *' "$(url $A 47 Image)"
expect cond_nothing_left 404 '' -- "$(url $A 47 Image)"

# If-Modified-Since when there is no If-None-Match (wget -N)
expect ims_original 200 '' -- "$(url $A 40 Image)"
lm=$(grep -i '^Last-Modified:' "$TMP/headers" | cut -d' ' -f2- | tr -d '\r')
expect ims_not_modified 304 '' -- -H "If-Modified-Since: $lm" "$(url $A 40 Image)"
expect ims_modified 200 '' -- -H 'If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT' "$(url $A 40 Image)"
expect ims_etag_wins 200 '' -- -H "If-Modified-Since: $lm" -H 'If-None-Match: "other"' "$(url $A 40 Image)"
expect ims_garbage 200 '' -- -H 'If-Modified-Since: yesterday' "$(url $A 40 Image)"

# Last-Modified is when the bytes last changed: an ImageInfo edit or the same
# bytes saved again leave it; new bytes move it
psql -X -q -d $DB -c "UPDATE product_image.blob SET data_updated = '2001-01-01 00:00:00+00' WHERE product_id = 40" >/dev/null
expect lm_info_edit 200 '' -- -X PUT -d '{"Description":"lm"}' "$(url $A 40 Image)Info"
expect lm_get 200 '' -- "$(url $A 40 Image)"
header_has lm_kept_by_info_edit 'Last-Modified: Mon, 01 Jan 2001 00:00:00 GMT'
cp "$TMP/body" "$TMP/lm_same"
expect lm_same_bytes 200 '' -- -X PUT --data-binary @"$TMP/lm_same" "$(url $A 40 Image)"
expect lm_get_again 200 '' -- "$(url $A 40 Image)"
header_has lm_kept_by_same_bytes 'Last-Modified: Mon, 01 Jan 2001 00:00:00 GMT'
expect lm_304_no_length 304 '' -- -H "If-None-Match: $(grep -i '^ETag:' "$TMP/headers" | cut -d' ' -f2 | tr -d '\r')" "$(url $A 40 Image)"
header_has lm_304_last_modified 'Last-Modified: Mon, 01 Jan 2001 00:00:00 GMT'
# RFC 9110 8.6: a 304's Content-Length, if any, is the 200's; a revalidated
# rendition's size is not known: no length (and no chunked body's end either)
grep -qi "^Content-Length: $(wc -c < "$TMP/lm_same")" "$TMP/headers" && ok || bad "lm_304_length: $(tr '\r\n' '  ' < "$TMP/headers")"
expect lm_rendition_get 200 '' -- "$(url $A 40 Image)?w=20"
expect lm_rendition_304 304 '' -- -H "If-None-Match: $(grep -i '^ETag:' "$TMP/headers" | cut -d' ' -f2 | tr -d '\r')" "$(url $A 40 Image)?w=20"
grep -qi '^Content-Length\|^Transfer-Encoding' "$TMP/headers" && bad "lm_rendition_304_no_length: $(tr '\r\n' '  ' < "$TMP/headers")" || ok
/usr/bin/python3 - "$A" "$(grep -i '^ETag:' "$TMP/headers" | cut -d' ' -f2 | tr -d '\r')" <<'PY' && ok || bad "lm_304_nothing_after_the_head"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(f"GET /api/v1/Product/40/Image?w=20 HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: {sys.argv[2]}\r\n\r\n".encode())
s.settimeout(5)
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
head, _, rest = data.partition(b"\r\n\r\n")
sys.exit(0 if head.split(b" ")[1] == b"304" and rest == b"" else 1)
PY
expect lm_new_bytes 200 '' -- -X PUT --data-binary @"$FX/rgb.jpg" "$(url $A 40 Image)"
expect lm_get_new 200 '' -- "$(url $A 40 Image)"
grep -qi '^Last-Modified: Mon, 01 Jan 2001' "$TMP/headers" && bad "lm_moved_by_new_bytes: still 2001" || ok
expect lm_restore 200 '' -- -X PUT --data-binary @"$TMP/lm_same" "$(url $A 40 Image)"

# Range on originals (curl -C -, download managers): 206, 416, If-Range; renditions whole
head -c 1000 "$RFX/noise.jpg" > "$TMP/noise_part"
expect range_accept 200 '' -- "$(url $A 46 Image)" -X PUT --data-binary @"$RFX/noise.jpg"
expect range_whole 200 '' -- "$(url $A 46 Image)"
header_has range_accept_ranges 'Accept-Ranges: bytes'
ntag=$(grep -i '^ETag:' "$TMP/headers" | cut -d' ' -f2 | tr -d '\r')
nsize=$(wc -c < "$RFX/noise.jpg")
expect range_first 206 '' -- -H 'Range: bytes=0-999' "$(url $A 46 Image)"
header_has range_first_content_range "Content-Range: bytes 0-999/$nsize"
cmp -s "$TMP/body" "$TMP/noise_part" && ok || bad "range_first: not the first 1000 bytes"
expect range_resume 206 '' -- -H 'Range: bytes=1000-' "$(url $A 46 Image)"
cat "$TMP/noise_part" "$TMP/body" > "$TMP/noise_joined"
cmp -s "$TMP/noise_joined" "$RFX/noise.jpg" && ok || bad "range_resume: the two parts are not the image"
header_has range_resume_type 'Content-Type: image/jpeg'
expect range_suffix 206 '' -- -H 'Range: bytes=-10' "$(url $A 46 Image)"
[ "$(wc -c < "$TMP/body")" = 10 ] && cmp -s "$TMP/body" <(tail -c 10 "$RFX/noise.jpg") && ok || bad "range_suffix: not the last 10 bytes"
expect range_unsatisfiable 416 '' -- -H "Range: bytes=$nsize-" "$(url $A 46 Image)"
header_has range_unsatisfiable_content_range "Content-Range: bytes \*/$nsize"
expect range_if_range_match 206 '' -- -H 'Range: bytes=0-9' -H "If-Range: $ntag" "$(url $A 46 Image)"
expect range_if_range_other 200 '' -- -H 'Range: bytes=0-9' -H 'If-Range: "other"' "$(url $A 46 Image)"
cmp -s "$TMP/body" "$RFX/noise.jpg" && ok || bad "range_if_range_other: not the whole image"
expect range_rendition_whole 200 '' -- -H 'Range: bytes=0-9' "$(url $A 46 Image)?w=20"

# a 4xx to a request read whole keeps the connection open (curl reuses it)
curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' "$(url $A 4242 ImageInfo)" \
    -H 'Accept: text/html' "$(url $A 1 ImageInfo)" "http://127.0.0.1:$A/health" > "$TMP/conns"
[ "$(tr '\n' ' ' < "$TMP/conns")" = "1 0 0 " ] && ok || bad "keepalive_after_4xx: new connections $(tr '\n' ' ' < "$TMP/conns"), want 1 0 0"
CORS=$((PORT_ANON + 15))
start_gateway $CORS "$TMP/cors.log" --anon-role pi_writer --cors-origins 'https://shop.example, https://admin.example'
expect cors_preflight 204 '' -- -X OPTIONS -H 'Origin: https://shop.example' -H 'Access-Control-Request-Method: PUT' \
    -H 'Access-Control-Request-Headers: content-type, x-xsrf-token' "$(url $CORS 1 Image)"
header_has cors_preflight_origin 'Access-Control-Allow-Origin: https://shop.example'
header_has cors_preflight_methods 'Access-Control-Allow-Methods: GET, HEAD, PUT, POST, DELETE, OPTIONS'
header_has cors_preflight_headers 'Access-Control-Allow-Headers: .*X-XSRF-TOKEN.*If-Match.*Range'
header_has cors_preflight_max_age 'Access-Control-Max-Age: '
header_has cors_preflight_vary 'Vary: Accept, Origin'
header_has cors_preflight_credentials 'Access-Control-Allow-Credentials: true'
expect cors_get 200 '' -- -H 'Origin: https://admin.example' "$(url $CORS 1 ImageInfo)"
header_has cors_get_origin 'Access-Control-Allow-Origin: https://admin.example'
header_has cors_get_expose 'Access-Control-Expose-Headers: ETag, Last-Modified'
expect cors_other_origin 200 '' -- -H 'Origin: https://evil.example' "$(url $CORS 1 ImageInfo)"
if grep -qi 'Access-Control-Allow-Origin' "$TMP/headers"; then bad "cors_other_origin: allowed an unlisted origin"; else ok; fi
expect cors_listed_may_write 200 '' -- -X PUT --data-binary @"$FX/rgb.png" -H 'Origin: https://shop.example' "$(url $CORS 77 Image)"
expect cors_unlisted_may_not_write 403 '' -- -X PUT --data-binary @"$FX/rgb.png" -H 'Origin: https://evil.example' "$(url $CORS 77 Image)"
ANYCORS=$((PORT_ANON + 16))
start_gateway $ANYCORS "$TMP/anycors.log" --anon-role pi_writer --cors-origins '*'
expect cors_star_get 200 '' -- -H 'Origin: https://anyone.example' "$(url $ANYCORS 1 ImageInfo)"
header_has cors_star_origin 'Access-Control-Allow-Origin: \*'
if grep -qi 'Access-Control-Allow-Credentials' "$TMP/headers"; then bad "cors_star: credentials allowed with *"; else ok; fi
expect cors_star_no_ambient_write 403 '' -- -X PUT --data-binary @"$FX/rgb.png" -H 'Origin: https://anyone.example' "$(url $ANYCORS 77 Image)"

# --max-held-bytes: whole answers held for all clients at once are bounded
HELD=$((PORT_ANON + 17))
start_gateway $HELD "$TMP/held.log" --anon-role pi_writer --max-held-bytes 700
expect held_over_bound 503 '"code":"53200"' -- "$(url $HELD 40 Image)?w=300"
header_has held_over_bound_retry 'Retry-After: 1'
expect held_small_answer 200 '' -- "$(url $HELD 4242 Image)?ifBlank=ClearPixel&type=png"
expect held_json_not_counted 200 '' -- "$(url $HELD 1 ImageInfo)"

# --listen through getaddrinfo: an IPv6 address in brackets, where the machine has ::1
if /usr/bin/python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    V6=$((PORT_ANON + 14))
    "$GW" --listen "[::1]:$V6" --anon-role pi_writer \
        --db-uri "host=127.0.0.1 port=$PGPORT dbname=$DB user=pi_authenticator password=auth-secret" 2>>"$TMP/v6.log" &
    PIDS="$PIDS $!"
    for _ in $(seq 50); do curl -s -o /dev/null "http://[::1]:$V6/health" && break; sleep 0.1; done
    expect listen_ipv6 200 '' -- "http://[::1]:$V6/health"
else
    echo "http: no IPv6 loopback on this machine: listen_ipv6 skipped"
fi
# options: one table drives getopt_long, the environment and --help
"$GW" --db-uri x --no-such-option 1 2>&1 | grep -q 'unknown option --no-such-option' && ok || bad "options: an unknown option is not named"
"$GW" --db-uri x --pool 2>&1 | grep -q -- '--pool needs a value' && ok || bad "options: a missing value is not named"
[ "$("$GW" --help | grep -c '^  --')" -ge 20 ] && ok || bad "help: not every option is listed"
"$GW" --db-uri x --jwt-secret short >/dev/null 2>&1
[ $? = 2 ] && ok || bad "short_jwt_secret: the gateway must refuse to start"
"$GW" --help | grep -q -- '--max-body' && ok || bad "help: does not document --max-body"

# ---- large originals are streamed in slices (product_get_image_part) ----
# --stream-slice 100 streams every fixture: the bytes must come out whole,
# typed from the bytes, and a re-save during a slow download never mixes two
# images: the client gets the old image whole, or a prefix of it cut short.
psql -X -q -d $DB -c "ALTER DATABASE $DB SET track_functions = 'all'" >/dev/null
part_calls() { psql -X -At -d $DB -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE schemaname = 'product_image' AND funcname = 'product_get_image_part'"; }
STREAM=$((PORT_ANON + 12))
start_gateway $STREAM "$TMP/stream.log" --anon-role pi_writer --stream-slice 100
expect stream_put 200 "" -- -X PUT --data-binary @"$FX/rgb.jpg" "${OCT[@]}" "$(url $STREAM 30 Image)"
expect stream_get 200 "" -- "$(url $STREAM 30 Image)"
cmp -s "$TMP/body" "$FX/rgb.jpg" && ok || bad "stream_get: the streamed bytes differ"
header_has stream_get_type 'Content-Type: image/jpeg'
header_has stream_get_length "Content-Length: $(wc -c < "$FX/rgb.jpg")"
# it was read in slices of 100 bytes (statistics reach the view within a second or so)
want_calls=$(( ($(wc -c < "$FX/rgb.jpg") + 99) / 100 ))
for _ in $(seq 50); do [ "$(part_calls)" -ge $want_calls ] && break; sleep 0.2; done
[ "$(part_calls)" -ge $want_calls ] && ok || bad "stream_get: $(part_calls) calls of product_get_image_part, want $want_calls"
stag=$(grep -i '^ETag:' "$TMP/headers" | cut -d' ' -f2 | tr -d '\r')
expect stream_304 304 "" -- -H "If-None-Match: $stag" "$(url $STREAM 30 Image)"
expect stream_head 200 "" -- -I "$(url $STREAM 30 Image)"
expect stream_missing 404 '"code":"P0002"' -- "$(url $STREAM 31 Image)"
grep -q 'streaming' "$TMP/stream.log" && bad "stream: $(grep streaming "$TMP/stream.log" | head -2)" || ok
/usr/bin/python3 - "$TMP/slow_a.png" "$TMP/slow_b.png" <<'PY'
import random, sys
from PIL import Image
for i, path in enumerate(sys.argv[1:]):
    rnd = random.Random(40 + i)
    Image.frombytes("RGB", (2000, 2000), rnd.randbytes(2000 * 2000 * 3)).save(path, compress_level=1)
PY
STREAM2=$((PORT_ANON + 13))
start_gateway $STREAM2 "$TMP/stream2.log" --anon-role pi_writer --stream-slice 65536
expect stream_put_a 200 "" -- -X PUT --data-binary @"$TMP/slow_a.png" "${OCT[@]}" "$(url $STREAM2 32 Image)"
python3 "$ROOT/test/http_load.py" slowget $STREAM2 /api/v1/Product/32/Image 2 "$TMP/slow_got" > "$TMP/slow_status" &
slowpid=$!
sleep 0.5
expect stream_put_b 200 "" -- -X PUT --data-binary @"$TMP/slow_b.png" "${OCT[@]}" "$(url $STREAM2 32 Image)"
wait $slowpid
got=$(wc -c < "$TMP/slow_got")
if [ "$(cat "$TMP/slow_status")" = 200 ] && [ "$got" -gt 0 ] && cmp -s -n "$got" "$TMP/slow_got" "$TMP/slow_a.png"; then ok; else bad "stream_resave: $got bytes received are not a prefix of the image the answer began with"; fi
echo "http: a re-save during a slow streamed download: $got of $(wc -c < "$TMP/slow_a.png") bytes of the first image, then cut; nothing of the second"

# ---- limits and hostile clients ----
S=$PORT_SMALL
head -c 200000 /dev/urandom > "$TMP/big.bin"
expect content_length_413 413 '"code":"54000"' -- -X PUT --data-binary @"$TMP/big.bin" "${OCT[@]}" "$(url $S 14 Image)"
expect under_limit_ok 200 '' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" "$(url $S 14 Image)"
while read -r name status; do
    case "$name" in
        garbage|no_version|bad_header_line|bad_content_length|bad_multipart)
            [ "$status" = 400 ] && ok || bad "raw $name: got $status, want 400" ;;
        # libmicrohttpd closes the connection on broken chunk framing, without an answer
        bad_chunk) { [ "$status" = 400 ] || [ "$status" = closed ]; } && ok || bad "raw bad_chunk: got $status" ;;
        # NUL bytes in the request line: libmicrohttpd waits, then the timeout closes it
        nul_bytes) { [ "$status" = 400 ] || [ "$status" = closed ]; } && ok || bad "raw nul_bytes: got $status" ;;
        huge_header) [ "$status" = 431 ] && ok || bad "raw huge_header: got $status, want 431" ;;
        long_request_line) [ "$status" = 414 ] && ok || bad "raw long_request_line: got $status, want 414" ;;
        declared_1gb|chunked_over_limit)
            { [ "$status" = 413 ] || [ "$status" = closed ]; } && ok || bad "raw $name: got $status, want 413" ;;
        slow_loris) { [ "$status" = 408 ] || [ "$status" = closed ]; } && ok || bad "raw slow_loris: got $status" ;;
    esac
done < <(python3 "$ROOT/test/http_raw.py" "$S" "$FX/rgb.png" garbage nul_bytes no_version bad_header_line huge_header \
    long_request_line bad_content_length declared_1gb chunked_over_limit bad_chunk bad_multipart slow_loris)
# framing (RFC 9112): answered, then the connection closed, so nothing after
# the ambiguous request (here a smuggled GET) is ever read as a request
while read -r name status conn; do
    case "$name" in
        te_unknown) want="501 close" ;;
        get_ok_keeps_open) want="200 open" ;;
        http10_no_host_ok) want="200 close" ;;
        *) want="400 close" ;;
    esac
    [ "$status $conn" = "$want" ] && ok || bad "raw $name: got '$status $conn', want '$want'"
done < <(python3 "$ROOT/test/http_raw.py" "$S" "$FX/rgb.png" cl_twice_differing cl_list_differing cl_and_te \
    te_space_before_colon te_unknown te_chunked_not_last te_http10 no_host host_twice get_ok_keeps_open http10_no_host_ok)
expect alive_after_malformed 200 '' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" "$(url $S 15 Image)"
# more idle connections than --max-connections: 503 for the next request, served again after
python3 - "$S" <<'PY' > "$TMP/idle.txt"
import socket, sys, time
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
time.sleep(0.3)
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
s.settimeout(3)
try:
    data = s.recv(100)
    print(data.split(b" ")[1].decode() if data else "closed")
except OSError:
    print("closed")
for c in idle:
    c.close()
PY
grep -qE '^(503|closed)$' "$TMP/idle.txt" && ok || bad "connection_limit: got $(cat "$TMP/idle.txt")"
sleep 0.5
expect served_after_idle 200 '' -- "http://127.0.0.1:$S/health"

# ---- 200 concurrent PUTs over 20 products ----
seq 1 200 | xargs -P 20 -I{} sh -c 'p=$(( ({} % 20) + 21 )); curl -s -o /dev/null -w "%{http_code}\n" -X PUT --data-binary @"$1" -H "Content-Type: application/octet-stream" "http://127.0.0.1:$2/api/v1/Product/$p/Image"' _ "$FX/progressive.jpg" "$A" > "$TMP/codes"
n200=$(count '^200$' "$TMP/codes")
[ "$n200" = 200 ] && ok || bad "concurrent_puts: $n200 of 200 answered 200: $(sort "$TMP/codes" | uniq -c | tr '\n' ' ')"
blobs=$(psql -X -At -d $DB -c "SELECT count(*) || '/' || count(DISTINCT product_id) FROM product_image.blob WHERE product_id BETWEEN 21 AND 40")
[ "$blobs" = "20/20" ] && ok || bad "concurrent_puts: blobs/products = $blobs, want 20/20"

# ---- serialization failures: retried once, then 503 with the SQLSTATE ----
SER=$((PORT_ANON + 5))
PGLOG="${PI_RUN_DIR:-$ROOT/.run}/postgres.log"
ser_before=$(count "could not serialize" "$PGLOG")
"$GW" --listen "127.0.0.1:$SER" --anon-role pi_writer --pool 16 --threads 16 \
    --db-uri "host=127.0.0.1 port=$PGPORT dbname=$DB user=pi_authenticator password=auth-secret options='-c default_transaction_isolation=serializable'" 2>>"$TMP/ser.log" &
PIDS="$PIDS $!"
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$SER/health" && break; sleep 0.1; done
seq 1 120 | xargs -P 16 -I{} sh -c 'curl -s -o /dev/null -w "%{http_code}\n" -X PUT --data-binary @"$1" -H "Content-Type: application/octet-stream" "http://127.0.0.1:$2/api/v1/Product/$(( {} % 2 + 41 ))/Image"' _ "$FX/progressive.jpg" "$SER" > "$TMP/ser_codes"
bad_codes=$(count '^(200|503)$' "$TMP/ser_codes" -vE)
[ "$bad_codes" = 0 ] && ok || bad "serializable: answers other than 200/503: $(sort "$TMP/ser_codes" | uniq -c | tr '\n' ' ')"
grep -q '^200$' "$TMP/ser_codes" && ok || bad "serializable: no save succeeded"
n503=$(count '^503$' "$TMP/ser_codes")
ser=$(( $(count "could not serialize" "$PGLOG") - ser_before ))
# each 503 costs two failures (the try and the retry); every other failure was retried into a 200
[ "$ser" -ge $((2 * n503)) ] && ok || bad "serializable: $n503 x 503 but only $ser serialization failures logged"
echo "http: serializable saves, 120 PUTs on 2 products from 16 clients: $((120 - n503)) x 200, $n503 x 503; $ser serialization failures in the server log, $((ser - 2 * n503)) of them retried into a 200"

# ---- a save stuck behind a lock ends at --statement-timeout with 503 ----
STO=$((PORT_ANON + 7))
"$GW" --listen "127.0.0.1:$STO" --anon-role pi_writer --statement-timeout 500 \
    --db-uri "host=127.0.0.1 port=$PGPORT dbname=$DB user=pi_authenticator password=auth-secret" 2>>"$TMP/sto.log" &
PIDS="$PIDS $!"
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$STO/health" && break; sleep 0.1; done
psql -X -q -d $DB -c "BEGIN; LOCK TABLE product IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3); COMMIT;" >/dev/null &
sleep 0.5
expect statement_timeout_503 503 '"code":"57014"' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" "$(url $STO 20 Image)"
wait %% 2>/dev/null || true
expect statement_timeout_then_ok 200 '' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" "$(url $STO 20 Image)"

# ---- the database goes away and comes back ----
"$ROOT/scripts/cluster" stop
expect health_db_down 503 '' -- "http://127.0.0.1:$A/health"
expect put_db_down 503 '' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" "$(url $A 16 Image)"
"$ROOT/scripts/cluster" start
expect health_db_back 200 '' -- "http://127.0.0.1:$A/health"
expect put_db_back 200 '' -- -X PUT --data-binary @"$FX/rgb.png" "${OCT[@]}" "$(url $A 16 Image)"

# ---- logging and SIGTERM ----
# the access log escapes what a path carries: no forged line, no ESC, no CR
curl -s -o /dev/null --path-as-is "http://127.0.0.1:$A/api/v1/Product/1/Image%0aFORGED%20200%1b%5b31m%0d"
if grep -q '^FORGED' "$TMP/anon.log" || grep -q $'\x1b' "$TMP/anon.log" || grep -q $'\r' "$TMP/anon.log"; then
    bad "access log: a path forged a line or carried a control character"
else ok; fi
grep -qF 'Image\x0aFORGED\x20200\x1b[31m\x0d 404' "$TMP/anon.log" && ok || bad "access log: escaped path not found: $(grep -a FORGED "$TMP/anon.log" | head -2)"
grep -qE '^PUT /api/v1/Product/1/Image 200 [0-9]+ [0-9]+ [0-9.]+ms$' "$TMP/anon.log" && ok || bad "log line format: $(head -3 "$TMP/anon.log")"
"$GW" --listen 127.0.0.1:$((PORT_ANON + 4)) --anon-role pi_writer \
    --db-uri "host=127.0.0.1 port=$PGPORT dbname=$DB user=pi_authenticator password=auth-secret" 2>"$TMP/term.log" &
tp=$!
sleep 0.5
# an upload still in flight when SIGTERM arrives (2 s at 512 KB/s) must be finished
/usr/bin/python3 - "$TMP/slow.jpg" <<'PY'
import random, sys
from PIL import Image
rnd = random.Random(3)
Image.frombytes("RGB", (600, 600), rnd.randbytes(600 * 600 * 3)).save(sys.argv[1], quality=95)
PY
curl -s -o /dev/null -w '%{http_code}' --limit-rate 512K -X PUT --data-binary @"$TMP/slow.jpg" "${OCT[@]}" \
    "$(url $((PORT_ANON + 4)) 17 Image)" > "$TMP/inflight" &
cp=$!
sleep 0.5
kill -TERM $tp
wait $tp
[ $? = 0 ] && ok || bad "sigterm: exit status not 0: $(cat "$TMP/term.log")"
wait $cp
[ "$(cat "$TMP/inflight")" = 200 ] && ok || bad "sigterm: the in-flight upload got '$(cat "$TMP/inflight")', want 200"

# a sanitizer report in any gateway's log fails the run (the gateway may have
# died on it, or, for a report that does not halt, kept going)
for log in "$TMP"/*.log; do
    if grep -qE 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' "$log"; then
        bad "sanitizer report in $(basename "$log"):"
        grep -A 30 -E 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' "$log" | head -60
    fi
done
summary http "($(basename "$GW"))"
psql -X -q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
[ "$FAILED" = 0 ]
