/*
 * kafka_ranges.c
 *		Read offset ranges of many partitions from start to end, over a few
 *		connections at once: sample_topics' partitions read whole.
 *
 * One librdkafka consumer reading a few hundred partitions is bound by its
 * one connection per broker (a broker serves one fetch of a connection at a
 * time) and its one broker thread: measured on the real broker, 1 GB over
 * 200 partitions took one consumer 10.8-12.8 s where 4 kcat processes at a
 * time took 4.5-5.4 s (bench/README.md).  So the partitions are dealt out to a few extra consumers, each
 * driven by a thread (kafka_threads.c) that calls nothing but librdkafka
 * and the caller's record function (which must not touch PostgreSQL either:
 * it gets each record of a partition on one thread, in offset order).  The
 * backend raises any error a reader met.
 */
#include "postgres.h"

#include "kafka_session.h"
#include "kafka_threads.h"

typedef struct RangeShared
{
	KprRange   *ranges;
	KprRangeRecordFn take;
	int			timeout_ms;		/* without a record, a reader gives up */
} RangeShared;

/* One reader: its ranges, what it read, and why it gave up, if it did. */
typedef struct RangeReader
{
	RangeShared *shared;
	int		   *owned;			/* indexes into ranges, sorted like them */
	int			owned_count;
	int64		records;		/* delivered to take */
	rd_kafka_resp_err_t error;
	int			error_range;	/* -1: not about one partition */
	char		error_text[256];
} RangeReader;

/* The reader's range a message belongs to (ranges are sorted by topic, partition). */
static KprRange *
owned_range(RangeReader *reader, const char *topic, int32 partition)
{
	int			low = 0,
				high = reader->owned_count - 1;

	while (low <= high)
	{
		int			middle = (low + high) / 2;
		KprRange   *range = &reader->shared->ranges[reader->owned[middle]];
		int			order = strcmp(topic, range->topic);

		if (order == 0)
			order = partition < range->partition ? -1 : partition > range->partition;
		if (order == 0)
			return range;
		if (order < 0)
			high = middle - 1;
		else
			low = middle + 1;
	}
	return NULL;
}

/* A range is read: stop fetching its partition. */
static void
finish_range(KprThread *self, KprRange *range)
{
	rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);

	range->done = true;
	rd_kafka_topic_partition_list_add(one, range->topic, range->partition);
	rd_kafka_pause_partitions(self->client, one);
	rd_kafka_topic_partition_list_destroy(one);
}

static void
give_up(KprThread *self, rd_kafka_resp_err_t error, int range, const char *text)
{
	RangeReader *reader = self->arg;

	reader->error = error;
	reader->error_range = range;
	strlcpy(reader->error_text, text, sizeof(reader->error_text));
	self->group->stop = true;
}

/* A thread's body: read its ranges to their ends. */
static void
read_ranges(KprThread *self)
{
	RangeReader *reader = self->arg;
	RangeShared *shared = reader->shared;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(reader->owned_count);
	int			open_ranges = 0;
	int64		progress_ms = kpr_monotonic_ms();
	rd_kafka_resp_err_t error;

	for (int j = 0; j < reader->owned_count; j++)
	{
		KprRange   *range = &shared->ranges[reader->owned[j]];

		if (range->start >= range->end)
		{
			range->done = true;
			continue;
		}
		rd_kafka_topic_partition_list_add(list, range->topic, range->partition)->offset = range->start;
		open_ranges++;
	}
	error = open_ranges > 0 ? rd_kafka_assign(self->client, list) : RD_KAFKA_RESP_ERR_NO_ERROR;
	rd_kafka_topic_partition_list_destroy(list);
	if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		give_up(self, error, -1, rd_kafka_err2str(error));
		return;
	}

	while (open_ranges > 0 && !self->group->stop)
	{
		rd_kafka_message_t *message = rd_kafka_consumer_poll(self->client, KPR_POLL_MS);
		KprRange   *range = NULL;

		if (message == NULL)
		{
			if (kpr_monotonic_ms() - progress_ms > shared->timeout_ms)
				give_up(self, RD_KAFKA_RESP_ERR__TIMED_OUT, -1, "no record within kpr.kafka_timeout");
			continue;
		}
		if (message->rkt != NULL)
			range = owned_range(reader, rd_kafka_topic_name(message->rkt), message->partition);
		if (range == NULL || range->done)
			;					/* not ours, or left over */
		else if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
		{
			finish_range(self, range);
			open_ranges--;
		}
		else if (message->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
				 message->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
				 message->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
		{
			range->gone = true;
			finish_range(self, range);
			open_ranges--;
		}
		else if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR)
			give_up(self, message->err, (int) (range - shared->ranges),
					rd_kafka_message_errstr(message));
		else if (message->offset >= range->start)
		{
			progress_ms = kpr_monotonic_ms();
			if (message->offset < range->end)
			{
				shared->take(range->arg, message);
				reader->records++;
			}
			if (message->offset + 1 >= range->end)
			{
				finish_range(self, range);
				open_ranges--;
			}
		}
		rd_kafka_message_destroy(message);
	}
}

int64
kpr_kafka_read_ranges(KprRange *ranges, int count, KprRangeRecordFn take)
{
	RangeShared shared;
	KprThreadGroup group;
	RangeReader *readers;
	RangeReader *failed = NULL;
	int64		records = 0;

	if (count <= 0)
		return 0;
	memset(&shared, 0, sizeof(shared));
	shared.ranges = ranges;
	shared.take = take;
	shared.timeout_ms = kpr_session.kafka_timeout_ms;

	/* deal the ranges out in turn; each reader's stay in the caller's order */
	memset(&group, 0, sizeof(group));
	group.count = Min(KPR_READ_CLIENTS, count);
	group.threads = palloc0(sizeof(KprThread) * group.count);
	group.body = read_ranges;
	readers = palloc0(sizeof(RangeReader) * group.count);
	for (int t = 0; t < group.count; t++)
	{
		readers[t].shared = &shared;
		readers[t].owned = palloc(sizeof(int) * (count / group.count + 1));
		readers[t].error_range = -1;
		group.threads[t].arg = &readers[t];
	}
	for (int i = 0; i < count; i++)
	{
		RangeReader *reader = &readers[i % group.count];

		ranges[i].done = false;
		ranges[i].gone = false;
		reader->owned[reader->owned_count++] = i;
	}
	kpr_thread_group_run(&group);

	for (int t = 0; t < group.count; t++)
	{
		records += readers[t].records;
		if (readers[t].error != RD_KAFKA_RESP_ERR_NO_ERROR && failed == NULL)
			failed = &readers[t];
	}
	if (failed != NULL)
	{
		if (failed->error == RD_KAFKA_RESP_ERR__TIMED_OUT)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("the Kafka cluster of server \"%s\" did not deliver records within %d ms",
							kpr_session.request->server_name, kpr_session.kafka_timeout_ms),
					 errhint("The brokers answer but are slow to serve fetches; raise kpr.kafka_timeout.")));
		if (failed->error_range >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("could not read topic \"%s\" partition %d on server \"%s\"",
							ranges[failed->error_range].topic, ranges[failed->error_range].partition,
							kpr_session.request->server_name),
					 errdetail("librdkafka: %s", kpr_kafka_redact(failed->error_text))));
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not read from the Kafka cluster of server \"%s\"",
						kpr_session.request->server_name),
				 errdetail("librdkafka: %s", kpr_kafka_redact(failed->error_text))));
	}
	return records;
}
