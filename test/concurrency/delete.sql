\set p random(1, 20)
SELECT product_image.product_delete_image(:p);
