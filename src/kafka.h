/*
 * kafka.h
 *		The Kafka tasks a worker runs (librdkafka; worker process only).
 */
#ifndef KPR_KAFKA_H
#define KPR_KAFKA_H

#include "worker.h"

/* Run request->task, sending rows with kpr_worker_send_row(). */
extern void kpr_kafka_run(KprRequest *request);

#endif							/* KPR_KAFKA_H */
