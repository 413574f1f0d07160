#!/bin/sh
# Conformance run over ../shared/corpus: the standalone decoder against
# Pillow's verdicts (test/corpus_compare.py), then every file through a
# backend in both modes, which must never crash (counts by SQLSTATE).
# Skips with a message when the corpus is absent, as in a user's clone.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
CORPUS=${PI_CORPUS:-$ROOT/../shared/corpus}
if [ ! -f "$CORPUS/manifest.csv" ]; then
    echo "corpus: SKIPPED, no corpus at $CORPUS (set PI_CORPUS to run it)"
    exit 0
fi
CORPUS=$(cd "$CORPUS" && pwd)

tail -n +2 "$CORPUS/manifest.csv" | cut -d, -f1 > "$TMP/files"
(cd "$CORPUS" && xargs -a "$TMP/files" "$ROOT/tools/pi-inspect" > "$TMP/header.tsv")
(cd "$CORPUS" && xargs -a "$TMP/files" "$ROOT/tools/pi-inspect" --full > "$TMP/full.tsv")
python3 "$ROOT/test/corpus_compare.py" "$CORPUS" "$TMP/header.tsv" "$TMP/full.tsv"

# Through the backend: one session per mode; a crash ends the session and fails.
# Files go from the client (\copy), so the server needs no access to the corpus.
psql -X -q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS pi_corpus" -c "CREATE DATABASE pi_corpus"
psql -X -q -d pi_corpus -c "CREATE EXTENSION product_image"
for mode in header full; do
    psql -X -q -d pi_corpus -v ON_ERROR_STOP=1 -v mode="$mode" -At \
        -v copy="python3 $ROOT/test/copy_files.py $CORPUS $(tr '\n' ' ' < "$TMP/files")" <<'SQL' > "$TMP/sql_$mode.txt"
CREATE TEMP TABLE files (path text, img bytea);
\set copycmd '\\copy files FROM PROGRAM ' :'copy'
:copycmd
SET product_image.validate = :'mode';
CREATE TEMP TABLE verdict (path text, state text);
DO $$
DECLARE
    f record;
    st text;
BEGIN
    FOR f IN SELECT path, img FROM files ORDER BY path LOOP
        BEGIN
            PERFORM product_image.image_info(f.img);
            st := 'ok';
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
        END;
        INSERT INTO verdict VALUES (f.path, st);
    END LOOP;
END
$$;
SELECT string_agg(state || '=' || n, ' ' ORDER BY state) FROM (SELECT state, count(*) n FROM verdict GROUP BY state) s;
SELECT count(*) FROM verdict WHERE state NOT IN ('ok', '22P03', '0A000', '54000', '22004');
SQL
    unexpected=$(tail -1 "$TMP/sql_$mode.txt")
    echo "corpus through the backend, $mode mode: $(head -1 "$TMP/sql_$mode.txt"), no crash"
    [ "$unexpected" = 0 ] || { echo "corpus: unexpected SQLSTATEs in $mode mode"; exit 1; }
done
psql -X -q -c "DROP DATABASE pi_corpus"
