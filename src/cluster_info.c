/*
 * cluster_info.c
 *		The cluster_info task (kpr.cluster_info): the cluster id and the
 *		brokers of the metadata, which collect records with each run (the
 *		model rounds to a multiple of the broker count).
 */
#include "postgres.h"

#include "kafka_session.h"
#include "task_entries.h"

void
kpr_task_cluster_info(const KprRequest *request)
{
	const rd_kafka_metadata_t *metadata;
	int			controller;
	const char *values[3];

	kpr_kafka_open(request, RD_KAFKA_PRODUCER);
	metadata = kpr_kafka_metadata();
	/* known from the metadata just fetched */
	values[0] = kpr_kafka_cluster_id();
	values[1] = psprintf("%d", metadata->broker_cnt);
	controller = kpr_kafka_controller_id();
	values[2] = controller >= 0 ? psprintf("%d", controller) : NULL;
	kpr_worker_send_row(3, values);
	kpr_kafka_close();
}
