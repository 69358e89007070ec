/*
 * tasks.h
 *		The tasks a worker can run, and the requests that start them: the one
 *		place where a request is built (the caller's settings, and for a task
 *		on a server, that server's options and the caller's user mapping).
 *
 * Adding a task: its file (an entry point, declared in task_entries.h), a
 * row of the table in tasks.c, and the SQL-callable function that builds
 * its request here and runs it with kpr_run_in_worker().
 */
#ifndef KPR_TASKS_H
#define KPR_TASKS_H

#include "worker.h"

/*
 * A request for the task named task (a row of tasks.c's table) on behalf of
 * the current role, without a server: the caller fills server_name.
 */
extern KprRequest *kpr_new_request(const char *task);

/*
 * A request for the task on the server: it must exist, belong to this
 * wrapper and be usable by the current role, which needs a user mapping for
 * it (its own or PUBLIC's).  The request gets the server's options followed
 * by the mapping's.
 */
extern KprRequest *kpr_new_server_request(const char *task, const char *server_name);

#endif							/* KPR_TASKS_H */
