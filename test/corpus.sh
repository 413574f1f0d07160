#!/bin/sh
# Conformance run over ../shared/corpus: the standalone decoder against
# Pillow's verdicts (test/corpus_compare.py), then every file through a
# backend in both modes, which must never crash (counts by SQLSTATE).
# Skips with a message when the corpus is absent, as in a user's clone.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=${PI_CORPUS:-$ROOT/../shared/corpus}
if [ ! -f "$CORPUS/manifest.csv" ]; then
    echo "corpus: SKIPPED, no corpus at $CORPUS (set PI_CORPUS to run it)"
    exit 0
fi
CORPUS=$(cd "$CORPUS" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

tail -n +2 "$CORPUS/manifest.csv" | cut -d, -f1 > "$TMP/files"
(cd "$CORPUS" && xargs -a "$TMP/files" "$ROOT/src/decode/pi-inspect" > "$TMP/header.tsv")
(cd "$CORPUS" && xargs -a "$TMP/files" "$ROOT/src/decode/pi-inspect" --full > "$TMP/full.tsv")
python3 "$ROOT/test/corpus_compare.py" "$CORPUS" "$TMP/header.tsv" "$TMP/full.tsv"

# Through the backend: one session per mode; a crash ends the session and fails.
for mode in header full; do
    psql -X -q -v ON_ERROR_STOP=1 -v corpus="$CORPUS" -v mode="$mode" -At <<'SQL' > "$TMP/sql_$mode.txt"
SET pi.corpus = :'corpus';
CREATE TEMP TABLE files AS
SELECT split_part(line, ',', 1) AS path
  FROM regexp_split_to_table(pg_read_file(:'corpus' || '/manifest.csv'), E'\n') WITH ORDINALITY AS l(line, n)
 WHERE n > 1 AND line <> '';
SET product_image.validate = :'mode';
CREATE TEMP TABLE verdict (path text, state text);
DO $$
DECLARE
    f record;
    st text;
BEGIN
    FOR f IN SELECT path FROM files ORDER BY path LOOP
        BEGIN
            PERFORM product_image.image_info(pg_read_binary_file(current_setting('pi.corpus') || '/' || f.path));
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
