/*
 * kafka_ranges.c
 *		Read offset ranges of many partitions from start to end, over a few
 *		connections at once: sample_topics' partitions read whole.
 *
 * One librdkafka consumer reading a few hundred partitions is bound by its
 * one connection per broker (a broker serves one fetch of a connection at a
 * time) and its one broker thread: measured on the real broker, 1 GB over
 * 200 partitions took one consumer 11-12 s where 4 kcat processes took
 * 4.4 s.  So the partitions are dealt out to a few extra consumers, each
 * driven by a thread that calls nothing but librdkafka and the caller's
 * record function (which must not touch PostgreSQL either: it gets each
 * record of a partition on one thread, in offset order).  The backend waits,
 * checking for interrupts, and raises any error itself; an ERROR or FATAL
 * stops the threads first (each within one poll) as in kafka_offsets.c.
 */
#include "postgres.h"

#include <pthread.h>
#include <time.h>

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"

#include "kafka_session.h"

typedef struct RangeShared
{
	KprRange   *ranges;
	KprRangeRecordFn take;
	int			timeout_ms;		/* without a record, a reader gives up */
	pg_atomic_uint32 finished;	/* threads that have returned */
	volatile bool stop;
} RangeShared;

typedef struct RangeReader
{
	RangeShared *shared;
	rd_kafka_t *client;
	pthread_t	thread;
	bool		started;
	int		   *owned;			/* indexes into ranges, sorted like them */
	int			owned_count;
	int64		records;		/* delivered to take */
	/* why the reader gave up, if it did */
	rd_kafka_resp_err_t error;
	int			error_range;	/* -1: not about one partition */
	char		error_text[256];
} RangeReader;

static RangeReader *running;
static int	running_count;
static bool exit_callback_registered;

static int64
monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* The reader's range a message belongs to (ranges are sorted by topic, partition). */
static KprRange *
owned_range(RangeReader *self, const char *topic, int32 partition)
{
	int			low = 0,
				high = self->owned_count - 1;

	while (low <= high)
	{
		int			middle = (low + high) / 2;
		KprRange   *range = &self->shared->ranges[self->owned[middle]];
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
finish_range(RangeReader *self, KprRange *range)
{
	rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);

	range->done = true;
	rd_kafka_topic_partition_list_add(one, range->topic, range->partition);
	rd_kafka_pause_partitions(self->client, one);
	rd_kafka_topic_partition_list_destroy(one);
}

static void
give_up(RangeReader *self, rd_kafka_resp_err_t error, int range, const char *text)
{
	self->error = error;
	self->error_range = range;
	strlcpy(self->error_text, text, sizeof(self->error_text));
	self->shared->stop = true;
}

static void *
reader_thread(void *arg)
{
	RangeReader *self = arg;
	RangeShared *shared = self->shared;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(self->owned_count);
	int			open_ranges = 0;
	int64		progress_ms = monotonic_ms();
	rd_kafka_resp_err_t error;

	for (int j = 0; j < self->owned_count; j++)
	{
		KprRange   *range = &shared->ranges[self->owned[j]];

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
		open_ranges = 0;
	}

	while (open_ranges > 0 && !shared->stop)
	{
		rd_kafka_message_t *message = rd_kafka_consumer_poll(self->client, KPR_POLL_MS);
		KprRange   *range = NULL;

		if (message == NULL)
		{
			if (monotonic_ms() - progress_ms > shared->timeout_ms)
				give_up(self, RD_KAFKA_RESP_ERR__TIMED_OUT, -1, "no record within kpr.kafka_timeout");
			continue;
		}
		if (message->rkt != NULL)
			range = owned_range(self, rd_kafka_topic_name(message->rkt), message->partition);
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
			progress_ms = monotonic_ms();
			if (message->offset < range->end)
			{
				shared->take(range->arg, message);
				self->records++;
			}
			if (message->offset + 1 >= range->end)
			{
				finish_range(self, range);
				open_ranges--;
			}
		}
		rd_kafka_message_destroy(message);
	}
	pg_atomic_fetch_add_u32(&shared->finished, 1);
	return NULL;
}

static void
stop_readers(void)
{
	for (int t = 0; t < running_count; t++)
		running[t].shared->stop = true;
	for (int t = 0; t < running_count; t++)
	{
		if (running[t].started)
			pthread_join(running[t].thread, NULL);
		running[t].started = false;
		if (running[t].client != NULL)
			rd_kafka_destroy_flags(running[t].client, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
		running[t].client = NULL;
	}
	running = NULL;
	running_count = 0;
}

static void
stop_readers_at_exit(int code, Datum arg)
{
	stop_readers();
}

int64
kpr_kafka_read_ranges(KprRange *ranges, int count, KprRangeRecordFn take)
{
	RangeShared shared;
	RangeReader *readers;
	int			reader_count = Min(KPR_READ_CLIENTS, count);
	volatile int64 records = 0;
	RangeReader *volatile failed = NULL;

	if (count <= 0)
		return 0;
	if (!exit_callback_registered)
	{
		/* registered after the session's: runs before it, at exit */
		before_shmem_exit(stop_readers_at_exit, 0);
		exit_callback_registered = true;
	}
	memset(&shared, 0, sizeof(shared));
	shared.ranges = ranges;
	shared.take = take;
	shared.timeout_ms = kpr_session.kafka_timeout_ms;
	pg_atomic_init_u32(&shared.finished, 0);

	/* deal the ranges out in turn; each reader's stay in the callers' order */
	readers = palloc0(sizeof(RangeReader) * reader_count);
	for (int t = 0; t < reader_count; t++)
	{
		readers[t].shared = &shared;
		readers[t].owned = palloc(sizeof(int) * (count / reader_count + 1));
		readers[t].error_range = -1;
	}
	for (int i = 0; i < count; i++)
	{
		RangeReader *reader = &readers[i % reader_count];

		ranges[i].done = false;
		ranges[i].gone = false;
		reader->owned[reader->owned_count++] = i;
	}

	running = readers;
	running_count = reader_count;
	PG_TRY();
	{
		int			started = 0;

		for (int t = 0; t < reader_count; t++)
		{
			readers[t].client = kpr_kafka_new_client();
			if (pthread_create(&readers[t].thread, NULL, reader_thread, &readers[t]) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
						 errmsg("could not start a thread to read Kafka partitions: %m")));
			readers[t].started = true;
			started++;
		}
		while (pg_atomic_read_u32(&shared.finished) < (uint32) started)
		{
			CHECK_FOR_INTERRUPTS();
			pg_usleep(1000L);
		}
		for (int t = 0; t < reader_count; t++)
		{
			records += readers[t].records;
			if (readers[t].error != RD_KAFKA_RESP_ERR_NO_ERROR && failed == NULL)
				failed = &readers[t];
		}
	}
	PG_FINALLY();
	{
		stop_readers();
	}
	PG_END_TRY();

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
