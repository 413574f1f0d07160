-- Security: a role gets exactly its GRANTs, whatever it defines or sets.
-- Every attack here runs as the role that would make it, never as the
-- superuser; the superuser only sets the scene and checks the outcome.
SET client_min_messages = warning;
INSERT INTO product SELECT g, 'security ' || g FROM generate_series(201, 212) g;
SELECT product_image.product_save_image(g, fx('rgb.png')) > 0 AS saved FROM generate_series(201, 208) g;

-- The README's roles: a reader (with CREATE on a schema of its own), a writer,
-- a writer limited by row-level security to ids below 205, the anonymous role.
CREATE ROLE regress_sec_reader;
CREATE ROLE regress_sec_writer;
CREATE ROLE regress_sec_tenant;
CREATE ROLE regress_sec_anon;
GRANT USAGE ON SCHEMA product_image TO regress_sec_reader, regress_sec_writer, regress_sec_tenant, regress_sec_anon;
GRANT SELECT ON product TO regress_sec_reader, regress_sec_writer, regress_sec_tenant, regress_sec_anon;
GRANT SELECT ON fixture TO regress_sec_reader, regress_sec_writer, regress_sec_tenant;
GRANT DELETE ON product TO regress_sec_writer;
GRANT EXECUTE ON FUNCTION product_image.product_save_image(integer, bytea),
                          product_image.product_put_image_info(integer, jsonb),
                          product_image.product_delete_image(integer)
      TO regress_sec_writer, regress_sec_tenant;
CREATE SCHEMA regress_mallory AUTHORIZATION regress_sec_reader;
GRANT USAGE, CREATE ON SCHEMA regress_mallory TO regress_sec_writer;

-- ---------------------------------------------------------------------------
-- 1. search_path hijack: the reader defines operators and functions that try
-- to make it superuser and log who ran them, then calls every function a
-- reader or writer can call.  Nothing of the reader's may run, least of all
-- as the owner.
-- ---------------------------------------------------------------------------
SET ROLE regress_sec_reader;
CREATE TABLE regress_mallory.ran (who name, what text);
GRANT INSERT ON regress_mallory.ran TO PUBLIC;
CREATE FUNCTION regress_mallory.pwn(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_mallory.ran VALUES (current_user, what);
    BEGIN
        ALTER ROLE regress_sec_reader SUPERUSER;
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
END $$;
DO $$
DECLARE
    op record;
BEGIN
    FOR op IN SELECT * FROM (VALUES
        ('=', 'integer', 'integer', 'boolean', 'int4eq'), ('=', 'integer', 'bigint', 'boolean', 'int48eq'),
        ('=', 'bigint', 'bigint', 'boolean', 'int8eq'), ('=', 'bytea', 'bytea', 'boolean', 'byteaeq'),
        ('=', 'text', 'text', 'boolean', 'texteq'), ('=', 'tid', 'tid', 'boolean', 'tideq'),
        ('<', 'timestamptz', 'timestamptz', 'boolean', 'timestamptz_lt'),
        ('-', 'timestamptz', 'interval', 'timestamptz', 'timestamptz_mi_interval'),
        ('>', 'bigint', 'integer', 'boolean', 'int84gt'), ('-', 'bigint', 'integer', 'bigint', 'int84mi'),
        ('<', 'bigint', 'bigint', 'boolean', 'int8lt'), ('?', 'jsonb', 'text', 'boolean', 'jsonb_exists'),
        ('->>', 'jsonb', 'text', 'text', 'jsonb_object_field_text'))
        AS t(name, l, r, ret, impl)
    LOOP
        EXECUTE format('CREATE FUNCTION regress_mallory.%I(%s, %s) RETURNS %s LANGUAGE plpgsql AS $f$ '
                       'BEGIN PERFORM regress_mallory.pwn(%L); RETURN pg_catalog.%I($1, $2); END $f$',
                       'op_' || op.impl, op.l, op.r, op.ret, op.name || ' ' || op.l, op.impl);
        EXECUTE format('CREATE OPERATOR regress_mallory.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = regress_mallory.%I)',
                       op.name, op.l, op.r, 'op_' || op.impl);
    END LOOP;
END $$;
CREATE FUNCTION regress_mallory.now() RETURNS timestamptz LANGUAGE plpgsql AS
$$ BEGIN PERFORM regress_mallory.pwn('now'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION regress_mallory.octet_length(bytea) RETURNS integer LANGUAGE plpgsql AS
$$ BEGIN PERFORM regress_mallory.pwn('octet_length'); RETURN pg_catalog.octet_length($1); END $$;
CREATE FUNCTION regress_mallory.sha256(bytea) RETURNS bytea LANGUAGE plpgsql AS
$$ BEGIN PERFORM regress_mallory.pwn('sha256'); RETURN pg_catalog.sha256($1); END $$;
CREATE FUNCTION regress_mallory.jsonb_typeof(jsonb) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM regress_mallory.pwn('jsonb_typeof'); RETURN pg_catalog.jsonb_typeof($1); END $$;
CREATE FUNCTION regress_mallory.char_length(text) RETURNS integer LANGUAGE plpgsql AS
$$ BEGIN PERFORM regress_mallory.pwn('char_length'); RETURN pg_catalog.char_length($1); END $$;
CREATE FUNCTION regress_mallory.to_char(timestamp, text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM regress_mallory.pwn('to_char'); RETURN pg_catalog.to_char($1, $2); END $$;
CREATE FUNCTION regress_mallory.encode(bytea, text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM regress_mallory.pwn('encode'); RETURN pg_catalog.encode($1, $2); END $$;
CREATE FUNCTION regress_mallory.pg_try_advisory_xact_lock(integer, integer) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM regress_mallory.pwn('advisory'); RETURN pg_catalog.pg_try_advisory_xact_lock($1, $2); END $$;

-- the images as psql variables: the test's own expressions use no operator
RESET ROLE;
SELECT fx('rgb.png') AS png, fx('rgb.jpg') AS jpg \gset
SET ROLE regress_sec_reader;
SET search_path = regress_mallory, pg_catalog, public;
SELECT product_image.product_get_image(201) IS NOT NULL AS reads,
       product_image.product_get_image(201, 8, NULL, NULL, NULL) IS NOT NULL AS fills,
       product_image.product_get_image(201, 8, NULL, NULL, NULL) IS NOT NULL AS hits,
       product_image.product_get_image(201, 9, NULL, 'jpeg', NULL) IS NOT NULL AS fills_jpeg,
       (product_image.product_get_image_rendition(201, 10, 10, 'gif', NULL)).image IS NOT NULL AS rendition,
       (product_image.product_get_image_etag(201, 10, 10, 'gif', NULL)).etag IS NOT NULL AS etag,
       product_image.product_get_image(299, 8, NULL, NULL, 'SrNoPhoto') IS NOT NULL AS placeholder,
       product_image.product_get_image_info(201) IS NOT NULL AS info,
       (product_image.image_info(:'png')).width AS inspects;
RESET search_path;  -- (try()'s own nullif would take the reader's =)
SELECT try($$UPDATE product_image.rendition SET last_used = '2000-01-01'$$) AS reader_touches_cache;
RESET ROLE;
UPDATE product_image.rendition SET last_used = '2000-01-01';  -- stale: the next hit refreshes it
SET ROLE regress_sec_reader;
SET search_path = regress_mallory, pg_catalog, public;
SELECT product_image.product_get_image(201, 8, NULL, NULL, NULL) IS NOT NULL AS touches;
SET ROLE regress_sec_writer;
SET search_path = regress_mallory, pg_catalog, public;
SELECT product_image.product_save_image(202, :'jpg') IS NOT NULL AS saves,
       product_image.product_save_image(209, :'png') IS NOT NULL AS first_save,
       product_image.product_put_image_info(202, '{"Description": "d"}') IS NOT NULL AS puts,
       product_image.product_delete_image(203) AS deletes;
DELETE FROM public.product WHERE id BETWEEN 204 AND 204;  -- the cascade trigger (SECURITY DEFINER)
RESET search_path;
RESET ROLE;
SELECT count(*) AS hijacked_calls, string_agg(DISTINCT who || ':' || what, ', ') AS by FROM regress_mallory.ran;
SELECT rolsuper AS reader_is_superuser FROM pg_roles WHERE rolname = 'regress_sec_reader';
SELECT count(*) AS cascade_followed FROM product_image.blob WHERE product_id = 204;

-- ---------------------------------------------------------------------------
-- 2. The cascade trigger function: not for PUBLIC, and only for the attached table.
-- ---------------------------------------------------------------------------
SET ROLE regress_sec_reader;
CREATE TABLE regress_mallory.mine (id integer PRIMARY KEY);
SELECT try($$CREATE TRIGGER t AFTER TRUNCATE ON regress_mallory.mine
             FOR EACH STATEMENT EXECUTE FUNCTION product_image.on_product_change()$$) AS attach_to_own_table;
RESET ROLE;
CREATE TRIGGER t AFTER TRUNCATE ON regress_mallory.mine FOR EACH STATEMENT EXECUTE FUNCTION product_image.on_product_change();
SELECT try($$TRUNCATE regress_mallory.mine$$) AS fired_on_other_table;
DROP TRIGGER t ON regress_mallory.mine;
CREATE TRIGGER t AFTER UPDATE ON product FOR EACH ROW EXECUTE FUNCTION product_image.on_product_change('name');
SELECT try($$UPDATE product SET name = '201' WHERE id = 205$$) AS fired_with_other_key;
DROP TRIGGER t ON product;
SELECT count(*) AS images_kept FROM product_image.blob WHERE product_id BETWEEN 201 AND 208;

-- ---------------------------------------------------------------------------
-- 3. A cached rendition does not stop the writer's delete.
-- ---------------------------------------------------------------------------
SET ROLE regress_sec_anon;
SELECT product_image.product_get_image(206, 64, NULL, NULL, NULL) IS NOT NULL AS anon_fills;
SET ROLE regress_sec_writer;
SELECT try($$SELECT product_image.product_delete_image(206)$$) AS writer_deletes;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- 4. Row-level security on the product table: a hidden product is a missing one
-- for every function.
-- ---------------------------------------------------------------------------
ALTER TABLE product ENABLE ROW LEVEL SECURITY;
CREATE POLICY regress_everyone ON product USING (true);
CREATE POLICY regress_tenant ON product AS RESTRICTIVE TO regress_sec_tenant USING (id < 205);
SET ROLE regress_sec_tenant;
SELECT product_image.product_get_image(207) IS NULL AS get_null,
       product_image.product_get_image(207, 8, NULL, NULL, NULL) IS NULL AS rendition_null,
       (product_image.product_get_image_rendition(207)).etag IS NULL AS original_null,
       (product_image.product_get_image_etag(207)).etag IS NULL AS etag_null,
       product_image.product_get_image_info(207) IS NULL AS info_null,
       (product_image.product_get_image_rendition(207, 8, NULL, NULL, 'SrNoPhoto')).etag AS placeholder_as_missing,
       product_image.product_get_image_part(207, encode(sha256(fx('rgb.png')), 'hex'), 0, 8) IS NULL AS part_null,
       product_image.product_delete_image(207) AS delete_false;
SELECT product_image.product_get_image_part(202, encode(sha256(fx('rgb.jpg')), 'hex'), 2, 5)
       = substring(fx('rgb.jpg') FROM 3 FOR 5) AS visible_part,
       product_image.product_get_image_part(202, 'not-the-etag', 0, 8) IS NULL AS other_etag_null;
SELECT try($$SELECT product_image.product_put_image_info(207, '{"Description": "x"}')$$) AS put_info;
SELECT try($$SELECT product_image.product_save_image(207, fx('rgb.jpg'))$$) AS save;
SELECT product_image.product_get_image_info(202) ->> 'Description' AS visible_still_works;
RESET ROLE;
SELECT count(*) AS hidden_untouched FROM product_image.blob WHERE product_id = 207 AND sha256 = sha256(fx('rgb.png'));
DROP POLICY regress_tenant ON product;
DROP POLICY regress_everyone ON product;
ALTER TABLE product DISABLE ROW LEVEL SECURITY;

-- ---------------------------------------------------------------------------
-- 5. A reader's open transaction holding a rendition call blocks nobody: not a
-- re-save, an ImageInfo update or a delete of the same product, not a fill of
-- another.  (lock_timeout turns a wait into an error.)
-- ---------------------------------------------------------------------------
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT product_image.product_save_image(208, fx('noise.jpg')) > 0 AS larger,
       product_image.product_save_image(201, fx('cmyk_red.jpg')) > 0 AS other_bytes;
SELECT product_image.product_get_image(208, 20, NULL, NULL, NULL) IS NOT NULL AS cached;
UPDATE product_image.rendition SET last_used = '2000-01-01';
SELECT dblink_connect('regress_reader', format('host=%s port=%s dbname=%s user=%s',
       split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'),
       current_database(), current_user)) AS connected;
SELECT dblink_exec('regress_reader', 'SET ROLE regress_sec_reader') AS set_role;
SELECT dblink_exec('regress_reader', 'BEGIN') AS began;
SELECT * FROM dblink('regress_reader', $$SELECT product_image.product_get_image(208, 20, NULL, NULL, NULL) IS NOT NULL,
                                               product_image.product_get_image(208, 21, NULL, NULL, NULL) IS NOT NULL,
                                               product_image.product_get_image(201, 22, NULL, NULL, NULL) IS NOT NULL$$)
    AS t(touched boolean, filled boolean, filled_other boolean);
SET lock_timeout = '2s';
SET ROLE regress_sec_writer;
SELECT try($$SELECT product_image.product_put_image_info(208, '{"Description": "while read"}') ->> 'Description'$$) AS put_info;
SELECT try($$SELECT product_image.product_save_image(208, fx('rgb.jpg')) > 0$$) AS resave;
SELECT try($$SELECT product_image.product_delete_image(208)$$) AS delete;
SET ROLE regress_sec_anon;
SELECT try($$SELECT product_image.product_get_image(201, 23, NULL, NULL, NULL) IS NOT NULL$$) AS other_fill;
SELECT try($$SELECT product_image.product_get_image(201, 22, NULL, NULL, NULL) IS NOT NULL$$) AS same_fill;
RESET ROLE;
RESET lock_timeout;
SELECT dblink_exec('regress_reader', 'COMMIT') AS committed;
SELECT dblink_disconnect('regress_reader') AS disconnected;
-- the renditions of 208's old bytes the reader held or made are orphans now:
-- never served (the key is the bytes), evicted in time
SELECT count(*) AS orphans_of_208, min(w) || '..' || max(w) AS widths FROM product_image.rendition r
 WHERE NOT EXISTS (SELECT 1 FROM product_image.blob b WHERE b.sha256 = r.source);
SELECT count(*) AS renditions_of_201 FROM product_image.rendition r WHERE r.source = sha256(fx('cmyk_red.jpg'));

-- ---------------------------------------------------------------------------
-- 6, 7. Cache poisoning and flooding: see renditions (quality is superuser-only
-- and in the key; the key is what is produced; rendition_widths).
-- ---------------------------------------------------------------------------
SET ROLE regress_sec_anon;
SELECT try($$SET product_image.jpeg_quality = 1$$) AS anon_sets_quality;
SELECT try($$SET product_image.validate = 'header'$$) AS anon_sets_validate;
SELECT try($$SET product_image.rendition_widths = ''$$) AS anon_sets_widths;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- 8. The tables refuse what the functions would; writers have no DML on them.
-- ---------------------------------------------------------------------------
SELECT split_part(try($$UPDATE product_image.blob SET mime_type = 'text/html' WHERE product_id = 201$$), ' (', 1) AS html_type;
SELECT split_part(try($$UPDATE product_image.blob SET mime_type = 'image/png' WHERE product_id = 202$$), ' (', 1) AS type_not_format;
SELECT split_part(try($$UPDATE product_image.blob SET format = 'avif', mime_type = 'image/avif' WHERE product_id = 202$$), ' (', 1) AS format_never_stored;
SET ROLE regress_sec_writer;
SELECT try($$UPDATE product_image.blob SET mime_type = 'text/html'$$) AS writer_dml;
SELECT try($$SELECT count(*) FROM product_image.blob$$) AS writer_reads_table;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- 9. ImageInfo: strings or null, bounded.
-- ---------------------------------------------------------------------------
SET ROLE regress_sec_writer;
SELECT try($$SELECT product_image.product_put_image_info(201, '{"Description": {"a": 1}}')$$) AS nested;
SELECT try($$SELECT product_image.product_put_image_info(201, '{"ExtraInfo": 5}')$$) AS number;
SELECT try($$SELECT product_image.product_put_image_info(201, '[]')$$) AS array_;
SELECT try(format($$SELECT product_image.product_put_image_info(201, '{"Description": "%s"}')$$, repeat('x', 4001))) AS too_long;
SELECT try(format($$SELECT product_image.product_put_image_info(201, '{"ConceptualType": "%s"}')$$, repeat('x', 256))) AS type_too_long;
SELECT length(product_image.product_put_image_info(201, format('{"Description": "%s", "ExtraInfo": null}', repeat('é', 4000))::jsonb) ->> 'Description') AS at_limit;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- 10. What is saved can be rendered: a GIF canvas counts against max_pixels.
-- ---------------------------------------------------------------------------
SELECT try($$SELECT product_image.product_save_image(201, '\x474946383961ffffffff800000000000ffffff2c00000000010001000002024401003b'::bytea)$$) AS gif_canvas_bomb;

-- ---------------------------------------------------------------------------
-- 15. render() is granted, not PUBLIC, and applies max_bytes; partitioned
-- product tables are refused.
-- ---------------------------------------------------------------------------
SET ROLE regress_sec_reader;
SELECT try($$SELECT product_image.render(fx('rgb.png'), 8, 8, NULL) IS NOT NULL$$) AS reader_renders;
RESET ROLE;
SET product_image.max_bytes = 50;
SELECT try($$SELECT product_image.render(fx('rgb.png'), 8, 8, NULL) IS NOT NULL$$) AS render_over_max_bytes;
RESET product_image.max_bytes;
CREATE TABLE regress_parted (id integer PRIMARY KEY) PARTITION BY RANGE (id);
SELECT try($$SELECT product_image.attach('regress_parted')$$) AS attach_partitioned;
SELECT product_table FROM product_image.config;
DROP TABLE regress_parted;

-- ---------------------------------------------------------------------------
-- The product table's owner (not a superuser) retypes the key to a type of
-- its own with implicit casts that would make it superuser, and recreates
-- the cascade trigger: neither the trigger nor a writer's save runs its cast.
-- ---------------------------------------------------------------------------
CREATE ROLE regress_sec_owner;
CREATE SCHEMA regress_owned AUTHORIZATION regress_sec_owner;
CREATE TABLE regress_owned.item (id integer PRIMARY KEY);
ALTER TABLE regress_owned.item OWNER TO regress_sec_owner;
INSERT INTO regress_owned.item VALUES (1), (2);
SELECT product_image.attach('regress_owned.item');
GRANT USAGE ON SCHEMA regress_owned TO regress_sec_writer;
GRANT SELECT ON regress_owned.item TO regress_sec_writer;
SET ROLE regress_sec_writer;
SELECT product_image.product_save_image(1, :'png') > 0 AS saved_before;
SET ROLE regress_sec_owner;
CREATE TYPE regress_owned.pid AS (v integer);
CREATE FUNCTION regress_owned.pwn(regress_owned.pid) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER ROLE regress_sec_owner SUPERUSER;
    END IF;
    RETURN ($1).v;
END $$;
CREATE FUNCTION regress_owned.pwn4(regress_owned.pid) RETURNS integer LANGUAGE sql AS $$ SELECT regress_owned.pwn($1)::integer $$;
CREATE CAST (regress_owned.pid AS bigint) WITH FUNCTION regress_owned.pwn(regress_owned.pid) AS IMPLICIT;
CREATE CAST (regress_owned.pid AS integer) WITH FUNCTION regress_owned.pwn4(regress_owned.pid) AS IMPLICIT;
DROP TRIGGER product_image_cascade ON regress_owned.item;
ALTER TABLE regress_owned.item ALTER COLUMN id TYPE regress_owned.pid USING row(id)::regress_owned.pid;
CREATE TRIGGER product_image_cascade AFTER DELETE OR UPDATE OF id ON regress_owned.item
    FOR EACH ROW EXECUTE FUNCTION product_image.on_product_change('id');
SELECT try($$DELETE FROM regress_owned.item WHERE (id).v = 1$$) AS owner_deletes;
SET ROLE regress_sec_writer;
SELECT try($$SELECT product_image.product_save_image(2, '$$ || :'png'::text || $$')$$) AS writer_saves_after;
SELECT try($$SELECT product_image.product_get_image_info(1) IS NULL$$) AS writer_reads_after;
RESET ROLE;
SELECT rolsuper AS owner_is_superuser FROM pg_roles WHERE rolname = 'regress_sec_owner';
-- a registration whose table was dropped does not stop attaching another
SELECT product_image.attach('product');
CREATE TABLE regress_gone (id integer PRIMARY KEY);
SELECT product_image.attach('regress_gone');
DROP TABLE regress_gone;
SELECT product_image.attach('product');
SELECT product_image.product_delete_image(1);

-- ---------------------------------------------------------------------------
-- Renditions are never shared between images: what one product has cached
-- (and keeps after a re-save) tells nothing of another product's bytes.
-- ---------------------------------------------------------------------------
SELECT product_image.product_save_image(g, fx('noise.jpg')) > 0 AS same_bytes FROM (VALUES (210), (211)) v(g);
SELECT product_image.product_get_image(g, 30, NULL, 'png', NULL) IS NOT NULL AS filled FROM (VALUES (210), (211)) v(g);
SELECT count(*) AS one_row_each FROM product_image.rendition r
  JOIN product_image.blob b ON b.blob_id = r.blob_id WHERE b.product_id IN (210, 211);
SELECT product_image.product_save_image(210, fx('rgb.png')) > 0 AS resaved;
SELECT count(*) FILTER (WHERE b.product_id = 210) AS left_for_210, count(*) FILTER (WHERE b.product_id = 211) AS left_for_211
  FROM product_image.rendition r JOIN product_image.blob b ON b.blob_id = r.blob_id AND b.sha256 = r.source
 WHERE b.product_id IN (210, 211);

-- ---------------------------------------------------------------------------
-- The catalog: no SECURITY DEFINER without a pinned search_path, no trigger
-- function for PUBLIC, and PUBLIC may execute only readers.
-- ---------------------------------------------------------------------------
SELECT p.oid::regprocedure AS definer_unpinned FROM pg_proc p
 WHERE p.pronamespace = 'product_image'::regnamespace AND p.prosecdef
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false);
SELECT p.oid::regprocedure AS public_executes, p.provolatile AS volatility FROM pg_proc p
 WHERE p.pronamespace = 'product_image'::regnamespace
   AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
 ORDER BY 1::text;
SELECT p.oid::regprocedure AS public_trigger_function FROM pg_proc p
 WHERE p.pronamespace = 'product_image'::regnamespace AND p.prorettype = 'trigger'::regtype
   AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE');

-- ---------------------------------------------------------------------------
-- 12, 17. Installation: a squatted schema is refused; an update keeps an
-- administrator's REVOKE and GRANT.
-- ---------------------------------------------------------------------------
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_pi_install;
\c regress_pi_install
SET client_min_messages = warning;
GRANT CREATE ON DATABASE regress_pi_install TO regress_sec_reader;
SET ROLE regress_sec_reader;
CREATE SCHEMA product_image;
CREATE FUNCTION product_image.attach(text) RETURNS void LANGUAGE sql AS $$ SELECT $$;
RESET ROLE;
\set VERBOSITY terse
CREATE EXTENSION product_image;
\set VERBOSITY default
DROP SCHEMA product_image CASCADE;
CREATE EXTENSION product_image VERSION '0.1.0';
REVOKE EXECUTE ON FUNCTION product_image.postgrest_get_image() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION product_image.postgrest_get_image() TO regress_sec_writer;
-- 0.4.0 creates the rendition functions again (a new result type): the
-- privileges an administrator gave them are carried over
ALTER EXTENSION product_image UPDATE TO '0.3.0';
REVOKE EXECUTE ON FUNCTION product_image.product_get_image_rendition(integer, integer, integer, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION product_image.product_get_image_rendition(integer, integer, integer, text, text, text) TO regress_sec_writer;
GRANT EXECUTE ON FUNCTION product_image.partition_get_image_rendition(name, integer, integer, integer, text, text, text) TO regress_sec_reader;
GRANT EXECUTE ON FUNCTION product_image.product_put_image_info(integer, jsonb) TO regress_sec_writer;
ALTER EXTENSION product_image UPDATE;
-- whoever could update ImageInfo can with If-Match (0.4.0's new overload)
SELECT has_function_privilege('regress_sec_writer', 'product_image.product_put_image_info(integer, jsonb, text)', 'EXECUTE') AS if_match_writer,
       has_function_privilege('regress_sec_anon', 'product_image.product_put_image_info(integer, jsonb, text)', 'EXECUTE') AS if_match_public;
-- (0.5.0 creates product_get_image_rendition again with accept and render,
-- and a partition function a 0.5.0 proxy calls: granted as the old one was)
SELECT has_function_privilege('regress_sec_anon', 'product_image.product_get_image_rendition(integer, integer, integer, text, text, text, bigint, text, boolean)', 'EXECUTE') AS rendition_public,
       has_function_privilege('regress_sec_writer', 'product_image.product_get_image_rendition(integer, integer, integer, text, text, text, bigint, text, boolean)', 'EXECUTE') AS rendition_writer,
       has_function_privilege('regress_sec_reader', 'product_image.partition_get_image_rendition(name, integer, integer, integer, text, text, text)', 'EXECUTE') AS partition_reader,
       has_function_privilege('regress_sec_anon', 'product_image.partition_get_image_rendition(name, integer, integer, integer, text, text, text)', 'EXECUTE') AS partition_public,
       has_function_privilege('regress_sec_reader', 'product_image.partition_get_image_rendition(name, integer, integer, integer, text, text, text, text, boolean)', 'EXECUTE') AS partition9_reader,
       has_function_privilege('regress_sec_anon', 'product_image.partition_get_image_rendition(name, integer, integer, integer, text, text, text, text, boolean)', 'EXECUTE') AS partition9_public;
SELECT has_function_privilege('regress_sec_anon', 'product_image.postgrest_get_image(integer, integer, text, text)', 'EXECUTE') AS public_after_update,
       has_function_privilege('regress_sec_writer', 'product_image.postgrest_get_image(integer, integer, text, text)', 'EXECUTE') AS writer_after_update,
       extversion FROM pg_extension WHERE extname = 'product_image';
\c :regress_db
SET client_min_messages = warning;
DROP DATABASE regress_pi_install;

-- ---------------------------------------------------------------------------
-- Sessions (the gateway's cookie login): a session is opened only by a login
-- as itself (not after SET ROLE, not a superuser); turning a session into a
-- role and ending one are not PUBLIC's.
-- ---------------------------------------------------------------------------
SET ROLE regress_sec_reader;
SELECT try($$SELECT product_image.session_open(60)$$) AS open_after_set_role;
SELECT try($$SELECT product_image.session_role(gen_random_uuid())$$) AS role_not_public;
SELECT try($$SELECT product_image.session_close(gen_random_uuid())$$) AS close_not_public;
SELECT try($$SELECT * FROM product_image.session$$) AS table_not_public;
RESET ROLE;
SELECT try($$SELECT product_image.session_open(60)$$) AS superuser_refused;
SELECT try($$SELECT product_image.session_role(gen_random_uuid())$$) AS unknown_session;
SELECT try($$SELECT product_image.session_open(10)$$) AS ttl_bounded;
-- a login keeps at most 20 sessions: opening more ends the oldest
SELECT current_user AS regress_super \gset
CREATE ROLE regress_sec_login LOGIN;
GRANT USAGE ON SCHEMA product_image TO regress_sec_login;
\c - regress_sec_login
SELECT count(product_image.session_open(60)) AS opened FROM generate_series(1, 30);
\c - :regress_super
SET client_min_messages = warning;
SELECT count(*) AS kept FROM product_image.session WHERE role = 'regress_sec_login';
DELETE FROM product_image.session;
DROP OWNED BY regress_sec_login;
DROP ROLE regress_sec_login;

-- clean up
SELECT product_image.product_delete_image(g) FROM generate_series(201, 212) g WHERE false;
DELETE FROM product WHERE id BETWEEN 201 AND 212;
DROP SCHEMA regress_mallory CASCADE;
REVOKE ALL ON product, fixture FROM regress_sec_reader, regress_sec_writer, regress_sec_tenant, regress_sec_anon;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA product_image FROM regress_sec_writer, regress_sec_tenant;
REVOKE ALL ON SCHEMA product_image FROM regress_sec_reader, regress_sec_writer, regress_sec_tenant, regress_sec_anon, regress_sec_owner;
REVOKE ALL ON FUNCTION product_image.on_product_change() FROM regress_sec_owner;
DROP SCHEMA regress_owned CASCADE;
DROP ROLE regress_sec_reader, regress_sec_writer, regress_sec_tenant, regress_sec_anon, regress_sec_owner;
