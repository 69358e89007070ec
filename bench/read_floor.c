/*
 * read_floor.c: the protocol's floor for reading a given number of records
 * from each of many partitions with librdkafka: one consumer, every partition
 * of the plan assigned at once at offset "beginning" (assign: no group is
 * joined, nothing committed; librdkafka's default fetch settings), records counted per partition until each has its count, then a
 * clean stop.  bench/broker_sample_bench.sh times it as one process, like a
 * kcat run, against kpr.sample_topics reading the same number of records.
 *
 *   read_floor BOOTSTRAP PLAN_FILE [TIMEOUT_S]
 *
 * PLAN_FILE has one "TOPIC PARTITION COUNT" line per partition (COUNT >= 1).
 * Prints the records counted (the sum of COUNT) on stdout and, on stderr,
 * the records and bytes (key + value) the client delivered, extra records
 * of the last fetches included.  Exit 0 when every partition gave its count;
 * 1 if a partition ended (end of log) short of it, on a consumer error, or
 * after TIMEOUT_S seconds (default 600); 2 on bad usage.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

struct planned_partition {
	char		topic[256];
	int32_t		partition;
	int64_t		wanted;
	int64_t		counted;
	int			done;
};

static volatile sig_atomic_t stop_requested;

static void
on_signal(int signo)
{
	(void) signo;
	stop_requested = 1;
}

static void
fail(int code, const char *fmt, const char *detail)
{
	fprintf(stderr, "read_floor: ");
	fprintf(stderr, fmt, detail);
	fputc('\n', stderr);
	exit(code);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
set_conf(rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char		errstr[512];

	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
		fail(2, "config: %s", errstr);
}

/* Reads the plan; returns the partitions (malloc'd) and sets *count_out. */
static struct planned_partition *
read_plan(const char *path, int *count_out)
{
	FILE	   *file = fopen(path, "r");
	struct planned_partition *plan = NULL;
	int			count = 0;
	int			capacity = 0;
	char		topic[256];
	int32_t		partition;
	int64_t		wanted;
	int			fields;

	if (file == NULL)
		fail(2, "cannot open plan %s", path);
	while ((fields = fscanf(file, "%255s %" SCNd32 " %" SCNd64, topic, &partition, &wanted)) == 3)
	{
		if (partition < 0 || wanted < 1)
			fail(2, "plan %s: partition must be >= 0 and count >= 1", path);
		if (count == capacity)
		{
			capacity = capacity ? capacity * 2 : 256;
			plan = realloc(plan, sizeof(*plan) * capacity);
			if (plan == NULL)
				fail(1, "%s", "out of memory");
		}
		memset(&plan[count], 0, sizeof(plan[count]));
		snprintf(plan[count].topic, sizeof(plan[count].topic), "%s", topic);
		plan[count].partition = partition;
		plan[count].wanted = wanted;
		count++;
	}
	if (fields != EOF || ferror(file))
		fail(2, "plan %s: every line must be TOPIC PARTITION COUNT", path);
	fclose(file);
	if (count == 0)
		fail(2, "plan %s is empty", path);
	*count_out = count;
	return plan;
}

static struct planned_partition *
find_partition(struct planned_partition *plan, int count, const char *topic,
			   int32_t partition)
{
	for (int i = 0; i < count; i++)
		if (plan[i].partition == partition && strcmp(plan[i].topic, topic) == 0)
			return &plan[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	rd_kafka_conf_t *conf;
	rd_kafka_t *consumer;
	rd_kafka_topic_partition_list_t *assignment;
	rd_kafka_resp_err_t err;
	struct planned_partition *plan;
	char		errstr[512];
	int			count;
	int			remaining;
	int64_t		total_wanted = 0;
	int64_t		total_counted = 0;
	int64_t		delivered = 0;
	int64_t		delivered_bytes = 0;
	double		timeout_s = 600;
	double		started;
	int			status = 0;

	if (argc < 3 || argc > 4)
	{
		fprintf(stderr, "usage: %s BOOTSTRAP PLAN_FILE [TIMEOUT_S]\n", argv[0]);
		return 2;
	}
	if (argc == 4 && (timeout_s = strtod(argv[3], NULL)) <= 0)
		fail(2, "TIMEOUT_S must be a positive number, got '%s'", argv[3]);
	plan = read_plan(argv[2], &count);
	remaining = count;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	conf = rd_kafka_conf_new();
	set_conf(conf, "bootstrap.servers", argv[1]);
	set_conf(conf, "client.id", "kpr_read_floor");
	/* librdkafka's assign() needs a group id; no group is joined */
	set_conf(conf, "group.id", "kpr_read_floor");
	set_conf(conf, "enable.auto.commit", "false");
	set_conf(conf, "enable.auto.offset.store", "false");
	set_conf(conf, "enable.partition.eof", "true");
	consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (consumer == NULL)
		fail(1, "cannot create the consumer: %s", errstr);
	rd_kafka_poll_set_consumer(consumer);

	assignment = rd_kafka_topic_partition_list_new(count);
	for (int i = 0; i < count; i++)
	{
		rd_kafka_topic_partition_list_add(assignment, plan[i].topic,
										  plan[i].partition)->offset = RD_KAFKA_OFFSET_BEGINNING;
		total_wanted += plan[i].wanted;
	}
	started = now_s();
	if ((err = rd_kafka_assign(consumer, assignment)) != RD_KAFKA_RESP_ERR_NO_ERROR)
		fail(1, "assign: %s", rd_kafka_err2str(err));
	rd_kafka_topic_partition_list_destroy(assignment);

	while (remaining > 0)
	{
		rd_kafka_message_t *message;
		struct planned_partition *target;
		const char *topic;

		if (stop_requested)
		{
			fprintf(stderr, "read_floor: interrupted\n");
			status = 1;
			break;
		}
		if (now_s() - started > timeout_s)
		{
			fprintf(stderr, "read_floor: %d partitions still short after %.0f s\n",
					remaining, timeout_s);
			status = 1;
			break;
		}
		message = rd_kafka_consumer_poll(consumer, 100);
		if (message == NULL)
			continue;
		topic = message->rkt ? rd_kafka_topic_name(message->rkt) : "";
		target = find_partition(plan, count, topic, message->partition);
		if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
		{
			if (target != NULL && !target->done)
			{
				fprintf(stderr, "read_floor: %s [%" PRId32 "] ended after %" PRId64
						" records, the plan wants %" PRId64 "\n",
						topic, message->partition, target->counted, target->wanted);
				status = 1;
				rd_kafka_message_destroy(message);
				break;
			}
		}
		else if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR)
		{
			fprintf(stderr, "read_floor: consumer error on %s [%" PRId32 "]: %s\n",
					topic, message->partition, rd_kafka_message_errstr(message));
			status = 1;
			rd_kafka_message_destroy(message);
			break;
		}
		else
		{
			delivered++;
			delivered_bytes += (int64_t) message->len + (int64_t) message->key_len;
			if (target != NULL && !target->done && ++target->counted == target->wanted)
			{
				rd_kafka_topic_partition_list_t *done = rd_kafka_topic_partition_list_new(1);

				/* enough of this one: stop fetching it */
				rd_kafka_topic_partition_list_add(done, target->topic, target->partition);
				rd_kafka_pause_partitions(consumer, done);
				rd_kafka_topic_partition_list_destroy(done);
				target->done = 1;
				remaining--;
			}
		}
		rd_kafka_message_destroy(message);
	}

	for (int i = 0; i < count; i++)
		total_counted += plan[i].counted;
	fprintf(stderr, "read_floor: %d partitions, %" PRId64 " records counted of %" PRId64
			" wanted, %" PRId64 " records / %" PRId64 " key+value bytes delivered, %.3f s after assign\n",
			count, total_counted, total_wanted, delivered, delivered_bytes,
			now_s() - started);
	rd_kafka_assign(consumer, NULL);
	rd_kafka_consumer_close(consumer);
	rd_kafka_destroy(consumer);
	if (status == 0)
		printf("%" PRId64 "\n", total_counted);
	free(plan);
	return status;
}
