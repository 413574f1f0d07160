/* product_image_proxy--0.2.0--0.3.0.sql: the caller's role reaches the partition */

\echo Use "ALTER EXTENSION product_image_proxy UPDATE TO '0.3.0'" to load this file. \quit

-- Through 0.2.0 every partition call ran as the proxy's login: RLS on the
-- partition's product table did not apply, and CreatedBy named the proxy.
-- Now the entry points are SECURITY DEFINER (pinned search_path): PL/Proxy
-- connects with the owner's user mapping, so no caller needs USAGE on the
-- foreign server or can choose the partition login, and each passes the
-- caller's role to product_image.partition_*() on the partition, which SETs
-- that ROLE (the proxy's login must be a member, as a gateway's
-- authenticator is) before the partition's own function runs with the
-- caller's GRANTs and RLS.  The caller is the session's role: SET ROLE's
-- value, or the login; a SECURITY DEFINER function cannot change it.

CREATE FUNCTION product_image.caller()
RETURNS name
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT CASE WHEN pg_catalog.current_setting('role') OPERATOR(pg_catalog.=) 'none'
                  THEN pg_catalog.session_user() ELSE pg_catalog.current_setting('role')::name END $$;
DROP FUNCTION product_image.remote_save_image(integer, bytea);
CREATE FUNCTION product_image.remote_save_image(caller name, product_id integer, image bytea)
RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.partition_save_image;
$$;
DROP FUNCTION product_image.remote_get_image(integer);
CREATE FUNCTION product_image.remote_get_image(caller name, product_id integer)
RETURNS bytea LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.partition_get_image;
$$;
DROP FUNCTION product_image.remote_get_image_info(integer);
CREATE FUNCTION product_image.remote_get_image_info(caller name, product_id integer)
RETURNS jsonb LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.partition_get_image_info;
$$;
DROP FUNCTION product_image.remote_put_image_info(integer, jsonb);
CREATE FUNCTION product_image.remote_put_image_info(caller name, product_id integer, info jsonb)
RETURNS jsonb LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.partition_put_image_info;
$$;
DROP FUNCTION product_image.remote_delete_image(integer);
CREATE FUNCTION product_image.remote_delete_image(caller name, product_id integer)
RETURNS boolean LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.partition_delete_image;
$$;
DROP FUNCTION product_image.remote_get_image_rendition(integer, integer, integer, text, text, text);
CREATE FUNCTION product_image.remote_get_image_rendition(
    caller name, product_id integer, w integer, h integer, type text, if_blank text, if_none_match text,
    OUT image bytea, OUT mime_type text, OUT etag text, OUT width integer, OUT height integer)
RETURNS record LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.partition_get_image_rendition;
$$;
DROP FUNCTION product_image.remote_get_image_etag(integer, integer, integer, text, text);
CREATE FUNCTION product_image.remote_get_image_etag(
    caller name, product_id integer, w integer, h integer, type text, if_blank text,
    OUT etag text, OUT mime_type text)
RETURNS record LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.partition_get_image_etag;
$$;
CREATE OR REPLACE FUNCTION product_image.product_save_image(product_id integer, image bytea)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE st text; m text; d text; h text;
BEGIN
    IF product_id IS NULL THEN
        RAISE EXCEPTION 'product id must not be null' USING ERRCODE = '22004';
    END IF;
    RETURN product_image.remote_save_image(product_image.caller(), product_id, image);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, h);
END
$$;
CREATE OR REPLACE FUNCTION product_image.product_get_image(product_id integer)
RETURNS bytea LANGUAGE plpgsql STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE st text; m text; d text; h text;
BEGIN
    RETURN product_image.remote_get_image(product_image.caller(), product_id);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, h);
END
$$;
CREATE OR REPLACE FUNCTION product_image.product_get_image_info(product_id integer)
RETURNS jsonb LANGUAGE plpgsql STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE st text; m text; d text; h text;
BEGIN
    RETURN product_image.remote_get_image_info(product_image.caller(), product_id);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, h);
END
$$;
CREATE OR REPLACE FUNCTION product_image.product_put_image_info(product_id integer, info jsonb)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE st text; m text; d text; h text;
BEGIN
    IF product_id IS NULL THEN
        RAISE EXCEPTION 'product id must not be null' USING ERRCODE = '22004';
    END IF;
    RETURN product_image.remote_put_image_info(product_image.caller(), product_id, info);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, h);
END
$$;
CREATE OR REPLACE FUNCTION product_image.product_delete_image(product_id integer)
RETURNS boolean LANGUAGE plpgsql STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE st text; m text; d text; h text;
BEGIN
    RETURN product_image.remote_delete_image(product_image.caller(), product_id);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, h);
END
$$;
CREATE OR REPLACE FUNCTION product_image.product_get_image_rendition(
    product_id integer, w integer DEFAULT NULL, h integer DEFAULT NULL,
    type text DEFAULT NULL, if_blank text DEFAULT NULL, if_none_match text DEFAULT NULL,
    OUT image bytea, OUT mime_type text, OUT etag text, OUT width integer, OUT height integer)
RETURNS record LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE st text; m text; d text; hi text;
BEGIN
    IF product_id IS NULL THEN
        RETURN;
    END IF;
    SELECT * INTO image, mime_type, etag, width, height
      FROM product_image.remote_get_image_rendition(product_image.caller(), product_id, w, h, type,
                                                    if_blank, if_none_match);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, hi = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, hi);
END
$$;
CREATE OR REPLACE FUNCTION product_image.product_get_image_etag(
    product_id integer, w integer DEFAULT NULL, h integer DEFAULT NULL,
    type text DEFAULT NULL, if_blank text DEFAULT NULL,
    OUT etag text, OUT mime_type text)
RETURNS record LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE st text; m text; d text; hi text;
BEGIN
    IF product_id IS NULL THEN
        RETURN;
    END IF;
    SELECT * INTO etag, mime_type
      FROM product_image.remote_get_image_etag(product_image.caller(), product_id, w, h, type, if_blank);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, hi = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, hi);
END
$$;
ALTER FUNCTION product_image.product_get_image(integer, integer, integer, text, text)
    SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION product_image.reraise(text, text, text, text) SET search_path = pg_catalog, pg_temp;

-- The remote calls: only the entry points (their owner) run them.
REVOKE ALL ON FUNCTION product_image.remote_save_image(name, integer, bytea),
    product_image.remote_get_image(name, integer),
    product_image.remote_get_image_rendition(name, integer, integer, integer, text, text, text),
    product_image.remote_get_image_etag(name, integer, integer, integer, text, text),
    product_image.remote_get_image_info(name, integer),
    product_image.remote_put_image_info(name, integer, jsonb),
    product_image.remote_delete_image(name, integer) FROM PUBLIC;
-- render() is CPU on anyone's bytes: granted, not PUBLIC, as on a partition
REVOKE ALL ON FUNCTION product_image.render(bytea, integer, integer, text) FROM PUBLIC;
