\set p random(1, 50)
SELECT product_image.product_delete_image(:p);
