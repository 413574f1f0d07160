/*
 * statements.c
 *		Every statement the gateway sends, as data: its SQL, its parameters,
 *		and whether it reads or writes (replica routing).  Each is prepared
 *		once per pooled connection, as the request's role, named gw<slot>.
 */
#include "call.h"

/*
 * SuperOffice's BlobEntity as a record, its fields in the order .NET's
 * DataContractSerializer reads them: ordinal (alphabetical) order, as for a
 * DataContract without explicit Order.  Replies in JSON and XML are both
 * written from this record, so the two always carry the same fields.
 */
#define BLOB_ENTITY_RECORD \
	"x(\"BlobId\" int, \"BlobSize\" int, \"ConceptualType\" text, \"CreatedBy\" text, " \
	"\"CreatedDate\" text, \"Description\" text, \"ExtraInfo\" text, \"Format\" text, " \
	"\"Frames\" int, \"Height\" int, \"IsEncrypted\" bool, \"IsZipped\" bool, \"MimeType\" text, " \
	"\"OriginalSize\" int, \"Sha256\" text, \"UpdatedBy\" text, \"UpdatedDate\" text, \"Width\" int)"

/*
 * A date of the record: as stored (ISO 8601 in UTC, "Z"), or, when the
 * parameter zoned is true, in the transaction's TimeZone (SO-TimeZone) with
 * its offset.
 */
#define ZONED_DATE(col, zoned) \
	"CASE WHEN " zoned "::boolean THEN pg_catalog.to_char(x.\"" col "\"::timestamptz, " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM') ELSE x.\"" col "\" END AS \"" col "\""

/* The ImageInfo's ETag (the md5 of its JSON text, as the If-Match of a PUT checks it), then the record. */
#define BLOB_ENTITY_SELECT(info, zoned) \
	"SELECT pg_catalog.md5(" info "::text) AS etag, x.\"BlobId\", x.\"BlobSize\", x.\"ConceptualType\", " \
	"x.\"CreatedBy\", " ZONED_DATE("CreatedDate", zoned) ", x.\"Description\", x.\"ExtraInfo\", " \
	"x.\"Format\", x.\"Frames\", x.\"Height\", x.\"IsEncrypted\", x.\"IsZipped\", x.\"MimeType\", " \
	"x.\"OriginalSize\", x.\"Sha256\", x.\"UpdatedBy\", " ZONED_DATE("UpdatedDate", zoned) ", x.\"Width\" "

const gw_statement gw_statements[ST_COUNT] = {
	[ST_SAVE] = {ST_SAVE, "SELECT product_image.product_save_image($1::int, $2::bytea)", 2, GW_WRITES},
	/* If-Match / If-None-Match, judged by the database in the write itself (412: PI412) */
	[ST_SAVE_IF] = {ST_SAVE_IF,
	"SELECT product_image.product_save_image($1::int, $2::bytea, $3::text, $4::text)", 4, GW_WRITES},
	/*
	 * GET Image, the original (no w, h, type) or a rendition, in one call
	 * (one snapshot, also on a partition behind a proxy).  Columns: type (from
	 * the decoder's format table), ETag, the time the bytes last changed in
	 * epoch seconds, the image, its size (an original's always, a rendition's
	 * when made), and whether If-None-Match ($6) named the ETag (304, image
	 * NULL).  Image NULL otherwise: an original larger than $7 bytes, to
	 * stream.  No image: no row (404).
	 */
	/*
	 * (The call in a subquery's target list: a function in FROM would have
	 * its row, the image in it, copied into a tuplestore first; measured,
	 * reads of a 36 KB original went from 0.52x to 0.8x a plain SELECT.)
	 */
	[ST_GET_IMAGE] = {ST_GET_IMAGE, "SELECT (s.r).mime_type, (s.r).etag, "
		"pg_catalog.floor(pg_catalog.date_part('epoch', (s.r).modified))::bigint::text, (s.r).image, "
		"(s.r).size::text, (s.r).not_modified::text "
		"FROM (SELECT product_image.product_get_image_rendition($1::int, $2::int, $3::int, $4::text, $5::text, "
		"nullif($6::text, ''), nullif($7::bigint, 0), $8::text, $9::bool) AS r OFFSET 0) AS s "
		"WHERE (s.r).etag IS NOT NULL", 9, GW_READS},
	/* one slice of a streamed image, of the version with that ETag (types as the function has them) */
	[ST_GET_PART] = {ST_GET_PART, "SELECT product_image.product_get_image_part($1, $2, $3, $4)", 4, GW_READS},
	[ST_DELETE] = {ST_DELETE, "SELECT product_image.product_delete_image($1::int)", 1, GW_WRITES},
	[ST_DELETE_IF] = {ST_DELETE_IF, "SELECT product_image.product_delete_image($1::int, $2::text)", 2,
	GW_WRITES},
	/* $2: dates in SO-TimeZone */
	[ST_INFO] = {ST_INFO, BLOB_ENTITY_SELECT("i", "$2")
		"FROM product_image.product_get_image_info($1::int) AS i "
	"CROSS JOIN LATERAL jsonb_to_record(i) AS " BLOB_ENTITY_RECORD " WHERE i IS NOT NULL", 2, GW_READS},
	[ST_PUT_INFO] = {ST_PUT_INFO, "WITH p AS (SELECT product_image.product_put_image_info($1::int, $2::jsonb) AS i) "
		BLOB_ENTITY_SELECT("p.i", "$3") "FROM p CROSS JOIN LATERAL jsonb_to_record(p.i) AS " BLOB_ENTITY_RECORD
	" WHERE p.i IS NOT NULL", 3, GW_WRITES},
	/* $4 If-Match, judged by the database in the update itself (412: PI412) */
	[ST_PUT_INFO_IF] = {ST_PUT_INFO_IF, "WITH p AS (SELECT product_image.product_put_image_info($1::int, "
		"$2::jsonb, $4::text) AS i) "
		BLOB_ENTITY_SELECT("p.i", "$3") "FROM p CROSS JOIN LATERAL jsonb_to_record(p.i) AS " BLOB_ENTITY_RECORD
	" WHERE p.i IS NOT NULL", 4, GW_WRITES},
	/* as the role that logged in with its password ($1: seconds); its id and its role */
	[ST_SESSION_OPEN] = {ST_SESSION_OPEN, "SELECT product_image.session_open($1::int)::text, SESSION_USER", 1,
	GW_NEUTRAL},
	/* as the authenticator */
	[ST_SESSION_CLOSE] = {ST_SESSION_CLOSE, "SELECT product_image.session_close($1::uuid)", 1, GW_NEUTRAL},
	/* the request's role, and whether it may store images */
	[ST_WHOAMI] = {ST_WHOAMI, "SELECT CURRENT_USER::text, coalesce(pg_catalog.has_function_privilege("
		"pg_catalog.to_regprocedure('product_image.product_save_image(integer, bytea)'), 'EXECUTE'), false)",
	0, GW_NEUTRAL},
	[ST_HEALTH] = {ST_HEALTH, "SELECT 1", 0, GW_NEUTRAL},
	/*
	 * Before a body is read: may the request's role call the function at
	 * all?  PostgreSQL judges; a function it does not know lets the call
	 * itself answer.
	 */
	[ST_MAY_CALL] = {ST_MAY_CALL, "SELECT coalesce(pg_catalog.has_function_privilege("
		"pg_catalog.to_regprocedure($1::text), 'EXECUTE'), true)", 1, GW_NEUTRAL},
	/*
	 * Every call's first statement: its statement timeout ($1 ms; NULL: the
	 * database's),
	 * role ($2; "none": the login itself; NULL: kept) and request.headers
	 * ($3, as PostgREST sets it), local to the request's transaction.  A
	 * role the authenticator may not become is refused here (42501, or
	 * 22023 for none such), before anything runs as it.
	 */
	[ST_PRELUDE] = {ST_PRELUDE, "SELECT CASE WHEN $1::text IS NOT NULL THEN "
		"pg_catalog.set_config('statement_timeout', $1, true) END, "
		"CASE WHEN $2::text IS NOT NULL THEN pg_catalog.set_config('role', $2, true) END, "
		"pg_catalog.set_config('request.headers', coalesce($3, ''), true)", 3, GW_NEUTRAL},
	/* a session's role, looked up by the authenticator (28000 when the session is not valid) */
	[ST_SESSION_ROLE] = {ST_SESSION_ROLE, "SELECT pg_catalog.set_config('role', "
	"product_image.session_role($1::uuid), true)", 1, GW_NEUTRAL},
	[ST_CLAIMS] = {ST_CLAIMS, "SELECT pg_catalog.set_config('request.jwt.claims', $1, true)", 1, GW_NEUTRAL},
	/* SO-TimeZone (22023 for a zone PostgreSQL does not know) */
	[ST_TIMEZONE] = {ST_TIMEZONE, "SELECT pg_catalog.set_config('TimeZone', $1, true)", 1, GW_NEUTRAL},
};

_Static_assert(ST_COUNT <= GW_MAX_STATEMENTS, "a connection tracks GW_MAX_STATEMENTS prepared statements");
