/*
 * record_run.c
 *		The task "recording a collect run" (run_log.c starts it): in a
 *		transaction of its own, as the caller's role, it opens a run row of
 *		kpr.collection_runs or marks one failed, and sends back the run id and
 *		status.  The one task that writes to the database.
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
#include "utils/snapmgr.h"

#include "task_entries.h"

#define STALE_RUN_ERROR \
	"the run ended without saying how: it was canceled or its transaction rolled back, or the database server stopped"

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

/* The worker side: the task "recording a collect run". */
void
kpr_task_record_run(const KprRequest *request)
{
	const char *action = kpr_request_argument(request, "action");
	Oid			role = atooid(kpr_request_argument(request, "role_id"));
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
			kpr_request_argument(request, "metrics_source"),
			kpr_request_argument(request, "first_day"),
			kpr_request_argument(request, "last_day"),
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
			kpr_request_argument(request, "run_id"),
			kpr_request_argument(request, "error"),
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
