-- Stands in for the database side's product_image.product_get_image_part
-- (product_id, etag, offset, length) until the extension has it: the
-- gateway streams large originals through it (issue 12, item 4). Created
-- only when the extension does not define it; tests run it as superuser.
DO $do$
BEGIN
  IF to_regproc('product_image.product_get_image_part') IS NULL THEN
    CREATE FUNCTION product_image.product_get_image_part(product_id integer, etag text,
                                                         "offset" bigint, length integer)
    RETURNS bytea LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $f$
      SELECT substring(b.data FROM ($3 + 1)::integer FOR $4) FROM product_image.blob b
       WHERE b.product_id = $1 AND encode(b.sha256, 'hex') = $2
    $f$;
    GRANT EXECUTE ON FUNCTION product_image.product_get_image_part(integer, text, bigint, integer)
      TO PUBLIC;
  END IF;
END
$do$;
