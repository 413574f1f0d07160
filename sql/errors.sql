-- Every error a caller can cause, one per line, with its SQLSTATE.
SELECT try($$SELECT product_image.product_save_image(1, NULL)$$) AS null_image;
SELECT try($$SELECT product_image.product_save_image(1, ''::bytea)$$) AS empty_image;
SELECT try($$SELECT product_image.image_info(''::bytea)::text$$) AS empty_info;
SELECT try($$SELECT product_image.product_save_image(NULL, fx('rgb.png'))$$) AS null_product;
SELECT try($$SELECT product_image.product_save_image(42, fx('rgb.png'))$$) AS missing_product;
SELECT try($$SELECT product_image.product_save_image(-1, fx('rgb.png'))$$) AS negative_product;

-- Not an image, or not one of ours: 0A000, with what it looks like
SELECT try($$SELECT product_image.product_save_image(1, fx('not_image.bmp'))$$) AS bmp;
SELECT try($$SELECT product_image.product_save_image(1, fx('not_image.webp'))$$) AS webp;
SELECT try($$SELECT product_image.product_save_image(1, fx('not_image.html'))$$) AS html;
SELECT try($$SELECT product_image.product_save_image(1, convert_to('{"a": 1}', 'UTF8'))$$) AS json;
SELECT try($$SELECT product_image.product_save_image(1, convert_to('hello world', 'UTF8'))$$) AS text;
SELECT try($$SELECT product_image.product_save_image(1, '\x000102030405'::bytea)$$) AS binary_junk;
SELECT try($$SELECT product_image.product_save_image(1, convert_to('%PDF-1.7', 'UTF8'))$$) AS pdf;
SELECT try($$SELECT product_image.product_save_image(1, '\x89'::bytea)$$) AS one_byte;
SELECT try($$SELECT product_image.product_save_image(1, '\x89504e470d0a1a'::bytea)$$) AS png_sig_short;

-- Magic right, header wrong: 22P03 with the library's message
SELECT try($$SELECT product_image.product_save_image(1, '\x89504e470d0a1a0a'::bytea)$$) AS png_sig_only;
SELECT try($$SELECT product_image.product_save_image(1, substring(fx('rgb.png') from 1 for 20))$$) AS png_truncated_ihdr;
SELECT try($$SELECT product_image.product_save_image(1, set_byte(fx('rgb.png'), 29, 255))$$) AS png_ihdr_crc;
SELECT try($$SELECT product_image.product_save_image(1, fx('zero_width.png'))$$) AS png_zero_width;
SELECT try($$SELECT product_image.product_save_image(1, '\xffd8ffd9'::bytea)$$) AS jpeg_no_sof;
SELECT try($$SELECT product_image.product_save_image(1, substring(fx('rgb.jpg') from 1 for 30))$$) AS jpeg_truncated_header;
SELECT try($$SELECT product_image.product_save_image(1, '\x474946383961'::bytea)$$) AS gif_sig_only;
SELECT try($$SELECT product_image.product_save_image(1, '\x47494638396100000000000000'::bytea || '\x3b'::bytea)$$) AS gif_zero_size;
SELECT try($$SELECT product_image.product_save_image(1, substring(fx('anim3.gif') from 1 for 40))$$) AS gif_truncated;
SELECT try($$SELECT product_image.product_save_image(1, '\x474946383961010001000000003b'::bytea)$$) AS gif_no_frame;
SELECT try($$SELECT product_image.product_save_image(1, '\x49492a00'::bytea)$$) AS tiff_sig_only;
SELECT try($$SELECT product_image.product_save_image(1, '\x49492a00ffffff7f'::bytea)$$) AS tiff_ifd_out_of_bounds;
SELECT try($$SELECT product_image.product_save_image(1, '\x4d4d002a00000008'::bytea)$$) AS tiff_ifd_at_end;

-- Huge claims in tiny files: 54000 before any pixel buffer exists
SELECT try($$SELECT product_image.product_save_image(1, fx('bomb.png'))$$) AS png_pixel_bomb;
SELECT try($$SELECT product_image.image_info(overlay(fx('rgb.jpg') placing '\xea60ea60'::bytea
            from position('\xffc0'::bytea in fx('rgb.jpg')) + 5))::text$$) AS jpeg_60000_square;
SELECT try($$SELECT product_image.image_info(overlay(fx('rgb.jpg') placing '\xffffffff'::bytea
            from position('\xffc0'::bytea in fx('rgb.jpg')) + 5))::text$$) AS jpeg_over_libjpeg_max;

-- Nothing was stored by any of the above.
SELECT count(*) AS blobs FROM product_image.blob;
