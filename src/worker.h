/*
 * worker.h
 *		Running a task in a dynamic background worker: the transport.
 *
 * The calling backend describes a task as a KprRequest (tasks.c builds
 * them); kpr_run_in_worker() starts a worker, hands it the request through a
 * DSM segment, and stores the rows the worker streams back in the
 * function's tuplestore.  Errors and notices raised in the worker reach the
 * caller with their SQLSTATE, detail and hint.  The worker calls the
 * request's entry point, a function of this library found by name (as
 * PostgreSQL's parallel.c finds a parallel worker's); this file knows
 * nothing of what the tasks do.
 */
#ifndef KPR_WORKER_H
#define KPR_WORKER_H

#include "fmgr.h"
#include "nodes/pg_list.h"

typedef struct KprRequest
{
	char	   *task;			/* what the worker does, for pg_stat_activity
								 * ("<task> on server <server_name>") */
	char	   *entry_point;	/* exported KprTaskFunction of this library */
	char	   *server_name;	/* foreign server, for messages */
	char	   *user_name;		/* role whose user mapping is used, for messages */
	List	   *options;		/* DefElem: server options, then user mapping's */
	List	   *arguments;		/* DefElem: the task's arguments, as text */
	int			max_workers;	/* kpr.max_workers at call time */
	int			client_min_messages;	/* the caller's, so DEBUG reaches it too */
	Oid			database_id;	/* worker connects here */
	Oid			user_id;
} KprRequest;

/* A task's entry point, run in the worker; rows go out by kpr_worker_send_row. */
typedef void (*KprTaskFunction) (const KprRequest *request);

/* Backend side: run the request and materialize its rows as the SRF result. */
extern void kpr_run_in_worker(FunctionCallInfo fcinfo, KprRequest *request);

/* Backend side: add a named argument (text) to a request. */
extern void kpr_request_add_argument(KprRequest *request, const char *name, char *value);

/* Worker side: send one result row; values[i] == NULL is SQL NULL. */
extern void kpr_worker_send_row(int nfields, const char *const *values);

/* Either side: a request's option (the mapping's over the server's) or argument, or NULL. */
extern const char *kpr_request_option(const KprRequest *request, const char *name);
extern const char *kpr_request_argument(const KprRequest *request, const char *name);

/* Entry point the postmaster calls in the worker process. */
extern PGDLLEXPORT void kpr_worker_main(Datum main_arg);

#endif							/* KPR_WORKER_H */
