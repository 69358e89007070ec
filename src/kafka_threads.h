/*
 * kafka_threads.h
 *		A group of threads with a Kafka client each (kafka_threads.c), for
 *		kafka_offsets.c and kafka_ranges.c.
 */
#ifndef KPR_KAFKA_THREADS_H
#define KPR_KAFKA_THREADS_H

#include <pthread.h>

#include <librdkafka/rdkafka.h>

#include "port/atomics.h"

typedef struct KprThreadGroup KprThreadGroup;

typedef struct KprThread
{
	KprThreadGroup *group;
	rd_kafka_t *client;			/* its own, created by kpr_thread_group_run */
	void	   *arg;			/* the caller's, for its body */
	pthread_t	thread;
	bool		started;
} KprThread;

struct KprThreadGroup
{
	KprThread  *threads;
	int			count;
	/* runs on each thread: librdkafka and PostgreSQL-free code only */
	void		(*body) (KprThread *self);
	volatile bool stop;			/* set by the backend, or by a body that failed */
	pg_atomic_uint32 finished;
};

/*
 * Give each thread a client, run the bodies and wait for all of them,
 * checking for interrupts; on an error, or at exit, stop and join them
 * first.  The clients are destroyed when it returns.
 */
extern void kpr_thread_group_run(KprThreadGroup *group);

/* A clock for deadlines on the threads (CLOCK_MONOTONIC, ms). */
extern int64 kpr_monotonic_ms(void);

#endif							/* KPR_KAFKA_THREADS_H */
