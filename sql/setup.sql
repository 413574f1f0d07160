-- Fixtures, a product table, and a helper that shows SQLSTATE and message.
-- (loaded from the client side, so the server needs no access to this checkout)
CREATE TABLE fixture (name text PRIMARY KEY, img bytea NOT NULL);
\copy fixture FROM PROGRAM 'python3 test/copy_files.py test/fixtures'
SELECT count(*) AS fixtures FROM fixture;

-- try(sql): 'ok: <result>' or 'SQLSTATE: message (detail)'
CREATE FUNCTION try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r text;
    st text;
    m text;
    d text;
BEGIN
    IF sql ~* '^\s*(select|with|values)' THEN
        EXECUTE sql INTO r;
    ELSE
        EXECUTE sql;
    END IF;
    RETURN 'ok: ' || coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
    RETURN st || ': ' || m || coalesce(' (' || nullif(d, '') || ')', '');
END
$$;
CREATE FUNCTION fx(n text) RETURNS bytea LANGUAGE sql STABLE AS
$$ SELECT img FROM fixture WHERE name = n $$;

CREATE TABLE product (id integer PRIMARY KEY, name text NOT NULL);
INSERT INTO product SELECT g, 'product ' || g FROM generate_series(1, 20) g;

-- Everything lives in schema product_image, which is not relocatable.
SELECT extrelocatable, extnamespace::regnamespace FROM pg_extension WHERE extname = 'product_image';

-- Before attach: 55000 (the hint names attach).
SELECT try($$SELECT product_image.product_save_image(1, fx('rgb.png'))$$) AS not_attached;
\set VERBOSITY default
SELECT product_image.product_save_image(1, fx('rgb.png'));
SELECT product_image.attach('product');
SELECT product_table, product_key FROM product_image.config;
