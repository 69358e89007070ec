/*
 * tasks.c
 *		The table of tasks (name -> entry point) and the construction of
 *		every request (see tasks.h).
 */
#include "postgres.h"

#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "settings.h"
#include "task_entries.h"
#include "tasks.h"

typedef struct KprTaskEntry
{
	const char *name;			/* as pg_stat_activity shows it */
	const char *entry_point;
	KprTaskFunction function;	/* only so that the compiler checks the name */
} KprTaskEntry;

#define KPR_TASK(name, function) {name, #function, function}

static const KprTaskEntry tasks[] = {
	KPR_TASK("list_topics", kpr_task_list_topics),
	KPR_TASK("cluster_info", kpr_task_cluster_info),
	KPR_TASK("sample_topics", kpr_task_sample_topics),
	KPR_TASK("fetch_metrics", kpr_task_fetch_metrics),
	KPR_TASK("fetch_partition_metrics", kpr_task_fetch_partition_metrics),
	KPR_TASK("list_consumer_groups", kpr_task_list_consumer_groups),
	KPR_TASK("recording a collect run", kpr_task_record_run),
};

KprRequest *
kpr_new_request(const char *task)
{
	KprRequest *request = palloc0(sizeof(KprRequest));

	for (size_t i = 0; i < lengthof(tasks); i++)
		if (strcmp(tasks[i].name, task) == 0)
		{
			request->task = pstrdup(tasks[i].name);
			request->entry_point = pstrdup(tasks[i].entry_point);
		}
	if (request->entry_point == NULL)
		elog(ERROR, "unknown kafka_partition_recommender task \"%s\"", task);
	request->user_name = GetUserNameFromId(GetUserId(), false);
	request->max_workers = kpr_max_workers;
	request->client_min_messages = client_min_messages;
	request->database_id = MyDatabaseId;
	/* the worker logs in as the session user: the current one may be NOLOGIN */
	request->user_id = GetSessionUserId();
	kpr_request_add_argument(request, "kafka_timeout_ms", psprintf("%d", kpr_kafka_timeout_ms));
	return request;
}

KprRequest *
kpr_new_server_request(const char *task, const char *server_name)
{
	KprRequest *request = kpr_new_request(task);
	ForeignServer *server = GetForeignServerByName(server_name, false);
	ForeignDataWrapper *wrapper = GetForeignDataWrapper(server->fdwid);
	Oid			user_id = GetUserId();
	AclResult	acl;
	UserMapping *mapping;

	if (strcmp(wrapper->fdwname, "kafka_partition_recommender") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("server \"%s\" does not belong to the foreign-data wrapper kafka_partition_recommender",
						server_name)));

	acl = pg_foreign_server_aclcheck(server->serverid, user_id, ACL_USAGE);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_FOREIGN_SERVER, server->servername);

	if (!SearchSysCacheExists2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(user_id),
							   ObjectIdGetDatum(server->serverid)) &&
		!SearchSysCacheExists2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							   ObjectIdGetDatum(server->serverid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" has no user mapping for server \"%s\"",
						GetUserNameFromId(user_id, false), server_name),
				 errhint("Create one, with the credentials the cluster needs: CREATE USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS (...); an empty one is enough for a cluster without authentication.",
						 quote_identifier(server_name))));
	mapping = GetUserMapping(user_id, server->serverid);

	request->server_name = pstrdup(server->servername);
	request->options = list_concat(list_copy(server->options), mapping->options);
	return request;
}
