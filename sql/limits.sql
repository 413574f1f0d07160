-- product_image.max_bytes and product_image.max_pixels
SELECT (product_image.image_info(fx('rgb.png'))).format;  -- loads the module
SHOW product_image.max_bytes;
SHOW product_image.max_pixels;
SELECT name, context, unit FROM pg_settings WHERE name LIKE 'product_image.%' ORDER BY 1;

SET product_image.max_bytes = 100;
SELECT try($$SELECT (product_image.product_save_image(1, fx('rgb.png')) > 0)::text$$) AS under_limit;
SELECT try($$SELECT product_image.product_save_image(1, fx('rgb.jpg'))$$) AS over_limit;
SELECT try($$SELECT product_image.image_info(fx('rgb.jpg'))::text$$) AS info_over_limit;
RESET product_image.max_bytes;

-- max_pixels counts every GIF frame and TIFF page: 3 frames of 16 x 12 = 576 pixels.
SET product_image.max_pixels = 575;
SELECT try($$SELECT product_image.product_save_image(1, fx('anim3.gif'))$$) AS gif_3_frames;
SELECT try($$SELECT product_image.product_save_image(1, fx('pages3.tif'))$$) AS tiff_3_pages;
SELECT try($$SELECT (product_image.image_info(fx('rgb.png'))).width::text$$) AS one_frame_fits;
SET product_image.max_pixels = 576;
SELECT try($$SELECT (product_image.image_info(fx('anim3.gif'))).frames::text$$) AS exactly_at_limit;
RESET product_image.max_pixels;
SELECT try($$SET product_image.max_bytes = 0$$) AS zero_bytes;
SELECT try($$SET product_image.validate = 'sometimes'$$) AS bad_mode;
SELECT try($$SET product_image.no_such_setting = 1$$) AS reserved_prefix;
SELECT product_image.product_delete_image(1);
