/*
 * partition_traffic.h
 *		The per-partition, per-day traffic table the metrics sources fill for
 *		kpr.fetch_partition_metrics (fetch_partition_metrics.c), and the rows
 *		it becomes.
 *
 * The table holds the cluster's selected topics, each with the partition
 * count its metadata gives: values for other topics, or for partition ids
 * past that count (a topic deleted and created again with fewer), are
 * ignored and counted.  A value set twice keeps the last one.
 */
#ifndef KPR_PARTITION_TRAFFIC_H
#define KPR_PARTITION_TRAFFIC_H

#include "metrics.h"

typedef enum KprPartitionMeasure
{
	KPR_PARTITION_RECORDS,
	KPR_PARTITION_BYTES,
	KPR_PARTITION_MEASURE_COUNT
} KprPartitionMeasure;

typedef struct KprPartitionTable KprPartitionTable;

extern KprPartitionTable *kpr_partition_table_create(const KprMetricsWindow *window,
													 char **topics, const int *partition_counts,
													 int topic_count);
/* The partition count of a topic of the table, or -1 if it is not one. */
extern int	kpr_partition_count(KprPartitionTable *table, const char *topic);
/* Store a value for the day holding time_ms (ignored outside the window). */
extern void kpr_partition_set(KprPartitionTable *table, const char *topic, int32 partition,
							  int64 time_ms, KprPartitionMeasure measure, double value);
/* The source reports bytes (else bytes_in is NULL in every row). */
extern void kpr_partition_provides_bytes(KprPartitionTable *table);
/* Values that were ignored: not a topic or partition of the table. */
extern int64 kpr_partition_ignored(KprPartitionTable *table);

/*
 * Send the rows (topic, day, partition, records_in, bytes_in), by topic,
 * day and partition, for each day a topic has a value.  absent_is_zero:
 * the source reports nothing for a partition without traffic (Confluent),
 * so its other partitions get zeros that day; else (Prometheus) a partition
 * without a value has no row.  Only topics whose busiest day reached
 * min_records records are sent.
 */
extern void kpr_partition_send_rows(KprPartitionTable *table, bool absent_is_zero,
									int64 min_records);

/*
 * The sources: Confluent's figures per partition (metrics_confluent.c), and
 * Prometheus' log-end offsets (metrics_prometheus_partitions.c).
 */
extern void kpr_confluent_fetch_partitions(const KprMetricsWindow *window,
										   KprPartitionTable *table,
										   const char *cluster_id, int64 min_records);
extern void kpr_prometheus_fetch_partitions(const KprMetricsWindow *window,
											KprPartitionTable *table);

#endif							/* KPR_PARTITION_TRAFFIC_H */
