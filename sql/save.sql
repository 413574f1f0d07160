-- Save, re-save, ImageInfo, get, put, delete.
SELECT product_image.product_save_image(10, fx('rgb.png')) AS first_blob \gset
SELECT product_image.product_get_image(10) = fx('rgb.png') AS same_bytes;
SELECT product_image.product_get_image(11) IS NULL AS none_is_null;
SELECT product_image.product_get_image_info(11) IS NULL AS no_info_is_null;
SELECT jsonb_object_keys(product_image.product_get_image_info(10)) AS key ORDER BY 1;

-- User-entered fields, then a re-save: same blob id, fields kept, bytes replaced.
SELECT info - 'CreatedDate' - 'UpdatedDate' - 'Sha256' - 'BlobId' AS info
  FROM product_image.product_put_image_info(10,
       '{"Description": "front view", "ExtraInfo": "x=1", "ConceptualType": "photo",
         "BlobSize": 1, "MimeType": "text/plain"}') AS info;
SELECT created AS created_before, updated AS updated_before FROM product_image.blob WHERE product_id = 10 \gset
SELECT pg_sleep(0.01);
SELECT product_image.product_save_image(10, fx('progressive.jpg')) = :first_blob AS same_blob_id;
SELECT count(*) AS blobs_for_10 FROM product_image.blob WHERE product_id = 10;
SELECT description, extra_info, conceptual_type, format, mime_type, width, interlaced,
       created = :'created_before' AS created_kept, updated > :'updated_before' AS updated_moved,
       product_image.product_get_image(10) = fx('progressive.jpg') AS new_bytes
  FROM product_image.blob WHERE product_id = 10;

-- A failed re-save leaves the stored image untouched.
SELECT try($$SELECT product_image.product_save_image(10, fx('not_image.bmp'))$$) AS bad_resave;
SELECT product_image.product_get_image(10) = fx('progressive.jpg') AS still_intact;

-- put_image_info: partial updates, null clears, errors
SELECT product_image.product_put_image_info(10, '{"Description": null}') ->> 'Description' AS cleared,
       product_image.product_get_image_info(10) ->> 'ExtraInfo' AS kept;
SELECT try($$SELECT product_image.product_put_image_info(11, '{"Description": "x"}')$$) AS no_image;
SELECT try($$SELECT product_image.product_put_image_info(10, '[1, 2]')$$) AS not_object;
SELECT try($$SELECT product_image.product_put_image_info(10, NULL)$$) AS null_info;

-- Dates are ISO 8601 in UTC.
SELECT product_image.product_get_image_info(10) ->> 'CreatedDate'
       ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$' AS iso8601;

-- Delete: true once, then false.
SELECT product_image.product_delete_image(10) AS deleted, product_image.product_delete_image(10) AS again;
SELECT count(*) AS blobs FROM product_image.blob;

-- Storage: bytes are stored uncompressed out of line (STORAGE EXTERNAL).
SELECT attstorage FROM pg_attribute WHERE attrelid = 'product_image.blob'::regclass AND attname = 'data';
-- ... unless they compress: an image that LZ4 (pglz without it) shrinks by
-- a tenth is stored compressed (IsZipped, BlobSize the stored size,
-- OriginalSize the image's), read back byte for byte; compressed images
-- (PNG, JPEG, GIF) are never tried whole.  An uncompressed 8-bit grey TIFF,
-- 256 x 256 of a repeating ramp, built here byte by byte (big-endian):
CREATE FUNCTION raw_tiff(w int, h int) RETURNS bytea LANGUAGE sql AS $$
  SELECT '\x4d4d002a00000008'::bytea || '\x0009'::bytea
      || '\x0100000300000001'::bytea || int2send(w::int2) || '\x0000'::bytea
      || '\x0101000300000001'::bytea || int2send(h::int2) || '\x0000'::bytea
      || '\x010200030000000100080000'::bytea      -- 8 bits a sample
      || '\x010300030000000100010000'::bytea      -- no compression
      || '\x010600030000000100010000'::bytea      -- black is zero
      || '\x01110004000000010000007a'::bytea      -- the strip at byte 122
      || '\x011500030000000100010000'::bytea      -- one sample a pixel
      || '\x0116000400000001'::bytea || int4send(h)
      || '\x0117000400000001'::bytea || int4send(w * h)
      || '\x00000000'::bytea
      || (SELECT string_agg(set_byte('\x00'::bytea, 0, (x / 4 + y) % 256), ''::bytea ORDER BY y, x)
            FROM generate_series(0, h - 1) y, generate_series(0, w - 1) x)
$$;
SELECT product_image.product_save_image(12, raw_tiff(256, 256)) > 0 AS saved_tiff;
SELECT is_zipped, blob_size < original_size / 4 AS much_smaller, original_size = octet_length(raw_tiff(256, 256)) AS original,
       sha256 = sha256(raw_tiff(256, 256)) AS sha_of_image
  FROM product_image.blob WHERE product_id = 12;
SELECT product_image.product_get_image(12) = raw_tiff(256, 256) AS read_back,
       substr(raw_tiff(256, 256), 40001, 1000) = product_image.product_get_image_part(12,
           (SELECT encode(sha256, 'hex') FROM product_image.blob WHERE product_id = 12), 40000, 1000) AS slice_back;
SELECT i ->> 'IsZipped' AS is_zipped, (i ->> 'BlobSize')::int < (i ->> 'OriginalSize')::int AS blob_smaller
  FROM product_image.product_get_image_info(12) i;
SELECT product_image.product_save_image(12, fx('progressive.jpg')) > 0 AS resaved_jpeg;
SELECT is_zipped, blob_size = original_size AS stored_as_is FROM product_image.blob WHERE product_id = 12;
SELECT product_image.product_delete_image(12) AS deleted_tiff;
DROP FUNCTION raw_tiff(int, int);
