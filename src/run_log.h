/*
 * run_log.h
 *		kpr.collect's run rows, written by a worker in transactions of their
 *		own (run_log.c).
 */
#ifndef KPR_RUN_LOG_H
#define KPR_RUN_LOG_H

#include "worker.h"

/* Worker side of KPR_TASK_RECORD_RUN. */
extern void kpr_run_log_execute(KprRequest *request);

#endif							/* KPR_RUN_LOG_H */
