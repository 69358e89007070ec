/*
 * kafka_threads.c
 *		A group of threads, each with its own Kafka client (its own
 *		connections), for work a broker would otherwise serve one request
 *		after another: kafka_offsets.c and kafka_ranges.c.
 *
 * A thread calls nothing but librdkafka and PostgreSQL-free code: no
 * palloc, no ereport, no PostgreSQL state.  The backend creates the clients,
 * starts the threads and waits for them, checking for interrupts; an ERROR
 * meanwhile, or a FATAL (in an exit callback registered after the
 * session's, so run before it), sets the group's stop flag, joins every
 * thread (each ends within one librdkafka call of at most
 * KPR_METADATA_ATTEMPT_MS or KPR_POLL_MS) and destroys the clients before
 * the error goes on.  Errors a thread met are for the caller to raise, once
 * kpr_thread_group_run has returned.
 */
#include "postgres.h"

#include <pthread.h>
#include <time.h>

#include "miscadmin.h"
#include "storage/ipc.h"

#include "kafka_session.h"
#include "kafka_threads.h"

/* The group running now, for the exit callback. */
static KprThreadGroup *running;
static bool exit_callback_registered;

static void *
run_body(void *arg)
{
	KprThread  *self = arg;

	self->group->body(self);
	pg_atomic_fetch_add_u32(&self->group->finished, 1);
	return NULL;
}

/* Stop and join the running group's threads, and destroy their clients. */
static void
stop_group(void)
{
	KprThreadGroup *group = running;

	if (group == NULL)
		return;
	group->stop = true;
	for (int t = 0; t < group->count; t++)
	{
		KprThread  *thread = &group->threads[t];

		if (thread->started)
			pthread_join(thread->thread, NULL);
		thread->started = false;
		if (thread->client != NULL)
			rd_kafka_destroy_flags(thread->client, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
		thread->client = NULL;
	}
	running = NULL;
}

static void
stop_group_at_exit(int code, Datum arg)
{
	stop_group();
}

int64
kpr_monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void
kpr_thread_group_run(KprThreadGroup *group)
{
	Assert(running == NULL);
	if (!exit_callback_registered)
	{
		before_shmem_exit(stop_group_at_exit, 0);
		exit_callback_registered = true;
	}
	group->stop = false;
	pg_atomic_init_u32(&group->finished, 0);
	running = group;
	PG_TRY();
	{
		int			started = 0;

		for (int t = 0; t < group->count; t++)
		{
			KprThread  *thread = &group->threads[t];

			thread->group = group;
			thread->client = kpr_kafka_new_client();
			if (pthread_create(&thread->thread, NULL, run_body, thread) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
						 errmsg("could not start a thread for Kafka requests: %m")));
			thread->started = true;
			started++;
		}
		while (pg_atomic_read_u32(&group->finished) < (uint32) started)
		{
			CHECK_FOR_INTERRUPTS();
			pg_usleep(1000L);
		}
	}
	PG_FINALLY();
	{
		stop_group();
	}
	PG_END_TRY();
}
