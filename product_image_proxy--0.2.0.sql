/* product_image_proxy--0.2.0.sql: product_image's functions on a PL/Proxy node */

\echo Use "CREATE EXTENSION product_image_proxy" to load this file. \quit

-- Install only into a schema this installation made (see product_image's
-- install script), and only over a PL/Proxy whose schema no other role owns
-- (CASCADE puts it in the first schema of search_path, often public: its
-- owner could drop the handler with the schema).
DO $$
DECLARE
    nsp oid := pg_catalog.to_regnamespace('product_image');
    me oid := (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER);
BEGIN
    IF (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.oid OPERATOR(pg_catalog.=) nsp) OPERATOR(pg_catalog.<>) me
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) nsp)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) nsp)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_type t WHERE t.typnamespace OPERATOR(pg_catalog.=) nsp)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_operator o WHERE o.oprnamespace OPERATOR(pg_catalog.=) nsp) THEN
        RAISE EXCEPTION 'schema "product_image" already exists and was not made by this installation'
            USING ERRCODE = '42P06',
                  HINT = 'product_image_proxy installs only into a new schema owned by the installing role.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
                WHERE e.extname OPERATOR(pg_catalog.=) 'plproxy' AND NOT r.rolsuper
                  -- public in PostgreSQL 15: owned by pg_database_owner, i.e. the database's owner
                  AND NOT (r.rolname OPERATOR(pg_catalog.=) 'pg_database_owner' AND
                           (SELECT o.rolsuper FROM pg_catalog.pg_database d JOIN pg_catalog.pg_roles o
                                ON o.oid OPERATOR(pg_catalog.=) d.datdba
                             WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()))) THEN
        RAISE EXCEPTION 'plproxy is installed in a schema that a role other than a superuser owns (so it could drop it)'
            USING ERRCODE = '42501',
                  HINT = 'Install it into a superuser''s schema first: CREATE SCHEMA plproxy; CREATE EXTENSION plproxy SCHEMA plproxy;';
    END IF;
END
$$;

-- The cluster is a SQL/MED server named product_image, created by you:
--   CREATE SERVER product_image FOREIGN DATA WRAPPER plproxy
--       OPTIONS (p0 'host=... dbname=...', p1 'host=... dbname=...');
--   CREATE USER MAPPING FOR PUBLIC SERVER product_image OPTIONS (user '...');
-- Partition i holds the products whose id & (n - 1) = i (RUN ON product_id),
-- and was set up with product_image.configure_partition(i, n).

-- Computed here, no partition involved: the same C code as on the partitions.
CREATE TYPE product_image.image_header AS (
    format      text,
    mime_type   text,
    width       integer,
    height      integer,
    bit_depth   integer,
    channels    integer,
    has_alpha   boolean,
    frames      integer,
    interlaced  boolean,
    orientation integer
);
CREATE FUNCTION product_image.image_info(image bytea)
RETURNS product_image.image_header
AS 'MODULE_PATHNAME', 'image_info'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION product_image.render(image bytea, w integer, h integer, type text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'pi_render_image'
LANGUAGE C STABLE PARALLEL SAFE;

-- The remote calls, one per partition function.
CREATE FUNCTION product_image.remote_save_image(product_id integer, image bytea)
RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.product_save_image;
$$;
CREATE FUNCTION product_image.remote_get_image(product_id integer)
RETURNS bytea LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.product_get_image;
$$;
CREATE FUNCTION product_image.remote_get_image_rendition(
    product_id integer, w integer, h integer, type text, if_blank text, if_none_match text,
    OUT image bytea, OUT mime_type text, OUT etag text, OUT width integer, OUT height integer)
RETURNS record LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.product_get_image_rendition;
$$;
CREATE FUNCTION product_image.remote_get_image_etag(
    product_id integer, w integer, h integer, type text, if_blank text,
    OUT etag text, OUT mime_type text)
RETURNS record LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.product_get_image_etag;
$$;
CREATE FUNCTION product_image.remote_get_image_info(product_id integer)
RETURNS jsonb LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.product_get_image_info;
$$;
CREATE FUNCTION product_image.remote_put_image_info(product_id integer, info jsonb)
RETURNS jsonb LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.product_put_image_info;
$$;
CREATE FUNCTION product_image.remote_delete_image(product_id integer)
RETURNS boolean LANGUAGE plproxy AS $$
    CLUSTER 'product_image'; RUN ON product_id; TARGET product_image.product_delete_image;
$$;

-- A partition's error, re-raised with its SQLSTATE, message, detail and hint,
-- the message without PL/Proxy's "function(args): [db] REMOTE ERROR: "
-- prefix.  PL/Proxy's own failures to reach a partition become 08006.
CREATE FUNCTION product_image.reraise(state text, message text, detail text, hint text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    remote boolean := message ~ 'REMOTE ERROR: ';
    msg text := regexp_replace(message, '^.*?REMOTE ERROR: ', '');
    det text := nullif(regexp_replace(coalesce(detail, ''), '^Remote detail: ', ''), '');
    hin text := nullif(regexp_replace(coalesce(hint, ''), '^Remote hint: ', ''), '');
BEGIN
    IF NOT remote AND (state LIKE '08%' OR state IN ('XX000', '57P01'))
       AND message ~* '(connect|connection|server closed|terminat)' THEN
        state := '08006';
        det := message;
        msg := 'the partition for this product is unavailable';
    END IF;
    IF det IS NOT NULL AND hin IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = msg, DETAIL = det, HINT = hin;
    ELSIF det IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = msg, DETAIL = det;
    ELSIF hin IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = msg, HINT = hin;
    ELSE
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = msg;
    END IF;
END
$$;

CREATE FUNCTION product_image.product_save_image(product_id integer, image bytea)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE st text; m text; d text; h text;
BEGIN
    IF product_id IS NULL THEN
        RAISE EXCEPTION 'product id must not be null' USING ERRCODE = '22004';
    END IF;
    RETURN product_image.remote_save_image(product_id, image);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, h);
END
$$;

CREATE FUNCTION product_image.product_get_image(product_id integer)
RETURNS bytea LANGUAGE plpgsql STRICT AS $$
DECLARE st text; m text; d text; h text;
BEGIN
    RETURN product_image.remote_get_image(product_id);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, h);
END
$$;

CREATE FUNCTION product_image.product_get_image_rendition(
    product_id integer, w integer DEFAULT NULL, h integer DEFAULT NULL,
    type text DEFAULT NULL, if_blank text DEFAULT NULL, if_none_match text DEFAULT NULL,
    OUT image bytea, OUT mime_type text, OUT etag text, OUT width integer, OUT height integer)
RETURNS record LANGUAGE plpgsql AS $$
DECLARE st text; m text; d text; hi text;
BEGIN
    IF product_id IS NULL THEN
        RETURN;
    END IF;
    SELECT * INTO image, mime_type, etag, width, height
      FROM product_image.remote_get_image_rendition(product_id, w, h, type, if_blank, if_none_match);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, hi = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, hi);
END
$$;

CREATE FUNCTION product_image.product_get_image_etag(
    product_id integer, w integer DEFAULT NULL, h integer DEFAULT NULL,
    type text DEFAULT NULL, if_blank text DEFAULT NULL,
    OUT etag text, OUT mime_type text)
RETURNS record LANGUAGE plpgsql AS $$
DECLARE st text; m text; d text; hi text;
BEGIN
    IF product_id IS NULL THEN
        RETURN;
    END IF;
    SELECT * INTO etag, mime_type
      FROM product_image.remote_get_image_etag(product_id, w, h, type, if_blank);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, hi = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, hi);
END
$$;

CREATE FUNCTION product_image.product_get_image(product_id integer, w integer, h integer,
                                                type text, if_blank text)
RETURNS bytea
LANGUAGE sql
AS $$ SELECT (product_image.product_get_image_rendition($1, $2, $3, $4, $5)).image $$;

CREATE FUNCTION product_image.product_get_image_info(product_id integer)
RETURNS jsonb LANGUAGE plpgsql STRICT AS $$
DECLARE st text; m text; d text; h text;
BEGIN
    RETURN product_image.remote_get_image_info(product_id);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, h);
END
$$;

CREATE FUNCTION product_image.product_put_image_info(product_id integer, info jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE st text; m text; d text; h text;
BEGIN
    IF product_id IS NULL THEN
        RAISE EXCEPTION 'product id must not be null' USING ERRCODE = '22004';
    END IF;
    RETURN product_image.remote_put_image_info(product_id, info);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, h);
END
$$;

CREATE FUNCTION product_image.product_delete_image(product_id integer)
RETURNS boolean LANGUAGE plpgsql STRICT AS $$
DECLARE st text; m text; d text; h text;
BEGIN
    RETURN product_image.remote_delete_image(product_id);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM product_image.reraise(st, m, d, h);
END
$$;

-- Writers are granted, as on one node.
REVOKE ALL ON FUNCTION product_image.product_save_image(integer, bytea),
    product_image.product_put_image_info(integer, jsonb),
    product_image.product_delete_image(integer),
    product_image.remote_save_image(integer, bytea),
    product_image.remote_put_image_info(integer, jsonb),
    product_image.remote_delete_image(integer) FROM PUBLIC;
