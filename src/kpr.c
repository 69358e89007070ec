/*
 * kpr.c
 *		Module initialisation and settings of kafka_partition_recommender.
 *
 * The library is loaded on first use (CREATE EXTENSION, the FDW validator,
 * or a kpr function); it needs no shared_preload_libraries entry.  The
 * "kpr." prefix is reserved so that a misspelt kpr.* setting is reported
 * instead of silently accepted.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "settings.h"

PG_MODULE_MAGIC;

int			kpr_max_workers = 4;
int			kpr_kafka_timeout_ms = 30000;
int			kpr_http_timeout_ms = 30000;
int			kpr_offset_search = KPR_OFFSET_SEARCH_AUTO;
int			kpr_sample_seek_cost = 256 * 1024;
int			kpr_sample_slice_partitions = 1000;
int			kpr_sample_full_read_records = 0;
double		kpr_out_of_order_threshold = 0.001;
int			kpr_partition_detail_days = 90;
int			kpr_consumer_group_sample_days = 14;

static const struct config_enum_entry offset_search_options[] = {
	{"auto", KPR_OFFSET_SEARCH_AUTO, false},
	{"broker", KPR_OFFSET_SEARCH_BROKER, false},
	{"binary", KPR_OFFSET_SEARCH_BINARY, false},
	{NULL, 0, false}
};

const char *
kpr_offset_search_name(void)
{
	return offset_search_options[kpr_offset_search].name;
}

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("kpr.max_workers",
							"Maximum number of kafka_partition_recommender workers running at once, cluster-wide.",
							"Each call of a kpr network function runs one worker; they also take slots of max_worker_processes.",
							&kpr_max_workers,
							4, 1, 64,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kpr.kafka_timeout",
							"How long a kpr call waits for the Kafka cluster to answer before it fails.",
							"Bounds connecting, metadata and each offset or configuration request; statement_timeout still applies to the whole call.",
							&kpr_kafka_timeout_ms,
							30000, 100, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kpr.http_timeout",
							"How long one HTTP request to a metrics service may take.",
							"Bounds each attempt of each request to the Confluent Metrics API or Prometheus, connecting included; failed attempts are retried while statement_timeout allows.",
							&kpr_http_timeout_ms,
							30000, 100, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kpr.sample_seek_cost",
							"What one seek costs kpr.sample_topics, in bytes read again.",
							"A broker answers a fetch at any offset with the whole stored batch holding it.  A partition whose window holds fewer bytes than its sample's seeks would cost is read whole, which makes its figures exact; 0 reads whole only the partitions the budget covers; -1 never reads a partition whole (every hour's boundaries then come from the broker).",
							&kpr_sample_seek_cost,
							256 * 1024, -1, INT_MAX,
							PGC_USERSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kpr.sample_slice_partitions",
							"How many partitions kpr.sample_topics reads with one Kafka client.",
							"A large cluster's topics are counted and sampled in slices of whole topics, one after another, each with a fresh client, so that the time per partition and the worker's memory stay the same whatever the cluster's size.  A topic with more partitions is a slice of its own.",
							&kpr_sample_slice_partitions,
							1000, 1, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kpr.sample_full_read_records",
							"How many records kpr.sample_topics may read to count in full the partitions whose sample found timestamps out of order.",
							"Where timestamps are out of order, a day's count by timestamp is estimated from the sample, with an interval.  Partitions whose sample saw records out of their day or going backwards are read whole, the most affected first, while their window's records fit in this many per call; their days' counts are then exact.  0 reads none.",
							&kpr_sample_full_read_records,
							0, 0, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomRealVariable("kpr.out_of_order_threshold",
							 "Share of a topic-day's sampled records out of their day or going backwards above which kpr.sample_topics and kpr.collect say so.",
							 "sample_topics raises a NOTICE per topic, and kpr.collect notes the topic in its run's notes.",
							 &kpr_out_of_order_threshold,
							 0.001, 0.0, 1.0,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	/* read by kpr.collect (SQL), which prunes kpr.partition_daily by it */
	DefineCustomIntVariable("kpr.partition_detail_days",
							"How many days of per-partition traffic kpr.collect keeps in kpr.partition_daily.",
							"Older rows are deleted by the next collect of their server; topic-level history (kpr.consumption_daily) is never pruned.  0 keeps none.",
							&kpr_partition_detail_days,
							90, 0, 36600,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	/* read by kpr.collect_consumer_groups (SQL), which prunes by it */
	DefineCustomIntVariable("kpr.consumer_group_sample_days",
							"How many days of consumer group samples kpr.collect_consumer_groups keeps in kpr.consumer_group_samples.",
							"Older samples of the server are deleted by its next sample; the daily roll-up (kpr.consumer_group_daily) is never pruned.",
							&kpr_consumer_group_sample_days,
							14, 1, 36600,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("kpr.offset_search",
							 "How kpr.sample_topics finds the offset at a point in time.",
							 "auto: ask the broker (ListOffsets by timestamp) and fall back to a binary search on record timestamps where it cannot answer; broker or binary force one way.",
							 &kpr_offset_search,
							 KPR_OFFSET_SEARCH_AUTO, offset_search_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	MarkGUCPrefixReserved("kpr");
}
