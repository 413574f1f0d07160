-- Renditions: product_get_image(id, w, h, type, if_blank), render(), the cache.
\copy fixture FROM PROGRAM 'python3 test/copy_files.py test/fixtures/render'
SELECT product_image.attach('product');
INSERT INTO product SELECT g, 'rendition ' || g FROM generate_series(101, 112) g;
SELECT product_image.product_save_image(101, fx('noise.jpg')) > 0 AS saved,
       product_image.product_save_image(102, fx('half_clear.png')) > 0,
       product_image.product_save_image(103, fx('anim_red_blue.gif')) > 0,
       product_image.product_save_image(104, fx('pages_green_red.tif')) > 0,
       product_image.product_save_image(105, fx('cmyk_red.jpg')) > 0,
       product_image.product_save_image(106, fx('deep16.png')) > 0,
       product_image.product_save_image(107, fx('orient6.jpg')) > 0,
       product_image.product_save_image(108, fx('tiny.png')) > 0;

-- r(id, w, h, type): what the rendition decodes to
CREATE FUNCTION r(id int, w int, h int, t text, b text DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
SELECT CASE WHEN x.image IS NULL THEN 'NULL'
            ELSE format('%s %sx%s ch=%s bits=%s alpha=%s frames=%s | %s %sx%s',
                        i.format, i.width, i.height, i.channels, i.bit_depth, i.has_alpha, i.frames,
                        x.mime_type, x.width, x.height) END
FROM product_image.product_get_image_rendition(id, w, h, t, b) x
LEFT JOIN LATERAL product_image.image_info(x.image) i ON true
$$;

-- No w, h or type: the stored bytes, the stored type, the sha256 as ETag.
SELECT image = fx('noise.jpg') AS stored_bytes, mime_type, etag = encode(sha256(fx('noise.jpg')), 'hex') AS etag_is_sha256
FROM product_image.product_get_image_rendition(101);
SELECT product_image.product_get_image(101, NULL, NULL, NULL, NULL) = fx('noise.jpg') AS five_arg_stored;

-- Fit inside w x h keeping the aspect ratio; one side alone fixes the other; never upscale.
SELECT r(101, 64, 64, NULL) AS box, r(101, 64, NULL, NULL) AS w_only, r(101, NULL, 120, NULL) AS h_only;
SELECT r(101, 4000, 4000, NULL) AS no_upscale, r(108, 100, 100, 'png') AS tiny_stays;
-- Conversions: any type to any; TIFF to PNG by default; first frame, first page.
SELECT r(101, 32, 32, 'PNG') AS jpeg_to_png, r(101, 32, 32, 'gif') AS jpeg_to_gif, r(102, 30, 30, 'Jpeg') AS png_to_jpeg;
SELECT r(104, 25, 25, NULL) AS tiff_first_page_png, r(103, 20, 20, NULL) AS gif_first_frame;
SELECT r(102, 30, 30, NULL) AS png_alpha_kept, r(102, 30, 30, 'gif') AS gif_alpha_kept;
SELECT r(105, 32, 32, NULL) AS cmyk_to_rgb, r(106, 50, 50, NULL) AS bits16_to_8;
-- EXIF orientation 6: stored 32x48, shown 48x32
SELECT r(107, 24, 24, 'png') AS orientation_applied;

-- if_blank when the product has no image (109) or does not exist (999)
SELECT r(109, NULL, NULL, NULL) AS not_given, r(109, NULL, NULL, NULL, 'Default') AS default_,
       r(999, 10, 10, NULL, 'Null') AS null_;
SELECT r(109, NULL, NULL, NULL, 'ClearPixel') AS clear_pixel, r(109, NULL, NULL, 'gif', 'clearpixel') AS clear_gif;
SELECT r(109, 64, 64, NULL, 'SrNoPhoto') AS no_photo, r(109, NULL, NULL, 'jpeg', 'SrNoPhotoWithBorder') AS with_border,
       r(109, 32, NULL, NULL, 'GenericFileIcon') AS file_icon;
SELECT etag FROM product_image.product_get_image_rendition(109, 64, 64, 'png', 'SrNoPhoto');

-- product_get_image_etag: the same ETag and MIME type, without reading or rendering
SELECT bool_and(e.etag IS NOT DISTINCT FROM r.etag AND e.mime_type IS NOT DISTINCT FROM r.mime_type) AS etags_agree
FROM (VALUES (101, NULL::int, NULL::int, NULL::text, NULL::text), (101, 64, 64, NULL, NULL), (104, 25, NULL, NULL, NULL),
             (102, 30, 30, 'gif', NULL), (109, 64, 64, 'jpeg', 'SrNoPhoto'), (109, NULL, NULL, NULL, NULL)) v(id, w, h, t, b),
     product_image.product_get_image_etag(v.id, v.w, v.h, v.t, v.b) e,
     product_image.product_get_image_rendition(v.id, v.w, v.h, v.t, v.b) r;
SET product_image.max_pixels = 1000;
SELECT etag IS NOT NULL AS etag_without_decoding FROM product_image.product_get_image_etag(101, 11, 11, 'png', NULL);
RESET product_image.max_pixels;
-- if_none_match: a listed ETag (or "*") answers without the bytes and without decoding
SELECT etag AS tag FROM product_image.product_get_image_rendition(101, 12, 12, 'png', NULL) \gset
SET product_image.max_pixels = 1000;
SELECT image IS NULL AS not_modified, etag = :'tag' AS same_etag, mime_type
FROM product_image.product_get_image_rendition(101, 12, 12, 'png', NULL, 'x,' || :'tag');
SELECT image IS NULL AS star_not_modified FROM product_image.product_get_image_rendition(109, 8, 8, NULL, 'SrNoPhoto', '*');
RESET product_image.max_pixels;
SELECT image IS NOT NULL AS other_tag_sends_bytes
FROM product_image.product_get_image_rendition(101, 12, 12, 'png', NULL, 'x' || :'tag');

-- What HTTP headers need, in the same call: the bytes' time and the answer's size.
-- An original larger than max_bytes is left unread (image NULL, its size told);
-- not modified: image NULL, not_modified true.  Placeholders have no time.
SELECT octet_length(image) = size AS size_of_bytes, size = octet_length(fx('noise.jpg')) AS original_size,
       modified IS NOT NULL AS has_time
FROM product_image.product_get_image_rendition(101);
SELECT image IS NULL AS left_unread, size = octet_length(fx('noise.jpg')) AS size_told, etag IS NOT NULL AS etag_told,
       NOT not_modified AS modified
FROM product_image.product_get_image_rendition(101, max_bytes => 100);
SELECT image IS NOT NULL AS small_enough FROM product_image.product_get_image_rendition(101, max_bytes => 10000000);
SELECT image IS NOT NULL AS renditions_not_left_unread, size = octet_length(image) AS rendition_size
FROM product_image.product_get_image_rendition(101, 12, 12, max_bytes => 1);
SELECT image IS NULL AND not_modified AS not_modified_flagged, size = octet_length(fx('noise.jpg')) AS original_size_told
FROM product_image.product_get_image_rendition(101, if_none_match => '*', max_bytes => 100);
SELECT image IS NULL AND not_modified AND size IS NULL AS rendition_not_made_no_size
FROM product_image.product_get_image_rendition(101, 12, 12, if_none_match => '*');
SELECT modified IS NULL AS placeholder_no_time, size > 0 AS placeholder_size
FROM product_image.product_get_image_rendition(109, if_blank => 'SrNoPhoto');
-- The time moves with new bytes only: not with an ImageInfo edit, nor a re-save of the same bytes.
SELECT modified AS t0 FROM product_image.product_get_image_rendition(108) \gset
SELECT pg_sleep(0.01);
SELECT product_image.product_put_image_info(108, '{"Description": "edited"}') IS NOT NULL AS info_edited;
SELECT product_image.product_save_image(108, fx('tiny.png')) > 0 AS same_bytes_again;
SELECT modified = :'t0' AS time_kept FROM product_image.product_get_image_rendition(108);
SELECT product_image.product_save_image(108, fx('half_clear.png')) > 0 AS new_bytes;
SELECT modified > :'t0' AS time_moved FROM product_image.product_get_image_rendition(108);
SELECT product_image.product_save_image(108, fx('tiny.png')) > 0 AS restored;

-- Errors: 22023 for sides and names, the decoder's SQLSTATEs for images.
SELECT try($$SELECT product_image.product_get_image(101, 0, 10, NULL, NULL)$$) AS zero_w;
SELECT try($$SELECT product_image.product_get_image(101, 10, 4097, NULL, NULL)$$) AS h_over_max;
SELECT try($$SELECT product_image.product_get_image(101, 10, 10, 'bmp', NULL)$$) AS bad_type;
SELECT try($$SELECT product_image.product_get_image(101, 10, 10, NULL, 'Nothing')$$) AS bad_blank;
SELECT try($$SELECT product_image.render('\x89504e470d0a1a0a'::bytea, 10, 10, NULL)$$) AS truncated;
SELECT try($$SELECT product_image.render('hello'::bytea, 10, 10, NULL)$$) AS not_image;
SELECT try($$SELECT product_image.render(fx('bomb.png'), 10, 10, NULL)$$) AS pixel_bomb;
SET product_image.max_pixels = 1000;
SELECT try($$SELECT product_image.product_get_image(101, 10, 10, 'png', NULL)$$) AS source_over_max_pixels;
RESET product_image.max_pixels;
SET product_image.max_rendition_side = 50;
SELECT try($$SELECT product_image.product_get_image(101, 60, 10, NULL, NULL)$$) AS over_lowered_side;
SELECT r(101, NULL, NULL, 'png') AS type_only_fits_max_side;
RESET product_image.max_rendition_side;
SELECT product_image.render(NULL, 1, 1, NULL) IS NULL AS null_image;
-- product_image.jpeg_quality sets the quality; renditions are baseline JPEGs
SET product_image.jpeg_quality = 20;
SELECT octet_length(product_image.render(fx('noise.jpg'), 200, NULL, 'jpeg')) AS q20 \gset
SET product_image.jpeg_quality = 95;
SELECT octet_length(product_image.render(fx('noise.jpg'), 200, NULL, 'jpeg')) > 2 * :q20 AS q95_much_larger,
       (product_image.image_info(product_image.render(fx('noise.jpg'), 200, NULL, 'jpeg'))).interlaced AS progressive;
RESET product_image.jpeg_quality;
SELECT try($$SET product_image.jpeg_quality = 0$$) AS quality_zero;

-- The cache: filled on first request, hit after, keyed by what is produced
-- (the source's sha256, the rendition's size, type and JPEG quality).
SELECT product_image.rendition_cache_clear() >= 0 AS cleared;
SELECT count(*) AS cached FROM product_image.rendition;
SELECT r(101, 40, 40, NULL) AS first;
SELECT count(*) AS cached, bool_and(bytes = octet_length(data)) AS bytes_match,
       bool_and(source = sha256(fx('noise.jpg'))) AS keyed_by_source, min(w || 'x' || h || ' q' || quality) AS key
FROM product_image.rendition;
-- boxes that give the same picture share one row: a 10 x 8 image asked for at 10..30
SELECT count(DISTINCT r(108, s, s, 'png')) AS answers FROM generate_series(10, 30) s;
SELECT count(*) AS rows_for_21_boxes FROM product_image.rendition WHERE source = sha256(fx('tiny.png'));
-- and an ETag names the picture, not the box
SELECT count(DISTINCT etag) AS etags FROM generate_series(10, 30) s,
       product_image.product_get_image_etag(108, s, s, 'png');
-- product_image.rendition_widths rounds a box up to the next allowed size (superuser)
SET product_image.rendition_widths = '16, 32, 64';
SELECT r(101, 20, NULL, 'png') AS rounded_to_32, r(101, 100, 100, 'png') AS capped_at_64;
SELECT try($$SET product_image.rendition_widths = '64, 32'$$) AS not_ascending;
RESET product_image.rendition_widths;
-- a hit takes no decode: poison the cached bytes (as superuser) and read them back
UPDATE product_image.rendition SET data = '\x0102'::bytea WHERE w = 40;
SELECT image = '\x0102'::bytea AS served_from_cache FROM product_image.product_get_image_rendition(101, 40, 40, NULL, NULL);
-- render => false answers from the cache alone: a hit as always, a miss
-- without image, size or dimensions (a gateway then renders in a slot)
SELECT image = '\x0102'::bytea AS hit_without_render
  FROM product_image.product_get_image_rendition(101, 40, 40, render => false);
SELECT image IS NULL AS miss_not_made, etag IS NOT NULL AS etag_known, size IS NULL AS no_size,
       width IS NULL AS no_width, not_modified
  FROM product_image.product_get_image_rendition(101, 41, 41, render => false);
SELECT count(*) AS nothing_cached FROM product_image.rendition WHERE w = 41;
SET product_image.rendition_cache = off;
SELECT r(101, 40, 40, NULL) AS cache_off_renders;
RESET product_image.rendition_cache;
-- a re-save with other bytes drops the renditions in the same transaction
BEGIN;
SELECT product_image.product_save_image(101, fx('orient1.jpg')) > 0 AS resaved;
SELECT count(*) AS cached_after_resave FROM product_image.rendition r WHERE r.source = sha256(fx('noise.jpg'));
ROLLBACK;
SELECT count(*) AS back_after_rollback FROM product_image.rendition WHERE w = 40;
SELECT product_image.product_save_image(101, fx('noise.jpg')) > 0 AS same_bytes_keep_cache,
       (SELECT count(*) FROM product_image.rendition WHERE w = 40) AS still_cached;
SELECT product_image.product_save_image(101, fx('orient1.jpg')) > 0 AS resaved,
       r(101, 40, 40, NULL) AS new_rendition;
-- deleting the image (or the product) removes its renditions with it
SELECT r(102, 20, 20, NULL) IS NOT NULL AS filled;
BEGIN;
SELECT product_image.product_delete_image(102) AS deleted,
       (SELECT count(*) FROM product_image.rendition r WHERE NOT EXISTS
           (SELECT 1 FROM product_image.blob b WHERE b.sha256 = r.source)) AS orphans;
ROLLBACK;
DELETE FROM product WHERE id = 102;
SELECT count(*) AS orphans
FROM product_image.rendition r WHERE NOT EXISTS (SELECT 1 FROM product_image.blob b WHERE b.sha256 = r.source);

-- Eviction: past rendition_cache_max_bytes the least recently used go first.
SELECT product_image.rendition_cache_clear() >= 0 AS cleared;
SELECT r(106, s, s, 'jpeg') IS NOT NULL AS filled FROM generate_series(150, 154) s;
UPDATE product_image.rendition SET last_used = now() - ((w - 140) || ' minutes')::interval;  -- 154 is the oldest
SELECT set_config('product_image.rendition_cache_max_bytes', (sum(bytes) / 1024) || 'kB', false) <> '' AS bound_set
FROM product_image.rendition;
SELECT r(106, 155, 155, 'jpeg') IS NOT NULL AS one_more;
SELECT sum(bytes) <= pg_size_bytes(current_setting('product_image.rendition_cache_max_bytes')) AS within_bound,
       bool_and(w <> 154) AS oldest_evicted, bool_or(w = 155) AS newest_kept, bool_or(w = 150) AS recent_kept
FROM product_image.rendition;
SET product_image.rendition_cache_max_bytes = 0;
SELECT r(101, 30, 30, 'png') IS NOT NULL AS rendered_uncached;
SELECT count(*) AS nothing_kept FROM product_image.rendition;
RESET product_image.rendition_cache_max_bytes;
-- only superusers may change the cache bound
CREATE ROLE regress_pi_render;
GRANT USAGE ON SCHEMA product_image TO regress_pi_render;
GRANT SELECT ON product TO regress_pi_render;
SET ROLE regress_pi_render;
SELECT try($$SET product_image.rendition_cache_max_bytes = '1GB'$$) AS set_bound;
SELECT try($$SET product_image.max_rendition_side = 10000$$) AS set_side;
-- a reader (SELECT on the product table, no right on product_image's tables) gets
-- renditions and fills the cache, and cannot write or read the cache directly
SELECT r(101, 33, 33, NULL) AS reader_renders;
SELECT try($$INSERT INTO product_image.rendition VALUES (1, '\x00', 1, 1, 'png', 0, '\x00', 1, 1, 1)$$) AS reader_insert;
SELECT try($$SELECT count(*) FROM product_image.rendition$$) AS reader_select;
SELECT try($$SET product_image.jpeg_quality = 1$$) AS set_quality;
RESET ROLE;
-- no SELECT on the product table: 42501
REVOKE SELECT ON product FROM regress_pi_render;
SET ROLE regress_pi_render;
SELECT try($$SELECT image FROM product_image.product_get_image_rendition(101, 33, 33, NULL, NULL)$$) AS no_grant;
RESET ROLE;
SELECT count(*) AS filled_by_reader FROM product_image.rendition WHERE w = 33;
-- in a read-only transaction (or on a standby) renditions are served, not cached
BEGIN READ ONLY;
SELECT r(101, 34, 34, NULL) AS read_only_renders;
COMMIT;
SELECT count(*) AS not_cached_read_only FROM product_image.rendition WHERE w = 34;
REVOKE ALL ON SCHEMA product_image FROM regress_pi_render;
DROP ROLE regress_pi_render;

-- WebP and AVIF renditions (0.5.0): type names them; image_info reads the
-- WebP back (where accept_formats lists it), AVIF's ftyp brand is checked.
SELECT product_image.product_save_image(110, fx('half_clear.png')) > 0 AS saved_alpha;
SET product_image.accept_formats = 'png, jpeg, gif, tiff, webp';
SELECT r(110, 40, NULL, 'webp') AS webp_alpha_kept, r(101, 64, NULL, 'WEBP') AS webp_any_case;
RESET product_image.accept_formats;
SELECT mime_type, width, height, substr(image, 5, 8) = '\x6674797061766966'::bytea AS ftyp_avif,
       octet_length(image) < octet_length(product_image.product_get_image(101, 64, NULL, 'jpeg', NULL)) AS smaller_than_jpeg
  FROM product_image.product_get_image_rendition(101, 64, NULL, 'avif');
-- a distinct ETag per format and quality, each cached
SELECT count(DISTINCT etag) AS etags FROM (VALUES ('jpeg'), ('png'), ('webp'), ('avif')) t(type),
       product_image.product_get_image_rendition(101, 64, NULL, t.type);
SELECT etag ~ '-48x32-q80\.webp$' AS webp_etag FROM product_image.product_get_image_rendition(101, 64, NULL, 'webp');
SET product_image.webp_quality = 50;
SELECT etag ~ '-48x32-q50\.webp$' AS webp_quality_in_etag FROM product_image.product_get_image_rendition(101, 64, NULL, 'webp');
RESET product_image.webp_quality;
SELECT type, quality FROM product_image.rendition WHERE w = 48 AND h = 32 AND type IN ('webp', 'avif') ORDER BY 1, 2;
SELECT try($$SET product_image.webp_quality = 0$$) AS webp_quality_range;

-- Negotiation: a rendition (w or h) without type takes the first of
-- product_image.auto_formats that Accept names explicitly.
CREATE FUNCTION neg(id int, w int, t text, accept text) RETURNS text LANGUAGE sql AS $$
SELECT mime_type FROM product_image.product_get_image_rendition(id, w, NULL, t, accept => accept)
$$;
SELECT neg(101, 64, NULL, 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8') AS chromium,
       neg(101, 64, NULL, 'image/webp,*/*') AS webp_only,
       neg(101, 64, NULL, '*/*') AS any_keeps_source,
       neg(101, 64, NULL, 'image/*') AS image_star_keeps_source,
       neg(101, 64, NULL, NULL) AS no_accept,
       neg(101, 64, 'png', 'image/avif,image/webp') AS type_wins,
       neg(101, NULL, NULL, 'image/avif,image/webp') AS original_never_converted,
       neg(101, 64, NULL, 'image/avif;q=0, image/webp') AS q0_refuses,
       neg(101, 64, NULL, 'IMAGE/AVIF') AS any_case;
-- q's parameter forms (RFC 9110: OWS around ";", empty parameters, Q in any case)
SELECT neg(101, 64, NULL, 'image/avif;;q=0, image/webp') AS empty_param,
       neg(101, 64, NULL, E'image/avif\t;\tq=0, image/webp') AS tabs,
       neg(101, 64, NULL, 'image/avif; Q=0.000, image/webp') AS upper_q,
       neg(101, 64, NULL, 'image/avif;level=1;q=0, image/webp') AS after_other_param,
       neg(101, 64, NULL, 'image/avif;q=0.001') AS q_small_not_zero;
SET product_image.auto_formats = 'webp, avif';
SELECT neg(101, 64, NULL, 'image/avif,image/webp') AS webp_first;
SET product_image.auto_formats = '';
SELECT neg(101, 64, NULL, 'image/avif,image/webp') AS auto_off;
RESET product_image.auto_formats;
SELECT try($$SET product_image.auto_formats = 'avif, bmp'$$) AS auto_unknown,
       try($$SET product_image.auto_formats = 'avif, avif'$$) AS auto_repeated;
-- the ETag names the chosen format: a revalidation with the other's misses
SELECT (SELECT etag FROM product_image.product_get_image_rendition(101, 64, NULL, accept => 'image/avif'))
    <> (SELECT etag FROM product_image.product_get_image_rendition(101, 64, NULL, accept => 'image/webp')) AS etag_per_format;
DROP FUNCTION neg(int, int, text, text);
