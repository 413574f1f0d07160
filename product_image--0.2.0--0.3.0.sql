/* product_image--0.2.0--0.3.0.sql: a role gets exactly its GRANTs, whatever it defines or sets */

\echo Use "ALTER EXTENSION product_image UPDATE TO '0.3.0'" to load this file. \quit

-- The model (README, Permissions): the functions are the only way in.  Each
-- asks, as the caller, whether the product is visible (SELECT on the product
-- table, with its row-level security), then reads or writes our tables as
-- their owner under search_path = pg_catalog, pg_temp.  No role needs a
-- right on product_image's tables, and the tables refuse what the functions
-- would refuse.

-- ---------------------------------------------------------------------------
-- Tables: only what the functions would store
-- ---------------------------------------------------------------------------
ALTER TABLE product_image.blob
    ADD CONSTRAINT blob_mime_type_of_format CHECK (mime_type = CASE format
        WHEN 'png' THEN 'image/png' WHEN 'jpeg' THEN 'image/jpeg'
        WHEN 'gif' THEN 'image/gif' WHEN 'tiff' THEN 'image/tiff' END),
    ADD CONSTRAINT blob_description_length CHECK (pg_catalog.char_length(description) <= 4000),
    ADD CONSTRAINT blob_extra_info_length CHECK (pg_catalog.char_length(extra_info) <= 4000),
    ADD CONSTRAINT blob_conceptual_type_length CHECK (pg_catalog.char_length(conceptual_type) <= 255);
REVOKE ALL ON TABLE product_image.blob, product_image.config, product_image.partition,
    product_image.placeholder FROM PUBLIC;
REVOKE ALL ON SEQUENCE product_image.blob_blob_id_seq FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- ImageInfo: Description, ExtraInfo, ConceptualType are JSON strings or null,
-- of bounded length
-- ---------------------------------------------------------------------------
CREATE FUNCTION product_image.image_info_check(info jsonb)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
    lim integer;
BEGIN
    IF info IS NULL OR jsonb_typeof(info) <> 'object' THEN
        RAISE EXCEPTION 'image info must be a JSON object'
            USING ERRCODE = '22023',
                  DETAIL = 'Writable properties are Description, ExtraInfo and ConceptualType.';
    END IF;
    FOREACH k IN ARRAY ARRAY['Description', 'ExtraInfo', 'ConceptualType'] LOOP
        CONTINUE WHEN NOT info ? k;
        IF jsonb_typeof(info -> k) NOT IN ('string', 'null') THEN
            RAISE EXCEPTION '% must be a JSON string or null, not %', k, jsonb_typeof(info -> k)
                USING ERRCODE = '22023';
        END IF;
        lim := CASE k WHEN 'ConceptualType' THEN 255 ELSE 4000 END;
        IF char_length(info ->> k) > lim THEN
            RAISE EXCEPTION '% is % characters long, over the limit of %', k, char_length(info ->> k), lim
                USING ERRCODE = '22001';
        END IF;
    END LOOP;
END
$$;

-- The new value of one property: the given string, '' for null, else current.
CREATE FUNCTION product_image.image_info_text(info jsonb, name text, current text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT CASE WHEN info ? name THEN coalesce(info ->> name, '') ELSE current END $$;

ALTER FUNCTION product_image.blob_entity(product_image.blob) SET search_path = pg_catalog, pg_temp;

-- ---------------------------------------------------------------------------
-- The entry points: in C, caller's view of the product, owner's statements
-- (CREATE OR REPLACE keeps every GRANT and REVOKE an administrator made)
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION product_image.product_get_image(product_id integer)
RETURNS bytea
AS 'MODULE_PATHNAME', 'product_get_image'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;

CREATE OR REPLACE FUNCTION product_image.product_get_image_info(product_id integer)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'product_get_image_info'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;

CREATE OR REPLACE FUNCTION product_image.product_put_image_info(product_id integer, info jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'product_put_image_info'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION product_image.product_delete_image(product_id integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'product_delete_image'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

ALTER FUNCTION product_image.product_save_image(integer, bytea) PARALLEL UNSAFE;

-- render() is CPU on anyone's bytes: granted, not PUBLIC (every limit applies)
REVOKE ALL ON FUNCTION product_image.render(bytea, integer, integer, text) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- The rendition cache, keyed by the image and what is produced: its blob id
-- and sha256, the rendition's size, type and JPEG quality.  No shared
-- counter row, no foreign key (a reader's fill must lock nothing a writer
-- needs).  Renditions are never shared between images, so what one product
-- has cached tells nothing about another's bytes.
-- ---------------------------------------------------------------------------
DROP TABLE product_image.rendition, product_image.rendition_usage;
DROP FUNCTION product_image.on_rendition_delete();
CREATE TABLE product_image.rendition (
    blob_id   integer NOT NULL,      -- the stored image
    source    bytea NOT NULL,        -- its sha256 when rendered
    w         integer NOT NULL,      -- the rendition's size, upright
    h         integer NOT NULL,
    type      text NOT NULL CHECK (type IN ('png', 'jpeg', 'gif')),
    quality   integer NOT NULL,      -- JPEG quality; 0 for PNG and GIF
    data      bytea NOT NULL,
    bytes     integer NOT NULL,
    width     integer NOT NULL,      -- as encoded (a DCT-scaled JPEG may be a pixel smaller)
    height    integer NOT NULL,
    last_used timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (blob_id, source, w, h, type, quality)
);
ALTER TABLE product_image.rendition ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX rendition_last_used ON product_image.rendition (last_used) INCLUDE (bytes);
COMMENT ON TABLE product_image.rendition IS 'Cached renditions, least recently used evicted past product_image.rendition_cache_max_bytes';
REVOKE ALL ON TABLE product_image.rendition FROM PUBLIC;

-- A re-save with other bytes, or a delete, drops the image's renditions of
-- the old bytes.  Rows another transaction holds are skipped, never waited
-- for: eviction takes them later (they are never served: the key holds the
-- bytes they were made from).
DROP TRIGGER blob_resave ON product_image.blob;
DROP FUNCTION product_image.on_blob_resave();
CREATE FUNCTION product_image.on_blob_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_RELID <> 'product_image.blob'::regclass THEN
        RAISE EXCEPTION 'product_image.on_blob_change() serves only product_image.blob'
            USING ERRCODE = '42501';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.sha256 = NEW.sha256 THEN
        RETURN NULL;
    END IF;
    DELETE FROM product_image.rendition r
     WHERE r.ctid IN (SELECT c.ctid FROM product_image.rendition c
                       WHERE c.blob_id = OLD.blob_id AND c.source = OLD.sha256
                       FOR UPDATE SKIP LOCKED);
    RETURN NULL;
END
$$;
CREATE TRIGGER blob_change AFTER UPDATE OF data OR DELETE ON product_image.blob
    FOR EACH ROW EXECUTE FUNCTION product_image.on_blob_change();
REVOKE ALL ON FUNCTION product_image.on_blob_change() FROM PUBLIC;

-- Blob writes run as the owner now: the partition check needs no definer rights.
ALTER FUNCTION product_image.check_partition_id() SECURITY INVOKER;

-- ---------------------------------------------------------------------------
-- The cascade from the product table: SECURITY DEFINER (whoever may delete a
-- product also removes its image), so it serves the attached table alone,
-- with the attached key, and is executable only by that table's owner (for
-- pg_restore), never by PUBLIC.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION product_image.on_product_change()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cfg record;
    old_id bigint;
    new_id bigint;
BEGIN
    SELECT c.product_table::oid AS relid, c.product_key INTO cfg FROM product_image.config c;
    -- the attached table, its key still a built-in integer (so the casts
    -- below are built-in: the table's owner cannot retype it to run a cast
    -- of its own as us)
    IF NOT FOUND OR cfg.relid <> TG_RELID OR TG_WHEN <> 'AFTER'
       OR NOT coalesce((SELECT a.atttypid FROM pg_attribute a
                         WHERE a.attrelid = TG_RELID AND a.attname = cfg.product_key AND NOT a.attisdropped)
                       = ANY (ARRAY['int2'::regtype::oid, 'int4'::regtype::oid, 'int8'::regtype::oid]), false)
       OR (TG_OP = 'TRUNCATE') <> (TG_NARGS = 0)
       OR (TG_NARGS > 0 AND (TG_NARGS <> 1 OR TG_ARGV[0] <> cfg.product_key)) THEN
        RAISE EXCEPTION 'product_image.on_product_change() serves only the attached product table'
            USING ERRCODE = '42501';
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM product_image.blob;
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT ($1).%I::pg_catalog.int8', cfg.product_key) INTO old_id USING OLD;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM product_image.blob WHERE product_id = old_id;
    ELSE
        EXECUTE format('SELECT ($1).%I::pg_catalog.int8', cfg.product_key) INTO new_id USING NEW;
        IF new_id IS DISTINCT FROM old_id THEN
            UPDATE product_image.blob SET product_id = new_id WHERE product_id = old_id;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION product_image.on_product_change() FROM PUBLIC;

-- attach: plain tables only (a partitioned table's cascade cannot follow a
-- row moved between partitions or a partition truncated), and the table's
-- owner may recreate the triggers (pg_restore).
CREATE OR REPLACE FUNCTION product_image.attach(product_table regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key_name name;
    key_type regtype;
    key_count int;
    kind "char";
    table_owner regrole;
    previous regclass;
BEGIN
    SELECT c.relkind, c.relowner::regrole INTO kind, table_owner FROM pg_class c WHERE c.oid = product_table;
    IF kind = 'p' THEN
        RAISE EXCEPTION 'partitioned table "%" cannot be attached', product_table
            USING ERRCODE = '0A000',
                  HINT = 'Attach a plain table: the cascade cannot follow a product moved between partitions or a partition truncated.';
    ELSIF kind IS DISTINCT FROM 'r' THEN
        RAISE EXCEPTION '"%" is not a table', product_table
            USING ERRCODE = '42809';
    END IF;
    SELECT count(*), (array_agg(a.attname))[1], (array_agg(a.atttypid))[1]::regtype
      INTO key_count, key_name, key_type
      FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
     WHERE i.indrelid = product_table AND i.indisprimary;
    IF key_count = 0 THEN
        RAISE EXCEPTION 'table "%" has no primary key', product_table
            USING ERRCODE = '42P16',
                  HINT = 'The product table needs a single-column integer primary key.';
    ELSIF key_count > 1 THEN
        RAISE EXCEPTION 'table "%" has a primary key of % columns', product_table, key_count
            USING ERRCODE = '42P16',
                  HINT = 'The product table needs a single-column integer primary key.';
    ELSIF key_type NOT IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        RAISE EXCEPTION 'primary key "%" of table "%" is of type %', key_name, product_table, key_type
            USING ERRCODE = '42P16',
                  HINT = 'The product table needs a single-column integer primary key.';
    END IF;

    -- Move the registration: drop the triggers from the previous table.
    SELECT c.product_table INTO previous FROM product_image.config c;
    IF previous IS NOT NULL AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = previous) THEN
        EXECUTE format('DROP TRIGGER IF EXISTS product_image_cascade ON %s', previous);
        EXECUTE format('DROP TRIGGER IF EXISTS product_image_truncate ON %s', previous);
    END IF;
    -- the table's owner may recreate the triggers (its own pg_restore)
    EXECUTE format('GRANT USAGE ON SCHEMA product_image TO %s', table_owner);
    EXECUTE format('GRANT EXECUTE ON FUNCTION product_image.on_product_change() TO %s', table_owner);
    EXECUTE format('CREATE TRIGGER product_image_cascade AFTER DELETE OR UPDATE OF %I ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION product_image.on_product_change(%L)',
                   key_name, product_table, key_name);
    EXECUTE format('CREATE TRIGGER product_image_truncate AFTER TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION product_image.on_product_change()',
                   product_table);
    INSERT INTO product_image.config (singleton, product_table, product_key)
    VALUES (true, product_table, key_name)
    ON CONFLICT (singleton) DO UPDATE
       SET product_table = excluded.product_table, product_key = excluded.product_key;
END
$$;

-- An image already attached: its table's owner may recreate the cascade too.
DO $$
DECLARE
    o regrole;
BEGIN
    SELECT c.relowner::regrole INTO o
      FROM product_image.config g JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) g.product_table;
    IF FOUND THEN
        EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA product_image TO %s', o);
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION product_image.on_product_change() TO %s', o);
    END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- Scale-out: a call from a PL/Proxy node runs as the role that called there,
-- so the partition's GRANTs and row-level security decide, as on one node.
-- The proxy's login (a NOINHERIT role granted the roles it may act for, like
-- the gateway's authenticator) calls these with the caller's role name; SET
-- ROLE's own rule refuses a role the login is not a member of.  The role
-- lasts until the function returns (its SET clause restores it).
-- ---------------------------------------------------------------------------
CREATE FUNCTION product_image.partition_enter(caller name)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF caller IS NULL OR caller OPERATOR(pg_catalog.=) 'none'::name
       OR caller OPERATOR(pg_catalog.=) pg_catalog.session_user() THEN
        RAISE EXCEPTION 'a proxied call must name the role it acts for, not %',
            coalesce(caller::text, 'NULL')
            USING ERRCODE = '42501';
    END IF;
    PERFORM pg_catalog.set_config('role', caller, true);
END
$$;
-- PUBLIC: it is SET ROLE, with SET ROLE's own check

CREATE FUNCTION product_image.partition_save_image(caller name, product_id integer, image bytea)
RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM product_image.partition_enter(caller);
    RETURN product_image.product_save_image(product_id, image);
END $$;
CREATE FUNCTION product_image.partition_get_image(caller name, product_id integer)
RETURNS bytea LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM product_image.partition_enter(caller);
    RETURN product_image.product_get_image(product_id);
END $$;
CREATE FUNCTION product_image.partition_get_image_rendition(
    caller name, product_id integer, w integer, h integer, type text, if_blank text, if_none_match text,
    OUT image bytea, OUT mime_type text, OUT etag text, OUT width integer, OUT height integer)
RETURNS record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM product_image.partition_enter(caller);
    SELECT * INTO image, mime_type, etag, width, height
      FROM product_image.product_get_image_rendition(product_id, w, h, type, if_blank, if_none_match);
END $$;
CREATE FUNCTION product_image.partition_get_image_etag(
    caller name, product_id integer, w integer, h integer, type text, if_blank text,
    OUT etag text, OUT mime_type text)
RETURNS record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM product_image.partition_enter(caller);
    SELECT * INTO etag, mime_type FROM product_image.product_get_image_etag(product_id, w, h, type, if_blank);
END $$;
CREATE FUNCTION product_image.partition_get_image_info(caller name, product_id integer)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM product_image.partition_enter(caller);
    RETURN product_image.product_get_image_info(product_id);
END $$;
CREATE FUNCTION product_image.partition_put_image_info(caller name, product_id integer, info jsonb)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM product_image.partition_enter(caller);
    RETURN product_image.product_put_image_info(product_id, info);
END $$;
CREATE FUNCTION product_image.partition_delete_image(caller name, product_id integer)
RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM product_image.partition_enter(caller);
    RETURN product_image.product_delete_image(product_id);
END $$;
-- granted to the proxy's login by the partition's administrator (docs/scale-out.md)
REVOKE ALL ON FUNCTION product_image.partition_save_image(name, integer, bytea),
    product_image.partition_get_image(name, integer),
    product_image.partition_get_image_rendition(name, integer, integer, integer, text, text, text),
    product_image.partition_get_image_etag(name, integer, integer, integer, text, text),
    product_image.partition_get_image_info(name, integer),
    product_image.partition_put_image_info(name, integer, jsonb),
    product_image.partition_delete_image(name, integer) FROM PUBLIC;

-- PostgREST: an oversized ImageInfo string (22001) or JSON nested past the
-- stack (54001) is the client's error, 400, as on the gateway.
CREATE OR REPLACE FUNCTION product_image.postgrest_reraise(state text, message text, detail text, hint text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    status text := CASE state
        WHEN '22004' THEN 'PT400' WHEN '22P03' THEN 'PT400' WHEN '22023' THEN 'PT400'
        WHEN '22P02' THEN 'PT400' WHEN '22001' THEN 'PT400' WHEN '54001' THEN 'PT400'
        WHEN '0A000' THEN 'PT415' WHEN '54000' THEN 'PT413'
        WHEN 'P0002' THEN 'PT404' ELSE state END;
BEGIN
    RAISE EXCEPTION USING ERRCODE = status, MESSAGE = message,
        DETAIL = coalesce(detail, ''), HINT = coalesce(hint, '');
END
$$;

-- A slice of the stored image while its ETag is still etag (NULL when gone,
-- changed or hidden): the gateway streams large originals with it, reading
-- only the TOAST chunks it needs.
CREATE FUNCTION product_image.product_get_image_part(product_id integer, etag text,
                                                     "offset" bigint, length integer)
RETURNS bytea
AS 'MODULE_PATHNAME', 'product_get_image_part'
LANGUAGE C STABLE PARALLEL RESTRICTED;

-- Conditional writes (HTTP If-Match / If-None-Match), judged in the same
-- statement as the write: if_match, "*" or ETags (sha256 in hex,
-- comma-separated) the stored image must have; if_none_match, "*" (there
-- must be none) or ETags it must not have.  Else SQLSTATE PI412.
CREATE FUNCTION product_image.product_save_image(product_id integer, image bytea,
                                                 if_match text, if_none_match text)
RETURNS integer
AS 'MODULE_PATHNAME', 'product_save_image'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION product_image.product_delete_image(product_id integer, if_match text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'product_delete_image_if'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION product_image.product_save_image(integer, bytea, text, text),
    product_image.product_delete_image(integer, text) FROM PUBLIC;
