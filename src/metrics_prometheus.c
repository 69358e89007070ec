/*
 * metrics_prometheus.c
 *		The Prometheus source of kpr.fetch_metrics: per-topic daily totals and
 *		peak 5-minute rates from a Prometheus server's HTTP API.
 *
 * Each day of the window is one instant query per measure
 * (GET /api/v1/query?query=...&time=...) evaluated at the midnight that ends
 * the day, or at the window's end for today so far:
 *
 *	total: sum by (L) (increase(M{L!=""}[1d]))
 *	peak:  max_over_time(sum by (L) (rate(M{L!=""}[5m]))[86399s:5m])
 *
 * with L the server option topic_label and M a *_metric option (default: the
 * JMX exporter's names), or a *_query option instead (see options.c).  These
 * forms are exact on aligned data (test/fixtures/prometheus/README.md): the
 * range [1d] at a midnight holds the day's samples with nothing to
 * extrapolate, and [86399s:5m] holds exactly the 288 five-minute marks
 * inside the day, where [1d:5m] would add the previous day's last window.
 * Today so far uses the elapsed seconds instead of 1d (and one less for the
 * peak's subquery).  The subquery's steps fall on whole five-minute marks
 * of the clock, so the traffic since the last mark would be missed: for
 * today the peak also takes the 5-minute rate at now,
 * sum by (L) (rate(M{L!=""}[5m])), whichever is larger.
 *
 * Before the queries, /api/v1/status/runtimeinfo tells the storage
 * retention; a window older than it is refused rather than answered with
 * zeros for days Prometheus has forgotten.
 *
 * The answers are parsed by prometheus_response.c (PostgreSQL-free, malloc);
 * what it hands over is copied into malloc'd memory by a callback that cannot
 * ereport, and freed in PG_FINALLY, so an error never leaks it.
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "kpr_time.h"
#include "metrics.h"
#include "metrics_prometheus.h"
#include "prometheus_promql.h"
#include "prometheus_response.h"
#include "url_encode.h"

#define SERVICE			"Prometheus server"
/* concurrent queries: enough to hide latency, few enough for a shared server */
#define MAX_IN_FLIGHT	4

/* Where one measure's numbers come from. */
typedef struct MeasureSpec
{
	KprMeasure	measure;
	const char *what;			/* for messages: "bytes-in" */
	const char *query_option;	/* a whole PromQL expression */
	const char *metric_option;	/* the counter (for a peak: of the bytes) */
	const char *default_metric; /* NULL: none without an option */
	const char *total_query_option; /* peaks: the total's query option */
	bool		peak;
} MeasureSpec;

static const MeasureSpec measure_specs[] = {
	{KPR_BYTES_IN, "bytes-in", "bytes_in_query", "bytes_in_metric",
	KPR_PROMQL_DEFAULT_BYTES_IN, NULL, false},
	{KPR_BYTES_OUT, "bytes-out", "bytes_out_query", "bytes_out_metric",
	KPR_PROMQL_DEFAULT_BYTES_OUT, NULL, false},
	{KPR_RECORDS_IN, "records-in", "records_in_query", "records_in_metric",
	KPR_PROMQL_DEFAULT_RECORDS_IN, NULL, false},
	{KPR_RECORDS_OUT, "records-out", "records_out_query", "records_out_metric",
	NULL, NULL, false},
	{KPR_PEAK_BYTES_IN_PER_SEC, "peak bytes-in", "peak_bytes_in_query", "bytes_in_metric",
	KPR_PROMQL_DEFAULT_BYTES_IN, "bytes_in_query", true},
	{KPR_PEAK_BYTES_OUT_PER_SEC, "peak bytes-out", "peak_bytes_out_query", "bytes_out_metric",
	KPR_PROMQL_DEFAULT_BYTES_OUT, "bytes_out_query", true},
};

#define MEASURE_SPEC_COUNT lengthof(measure_specs)

/* How a measure is asked for: a query option, or a selector; else neither. */
typedef struct MeasurePlan
{
	const MeasureSpec *spec;
	const char *query;			/* the *_query option, with $window */
	char	   *selector;		/* M{L!=""} */
	const char *option;			/* the option the text comes from, or NULL
								 * (the default metric) */
} MeasurePlan;

/* One query in flight: the cookie of its request. */
typedef struct PendingQuery
{
	const MeasurePlan *plan;
	int64		day_start_ms;
	char	   *promql;
} PendingQuery;

/* What the parser's callback copied out, in malloc'd memory. */
typedef struct CollectedSample
{
	char	   *topic;
	double		value;
} CollectedSample;

typedef struct Collected
{
	CollectedSample *samples;
	size_t		count;
	size_t		capacity;
} Collected;

static const char *topic_label;

/* A malloc'd text from prometheus_promql.c as a palloc'd one. */
char *
kpr_prometheus_take_text(char *text)
{
	char	   *copy;

	if (text == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	copy = pstrdup(text);
	free(text);
	return copy;
}

/* Decide where each measure comes from (see options.c for the rules). */
static void
plan_measures(MeasurePlan *plans)
{
	for (size_t i = 0; i < MEASURE_SPEC_COUNT; i++)
	{
		const MeasureSpec *spec = &measure_specs[i];
		MeasurePlan *plan = &plans[i];
		const char *query = kpr_metrics_option(spec->query_option);
		const char *metric = kpr_metrics_option(spec->metric_option);

		plan->spec = spec;
		plan->query = NULL;
		plan->selector = NULL;
		plan->option = NULL;
		if (query != NULL)
		{
			plan->query = query;
			plan->option = spec->query_option;
			continue;
		}

		/*
		 * A peak follows the bytes counter, unless the bytes come from a query
		 * of the user's and no counter is named: the default counter would
		 * then measure something else than the totals do.
		 */
		if (metric == NULL && spec->peak && kpr_metrics_option(spec->total_query_option) != NULL)
			continue;
		if (metric == NULL && spec->default_metric == NULL)
			continue;
		plan->option = metric ? spec->metric_option : NULL;
		if (metric != NULL && kpr_promql_check_metric(metric) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value for option \"%s\": \"%s\"", spec->metric_option, metric),
					 errdetail("As a Prometheus metric selector, %s.", kpr_promql_check_metric(metric))));
		plan->selector = kpr_prometheus_take_text(kpr_promql_selector(metric ? metric : spec->default_metric,
													   topic_label));
	}
}

/* The PromQL of one measure for one day; range_seconds is the day's span. */
static char *
build_promql(const MeasurePlan *plan, int64 range_seconds)
{
	char		range[24];

	/* the peak's subquery ends at the evaluation time, so it is 1 s shorter */
	if (plan->spec->peak)
		snprintf(range, sizeof(range), INT64_FORMAT "s", range_seconds - 1);
	else
		kpr_promql_range(range_seconds, range, sizeof(range));

	if (plan->query != NULL)
		return kpr_prometheus_take_text(kpr_promql_expand_window(plan->query, range));
	if (plan->spec->peak)
		return kpr_prometheus_take_text(kpr_promql_peak(plan->selector, topic_label, range));
	return kpr_prometheus_take_text(kpr_promql_total(plan->selector, topic_label, range));
}

/* The base URL: metrics_url, which Prometheus has no default for. */
char *
kpr_prometheus_base_url(void)
{
	char	   *url = kpr_metrics_base_url(NULL);

	/* the validator refuses a Prometheus server without one (options.c) */
	if (url == NULL)
		elog(ERROR, "server \"%s\" has no metrics_url", kpr_metrics_request()->server_name);
	return url;
}

void
kpr_prometheus_submit(const char *url, void *cookie)
{
	KprHttpRequest request = {0};
	const char *key = kpr_metrics_option("metrics_api_key");

	request.method = "GET";
	request.url = url;
	request.cookie = cookie;
	if (key != NULL)
	{
		const char *secret = kpr_metrics_option("metrics_api_secret");

		request.username = key;
		request.password = secret ? secret : "";
	}
	kpr_metrics_http_submit(&request);
}

/*
 * Refuse a window that starts before what the server keeps.  A server that
 * does not offer runtimeinfo (some Prometheus-compatible services) or whose
 * retention text is not understood is not checked.
 */
void
kpr_prometheus_check_retention(const char *base, const KprMetricsWindow *window)
{
	KprHttpResult *result;
	KprPromRetentionKind kind = KPR_PROM_RETENTION_UNKNOWN;
	int64_t		seconds = 0;
	char		retention[64];
	KprPromError error;
	KprPromOutcome outcome;
	int64		oldest_ms;
	int64		oldest_day_ms;

	kpr_prometheus_submit(psprintf("%s/api/v1/status/runtimeinfo", base), NULL);
	result = kpr_metrics_http_next();
	if (result == NULL)
		elog(ERROR, "the runtimeinfo request of the Prometheus source got no result");
	if (result->status != KPR_HTTP_OK)
	{
		if (result->status == KPR_HTTP_HTTP_ERROR && result->http_status >= 400 &&
			result->http_status < 500 && result->http_status != 401 &&
			result->http_status != 403 && result->http_status != 408 &&
			result->http_status != 429)
		{
			elog(DEBUG1, "Prometheus server of server \"%s\" has no runtimeinfo (HTTP %ld): retention not checked",
				 kpr_metrics_request()->server_name, result->http_status);
			kpr_metrics_http_done(result);
			return;
		}
		kpr_metrics_raise_http_error(result, SERVICE, "the runtime information (storage retention)");
	}
	outcome = kpr_prom_parse_runtimeinfo(result->body, result->body_length, &kind, &seconds,
										 retention, sizeof(retention), &error);
	kpr_metrics_http_done(result);
	if (outcome != KPR_PROM_OK || kind != KPR_PROM_RETENTION_TIME)
	{
		elog(DEBUG1, "Prometheus server of server \"%s\": retention not checked (%s, \"%s\")",
			 kpr_metrics_request()->server_name, kpr_prom_outcome_name(outcome),
			 outcome == KPR_PROM_OK ? retention : error.message);
		return;
	}

	oldest_ms = kpr_unix_now_ms() - (int64) seconds * 1000;
	if (window->first_day_ms >= oldest_ms)
		return;
	/* the first midnight at or after the oldest sample kept */
	oldest_day_ms = (oldest_ms + KPR_MS_PER_DAY - 1) / KPR_MS_PER_DAY * KPR_MS_PER_DAY;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("first_day %s is older than the Prometheus server of server \"%s\" keeps",
					kpr_day_text(window->first_day_ms), kpr_metrics_request()->server_name),
			 errdetail("Its storage retention is \"%s\", so the oldest complete day it still has is %s.",
					   retention, kpr_day_text(oldest_day_ms)),
			 errhint("Ask for days from %s on; collect daily (see kpr.collect and pg_cron) to build a longer history.",
					 kpr_day_text(oldest_day_ms))));
}

/* The parser's callback: copies, never ereports (see prometheus_response.h). */
static bool
collect_sample(const char *label_value, double value, void *arg)
{
	Collected  *collected = arg;
	char	   *topic;

	if (collected->count == collected->capacity)
	{
		size_t		capacity = collected->capacity ? collected->capacity * 2 : 64;
		CollectedSample *samples = realloc(collected->samples, capacity * sizeof(CollectedSample));

		if (samples == NULL)
			return false;
		collected->samples = samples;
		collected->capacity = capacity;
	}
	topic = strdup(label_value);
	if (topic == NULL)
		return false;
	collected->samples[collected->count].topic = topic;
	collected->samples[collected->count].value = value;
	collected->count++;
	return true;
}

static void
free_collected(Collected *collected)
{
	for (size_t i = 0; i < collected->count; i++)
		free(collected->samples[i].topic);
	free(collected->samples);
	collected->samples = NULL;
	collected->count = collected->capacity = 0;
}

static int
compare_samples(const void *a, const void *b)
{
	return strcmp(((const CollectedSample *) a)->topic, ((const CollectedSample *) b)->topic);
}

/* The hint for a query that failed: which option to look at. */
static int
query_hint(const PendingQuery *query)
{
	if (query->plan->option != NULL)
		return errhint("Check the server option \"%s\".", query->plan->option);
	return errhint("The default metric names are the JMX exporter's; for another exporter set the server options \"topic_label\" and \"%s\" or \"%s\".",
				   query->plan->spec->metric_option, query->plan->spec->query_option);
}

/*
 * The server refused a query and said why (an API error document); the
 * HTTP status, when the refusal came as one, is in the detail.
 */
static void raise_rejected(const PendingQuery *query, const KprPromError *error,
						   long http_status) pg_attribute_noreturn();

static void
raise_rejected(const PendingQuery *query, const KprPromError *error, long http_status)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_ERROR),
			 errmsg("the Prometheus server of server \"%s\" rejected the %s query for %s: %s: %s",
					kpr_metrics_request()->server_name, query->plan->spec->what,
					kpr_day_text(query->day_start_ms), error->error_type, error->message),
			 http_status > 0 ?
			 errdetail("HTTP %ld for the query: %s", http_status, query->promql) :
			 errdetail("The query: %s", query->promql),
			 strcmp(error->error_type, "timeout") == 0 ?
			 errhint("The query took longer than the Prometheus server allows (its --query.timeout).") :
			 query_hint(query)));
}

/* Raise a clear error for a query the server refused, if it says why. */
static void
raise_if_api_error(const KprHttpResult *result, const PendingQuery *query)
{
	KprPromError error;
	Collected	unused = {0};

	if (result->status != KPR_HTTP_HTTP_ERROR ||
		(result->http_status != 400 && result->http_status != 422 && result->http_status != 503))
		return;
	if (kpr_prom_parse_vector(result->body, result->body_length, topic_label,
							  collect_sample, &unused, NULL, &error) != KPR_PROM_API_ERROR)
	{
		free_collected(&unused);
		return;
	}
	free_collected(&unused);
	raise_rejected(query, &error, result->http_status);
}

/* Store one successful answer in the table. */
static void
store_answer(const KprHttpResult *result, const PendingQuery *query, KprTrafficTable *table)
{
	const MeasureSpec *spec = query->plan->spec;
	Collected	collected = {0};
	KprPromError error;
	KprPromOutcome outcome;
	int			nan_count = 0;

	outcome = kpr_prom_parse_vector(result->body, result->body_length, topic_label,
									collect_sample, &collected, &nan_count, &error);
	PG_TRY();
	{
		if (outcome == KPR_PROM_STOPPED)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		if (outcome == KPR_PROM_API_ERROR)
			raise_rejected(query, &error, 0);
		if (outcome != KPR_PROM_OK)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("the Prometheus server of server \"%s\" answered the %s query for %s with something unusable",
							kpr_metrics_request()->server_name, spec->what, kpr_day_text(query->day_start_ms)),
					 errdetail("%s.  The query: %s", error.message, query->promql),
					 outcome == KPR_PROM_MISSING_LABEL ?
					 errhint("Every series must carry the topic's label \"%s\" (server option \"topic_label\"); a series without it is usually a broker-wide total, which %s!=\"\" filters out.",
							 topic_label, topic_label) :
					 query_hint(query)));
		if (nan_count > 0)
			elog(DEBUG1, "the %s query for %s returned NaN for %d topic(s): taken as no value",
				 spec->what, kpr_day_text(query->day_start_ms), nan_count);

		/* one series per topic: a second one would silently replace the first */
		qsort(collected.samples, collected.count, sizeof(CollectedSample), compare_samples);
		for (size_t i = 0; i < collected.count; i++)
		{
			const CollectedSample *sample = &collected.samples[i];

			if (i > 0 && strcmp(sample->topic, collected.samples[i - 1].topic) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_ERROR),
						 errmsg("the %s query for %s returned more than one series for topic \"%s\"",
								spec->what, kpr_day_text(query->day_start_ms), sample->topic),
						 errdetail("The query: %s", query->promql),
						 errhint("Aggregate to one series per topic, as in sum by (%s) (...).", topic_label)));
			if (sample->value < 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_ERROR),
						 errmsg("the %s query for %s returned a negative value for topic \"%s\": %g",
								spec->what, kpr_day_text(query->day_start_ms), sample->topic, sample->value),
						 errdetail("The query: %s", query->promql),
						 query_hint(query)));
			if (spec->peak)
				kpr_traffic_max(table, sample->topic, query->day_start_ms, spec->measure, sample->value);
			else
				kpr_traffic_set(table, sample->topic, query->day_start_ms, spec->measure, sample->value);
		}
	}
	PG_FINALLY();
	{
		free_collected(&collected);
	}
	PG_END_TRY();
}

void
kpr_prometheus_fetch(const KprMetricsWindow *window, KprTrafficTable *table)
{
	MeasurePlan plans[MEASURE_SPEC_COUNT];
	KprHttpResult *result;
	char	   *base = kpr_prometheus_base_url();

	topic_label = kpr_metrics_option("topic_label");
	if (topic_label == NULL)
		topic_label = KPR_PROMQL_DEFAULT_TOPIC_LABEL;
	if (kpr_promql_check_label(topic_label) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"topic_label\": \"%s\"", topic_label),
				 errdetail("As a Prometheus label name, %s.", kpr_promql_check_label(topic_label))));
	plan_measures(plans);

	kpr_metrics_http_start(MAX_IN_FLIGHT);
	kpr_prometheus_check_retention(base, window);

	for (int day = 0; day < window->days; day++)
	{
		int64		day_start_ms = window->first_day_ms + day * KPR_MS_PER_DAY;
		int64		day_end_ms = day_start_ms + KPR_MS_PER_DAY;
		int64		evaluate_at = Min(day_end_ms, window->end_ms) / 1000;
		int64		range_seconds = evaluate_at - day_start_ms / 1000;

		/* today, in its first two seconds: nothing to ask for yet */
		if (range_seconds < 2)
			continue;
		for (size_t i = 0; i < MEASURE_SPEC_COUNT; i++)
		{
			PendingQuery *query;

			if (plans[i].query == NULL && plans[i].selector == NULL)
				continue;
			query = palloc(sizeof(PendingQuery));
			query->plan = &plans[i];
			query->day_start_ms = day_start_ms;
			query->promql = build_promql(&plans[i], range_seconds);
			kpr_prometheus_submit(psprintf("%s/api/v1/query?query=%s&time=" INT64_FORMAT,
							base, kpr_prometheus_take_text(kpr_url_encode(query->promql)), evaluate_at),
				   query);

			/* today so far: the rate since the subquery's last five-minute mark */
			if (plans[i].spec->peak && plans[i].query == NULL && evaluate_at % 300 != 0)
			{
				PendingQuery *latest = palloc(sizeof(PendingQuery));

				latest->plan = &plans[i];
				latest->day_start_ms = day_start_ms;
				latest->promql = psprintf("sum by (%s) (rate(%s[5m]))", topic_label, plans[i].selector);
				kpr_prometheus_submit(psprintf("%s/api/v1/query?query=%s&time=" INT64_FORMAT,
								base, kpr_prometheus_take_text(kpr_url_encode(latest->promql)), evaluate_at),
					   latest);
			}
		}
	}

	while ((result = kpr_metrics_http_next()) != NULL)
	{
		PendingQuery *query = result->cookie;

		if (result->status != KPR_HTTP_OK)
		{
			raise_if_api_error(result, query);
			kpr_metrics_raise_http_error(result, SERVICE,
										 psprintf("the %s query for %s", query->plan->spec->what,
												  kpr_day_text(query->day_start_ms)));
		}
		store_answer(result, query, table);
		kpr_metrics_http_done(result);
	}

	for (size_t i = 0; i < MEASURE_SPEC_COUNT; i++)
		if (plans[i].query != NULL || plans[i].selector != NULL)
			kpr_traffic_provides(table, plans[i].spec->measure);
}
