/*
 * fetch_metrics.c
 *		The fetch_metrics task (kpr.fetch_metrics): the Kafka cluster's topics
 *		(for the zero rows of idle topics, and Confluent's cluster id), then
 *		the numbers of the server's metrics source, as rows per topic and day.
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "kafka_session.h"
#include "metrics.h"
#include "metrics_sources.h"
#include "task_entries.h"

typedef struct MetricsSource
{
	const char *name;			/* the value of the server option metrics_source */
	void		(*fetch) (const KprMetricsWindow *window, KprTrafficTable *table,
						  const char *cluster_id);
} MetricsSource;

static void
fetch_from_prometheus(const KprMetricsWindow *window, KprTrafficTable *table,
					  const char *cluster_id)
{
	kpr_prometheus_fetch(window, table);
}

static const MetricsSource sources[] = {
	{KPR_SOURCE_CONFLUENT, kpr_confluent_fetch},
	{KPR_SOURCE_PROMETHEUS, fetch_from_prometheus},
};

void
kpr_task_fetch_metrics(const KprRequest *request)
{
	KprMetricsWindow window;
	const char *source_name = kpr_request_option(request, "metrics_source");
	const MetricsSource *source = NULL;
	const rd_kafka_metadata_topic_t **topics;
	char	  **topic_names;
	int			topic_count;
	char	   *cluster_id;
	KprTrafficTable *table;

	kpr_metrics_begin(request);
	window.first_day_ms = pg_strtoint64(kpr_request_argument(request, "first_day_ms"));
	window.days = pg_strtoint32(kpr_request_argument(request, "days"));
	window.end_ms = pg_strtoint64(kpr_request_argument(request, "end_ms"));

	kpr_kafka_open(request, RD_KAFKA_PRODUCER);
	topics = kpr_kafka_selected_topics(kpr_kafka_metadata(), &topic_count);
	topic_names = palloc(sizeof(char *) * Max(topic_count, 1));
	for (int i = 0; i < topic_count; i++)
		topic_names[i] = pstrdup(topics[i]->topic);
	cluster_id = kpr_kafka_cluster_id();
	/* the HTTP part needs no Kafka connection */
	kpr_kafka_close();

	for (size_t i = 0; i < lengthof(sources) && source_name != NULL; i++)
		if (strcmp(sources[i].name, source_name) == 0)
			source = &sources[i];
	/* kpr.fetch_metrics refused any other value before starting the worker */
	if (source == NULL)
		elog(ERROR, "metrics source \"%s\" has no fetcher", source_name ? source_name : "(none)");

	table = kpr_traffic_create(&window);
	source->fetch(&window, table, cluster_id);
	kpr_traffic_send_rows(table, topic_names, topic_count);
}
