/*
 * kafka.c
 *		The librdkafka client session of a worker, which the Kafka tasks share
 *		(list_topics.c, cluster_info.c, sample.c, fetch_metrics.c): opening
 *		and closing it, bounded waits, metadata, topic selection and topic
 *		configurations, and the errors that name the server.
 *
 * Rules kept here (measured on librdkafka 2.0.2):
 *	- librdkafka calls that block are bounded (KPR_POLL_MS, or
 *	  KPR_METADATA_ATTEMPT_MS for metadata, which has no asynchronous form),
 *	  with an interrupt check between them, so SIGTERM ends the worker fast;
 *	- librdkafka's callbacks run inside rd_kafka_poll() on this thread and only
 *	  record what happened; they never ereport;
 *	- every librdkafka object is held by the session and released on every
 *	  exit path, queues before the client (a live queue makes
 *	  rd_kafka_destroy() wait forever); after an error or a cancel the
 *	  client itself is left to the worker's exit (see release_session);
 *	- text that comes from librdkafka passes through kpr_kafka_redact() before
 *	  it reaches any message, so no credential can leak into one.
 */
#include "postgres.h"

#include <librdkafka/rdkafka.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "nodes/value.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "kafka_session.h"
#include "options.h"
#include "topic_filter.h"

KafkaSession kpr_session;

/* librdkafka log lines, kept by the callback and logged after each poll */
#define LOG_RING_SIZE	16
static char log_ring[LOG_RING_SIZE][256];
static volatile int log_ring_count;

static void on_error(rd_kafka_t *client, int error, const char *reason, void *opaque);
static void on_log(const rd_kafka_t *client, int level, const char *facility, const char *line);
static void release_session(int code, Datum arg);

/* --- session ------------------------------------------------------------ */

char *
kpr_kafka_redact(const char *text)
{
	char	   *result = pstrdup(text);
	ListCell   *cell;

	foreach(cell, kpr_session.secrets)
	{
		const char *secret = lfirst(cell);
		char	   *found;

		if (secret[0] == '\0')
			continue;
		while ((found = strstr(result, secret)) != NULL)
		{
			StringInfoData replaced;

			initStringInfo(&replaced);
			appendBinaryStringInfo(&replaced, result, found - result);
			appendStringInfoString(&replaced, "[redacted]");
			appendStringInfoString(&replaced, found + strlen(secret));
			pfree(result);
			result = replaced.data;
		}
	}
	return result;
}

const char *
kpr_kafka_option(const char *name)
{
	return kpr_request_option(kpr_session.request, name);
}

const char *
kpr_kafka_argument(const char *name)
{
	return kpr_request_argument(kpr_session.request, name);
}

static void
set_property(rd_kafka_conf_t *conf, const char *name, const char *value,
			 const char **failed_name)
{
	char		errstr[512];

	if (*failed_name == NULL &&
		rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
		*failed_name = name;
}

void
kpr_kafka_open(const KprRequest *request, rd_kafka_type_t type)
{
	rd_kafka_conf_t *conf;
	char		errstr[512];
	char		timeout[32];
	const char *failed_name = NULL;
	ListCell   *cell;

	kpr_session.request = request;
	kpr_session.kafka_timeout_ms = pg_strtoint32(kpr_request_argument(request, "kafka_timeout_ms"));

	/* everything that can ereport happens before librdkafka allocates */
	foreach(cell, request->options)
	{
		DefElem    *option = lfirst_node(DefElem, cell);

		if (kpr_option_is_secret(option->defname))
			kpr_session.secrets = lappend(kpr_session.secrets, strVal(option->arg));
	}
	/* librdkafka's floor for socket.connection.setup.timeout.ms is 1 s */
	snprintf(timeout, sizeof(timeout), "%d", Max(kpr_session.kafka_timeout_ms, 1000));
	if (!kpr_session.exit_callback_registered)
	{
		before_shmem_exit(release_session, 0);
		kpr_session.exit_callback_registered = true;
	}

	conf = rd_kafka_conf_new();

	/*
	 * Every exchange here is a short request waiting for its answer (a
	 * ListOffsets, a fetch after a seek), which Nagle's algorithm holds back
	 * behind the delayed ACK of the one before: measured on a real broker,
	 * sample_topics took 1.3-1.7x as long with it.  The Java clients disable
	 * it too.  A server option may still set it.
	 */
	set_property(conf, "socket.nagle.disable", "true", &failed_name);
	foreach(cell, request->options)
	{
		DefElem    *option = lfirst_node(DefElem, cell);

		if (!kpr_option_is_own(option->defname))
			set_property(conf, option->defname, strVal(option->arg), &failed_name);
	}
	set_property(conf, "bootstrap.servers", kpr_kafka_option("bootstrap_servers"), &failed_name);
	if (kpr_kafka_option("client.id") == NULL)
		set_property(conf, "client.id", "kafka_partition_recommender", &failed_name);
	if (kpr_kafka_option("socket.connection.setup.timeout.ms") == NULL)
		set_property(conf, "socket.connection.setup.timeout.ms", timeout, &failed_name);
	set_property(conf, "log.queue", "true", &failed_name);
	if (type == RD_KAFKA_CONSUMER)
	{
		/* assign() needs a group id; no group is joined and nothing is committed */
		set_property(conf, "group.id", "kafka_partition_recommender", &failed_name);
		set_property(conf, "enable.auto.commit", "false", &failed_name);
		set_property(conf, "enable.auto.offset.store", "false", &failed_name);
		set_property(conf, "enable.partition.eof", "true", &failed_name);
		/*
		 * Keep each partition's fetch moderate.  The local queue keeps
		 * librdkafka's large default limits on purpose: a partition whose
		 * queue is over queued.min.messages or queued.max.messages.kbytes
		 * stops fetching, and librdkafka 2.0.2 does not wake its broker
		 * thread when the queue drains, so the next fetch waits for the
		 * thread's 1 s block time.  Brokers send a whole stored batch (the
		 * mock cluster up to 1 MB) whatever max.partition.fetch.bytes says,
		 * so a 1 MB limit made half the sample rounds wait that second.
		 * 16 KB made a whole read of a partition slow (many small fetches:
		 * 1.6-1.9 s against 0.5-0.8 s with 64 KB for 51 partitions of 1.5 MB
		 * on a real broker); 64 KB x a few hundred partitions stays well
		 * under the queue's 64 MB.  sample.c pauses each partition as soon
		 * as it has read enough.
		 */
		set_property(conf, "fetch.wait.max.ms", "10", &failed_name);
		set_property(conf, "max.partition.fetch.bytes", "65536", &failed_name);
		set_property(conf, "auto.offset.reset", "error", &failed_name);
	}
	if (failed_name != NULL)
	{
		rd_kafka_conf_destroy(conf);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("librdkafka refused option \"%s\" of server \"%s\"",
						failed_name, request->server_name)));
	}
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log);
	/* for kpr_kafka_new_client(); it holds the credentials, freed on close */
	if (type == RD_KAFKA_CONSUMER)
		kpr_session.consumer_conf = rd_kafka_conf_dup(conf);

	kpr_session.client = rd_kafka_new(type, conf, errstr, sizeof(errstr));
	if (kpr_session.client == NULL)
	{
		/* rd_kafka_new() takes the configuration only when it succeeds */
		rd_kafka_conf_destroy(conf);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("could not create a Kafka client for server \"%s\"", request->server_name),
				 errdetail("librdkafka: %s", kpr_kafka_redact(errstr))));
	}
	/* log lines go to the main queue, served by rd_kafka_poll() on this thread */
	rd_kafka_set_log_queue(kpr_session.client, NULL);
}

/* Release every librdkafka object, queues first; safe to call twice. */
void
kpr_kafka_close(void)
{
	if (kpr_session.message != NULL)
		rd_kafka_message_destroy(kpr_session.message);
	kpr_session.message = NULL;
	if (kpr_session.partitions != NULL)
		rd_kafka_topic_partition_list_destroy(kpr_session.partitions);
	kpr_session.partitions = NULL;
	if (kpr_session.metadata != NULL)
		rd_kafka_metadata_destroy(kpr_session.metadata);
	kpr_session.metadata = NULL;
	if (kpr_session.queue != NULL)
		rd_kafka_queue_destroy(kpr_session.queue);
	kpr_session.queue = NULL;
	if (kpr_session.client != NULL)
		rd_kafka_destroy_flags(kpr_session.client, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	kpr_session.client = NULL;
	if (kpr_session.consumer_conf != NULL)
		rd_kafka_conf_destroy(kpr_session.consumer_conf);
	kpr_session.consumer_conf = NULL;
}

/*
 * Another consumer with the session's configuration: its own connections,
 * for requests that a broker would otherwise serve one after another (the
 * thread groups of kafka_threads.c).  Its main queue is never polled, so its
 * callbacks never run; the caller destroys it.
 */
rd_kafka_t *
kpr_kafka_new_client(void)
{
	char		errstr[512];
	rd_kafka_conf_t *conf;
	rd_kafka_t *client;

	Assert(kpr_session.consumer_conf != NULL);
	conf = rd_kafka_conf_dup(kpr_session.consumer_conf);
	client = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (client == NULL)
	{
		rd_kafka_conf_destroy(conf);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("could not create a Kafka client for server \"%s\"",
						kpr_session.request->server_name),
				 errdetail("librdkafka: %s", kpr_kafka_redact(errstr))));
	}
	return client;
}

/*
 * Replace the session's consumer with a fresh one of the same configuration,
 * for the next slice of a large cluster's topics (sample.c).  librdkafka
 * 2.0.2 keeps every topic a client has touched for the client's lifetime,
 * finds a topic by walking that list, and has each broker thread walk all
 * its partitions of those topics on every wake-up (every seek, pause and
 * fetch answer): a client that has touched every topic of a cluster slows
 * with the square of it.  The metadata the session holds stays valid.
 */
void
kpr_kafka_renew_client(void)
{
	rd_kafka_t *client;

	Assert(kpr_session.queue == NULL && kpr_session.partitions == NULL &&
		   kpr_session.message == NULL);
	/* the new one first: if it cannot be made, the session still holds one */
	client = kpr_kafka_new_client();
	rd_kafka_destroy_flags(kpr_session.client, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	kpr_session.client = client;
	rd_kafka_set_log_queue(kpr_session.client, NULL);
}

/* Exit callback: an ERROR or FATAL (SIGTERM) left the task midway. */
static void
release_session(int code, Datum arg)
{
	/*
	 * The process ends: the client is left to it, not destroyed.  librdkafka
	 * 2.0.2 asserts, at random, that a broker's last reference is dropped by
	 * that broker's own thread (rd_kafka_broker_destroy_final, librdkafka
	 * issue 3608), and a destroy while requests are in flight, as after an
	 * error or a cancel, can drop it elsewhere: the abort took the whole
	 * server through crash recovery (1 in about 300 failed calls under
	 * stress).  Exit closes the sockets; nothing of the client outlives the
	 * process.
	 */
	kpr_session.client = NULL;
	kpr_kafka_close();
}

static void
on_error(rd_kafka_t *client, int error, const char *reason, void *opaque)
{
	kpr_session.last_error_code = error;
	strlcpy(kpr_session.last_error, reason, sizeof(kpr_session.last_error));
	if (error == RD_KAFKA_RESP_ERR__AUTHENTICATION)
		kpr_session.authentication_failed = true;
}

static void
on_log(const rd_kafka_t *client, int level, const char *facility, const char *line)
{
	if (log_ring_count < LOG_RING_SIZE)
	{
		snprintf(log_ring[log_ring_count], sizeof(log_ring[0]), "%s: %s", facility, line);
		log_ring_count++;
	}
}

/*
 * Serve librdkafka's callbacks, log what they kept, check for interrupts,
 * and fail at once if the cluster refused our credentials.
 */
void
kpr_kafka_poll(void)
{
	rd_kafka_poll(kpr_session.client, 0);
	for (int i = 0; i < log_ring_count; i++)
		elog(DEBUG1, "librdkafka %s", kpr_kafka_redact(log_ring[i]));
	log_ring_count = 0;
	CHECK_FOR_INTERRUPTS();
	if (kpr_session.authentication_failed)
		kpr_kafka_raise_connection_error();
}

void
kpr_kafka_raise_connection_error(void)
{
	const KprRequest *request = kpr_session.request;
	const char *kafka_user = kpr_kafka_option("sasl.username");
	char	   *detail = kpr_session.last_error[0] ?
		kpr_kafka_redact(kpr_session.last_error) : NULL;

	if (kpr_session.authentication_failed)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("the Kafka cluster of server \"%s\" refused the credentials of user \"%s\"",
						request->server_name, kafka_user ? kafka_user : "(none)"),
				 detail ? errdetail("librdkafka: %s", detail) : 0,
				 errhint("Check \"sasl.username\" and \"sasl.password\" in the user mapping of role \"%s\" for server \"%s\".",
						 request->user_name, request->server_name)));
	ereport(ERROR,
			(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
			 errmsg("could not reach the Kafka cluster of server \"%s\" within %d ms",
					request->server_name, kpr_session.kafka_timeout_ms),
			 detail ? errdetail("librdkafka: %s", detail) : 0,
			 errhint("Check the server's bootstrap_servers and the network path to the brokers, or raise kpr.kafka_timeout.")));
}

TimestampTz
kpr_kafka_deadline(void)
{
	return TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
									   kpr_session.kafka_timeout_ms);
}

/*
 * Cluster metadata for all topics.  rd_kafka_metadata() only blocks, and
 * does not wake on signals, so it is called with short timeouts until the
 * deadline; the connection set-up carries on across attempts.
 */
const rd_kafka_metadata_t *
kpr_kafka_metadata(void)
{
	TimestampTz deadline = kpr_kafka_deadline();

	if (kpr_session.metadata != NULL)
		rd_kafka_metadata_destroy(kpr_session.metadata);
	kpr_session.metadata = NULL;

	for (;;)
	{
		const rd_kafka_metadata_t *metadata;
		rd_kafka_resp_err_t error;

		error = rd_kafka_metadata(kpr_session.client, 1, NULL, &metadata,
								  KPR_METADATA_ATTEMPT_MS);
		if (error == RD_KAFKA_RESP_ERR_NO_ERROR)
		{
			kpr_session.metadata = metadata;
			return metadata;
		}
		if (kpr_session.last_error[0] == '\0' && error != RD_KAFKA_RESP_ERR__TIMED_OUT)
			strlcpy(kpr_session.last_error, rd_kafka_err2str(error),
					sizeof(kpr_session.last_error));
		kpr_kafka_poll();
		if (GetCurrentTimestamp() >= deadline)
			kpr_kafka_raise_connection_error();
	}
}

/* --- topics ------------------------------------------------------------- */

/* qsort: metadata topics by name */
int
kpr_kafka_compare_topics(const void *a, const void *b)
{
	return strcmp((*(const rd_kafka_metadata_topic_t *const *) a)->topic,
				  (*(const rd_kafka_metadata_topic_t *const *) b)->topic);
}

/* bsearch: a topic name against an element of a sorted topic array */
int
kpr_kafka_compare_name_to_topic(const void *name, const void *topic)
{
	return strcmp((const char *) name, (*(const rd_kafka_metadata_topic_t *const *) topic)->topic);
}

/*
 * The topics of the cluster that topic_filter and include_internal select,
 * sorted by name.  Topics the metadata reports as unknown (deleted while we
 * looked) are left out.
 */
const rd_kafka_metadata_topic_t **
kpr_kafka_selected_topics(const rd_kafka_metadata_t *metadata, int *count)
{
	const rd_kafka_metadata_topic_t **selected;

	selected = palloc(sizeof(*selected) * Max(metadata->topic_cnt, 1));
	*count = 0;
	for (int i = 0; i < metadata->topic_cnt; i++)
	{
		const rd_kafka_metadata_topic_t *topic = &metadata->topics[i];

		if (topic->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
			continue;
		if (kpr_topic_selected(kpr_session.request, topic->topic))
			selected[(*count)++] = topic;
	}
	qsort(selected, *count, sizeof(*selected), kpr_kafka_compare_topics);
	return selected;
}

/*
 * The next event of the session's queue (an admin request's result), or NULL
 * if none came before the deadline.  Waits in slices of KPR_POLL_MS, serving
 * the client's callbacks and checking for interrupts between them.  The
 * caller destroys the event.
 */
rd_kafka_event_t *
kpr_kafka_wait_event(TimestampTz deadline)
{
	for (;;)
	{
		rd_kafka_event_t *event = rd_kafka_queue_poll(kpr_session.queue, KPR_POLL_MS);

		if (event != NULL)
			return event;
		kpr_kafka_poll();
		if (GetCurrentTimestamp() >= deadline)
			return NULL;
	}
}

static bool
controller_is_known(const rd_kafka_metadata_t *metadata)
{
	int32		controller = rd_kafka_controllerid(kpr_session.client, 0);

	for (int i = 0; i < metadata->broker_cnt; i++)
		if (metadata->brokers[i].id == controller)
			return true;
	return false;
}

/*
 * retention.ms, cleanup.policy and message.timestamp.type of the given topics (sorted by name), by
 * DescribeConfigs in batches.  Where the cluster cannot answer, the values
 * stay NULL and one NOTICE says why.
 */
KprTopicConfig *
kpr_kafka_topic_configs(const rd_kafka_metadata_topic_t **topics, int count)
{
	KprTopicConfig *configs = palloc0(sizeof(KprTopicConfig) * Max(count, 1));
	const int	batch_size = 1000;
	char	   *problem = NULL;

	/*
	 * librdkafka sends DescribeConfigs to the controller and would wait the
	 * whole timeout for one that is not among the brokers (librdkafka's own
	 * mock cluster names controller 0 and brokers 1..n); real clusters name
	 * one of their brokers.
	 */
	if (count > 0 && !controller_is_known(kpr_session.metadata))
		problem = pstrdup("the cluster's metadata names no known broker as controller");

	for (int first = 0; first < count && problem == NULL; first += batch_size)
	{
		int			batch_count = Min(batch_size, count - first);
		rd_kafka_ConfigResource_t **resources;
		rd_kafka_AdminOptions_t *options;
		rd_kafka_event_t *event = NULL;
		TimestampTz deadline = kpr_kafka_deadline();
		char		errstr[256];

		/* palloc before librdkafka allocates, so nothing leaks on OOM */
		resources = palloc(sizeof(*resources) * batch_count);
		kpr_session.queue = rd_kafka_queue_new(kpr_session.client);
		options = rd_kafka_AdminOptions_new(kpr_session.client, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
		rd_kafka_AdminOptions_set_request_timeout(options, kpr_session.kafka_timeout_ms,
												  errstr, sizeof(errstr));
		for (int i = 0; i < batch_count; i++)
			resources[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC,
													   topics[first + i]->topic);
		rd_kafka_DescribeConfigs(kpr_session.client, resources, batch_count, options,
								 kpr_session.queue);
		rd_kafka_ConfigResource_destroy_array(resources, batch_count);
		rd_kafka_AdminOptions_destroy(options);

		event = kpr_kafka_wait_event(deadline);
		if (event == NULL)
			problem = pstrdup("no answer before kpr.kafka_timeout");
		else
		{
			const rd_kafka_DescribeConfigs_result_t *result =
				rd_kafka_event_DescribeConfigs_result(event);

			if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR || result == NULL)
				problem = kpr_kafka_redact(rd_kafka_event_error_string(event));
			else
			{
				size_t		resource_count;
				const rd_kafka_ConfigResource_t **answers =
					rd_kafka_DescribeConfigs_result_resources(result, &resource_count);

				for (size_t i = 0; i < resource_count; i++)
				{
					const char *name = rd_kafka_ConfigResource_name(answers[i]);
					const rd_kafka_metadata_topic_t **match;
					const rd_kafka_ConfigEntry_t **entries;
					size_t		entry_count;
					KprTopicConfig *config;

					match = bsearch(name, topics, count, sizeof(*topics), kpr_kafka_compare_name_to_topic);
					if (match == NULL)
						continue;
					if (rd_kafka_ConfigResource_error(answers[i]) != RD_KAFKA_RESP_ERR_NO_ERROR)
					{
						if (problem == NULL)
							problem = psprintf("topic \"%s\": %s", name,
											   kpr_kafka_redact(rd_kafka_ConfigResource_error_string(answers[i])));
						continue;
					}
					config = &configs[match - topics];
					entries = rd_kafka_ConfigResource_configs(answers[i], &entry_count);
					for (size_t e = 0; e < entry_count; e++)
					{
						const char *entry_name = rd_kafka_ConfigEntry_name(entries[e]);
						const char *value = rd_kafka_ConfigEntry_value(entries[e]);

						if (value == NULL)
							continue;
						if (strcmp(entry_name, "retention.ms") == 0)
							config->retention_ms = pstrdup(value);
						else if (strcmp(entry_name, "cleanup.policy") == 0)
							config->cleanup_policy = pstrdup(value);
						else if (strcmp(entry_name, "message.timestamp.type") == 0)
							config->timestamp_type = pstrdup(value);
					}
				}
			}
			rd_kafka_event_destroy(event);
		}
		rd_kafka_queue_destroy(kpr_session.queue);
		kpr_session.queue = NULL;
	}

	if (problem != NULL)
		ereport(NOTICE,
				(errmsg("the Kafka cluster of server \"%s\" did not describe topic configurations; retention_ms and cleanup_policy are NULL where unknown",
						kpr_session.request->server_name),
				 errdetail("%s", problem)));
	return configs;
}

/* The cluster id the metadata named (palloc'd), or NULL; no wait. */
char *
kpr_kafka_cluster_id(void)
{
	char	   *cluster_id = rd_kafka_clusterid(kpr_session.client, 0);
	char	   *copy = NULL;

	if (cluster_id != NULL)
	{
		copy = pstrdup(cluster_id);
		rd_kafka_mem_free(kpr_session.client, cluster_id);
	}
	return copy;
}

/* The controller's broker id the metadata named, or -1; no wait. */
int
kpr_kafka_controller_id(void)
{
	return (int) rd_kafka_controllerid(kpr_session.client, 0);
}
