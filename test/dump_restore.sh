#!/bin/sh
# pg_dump / restore keeps the registration, the images, the blob id sequence
# and the cascade trigger.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(pg_config --bindir)
SRC=pi_dump_src
DST=pi_dump_dst
psql -X -q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $SRC" -c "DROP DATABASE IF EXISTS $DST" -c "CREATE DATABASE $SRC" -c "CREATE DATABASE $DST"
psql -X -q -v ON_ERROR_STOP=1 -d $SRC -v copy="python3 $ROOT/test/copy_files.py $ROOT/test/fixtures rgb.png" <<'SQL'
CREATE EXTENSION product_image;
CREATE SCHEMA shop;
CREATE TABLE shop.product (id int PRIMARY KEY, name text);
INSERT INTO shop.product SELECT g, 'p' || g FROM generate_series(1, 5) g;
SELECT product_image.attach('shop.product') \g /dev/null
CREATE TEMP TABLE files (name text, img bytea);
\set copycmd '\\copy files FROM PROGRAM ' :'copy'
:copycmd
SELECT product_image.product_save_image(g, (SELECT img FROM files)) FROM generate_series(1, 3) g \g /dev/null
SELECT product_image.product_put_image_info(2, '{"Description": "kept"}') \g /dev/null
SQL
"$BIN/pg_dump" -Fc -d $SRC -f "${TMPDIR:-/tmp}/pi_dump.custom"
"$BIN/pg_restore" --exit-on-error -d $DST "${TMPDIR:-/tmp}/pi_dump.custom"
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d $DST <<'SQL'
SELECT 'config=' || product_table || '/' || product_key FROM product_image.config;
SELECT 'blobs=' || count(*) || ' sha_ok=' || bool_and(sha256 = sha256(data)) FROM product_image.blob;
SELECT 'description=' || (product_image.product_get_image_info(2) ->> 'Description');
SELECT 'next_id_is_new=' || (product_image.product_save_image(4, product_image.product_get_image(1))
                             NOT IN (SELECT blob_id FROM product_image.blob WHERE product_id <> 4));
DELETE FROM shop.product WHERE id = 1 \g /dev/null
SELECT 'cascade=' || (count(*) = 0) FROM product_image.blob WHERE product_id = 1;
SQL
)
echo "$out" | sed 's/^/dump_restore: /'
psql -X -q -c "DROP DATABASE $SRC" -c "DROP DATABASE $DST"
rm -f "${TMPDIR:-/tmp}/pi_dump.custom"
expected="config=shop.product/id
blobs=3 sha_ok=true
description=kept
next_id_is_new=true
cascade=true"
[ "$out" = "$expected" ] || { echo "dump_restore: FAILED"; exit 1; }
