-- attach(): only tables with a single-column integer primary key.
CREATE TABLE no_pk (id int);
CREATE TABLE two_col_pk (a int, b int, PRIMARY KEY (a, b));
CREATE TABLE text_pk (code text PRIMARY KEY);
CREATE VIEW product_view AS SELECT * FROM product;
SELECT try($$SELECT product_image.attach('no_pk')$$) AS no_pk;
SELECT try($$SELECT product_image.attach('two_col_pk')$$) AS two_col_pk;
SELECT try($$SELECT product_image.attach('text_pk')$$) AS text_pk;
SELECT try($$SELECT product_image.attach('product_view')$$) AS view;
SELECT try($$SELECT product_image.attach('no_such_table')$$) AS missing;
SELECT product_table FROM product_image.config;

-- Cascade: deleting a product deletes its image; re-keying moves it; TRUNCATE empties.
SELECT product_image.product_save_image(g, fx('gray.png')) > 0 AS saved FROM generate_series(1, 3) g;
DELETE FROM product WHERE id = 1;
SELECT product_id FROM product_image.blob ORDER BY 1;
UPDATE product SET id = 100 WHERE id = 2;
SELECT product_id FROM product_image.blob ORDER BY 1;
SELECT product_image.product_get_image(100) = fx('gray.png') AS moved_with_product;
INSERT INTO product VALUES (1, 'product 1'), (2, 'product 2');
DELETE FROM product WHERE id = 100;

-- Moving the registration to another table (bigint key)
CREATE TABLE item (item_no bigint PRIMARY KEY, title text);
INSERT INTO item VALUES (7, 'seven');
SELECT product_image.attach('item');
SELECT product_table, product_key FROM product_image.config;
SELECT try($$SELECT product_image.product_save_image(1, fx('rgb.png'))$$) AS old_table_product;
SELECT product_image.product_save_image(7, fx('rgb.png')) > 0 AS saved_on_item;
SELECT tgname, tgrelid::regclass FROM pg_trigger WHERE tgname LIKE 'product_image%' ORDER BY 1, 2;
DELETE FROM item WHERE item_no = 7;
SELECT count(*) AS blobs_for_7 FROM product_image.blob WHERE product_id = 7;

-- TRUNCATE of the product table removes every image.
SELECT product_image.attach('product');
SELECT product_image.product_save_image(4, fx('gray.png')) > 0 AS saved;
CREATE TABLE product_backup AS SELECT * FROM product;
TRUNCATE product;
SELECT count(*) AS blobs_after_truncate FROM product_image.blob;
INSERT INTO product SELECT * FROM product_backup;
DROP TABLE product_backup, no_pk, two_col_pk, text_pk, item;
DROP VIEW product_view;
SELECT count(*) AS blobs FROM product_image.blob;
