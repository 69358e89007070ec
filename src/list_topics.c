/*
 * list_topics.c
 *		The list_topics task (kpr.list_topics): the cluster's topics that the
 *		call selects, with their partition count, replication factor and the
 *		configurations the brokers describe.
 */
#include "postgres.h"

#include "kafka_session.h"
#include "task_entries.h"
#include "topic_filter.h"

void
kpr_task_list_topics(const KprRequest *request)
{
	const rd_kafka_metadata_t *metadata;
	const rd_kafka_metadata_topic_t **topics;
	KprTopicConfig *configs;
	int			count;

	kpr_kafka_open(request, RD_KAFKA_PRODUCER);
	metadata = kpr_kafka_metadata();
	topics = kpr_kafka_selected_topics(metadata, &count);
	configs = kpr_kafka_topic_configs(topics, count);

	for (int i = 0; i < count; i++)
	{
		const rd_kafka_metadata_topic_t *topic = topics[i];
		int			replication_factor = 0;
		const char *values[6];

		for (int p = 0; p < topic->partition_cnt; p++)
			replication_factor = Max(replication_factor, topic->partitions[p].replica_cnt);

		values[0] = topic->topic;
		values[1] = psprintf("%d", topic->partition_cnt);
		values[2] = replication_factor > 0 ? psprintf("%d", replication_factor) : NULL;
		values[3] = kpr_topic_is_internal(topic->topic) ? "t" : "f";
		values[4] = configs[i].retention_ms;
		values[5] = configs[i].cleanup_policy;
		kpr_worker_send_row(6, values);
	}
	kpr_kafka_close();
}
