-- Privileges: the README's writer and reader roles, and a role with no grants.
CREATE ROLE regress_pi_writer;
CREATE ROLE regress_pi_reader;
CREATE ROLE regress_pi_nobody;
-- as in the README: no right on product_image's tables, SELECT on the product table
GRANT USAGE ON SCHEMA product_image TO regress_pi_writer, regress_pi_reader;
GRANT EXECUTE ON FUNCTION product_image.product_save_image(integer, bytea),
                          product_image.product_put_image_info(integer, jsonb),
                          product_image.product_delete_image(integer) TO regress_pi_writer;
GRANT SELECT ON product TO regress_pi_writer, regress_pi_reader;
GRANT SELECT ON fixture TO PUBLIC;

-- Writing functions are not executable by PUBLIC.
SELECT p.oid::regprocedure AS function, has_function_privilege('regress_pi_nobody', p.oid, 'EXECUTE') AS nobody_can
  FROM pg_proc p WHERE p.pronamespace = 'product_image'::regnamespace ORDER BY p.oid::regprocedure::text;
-- SECURITY DEFINER: the product table's cascade trigger and the gateway's session functions (the entry points switch to the owner themselves).
SELECT p.oid::regprocedure AS function FROM pg_proc p
 WHERE p.pronamespace = 'product_image'::regnamespace AND p.prosecdef ORDER BY p.oid::regprocedure::text;

SET ROLE regress_pi_writer;
SELECT product_image.product_save_image(5, fx('rgb.png')) > 0 AS writer_saves;
SELECT product_image.product_put_image_info(5, '{"Description": "by writer"}') ->> 'UpdatedBy' AS updated_by;
SELECT product_image.product_get_image(5) = fx('rgb.png') AS writer_reads;
RESET ROLE;

SET ROLE regress_pi_reader;
SELECT product_image.product_get_image_info(5) ->> 'Description' AS reader_reads;
SELECT (product_image.image_info(fx('rgb.jpg'))).format AS reader_inspects;
SELECT try($$SELECT product_image.product_save_image(5, fx('rgb.png'))$$) AS reader_saves;
SELECT try($$SELECT product_image.product_delete_image(5)$$) AS reader_deletes;
SELECT try($$SELECT product_image.product_put_image_info(5, '{}')$$) AS reader_puts;
RESET ROLE;

SET ROLE regress_pi_nobody;
SELECT try($$SELECT product_image.product_get_image(5)$$) AS nobody_reads;
SELECT try($$SELECT product_image.product_save_image(5, fx('rgb.png'))$$) AS nobody_saves;
SELECT try($$SELECT product_image.attach('product')$$) AS nobody_attaches;
RESET ROLE;

-- Row-level security on the product table applies to saves (every function: sql/security.sql).
ALTER TABLE product ENABLE ROW LEVEL SECURITY;
CREATE POLICY low_ids ON product USING (id <= 10);
SET ROLE regress_pi_writer;
SELECT try($$SELECT product_image.product_save_image(15, fx('rgb.png'))$$) AS hidden_product;
SELECT product_image.product_save_image(6, fx('rgb.png')) > 0 AS visible_product;
RESET ROLE;
DROP POLICY low_ids ON product;
ALTER TABLE product DISABLE ROW LEVEL SECURITY;

-- SELECT on the product table is all a writer needs there; without it: 42501.
SET ROLE regress_pi_writer;
SELECT product_image.product_save_image(7, fx('rgb.png')) > 0 AS select_is_enough;
RESET ROLE;
REVOKE SELECT ON product FROM regress_pi_writer;
SET ROLE regress_pi_writer;
SELECT try($$SELECT product_image.product_save_image(7, fx('rgb.png'))$$) AS no_select_grant;
RESET ROLE;

-- Settings are superuser-only where they are limits.
SET ROLE regress_pi_writer;
SELECT try($$SET product_image.max_bytes = '1GB'$$) AS set_max_bytes;
SELECT try($$SET product_image.max_pixels = 1$$) AS set_max_pixels;
SELECT try($$SET product_image.validate = 'full'$$) AS set_validate;
RESET ROLE;

SELECT product_image.product_delete_image(g) FROM generate_series(5, 7) g;
REVOKE ALL ON ALL TABLES IN SCHEMA product_image FROM regress_pi_writer, regress_pi_reader;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA product_image FROM regress_pi_writer;
REVOKE ALL ON SCHEMA product_image FROM regress_pi_writer, regress_pi_reader;
REVOKE ALL ON product, fixture FROM regress_pi_writer, regress_pi_reader, PUBLIC;
DROP ROLE regress_pi_writer, regress_pi_reader, regress_pi_nobody;
