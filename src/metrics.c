/*
 * metrics.c
 *		What the metrics sources share in the worker: the request they serve,
 *		the traffic table they fill and the rows it becomes, and the HTTP
 *		client (http.c) wrapped for a PostgreSQL worker.  The task itself is
 *		fetch_metrics.c.
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "kpr_time.h"
#include "metrics.h"
#include "topic_filter.h"

/* Kafka topic names are at most 249 bytes */
#define TOPIC_KEY_SIZE	256
/* the largest response a metrics service may send (one page of a query) */
#define MAX_RESPONSE_BYTES	(64 * 1024 * 1024)

typedef struct TrafficEntry
{
	char		topic[TOPIC_KEY_SIZE];	/* hash key */
	bool		selected;		/* by the call's topic_filter and include_internal */
	double	   *values;			/* [measure * days + day]; NAN: not reported;
								 * NULL when not selected */
} TrafficEntry;

struct KprTrafficTable
{
	KprMetricsWindow window;
	bool		provided[KPR_MEASURE_COUNT];
	HTAB	   *topics;
	MemoryContext context;		/* of the entries' value arrays */
};

/* the fetch_metrics call this worker serves (kpr_metrics_begin) */
static const KprRequest *metrics_request;
static KprHttpClient *http_client;
static KprHttpResult *http_result;	/* handed out, not yet given back */
static bool http_exit_callback_registered;

void
kpr_metrics_begin(const KprRequest *request)
{
	metrics_request = request;
}

const KprRequest *
kpr_metrics_request(void)
{
	return metrics_request;
}

KprTrafficTable *
kpr_traffic_create(const KprMetricsWindow *window)
{
	KprTrafficTable *table = palloc0(sizeof(KprTrafficTable));
	HASHCTL		control = {0};

	table->window = *window;
	table->context = CurrentMemoryContext;
	control.keysize = TOPIC_KEY_SIZE;
	control.entrysize = sizeof(TrafficEntry);
	control.hcxt = CurrentMemoryContext;
	table->topics = hash_create("kpr traffic", 1024, &control,
								HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	return table;
}

void
kpr_traffic_provides(KprTrafficTable *table, KprMeasure measure)
{
	table->provided[measure] = true;
}

static TrafficEntry *
traffic_entry(KprTrafficTable *table, const char *topic)
{
	char		key[TOPIC_KEY_SIZE] = {0};
	TrafficEntry *entry;
	bool		found;

	strlcpy(key, topic, sizeof(key));
	entry = hash_search(table->topics, key, HASH_ENTER, &found);
	if (!found)
	{
		int			count = KPR_MEASURE_COUNT * table->window.days;

		/* decided once per topic, not for each of its points */
		entry->selected = kpr_topic_selected(metrics_request, topic);
		entry->values = NULL;
		if (entry->selected)
		{
			entry->values = MemoryContextAlloc(table->context, sizeof(double) * count);
			for (int i = 0; i < count; i++)
				entry->values[i] = NAN;
		}
	}
	return entry;
}

/* The value slot of topic's day holding time_ms, or NULL outside the window. */
static double *
traffic_slot(KprTrafficTable *table, const char *topic, int64 time_ms, KprMeasure measure)
{
	int64		day;
	TrafficEntry *entry;

	if (time_ms < table->window.first_day_ms)
		return NULL;
	day = (time_ms - table->window.first_day_ms) / KPR_MS_PER_DAY;
	if (day >= table->window.days || strlen(topic) >= TOPIC_KEY_SIZE)
		return NULL;
	entry = traffic_entry(table, topic);
	if (!entry->selected)
		return NULL;
	return &entry->values[measure * table->window.days + day];
}

void
kpr_traffic_set(KprTrafficTable *table, const char *topic, int64 time_ms,
				KprMeasure measure, double value)
{
	double	   *slot = traffic_slot(table, topic, time_ms, measure);

	if (slot != NULL)
		*slot = value;
}

void
kpr_traffic_max(KprTrafficTable *table, const char *topic, int64 time_ms,
				KprMeasure measure, double value)
{
	double	   *slot = traffic_slot(table, topic, time_ms, measure);

	if (slot != NULL && (isnan(*slot) || value > *slot))
		*slot = value;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static char *
format_measure(KprMeasure measure, double value)
{
	/* totals are whole bytes and records; rates keep their fraction */
	if (measure == KPR_PEAK_BYTES_IN_PER_SEC || measure == KPR_PEAK_BYTES_OUT_PER_SEC)
		return psprintf("%.17g", value);
	return psprintf("%.0f", rint(value));
}

/*
 * One row per topic and day, for the cluster's topics (topics[]) and every
 * other topic the source reported, sorted by topic.
 */
void
kpr_traffic_send_rows(KprTrafficTable *table, char **cluster_topics, int cluster_topic_count)
{
	int			total = cluster_topic_count + hash_get_num_entries(table->topics);
	char	  **names = palloc(sizeof(char *) * Max(total, 1));
	int			count = 0;
	HASH_SEQ_STATUS scan;
	TrafficEntry *entry;

	for (int i = 0; i < cluster_topic_count; i++)
		names[count++] = cluster_topics[i];
	hash_seq_init(&scan, table->topics);
	while ((entry = hash_seq_search(&scan)) != NULL)
		if (entry->selected)
			names[count++] = entry->topic;
	qsort(names, count, sizeof(char *), compare_names);

	for (int i = 0; i < count; i++)
	{
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;
		entry = hash_search(table->topics, names[i], HASH_FIND, NULL);
		for (int day = 0; day < table->window.days; day++)
		{
			const char *values[2 + KPR_MEASURE_COUNT];
			values[0] = names[i];
			values[1] = kpr_day_text(table->window.first_day_ms + day * KPR_MS_PER_DAY);
			for (int m = 0; m < KPR_MEASURE_COUNT; m++)
			{
				double		value = entry && entry->selected ?
					entry->values[m * table->window.days + day] : NAN;

				if (!table->provided[m])
					values[2 + m] = NULL;
				else
					values[2 + m] = format_measure(m, isnan(value) ? 0 : value);
			}
			kpr_worker_send_row(2 + KPR_MEASURE_COUNT, values);
		}
	}
}

/* Exit callback: an ERROR or FATAL ended the task with requests in flight. */
static void
release_http(int code, Datum arg)
{
	if (http_result != NULL)
		kpr_http_result_free(http_result);
	http_result = NULL;
	kpr_http_client_destroy(http_client);
	http_client = NULL;
}

/* Only reads a flag: the engine must not be left by a longjmp. */
static bool
interrupt_pending(void *arg)
{
	return InterruptPending;
}

const char *
kpr_metrics_option(const char *name)
{
	return kpr_request_option(metrics_request, name);
}

/*
 * The worker's HTTP client: per-attempt timeout kpr.http_timeout, overall
 * deadline the statement's (statement_timeout), TLS verified against the
 * system's CAs or the server's metrics_ca_file.
 */
void
kpr_metrics_http_start(int max_in_flight)
{
	KprHttpOptions options = {0};
	const char *deadline_text = kpr_request_argument(metrics_request, "statement_deadline");
	int			timeout_ms = pg_strtoint32(kpr_request_argument(metrics_request, "http_timeout_ms"));
	int			kafka_timeout_ms = pg_strtoint32(kpr_request_argument(metrics_request, "kafka_timeout_ms"));

	if (!http_exit_callback_registered)
	{
		before_shmem_exit(release_http, 0);
		http_exit_callback_registered = true;
	}
	options.max_in_flight = max_in_flight;
	options.connect_timeout_ms = Min(timeout_ms, kafka_timeout_ms);
	options.request_timeout_ms = timeout_ms;
	options.max_response_bytes = MAX_RESPONSE_BYTES;
	options.ca_file = kpr_metrics_option("metrics_ca_file");
	options.interrupted = interrupt_pending;
	if (deadline_text != NULL)
	{
		TimestampTz deadline = pg_strtoint64(deadline_text);
		long		remaining_ms = (deadline - GetCurrentTimestamp()) / 1000;

		options.deadline_ms = kpr_http_now_ms() + Max(remaining_ms, 1);
	}
	http_client = kpr_http_client_create(&options);
	if (http_client == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
}

/* The engine stopped for an interrupt: end the call (an interrupt that did not end the worker still does). */
static void
raise_if_interrupted(void)
{
	if (!kpr_http_client_interrupted(http_client))
		return;
	CHECK_FOR_INTERRUPTS();
	ereport(ERROR,
			(errcode(ERRCODE_QUERY_CANCELED),
			 errmsg("canceling the metrics requests because of an interrupt")));
}

void
kpr_metrics_http_submit(const KprHttpRequest *request)
{
	if (kpr_http_submit(http_client, request))
		return;
	raise_if_interrupted();
	ereport(ERROR,
			(errcode(ERRCODE_OUT_OF_MEMORY),
			 errmsg("out of memory")));
}

/*
 * The next finished request, or NULL when none is left.  The caller gives it
 * back with kpr_metrics_http_done().
 */
KprHttpResult *
kpr_metrics_http_next(void)
{
	Assert(http_result == NULL);
	http_result = kpr_http_next_done(http_client);
	if (http_result == NULL)
		raise_if_interrupted();
	return http_result;
}

char *
kpr_metrics_base_url(const char *default_url)
{
	const char *option = kpr_metrics_option("metrics_url");
	char	   *url;
	size_t		length;

	if (option == NULL && default_url == NULL)
		return NULL;
	url = pstrdup(option ? option : default_url);
	length = strlen(url);
	if (length > 0 && url[length - 1] == '/')
		url[length - 1] = '\0';
	return url;
}

void
kpr_metrics_http_done(KprHttpResult *result)
{
	Assert(result == http_result);
	kpr_http_result_free(result);
	http_result = NULL;
}

char *
kpr_metrics_body_excerpt(const KprHttpResult *result)
{
	StringInfoData excerpt;

	initStringInfo(&excerpt);
	for (size_t i = 0; i < result->body_length && i < 300; i++)
	{
		unsigned char c = result->body[i];

		appendStringInfoChar(&excerpt, c >= 0x20 && c < 0x7f ? c : ' ');
	}
	if (result->body_length > 300)
		appendStringInfoString(&excerpt, "...");
	return excerpt.data;
}

void
kpr_metrics_raise_http_error(const KprHttpResult *result, const char *service, const char *what)
{
	const char *server = metrics_request->server_name;
	const char *key = kpr_metrics_option("metrics_api_key");

	switch (result->status)
	{
		case KPR_HTTP_HTTP_ERROR:
			if (result->http_status == 401)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
						 errmsg("the %s of server \"%s\" refused the credentials of user \"%s\"%s%s%s",
								service, server, metrics_request->user_name,
								key ? " (API key \"" : "", key ? key : "", key ? "\")" : ""),
						 errdetail("HTTP 401: %s", kpr_metrics_body_excerpt(result)),
						 errhint("Check metrics_api_key and metrics_api_secret in the user mapping.")));
			if (result->http_status == 403)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("the %s of server \"%s\" refused %s to user \"%s\"",
								service, server, what, metrics_request->user_name),
						 errdetail("HTTP 403: %s", kpr_metrics_body_excerpt(result)),
						 errhint("The API key needs a metrics role (such as MetricsViewer) on the cluster, and the option \"cluster_id\" must name a cluster the key may read.")));
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("the %s of server \"%s\" answered %s with HTTP %ld after %d attempt(s)",
							service, server, what, result->http_status, result->attempts),
					 errdetail("%s", kpr_metrics_body_excerpt(result))));
			break;
		case KPR_HTTP_CONNECT_FAILED:
		case KPR_HTTP_TLS:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
					 errmsg("could not reach the %s of server \"%s\" for %s",
							service, server, what),
					 errdetail("%s (%s, %d attempt(s))", result->error,
							   kpr_http_status_name(result->status), result->attempts),
					 errhint(result->status == KPR_HTTP_TLS ?
							 "The service's certificate could not be verified; a superuser can name a CA bundle in the server option \"metrics_ca_file\"." :
							 "Check the server option \"metrics_url\".")));
			break;
		case KPR_HTTP_TIMEOUT:
		case KPR_HTTP_DEADLINE:
		case KPR_HTTP_NO_TIME_TO_RETRY:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("the %s of server \"%s\" did not answer %s in time",
							service, server, what),
					 errdetail("%s after %d attempt(s)%s%s", kpr_http_status_name(result->status),
							   result->attempts,
							   result->http_status ? psprintf(", last HTTP status %ld", result->http_status) : "",
							   result->status == KPR_HTTP_NO_TIME_TO_RETRY ?
							   psprintf("; the next attempt was due in %ld ms", result->retry_wait_ms) : ""),
					 errhint("kpr.http_timeout bounds each request and statement_timeout the whole call.")));
			break;
		case KPR_HTTP_TOO_LARGE:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_REPLY_HANDLE),
					 errmsg("the %s of server \"%s\" sent more than %d MB for %s",
							service, server, MAX_RESPONSE_BYTES / (1024 * 1024), what)));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("the request of %s to the %s of server \"%s\" failed",
							what, service, server),
					 errdetail("%s: %s (%d attempt(s))", kpr_http_status_name(result->status),
							   result->error, result->attempts)));
	}
	pg_unreachable();
}
