/*
 * task_entries.h
 *		The worker entry point of every task.  Each is defined in the task's
 *		own file and listed in tasks.c; the worker finds it by name
 *		(worker.c), so these are exported.
 */
#ifndef KPR_TASK_ENTRIES_H
#define KPR_TASK_ENTRIES_H

#include "worker.h"

extern PGDLLEXPORT void kpr_task_list_topics(const KprRequest *request);	/* list_topics.c */
extern PGDLLEXPORT void kpr_task_cluster_info(const KprRequest *request);	/* cluster_info.c */
extern PGDLLEXPORT void kpr_task_sample_topics(const KprRequest *request);	/* sample.c */
extern PGDLLEXPORT void kpr_task_fetch_metrics(const KprRequest *request);	/* fetch_metrics.c */
extern PGDLLEXPORT void kpr_task_fetch_partition_metrics(const KprRequest *request);	/* fetch_partition_metrics.c */
extern PGDLLEXPORT void kpr_task_list_consumer_groups(const KprRequest *request);	/* consumer_groups.c */
extern PGDLLEXPORT void kpr_task_record_run(const KprRequest *request);	/* run_log.c */

#endif							/* KPR_TASK_ENTRIES_H */
