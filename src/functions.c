/*
 * functions.c
 *		The SQL-callable network functions of schema kpr.
 *
 * Each resolves the server and the caller's user mapping here, in the
 * backend, then runs its task in a background worker (worker.c).
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "kpr_time.h"
#include "metrics_sources.h"
#include "settings.h"
#include "tasks.h"
#include "topic_filter.h"

PG_FUNCTION_INFO_V1(kpr_list_topics);
PG_FUNCTION_INFO_V1(kpr_sample_topics);
PG_FUNCTION_INFO_V1(kpr_fetch_metrics);
PG_FUNCTION_INFO_V1(kpr_fetch_partition_metrics);
PG_FUNCTION_INFO_V1(kpr_cluster_info);
PG_FUNCTION_INFO_V1(kpr_list_consumer_groups);

/* days the Confluent Metrics API keeps: today and the 6 complete days before */
#define CONFLUENT_RETENTION_DAYS	7

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
		kpr_request_add_argument(request, "topic_filter", filter);
	}
	if (!PG_ARGISNULL(internal_argument))
		kpr_request_add_argument(request, "include_internal",
					 pstrdup(PG_GETARG_BOOL(internal_argument) ? "true" : "false"));
}

/* The request for task on the server named by the first argument. */
static KprRequest *
new_request(const char *task, FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("server name must not be NULL")));
	return kpr_new_server_request(task, NameStr(*PG_GETARG_NAME(0)));
}

/*
 * kpr.list_topics(server name, topic_filter text, include_internal boolean)
 */
Datum
kpr_list_topics(PG_FUNCTION_ARGS)
{
	KprRequest *request = new_request("list_topics", fcinfo);

	add_topic_selection(request, fcinfo, 1, 2);
	kpr_run_in_worker(fcinfo, request);
	return (Datum) 0;
}

/*
 * kpr.cluster_info(server name)
 */
Datum
kpr_cluster_info(PG_FUNCTION_ARGS)
{
	kpr_run_in_worker(fcinfo, new_request("cluster_info", fcinfo));
	return (Datum) 0;
}

/*
 * kpr.list_consumer_groups(server name, group_filter text)
 */
Datum
kpr_list_consumer_groups(PG_FUNCTION_ARGS)
{
	KprRequest *request = new_request("list_consumer_groups", fcinfo);

	if (!PG_ARGISNULL(1))
	{
		char	   *filter = text_to_cstring(PG_GETARG_TEXT_PP(1));

		kpr_check_group_patterns("argument group_filter", filter, ERRCODE_INVALID_PARAMETER_VALUE);
		kpr_request_add_argument(request, "group_filter", filter);
	}
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
	KprRequest *request = new_request("sample_topics", fcinfo);
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
	kpr_request_add_argument(request, "days", psprintf("%d", days));
	kpr_request_add_argument(request, "max_records_per_partition", psprintf("%d", max_records));
	kpr_request_add_argument(request, "offset_search", pstrdup(kpr_offset_search_name()));
	kpr_request_add_argument(request, "sample_seek_cost", psprintf("%d", kpr_sample_seek_cost));
	kpr_request_add_argument(request, "sample_slice_partitions",
							 psprintf("%d", kpr_sample_slice_partitions));
	kpr_request_add_argument(request, "sample_full_read_records",
							 psprintf("%d", kpr_sample_full_read_records));
	kpr_request_add_argument(request, "out_of_order_threshold",
							 psprintf("%.17g", kpr_out_of_order_threshold));
	add_topic_selection(request, fcinfo, 3, 4);
	kpr_run_in_worker(fcinfo, request);
	return (Datum) 0;
}

/* YYYY-MM-DD whatever DateStyle says: days in messages are UTC days. */
static char *
date_text(DateADT day)
{
	return kpr_day_text(day * KPR_MS_PER_DAY + KPR_POSTGRES_EPOCH_UNIX_MS);
}

/*
 * The arguments of kpr.fetch_metrics and kpr.fetch_partition_metrics
 * (server name, first_day date, last_day date, topic_filter text,
 * include_internal boolean).
 *
 * The day range is checked here, before a worker starts: in order, not in
 * the future (today, UTC, is allowed and ends now), and within what the
 * Confluent Metrics API keeps.
 */
static void
add_metrics_window(KprRequest *request, FunctionCallInfo fcinfo)
{
	TimestampTz now = GetCurrentTimestamp();
	DateADT		today = (DateADT) (now / USECS_PER_DAY);
	DateADT		first_day;
	DateADT		last_day;
	const char *source = kpr_request_option(request, "metrics_source");
	int64		end_ms;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("first_day and last_day must not be NULL")));
	first_day = PG_GETARG_DATEADT(1);
	last_day = PG_GETARG_DATEADT(2);
	if (DATE_NOT_FINITE(first_day) || DATE_NOT_FINITE(last_day))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("first_day and last_day must be finite dates")));
	if (first_day > last_day)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("first_day %s is after last_day %s", date_text(first_day), date_text(last_day)),
				 errhint("Give the earlier day first.")));
	if (last_day > today)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("last_day %s is in the future", date_text(last_day)),
				 errdetail("Today is %s in UTC; days are UTC days, and today's numbers end now.",
						   date_text(today))));
	if (last_day - first_day >= 366)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at most 366 days can be fetched at once, not %d", last_day - first_day + 1)));
	if (!kpr_metrics_source_is_http(source))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("server \"%s\" has no metrics source to fetch from", request->server_name),
				 errdetail("Its option \"metrics_source\" is %s.",
						   source ? psprintf("'%s'", source) : "not set"),
				 errhint("Set metrics_source to " KPR_HTTP_SOURCE_LIST "; for a cluster without either, use kpr.sample_topics.")));
	if (strcmp(source, KPR_SOURCE_CONFLUENT) == 0 && first_day <= today - CONFLUENT_RETENTION_DAYS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("first_day %s is older than the Confluent Metrics API keeps", date_text(first_day)),
				 errdetail("The API keeps %d days of data, so the oldest complete day it still has is %s.",
						   CONFLUENT_RETENTION_DAYS, date_text(today - CONFLUENT_RETENTION_DAYS + 1)),
				 errhint("Collect daily (see kpr.collect and pg_cron) to build a longer history.")));

	end_ms = Min((last_day + 1) * KPR_MS_PER_DAY, now / 1000) + KPR_POSTGRES_EPOCH_UNIX_MS;
	kpr_request_add_argument(request, "first_day_ms", psprintf(INT64_FORMAT, first_day * KPR_MS_PER_DAY + KPR_POSTGRES_EPOCH_UNIX_MS));
	kpr_request_add_argument(request, "days", psprintf("%d", last_day - first_day + 1));
	kpr_request_add_argument(request, "end_ms", psprintf(INT64_FORMAT, end_ms));
	kpr_request_add_argument(request, "http_timeout_ms", psprintf("%d", kpr_http_timeout_ms));
	if (StatementTimeout > 0)
		kpr_request_add_argument(request, "statement_deadline",
					 psprintf(INT64_FORMAT, GetCurrentStatementStartTimestamp() +
							  (int64) StatementTimeout * 1000));
	add_topic_selection(request, fcinfo, 3, 4);
}

/* kpr.fetch_metrics: per topic and day. */
Datum
kpr_fetch_metrics(PG_FUNCTION_ARGS)
{
	KprRequest *request = new_request("fetch_metrics", fcinfo);

	add_metrics_window(request, fcinfo);
	kpr_run_in_worker(fcinfo, request);
	return (Datum) 0;
}

/* kpr.fetch_partition_metrics: per topic, day and partition. */
Datum
kpr_fetch_partition_metrics(PG_FUNCTION_ARGS)
{
	KprRequest *request = new_request("fetch_partition_metrics", fcinfo);

	add_metrics_window(request, fcinfo);
	kpr_run_in_worker(fcinfo, request);
	return (Datum) 0;
}
