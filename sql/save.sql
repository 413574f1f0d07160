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
