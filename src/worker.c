/*
 * worker.c
 *		Runs a network task in a dynamic background worker and streams its
 *		rows back to the calling backend.
 *
 * Why a worker: the backend never hosts librdkafka's threads or a blocking
 * socket, so statement_timeout and pg_cancel_backend always work, and each
 * call starts clean and leaves nothing behind.
 *
 * Protocol.  The backend creates a DSM segment holding the serialized
 * request and one shm_mq, registers a worker (no shared_preload_libraries
 * needed) and reads the queue.  The worker redirects its error reporting to
 * the queue (pq_redirect_to_shm_mq), so an ereport() there arrives as an 'E'
 * or 'N' message; rows are 'D' messages (field count, then each field as a
 * length-prefixed text or -1 for NULL) and 'C' says the task finished.  Rows
 * and errors thus share one ordered channel.
 *
 * Clean-up.  If the backend errors out, is cancelled or dies, resource-owner
 * clean-up detaches the segment and the detach callback terminates the
 * worker, whose SIGTERM handler (die) stops it at its next interrupt check.
 * After a normal finish the backend waits for the worker to exit, so its
 * slot is free before the call returns.
 *
 * The worker connects to the caller's database so that it appears in
 * pg_stat_activity (and pg_terminate_backend reaches it); this file never
 * reads the database, and of the tasks only the run log writes to it
 * (record_run.c).  At most kpr.max_workers run at once, cluster-wide: each
 * worker holds one of that many session-level advisory lock slots, released
 * by the lock manager however the process exits.
 *
 * The task.  The request names its entry point, a function of this library
 * that the worker looks up with load_external_function() and calls with the
 * request; tasks.c lists them.
 */
#include "postgres.h"

#include <sys/resource.h>

#include "access/xact.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "nodes/makefuncs.h"
#include "libpq/pqmq.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "worker.h"

#define KPR_SHM_MAGIC		0x6b707231	/* "kpr1" */
#define KPR_TOC_REQUEST		1
#define KPR_TOC_QUEUE		2
#define KPR_QUEUE_SIZE		(64 * 1024)

/* message types on the queue, besides 'E' and 'N' from ereport */
#define KPR_MESSAGE_ROW		'D'
#define KPR_MESSAGE_DONE	'C'

/* advisory lock space of the worker slots; database 0 keeps it cluster-wide */
#define KPR_SLOT_LOCK_KEY	0x6b707200
#define KPR_SLOT_LOCK_KIND	0x6b70

#define KPR_WORKER_TYPE		"kafka_partition_recommender worker"

/* --- request (de)serialization ------------------------------------------ */

static void
put_text(StringInfo buffer, const char *text)
{
	int			length = strlen(text);

	pq_sendint32(buffer, length);
	pq_sendbytes(buffer, text, length);
}

static char *
get_text(StringInfo buffer)
{
	int			length = pq_getmsgint(buffer, 4);

	return pnstrdup(pq_getmsgbytes(buffer, length), length);
}

static void
put_pairs(StringInfo buffer, List *pairs)
{
	ListCell   *cell;

	pq_sendint32(buffer, list_length(pairs));
	foreach(cell, pairs)
	{
		DefElem    *pair = lfirst_node(DefElem, cell);

		put_text(buffer, pair->defname);
		put_text(buffer, strVal(pair->arg));
	}
}

static List *
get_pairs(StringInfo buffer)
{
	int			count = pq_getmsgint(buffer, 4);
	List	   *pairs = NIL;

	for (int i = 0; i < count; i++)
	{
		char	   *name = get_text(buffer);
		char	   *value = get_text(buffer);

		pairs = lappend(pairs, makeDefElem(name, (Node *) makeString(value), -1));
	}
	return pairs;
}

static void
serialize_request(StringInfo buffer, const KprRequest *request)
{
	put_text(buffer, request->task);
	put_text(buffer, request->entry_point);
	put_text(buffer, request->server_name);
	put_text(buffer, request->user_name);
	put_pairs(buffer, request->options);
	put_pairs(buffer, request->arguments);
	pq_sendint32(buffer, request->max_workers);
	pq_sendint32(buffer, request->client_min_messages);
	pq_sendint32(buffer, request->database_id);
	pq_sendint32(buffer, request->user_id);
}

static void
deserialize_request(StringInfo buffer, KprRequest *request)
{
	request->task = get_text(buffer);
	request->entry_point = get_text(buffer);
	request->server_name = get_text(buffer);
	request->user_name = get_text(buffer);
	request->options = get_pairs(buffer);
	request->arguments = get_pairs(buffer);
	request->max_workers = pq_getmsgint(buffer, 4);
	request->client_min_messages = pq_getmsgint(buffer, 4);
	request->database_id = pq_getmsgint(buffer, 4);
	request->user_id = pq_getmsgint(buffer, 4);
}

void
kpr_request_add_argument(KprRequest *request, const char *name, char *value)
{
	request->arguments = lappend(request->arguments,
								 makeDefElem(pstrdup(name), (Node *) makeString(value), -1));
}

/* The last occurrence of name in pairs: user mapping options follow server options. */
static const char *
last_value(List *pairs, const char *name)
{
	ListCell   *cell;
	const char *value = NULL;

	foreach(cell, pairs)
	{
		DefElem    *pair = lfirst_node(DefElem, cell);

		if (strcmp(pair->defname, name) == 0)
			value = strVal(pair->arg);
	}
	return value;
}

const char *
kpr_request_option(const KprRequest *request, const char *name)
{
	return last_value(request->options, name);
}

const char *
kpr_request_argument(const KprRequest *request, const char *name)
{
	return last_value(request->arguments, name);
}

/* --- backend side ------------------------------------------------------- */

/*
 * Detach callback: whatever ended the call (normal end, ERROR, cancel, FATAL),
 * the worker must not outlive it.  Terminating a worker that already exited
 * is harmless.
 */
static void
terminate_worker_on_detach(dsm_segment *segment, Datum handle)
{
	TerminateBackgroundWorker((BackgroundWorkerHandle *) DatumGetPointer(handle));
}

static void
store_row(StringInfo message, Tuplestorestate *store, AttInMetadata *attinmeta)
{
	int			field_count = pq_getmsgint(message, 2);
	char	  **values;
	HeapTuple	tuple;

	if (field_count != attinmeta->tupdesc->natts)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("kafka_partition_recommender worker sent %d fields, the function returns %d",
						field_count, attinmeta->tupdesc->natts),
				 errhint("The extension's SQL objects are older than its library: run ALTER EXTENSION kafka_partition_recommender UPDATE.")));

	values = palloc(field_count * sizeof(char *));
	for (int i = 0; i < field_count; i++)
	{
		int			length = pq_getmsgint(message, 4);

		if (length < 0)
		{
			values[i] = NULL;
			continue;
		}
		values[i] = pnstrdup(pq_getmsgbytes(message, length), length);
		/* remote bytes (topic names...) must be valid in the database encoding */
		if (!pg_verify_mbstr(GetDatabaseEncoding(), values[i], length, true))
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("value received from the cluster is not valid %s",
							GetDatabaseEncodingName()),
					 errdetail("Column \"%s\".",
							   NameStr(TupleDescAttr(attinmeta->tupdesc, i)->attname))));
	}
	/* all of it lives in the per-message context the caller resets */
	tuple = BuildTupleFromCStrings(attinmeta, values);
	tuplestore_puttuple(store, tuple);
}

void
kpr_run_in_worker(FunctionCallInfo fcinfo, KprRequest *request)
{
	ReturnSetInfo *rsinfo;
	AttInMetadata *attinmeta;
	StringInfoData encoded;
	shm_toc_estimator estimator;
	Size		segment_size;
	dsm_segment *segment;
	shm_toc    *toc;
	char	   *request_space;
	shm_mq	   *queue;
	shm_mq_handle *queue_handle;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	MemoryContext caller_context;
	MemoryContext row_context;
	bool		finished = false;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	attinmeta = TupleDescGetAttInMetadata(rsinfo->setDesc);

	initStringInfo(&encoded);
	serialize_request(&encoded, request);

	shm_toc_initialize_estimator(&estimator);
	shm_toc_estimate_chunk(&estimator, sizeof(int32) + encoded.len);
	shm_toc_estimate_chunk(&estimator, KPR_QUEUE_SIZE);
	shm_toc_estimate_keys(&estimator, 2);
	segment_size = shm_toc_estimate(&estimator);

	segment = dsm_create(segment_size, 0);
	toc = shm_toc_create(KPR_SHM_MAGIC, dsm_segment_address(segment), segment_size);
	request_space = shm_toc_allocate(toc, sizeof(int32) + encoded.len);
	*(int32 *) request_space = encoded.len;
	memcpy(request_space + sizeof(int32), encoded.data, encoded.len);
	shm_toc_insert(toc, KPR_TOC_REQUEST, request_space);
	queue = shm_mq_create(shm_toc_allocate(toc, KPR_QUEUE_SIZE), KPR_QUEUE_SIZE);
	shm_toc_insert(toc, KPR_TOC_QUEUE, queue);
	shm_mq_set_receiver(queue, MyProc);
	/* the request holds credentials: wipe the local copy now */
	explicit_bzero(encoded.data, encoded.len);
	pfree(encoded.data);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "kafka_partition_recommender");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "kpr_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "%s for PID %d", KPR_WORKER_TYPE, MyProcPid);
	snprintf(worker.bgw_type, BGW_MAXLEN, KPR_WORKER_TYPE);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(segment));
	worker.bgw_notify_pid = MyProcPid;

	/*
	 * The handle must outlive executor memory: resource-owner clean-up may
	 * detach the segment (and run our callback) after that is gone.
	 */
	caller_context = MemoryContextSwitchTo(TopTransactionContext);
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start a kafka_partition_recommender worker"),
				 errdetail("No background worker slot is free."),
				 errhint("You may need to increase max_worker_processes (it also serves parallel queries and other extensions).")));
	MemoryContextSwitchTo(caller_context);
	on_dsm_detach(segment, terminate_worker_on_detach, PointerGetDatum(handle));
	queue_handle = shm_mq_attach(queue, segment, handle);

	row_context = AllocSetContextCreate(CurrentMemoryContext, "kpr worker rows",
										ALLOCSET_DEFAULT_SIZES);
	while (!finished)
	{
		Size		length;
		void	   *data;
		StringInfoData message;
		char		message_type;

		/* waits on the latch and checks for interrupts: cancel works here */
		if (shm_mq_receive(queue_handle, &length, &data, false) != SHM_MQ_SUCCESS)
			break;

		/* the data is only valid until the next receive; parse it now */
		message.data = data;
		message.len = length;
		message.maxlen = length;
		message.cursor = 0;
		message_type = pq_getmsgbyte(&message);

		caller_context = MemoryContextSwitchTo(row_context);
		switch (message_type)
		{
			case KPR_MESSAGE_ROW:
				store_row(&message, rsinfo->setResult, attinmeta);
				break;
			case 'E':
			case 'N':
				{
					ErrorData	error;

					pq_parse_errornotice(&message, &error);
					/* a worker's FATAL (e.g. it was terminated) is our ERROR */
					error.elevel = Min(error.elevel, ERROR);
					MemoryContextSwitchTo(caller_context);
					/* the worker exits after an error: let the caller see it gone */
					if (error.elevel >= ERROR)
						WaitForBackgroundWorkerShutdown(handle);
					ThrowErrorData(&error);
					break;
				}
			case KPR_MESSAGE_DONE:
				finished = true;
				break;
			default:
				elog(ERROR, "unexpected message type %d from kafka_partition_recommender worker",
					 message_type);
		}
		MemoryContextSwitchTo(caller_context);
		MemoryContextReset(row_context);
	}

	if (!finished)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("kafka_partition_recommender worker exited before finishing"),
				 errhint("The server log may say why.")));

	/* free the worker slot before returning, so back-to-back calls never run out */
	WaitForBackgroundWorkerShutdown(handle);
	dsm_detach(segment);
}

/* --- worker side -------------------------------------------------------- */

/* what a task has sent to its caller, for the DEBUG1 line at its end */
static int64 rows_sent;
static int64 row_bytes_sent;

void
kpr_worker_send_row(int nfields, const char *const *values)
{
	StringInfoData message;

	pq_beginmessage(&message, KPR_MESSAGE_ROW);
	pq_sendint16(&message, nfields);
	for (int i = 0; i < nfields; i++)
	{
		if (values[i] == NULL)
			pq_sendint32(&message, -1);
		else
		{
			int			length = strlen(values[i]);

			pq_sendint32(&message, length);
			pq_sendbytes(&message, values[i], length);
		}
	}
	rows_sent++;
	row_bytes_sent += message.len;
	pq_endmessage(&message);
}

static void
claim_worker_slot(int max_workers)
{
	for (int slot = 0; slot < max_workers; slot++)
	{
		LOCKTAG		tag;

		SET_LOCKTAG_ADVISORY(tag, InvalidOid, KPR_SLOT_LOCK_KEY, slot, KPR_SLOT_LOCK_KIND);
		if (LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL)
			return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("all %d kafka_partition_recommender worker slots are busy", max_workers),
			 errhint("Wait for the running calls to finish, or raise kpr.max_workers.")));
}

void
kpr_worker_main(Datum main_arg)
{
	dsm_segment *segment;
	shm_toc    *toc;
	shm_mq	   *queue;
	shm_mq_handle *queue_handle;
	char	   *request_space;
	StringInfoData encoded;
	KprRequest	request;
	KprTaskFunction task;
	StringInfoData done;
	TimestampTz started;
	struct rusage usage;

	/* never keep bgworker_die: it exits from inside the signal handler */
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	CurrentResourceOwner = ResourceOwnerCreate(NULL, KPR_WORKER_TYPE);
	segment = dsm_attach(DatumGetUInt32(main_arg));
	if (segment == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("kafka_partition_recommender worker could not map its shared memory segment")));
	toc = shm_toc_attach(KPR_SHM_MAGIC, dsm_segment_address(segment));
	if (toc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("kafka_partition_recommender worker found a bad shared memory segment")));
	queue = shm_toc_lookup(toc, KPR_TOC_QUEUE, false);
	shm_mq_set_sender(queue, MyProc);
	queue_handle = shm_mq_attach(queue, segment, NULL);

	/* from here on, ereport() reaches the caller */
	pq_redirect_to_shm_mq(segment, queue_handle);

	request_space = shm_toc_lookup(toc, KPR_TOC_REQUEST, false);
	encoded.len = *(int32 *) request_space;
	encoded.data = palloc(encoded.len + 1);
	memcpy(encoded.data, request_space + sizeof(int32), encoded.len);
	encoded.data[encoded.len] = '\0';
	encoded.maxlen = encoded.len + 1;
	encoded.cursor = 0;
	deserialize_request(&encoded, &request);
	explicit_bzero(encoded.data, encoded.len);

	BackgroundWorkerInitializeConnectionByOid(request.database_id, request.user_id, 0);

	/* the caller re-raises our errors; log them once, there */
	SetConfigOption("log_min_messages", "fatal", PGC_SUSET, PGC_S_OVERRIDE);
	/* and sees our messages down to the level it asked for */
	client_min_messages = request.client_min_messages;

	claim_worker_slot(request.max_workers);
	pgstat_report_activity(STATE_RUNNING,
						   psprintf("%s on server %s", request.task, request.server_name));

	/* the library that started this worker, as parallel.c finds its entry points */
	task = (KprTaskFunction) load_external_function(MyBgworkerEntry->bgw_library_name,
													request.entry_point, true, NULL);
	started = GetCurrentTimestamp();
	task(&request);

	/*
	 * What the call cost the worker: the rows go through a queue of fixed
	 * size (the worker waits while it is full), so its peak memory is the
	 * task's own; its cpu (every thread's, librdkafka's included) against
	 * the time says how much of the call was waiting for the peer.  The
	 * scale bench reads this line.
	 */
	if (getrusage(RUSAGE_SELF, &usage) == 0)
		elog(DEBUG1, "%s on server %s: " INT64_FORMAT " rows (" INT64_FORMAT " bytes) sent in %ld ms, worker peak resident memory %ld kB, worker cpu %ld ms",
			 request.task, request.server_name, rows_sent, row_bytes_sent,
			 (long) ((GetCurrentTimestamp() - started) / 1000), (long) usage.ru_maxrss,
			 (long) ((usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000 +
					 (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000));

	pq_beginmessage(&done, KPR_MESSAGE_DONE);
	pq_endmessage(&done);
}
