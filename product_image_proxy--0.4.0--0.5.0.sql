-- product_image_proxy 0.4.0 -> 0.5.0: product_get_image_rendition takes, as
-- on a partition, the request's Accept header (formats chosen by the
-- partition's product_image.auto_formats) and render (false: answer only
-- from the rendition cache).  The partitions must be 0.5.0 first.
\echo Use "ALTER EXTENSION product_image_proxy UPDATE TO '0.5.0'" to load this file. \quit

-- The functions' arguments change: they are dropped and created again and
-- their privileges are carried over, not reset.
SELECT pg_catalog.set_config('pi_upgrade.keep_acl_' || p.proname, coalesce(p.proacl::text, ''), true)
  FROM pg_catalog.pg_proc p
 WHERE p.oid IN ('product_image.remote_get_image_rendition(name, integer, integer, integer, text, text, text)'::regprocedure,
                 'product_image.product_get_image_rendition(integer, integer, integer, text, text, text, bigint)'::regprocedure);
DROP FUNCTION product_image.product_get_image_rendition(integer, integer, integer, text, text, text, bigint);
DROP FUNCTION product_image.remote_get_image_rendition(name, integer, integer, integer, text, text, text);
CREATE FUNCTION product_image.remote_get_image_rendition(
    caller name, product_id integer, w integer, h integer, type text, if_blank text, if_none_match text,
    accept text, render boolean,
    OUT image bytea, OUT mime_type text, OUT etag text, OUT width integer, OUT height integer,
    OUT modified timestamptz, OUT size bigint, OUT not_modified boolean)
RETURNS record LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.partition_get_image_rendition;
$$;
REVOKE ALL ON FUNCTION product_image.remote_get_image_rendition(name, integer, integer, integer, text,
    text, text, text, boolean) FROM PUBLIC;

CREATE FUNCTION product_image.product_get_image_rendition(
    product_id integer, w integer DEFAULT NULL, h integer DEFAULT NULL,
    type text DEFAULT NULL, if_blank text DEFAULT NULL, if_none_match text DEFAULT NULL,
    max_bytes bigint DEFAULT NULL, accept text DEFAULT NULL, render boolean DEFAULT true,
    OUT image bytea, OUT mime_type text, OUT etag text, OUT width integer, OUT height integer,
    OUT modified timestamptz, OUT size bigint, OUT not_modified boolean)
RETURNS record LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE st text; m text; d text; hi text;
BEGIN
    IF product_id IS NULL THEN
        RETURN;
    END IF;
    SELECT * INTO image, mime_type, etag, width, height, modified, size, not_modified
      FROM product_image.remote_get_image_rendition(product_image.caller(), product_id, w, h, type,
                                                    if_blank, if_none_match, accept,
                                                    coalesce(render, true));
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, hi = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, hi);
END
$$;
DO $$
DECLARE
    f regprocedure;
    acl text;
    g record;
BEGIN
    FOREACH f IN ARRAY ARRAY['product_image.remote_get_image_rendition(name, integer, integer, integer, text, text, text, text, boolean)',
                     'product_image.product_get_image_rendition(integer, integer, integer, text, text, text, bigint, text, boolean)']::regprocedure[] LOOP
        acl := pg_catalog.current_setting('pi_upgrade.keep_acl_' ||
                                          (SELECT proname FROM pg_catalog.pg_proc WHERE oid = f));
        CONTINUE WHEN acl = '';
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        FOR g IN SELECT a.grantee FROM pg_catalog.aclexplode(acl::aclitem[]) a
                  WHERE a.privilege_type = 'EXECUTE' LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', f,
                CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END);
        END LOOP;
    END LOOP;
END
$$;

-- The partition map, for a gateway that sends each request straight to its
-- partition (its fast path): the partitions' connection strings as the
-- cluster's SQL/MED server lists them (p0, p1, ...: PL/Proxy's RUN ON
-- product_id sends id i to partition i & (n - 1)), and a version that
-- changes with any of the server's options (ALTER SERVER when resharding).
-- No credential is in it: the server's options hold none (the user mapping
-- does), and a gateway logs in with its own.  A gateway that finds no map
-- (n not a power of two, no server) uses the proxy.
CREATE FUNCTION product_image.partition_map(
    OUT partition integer, OUT partitions integer, OUT connstr text, OUT version text)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    WITH s AS (
        SELECT s.srvoptions FROM pg_catalog.pg_foreign_server s
          JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid OPERATOR(pg_catalog.=) s.srvfdw
         WHERE s.srvname OPERATOR(pg_catalog.=) 'product_image' AND w.fdwname OPERATOR(pg_catalog.=) 'plproxy'),
    p AS (
        SELECT pg_catalog.substr(o.option_name, 2)::integer AS partition, o.option_value AS connstr
          FROM s, pg_catalog.pg_options_to_table(s.srvoptions) o
         WHERE o.option_name OPERATOR(pg_catalog.~) '^p[0-9]{1,9}$')
    SELECT p.partition, (SELECT pg_catalog.count(*) FROM p)::integer, p.connstr,
           (SELECT pg_catalog.md5(s.srvoptions::pg_catalog.text) FROM s)
      FROM p ORDER BY p.partition
$$;
