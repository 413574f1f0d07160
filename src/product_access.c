/*
 * product_access.c
 *		Who may touch which image, and the extension's own statements made
 *		immune to what the caller controls.
 *
 * The model (README, Permissions): a role may do with an image what its
 * EXECUTE grants on our functions allow, for the products its SELECT on the
 * attached product table (with that table's row-level security) shows it.
 * No role needs a right on product_image's tables: every entry point
 *	1. pins search_path to "pg_catalog, pg_temp" for its whole run (PiEnter),
 *	   so no operator, function, type or collation the caller created, and no
 *	   search_path the caller set, takes part in our statements;
 *	2. asks, as the caller, whether the product is visible (PiProductVisible):
 *	   a plain SELECT on the product table, so GRANTs and RLS decide;
 *	3. runs its statements on product_image's tables as the owner of
 *	   product_image.blob (PiRunAsOwner), the way PostgreSQL's foreign-key
 *	   triggers switch to the table owner, in a security-restricted operation.
 * Plans are prepared under the pinned search_path and every name in them is
 * schema-qualified; a plan replanned later is replanned under it too.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "product_image.h"

/* The attached product table, read from product_image.config once per backend. */
static PiProduct product;
static SPIPlanPtr config_plan = NULL;
static SPIPlanPtr visible_plan = NULL;

/* Relcache callback: forget the registration when the product table changes. */
static void
ProductInvalidate(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == product.relid)
		product.valid = false;
}

void
PiInitAccess(void)
{
	CacheRegisterRelcacheCallback(ProductInvalidate, (Datum) 0);
}

int
PiEnter(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return level;
}

void
PiLeave(int level)
{
	AtEOXact_GUC(false, level);
}

/*
 * Prepare and keep a plan, or fail.  Always a generic plan: a custom plan
 * would fold the parameters into constants, copying the image into the plan
 * (several times: the bench measured 7x the image's size in backend memory).
 */
SPIPlanPtr
PrepareKept(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/* A relation's owner. */
static Oid
RelOwner(Oid rel)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", rel);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* The owner of product_image.blob: whom our statements on our tables run as. */
static Oid
Owner(void)
{
	Oid			rel = get_relname_relid("blob", get_namespace_oid("product_image", false));

	if (!OidIsValid(rel))
		elog(ERROR, "table product_image.blob is missing");
	return RelOwner(rel);
}

/* Run a plan as user, in a security-restricted operation. */
static int
RunAs(Oid user, SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count)
{
	Oid			save_userid;
	int			save_sec;
	int			rc;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(user, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	rc = SPI_execute_plan(plan, values, nulls, read_only, count);
	SetUserIdAndSecContext(save_userid, save_sec);
	return rc;
}

int
PiRunAsOwner(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count)
{
	return RunAs(Owner(), plan, values, nulls, read_only, count);
}

/*
 * Run a plan on the product table as that table's owner, never as ours: its
 * owner controls the table (its types, casts, and whatever a future
 * PostgreSQL runs for a SELECT), so nothing of the table may run with more
 * rights than the owner's own.
 */
int
PiRunAsProductOwner(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count)
{
	return RunAs(RelOwner(PiGetProduct()->relid), plan, values, nulls, read_only, count);
}

const PiProduct *
PiGetProduct(void)
{
	MemoryContext old;
	Oid			relid,
				nspid;
	char	   *key,
			   *relname,
			   *nspname;
	bool		isnull;
	int			rc;
	Oid			argtypes[] = {INT8OID};
	StringInfoData sql;

	if (product.valid)
		return &product;
	if (config_plan == NULL)
		config_plan = PrepareKept("SELECT c.product_table::pg_catalog.oid, c.product_key::pg_catalog.text "
								  "FROM product_image.config c", 0, NULL);
	rc = PiRunAsOwner(config_plan, NULL, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading product_image.config failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no product table is attached"),
				 errhint("Call product_image.attach('your_product_table') first.")));
	relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	relname = get_rel_name(relid);
	nspid = get_rel_namespace(relid);
	nspname = OidIsValid(nspid) ? get_namespace_name(nspid) : NULL;
	if (relname == NULL || nspname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the attached product table no longer exists"),
				 errhint("Call product_image.attach() with the product table.")));
	/*
	 * Still a plain table keyed by a built-in integer (its owner may have
	 * changed either since attach): our statements compare the key with
	 * built-in operators only, so no cast or operator of the owner's runs.
	 */
	{
		AttrNumber	att = get_attnum(relid, key);
		Oid			type = att == InvalidAttrNumber ? InvalidOid : get_atttype(relid, att);

		if (get_rel_relkind(relid) != RELKIND_RELATION ||
			(type != INT2OID && type != INT4OID && type != INT8OID))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the attached product table is no longer a table keyed by \"%s\" of type smallint, integer or bigint",
							key),
					 errhint("Restore the key's type, or call product_image.attach() again.")));
	}

	old = MemoryContextSwitchTo(TopMemoryContext);
	if (product.qualified)
		pfree(product.qualified);
	if (product.key)
		pfree(product.key);
	product.qualified = pstrdup(quote_qualified_identifier(nspname, relname));
	product.key = pstrdup(quote_identifier(key));
	MemoryContextSwitchTo(old);
	product.relid = relid;
	product.generation++;

	if (visible_plan)
		SPI_freeplan(visible_plan);
	visible_plan = NULL;
	/* bigint: the key is smallint, integer or bigint; = (int8, int8) is exact */
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT 1 FROM %s WHERE %s OPERATOR(pg_catalog.=) $1::pg_catalog.int8",
					 product.qualified, product.key);
	visible_plan = PrepareKept(sql.data, 1, argtypes);
	product.valid = true;
	return &product;
}

bool
PiProductVisible(int64 product_id)
{
	Datum		arg = Int64GetDatum(product_id);
	int			rc;

	(void) PiGetProduct();
	rc = SPI_execute_plan(visible_plan, &arg, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading the product table failed: %s", SPI_result_code_string(rc));
	return SPI_processed > 0;
}

Datum
PiCallerName(void)
{
	return DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
}

/*
 * A varlena from an SPI result, detoasted once straight into the context
 * SPI_palloc allocates in (the one current at SPI_connect), so it outlives
 * SPI_finish: one copy, however large the image.
 */
bytea *
PiCopyOut(Datum varlena)
{
	void	   *probe = SPI_palloc(1);
	MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext(probe));
	bytea	   *out = (bytea *) PG_DETOAST_DATUM_COPY(varlena);

	MemoryContextSwitchTo(old);
	pfree(probe);
	return out;
}

/* An If-Match / If-None-Match the stored image does not meet: PI412 (HTTP 412). */
void
PiPreconditionFailed(int32 product_id)
{
	ereport(ERROR,
			(errcode(MAKE_SQLSTATE('P', 'I', '4', '1', '2')),
			 errmsg("the image of product %d is not the one the condition names", product_id),
			 errhint("If-Match names the ETag the stored image must have; If-None-Match: * asks that there be none.")));
}
