-- product_image 0.3.0 -> 0.4.0: one read path.
-- product_get_image_rendition also answers what HTTP headers need: the time
-- the image's bytes last changed (Last-Modified; an ImageInfo edit or a
-- re-save of identical bytes does not move it) and the size of the answer,
-- and leaves the bytes of an original larger than max_bytes to
-- product_get_image_part (streamed in slices).
\echo Use "ALTER EXTENSION product_image UPDATE TO '0.4.0'" to load this file. \quit

-- The formats the blob table accepts are the decoder's codec table's, so a
-- new codec needs no constraint of its own.
CREATE FUNCTION product_image.format_mime_type(format text) RETURNS text
AS 'MODULE_PATHNAME', 'format_mime_type'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
ALTER TABLE product_image.blob DROP CONSTRAINT blob_format_check,
    DROP CONSTRAINT blob_mime_type_of_format,
    ADD CONSTRAINT blob_format_known
        CHECK (product_image.format_mime_type(format) IS NOT DISTINCT FROM mime_type);

ALTER TABLE product_image.blob ADD COLUMN data_updated timestamptz;
UPDATE product_image.blob SET data_updated = updated;
ALTER TABLE product_image.blob ALTER COLUMN data_updated SET DEFAULT pg_catalog.now(),
    ALTER COLUMN data_updated SET NOT NULL;

-- New bytes, a new time; the same bytes saved again keep theirs.  It runs as
-- whoever writes the row (the table's owner, from the save functions) and
-- reads nothing but the row.
CREATE FUNCTION product_image.blob_data_updated() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.sha256 IS DISTINCT FROM OLD.sha256 THEN
        NEW.data_updated := pg_catalog.now();
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION product_image.blob_data_updated() FROM PUBLIC;
CREATE TRIGGER blob_data_updated BEFORE UPDATE ON product_image.blob
    FOR EACH ROW EXECUTE FUNCTION product_image.blob_data_updated();

-- The functions whose result type changes are dropped and created again:
-- their privileges (an administrator's GRANT to a proxy's login, a REVOKE
-- from PUBLIC) are carried over, not reset.
SELECT pg_catalog.set_config('pi_upgrade.keep_acl_' || p.proname, coalesce(p.proacl::text, ''), true)
  FROM pg_catalog.pg_proc p
 WHERE p.oid IN ('product_image.partition_get_image_rendition(name, integer, integer, integer, text, text, text)'::regprocedure,
                 'product_image.product_get_image_rendition(integer, integer, integer, text, text, text)'::regprocedure);
DROP FUNCTION product_image.partition_get_image_rendition(name, integer, integer, integer, text, text, text);
DROP FUNCTION product_image.product_get_image_rendition(integer, integer, integer, text, text, text);

-- GET Image with SuperOffice's w, h, type and ifBlank (none of them: the
-- original).  not_modified: if_none_match names the ETag, and image is NULL
-- (answer 304); image is also NULL when the original is larger than
-- max_bytes (read it with product_get_image_part, pinned to etag).  size:
-- the bytes' size (an original's always; a rendition's when it was made).
-- modified: when the stored bytes last changed (NULL for a placeholder).
CREATE FUNCTION product_image.product_get_image_rendition(
    product_id integer, w integer DEFAULT NULL, h integer DEFAULT NULL,
    type text DEFAULT NULL, if_blank text DEFAULT NULL, if_none_match text DEFAULT NULL,
    max_bytes bigint DEFAULT NULL,
    OUT image bytea, OUT mime_type text, OUT etag text, OUT width integer, OUT height integer,
    OUT modified timestamptz, OUT size bigint, OUT not_modified boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'product_get_image_rendition'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

-- What a proxy node calls (no streaming through a proxy: max_bytes is not passed).
CREATE FUNCTION product_image.partition_get_image_rendition(
    caller name, product_id integer, w integer, h integer, type text, if_blank text, if_none_match text,
    OUT image bytea, OUT mime_type text, OUT etag text, OUT width integer, OUT height integer,
    OUT modified timestamptz, OUT size bigint, OUT not_modified boolean)
RETURNS record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM product_image.partition_enter(caller);
    SELECT * INTO image, mime_type, etag, width, height, modified, size, not_modified
      FROM product_image.product_get_image_rendition(product_id, w, h, type, if_blank, if_none_match);
END $$;
REVOKE ALL ON FUNCTION product_image.partition_get_image_rendition(name, integer, integer, integer,
    text, text, text) FROM PUBLIC;
DO $$
DECLARE
    f regprocedure;
    acl text;
    g record;
BEGIN
    FOREACH f IN ARRAY ARRAY['product_image.partition_get_image_rendition(name, integer, integer, integer, text, text, text)',
                     'product_image.product_get_image_rendition(integer, integer, integer, text, text, text, bigint)']::regprocedure[] LOOP
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

-- ImageInfo PUT with If-Match: the ImageInfo's ETag is the md5 of its JSON
-- text; "*" or a comma-separated list, judged in the update itself (PI412).
CREATE FUNCTION product_image.product_put_image_info(product_id integer, info jsonb, if_match text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'product_put_image_info'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION product_image.product_put_image_info(integer, jsonb, text) FROM PUBLIC;
-- whoever may update ImageInfo may do it with If-Match
DO $$
DECLARE g record;
BEGIN
    FOR g IN SELECT a.grantee FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
              WHERE p.oid OPERATOR(pg_catalog.=)
                    'product_image.product_put_image_info(integer, jsonb)'::pg_catalog.regprocedure
                AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
                AND a.grantee OPERATOR(pg_catalog.<>) p.proowner LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION product_image.product_put_image_info(integer, jsonb, text) TO %s',
            CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' ELSE g.grantee::pg_catalog.regrole::pg_catalog.text END);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Sessions of the HTTP gateway's cookie login (POST /api/v1/Session), in the
-- database so that every gateway sees them and a logout is real.  A session
-- is opened by a role for itself, on a connection that role logged in with
-- its password; the gateway's authenticator turns a session id into its role
-- (and may become that role only when it is granted it) and ends sessions.
-- ---------------------------------------------------------------------------
CREATE TABLE product_image.session (
    id       uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    role     name NOT NULL,
    role_oid oid NOT NULL,      -- a role dropped and created again under the name is another
    created  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires  timestamptz NOT NULL,
    last_use timestamptz NOT NULL DEFAULT pg_catalog.now()
);
REVOKE ALL ON TABLE product_image.session FROM PUBLIC;

-- A new session for the role that logged in (session_user), for ttl seconds
-- (60 to a year); ended sessions are swept, and a role keeps at most 20.
-- Callable by any role: it opens a session for the caller's own login,
-- nobody else's, and a session is of use only with the gateway's signature.
CREATE FUNCTION product_image.session_open(ttl integer) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE id uuid;
BEGIN
    IF ttl IS NULL OR ttl < 60 OR ttl > 31536000 THEN
        RAISE EXCEPTION 'a session lasts from 60 seconds to a year, not %', ttl USING ERRCODE = '22023';
    END IF;
    -- only for a login as itself: not after SET ROLE (a PostgREST request,
    -- whose session user is the authenticator), not a superuser's or a
    -- BYPASSRLS role's (the gateway refuses those logins too)
    IF pg_catalog.current_setting('role') OPERATOR(pg_catalog.<>) 'none' OR
       (SELECT r.rolsuper OR r.rolbypassrls FROM pg_catalog.pg_roles r
         WHERE r.rolname OPERATOR(pg_catalog.=) SESSION_USER) THEN
        RAISE EXCEPTION 'a session is opened by a login as itself, and not for a superuser'
            USING ERRCODE = '42501';
    END IF;
    DELETE FROM product_image.session s WHERE s.expires OPERATOR(pg_catalog.<) pg_catalog.now();
    INSERT INTO product_image.session (role, role_oid, expires)
    SELECT r.rolname, r.oid, pg_catalog.now() OPERATOR(pg_catalog.+) pg_catalog.make_interval(secs => ttl)
      FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) SESSION_USER
    RETURNING session.id INTO id;
    -- a role keeps its 20 newest sessions: opening more ends the oldest, so
    -- no login can fill the table
    DELETE FROM product_image.session s
     WHERE s.role OPERATOR(pg_catalog.=) SESSION_USER
       AND s.id OPERATOR(pg_catalog.<>) ALL (
           SELECT k.id FROM product_image.session k WHERE k.role OPERATOR(pg_catalog.=) SESSION_USER
            ORDER BY k.created DESC, k.id LIMIT 20);
    RETURN id;
END
$$;

-- The role of a live session (its last use noted, at most once a minute,
-- never waiting for a concurrent request of the same session, never on a
-- standby); 28000 when there is none, or when its role is no longer one that
-- may log in here (NOLOGIN, expired VALID UNTIL, superuser, BYPASSRLS, or
-- dropped and created again).  For the authenticator.
CREATE FUNCTION product_image.session_role(id uuid) RETURNS name
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r name;
BEGIN
    SELECT s.role INTO r FROM product_image.session s
      JOIN pg_catalog.pg_roles o ON o.oid OPERATOR(pg_catalog.=) s.role_oid
                                AND o.rolname OPERATOR(pg_catalog.=) s.role
     WHERE s.id OPERATOR(pg_catalog.=) session_role.id AND s.expires OPERATOR(pg_catalog.>) pg_catalog.now()
       AND o.rolcanlogin AND NOT o.rolsuper AND NOT o.rolbypassrls
       AND (o.rolvaliduntil IS NULL OR o.rolvaliduntil OPERATOR(pg_catalog.>) pg_catalog.now());
    IF r IS NULL THEN
        RAISE EXCEPTION 'the session is invalid or has expired' USING ERRCODE = '28000';
    END IF;
    IF NOT pg_catalog.pg_is_in_recovery() THEN
        UPDATE product_image.session s SET last_use = pg_catalog.now()
         WHERE s.ctid OPERATOR(pg_catalog.=) (
               SELECT k.ctid FROM product_image.session k
                WHERE k.id OPERATOR(pg_catalog.=) session_role.id
                  AND k.last_use OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) interval '1 minute')
                  FOR UPDATE SKIP LOCKED);
    END IF;
    RETURN r;
END
$$;

-- End a session: true when there was one.  For the authenticator.
CREATE FUNCTION product_image.session_close(id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM product_image.session s WHERE s.id OPERATOR(pg_catalog.=) session_close.id;
    RETURN FOUND;
END
$$;
REVOKE ALL ON FUNCTION product_image.session_role(uuid), product_image.session_close(uuid) FROM PUBLIC;
