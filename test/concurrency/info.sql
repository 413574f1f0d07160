\set p random(1, 50)
BEGIN;
SELECT product_image.product_save_image(:p, (SELECT img FROM pi_conc_image WHERE n = 1));
SELECT product_image.product_put_image_info(:p, '{"Description": "concurrent"}');
COMMIT;
