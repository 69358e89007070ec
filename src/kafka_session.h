/*
 * kafka_session.h
 *		The librdkafka client session of a worker (kafka.c), shared by the
 *		Kafka tasks: list_topics.c, cluster_info.c, sample.c and
 *		fetch_metrics.c.  A task opens it with its request, and closes it;
 *		an error closes it on the way out.
 */
#ifndef KPR_KAFKA_SESSION_H
#define KPR_KAFKA_SESSION_H

#include <librdkafka/rdkafka.h>

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#include "sample_plan.h"
#include "worker.h"

/* longest wait inside one librdkafka call, between interrupt checks */
#define KPR_POLL_MS					100
/* rd_kafka_metadata() has no asynchronous form: each attempt waits this long */
#define KPR_METADATA_ATTEMPT_MS		500

typedef struct KafkaSession
{
	const KprRequest *request;
	int			kafka_timeout_ms;	/* kpr.kafka_timeout of the call */
	rd_kafka_t *client;
	rd_kafka_conf_t *consumer_conf; /* a copy, for kpr_kafka_new_client() */
	rd_kafka_queue_t *queue;	/* admin results, or the consumer's fetches */
	const rd_kafka_metadata_t *metadata;
	rd_kafka_topic_partition_list_t *partitions;	/* a request in flight */
	rd_kafka_message_t *message;	/* the message being looked at */
	List	   *secrets;		/* credential values, never shown */
	char		last_error[512];	/* as librdkafka reported it (unredacted) */
	int			last_error_code;
	bool		authentication_failed;
	bool		exit_callback_registered;
} KafkaSession;

extern KafkaSession kpr_session;

/* Topic configurations DescribeConfigs gave, or NULLs where none. */
typedef struct KprTopicConfig
{
	char	   *retention_ms;
	char	   *cleanup_policy;
	char	   *timestamp_type;	/* message.timestamp.type */
} KprTopicConfig;

extern void kpr_kafka_open(const KprRequest *request, rd_kafka_type_t type);
extern void kpr_kafka_close(void);
extern void kpr_kafka_poll(void);
extern void kpr_kafka_raise_connection_error(void) pg_attribute_noreturn();
extern TimestampTz kpr_kafka_deadline(void);
extern rd_kafka_event_t *kpr_kafka_wait_event(TimestampTz deadline);
extern const rd_kafka_metadata_t *kpr_kafka_metadata(void);
extern const rd_kafka_metadata_topic_t **kpr_kafka_selected_topics(const rd_kafka_metadata_t *metadata,
																	int *count);
extern char *kpr_kafka_redact(const char *text);
extern const char *kpr_kafka_option(const char *name);
extern const char *kpr_kafka_argument(const char *name);
extern int	kpr_kafka_compare_name_to_topic(const void *name, const void *topic);
extern int	kpr_kafka_compare_topics(const void *a, const void *b);
extern KprTopicConfig *kpr_kafka_topic_configs(const rd_kafka_metadata_topic_t **topics, int count);

extern rd_kafka_t *kpr_kafka_new_client(void);
extern void kpr_kafka_renew_client(void);

/*
 * ListOffsets by timestamp for queries rows of partition_count timestamps
 * (kafka_offsets.c), over up to KPR_LOOKUP_CLIENTS connections at once:
 * offsets and errors get one row per query.  KPR_NO_LOOKUP asks nothing for
 * that partition (its offset is left alone).  A failed request raises the
 * connection error after kpr.kafka_timeout.
 */
#define KPR_LOOKUP_CLIENTS			4
#define KPR_NO_LOOKUP				PG_INT64_MIN
extern void kpr_kafka_offsets_for_times(int queries, int partition_count,
										const char *const *topics, const int32 *partition_ids,
										const int64 *timestamps, int64 *offsets,
										rd_kafka_resp_err_t *errors);

/*
 * Offsets [start, end) of one partition for kpr_kafka_read_ranges
 * (kafka_ranges.c), which reads many over up to KPR_READ_CLIENTS
 * connections at once and calls take(arg, record) for every record in range,
 * on a thread that is not the backend's: take must not touch PostgreSQL.
 * done and gone (the topic was deleted) are set by it.  Ranges must be
 * sorted by topic name, then partition.
 */
typedef struct KprRange
{
	const char *topic;
	int32		partition;
	int64		start;
	int64		end;
	void	   *arg;
	bool		done;
	bool		gone;
} KprRange;

typedef void (*KprRangeRecordFn) (void *arg, rd_kafka_message_t *message);

#define KPR_READ_CLIENTS			4
/* Returns the records given to take. */
extern int64 kpr_kafka_read_ranges(KprRange *ranges, int count, KprRangeRecordFn take);

extern char *kpr_kafka_cluster_id(void);
extern int	kpr_kafka_controller_id(void);

#endif							/* KPR_KAFKA_SESSION_H */
