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
 * KPR_METADATA_ATTEMPT_MS or KPR_POLL_MS) before the error goes on; the
 * clients are destroyed when the group ends well, and otherwise left to the
 * worker's exit, which every error brings.  Errors a thread met are for the
 * caller to raise, once kpr_thread_group_run has returned.  The threads
 * start with every signal blocked.
 */
#include "postgres.h"

#include <pthread.h>
#include <signal.h>
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

/*
 * Stop and join the running group's threads, and destroy their clients, or,
 * when an error or the process's exit is on its way, leave the clients to
 * the process (see release_session in kafka.c: a destroy with requests in
 * flight can abort in librdkafka 2.0.2).
 */
static void
stop_group(bool destroy_clients)
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
		if (thread->client != NULL && destroy_clients)
			rd_kafka_destroy_flags(thread->client, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
		thread->client = NULL;
	}
	running = NULL;
}

/*
 * Start a thread with every signal blocked, so that it never runs a handler
 * meant for the process (PostgreSQL's die, procsignal, latch): those run on
 * the backend's own thread, as http.c does for libcurl's threads.
 */
static int
start_thread(KprThread *thread)
{
	sigset_t	all;
	sigset_t	saved;
	int			result;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	result = pthread_create(&thread->thread, NULL, run_body, thread);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return result;
}

static void
stop_group_at_exit(int code, Datum arg)
{
	stop_group(false);
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
			/* pthread_create returns its error; %m prints errno */
			errno = start_thread(thread);
			if (errno != 0)
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
	PG_CATCH();
	{
		/* a worker ends on any error: its exit takes the clients */
		stop_group(false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	stop_group(true);
}
