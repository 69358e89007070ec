/*
 * fetch_partition_metrics.c
 *		The fetch_partition_metrics task (kpr.fetch_partition_metrics): the
 *		Kafka cluster's topics and their partition counts, then the server's
 *		metrics source per partition, as rows per topic, day and partition.
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "kafka_session.h"
#include "metrics.h"
#include "metrics_sources.h"
#include "partition_traffic.h"
#include "task_entries.h"

void
kpr_task_fetch_partition_metrics(const KprRequest *request)
{
	KprMetricsWindow window;
	const char *source = kpr_request_option(request, "metrics_source");
	const char *floor_text = kpr_request_option(request, "partition_detail_min_records");
	int64		min_records = floor_text ? pg_strtoint64(floor_text) : 0;
	const rd_kafka_metadata_topic_t **topics;
	char	  **topic_names;
	int		   *partition_counts;
	int			topic_count;
	char	   *cluster_id;
	KprPartitionTable *table;
	bool		confluent;

	kpr_metrics_begin(request);
	window.first_day_ms = pg_strtoint64(kpr_request_argument(request, "first_day_ms"));
	window.days = pg_strtoint32(kpr_request_argument(request, "days"));
	window.end_ms = pg_strtoint64(kpr_request_argument(request, "end_ms"));

	/* kpr.fetch_partition_metrics refused any other value before starting the worker */
	if (!kpr_metrics_source_is_http(source))
		elog(ERROR, "metrics source \"%s\" has no partition fetcher", source ? source : "(none)");
	confluent = strcmp(source, KPR_SOURCE_CONFLUENT) == 0;

	kpr_kafka_open(request, RD_KAFKA_PRODUCER);
	topics = kpr_kafka_selected_topics(kpr_kafka_metadata(), &topic_count);
	topic_names = palloc(sizeof(char *) * Max(topic_count, 1));
	partition_counts = palloc(sizeof(int) * Max(topic_count, 1));
	for (int i = 0; i < topic_count; i++)
	{
		topic_names[i] = pstrdup(topics[i]->topic);
		partition_counts[i] = topics[i]->partition_cnt;
	}
	cluster_id = kpr_kafka_cluster_id();
	/* the HTTP part needs no Kafka connection */
	kpr_kafka_close();

	table = kpr_partition_table_create(&window, topic_names, partition_counts, topic_count);
	if (confluent)
		kpr_confluent_fetch_partitions(&window, table, cluster_id, min_records);
	else
		kpr_prometheus_fetch_partitions(&window, table);
	if (kpr_partition_ignored(table) > 0)
		elog(DEBUG1, "%lld value(s) of topics or partitions the cluster does not have (now) were left out",
			 (long long) kpr_partition_ignored(table));
	/* Confluent reports nothing for a partition without traffic: that is a 0 */
	kpr_partition_send_rows(table, confluent, min_records);
}
