\set p random(1, 50)
\set i random(1, 4)
SELECT product_image.product_save_image(:p, (SELECT img FROM pi_conc_image WHERE n = :i));
