#!/bin/sh
# Concurrent saves, deletes and ImageInfo updates on the same 50 products from
# 8 clients (pgbench) for a bounded time (PI_CONCURRENCY_SECONDS, default 10). Every statement must succeed (pgbench stops a client on
# any error), and afterwards each product has at most one blob whose bytes
# match its recorded size and sha256, and no blob lacks its product.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
DB=pi_concurrency
psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d $DB -v copy="python3 $ROOT/test/copy_files.py $ROOT/test/fixtures rgb.png progressive.jpg anim3.gif pages3.tif" <<'SQL'
CREATE EXTENSION product_image;
CREATE TABLE product (id int PRIMARY KEY);
INSERT INTO product SELECT generate_series(1, 50);
SELECT product_image.attach('product') \g /dev/null
CREATE TEMP TABLE files (name text, img bytea);
\set copycmd '\\copy files FROM PROGRAM ' :'copy'
:copycmd
CREATE TABLE pi_conc_image (n int PRIMARY KEY, img bytea);
INSERT INTO pi_conc_image
SELECT CASE name WHEN 'rgb.png' THEN 1 WHEN 'progressive.jpg' THEN 2 WHEN 'anim3.gif' THEN 3 ELSE 4 END, img
  FROM files;
SQL
PGBENCH=$(pg_config --bindir)/pgbench
[ -x "$PGBENCH" ] || PGBENCH=pgbench
"$PGBENCH" -n -c 8 -j 2 -T "${PI_CONCURRENCY_SECONDS:-10}" \
    -f "$ROOT/test/concurrency/save.sql@6" \
    -f "$ROOT/test/concurrency/delete.sql@2" \
    -f "$ROOT/test/concurrency/info.sql@2" $DB > "$TMP/pi_pgbench.log" 2>&1 || {
    cat "$TMP/pi_pgbench.log"
    echo "concurrency: FAILED, a client hit an error"
    exit 1
}
grep -E "number of failed|transactions actually processed" "$TMP/pi_pgbench.log" | tr -s ' ' | sed 's/^/concurrency: /'
result=$(psql -X -At -d $DB <<'SQL'
SELECT (SELECT count(*) FROM (SELECT product_id FROM product_image.blob GROUP BY 1 HAVING count(*) > 1) d)
    || ' ' || (SELECT count(*) FROM product_image.blob WHERE sha256 <> sha256(data) OR blob_size <> octet_length(data))
    || ' ' || (SELECT count(*) FROM product_image.blob b WHERE NOT EXISTS (SELECT 1 FROM product p WHERE p.id = b.product_id))
    || ' ' || (SELECT count(*) FROM product_image.blob);
SQL
)
set -- $result
echo "concurrency: duplicates=$1 mismatched=$2 orphans=$3 blobs=$4"
psql -X -q -c "DROP DATABASE $DB"
[ "$1" = 0 ] && [ "$2" = 0 ] && [ "$3" = 0 ]
