-- Every fixture's header, as image_info reads it (errors shown with SQLSTATE).
SELECT name, try(format('SELECT product_image.image_info(fx(%L))::text', name)) AS info
  FROM fixture ORDER BY name;

-- WebP when product_image.accept_formats lists it (a superuser's setting;
-- the default is the seed's four formats, above).
SET product_image.accept_formats = 'png, jpeg, gif, tiff, webp';
SELECT name, try(format('SELECT product_image.image_info(fx(%L))::text', name)) AS info
  FROM fixture WHERE name LIKE '%.webp' ORDER BY name;
SELECT product_image.product_save_image(9, fx('rgba_lossy.webp')) > 0 AS saved_webp;
SELECT format, mime_type, width, height, has_alpha, blob_size = octet_length(data) AS size_ok
  FROM product_image.blob WHERE product_id = 9;
RESET product_image.accept_formats;
-- still stored, still served, no longer accepted for new saves
SELECT product_image.product_get_image(9) = fx('rgba_lossy.webp') AS still_served;
SELECT try($$SELECT product_image.product_save_image(9, fx('rgba_lossy.webp'))$$) AS refused_by_default;
SELECT product_image.product_delete_image(9) AS deleted_webp;
SELECT try($$SET product_image.accept_formats = 'png, avif'$$) AS avif_not_stored;
SELECT try($$SET product_image.accept_formats = ''$$) AS none_accepted;

-- image_info is IMMUTABLE, STRICT and PARALLEL SAFE.
SELECT provolatile, proisstrict, proparallel FROM pg_proc
 WHERE oid = 'product_image.image_info(bytea)'::regprocedure;
SELECT product_image.image_info(NULL) IS NULL AS null_in_null_out;

-- Every format saves, and ImageInfo describes it.
SELECT n AS product_id, name,
       product_image.product_save_image(n, fx(name)) > 0 AS saved
  FROM (VALUES (1, 'rgb.png'), (2, 'rgb.jpg'), (3, 'anim3.gif'), (4, 'pages3.tif'),
               (5, 'gray.btf'), (6, 'gray_be.tif'), (7, 'anim.png'), (8, 'cmyk.jpg')) v(n, name);
SELECT product_id, format, mime_type, width, height, bit_depth, channels, color_type,
       has_alpha, frames, interlaced, orientation, blob_size = octet_length(data) AS size_ok,
       sha256 = sha256(data) AS sha_ok
  FROM product_image.blob ORDER BY product_id;
SELECT product_image.product_delete_image(g) FROM generate_series(1, 8) g;
