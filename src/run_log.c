/*
 * run_log.c
 *		kpr.collect's run rows, written in transactions of their own: the
 *		SQL-callable side, kpr._record_run_start and kpr._record_run_failure.
 *
 * A collect that fails must leave a record of why, although its own
 * transaction is rolled back, and a run must be visible as running while it
 * runs.  So the start of a run and its failure are written by a worker that
 * connects to the caller's database, takes the caller's role, runs the
 * statement in a transaction of its own, commits, and sends back the run id
 * (the task "recording a collect run", record_run.c).  The success of a run
 * is written by collect itself, in the transaction that writes the history,
 * so that the two commit or vanish together.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"

#include "tasks.h"

PG_FUNCTION_INFO_V1(kpr_record_run_start);
PG_FUNCTION_INFO_V1(kpr_record_run_failure);

static KprRequest *
run_log_request(const char *server_name, const char *action)
{
	KprRequest *request = kpr_new_request("recording a collect run");

	/* no user mapping is needed: the worker acts as the current role */
	request->server_name = pstrdup(server_name);
	kpr_request_add_argument(request, "action", pstrdup(action));
	kpr_request_add_argument(request, "role_id", psprintf("%u", GetUserId()));
	return request;
}

/*
 * kpr._record_run_start(server text, metrics_source text, first_day date,
 *						 last_day date) RETURNS TABLE (run_id bigint, status text)
 */
Datum
kpr_record_run_start(PG_FUNCTION_ARGS)
{
	KprRequest *request;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("server name must not be NULL")));
	request = run_log_request(text_to_cstring(PG_GETARG_TEXT_PP(0)), "start");
	if (!PG_ARGISNULL(1))
		kpr_request_add_argument(request, "metrics_source", text_to_cstring(PG_GETARG_TEXT_PP(1)));
	if (!PG_ARGISNULL(2))
		kpr_request_add_argument(request, "first_day",
					 DatumGetCString(DirectFunctionCall1(date_out, PG_GETARG_DATUM(2))));
	if (!PG_ARGISNULL(3))
		kpr_request_add_argument(request, "last_day",
					 DatumGetCString(DirectFunctionCall1(date_out, PG_GETARG_DATUM(3))));
	kpr_run_in_worker(fcinfo, request);
	return (Datum) 0;
}

/*
 * kpr._record_run_failure(run_id bigint, error text)
 *		RETURNS TABLE (run_id bigint, status text): no row if the run was not running
 */
Datum
kpr_record_run_failure(PG_FUNCTION_ARGS)
{
	KprRequest *request;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("run_id and error must not be NULL")));
	request = run_log_request("", "fail");
	kpr_request_add_argument(request, "run_id", psprintf(INT64_FORMAT, PG_GETARG_INT64(0)));
	kpr_request_add_argument(request, "error", text_to_cstring(PG_GETARG_TEXT_PP(1)));
	kpr_run_in_worker(fcinfo, request);
	return (Datum) 0;
}
