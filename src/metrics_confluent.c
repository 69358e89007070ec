/*
 * metrics_confluent.c
 *		The Confluent Cloud Metrics API source of kpr.fetch_metrics.
 *
 * Six grouped queries per call, whatever the number of topics: the daily
 * totals (P1D) of received_bytes, received_records, sent_bytes and
 * sent_records, and the hourly buckets (PT1H) of received_bytes and
 * sent_bytes, whose largest bucket / 3600 is the day's peak rate.  Each is
 * grouped by metric.topic, filtered on the cluster id, over an interval that
 * starts at a UTC midnight, and followed page by page (next_page_token): the
 * number of requests grows with pages of 1000 topics, never with topics.
 * The queries run concurrently; an expired page token (HTTP 400 on a later
 * page) restarts that query once from its first page, which is harmless
 * because every point sets or maximizes a value.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/datetime.h"
#include "utils/json.h"

#include "confluent_response.h"
#include "kpr_time.h"
#include "metrics.h"
#include "url_encode.h"

#define DEFAULT_METRICS_URL		"https://api.telemetry.confluent.cloud"
#define QUERY_PATH				"/v2/metrics/cloud/query"
#define GROUPS_PER_PAGE			1000
#define MAX_PAGES_PER_QUERY		10000
#define REQUESTS_IN_FLIGHT		4
#define SERVICE					"Confluent Metrics API"

typedef struct ConfluentQuery
{
	const char *metric;			/* without the io.confluent.kafka.server/ prefix */
	const char *granularity;
	KprMeasure	measure;
	char	   *body;			/* the same for every page */
	int			pages;			/* received */
	bool		restarted;		/* after an expired page token */
	KprTrafficTable *table;
} ConfluentQuery;

static const struct
{
	const char *metric;
	const char *granularity;
	KprMeasure	measure;
}			query_plan[] = {
	{"received_bytes", "P1D", KPR_BYTES_IN},
	{"received_records", "P1D", KPR_RECORDS_IN},
	{"sent_bytes", "P1D", KPR_BYTES_OUT},
	{"sent_records", "P1D", KPR_RECORDS_OUT},
	{"received_bytes", "PT1H", KPR_PEAK_BYTES_IN_PER_SEC},
	{"sent_bytes", "PT1H", KPR_PEAK_BYTES_OUT_PER_SEC},
};

static char *
format_utc(int64 ms)
{
	struct pg_tm tm;
	fsec_t		fsec;
	TimestampTz timestamp = kpr_unix_ms_to_timestamptz(ms);

	if (timestamp2tm(timestamp, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02dZ",
					tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static char *
query_body(const char *metric, const char *granularity, const char *cluster_id,
		   const char *interval)
{
	StringInfoData body;

	initStringInfo(&body);
	appendStringInfo(&body,
					 "{\"aggregations\":[{\"metric\":\"io.confluent.kafka.server/%s\"}],"
					 "\"filter\":{\"field\":\"resource.kafka.id\",\"op\":\"EQ\",\"value\":",
					 metric);
	/* cluster ids are words, but quote them as JSON anyway */
	escape_json(&body, cluster_id);
	appendStringInfo(&body,
					 "},\"granularity\":\"%s\",\"group_by\":[\"metric.topic\"],"
					 "\"intervals\":[\"%s\"],\"limit\":%d,\"format\":\"FLAT\"}",
					 granularity, interval, GROUPS_PER_PAGE);
	return body.data;
}

static void
submit_page(const char *base_url, ConfluentQuery *query,
			const char *page_token)
{
	static const char *const headers[] = {"Content-Type: application/json", "Accept: application/json"};
	KprHttpRequest request = {0};
	StringInfoData url;

	initStringInfo(&url);
	appendStringInfo(&url, "%s%s", base_url, QUERY_PATH);
	if (page_token != NULL)
	{
		char	   *encoded = kpr_url_encode(page_token);

		if (encoded == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		appendStringInfo(&url, "?page_token=%s", encoded);
		free(encoded);
	}
	request.method = "POST";
	request.url = url.data;
	request.body = query->body;
	request.body_length = strlen(query->body);
	request.headers = headers;
	request.header_count = lengthof(headers);
	request.username = kpr_metrics_option("metrics_api_key");
	request.password = kpr_metrics_option("metrics_api_secret");
	request.cookie = query;
	kpr_metrics_http_submit(&request);
	pfree(url.data);
}

static void
store_point(const char *topic, int64_t bucket_start_ms, double value, void *arg)
{
	ConfluentQuery *query = arg;

	if (query->measure == KPR_PEAK_BYTES_IN_PER_SEC || query->measure == KPR_PEAK_BYTES_OUT_PER_SEC)
		kpr_traffic_max(query->table, topic, bucket_start_ms, query->measure, value / 3600.0);
	else
		kpr_traffic_set(query->table, topic, bucket_start_ms, query->measure, value);
}

static char *
describe_query(const ConfluentQuery *query)
{
	return psprintf("the %s query of %s (page %d)", query->granularity, query->metric,
					query->pages + 1);
}

void
kpr_confluent_fetch(const KprMetricsWindow *window, KprTrafficTable *table,
					const char *metadata_cluster_id)
{
	const char *server = kpr_metrics_request()->server_name;
	const char *cluster_id = kpr_metrics_option("cluster_id");
	char	   *base_url = kpr_metrics_base_url(DEFAULT_METRICS_URL);
	ConfluentQuery *queries = palloc0(sizeof(ConfluentQuery) * lengthof(query_plan));
	KprHttpResult *result;
	char	   *interval;

	if (kpr_metrics_option("metrics_api_key") == NULL || kpr_metrics_option("metrics_api_secret") == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("the user mapping of user \"%s\" for server \"%s\" has no Confluent Cloud API key",
						kpr_metrics_request()->user_name, server),
				 errhint("Add a Cloud API key with a metrics role: ALTER USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS (ADD metrics_api_key '...', ADD metrics_api_secret '...').",
						 server)));
	if (cluster_id == NULL)
		cluster_id = metadata_cluster_id;
	if (cluster_id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("the cluster id of server \"%s\" is unknown", server),
				 errdetail("The Kafka cluster's metadata did not name one."),
				 errhint("Set the server option \"cluster_id\" (lkc-...).")));

	for (int m = 0; m < KPR_MEASURE_COUNT; m++)
		kpr_traffic_provides(table, m);
	/* whole minutes: the API's resolution; nothing to ask before the first */
	if (window->end_ms - window->first_day_ms < 60000)
		return;
	interval = psprintf("%s/%s", format_utc(window->first_day_ms),
						format_utc(window->end_ms - window->end_ms % 60000));

	kpr_metrics_http_start(REQUESTS_IN_FLIGHT);
	for (int q = 0; q < (int) lengthof(query_plan); q++)
	{
		queries[q].metric = query_plan[q].metric;
		queries[q].granularity = query_plan[q].granularity;
		queries[q].measure = query_plan[q].measure;
		queries[q].table = table;
		queries[q].body = query_body(queries[q].metric, queries[q].granularity, cluster_id, interval);
		submit_page(base_url, &queries[q], NULL);
	}

	while ((result = kpr_metrics_http_next()) != NULL)
	{
		ConfluentQuery *query = result->cookie;
		char	   *next_page_token = NULL;
		const char *parse_error;
		char		errbuf[256];

		/* an expired page token: the API wants the query from its start */
		if (result->status == KPR_HTTP_HTTP_ERROR && result->http_status == 400 &&
			query->pages > 0 && !query->restarted)
		{
			elog(DEBUG1, "%s: HTTP 400 on page %d, restarting the query", SERVICE, query->pages + 1);
			query->restarted = true;
			query->pages = 0;
			kpr_metrics_http_done(result);
			submit_page(base_url, query, NULL);
			continue;
		}
		if (result->status != KPR_HTTP_OK)
			kpr_metrics_raise_http_error(result, SERVICE, describe_query(query));

		parse_error = kpr_confluent_parse_response(result->body, result->body_length,
												   "metric.topic", store_point, query,
												   &next_page_token, errbuf, sizeof(errbuf));
		if (parse_error != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_REPLY_HANDLE),
					 errmsg("the %s of server \"%s\" sent an unusable answer to %s",
							SERVICE, server, describe_query(query)),
					 errdetail("%s; the response begins: %s", parse_error,
							   kpr_metrics_body_excerpt(result))));
		query->pages++;
		kpr_metrics_http_done(result);
		if (next_page_token != NULL)
		{
			char	   *token = pstrdup(next_page_token);

			free(next_page_token);
			if (query->pages >= MAX_PAGES_PER_QUERY)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_REPLY_HANDLE),
						 errmsg("the %s of server \"%s\" sent more than %d pages for %s",
								SERVICE, server, MAX_PAGES_PER_QUERY, describe_query(query))));
			submit_page(base_url, query, token);
		}
	}
	elog(DEBUG1, "%s on server %s: pages per query: %d %d %d %d %d %d",
		 SERVICE, server, queries[0].pages, queries[1].pages, queries[2].pages,
		 queries[3].pages, queries[4].pages, queries[5].pages);
}
