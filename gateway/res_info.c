/*
 * res_info.c
 *		/api/v1/Product/{id}/ImageInfo: GET (product_get_image_info) and PUT
 *		(product_put_image_info).  The database answers a BlobEntity record
 *		(statements.c) whose columns are in the order .NET's
 *		DataContractSerializer reads them; one serializer writes that record
 *		as JSON (jansson) or XML.
 */
#include "resources.h"
#include "call.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INT4OID 23
#define INT8OID 20
#define BOOLOID 16

static const char blob_entity_open[] = "<BlobEntity xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" "
	"xmlns=\"http://schemas.datacontract.org/2004/07/SuperOffice.WebApi.Data\">";

/* Column 0 is the ImageInfo's ETag; the record follows. */

/* Row 0 of res as a JSON object, its columns in order, typed as the record types them. */
static char *
record_json(PGresult *res, size_t *len)
{
	json_t	   *obj = json_object();
	char	   *out;

	if (obj == NULL)
		return NULL;
	for (int c = 1; c < PQnfields(res); c++)
	{
		const char *v = PQgetvalue(res, 0, c);
		json_t	   *j;

		if (PQgetisnull(res, 0, c))
			j = json_null();
		else if (PQftype(res, c) == INT4OID || PQftype(res, c) == INT8OID)
			j = json_integer(strtoll(v, NULL, 10));
		else if (PQftype(res, c) == BOOLOID)
			j = json_boolean(v[0] == 't');
		else
			j = json_stringn(v, (size_t) PQgetlength(res, 0, c));
		if (j == NULL || json_object_set_new(obj, PQfname(res, c), j) != 0)
		{
			json_decref(obj);
			return NULL;
		}
	}
	out = json_dumps(obj, JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (out)
		*len = strlen(out);
	return out;
}

/* Row 0 of res as a DataContract BlobEntity: one element per column, in order. */
static char *
record_xml(PGresult *res, size_t *len)
{
	char	   *buf = NULL;
	size_t		n = 0;
	FILE	   *f = open_memstream(&buf, &n);

	if (f == NULL)
		return NULL;
	fputs(blob_entity_open, f);
	for (int c = 1; c < PQnfields(res); c++)
	{
		const char *name = PQfname(res, c);

		if (PQgetisnull(res, 0, c))
			fprintf(f, "<%s i:nil=\"true\"/>", name);
		else if (PQftype(res, c) == BOOLOID)
			fprintf(f, "<%s>%s</%s>", name, PQgetvalue(res, 0, c)[0] == 't' ? "true" : "false", name);
		else
		{
			char	   *v = gw_xml_escape(PQgetvalue(res, 0, c));

			fprintf(f, "<%s>%s</%s>", name, v ? v : "", name);
			free(v);
		}
	}
	fputs("</BlobEntity>", f);
	if (fclose(f) != 0)
	{
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static enum MHD_Result
reply_record(struct MHD_Connection *conn, gw_request *r, PGresult *res)
{
	size_t		len = 0;
	char	   *body;
	char		etag[48];

	if (PQntuples(res) != 1)
	{
		PQclear(res);
		return gw_fail_no_image(conn, r);
	}
	/* one ETag for the JSON and the XML of one ImageInfo: what If-Match compares */
	snprintf(etag, sizeof(etag), "\"%.40s\"", PQgetvalue(res, 0, 0));
	body = r->fmt == GW_FMT_XML ? record_xml(res, &len) : record_json(res, &len);
	PQclear(res);
	if (body == NULL)
		return MHD_NO;
	if (gw_reply_header(r, MHD_HTTP_HEADER_ETAG, etag) != 0)
	{
		free(body);
		return MHD_NO;
	}
	return gw_send_buffer(conn, r, 200, gw_ctype_of(r->fmt), body, len, MHD_RESPMEM_MUST_FREE, NULL);
}

enum MHD_Result
gw_info_get(struct MHD_Connection *conn, gw_request *r)
{
	const char *values[2] = {r->id, r->auth.timezone ? "true" : "false"};
	PGresult   *res = NULL;
	gw_error	err = {0};

	if (gw_call(&gw_statements[ST_INFO], &r->auth, values, NULL, NULL, 0, &res, &err) != 0)
		return gw_send_error(conn, r, &err, NULL);
	return reply_record(conn, r, res);
}

enum MHD_Result
gw_info_put(struct MHD_Connection *conn, gw_request *r)
{
	char	   *im = gw_etag_list(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MATCH));
	const char *values[4] = {r->id, NULL, r->auth.timezone ? "true" : "false", im};
	PGresult   *res = NULL;
	gw_error	err = {0};
	char	   *text;
	int			rc;

	if (r->body_len == 0 || memchr(r->body, '\0', r->body_len) != NULL)
	{
		free(im);
		return r->body_len == 0 ? gw_fail(conn, r, 400, "22023", "ImageInfo is missing from body.", NULL, NULL)
			: gw_fail(conn, r, 400, "22P02", "ImageInfo body contains a NUL byte", NULL, NULL);
	}
	text = strndup((const char *) r->body, r->body_len);
	if (text == NULL)
	{
		free(im);
		return MHD_NO;
	}
	values[1] = text;
	rc = gw_call(&gw_statements[im ? ST_PUT_INFO_IF : ST_PUT_INFO], &r->auth, values, NULL, NULL, 0,
				 &res, &err);
	free(text);
	free(im);
	if (rc != 0)
		return gw_send_error(conn, r, &err, NULL);
	return reply_record(conn, r, res);
}
