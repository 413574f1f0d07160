-- product_image 0.4.0 -> 0.5.0: renditions a gateway can ask for cheaply
-- and in the browser's formats.
--   accept: the request's Accept header; with neither type nor an explicit
--     original (w or h given, no type) the rendition is made in the first
--     format of product_image.auto_formats that it names.
--   render: false answers only from the rendition cache: a rendition not
--     cached comes back without image (and without size) and is not made,
--     so a gateway can serve cache hits without taking a render slot.
\echo Use "ALTER EXTENSION product_image UPDATE TO '0.5.0'" to load this file. \quit

-- Renditions are cached in whatever format the codec table writes (WebP and
-- AVIF since 0.5.0), as the blob table already asks the codec table.
CREATE FUNCTION product_image.rendition_mime_type(type text) RETURNS text
AS 'MODULE_PATHNAME', 'rendition_mime_type'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
ALTER TABLE product_image.rendition DROP CONSTRAINT rendition_type_check,
    ADD CONSTRAINT rendition_type_known CHECK (product_image.rendition_mime_type(type) IS NOT NULL);

-- The function's arguments change: it is dropped and created again and its
-- privileges (a REVOKE from PUBLIC, GRANTs) are carried over, not reset.
SELECT pg_catalog.set_config('pi_upgrade.keep_acl', coalesce(p.proacl::text, ''), true)
  FROM pg_catalog.pg_proc p
 WHERE p.oid = 'product_image.product_get_image_rendition(integer, integer, integer, text, text, text, bigint)'::regprocedure;
DROP FUNCTION product_image.product_get_image_rendition(integer, integer, integer, text, text, text, bigint);

CREATE FUNCTION product_image.product_get_image_rendition(
    product_id integer, w integer DEFAULT NULL, h integer DEFAULT NULL,
    type text DEFAULT NULL, if_blank text DEFAULT NULL, if_none_match text DEFAULT NULL,
    max_bytes bigint DEFAULT NULL, accept text DEFAULT NULL, render boolean DEFAULT true,
    OUT image bytea, OUT mime_type text, OUT etag text, OUT width integer, OUT height integer,
    OUT modified timestamptz, OUT size bigint, OUT not_modified boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'product_get_image_rendition'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

-- What a 0.5.0 proxy node calls; 0.4.0 proxies keep calling the
-- seven-argument one, which stays.
CREATE FUNCTION product_image.partition_get_image_rendition(
    caller name, product_id integer, w integer, h integer, type text, if_blank text, if_none_match text,
    accept text, render boolean,
    OUT image bytea, OUT mime_type text, OUT etag text, OUT width integer, OUT height integer,
    OUT modified timestamptz, OUT size bigint, OUT not_modified boolean)
RETURNS record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM product_image.partition_enter(caller);
    SELECT * INTO image, mime_type, etag, width, height, modified, size, not_modified
      FROM product_image.product_get_image_rendition(product_id, w, h, type, if_blank, if_none_match,
                                                     NULL, accept, render);
END $$;
REVOKE ALL ON FUNCTION product_image.partition_get_image_rendition(name, integer, integer, integer,
    text, text, text, text, boolean) FROM PUBLIC;

DO $$
DECLARE
    f regprocedure := 'product_image.product_get_image_rendition(integer, integer, integer, text, text, text, bigint, text, boolean)';
    acl text := pg_catalog.current_setting('pi_upgrade.keep_acl');
    g record;
BEGIN
    IF acl <> '' THEN
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        FOR g IN SELECT a.grantee FROM pg_catalog.aclexplode(acl::aclitem[]) a
                  WHERE a.privilege_type = 'EXECUTE' LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', f,
                CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END);
        END LOOP;
    END IF;
    -- a proxy's login that may call the old partition function may call the new one
    FOR g IN SELECT a.grantee FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
              WHERE p.oid = 'product_image.partition_get_image_rendition(name, integer, integer, integer, text, text, text)'::regprocedure
                AND a.privilege_type = 'EXECUTE' AND a.grantee <> 0
                AND a.grantee <> p.proowner LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION product_image.partition_get_image_rendition(name, integer, integer, integer, text, text, text, text, boolean) TO %s',
            g.grantee::regrole::text);
    END LOOP;
END
$$;
