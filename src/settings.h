/*
 * settings.h
 *		The kpr.* configuration parameters (defined in kpr.c).  They are read
 *		in the calling backend; a worker gets their values through its
 *		request (tasks.c puts them there).
 */
#ifndef KPR_SETTINGS_H
#define KPR_SETTINGS_H

extern int	kpr_max_workers;
extern int	kpr_kafka_timeout_ms;
extern int	kpr_http_timeout_ms;
extern int	kpr_offset_search;
extern int	kpr_sample_seek_cost;
extern int	kpr_sample_slice_partitions;
extern int	kpr_sample_full_read_records;
extern double kpr_out_of_order_threshold;
extern int	kpr_partition_detail_days;
extern int	kpr_consumer_group_sample_days;

typedef enum KprOffsetSearch
{
	KPR_OFFSET_SEARCH_AUTO,
	KPR_OFFSET_SEARCH_BROKER,
	KPR_OFFSET_SEARCH_BINARY
} KprOffsetSearch;

/* kpr.offset_search as text: "auto", "broker" or "binary" */
extern const char *kpr_offset_search_name(void);

#endif							/* KPR_SETTINGS_H */
