-- The PostgREST wrappers, called the way PostgREST calls them: with
-- request.method and request.headers set for the transaction.
SET request.method = 'POST';
SET request.headers = '{"x-product-id": "5", "content-type": "application/octet-stream"}';
SELECT product_image.postgrest_save_image(fx('rgb.png')) > 0 AS saved;
SELECT product_image.product_get_image(5) = fx('rgb.png') AS stored_for_header_product;
SELECT product_image.postgrest_put_image_info('{"Description": "via PostgREST"}') ->> 'Description' AS description;
SET request.method = 'GET';
SELECT product_image.postgrest_get_image() = fx('rgb.png') AS got_bytes,
       current_setting('response.headers') AS response_headers;
SELECT product_image.postgrest_get_image_info() ->> 'MimeType' AS mime_type;
-- renditions: the query parameters are the function's arguments
SELECT (product_image.image_info(product_image.postgrest_get_image(w => 8, type => 'gif'))).width AS rendition_width,
       current_setting('response.headers') AS rendition_headers;
SELECT try($$SELECT product_image.postgrest_get_image("ifBlank" => 'Nothing')::text$$) AS bad_blank;
SELECT try($$SELECT product_image.postgrest_get_image(w => 0)::text$$) AS bad_w;

-- Our SQLSTATEs become PostgREST statuses: PT400, PT415, PT413, PT404.
SET request.method = 'POST';
SELECT try($$SELECT product_image.postgrest_save_image(''::bytea)$$) AS empty;
SELECT try($$SELECT product_image.postgrest_save_image(fx('not_image.bmp'))$$) AS not_image;
SELECT try($$SELECT product_image.postgrest_save_image(substring(fx('rgb.png') from 1 for 30))$$) AS corrupt;
SELECT try($$SELECT product_image.postgrest_save_image(fx('bomb.png'))$$) AS bomb;
SELECT try($$SELECT product_image.postgrest_put_image_info('[1]')$$) AS bad_info;
SET request.headers = '{"x-product-id": "999"}';
SELECT try($$SELECT product_image.postgrest_save_image(fx('rgb.png'))$$) AS missing_product;
SELECT try($$SELECT product_image.postgrest_get_image()::text$$) AS no_image;
SELECT octet_length(product_image.postgrest_get_image(w => 32, "ifBlank" => 'SrNoPhoto')) > 0 AS placeholder,
       current_setting('response.headers') AS placeholder_headers;
SELECT try($$SELECT product_image.postgrest_get_image_info()::text$$) AS no_info;
SELECT try($$SELECT product_image.postgrest_put_image_info('{}')::text$$) AS put_no_image;
SET request.headers = '{"x-product-id": "abc"}';
SELECT try($$SELECT product_image.postgrest_save_image(fx('rgb.png'))$$) AS bad_id;
SET request.headers = '{"x-product-id": "99999999999"}';
SELECT try($$SELECT product_image.postgrest_get_image()::text$$) AS id_overflow;
RESET request.headers;
SELECT try($$SELECT product_image.postgrest_save_image(fx('rgb.png'))$$) AS no_header;

-- Delete through the wrapper.
SET request.headers = '{"x-product-id": "5"}';
SELECT product_image.postgrest_delete_image() AS deleted, product_image.postgrest_delete_image() AS again;
RESET request.headers;
RESET request.method;
