/*
 * metrics_prometheus_partitions.c
 *		The Prometheus source of kpr.fetch_partition_metrics: each
 *		partition's records per UTC day, from its log-end offset.
 *
 * At every midnight of the window, and at its end (now, for today), one
 * instant query
 *
 *	max by (T, P) (M{T!=""})
 *
 * with T the server option topic_label, P partition_label and M
 * partition_offset_metric (default: the JMX exporter's
 * kafka_log_log_logendoffset, from its standard Kafka rules).  A partition's
 * records on a day are its offset at the midnight ending the day minus the
 * one at the midnight starting it.  max, not sum: every replica reports its
 * log-end offset, followers a little behind the leader, and the leader's is
 * the largest; adding replicas would count a partition once per replica.
 *
 * A gauge is read as of its last sample before the instant (Prometheus's
 * 5-minute lookback), so a live scrape interval of S seconds leaves the
 * records of at most S seconds before each midnight on the wrong day: they
 * move between neighbouring days, the sum over the window stays exact.
 *
 * A partition whose series begins during a day (a topic created that day,
 * or an exporter started) has no offset at the midnight starting it: for
 * those days only, a second query
 *
 *	min by (T, P) (min_over_time(M{T!=""}[<the day's seconds - 1>s]))
 *
 * at the day's end gives its first offset of the day instead, which misses
 * only the records before its first scrape.  (One second short, so that the
 * range never holds the starting midnight's own sample, whether the server's
 * ranges include their start, as Prometheus 2 does, or not, as 3 does: a
 * series whose first sample is that midnight's is the instant's already.)  A partition without a sample at
 * the end of a day has no row that day; an offset that went down (the topic
 * deleted and created again) counts the new log's offset, the records it
 * has had since.  Bytes are not measured
 * per partition (no exporter has a per-partition byte counter): bytes_in is
 * NULL.
 */
#include "postgres.h"

#include <math.h>

#include "utils/hsearch.h"

#include "kpr_time.h"
#include "metrics.h"
#include "metrics_prometheus.h"
#include "partition_traffic.h"
#include "prometheus_promql.h"
#include "prometheus_response.h"
#include "url_encode.h"

#define SERVICE					"Prometheus server"
#define MAX_IN_FLIGHT			4
#define DEFAULT_OFFSET_METRIC	"kafka_log_log_logendoffset"
#define DEFAULT_PARTITION_LABEL	"partition"
#define TOPIC_KEY_SIZE			256

typedef struct OffsetKey
{
	char		topic[TOPIC_KEY_SIZE];
	int32		partition;
} OffsetKey;

typedef struct OffsetEntry
{
	OffsetKey	key;			/* hash key */
	double	   *offsets;		/* [instant]: NAN where no sample */
	double	   *earliest;		/* [day]: the day's first offset, NAN if not asked */
} OffsetEntry;

/* One instant's query: the cookie of its request. */
typedef struct InstantQuery
{
	int			instant;		/* 0 .. days: at a midnight or the end */
	bool		earliest;		/* the day's first offsets, for day = instant - 1 */
	int64		at_ms;
	const char *promql;			/* for messages */
} InstantQuery;

/* What the parser's callback copied out, in malloc'd memory. */
typedef struct OffsetSample
{
	char	   *topic;
	char	   *partition;
	double		value;
} OffsetSample;

typedef struct OffsetSamples
{
	OffsetSample *items;
	size_t		count;
	size_t		capacity;
} OffsetSamples;

/* The parser's callback: copies, never ereports (see prometheus_response.h). */
static bool
collect_offset(const char *topic, const char *partition, double value, void *arg)
{
	OffsetSamples *samples = arg;

	if (samples->count == samples->capacity)
	{
		size_t		capacity = samples->capacity ? samples->capacity * 2 : 256;
		OffsetSample *items = realloc(samples->items, capacity * sizeof(OffsetSample));

		if (items == NULL)
			return false;
		samples->items = items;
		samples->capacity = capacity;
	}
	samples->items[samples->count].topic = strdup(topic);
	samples->items[samples->count].partition = strdup(partition);
	samples->items[samples->count].value = value;
	samples->count++;
	return samples->items[samples->count - 1].topic != NULL &&
		samples->items[samples->count - 1].partition != NULL;
}

static void
free_samples(OffsetSamples *samples)
{
	for (size_t i = 0; i < samples->count; i++)
	{
		free(samples->items[i].topic);
		free(samples->items[i].partition);
	}
	free(samples->items);
	samples->items = NULL;
	samples->count = samples->capacity = 0;
}

/* A partition label's value as an id, or -1: decimal digits only. */
static int32
partition_id(const char *text)
{
	int64		id = 0;
	size_t		length = strlen(text);

	if (length == 0 || length > 10)
		return -1;
	for (size_t i = 0; i < length; i++)
	{
		if (text[i] < '0' || text[i] > '9')
			return -1;
		id = id * 10 + (text[i] - '0');
	}
	return id > PG_INT32_MAX ? -1 : (int32) id;
}

/* Store one instant's answer in the offsets. */
static void
store_offsets(const KprHttpResult *result, const InstantQuery *query, const char *promql,
			  const char *topic_label, const char *partition_label, HTAB *offsets,
			  int instants)
{
	OffsetSamples samples = {0};
	KprPromError error;
	KprPromOutcome outcome;

	outcome = kpr_prom_parse_vector_pairs(result->body, result->body_length, topic_label,
										  partition_label, collect_offset, &samples, NULL, &error);
	PG_TRY();
	{
		if (outcome == KPR_PROM_STOPPED)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		if (outcome != KPR_PROM_OK)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("the Prometheus server of server \"%s\" answered the partition offset query at %s with %s",
							kpr_metrics_request()->server_name, kpr_day_text(query->at_ms),
							outcome == KPR_PROM_API_ERROR ? "an error" : "something unusable"),
					 errdetail("%s%s%s.  The query: %s", error.error_type,
							   error.error_type[0] ? ": " : "", error.message, promql),
					 outcome == KPR_PROM_MISSING_LABEL ?
					 errhint("Every series must carry the labels \"%s\" and \"%s\" (server options \"topic_label\" and \"partition_label\").",
							 topic_label, partition_label) :
					 errhint("Check the server options \"partition_offset_metric\", \"topic_label\" and \"partition_label\".")));
		for (size_t i = 0; i < samples.count; i++)
		{
			const OffsetSample *sample = &samples.items[i];
			OffsetKey	key;
			OffsetEntry *entry;
			bool		found;
			int32		partition = partition_id(sample->partition);

			if (partition < 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_ERROR),
						 errmsg("the partition offset query at %s returned the partition \"%s\" for topic \"%s\", not a partition id",
								kpr_day_text(query->at_ms), sample->partition, sample->topic),
						 errdetail("The query: %s", promql),
						 errhint("The server option \"partition_label\" must name the label that holds the partition id.")));
			if (strlen(sample->topic) >= TOPIC_KEY_SIZE)
				continue;
			memset(&key, 0, sizeof(key));
			strlcpy(key.topic, sample->topic, sizeof(key.topic));
			key.partition = partition;
			entry = hash_search(offsets, &key, HASH_ENTER, &found);
			if (!found)
			{
				entry->offsets = palloc(sizeof(double) * instants);
				entry->earliest = palloc(sizeof(double) * instants);
				for (int k = 0; k < instants; k++)
					entry->offsets[k] = entry->earliest[k] = NAN;
			}
			if (query->earliest)
				entry->earliest[query->instant - 1] = sample->value;
			else
				entry->offsets[query->instant] = sample->value;
		}
	}
	PG_FINALLY();
	{
		free_samples(&samples);
	}
	PG_END_TRY();
}

/* Submit the query of instant k (a midnight or the window's end). */
static void
submit_instant(const char *base, const char *promql, int k, bool earliest,
			   const KprMetricsWindow *window)
{
	InstantQuery *query = palloc(sizeof(InstantQuery));
	char	   *encoded = kpr_prometheus_take_text(kpr_url_encode(promql));

	query->promql = promql;
	query->instant = k;
	query->earliest = earliest;
	query->at_ms = Min(window->first_day_ms + k * KPR_MS_PER_DAY, window->end_ms);
	/* whole seconds: a midnight is one, and now is rounded down */
	kpr_prometheus_submit(psprintf("%s/api/v1/query?query=%s&time=" INT64_FORMAT,
								   base, encoded, query->at_ms / 1000),
						  query);
}

/* Receive every submitted query's answer into the offsets. */
static void
receive(const char *topic_label, const char *partition_label, HTAB *offsets, int instants)
{
	KprHttpResult *result;

	while ((result = kpr_metrics_http_next()) != NULL)
	{
		InstantQuery *query = result->cookie;

		if (result->status != KPR_HTTP_OK)
			kpr_metrics_raise_http_error(result, SERVICE,
										 psprintf("the partition offset query at %s",
												  kpr_day_text(query->at_ms)));
		store_offsets(result, query, query->promql, topic_label, partition_label, offsets, instants);
		kpr_metrics_http_done(result);
	}
}

void
kpr_prometheus_fetch_partitions(const KprMetricsWindow *window, KprPartitionTable *table)
{
	const char *topic_label = kpr_metrics_option("topic_label");
	const char *partition_label = kpr_metrics_option("partition_label");
	const char *metric = kpr_metrics_option("partition_offset_metric");
	char	   *base = kpr_prometheus_base_url();
	int			instants = window->days + 1;
	char	   *selector;
	char	   *promql;
	HASHCTL		control = {0};
	HTAB	   *offsets;
	HASH_SEQ_STATUS scan;
	OffsetEntry *entry;
	bool	   *needs_earliest;
	bool		asked_earliest = false;

	/* the validator checked them when they were set */
	if (topic_label == NULL)
		topic_label = KPR_PROMQL_DEFAULT_TOPIC_LABEL;
	if (partition_label == NULL)
		partition_label = DEFAULT_PARTITION_LABEL;
	if (metric == NULL)
		metric = DEFAULT_OFFSET_METRIC;
	selector = kpr_prometheus_take_text(kpr_promql_selector(metric, topic_label));
	promql = psprintf("max by (%s, %s) (%s)", topic_label, partition_label, selector);

	control.keysize = sizeof(OffsetKey);
	control.entrysize = sizeof(OffsetEntry);
	control.hcxt = CurrentMemoryContext;
	offsets = hash_create("kpr partition offsets", 4096, &control,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	kpr_metrics_http_start(MAX_IN_FLIGHT);
	kpr_prometheus_check_retention(base, window);
	for (int k = 0; k < instants; k++)
		submit_instant(base, promql, k, false, window);
	receive(topic_label, partition_label, offsets, instants);

	/* the days on which some partition's series began: their first offsets */
	needs_earliest = palloc0(sizeof(bool) * window->days);
	hash_seq_init(&scan, offsets);
	while ((entry = hash_seq_search(&scan)) != NULL)
		for (int day = 0; day < window->days; day++)
			if (isnan(entry->offsets[day]) && !isnan(entry->offsets[day + 1]))
				needs_earliest[day] = true;
	for (int day = 0; day < window->days; day++)
		if (needs_earliest[day] && window->first_day_ms + day * KPR_MS_PER_DAY < window->end_ms)
		{
			int64		start_ms = window->first_day_ms + day * KPR_MS_PER_DAY;
			int64		end_ms = Min(start_ms + KPR_MS_PER_DAY, window->end_ms);

			submit_instant(base,
						   psprintf("min by (%s, %s) (min_over_time(%s[" INT64_FORMAT "s]))",
									topic_label, partition_label, selector,
									/* not the starting midnight's sample: that one would be the instant's */
									Max((end_ms - start_ms) / 1000 - 1, 1)),
						   day + 1, true, window);
			asked_earliest = true;
		}
	if (asked_earliest)
		receive(topic_label, partition_label, offsets, instants);

	hash_seq_init(&scan, offsets);
	while ((entry = hash_seq_search(&scan)) != NULL)
		for (int day = 0; day < window->days; day++)
		{
			double		start = entry->offsets[day];
			double		end = entry->offsets[day + 1];

			/*
			 * A series begun that day: its first offset of the day.  One that
			 * did not move is left out: its first sample may be the closing
			 * midnight's own (a topic created at the end of the day).
			 */
			if (isnan(start))
			{
				start = entry->earliest[day];
				if (!isnan(start) && !isnan(end) && end == start)
					continue;
			}
			/* today in its first second has no span */
			if (isnan(start) || isnan(end) ||
				window->first_day_ms + day * KPR_MS_PER_DAY >= window->end_ms)
				continue;
			kpr_partition_set(table, entry->key.topic, entry->key.partition,
							  window->first_day_ms + day * KPR_MS_PER_DAY, KPR_PARTITION_RECORDS,
							  end >= start ? end - start : end);
		}
}
