/*
 * run_log.c
 *		kpr.collect's run rows, written in transactions of their own.
 *
 * A collect that fails must leave a record of why, although its own
 * transaction is rolled back, and a run must be visible as running while it
 * runs.  So the start of a run and its failure are written by a worker
 * (worker.c) that connects to the caller's database, takes the caller's
 * role, runs the statement in a transaction of its own, commits, and sends
 * back the run id.  This is the only database access a worker does; the
 * success of a run is written by collect itself, in the transaction that
 * writes the history, so that the two commit or vanish together.
 *
 * Starting a run also closes the runs of that server still marked running:
 * collect calls it holding the server's collect lock, so no such run is
 * alive any more (its session was canceled, its transaction rolled back, or
 * the database server stopped before it could say how it ended).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/snapmgr.h"

#include "run_log.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(kpr_record_run_start);
PG_FUNCTION_INFO_V1(kpr_record_run_failure);

#define STALE_RUN_ERROR \
	"the run ended without saying how: it was canceled or its transaction rolled back, or the database server stopped"

static KprRequest *
run_log_request(const char *server_name, const char *action)
{
	KprRequest *request = palloc0(sizeof(KprRequest));

	request->task = KPR_TASK_RECORD_RUN;
	request->server_name = pstrdup(server_name);
	request->user_name = GetUserNameFromId(GetUserId(), false);
	request->kafka_timeout_ms = kpr_kafka_timeout_ms;
	request->max_workers = kpr_max_workers;
	request->client_min_messages = client_min_messages;
	request->database_id = MyDatabaseId;
	/* the worker logs in as the session user and acts as the current role */
	request->user_id = GetSessionUserId();
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

/* Run one statement with text parameters; returns SPI's result code. */
static int
execute(const char *sql, int nargs, const char *const *values)
{
	Oid			types[8];
	Datum		datums[8];
	char		nulls[8];

	Assert(nargs <= lengthof(types));
	for (int i = 0; i < nargs; i++)
	{
		types[i] = TEXTOID;
		datums[i] = values[i] ? CStringGetTextDatum(values[i]) : (Datum) 0;
		nulls[i] = values[i] ? ' ' : 'n';
	}
	return SPI_execute_with_args(sql, nargs, types, datums, nulls, false, 0);
}

/* Worker side of KPR_TASK_RECORD_RUN. */
void
kpr_run_log_execute(KprRequest *request)
{
	const char *action = kpr_request_get(request->arguments, "action");
	Oid			role = atooid(kpr_request_get(request->arguments, "role_id"));
	const char *row[2] = {NULL, NULL};
	int			result;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	/* the caller's role: its privileges, and run_by */
	SetUserIdAndSecContext(role, SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "kpr.collect: recording a run");

	if (strcmp(action, "start") == 0)
	{
		const char *values[4] = {
			request->server_name,
			kpr_request_get(request->arguments, "metrics_source"),
			kpr_request_get(request->arguments, "first_day"),
			kpr_request_get(request->arguments, "last_day"),
		};
		const char *stale[2] = {request->server_name, STALE_RUN_ERROR};

		result = execute("UPDATE kpr.collection_runs"
						 "   SET status = 'failed', finished_at = greatest(clock_timestamp(), started_at),"
						 "       error = $2"
						 " WHERE server = $1 AND status = 'running'", 2, stale);
		if (result != SPI_OK_UPDATE)
			elog(ERROR, "closing stale runs failed: SPI result %d", result);
		result = execute("INSERT INTO kpr.collection_runs (server, metrics_source, first_day, last_day)"
						 " VALUES ($1, $2, $3::date, $4::date) RETURNING run_id::text, status", 4, values);
		if (result != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
			elog(ERROR, "recording the run failed: SPI result %d", result);
	}
	else
	{
		const char *values[2] = {
			kpr_request_get(request->arguments, "run_id"),
			kpr_request_get(request->arguments, "error"),
		};

		result = execute("UPDATE kpr.collection_runs"
						 "   SET status = 'failed', finished_at = greatest(clock_timestamp(), started_at),"
						 "       error = $2"
						 " WHERE run_id = $1::bigint AND status = 'running'"
						 " RETURNING run_id::text, status", 2, values);
		if (result != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "recording the failure failed: SPI result %d", result);
	}
	if (SPI_processed == 1)
	{
		row[0] = pstrdup(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
		row[1] = pstrdup(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	if (row[0] != NULL)
		kpr_worker_send_row(2, row);
}
