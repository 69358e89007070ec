/*
 * kafka_offsets.c
 *		ListOffsets by timestamp for many timestamps of the same partitions:
 *		sample_topics' hourly boundaries, 24 a day.
 *
 * A partition may appear once per ListOffsets request, so the protocol needs
 * one request per timestamp.  rd_kafka_offsets_for_times() (librdkafka
 * 2.0.2 has no asynchronous form) blocks for its answer, and a broker serves
 * one request of a connection at a time, while its answer costs it CPU for
 * every partition (it scans the record batch holding the offset).  So the
 * requests are spread over a few extra clients, each its own connection,
 * each driven by a thread that calls nothing but librdkafka: the broker
 * answers them on several request handler threads at once.  The backend
 * thread waits, checking for interrupts, and raises any error itself.
 *
 * A thread never allocates with palloc, never reports, never touches
 * PostgreSQL state: it reads the timestamps and writes its own rows of
 * offsets and errors.  An ERROR while they run stops them (each ends within
 * one attempt) before it goes on; a FATAL does the same in an exit callback.
 */
#include "postgres.h"

#include <pthread.h>
#include <time.h>

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"

#include "kafka_session.h"

typedef struct LookupShared
{
	int			queries;
	int			partition_count;
	const char *const *topics;
	const int32 *partition_ids;
	const int64 *timestamps;	/* queries x partition_count */
	int64	   *offsets;
	rd_kafka_resp_err_t *errors;
	int			timeout_ms;		/* for each query, from its first attempt */
	pg_atomic_uint32 next_query;
	pg_atomic_uint32 finished;	/* threads that have returned */
	volatile bool stop;
} LookupShared;

typedef struct LookupThread
{
	LookupShared *shared;
	rd_kafka_t *client;
	pthread_t	thread;
	bool		started;
	rd_kafka_resp_err_t error;	/* why the thread gave up, if it did */
} LookupThread;

/* The threads running now, for the exit callback. */
static LookupThread *running;
static int	running_count;
static bool exit_callback_registered;

static int64
monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/*
 * One query (a row of timestamps) on one client; false when it gave up, no
 * answer within kpr.kafka_timeout of its first attempt (as for a single
 * request: a call of many queries may take longer than that in all).
 */
static bool
answer_query(LookupThread *self, int query)
{
	LookupShared *shared = self->shared;
	const int64 *timestamps = shared->timestamps + (size_t) query * shared->partition_count;
	int64	   *offsets = shared->offsets + (size_t) query * shared->partition_count;
	rd_kafka_resp_err_t *errors = shared->errors + (size_t) query * shared->partition_count;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(shared->partition_count);
	int		   *asked = malloc(sizeof(int) * (shared->partition_count + 1));
	bool		answered = false;
	int64		deadline_ms = monotonic_ms() + shared->timeout_ms;

	if (asked == NULL)
	{
		rd_kafka_topic_partition_list_destroy(list);
		self->error = RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE;
		return false;
	}
	for (int i = 0; i < shared->partition_count; i++)
		if (timestamps[i] != KPR_NO_LOOKUP)
		{
			asked[list->cnt] = i;
			rd_kafka_topic_partition_list_add(list, shared->topics[i],
											  shared->partition_ids[i])->offset = timestamps[i];
		}
	while (list->cnt > 0 && !shared->stop)
	{
		rd_kafka_resp_err_t error = rd_kafka_offsets_for_times(self->client, list,
															   KPR_METADATA_ATTEMPT_MS);

		if (error == RD_KAFKA_RESP_ERR_NO_ERROR)
		{
			for (int j = 0; j < list->cnt; j++)
			{
				offsets[asked[j]] = list->elems[j].offset;
				errors[asked[j]] = list->elems[j].err;
			}
			answered = true;
			break;
		}
		if (monotonic_ms() >= deadline_ms)
		{
			self->error = error;
			break;
		}
		/* reset what a failed attempt may have written */
		for (int j = 0; j < list->cnt; j++)
			list->elems[j].offset = timestamps[asked[j]];
	}
	if (list->cnt == 0)
		answered = true;
	free(asked);
	rd_kafka_topic_partition_list_destroy(list);
	return answered || shared->stop;
}

static void *
lookup_thread(void *arg)
{
	LookupThread *self = arg;
	LookupShared *shared = self->shared;

	while (!shared->stop)
	{
		uint32		query = pg_atomic_fetch_add_u32(&shared->next_query, 1);

		if (query >= (uint32) shared->queries)
			break;
		if (!answer_query(self, (int) query))
		{
			shared->stop = true;	/* the call fails: the others stop too */
			break;
		}
	}
	pg_atomic_fetch_add_u32(&shared->finished, 1);
	return NULL;
}

/* Stop and join the running threads, and destroy their clients. */
static void
stop_threads(void)
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
stop_threads_at_exit(int code, Datum arg)
{
	stop_threads();
}

void
kpr_kafka_offsets_for_times(int queries, int partition_count, const char *const *topics,
							const int32 *partition_ids, const int64 *timestamps,
							int64 *offsets, rd_kafka_resp_err_t *errors)
{
	LookupShared shared;
	LookupThread *threads;
	int			thread_count = Min(KPR_LOOKUP_CLIENTS, queries);
	volatile rd_kafka_resp_err_t failure = RD_KAFKA_RESP_ERR_NO_ERROR;

	if (queries <= 0 || partition_count <= 0)
		return;
	if (!exit_callback_registered)
	{
		/* registered after the session's: runs before it, at exit */
		before_shmem_exit(stop_threads_at_exit, 0);
		exit_callback_registered = true;
	}
	memset(&shared, 0, sizeof(shared));
	shared.queries = queries;
	shared.partition_count = partition_count;
	shared.topics = topics;
	shared.partition_ids = partition_ids;
	shared.timestamps = timestamps;
	shared.offsets = offsets;
	shared.errors = errors;
	shared.timeout_ms = kpr_session.kafka_timeout_ms;
	pg_atomic_init_u32(&shared.next_query, 0);
	pg_atomic_init_u32(&shared.finished, 0);
	for (size_t i = 0; i < (size_t) queries * partition_count; i++)
		errors[i] = RD_KAFKA_RESP_ERR_NO_ERROR;

	threads = palloc0(sizeof(LookupThread) * thread_count);
	running = threads;
	running_count = thread_count;
	PG_TRY();
	{
		int			started = 0;

		for (int t = 0; t < thread_count; t++)
		{
			threads[t].shared = &shared;
			threads[t].client = kpr_kafka_new_client();
			if (pthread_create(&threads[t].thread, NULL, lookup_thread, &threads[t]) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
						 errmsg("could not start a thread for ListOffsets requests: %m")));
			threads[t].started = true;
			started++;
		}
		while (pg_atomic_read_u32(&shared.finished) < (uint32) started)
		{
			CHECK_FOR_INTERRUPTS();
			pg_usleep(1000L);
		}
		for (int t = 0; t < thread_count; t++)
			if (threads[t].error != RD_KAFKA_RESP_ERR_NO_ERROR && failure == RD_KAFKA_RESP_ERR_NO_ERROR)
				failure = threads[t].error;
	}
	PG_FINALLY();
	{
		stop_threads();
	}
	PG_END_TRY();
	pfree(threads);

	if (failure != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		if (failure != RD_KAFKA_RESP_ERR__TIMED_OUT)
			strlcpy(kpr_session.last_error, rd_kafka_err2str(failure), sizeof(kpr_session.last_error));
		kpr_kafka_raise_connection_error();
	}
}
