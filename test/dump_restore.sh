#!/bin/sh
# pg_dump / restore keeps the registration, the images, the blob id sequence
# and the cascade trigger.  Then: a 0.1.0 install with an image updated to
# 0.2.0 in place, made a partition, dumped and restored: the restored
# partition refuses to hand out ids until configure_partition is run again.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
BIN=$(pg_config --bindir)
SRC=pi_dump_src
DST=pi_dump_dst
psql -X -q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $SRC" -c "DROP DATABASE IF EXISTS $DST" -c "CREATE DATABASE $SRC" -c "CREATE DATABASE $DST"
psql -X -q -v ON_ERROR_STOP=1 -d $SRC -v copy="python3 $ROOT/test/copy_files.py $ROOT/test/fixtures rgb.png" <<'SQL'
CREATE EXTENSION product_image;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pi_dump_owner') THEN CREATE ROLE pi_dump_owner; END IF;
END $$;
CREATE SCHEMA shop AUTHORIZATION pi_dump_owner;
CREATE TABLE shop.product (id int PRIMARY KEY, name text);
ALTER TABLE shop.product OWNER TO pi_dump_owner;
INSERT INTO shop.product SELECT g, 'p' || g FROM generate_series(1, 5) g;
SELECT product_image.attach('shop.product') \g /dev/null
CREATE TEMP TABLE files (name text, img bytea);
\set copycmd '\\copy files FROM PROGRAM ' :'copy'
:copycmd
SELECT product_image.product_save_image(g, (SELECT img FROM files)) FROM generate_series(1, 3) g \g /dev/null
SELECT product_image.product_put_image_info(2, '{"Description": "kept"}') \g /dev/null
SQL
"$BIN/pg_dump" -Fc -d $SRC -f "$TMP/pi_dump.custom"
"$BIN/pg_restore" --exit-on-error -d $DST "$TMP/pi_dump.custom"
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d $DST <<'SQL'
SELECT 'config=' || product_table || '/' || product_key FROM product_image.config;
SELECT 'blobs=' || count(*) || ' sha_ok=' || bool_and(sha256 = sha256(data)) FROM product_image.blob;
SELECT 'description=' || (product_image.product_get_image_info(2) ->> 'Description');
SELECT 'next_id_is_new=' || (product_image.product_save_image(4, product_image.product_get_image(1))
                             NOT IN (SELECT blob_id FROM product_image.blob WHERE product_id <> 4));
-- the product table's owner (not a superuser) deletes: the cascade follows
SET ROLE pi_dump_owner;
DELETE FROM shop.product WHERE id = 1 \g /dev/null
RESET ROLE;
SELECT 'cascade=' || (count(*) = 0) FROM product_image.blob WHERE product_id = 1;
-- and it can recreate the cascade trigger itself, as its own pg_restore would
SET ROLE pi_dump_owner;
DROP TRIGGER product_image_cascade ON shop.product;
CREATE TRIGGER product_image_cascade AFTER DELETE OR UPDATE OF id ON shop.product
    FOR EACH ROW EXECUTE FUNCTION product_image.on_product_change('id');
DELETE FROM shop.product WHERE id = 2 \g /dev/null
RESET ROLE;
SELECT 'owner_recreated_cascade=' || (count(*) = 0) FROM product_image.blob WHERE product_id = 2;
SQL
)
echo "$out" | sed 's/^/dump_restore: /'
psql -X -q -c "DROP DATABASE $SRC" -c "DROP DATABASE $DST" -c "DROP ROLE pi_dump_owner"
expected="config=shop.product/id
blobs=3 sha_ok=true
description=kept
next_id_is_new=true
cascade=true
owner_recreated_cascade=true"
[ "$out" = "$expected" ] || { echo "dump_restore: FAILED"; exit 1; }

# ---- update 0.1.0 -> 0.2.0 with data, partition, dump and restore ----
PSRC=pi_part_src
PDST=pi_part_dst
psql -X -q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $PSRC" -c "DROP DATABASE IF EXISTS $PDST" -c "CREATE DATABASE $PSRC" -c "CREATE DATABASE $PDST"
psql -X -q -v ON_ERROR_STOP=1 -d $PSRC -v copy="python3 $ROOT/test/copy_files.py $ROOT/test/fixtures rgb.png" <<'SQL'
CREATE EXTENSION product_image VERSION '0.1.0';
CREATE TABLE product (id int PRIMARY KEY);
INSERT INTO product SELECT generate_series(1, 8);
SELECT product_image.attach('product') \g /dev/null
CREATE TABLE files (name text, img bytea);
\set copycmd '\\copy files FROM PROGRAM ' :'copy'
:copycmd
SELECT product_image.product_save_image(1, (SELECT img FROM files)) \g /dev/null
ALTER EXTENSION product_image UPDATE;
SELECT product_image.configure_partition(0, 4) \g /dev/null
SELECT product_image.product_save_image(g, (SELECT img FROM files)) FROM generate_series(2, 3) g \g /dev/null
SQL
"$BIN/pg_dump" -Fc -d $PSRC -f "$TMP/pi_part.custom"
"$BIN/pg_restore" --exit-on-error -d $PDST "$TMP/pi_part.custom"
out=$(psql -X -q -At -d $PDST 2>&1 <<'SQL'
SELECT 'version=' || extversion FROM pg_extension WHERE extname = 'product_image';
SELECT 'ids=' || string_agg(blob_id::text, ',' ORDER BY blob_id) FROM product_image.blob;
SELECT 'partition=' || k || '/' || n FROM product_image.partition;
SELECT 'rendition=' || (product_image.image_info(product_image.product_get_image(1, 8, NULL, 'gif', NULL))).format;
\set VERBOSITY sqlstate
SELECT product_image.product_save_image(4, (SELECT img FROM files));
\set VERBOSITY default
SELECT product_image.configure_partition(0, 4) \g /dev/null
SELECT 'after_reconfigure=' || product_image.product_save_image(4, (SELECT img FROM files)) % 4;
SQL
)
echo "$out" | sed 's/^/dump_restore: /'
psql -X -q -c "DROP DATABASE $PSRC" -c "DROP DATABASE $PDST"
expected="version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ROOT/product_image.control")
ids=1,5,9
partition=0/4
rendition=gif
ERROR:  55000
after_reconfigure=1"
[ "$out" = "$expected" ] || { echo "dump_restore: update/partition/restore FAILED"; exit 1; }
