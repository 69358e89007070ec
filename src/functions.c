/*
 * functions.c
 *		The SQL-callable network functions of schema kpr.
 *
 * Each resolves the server and the caller's user mapping here, in the
 * backend, then runs its task in a background worker (worker.c).
 */
#include "postgres.h"

#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "options.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(kpr_list_topics);
PG_FUNCTION_INFO_V1(kpr_sample_topics);

static void
add_argument(KprRequest *request, const char *name, char *value)
{
	request->arguments = lappend(request->arguments,
								 makeDefElem(pstrdup(name), (Node *) makeString(value), -1));
}

/* The optional topic_filter and include_internal arguments (NULL: the server's). */
static void
add_topic_selection(KprRequest *request, FunctionCallInfo fcinfo,
					int filter_argument, int internal_argument)
{
	if (!PG_ARGISNULL(filter_argument))
	{
		char	   *filter = text_to_cstring(PG_GETARG_TEXT_PP(filter_argument));

		kpr_check_topic_patterns("argument topic_filter", filter,
								 ERRCODE_INVALID_PARAMETER_VALUE);
		add_argument(request, "topic_filter", filter);
	}
	if (!PG_ARGISNULL(internal_argument))
		add_argument(request, "include_internal",
					 pstrdup(PG_GETARG_BOOL(internal_argument) ? "true" : "false"));
}

static KprRequest *
new_request(KprTask task, FunctionCallInfo fcinfo)
{
	KprRequest *request = palloc0(sizeof(KprRequest));

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("server name must not be NULL")));
	request->task = task;
	request->kafka_timeout_ms = kpr_kafka_timeout_ms;
	request->max_workers = kpr_max_workers;
	request->client_min_messages = client_min_messages;
	kpr_resolve_server(NameStr(*PG_GETARG_NAME(0)), request);
	return request;
}

/*
 * kpr.list_topics(server name, topic_filter text, include_internal boolean)
 */
Datum
kpr_list_topics(PG_FUNCTION_ARGS)
{
	KprRequest *request = new_request(KPR_TASK_LIST_TOPICS, fcinfo);

	add_topic_selection(request, fcinfo, 1, 2);
	kpr_run_in_worker(fcinfo, request);
	return (Datum) 0;
}

/*
 * kpr.sample_topics(server name, days int, max_records_per_partition int,
 *					 topic_filter text, include_internal boolean)
 */
Datum
kpr_sample_topics(PG_FUNCTION_ARGS)
{
	KprRequest *request = new_request(KPR_TASK_SAMPLE_TOPICS, fcinfo);
	int32		days = PG_ARGISNULL(1) ? 7 : PG_GETARG_INT32(1);
	int32		max_records = PG_ARGISNULL(2) ? 10000 : PG_GETARG_INT32(2);

	if (days < 1 || days > 366)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("days must be between 1 and 366, not %d", days)));
	if (max_records < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_records_per_partition must be at least 1, not %d", max_records)));
	add_argument(request, "days", psprintf("%d", days));
	add_argument(request, "max_records_per_partition", psprintf("%d", max_records));
	add_argument(request, "offset_search", pstrdup(kpr_offset_search_name()));
	add_topic_selection(request, fcinfo, 3, 4);
	kpr_run_in_worker(fcinfo, request);
	return (Datum) 0;
}
