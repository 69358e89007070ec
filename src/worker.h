/*
 * worker.h
 *		Running a network task in a dynamic background worker.
 *
 * The calling backend describes a task as a KprRequest; kpr_run_in_worker()
 * starts a worker, hands it the request through a DSM segment, and stores the
 * rows the worker streams back in the function's tuplestore.  Errors and
 * notices raised in the worker reach the caller with their SQLSTATE, detail
 * and hint.
 */
#ifndef KPR_WORKER_H
#define KPR_WORKER_H

#include "fmgr.h"
#include "nodes/pg_list.h"

typedef enum KprTask
{
	KPR_TASK_LIST_TOPICS = 1,
	KPR_TASK_SAMPLE_TOPICS,
	KPR_TASK_FETCH_METRICS,
	KPR_TASK_CLUSTER_INFO,
	KPR_TASK_RECORD_RUN			/* the one task that writes to the database */
} KprTask;

typedef struct KprRequest
{
	KprTask		task;
	char	   *server_name;	/* foreign server, for messages */
	char	   *user_name;		/* role whose user mapping is used, for messages */
	List	   *options;		/* DefElem: server options, then user mapping's */
	List	   *arguments;		/* DefElem: the SQL function's arguments, as text */
	int			kafka_timeout_ms;	/* kpr.kafka_timeout at call time */
	int			max_workers;	/* kpr.max_workers at call time */
	int			client_min_messages;	/* the caller's, so DEBUG reaches it too */
	Oid			database_id;	/* worker connects here (never reads it) */
	Oid			user_id;
} KprRequest;

/* Backend side: run the request and materialize its rows as the SRF result. */
extern void kpr_run_in_worker(FunctionCallInfo fcinfo, KprRequest *request);

/* Worker side: send one result row; values[i] == NULL is SQL NULL. */
extern void kpr_worker_send_row(int nfields, const char *const *values);

/* "list_topics", ... for messages. */
extern const char *kpr_task_name(KprTask task);

/* Backend side: add a named argument (text) to a request. */
extern void kpr_request_add_argument(KprRequest *request, const char *name, char *value);

/* Worker side: the value of a request option or argument, or NULL. */
extern const char *kpr_request_get(List *pairs, const char *name);

/* Entry point the postmaster calls in the worker process. */
extern PGDLLEXPORT void kpr_worker_main(Datum main_arg);

/* Settings (src/kpr.c); the worker gets their values through the request. */
extern int	kpr_max_workers;
extern int	kpr_kafka_timeout_ms;
extern int	kpr_http_timeout_ms;
extern int	kpr_offset_search;

typedef enum KprOffsetSearch
{
	KPR_OFFSET_SEARCH_AUTO,
	KPR_OFFSET_SEARCH_BROKER,
	KPR_OFFSET_SEARCH_BINARY
} KprOffsetSearch;

extern const char *kpr_offset_search_name(void);

#endif							/* KPR_WORKER_H */
