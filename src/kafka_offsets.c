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
 * The threads (kafka_threads.c) read the timestamps and write their own rows
 * of offsets and errors.
 */
#include "postgres.h"

#include "kafka_session.h"
#include "kafka_threads.h"

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
} LookupShared;

/* What one thread did. */
typedef struct LookupThread
{
	LookupShared *shared;
	rd_kafka_resp_err_t error;	/* why the thread gave up, if it did */
} LookupThread;

/*
 * One query (a row of timestamps) on one client; false when it gave up, no
 * answer within kpr.kafka_timeout of its first attempt (as for a single
 * request: a call of many queries may take longer than that in all).
 */
static bool
answer_query(KprThread *self, int query)
{
	LookupThread *mine = self->arg;
	LookupShared *shared = mine->shared;
	const int64 *timestamps = shared->timestamps + (size_t) query * shared->partition_count;
	int64	   *offsets = shared->offsets + (size_t) query * shared->partition_count;
	rd_kafka_resp_err_t *errors = shared->errors + (size_t) query * shared->partition_count;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(shared->partition_count);
	int		   *asked = malloc(sizeof(int) * (shared->partition_count + 1));
	bool		answered = false;
	int64		deadline_ms = kpr_monotonic_ms() + shared->timeout_ms;

	if (asked == NULL)
	{
		rd_kafka_topic_partition_list_destroy(list);
		mine->error = RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE;
		return false;
	}
	for (int i = 0; i < shared->partition_count; i++)
		if (timestamps[i] != KPR_NO_LOOKUP)
		{
			asked[list->cnt] = i;
			rd_kafka_topic_partition_list_add(list, shared->topics[i],
											  shared->partition_ids[i])->offset = timestamps[i];
		}
	while (list->cnt > 0 && !self->group->stop)
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
		if (kpr_monotonic_ms() >= deadline_ms)
		{
			mine->error = error;
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
	return answered || self->group->stop;
}

/* A thread's body: queries in turn, until none is left or one failed. */
static void
lookup_queries(KprThread *self)
{
	LookupShared *shared = ((LookupThread *) self->arg)->shared;

	while (!self->group->stop)
	{
		uint32		query = pg_atomic_fetch_add_u32(&shared->next_query, 1);

		if (query >= (uint32) shared->queries)
			break;
		if (!answer_query(self, (int) query))
		{
			self->group->stop = true;	/* the call fails: the others stop too */
			break;
		}
	}
}

void
kpr_kafka_offsets_for_times(int queries, int partition_count, const char *const *topics,
							const int32 *partition_ids, const int64 *timestamps,
							int64 *offsets, rd_kafka_resp_err_t *errors)
{
	LookupShared shared;
	KprThreadGroup group;
	LookupThread *mine;
	rd_kafka_resp_err_t failure = RD_KAFKA_RESP_ERR_NO_ERROR;

	if (queries <= 0 || partition_count <= 0)
		return;
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
	for (size_t i = 0; i < (size_t) queries * partition_count; i++)
		errors[i] = RD_KAFKA_RESP_ERR_NO_ERROR;

	memset(&group, 0, sizeof(group));
	group.count = Min(KPR_LOOKUP_CLIENTS, queries);
	group.threads = palloc0(sizeof(KprThread) * group.count);
	group.body = lookup_queries;
	mine = palloc0(sizeof(LookupThread) * group.count);
	for (int t = 0; t < group.count; t++)
	{
		mine[t].shared = &shared;
		group.threads[t].arg = &mine[t];
	}
	kpr_thread_group_run(&group);

	for (int t = 0; t < group.count && failure == RD_KAFKA_RESP_ERR_NO_ERROR; t++)
		failure = mine[t].error;
	if (failure != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		if (failure != RD_KAFKA_RESP_ERR__TIMED_OUT)
			strlcpy(kpr_session.last_error, rd_kafka_err2str(failure), sizeof(kpr_session.last_error));
		kpr_kafka_raise_connection_error();
	}
}
