-- product_image.validate: header (default) reads up to the image data; full decodes it all.
SELECT (product_image.image_info(fx('rgb.png'))).format;  -- loads the module
SHOW product_image.validate;
CREATE TEMP TABLE damaged (name text, img bytea);
INSERT INTO damaged VALUES
  ('png short IDAT stream', fx('short_idat.png')),
  ('png IDAT data damaged', set_byte(fx('rgb.png'), 45, get_byte(fx('rgb.png'), 45) # 255)),
  ('png no IEND', substring(fx('rgb.png') from 1 for length(fx('rgb.png')) - 12)),
  ('jpeg truncated scan', substring(fx('rgb.jpg') from 1 for length(fx('rgb.jpg')) - 50)),
  ('jpeg progressive truncated', substring(fx('progressive.jpg') from 1 for length(fx('progressive.jpg')) - 150)),
  ('gif LZW ends early', fx('short_lzw.gif')),
  ('tiff bad LZW strip', overlay(fx('gray_lzw.tif') placing '\xffffffffffffffff'::bytea from 21));
SELECT name, try(format('SELECT (product_image.image_info(%L::bytea)).format', img)) AS header_mode FROM damaged;
SET product_image.validate = 'full';
SELECT name, try(format('SELECT (product_image.image_info(%L::bytea)).format', img)) AS full_mode FROM damaged;
-- Every good fixture passes full mode too (WebP where accepted).
SET product_image.accept_formats = 'png, jpeg, gif, tiff, webp';
SELECT name FROM fixture
 WHERE name NOT LIKE 'not_image%' AND name NOT IN ('bomb.png', 'zero_width.png', 'short_idat.png', 'short_lzw.gif')
   AND name NOT IN ('short_vp8.webp', 'short_vp8l.webp')
   AND try(format('SELECT product_image.image_info(fx(%L))::text', name)) NOT LIKE 'ok:%';
SELECT name, try(format('SELECT (product_image.image_info(fx(%L))).format', name)) AS full_mode_webp
  FROM fixture WHERE name LIKE 'short_vp8%.webp' ORDER BY name;
RESET product_image.accept_formats;
SELECT product_image.product_save_image(3, fx('progressive.jpg')) > 0 AS full_mode_save;
SELECT try($$SELECT product_image.product_save_image(3, fx('short_idat.png'))$$) AS full_mode_rejects;
SELECT product_image.product_get_image(3) = fx('progressive.jpg') AS previous_kept;
RESET product_image.validate;
SELECT product_image.product_delete_image(3);
