/*
 * sample.c
 *		kpr.sample_topics: per topic and UTC day, records produced (exact,
 *		from offsets) and their average size (from a bounded sample), without
 *		reading every record of the window.
 *
 * Counting.  Records of a day = the sum over partitions of
 * offset_at(next midnight) - offset_at(midnight), where offset_at(T) is the
 * first offset whose timestamp is >= T (the high watermark if none).  Brokers
 * answer offset_at with ListOffsets by timestamp, one request per boundary for
 * all partitions of all topics.  Where the broker cannot (it answers -1 for a
 * partition that holds records, as librdkafka's mock cluster does), offset_at
 * is found by searching record timestamps (interpolation alternating with
 * bisection), reading single records; kpr.offset_search forces either way.  Offsets count every record produced,
 * including ones compaction removed since (and transaction markers).
 *
 * Sampling.  Each partition's records are cut into strata: its hours where
 * the broker answers ListOffsets by timestamp (every hour's record count is
 * then exact), else its days.  The budget (max_records_per_partition) is
 * shared among the strata: a few records for every non-empty one, the rest
 * in proportion to their records (sample_plan.c).  Each stratum's share is
 * read as 2 runs of consecutive records (3 for a day), each from a
 * pseudo-random start in its half (third) of the stratum.  A stratum's bytes
 * are its records x its own sample mean; a topic-day's bytes are the sum over
 * its partitions' strata, and its peak the busiest hour by those bytes / 3600
 * (peak_interval_seconds 3600).  Their standard errors come from the
 * sample's own variance (sample_estimate.c); a covered stratum is exact.
 * With the binary search (days as strata) the peak is NULL: hourly
 * boundaries are not affordable that way.
 *
 * Whole reads.  A partition the budget covers, or whose window holds fewer
 * bytes than its sample's seeks would fetch again (kpr.sample_seek_cost per
 * seek: a broker answers a fetch at any offset with the whole stored batch
 * holding it), is read whole over several connections (kafka_ranges.c),
 * exactly; its hourly boundaries come from its records' timestamps
 * (kpr_plan_whole_record) instead of hourly ListOffsets requests.
 *
 * Slices.  The topics are done in slices of whole topics, one after another,
 * each with a fresh consumer and memory of its own (kpr_task_sample_topics
 * says why); everything below happens within a slice.
 *
 * Parallelism.  One consumer is assigned every partition of the slice once
 * (assign, never subscribe, so no group is joined).  The search reads in
 * rounds: each resumes the partitions that need a record, seeks each to the
 * offset it needs, takes the records it returns and pauses it again.  The sample does
 * not wait for rounds: every partition works through its own queue of runs,
 * seeking to the next as soon as one ends, so that all partitions' fetches
 * are in flight at once.
 *
 * Retention.  A day is left out of the result when data of it may already be
 * deleted: it starts before now - retention.ms (when the broker says), or a
 * partition's log no longer starts at offset 0 and its first record is newer
 * than the day's start.  Where the broker said retention.ms, time-based
 * deletion cannot have reached a later day (a segment goes only when its
 * newest record is older than now - retention.ms), so the second rule then
 * applies only to days wholly before the first remaining record: the first
 * remaining day counts even if its first record is not at midnight.
 * Size-based retention (retention.bytes) is not looked at.
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>
#include <librdkafka/rdkafka.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "common/hashfn.h"
#include "lib/stringinfo.h"

#include "kafka_session.h"
#include "kpr_time.h"
#include "sample_estimate.h"
#include "sample_order.h"
#include "sample_plan.h"
#include "task_entries.h"

/* offsets_for_times answer for "no such record" or "cannot say" */
#define OFFSET_UNKNOWN	INT64CONST(-1)

/*
 * A gap between two runs of a partition this short is read through rather
 * than sought over: the fetch that ended one run has most likely brought the
 * next, and a seek costs a round trip.
 */
#define READ_THROUGH_RECORDS 64

/* One run of a partition's sample queue: offsets [start, end) of a stratum. */
typedef struct QueuedRun
{
	int			stratum;
	int64		start;
	int64		end;
} QueuedRun;

/*
 * Records of a partition's sample found out of their day, by the day of the
 * window their timestamps fall on: stratum's records counted in another day.
 * A partition keeps up to MAX_MOVES (stratum, day) pairs; records beyond are
 * counted as unplaced, and widen every day's interval of the topic.
 */
typedef struct OrderMove
{
	int			stratum;
	int			day;			/* 0 .. days - 1 */
	int64		records;
	double		bytes;
} OrderMove;

#define MAX_MOVES 64

/* Where the time of a call goes, for the DEBUG1 line at its end. */
typedef enum SamplePhase
{
	PHASE_OPEN,					/* connect, metadata, topic configs */
	PHASE_WATERMARKS,
	PHASE_EDGES,				/* first and last timestamps */
	PHASE_BOUNDARIES,
	PHASE_SAMPLE,
	PHASE_COUNT
} SamplePhase;

static const char *const phase_names[PHASE_COUNT] = {
	"open", "watermarks", "edges", "boundaries", "sample"
};

typedef struct PartitionState
{
	const char *topic;
	int			topic_index;
	int32		partition;
	int64		low;			/* first offset still in the log */
	int64		high;			/* next offset to be written */
	int64		first_timestamp;	/* of the record at low (if any records) */
	int64		last_timestamp; /* of the record at high - 1 (if any records) */
	int64	   *boundary_offsets;	/* offset_at(boundary[b]) */
	/* the sample: per stratum (boundary b to b + 1), and the runs to read */
	KprStratumSample *strata;
	KprStratumOrder *order;		/* per stratum: what its records' timestamps showed */
	OrderMove  *moves;			/* records out of their day, by the day they belong to */
	int			move_count;
	int64		unplaced_records;	/* out of their day, in no move (moves full) */
	int			timed_run;		/* the run previous_timestamp is of; -1: none */
	int64		previous_timestamp;
	bool		recount;		/* read whole again: its sample saw records out of order */
	QueuedRun  *runs;
	int			run_count;
	int			next_run;
	TimestampTz sought_at;		/* when the current run was sought; 0: not */
	bool		whole;			/* read whole rather than sampled */
	KprWholeRead whole_read;	/* read whole: where its records have got */
	double		probe_bytes;	/* sizes of the single records read so far */
	int			probe_records;
	/* binary search / sampling round state */
	int64		wanted_offset;	/* -1: nothing wanted this round */
	int64		got_offset;
	int64		got_timestamp;	/* INT64_MAX: past the end */
	bool		answered;
} PartitionState;

typedef struct SampleJob
{
	int			days;
	int			max_records;
	int64		first_midnight_ms;	/* UTC midnight starting the first day */
	int			boundary_count; /* days + 1, or 24 * days + 1 when hourly */
	int			boundaries_per_day;	/* 1 or 24 */
	int			topic_count;
	const rd_kafka_metadata_topic_t **topics;
	int64	   *retention_ms;	/* per topic; -1 unlimited, or KPR_RETENTION_UNKNOWN */
	const char **timestamp_type;	/* per topic: message.timestamp.type, or NULL */
	bool	   *topic_gone;		/* deleted while we looked */
	int			partition_count;
	PartitionState *partitions; /* grouped by topic, in topic order */
	int		   *first_partition;	/* per topic: index of its first partition */
	int64		records_read[2];	/* every record delivered: [0] search, [1] sample */
	bool		assigned;		/* the consumer holds every partition */
	int64		phase_us[PHASE_COUNT];	/* time spent in each phase */
	TimestampTz phase_started;
	int			list_offsets_calls;
	int64		seeks;			/* of the sample's runs */
	int			whole_partitions;	/* read whole rather than sampled */
	int			recounted_partitions;	/* read whole again for records out of order */
	int64		full_read_records;	/* left of kpr.sample_full_read_records */
	double		out_of_order_threshold;
	int64		seek_waits[10]; /* seek to first record: 0-9, 10-19, ... 90+ ms */
	const char *slice_label;	/* " (slice k of n)" in the activity row, or "" */
} SampleJob;

/* A call's figures, summed over its slices. */
typedef struct SampleStats
{
	int			slices;
	int			hourly_slices;	/* where the broker answered offsets by time */
	int			partitions;
	int64		records_read[2];
	int64		phase_us[PHASE_COUNT];
	int			list_offsets_calls;
	int64		seeks;
	int			whole_partitions;
	int			recounted_partitions;
	int64		seek_waits[10];
} SampleStats;

static int	stratum_count(const SampleJob *job);

/* Close the running phase: its time is added to phase. */
static void
end_phase(SampleJob *job, SamplePhase phase)
{
	TimestampTz now = GetCurrentTimestamp();

	job->phase_us[phase] += now - job->phase_started;
	job->phase_started = now;
}

static int64
boundary_ms(const SampleJob *job, int boundary)
{
	return job->first_midnight_ms + boundary * (KPR_MS_PER_DAY / job->boundaries_per_day);
}

/*
 * What the worker does now, in its pg_stat_activity row: "sample_topics on
 * server S" from its start, then each phase after it.  An operator sees how
 * far a long call has got; the tests wait for a phase before they act.
 */
static void
report_phase(const char *phase)
{
	pgstat_report_activity(STATE_RUNNING,
						   psprintf("sample_topics on server %s: %s",
									kpr_session.request->server_name, phase));
}

/* One past the last partition of topic t: partitions are grouped by topic. */
static int
topic_partitions_end(const SampleJob *job, int topic_index)
{
	return topic_index + 1 < job->topic_count ?
		job->first_partition[topic_index + 1] : job->partition_count;
}

/* The state of a partition a message came from; topics are sorted by name. */
static PartitionState *
find_partition(const SampleJob *job, const char *topic, int32 partition_id)
{
	const rd_kafka_metadata_topic_t **match;
	int			topic_index;

	match = bsearch(topic, job->topics, job->topic_count, sizeof(*job->topics),
					kpr_kafka_compare_name_to_topic);
	if (match == NULL)
		return NULL;
	topic_index = match - job->topics;
	/* metadata lists partitions 0..n-1 in order, as brokers do: look there first */
	if (partition_id >= 0 &&
		job->first_partition[topic_index] + partition_id < topic_partitions_end(job, topic_index) &&
		job->partitions[job->first_partition[topic_index] + partition_id].partition == partition_id)
		return &job->partitions[job->first_partition[topic_index] + partition_id];
	for (int i = job->first_partition[topic_index]; i < topic_partitions_end(job, topic_index); i++)
		if (job->partitions[i].partition == partition_id)
			return &job->partitions[i];
	return NULL;
}

static rd_kafka_topic_partition_list_t *
partition_list(const SampleJob *job)
{
	rd_kafka_topic_partition_list_t *list =
		rd_kafka_topic_partition_list_new(job->partition_count);

	for (int i = 0; i < job->partition_count; i++)
		rd_kafka_topic_partition_list_add(list, job->partitions[i].topic,
										  job->partitions[i].partition);
	return list;
}

static void
mark_topic_gone(SampleJob *job, int topic_index, const char *why)
{
	if (job->topic_gone[topic_index])
		return;
	job->topic_gone[topic_index] = true;
	ereport(NOTICE,
			(errmsg("topic \"%s\" of server \"%s\" disappeared while it was sampled; it is left out",
					job->topics[topic_index]->topic, kpr_session.request->server_name),
			 errdetail("%s", why)));
}

/*
 * ListOffsets for every partition at once: timestamps[i] for partition i
 * (-2 earliest, -1 latest, else a time in ms; KPR_NO_LOOKUP: the caller knows
 * the answer, offsets[i] is left alone).  The call blocks, so it is
 * repeated with short timeouts until the deadline.  The list is held by the
 * session so that an error cannot leak it.
 */
static void
list_offsets(SampleJob *job, const int64 *timestamps, int64 *offsets)
{
	TimestampTz deadline = kpr_kafka_deadline();
	int		   *asked = palloc(sizeof(int) * Max(job->partition_count, 1));
	int			asked_count = 0;

	for (int i = 0; i < job->partition_count; i++)
		if (timestamps[i] != KPR_NO_LOOKUP)
			asked[asked_count++] = i;
	if (asked_count == 0)
	{
		pfree(asked);
		return;
	}
	job->list_offsets_calls++;
	for (;;)
	{
		rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(asked_count);
		rd_kafka_resp_err_t error;

		kpr_session.partitions = list;
		for (int j = 0; j < asked_count; j++)
			rd_kafka_topic_partition_list_add(list, job->partitions[asked[j]].topic,
											  job->partitions[asked[j]].partition)->offset =
				timestamps[asked[j]];
		error = rd_kafka_offsets_for_times(kpr_session.client, list, KPR_METADATA_ATTEMPT_MS);
		if (error == RD_KAFKA_RESP_ERR_NO_ERROR)
		{
			for (int j = 0; j < list->cnt; j++)
			{
				PartitionState *partition = &job->partitions[asked[j]];

				offsets[asked[j]] = list->elems[j].offset;
				if (list->elems[j].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
					mark_topic_gone(job, partition->topic_index,
									rd_kafka_err2str(list->elems[j].err));
				else if (list->elems[j].err != RD_KAFKA_RESP_ERR_NO_ERROR)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_ERROR),
							 errmsg("could not read offsets of topic \"%s\" partition %d on server \"%s\"",
									partition->topic, partition->partition,
									kpr_session.request->server_name),
							 errdetail("librdkafka: %s", rd_kafka_err2str(list->elems[j].err))));
			}
			rd_kafka_topic_partition_list_destroy(list);
			kpr_session.partitions = NULL;
			pfree(asked);
			return;
		}
		rd_kafka_topic_partition_list_destroy(list);
		kpr_session.partitions = NULL;
		if (error != RD_KAFKA_RESP_ERR__TIMED_OUT)
			strlcpy(kpr_session.last_error, rd_kafka_err2str(error), sizeof(kpr_session.last_error));
		kpr_kafka_poll();
		if (GetCurrentTimestamp() >= deadline)
			kpr_kafka_raise_connection_error();
	}
}

/* Stop fetching one partition: it has answered this round. */
static void
pause_partition(const PartitionState *partition)
{
	rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);

	rd_kafka_topic_partition_list_add(one, partition->topic, partition->partition);
	rd_kafka_pause_partitions(kpr_session.client, one);
	rd_kafka_topic_partition_list_destroy(one);
}

/*
 * Seek the partitions of list to their offsets, without waiting.  A
 * partition librdkafka no longer knows belongs to a topic deleted meanwhile:
 * its topic is marked gone (read_round stops waiting for it).  Returns the
 * first other error.
 */
static rd_kafka_resp_err_t
seek_partitions(SampleJob *job, rd_kafka_topic_partition_list_t *list)
{
	rd_kafka_error_t *seek_error = rd_kafka_seek_partitions(kpr_session.client, list, 0);
	rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;

	if (seek_error != NULL)
	{
		error = rd_kafka_error_code(seek_error);
		rd_kafka_error_destroy(seek_error);
	}
	for (int i = 0; i < list->cnt && error == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
	{
		rd_kafka_topic_partition_t *one = &list->elems[i];

		if (one->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
			one->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
			one->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
		{
			PartitionState *partition = find_partition(job, one->topic, one->partition);

			mark_topic_gone(job, partition->topic_index, rd_kafka_err2str(one->err));
			pause_partition(partition);
		}
		else if (one->err != RD_KAFKA_RESP_ERR__IN_PROGRESS)	/* started */
			error = one->err;
	}
	return error;
}

/*
 * Point the consumer at the offsets of wanted (the partitions that read this
 * round, which read_round has marked not answered) and let only those fetch.
 *
 * The consumer is assigned every partition once, on the first round, and
 * keeps them: later rounds resume and seek.  Re-assigning each round was the
 * first design, and on librdkafka 2.0.2 about one single-record round in
 * three then took a second: a partition rejoining its broker's fetcher can
 * be found "not ready" by the broker thread, which then sleeps its full 1 s
 * block time, whereas a seek of a partition the broker already serves wakes
 * that thread (measured since: 0 slow rounds in 45).  Resume comes
 * before seek so that the seek's wake-up finds the partition fetchable; both
 * raise the partition's version barrier, so records fetched for an earlier
 * position never reach rd_kafka_consumer_poll().
 */
static void
start_fetching(SampleJob *job, rd_kafka_topic_partition_list_t *wanted)
{
	rd_kafka_resp_err_t error;

	if (!job->assigned)
	{
		rd_kafka_topic_partition_list_t *everything = partition_list(job);
		rd_kafka_topic_partition_list_t *idle = rd_kafka_topic_partition_list_new(job->partition_count);

		/* partitions not wanted yet start at their end, paused at once */
		for (int i = 0; i < everything->cnt; i++)
		{
			const PartitionState *partition = &job->partitions[i];

			everything->elems[i].offset = partition->answered ?
				partition->high : partition->wanted_offset;
			if (partition->answered)
				rd_kafka_topic_partition_list_add(idle, partition->topic, partition->partition);
		}
		error = rd_kafka_assign(kpr_session.client, everything);
		rd_kafka_topic_partition_list_destroy(everything);
		if (error == RD_KAFKA_RESP_ERR_NO_ERROR && idle->cnt > 0)
			error = rd_kafka_pause_partitions(kpr_session.client, idle);
		rd_kafka_topic_partition_list_destroy(idle);
		job->assigned = true;
	}
	else
	{
		error = rd_kafka_resume_partitions(kpr_session.client, wanted);
		if (error == RD_KAFKA_RESP_ERR_NO_ERROR)
			error = seek_partitions(job, wanted);
	}
	if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not position the consumer on server \"%s\"",
						kpr_session.request->server_name),
				 errdetail("librdkafka: %s", rd_kafka_err2str(error))));
}

/* Mark the partitions of deleted topics answered; returns how many were not. */
static int
stop_waiting_for_gone_topics(SampleJob *job)
{
	int			stopped = 0;

	for (int i = 0; i < job->partition_count; i++)
	{
		PartitionState *partition = &job->partitions[i];

		if (job->topic_gone[partition->topic_index] && !partition->answered)
		{
			partition->answered = true;
			stopped++;
		}
	}
	return stopped;
}

/* Mark one partition answered and stop its fetching. */
static void
finish_partition(PartitionState *partition)
{
	partition->answered = true;
	pause_partition(partition);
}

/* Fail the call: the cluster has not delivered what waiting partitions need. */
static void
raise_fetch_timeout(int waiting)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_ERROR),
			 errmsg("the Kafka cluster of server \"%s\" did not deliver records of %d partition(s) within %d ms",
					kpr_session.request->server_name, waiting,
					kpr_session.kafka_timeout_ms),
			 errhint("The brokers answer but are slow to serve fetches; raise kpr.kafka_timeout.")));
}

/*
 * What a message polled means for the partition it came from.  Returns that
 * partition when the message is a record it waits for, else NULL: not ours,
 * left over from an earlier position, or an event handled here (the end of
 * its log, which finishes the partition; its topic deleted, which finishes
 * all of the topic's).  *finished counts the partitions this finished.
 */
static PartitionState *
record_partition(SampleJob *job, const rd_kafka_message_t *message, int *finished)
{
	PartitionState *partition = NULL;

	*finished = 0;
	if (message->rkt != NULL)
		partition = find_partition(job, rd_kafka_topic_name(message->rkt), message->partition);
	if (partition == NULL || partition->answered)
		return NULL;			/* not ours, or left over from before */
	if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
	{
		partition->got_offset = partition->high;
		partition->got_timestamp = INT64_MAX;
		finish_partition(partition);
		*finished = 1;
		return NULL;
	}
	if (message->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
		message->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
		message->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
	{
		int			gone = partition->topic_index;

		mark_topic_gone(job, gone, rd_kafka_err2str(message->err));
		for (int i = job->first_partition[gone]; i < topic_partitions_end(job, gone); i++)
			if (!job->partitions[i].answered)
			{
				finish_partition(&job->partitions[i]);
				(*finished)++;
			}
		return NULL;
	}
	if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not read topic \"%s\" partition %d on server \"%s\"",
						partition->topic, partition->partition,
						kpr_session.request->server_name),
				 errdetail("librdkafka: %s",
						   kpr_kafka_redact(rd_kafka_message_errstr(message)))));
	return partition;
}

/* A record's size as the model counts it: key + value + header names and values. */
static double
record_bytes(rd_kafka_message_t *message)
{
	rd_kafka_headers_t *headers = NULL;
	double		bytes = message->len + message->key_len;

	if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		const char *name;
		const void *value;
		size_t		size;

		for (size_t h = 0; rd_kafka_header_get_all(headers, h, &name, &value, &size) ==
			 RD_KAFKA_RESP_ERR_NO_ERROR; h++)
			bytes += strlen(name) + size;
	}
	return bytes;
}

/*
 * Let every partition with wanted_offset >= 0 fetch from that offset; the
 * others, and those of deleted topics, are marked answered, and one whose
 * wanted offset is at or past its end answers at once (got_timestamp =
 * INT64_MAX).  Returns how many partitions wait for a record.
 */
static int
fetch_wanted(SampleJob *job)
{
	rd_kafka_topic_partition_list_t *wanted = rd_kafka_topic_partition_list_new(job->partition_count);
	int			waiting = 0;

	kpr_session.partitions = wanted;
	for (int i = 0; i < job->partition_count; i++)
	{
		PartitionState *partition = &job->partitions[i];

		partition->answered = true;
		if (partition->wanted_offset < 0 || job->topic_gone[partition->topic_index])
			continue;
		if (partition->wanted_offset >= partition->high)
		{
			partition->got_offset = partition->high;
			partition->got_timestamp = INT64_MAX;
			continue;
		}
		partition->answered = false;
		rd_kafka_topic_partition_list_add(wanted, partition->topic,
										  partition->partition)->offset = partition->wanted_offset;
		waiting++;
	}
	if (waiting > 0)
	{
		start_fetching(job, wanted);
		waiting -= stop_waiting_for_gone_topics(job);
	}
	rd_kafka_topic_partition_list_destroy(wanted);
	kpr_session.partitions = NULL;
	return waiting;
}

/*
 * One parallel round of single-record reads, for the search and the edge
 * timestamps: every partition with wanted_offset >= 0 fetches from that
 * offset, and the round ends when each has answered with its first record at
 * or after it (got_offset, got_timestamp) or has reached the end of its log
 * (got_timestamp = INT64_MAX).  A partition is paused as soon as it has
 * answered.
 */
static void
read_round(SampleJob *job)
{
	int			waiting = fetch_wanted(job);
	int			round_partitions;
	TimestampTz deadline;
	TimestampTz round_start;

	if (waiting == 0)
		return;
	deadline = kpr_kafka_deadline();
	round_start = GetCurrentTimestamp();
	round_partitions = waiting;
	while (waiting > 0)
	{
		rd_kafka_message_t *message = rd_kafka_consumer_poll(kpr_session.client, KPR_POLL_MS);
		PartitionState *partition;
		int			finished;

		/* also while records flow: a partition that never answers must not hold the round */
		if (GetCurrentTimestamp() >= deadline)
		{
			if (message != NULL)
				rd_kafka_message_destroy(message);
			raise_fetch_timeout(waiting);
		}
		if (message == NULL)
		{
			kpr_kafka_poll();
			continue;
		}
		kpr_session.message = message;
		if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR)
			job->records_read[0]++;
		partition = record_partition(job, message, &finished);
		waiting -= finished;
		if (partition != NULL && message->offset >= partition->wanted_offset)
		{
			rd_kafka_timestamp_type_t timestamp_type;

			partition->got_offset = message->offset;
			partition->got_timestamp = rd_kafka_message_timestamp(message, &timestamp_type);
			partition->probe_bytes += record_bytes(message);
			partition->probe_records++;
			/* paused, it stops fetching while the others finish */
			finish_partition(partition);
			waiting--;
		}
		rd_kafka_message_destroy(message);
		kpr_session.message = NULL;
		CHECK_FOR_INTERRUPTS();
	}
	elog(DEBUG2, "sample_topics round: %d partitions in %ld ms", round_partitions,
		 (long) ((GetCurrentTimestamp() - round_start) / 1000));
}

/*
 * Search, all partitions in parallel, for offset_at(boundary) of each
 * boundary in turn.  offset_at is monotonic, so each search starts where the
 * previous boundary's ended.  Record timestamps grow roughly linearly with
 * offsets, so steps alternate between interpolation (usually right within a
 * few records) and bisection (which bounds the worst case to twice log2 of
 * the records between the bounds).
 */
static void
search_boundaries(SampleJob *job)
{
	int64	   *lower = palloc(sizeof(int64) * job->partition_count);
	int64	   *upper = palloc(sizeof(int64) * job->partition_count);
	int64	   *lower_timestamp = palloc(sizeof(int64) * job->partition_count);
	int64	   *upper_timestamp = palloc(sizeof(int64) * job->partition_count);

	for (int i = 0; i < job->partition_count; i++)
		lower[i] = job->partitions[i].low;

	for (int b = 0; b < job->boundary_count; b++)
	{
		int64		target = boundary_ms(job, b);
		bool		searching = true;
		bool		interpolate = true;

		for (int i = 0; i < job->partition_count; i++)
		{
			PartitionState *partition = &job->partitions[i];

			upper[i] = partition->high;
			/* records before lower are older than the previous boundary */
			lower_timestamp[i] = b > 0 ? Max(boundary_ms(job, b - 1), partition->first_timestamp) :
				partition->first_timestamp;
			upper_timestamp[i] = partition->last_timestamp;
			/* outside the partition's time range, the answer needs no probe */
			if (partition->low >= partition->high || target <= partition->first_timestamp)
				upper[i] = lower[i];
			else if (target > partition->last_timestamp)
				lower[i] = upper[i];
		}

		while (searching)
		{
			searching = false;
			for (int i = 0; i < job->partition_count; i++)
			{
				PartitionState *partition = &job->partitions[i];
				partition->wanted_offset = -1;
				if (job->topic_gone[partition->topic_index])
					upper[i] = lower[i];
				if (lower[i] >= upper[i])
					continue;
				partition->wanted_offset = kpr_plan_probe(lower[i], upper[i], lower_timestamp[i],
														  upper_timestamp[i], target, interpolate);
				partition->got_offset = -1;
				searching = true;
			}
			if (!searching)
				break;
			read_round(job);
			for (int i = 0; i < job->partition_count; i++)
			{
				PartitionState *partition = &job->partitions[i];

				if (partition->wanted_offset < 0)
					continue;
				/* offsets from wanted to got (compaction gaps) hold no record */
				if (partition->got_timestamp >= target)
				{
					upper[i] = partition->wanted_offset;
					upper_timestamp[i] = partition->got_timestamp;
				}
				else
				{
					lower[i] = partition->got_offset + 1;
					lower_timestamp[i] = partition->got_timestamp;
				}
			}
			interpolate = !interpolate;
		}
		for (int i = 0; i < job->partition_count; i++)
		{
			job->partitions[i].boundary_offsets[b] = upper[i];
			lower[i] = upper[i];
		}
	}
	for (int i = 0; i < job->partition_count; i++)
		job->partitions[i].wanted_offset = -1;
}

/*
 * offset_at(boundary) from the broker: the day boundaries of every
 * partition (day_boundaries), or the other hours' of the partitions that
 * are sampled rather than read whole (a partition read whole finds its
 * hours from its records).  A partition needs no request for a
 * boundary at or before its first record (the answer is its first offset)
 * or when it is empty; that spares the broker the hours before a young or
 * retention-cut topic's data.  (After its last record the answer is not
 * known for sure: a record written later may carry an older timestamp.)
 */
static void
list_boundaries(SampleJob *job, bool day_boundaries)
{
	int			count = job->partition_count;
	int			per_day = job->boundaries_per_day;
	size_t		cells = (size_t) job->boundary_count * count;
	int64	   *timestamps = palloc(sizeof(int64) * cells);
	int64	   *offsets = palloc(sizeof(int64) * cells);
	rd_kafka_resp_err_t *errors = palloc(sizeof(rd_kafka_resp_err_t) * cells);
	const char **topics = palloc(sizeof(char *) * count);
	int32	   *ids = palloc(sizeof(int32) * count);
	int			queries = 0;

	for (int i = 0; i < count; i++)
	{
		topics[i] = job->partitions[i].topic;
		ids[i] = job->partitions[i].partition;
	}
	for (int b = 0; b < job->boundary_count; b++)
		for (int i = 0; i < count; i++)
		{
			const PartitionState *partition = &job->partitions[i];
			size_t		cell = (size_t) b * count + i;

			timestamps[cell] = boundary_ms(job, b);
			offsets[cell] = partition->low;
			if ((b % per_day == 0) != day_boundaries)
			{
				/* not this pass's: keep what is there */
				timestamps[cell] = KPR_NO_LOOKUP;
				offsets[cell] = partition->boundary_offsets[b];
			}
			else if (!day_boundaries && partition->whole)
			{
				/* an hour of a partition read whole: its day's start will do */
				timestamps[cell] = KPR_NO_LOOKUP;
				offsets[cell] = partition->boundary_offsets[b - b % per_day];
			}
			else if (partition->low >= partition->high ||
					 timestamps[cell] <= partition->first_timestamp)
				timestamps[cell] = KPR_NO_LOOKUP;
		}
	for (int b = 0; b < job->boundary_count; b++)
		if ((b % per_day == 0) == day_boundaries)
			queries++;
	kpr_kafka_offsets_for_times(job->boundary_count, count, topics, ids, timestamps, offsets, errors);
	job->list_offsets_calls += queries;

	for (int b = 0; b < job->boundary_count; b++)
		for (int i = 0; i < count; i++)
		{
			PartitionState *partition = &job->partitions[i];
			size_t		cell = (size_t) b * count + i;

			if (errors[cell] == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
				mark_topic_gone(job, partition->topic_index, rd_kafka_err2str(errors[cell]));
			else if (errors[cell] != RD_KAFKA_RESP_ERR_NO_ERROR)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_ERROR),
						 errmsg("could not read offsets of topic \"%s\" partition %d on server \"%s\"",
								partition->topic, partition->partition,
								kpr_session.request->server_name),
						 errdetail("librdkafka: %s", rd_kafka_err2str(errors[cell]))));
			/* -1: no record at or after the boundary yet */
			partition->boundary_offsets[b] = offsets[cell] == OFFSET_UNKNOWN ?
				partition->high : Max(offsets[cell], partition->low);
		}
}

/*
 * Which partitions are read whole instead of sampled: those the budget
 * covers, and those whose window holds fewer bytes (its records x the mean
 * size of the single records read so far) than the sample's seeks would
 * cost (kpr.sample_seek_cost each: a broker answers a fetch at any offset
 * with the whole stored batch holding it, so a seek reads that again).  A
 * partition read whole is exact, and needs no hourly boundaries from the
 * broker.
 */
static void
choose_whole_reads(SampleJob *job)
{
	int64		seek_cost = pg_strtoint64(kpr_kafka_argument("sample_seek_cost"));
	int			runs_per_stratum = job->boundaries_per_day > 1 ?
		KPR_SAMPLE_RUNS_PER_HOUR : KPR_SAMPLE_RUNS_PER_DAY;
	double		runs = Max(1.0, Min(job->max_records / 2.0,
								   (double) stratum_count(job) * runs_per_stratum));

	for (int i = 0; i < job->partition_count; i++)
	{
		PartitionState *partition = &job->partitions[i];
		int64		window = partition->boundary_offsets[job->boundary_count - 1] -
			partition->boundary_offsets[0];
		double		size = partition->probe_records > 0 ?
			partition->probe_bytes / partition->probe_records : 1024.0;

		/* seek_cost -1: never (a check of the broker's hourly boundaries) */
		partition->whole = window > 0 && seek_cost >= 0 &&
			(window <= job->max_records || (double) window * size <= runs * seek_cost);
		job->whole_partitions += partition->whole;
	}
}

/*
 * Does the broker answer ListOffsets by timestamp?  Asking for the first
 * record at or after the epoch must name an offset in every partition that
 * holds records; -1 there means the broker cannot say.
 */
static bool
broker_answers_by_time(SampleJob *job)
{
	int64	   *timestamps = palloc(sizeof(int64) * job->partition_count);
	int64	   *offsets = palloc(sizeof(int64) * job->partition_count);
	bool		any_records = false;

	const char *mode = kpr_kafka_argument("offset_search");

	if (strcmp(mode, "broker") == 0)
		return true;
	if (strcmp(mode, "binary") == 0)
		return false;
	for (int i = 0; i < job->partition_count; i++)
		timestamps[i] = 0;
	list_offsets(job, timestamps, offsets);
	for (int i = 0; i < job->partition_count; i++)
	{
		if (job->partitions[i].low >= job->partitions[i].high)
			continue;
		any_records = true;
		if (offsets[i] == OFFSET_UNKNOWN)
			return false;
	}
	return any_records;
}

/*
 * Timestamps of the first and (for the search) the last record of every
 * partition that has records, one parallel round each.  A boundary before
 * the first record needs no request, and the search no probe for one after
 * the last; a truncated log's first timestamp says which days retention may
 * have cut.  Each round costs a stored batch per partition, so the last
 * record is read only where the search needs it.
 */
static void
read_edge_timestamps(SampleJob *job, bool last_too)
{
	for (int edge = 0; edge < (last_too ? 2 : 1); edge++)
	{
		for (int i = 0; i < job->partition_count; i++)
		{
			PartitionState *partition = &job->partitions[i];

			partition->wanted_offset = -1;
			if (partition->low < partition->high)
			{
				partition->wanted_offset = edge == 0 ? partition->low : partition->high - 1;
				partition->got_offset = -1;
			}
		}
		read_round(job);
		for (int i = 0; i < job->partition_count; i++)
		{
			PartitionState *partition = &job->partitions[i];

			if (partition->wanted_offset < 0)
				continue;
			if (edge == 0)
				partition->first_timestamp = partition->got_timestamp;
			else
				partition->last_timestamp = partition->got_timestamp;
		}
	}
	for (int i = 0; i < job->partition_count; i++)
		job->partitions[i].wanted_offset = -1;
}

/* Strata of a partition: boundary b to b + 1, for every b. */
static int
stratum_count(const SampleJob *job)
{
	return job->boundary_count - 1;
}

/*
 * Plan every partition's sample: its budget shared among its strata, each
 * share cut into runs (sample_plan.c), queued in offset order.  A run's
 * start is drawn from a seed of the topic, the partition and the stratum, so
 * that the same data gives the same sample.
 */
static void
plan_sample(SampleJob *job)
{
	int			strata = stratum_count(job);
	int			runs_wanted = job->boundaries_per_day > 1 ?
		KPR_SAMPLE_RUNS_PER_HOUR : KPR_SAMPLE_RUNS_PER_DAY;
	int64	   *records = palloc(sizeof(int64) * strata);
	int64	   *budget = palloc(sizeof(int64) * strata);

	for (int i = 0; i < job->partition_count; i++)
	{
		PartitionState *partition = &job->partitions[i];
		uint64		seed = hash_bytes_extended((const unsigned char *) partition->topic,
											   strlen(partition->topic), partition->partition);
		int			queued = 0;

		partition->strata = palloc0(sizeof(KprStratumSample) * strata);
		partition->order = palloc0(sizeof(KprStratumOrder) * strata);
		partition->moves = palloc(sizeof(OrderMove) * MAX_MOVES);
		partition->move_count = 0;
		partition->timed_run = -1;
		if (partition->whole)
		{
			/* read by read_whole_partitions, not from a queue of runs */
			partition->run_count = 0;
			partition->next_run = 0;
			partition->whole_read.next_boundary = 1;
			partition->whole_read.max_timestamp = PG_INT64_MIN;
			continue;
		}
		for (int s = 0; s < strata; s++)
		{
			/* boundaries never decrease; a broker that said otherwise gets no sample */
			records[s] = Max(partition->boundary_offsets[s + 1] - partition->boundary_offsets[s], 0);
			partition->strata[s].records = records[s];
		}
		kpr_plan_stratum_budgets((const int64_t *) records, strata, job->max_records,
								 (int64_t *) budget);
		for (int s = 0; s < strata; s++)
			queued += kpr_plan_stratum_runs(records[s], budget[s], runs_wanted);
		partition->runs = palloc(sizeof(QueuedRun) * Max(queued, 1));
		partition->run_count = 0;
		partition->next_run = 0;
		for (int s = 0; s < strata; s++)
		{
			int			runs = kpr_plan_stratum_runs(records[s], budget[s], runs_wanted);

			for (int r = 0; r < runs; r++)
			{
				KprSampleRun planned = kpr_plan_stratum_run(records[s], budget[s], runs_wanted,
															r, kpr_plan_mix(seed, (uint64) s));
				QueuedRun  *run;

				if (planned.length <= 0)
					continue;
				run = &partition->runs[partition->run_count++];
				run->stratum = s;
				run->start = partition->boundary_offsets[s] + planned.start;
				run->end = run->start + planned.length;
			}
		}
	}
}

/* Start fetching one partition from offset, without waiting. */
static void
seek_partition(SampleJob *job, PartitionState *partition, int64 offset)
{
	rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
	rd_kafka_resp_err_t error;

	rd_kafka_topic_partition_list_add(one, partition->topic, partition->partition)->offset = offset;
	kpr_session.partitions = one;
	error = seek_partitions(job, one);
	kpr_session.partitions = NULL;
	rd_kafka_topic_partition_list_destroy(one);
	job->seeks++;
	partition->sought_at = GetCurrentTimestamp();
	if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not position the consumer on server \"%s\"",
						kpr_session.request->server_name),
				 errdetail("librdkafka: %s", rd_kafka_err2str(error))));
}

/*
 * The partition's current run has ended: the next one becomes current.
 * Returns false when none is left (the partition is then finished).
 */
static bool
end_run(PartitionState *partition)
{
	int			stratum = partition->runs[partition->next_run].stratum;

	kpr_sample_end_run(&partition->strata[stratum]);
	kpr_order_end_run(&partition->order[stratum]);
	if (++partition->next_run >= partition->run_count)
	{
		finish_partition(partition);
		return false;
	}
	return true;
}

/*
 * Get to the current run's start from next_offset, the offset the consumer
 * reads next: read through a short gap, seek over a longer one.
 */
static void
approach_run(SampleJob *job, PartitionState *partition, int64 next_offset)
{
	const QueuedRun *run = &partition->runs[partition->next_run];

	if (run->start - next_offset > READ_THROUGH_RECORDS)
		seek_partition(job, partition, run->start);
}

/*
 * What a sampled record's timestamp says (sample_order.h): is it outside
 * the day of the stratum it was counted in (then the day of the window it
 * belongs to is noted), and older than the record read before it in the
 * same run?  Runs on a reader thread too: PostgreSQL-free.
 */
static void
note_timestamp(const SampleJob *job, PartitionState *partition, int stratum, int run,
			   rd_kafka_message_t *message, double bytes)
{
	rd_kafka_timestamp_type_t type;
	int64		timestamp = rd_kafka_message_timestamp(message, &type);
	int			day = stratum / job->boundaries_per_day;
	int64		day_start = boundary_ms(job, day * job->boundaries_per_day);
	/* a producer that sent no timestamp leaves -1: nothing to judge by */
	bool		timed = type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && timestamp >= 0;
	bool		out_of_day = timed &&
		(timestamp < day_start || timestamp >= day_start + KPR_MS_PER_DAY);
	bool		backwards = timed && partition->timed_run == run &&
		timestamp < partition->previous_timestamp;

	if (timed)
	{
		partition->timed_run = run;
		partition->previous_timestamp = timestamp;
	}
	kpr_order_add(&partition->order[stratum], out_of_day, backwards,
				  type == RD_KAFKA_TIMESTAMP_CREATE_TIME, message->key != NULL, bytes);
	if (out_of_day && timestamp >= job->first_midnight_ms &&
		timestamp < job->first_midnight_ms + job->days * KPR_MS_PER_DAY)
	{
		int			belongs = (int) ((timestamp - job->first_midnight_ms) / KPR_MS_PER_DAY);
		OrderMove  *move = NULL;

		/* the same pair as the last record's, most often */
		for (int m = partition->move_count - 1; m >= 0 && move == NULL; m--)
			if (partition->moves[m].stratum == stratum && partition->moves[m].day == belongs)
				move = &partition->moves[m];
		if (move == NULL && partition->move_count < MAX_MOVES)
		{
			move = &partition->moves[partition->move_count++];
			move->stratum = stratum;
			move->day = belongs;
			move->records = 0;
			move->bytes = 0;
		}
		if (move == NULL)
			partition->unplaced_records++;
		else
		{
			move->records++;
			move->bytes += bytes;
		}
	}
}

/*
 * A record of a partition read whole: in the stratum its offset falls in,
 * the hourly boundaries placed by the records' timestamps (sample_plan.c).
 * Runs on a reader thread: PostgreSQL-free.
 */
static void
take_whole_partition_record(SampleJob *job, PartitionState *partition,
							rd_kafka_message_t *message)
{
	rd_kafka_timestamp_type_t timestamp_type;
	int			stratum = kpr_plan_whole_record(&partition->whole_read, message->offset,
												rd_kafka_message_timestamp(message, &timestamp_type),
												(int64_t *) partition->boundary_offsets,
												job->boundary_count, job->boundaries_per_day,
												job->first_midnight_ms,
												KPR_MS_PER_DAY / job->boundaries_per_day);
	double		bytes = record_bytes(message);

	kpr_sample_add(&partition->strata[stratum], bytes);
	/* a whole read is one run */
	note_timestamp(job, partition, stratum, 0, message, bytes);
}

/*
 * After a whole read: the hourly boundaries no record reached are the next
 * day's, and every stratum's records follow from its boundaries.
 */
static void
count_whole_partition(SampleJob *job, PartitionState *partition)
{
	kpr_plan_whole_finish(&partition->whole_read, (int64_t *) partition->boundary_offsets,
						  job->boundary_count, job->boundaries_per_day);
	for (int s = 0; s < stratum_count(job); s++)
		partition->strata[s].records =
			Max(partition->boundary_offsets[s + 1] - partition->boundary_offsets[s], 0);
}

/* What a reader thread needs to take a record of a partition read whole. */
typedef struct WholeRead
{
	SampleJob  *job;
	PartitionState *partition;
} WholeRead;

/* Called on a reader thread (kafka_ranges.c): PostgreSQL-free. */
static void
take_whole_record(void *arg, rd_kafka_message_t *message)
{
	WholeRead  *read = arg;

	take_whole_partition_record(read->job, read->partition, message);
}

static int
compare_ranges(const void *a, const void *b)
{
	const KprRange *x = a;
	const KprRange *y = b;
	int			order = strcmp(x->topic, y->topic);

	if (order != 0)
		return order;
	return x->partition < y->partition ? -1 : x->partition > y->partition;
}

/*
 * Read the partitions chosen to be read whole (or, with recounts, those
 * chosen to be read whole again), their windows' offsets, over several
 * connections at once (kafka_ranges.c); then count their strata.
 */
static void
read_whole_partitions(SampleJob *job, bool recounts)
{
	/* recounts are not among whole_partitions: room for every partition */
	KprRange   *ranges = palloc0(sizeof(KprRange) * Max(job->partition_count, 1));
	WholeRead  *reads = palloc(sizeof(WholeRead) * Max(job->partition_count, 1));
	int			count = 0;

	for (int i = 0; i < job->partition_count; i++)
	{
		PartitionState *partition = &job->partitions[i];

		if (!partition->whole || partition->recount != recounts ||
			job->topic_gone[partition->topic_index])
			continue;
		reads[count].job = job;
		reads[count].partition = partition;
		ranges[count].topic = partition->topic;
		ranges[count].partition = partition->partition;
		ranges[count].start = partition->boundary_offsets[0];
		ranges[count].end = partition->boundary_offsets[job->boundary_count - 1];
		ranges[count].arg = &reads[count];
		count++;
	}
	qsort(ranges, count, sizeof(KprRange), compare_ranges);
	job->records_read[1] += kpr_kafka_read_ranges(ranges, count, take_whole_record);
	for (int r = 0; r < count; r++)
	{
		PartitionState *partition = ((WholeRead *) ranges[r].arg)->partition;

		if (ranges[r].gone)
			mark_topic_gone(job, partition->topic_index, "the broker no longer knows the partition");
		count_whole_partition(job, partition);
	}
}

/*
 * Records of a partition's sample out of order, over all its strata: out of
 * their day, or older than the record before them (a sign of records out of
 * their day near midnight, even where the sample met none).
 */
static int64
sampled_out_of_order(const SampleJob *job, const PartitionState *partition)
{
	int64		out = 0;

	for (int s = 0; s < stratum_count(job); s++)
		out += Max(partition->order[s].out_of_day, partition->order[s].backwards);
	return out;
}

/* A partition that may be read whole again, and its sample's share out of day. */
typedef struct RecountCandidate
{
	PartitionState *partition;
	double		share;
} RecountCandidate;

static int
compare_most_out_of_order(const void *a, const void *b)
{
	const RecountCandidate *x = a;
	const RecountCandidate *y = b;

	if (x->share != y->share)
		return x->share < y->share ? 1 : -1;
	return x->partition < y->partition ? -1 : x->partition > y->partition;	/* stable */
}

/*
 * kpr.sample_full_read_records: the sampled partitions whose sample saw
 * records out of order (out of their day, or going backwards) are read
 * whole again, the largest share first, while their windows fit in what is
 * left of the limit.
 * Their strata are then exact, and so are their days' counts by timestamp.
 */
static void
recount_out_of_order_partitions(SampleJob *job)
{
	RecountCandidate *chosen;
	int			candidates = 0;
	int			strata = stratum_count(job);

	if (job->full_read_records <= 0)
		return;
	chosen = palloc(sizeof(RecountCandidate) * Max(job->partition_count, 1));
	for (int i = 0; i < job->partition_count; i++)
	{
		PartitionState *partition = &job->partitions[i];
		int64		sampled = 0;
		int64		out;

		if (partition->whole || job->topic_gone[partition->topic_index])
			continue;
		out = sampled_out_of_order(job, partition);
		if (out == 0)
			continue;
		for (int s = 0; s < strata; s++)
			sampled += partition->order[s].sampled;
		chosen[candidates].partition = partition;
		chosen[candidates].share = (double) out / Max(sampled, 1);
		candidates++;
	}
	qsort(chosen, candidates, sizeof(RecountCandidate), compare_most_out_of_order);
	for (int c = 0; c < candidates; c++)
	{
		PartitionState *partition = chosen[c].partition;
		int64		window = partition->boundary_offsets[job->boundary_count - 1] -
			partition->boundary_offsets[0];

		if (window > job->full_read_records)
			continue;
		job->full_read_records -= window;
		partition->whole = true;
		partition->recount = true;
		memset(partition->strata, 0, sizeof(KprStratumSample) * strata);
		memset(partition->order, 0, sizeof(KprStratumOrder) * strata);
		partition->move_count = 0;
		partition->unplaced_records = 0;
		partition->timed_run = -1;
		partition->whole_read.next_boundary = 1;
		partition->whole_read.max_timestamp = PG_INT64_MIN;
		job->recounted_partitions++;
	}
	if (job->recounted_partitions > 0)
	{
		report_phase(psprintf("reading %d partition(s) with records out of order in full%s",
							  job->recounted_partitions, job->slice_label));
		read_whole_partitions(job, true);
	}
}

/*
 * Take a record of a partition into its sample.  A record past the current
 * run's end (the run's last records were compacted away) ends that run, and
 * any later run it is past too, before it is looked at; a record before the
 * current run (read through, or left over) is skipped.  Returns false once
 * the partition has read all its runs.
 */
static bool
take_record(SampleJob *job, PartitionState *partition, rd_kafka_message_t *message)
{
	const QueuedRun *run = &partition->runs[partition->next_run];

	if (message->offset >= run->end)
	{
		do
		{
			if (!end_run(partition))
				return false;
			run = &partition->runs[partition->next_run];
		} while (message->offset >= run->end);
		if (message->offset < run->start)
		{
			approach_run(job, partition, message->offset + 1);
			return true;
		}
	}
	if (message->offset < run->start)
		return true;
	if (partition->sought_at != 0)
	{
		long		waited = (long) ((GetCurrentTimestamp() - partition->sought_at) / 1000);

		job->seek_waits[Min(waited / 10, 9)]++;
		partition->sought_at = 0;
	}
	{
		double		bytes = record_bytes(message);

		kpr_sample_add(&partition->strata[run->stratum], bytes);
		note_timestamp(job, partition, run->stratum, partition->next_run, message, bytes);
	}
	if (message->offset + 1 >= run->end)
	{
		if (!end_run(partition))
			return false;
		approach_run(job, partition, message->offset + 1);
	}
	return true;
}

/*
 * Read every partition's queued runs, all partitions at once: a partition
 * moves to its next run as soon as one ends, without waiting for the others.
 * The call fails when kpr.kafka_timeout passes without a record for any
 * partition still reading.
 */
static void
sample_runs(SampleJob *job)
{
	int			reading;
	TimestampTz deadline;

	/* every partition with runs starts at its first */
	for (int i = 0; i < job->partition_count; i++)
	{
		PartitionState *partition = &job->partitions[i];

		partition->wanted_offset = partition->run_count > 0 ? partition->runs[0].start : -1;
	}
	reading = fetch_wanted(job);

	deadline = kpr_kafka_deadline();
	while (reading > 0)
	{
		rd_kafka_message_t *message = rd_kafka_consumer_poll(kpr_session.client, KPR_POLL_MS);
		PartitionState *partition;
		int			finished;

		if (message == NULL)
		{
			if (GetCurrentTimestamp() >= deadline)
				raise_fetch_timeout(reading);
			kpr_kafka_poll();
			continue;
		}
		kpr_session.message = message;
		if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR)
			job->records_read[1]++;
		partition = record_partition(job, message, &finished);
		reading -= finished;
		if (partition != NULL)
		{
			if (!take_record(job, partition, message))
				reading--;
			deadline = kpr_kafka_deadline();
		}
		else if (GetCurrentTimestamp() >= deadline)
			raise_fetch_timeout(reading);
		rd_kafka_message_destroy(message);
		kpr_session.message = NULL;
		CHECK_FOR_INTERRUPTS();
	}
	/* a log that ended inside a run (records removed meanwhile) ends that run */
	for (int i = 0; i < job->partition_count; i++)
	{
		PartitionState *partition = &job->partitions[i];

		if (partition->next_run < partition->run_count)
		{
			int			stratum = partition->runs[partition->next_run].stratum;

			kpr_sample_end_run(&partition->strata[stratum]);
			kpr_order_end_run(&partition->order[stratum]);
		}
	}
}

/* A double as text for a result row, NULL for NaN (not estimable). */
static char *
double_text(double value)
{
	return isnan(value) ? NULL : psprintf("%.17g", value);
}

/*
 * A topic-day's count by timestamp (sample_order.h): its offsets' records,
 * less those estimated out of the day, plus those of the day found in other
 * days' offsets, with a 95% interval.
 */
typedef struct DayCount
{
	double		records;
	double		variance;
	double		bytes_moved;	/* bytes of the day's records found elsewhere, less those gone */
	int64		low;
	int64		high;
	bool		exact;
	int64		sampled;		/* records whose timestamps were looked at */
	int64		out_of_day;		/* of them, in the day's offsets but not of the day */
	int64		backwards;
	int64		keyed;			/* of them, with a key */
} DayCount;

/* Whether every stratum of the topic's window was read in full. */
static bool
topic_read_in_full(const SampleJob *job, int topic_index)
{
	for (int i = job->first_partition[topic_index]; i < topic_partitions_end(job, topic_index); i++)
		for (int s = 0; s < stratum_count(job); s++)
			if (job->partitions[i].order[s].sampled < job->partitions[i].strata[s].records)
				return false;
	return true;
}

/*
 * The topic's message.timestamp.type where the cluster described it, else
 * what its records read say (LogAppendTime only if every one had it), else
 * NULL.
 */
static const char *
topic_timestamp_type(const SampleJob *job, int topic_index)
{
	int64		timed = 0;
	int64		create_time = 0;

	if (job->timestamp_type[topic_index] != NULL)
		return job->timestamp_type[topic_index];
	for (int i = job->first_partition[topic_index]; i < topic_partitions_end(job, topic_index); i++)
		for (int s = 0; s < stratum_count(job); s++)
		{
			timed += job->partitions[i].order[s].sampled;
			create_time += job->partitions[i].order[s].create_time;
		}
	if (timed == 0)
		return NULL;
	return create_time > 0 ? "CreateTime" : "LogAppendTime";
}

/*
 * What the timestamps of partitions' samples say about a day (sample_order.h),
 * summed over the partitions added: the records estimated out of the day's
 * offsets and those of the day found in other days' offsets, their bytes,
 * their variance, and what the interval and the exactness rule need.  The
 * topic's count (count_day) and each partition's (partition_day) both come
 * from it.
 */
typedef struct DayOrder
{
	double		lost;			/* records of the day's offsets estimated out of the day */
	double		gained;			/* records of the day estimated in other days' offsets */
	double		bytes_moved;	/* the gained records' bytes less the lost ones' */
	double		variance;		/* of gained - lost */
	double		seen;			/* the day's records among those read: a floor */
	double		maybe_in_day;	/* unread records of strata read wholly out of day */
	double		maybe_elsewhere;	/* of the records moved in, those perhaps not the day's */
	int64		sampled;
	int64		out_of_day;
	int64		backwards;
	int64		keyed;
	int64		create_time;
	int64		runs;
	int64		unread;
	int64		found_elsewhere;	/* the day's records read in other days' offsets */
	int64		unplaced;
	bool		covered;		/* every record of the day's offsets read; start true */
} DayOrder;

static void
add_day_order(const SampleJob *job, const PartitionState *partition, int day, DayOrder *sum)
{
	int			per_day = job->boundaries_per_day;

	sum->unplaced += partition->unplaced_records;
	for (int s = day * per_day; s < (day + 1) * per_day; s++)
	{
		const KprStratumOrder *order = &partition->order[s];
		int64		records = partition->strata[s].records;

		sum->sampled += order->sampled;
		sum->out_of_day += order->out_of_day;
		sum->backwards += order->backwards;
		sum->keyed += order->keyed;
		sum->create_time += order->create_time;
		sum->runs += order->runs + (order->run_sampled > 0);
		sum->unread += Max(records - order->sampled, 0);
		sum->covered &= order->sampled >= records;
		sum->seen += order->sampled - order->out_of_day;
		sum->lost += kpr_order_out_of_day(order, records);
		sum->variance += kpr_order_out_of_day_variance(order, records);
		sum->maybe_in_day += kpr_order_unseen_in_day(order, records);
		sum->bytes_moved -= kpr_order_scale(order, records) * order->out_of_day_bytes;
	}
	for (int m = 0; m < partition->move_count; m++)
	{
		const OrderMove *move = &partition->moves[m];
		const KprStratumOrder *order = &partition->order[move->stratum];
		int64		records = partition->strata[move->stratum].records;
		double		share = (double) move->records / order->out_of_day;

		if (move->day != day)
			continue;
		sum->gained += kpr_order_scale(order, records) * move->records;
		sum->bytes_moved += kpr_order_scale(order, records) * move->bytes;
		sum->variance += share * share * kpr_order_out_of_day_variance(order, records);
		sum->seen += move->records;
		sum->found_elsewhere += move->records;
		sum->maybe_elsewhere += share * kpr_order_unseen_in_day(order, records);
	}
}

/* type: the topic's timestamp type (topic_timestamp_type) */
static DayCount
count_day(const SampleJob *job, int topic_index, int day, int64 range_records, bool read_in_full,
		  const char *type)
{
	DayCount	count = {0};
	DayOrder	order = {.covered = true};
	bool		append_time;

	for (int i = job->first_partition[topic_index]; i < topic_partitions_end(job, topic_index); i++)
		add_day_order(job, &job->partitions[i], day, &order);
	count.records = Max(range_records - order.lost + order.gained, 0);
	count.variance = order.variance;
	count.bytes_moved = order.bytes_moved;
	count.sampled = order.sampled;
	count.out_of_day = order.out_of_day;
	count.backwards = order.backwards;
	count.keyed = order.keyed;

	/*
	 * Exact: every record of the window was read (each counted in the day
	 * of its timestamp), or the day's were and none was out of place, or
	 * the broker stamped them (LogAppendTime: in order as they land).
	 */
	append_time = type != NULL && strcmp(type, "LogAppendTime") == 0 && order.create_time == 0;
	count.exact = order.unplaced == 0 &&
		(read_in_full ||
		 (order.out_of_day == 0 && order.found_elsewhere == 0 && (order.covered || append_time)));
	if (count.exact)
	{
		count.low = count.high = (int64) rint(count.records);
		count.variance = 0;
		return count;
	}
	{
		double		half = KPR_ORDER_Z95 * sqrt(count.variance);
		double		low = count.records - half - order.maybe_elsewhere;
		double		high = count.records + half + order.unplaced + order.maybe_in_day;

		/* nothing seen out of place is no proof: a batch between runs goes unseen */
		if (order.out_of_day == 0 && !append_time)
			low = Min(low, count.records - kpr_order_unseen_share(order.runs) * order.unread);
		low = Max(low, order.seen);
		count.low = (int64) floor(Max(low, 0));
		count.high = (int64) ceil(Max(high, count.records));
	}
	return count;
}

/*
 * One partition's records and bytes of a day, by timestamp as the topic's
 * (count_day): its offsets' records less those estimated out of the day plus
 * the day's found in its other days' offsets; bytes from its own strata's
 * sample (kpr_estimate_day over the one partition), moved alike.
 */
static void
partition_day(const SampleJob *job, const PartitionState *partition, int day,
			  double *records, double *bytes)
{
	int			per_day = job->boundaries_per_day;
	const KprStratumSample *strata[1] = {&partition->strata[day * per_day]};
	KprDayEstimate estimate = kpr_estimate_day(strata, 1, per_day);
	DayOrder	order = {.covered = true};

	add_day_order(job, partition, day, &order);
	*records = Max((double) estimate.records - order.lost + order.gained, 0);
	*bytes = Max(estimate.bytes + order.bytes_moved, 0);
}

/*
 * The topic-day's partitions as two SQL arrays, element k + 1 for partition
 * k (partition ids are 0 .. n - 1): records and bytes by timestamp, rounded.
 */
static void
partition_arrays(const SampleJob *job, int topic_index, int day, char **records_text,
				 char **bytes_text)
{
	int			first = job->first_partition[topic_index];
	int			count = topic_partitions_end(job, topic_index) - first;
	double	   *records = palloc0(sizeof(double) * Max(count, 1));
	double	   *bytes = palloc0(sizeof(double) * Max(count, 1));
	StringInfoData r;
	StringInfoData b;

	for (int k = 0; k < count; k++)
	{
		const PartitionState *partition = &job->partitions[first + k];

		if (partition->partition >= 0 && partition->partition < count)
			partition_day(job, partition, day, &records[partition->partition],
						  &bytes[partition->partition]);
	}
	initStringInfo(&r);
	initStringInfo(&b);
	appendStringInfoChar(&r, '{');
	appendStringInfoChar(&b, '{');
	for (int k = 0; k < count; k++)
	{
		appendStringInfo(&r, "%s" INT64_FORMAT, k > 0 ? "," : "", (int64) rint(records[k]));
		appendStringInfo(&b, "%s" INT64_FORMAT, k > 0 ? "," : "", (int64) rint(bytes[k]));
	}
	appendStringInfoChar(&r, '}');
	appendStringInfoChar(&b, '}');
	*records_text = r.data;
	*bytes_text = b.data;
}

/*
 * One NOTICE per topic whose days passed kpr.out_of_order_threshold: which
 * share of the sampled records were out of their day or went backwards.
 */
static void
notice_out_of_order(const SampleJob *job, int topic_index, int flagged_days, bool all_exact,
					double worst_share, int64 worst_day_start)
{
	if (flagged_days == 0)
		return;
	ereport(NOTICE,
			(errmsg("topic \"%s\" of server \"%s\" has record timestamps out of order on %d day(s)",
					job->topics[topic_index]->topic, kpr_session.request->server_name,
					flagged_days),
			 errdetail("Up to %.1f%% of the sampled records of a day (%s) were outside their day or older than the record before them.",
					   100 * worst_share, kpr_day_text(worst_day_start)),
			 all_exact ?
			 errhint("Every record of those days was read: their records_in count the records by their timestamps, exactly.") :
			 errhint("Those days' records_in are counts by timestamp estimated from the sample, within records_in_low and records_in_high; kpr.sample_full_read_records reads such partitions whole.")));
}

static void
send_rows(SampleJob *job)
{
	int64		now_ms = kpr_unix_now_ms();
	int			most_partitions = 1;
	int			per_day = job->boundaries_per_day;
	bool		hourly = per_day > 1;

	int64	   *low;
	int64	   *high;
	int64	   *first_timestamp;
	const KprStratumSample **day_strata;

	for (int t = 0; t < job->topic_count; t++)
		most_partitions = Max(most_partitions, job->topics[t]->partition_cnt);
	low = palloc(sizeof(int64) * most_partitions);
	high = palloc(sizeof(int64) * most_partitions);
	first_timestamp = palloc(sizeof(int64) * most_partitions);
	day_strata = palloc(sizeof(KprStratumSample *) * most_partitions);

	for (int t = 0; t < job->topic_count; t++)
	{
		int			first = job->first_partition[t];
		int			count = topic_partitions_end(job, t) - first;
		bool		read_in_full;
		const char *timestamp_type;
		int			flagged_days = 0;
		bool		flagged_exact = true;
		double		worst_share = 0;
		int64		worst_day_start = 0;

		if (job->topic_gone[t])
			continue;
		read_in_full = topic_read_in_full(job, t);
		timestamp_type = topic_timestamp_type(job, t);
		for (int k = 0; k < count; k++)
		{
			low[k] = job->partitions[first + k].low;
			high[k] = job->partitions[first + k].high;
			first_timestamp[k] = job->partitions[first + k].first_timestamp;
		}
		for (int d = 0; d < job->days; d++)
		{
			int64		day_start = boundary_ms(job, d * per_day);
			KprDayEstimate estimate;
			DayCount	day;
			bool		peak_known;
			double		bytes;
			double		bytes_variance;
			double		share;
			const char *values[20];

			if (kpr_plan_day_may_be_cut(day_start, now_ms, job->retention_ms[t],
										(const int64_t *) low, (const int64_t *) high,
										(const int64_t *) first_timestamp, count))
				continue;
			for (int k = 0; k < count; k++)
				day_strata[k] = &job->partitions[first + k].strata[d * per_day];
			estimate = kpr_estimate_day(day_strata, count, per_day);
			day = count_day(job, t, d, estimate.records, read_in_full, timestamp_type);
			peak_known = hourly && (estimate.sampled > 0 || estimate.records == 0);

			/* the day's bytes by timestamp too; the peak stays by the hour records landed */
			bytes = Max(estimate.bytes + day.bytes_moved, 0);
			bytes_variance = estimate.bytes_variance;
			if (day.records > 0)
				bytes_variance += (bytes / day.records) * (bytes / day.records) * day.variance;
			share = day.sampled > 0 ?
				(double) Max(day.out_of_day, day.backwards) / day.sampled : 0;
			if (share > job->out_of_order_threshold)
			{
				flagged_days++;
				flagged_exact &= day.exact;
				if (share > worst_share)
				{
					worst_share = share;
					worst_day_start = day_start;
				}
			}

			values[0] = job->topics[t]->topic;
			values[1] = kpr_day_text(day_start);
			values[2] = psprintf(INT64_FORMAT, (int64) rint(day.records));
			values[3] = psprintf(INT64_FORMAT, estimate.sampled);
			values[4] = estimate.sampled > 0 && day.records > 0 ?
				psprintf("%.17g", bytes / day.records) : NULL;
			values[5] = psprintf(INT64_FORMAT, (int64) rint(bytes));
			values[6] = peak_known ? psprintf("%.17g", estimate.peak_bytes / 3600.0) : NULL;
			values[7] = peak_known ? "3600" : NULL;
			values[8] = double_text(sqrt(bytes_variance));
			values[9] = peak_known ? double_text(sqrt(estimate.peak_variance) / 3600.0) : NULL;
			values[10] = hourly ? "hour" : "day";
			values[11] = psprintf(INT64_FORMAT, day.low);
			values[12] = psprintf(INT64_FORMAT, day.high);
			values[13] = day.exact ? "true" : "false";
			values[14] = timestamp_type;
			values[15] = psprintf(INT64_FORMAT, day.out_of_day);
			values[16] = psprintf(INT64_FORMAT, day.backwards);
			partition_arrays(job, t, d, (char **) &values[17], (char **) &values[18]);
			values[19] = day.sampled > 0 ?
				psprintf("%.17g", (double) day.keyed / day.sampled) : NULL;
			kpr_worker_send_row(20, values);
		}
		notice_out_of_order(job, t, flagged_days, flagged_exact, worst_share, worst_day_start);
	}
}

/*
 * Count and sample one slice of the selected topics with a client of its
 * own, and send its rows.
 */
static void
sample_slice(SampleJob *job)
{
	int			p = 0;

	job->phase_started = GetCurrentTimestamp();
	kpr_kafka_renew_client();
	job->topic_gone = palloc0(sizeof(bool) * Max(job->topic_count, 1));
	for (int t = 0; t < job->topic_count; t++)
		job->partition_count += job->topics[t]->partition_cnt;
	job->partitions = palloc0(sizeof(PartitionState) * Max(job->partition_count, 1));
	job->first_partition = palloc0(sizeof(int) * Max(job->topic_count, 1));
	for (int t = 0; t < job->topic_count; t++)
	{
		job->first_partition[t] = p;
		for (int i = 0; i < job->topics[t]->partition_cnt; i++)
		{
			PartitionState *partition = &job->partitions[p++];

			partition->topic = job->topics[t]->topic;
			partition->topic_index = t;
			partition->partition = job->topics[t]->partitions[i].id;
		}
	}
	end_phase(job, PHASE_OPEN);

	report_phase(psprintf("counting the records of %d topic(s), %d partition(s)%s",
						  job->topic_count, job->partition_count, job->slice_label));
	job->boundaries_per_day = 1;
	if (job->partition_count > 0)
	{
		int64	   *timestamps = palloc(sizeof(int64) * job->partition_count);
		int64	   *low = palloc(sizeof(int64) * job->partition_count);
		int64	   *high = palloc(sizeof(int64) * job->partition_count);

		for (int i = 0; i < job->partition_count; i++)
			timestamps[i] = RD_KAFKA_OFFSET_BEGINNING;
		list_offsets(job, timestamps, low);
		for (int i = 0; i < job->partition_count; i++)
			timestamps[i] = RD_KAFKA_OFFSET_END;
		list_offsets(job, timestamps, high);
		for (int i = 0; i < job->partition_count; i++)
		{
			job->partitions[i].low = Max(low[i], 0);
			job->partitions[i].high = Max(high[i], job->partitions[i].low);
		}
		if (broker_answers_by_time(job))
			job->boundaries_per_day = 24;
		job->boundary_count = job->boundaries_per_day * job->days + 1;
		for (int i = 0; i < job->partition_count; i++)
			job->partitions[i].boundary_offsets = palloc0(sizeof(int64) * job->boundary_count);
		end_phase(job, PHASE_WATERMARKS);

		read_edge_timestamps(job, job->boundaries_per_day == 1);
		end_phase(job, PHASE_EDGES);
		if (job->boundaries_per_day == 24)
		{
			list_boundaries(job, true);
			choose_whole_reads(job);
			list_boundaries(job, false);
		}
		else
		{
			search_boundaries(job);
			choose_whole_reads(job);
		}
		end_phase(job, PHASE_BOUNDARIES);

		report_phase(psprintf("sampling record sizes%s", job->slice_label));
		plan_sample(job);
		read_whole_partitions(job, false);
		sample_runs(job);
		recount_out_of_order_partitions(job);
		end_phase(job, PHASE_SAMPLE);
	}
	send_rows(job);
}

/* One past the last topic of the slice starting at first: whole topics, at least one. */
static int
slice_end(const rd_kafka_metadata_topic_t **topics, int topic_count, int first,
		  int slice_partitions)
{
	int			end = first;
	int			partitions = 0;

	while (end < topic_count &&
		   (end == first || partitions + topics[end]->partition_cnt <= slice_partitions))
		partitions += topics[end++]->partition_cnt;
	return end;
}

/* What a slice adds to the call's figures, for the DEBUG lines at its end. */
static void
add_slice_stats(SampleStats *total, const SampleJob *job)
{
	total->partitions += job->partition_count;
	total->hourly_slices += job->boundaries_per_day > 1;
	for (int i = 0; i < 2; i++)
		total->records_read[i] += job->records_read[i];
	for (int phase = 0; phase < PHASE_COUNT; phase++)
		total->phase_us[phase] += job->phase_us[phase];
	total->list_offsets_calls += job->list_offsets_calls;
	total->seeks += job->seeks;
	total->whole_partitions += job->whole_partitions;
	total->recounted_partitions += job->recounted_partitions;
	for (int i = 0; i < 10; i++)
		total->seek_waits[i] += job->seek_waits[i];
}

static void
log_stats(const SampleStats *total, int topic_count)
{
	StringInfoData times;

	elog(DEBUG1, "sample_topics on server %s: %d topics, %d partitions in %d slice(s), offsets by %s, read "
		 INT64_FORMAT " records for boundaries and " INT64_FORMAT " for the size sample",
		 kpr_session.request->server_name, topic_count, total->partitions, total->slices,
		 total->hourly_slices == total->slices ? "broker" :
		 total->hourly_slices == 0 ? "timestamp search" : "broker in some slices",
		 total->records_read[0], total->records_read[1]);
	initStringInfo(&times);
	for (int phase = 0; phase < PHASE_COUNT; phase++)
		appendStringInfo(&times, "%s%s %ld ms", phase > 0 ? ", " : "", phase_names[phase],
						 (long) (total->phase_us[phase] / 1000));
	elog(DEBUG1, "sample_topics on server %s: %s; %d ListOffsets calls, %d partition(s) read whole, "
		 "%d read whole again for records out of order, " INT64_FORMAT " seeks for the sample",
		 kpr_session.request->server_name, times.data, total->list_offsets_calls,
		 total->whole_partitions, total->recounted_partitions, total->seeks);
	/* each seek costs a fetch of its own: how long they waited for it */
	elog(DEBUG2, "sample_topics seeks, by wait for the first record (0-9, 10-19, ..., 90+ ms): "
		 INT64_FORMAT " " INT64_FORMAT " " INT64_FORMAT " " INT64_FORMAT " " INT64_FORMAT " "
		 INT64_FORMAT " " INT64_FORMAT " " INT64_FORMAT " " INT64_FORMAT " " INT64_FORMAT,
		 total->seek_waits[0], total->seek_waits[1], total->seek_waits[2], total->seek_waits[3],
		 total->seek_waits[4], total->seek_waits[5], total->seek_waits[6], total->seek_waits[7],
		 total->seek_waits[8], total->seek_waits[9]);
}

/*
 * The selected topics are done in slices of whole topics, up to
 * kpr.sample_slice_partitions partitions each, one after another: each slice
 * with a fresh client (kpr_kafka_renew_client says why), in a memory context
 * reset after it has sent its rows, so that neither the time per partition
 * nor the worker's memory grows with the cluster.  A slice's fixed cost (a
 * client, a few ListOffsets round trips) is small against its partitions'
 * reads.
 */
void
kpr_task_sample_topics(const KprRequest *request)
{
	const rd_kafka_metadata_t *metadata;
	const rd_kafka_metadata_topic_t **topics;
	KprTopicConfig *configs;
	int64	   *retention_ms;
	const char **timestamp_type;
	int			topic_count;
	int			days = pg_strtoint32(kpr_request_argument(request, "days"));
	int			max_records = pg_strtoint32(kpr_request_argument(request, "max_records_per_partition"));
	int			slice_partitions = pg_strtoint32(kpr_request_argument(request, "sample_slice_partitions"));
	int64		full_read_records = pg_strtoint64(kpr_request_argument(request, "sample_full_read_records"));
	double		out_of_order_threshold = strtod(kpr_request_argument(request, "out_of_order_threshold"), NULL);
	int64		today_ms = kpr_unix_now_ms() / KPR_MS_PER_DAY * KPR_MS_PER_DAY; /* this UTC midnight */
	SampleStats total = {0};
	TimestampTz started = GetCurrentTimestamp();
	MemoryContext slice_context;
	MemoryContext caller_context;
	int			slice_count = 0;

	kpr_kafka_open(request, RD_KAFKA_CONSUMER);
	metadata = kpr_kafka_metadata();
	topics = kpr_kafka_selected_topics(metadata, &topic_count);
	configs = kpr_kafka_topic_configs(topics, topic_count);
	retention_ms = palloc(sizeof(int64) * Max(topic_count, 1));
	timestamp_type = palloc(sizeof(char *) * Max(topic_count, 1));
	for (int t = 0; t < topic_count; t++)
	{
		retention_ms[t] = configs[t].retention_ms ?
			pg_strtoint64(configs[t].retention_ms) : KPR_RETENTION_UNKNOWN;
		timestamp_type[t] = configs[t].timestamp_type;
	}
	total.phase_us[PHASE_OPEN] = GetCurrentTimestamp() - started;

	/* the slices, counted first so that each can say which it is */
	for (int first = 0; first < topic_count;)
	{
		first = slice_end(topics, topic_count, first, slice_partitions);
		slice_count++;
	}
	slice_context = AllocSetContextCreate(CurrentMemoryContext, "kpr sample_topics slice",
										  ALLOCSET_DEFAULT_SIZES);
	for (int first = 0, end; first < topic_count; first = end)
	{
		SampleJob	job = {0};

		end = slice_end(topics, topic_count, first, slice_partitions);
		caller_context = MemoryContextSwitchTo(slice_context);
		job.days = days;
		job.max_records = max_records;
		job.first_midnight_ms = today_ms - days * KPR_MS_PER_DAY;
		job.topics = topics + first;
		job.topic_count = end - first;
		job.retention_ms = retention_ms + first;
		job.timestamp_type = timestamp_type + first;
		job.full_read_records = full_read_records;
		job.out_of_order_threshold = out_of_order_threshold;
		total.slices++;
		job.slice_label = slice_count > 1 ?
			psprintf(" (slice %d of %d)", total.slices, slice_count) : "";
		sample_slice(&job);
		/* the full-read limit is the call's, over all its slices */
		full_read_records = job.full_read_records;
		add_slice_stats(&total, &job);
		MemoryContextSwitchTo(caller_context);
		MemoryContextReset(slice_context);
	}
	MemoryContextDelete(slice_context);
	log_stats(&total, topic_count);
	kpr_kafka_close();
}
