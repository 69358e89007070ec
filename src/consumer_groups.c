/*
 * consumer_groups.c
 *		The list_consumer_groups task (kpr.list_consumer_groups): the
 *		cluster's consumer groups that the call's group_filter selects, one
 *		row per group and topic: the group's state and members, the topic's
 *		partitions its members are assigned, its committed offsets against
 *		the partitions' log-end offsets, and the lag.
 *
 * Requests, through librdkafka's admin API: ListGroups (one per broker),
 * DescribeGroups (one per coordinator for each batch of groups), OffsetFetch
 * (one per group: librdkafka 2.0.2 takes a single group per
 * ListConsumerGroupOffsets call; up to OFFSET_FETCHES_IN_FLIGHT at once),
 * then ListOffsets for the log ends of every partition a group holds an
 * offset for.  So the requests grow with the groups, not the partitions.
 *
 * What is not an error: a group that has committed nothing and has no
 * assignment (one row, topic NULL), an empty group (members 0, its offsets
 * still listed), offsets left for a topic or partition the cluster no longer
 * has (no log end, no lag, a note).  A group deleted between the listing
 * and its description is left out.
 *
 * A group of the new consumer group protocol (KIP-848, Kafka 4.x) is
 * described by ConsumerGroupDescribe only, which librdkafka 2.0.2 does not
 * send: its DescribeGroups answer is a dead, simple group without members,
 * while ListGroups says it lives.  Its committed offsets are right, its
 * members and assignment are not known: NULL, with a note.  (A classic
 * group deleted between the listing and its description looks the same:
 * Kafka describes an unknown group as dead, without an error.)
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "kafka_session.h"
#include "task_entries.h"
#include "topic_filter.h"

/* The note on a group of the new protocol (see above). */
#define NEW_PROTOCOL_NOTE "listed alive but described as dead: a group of the new consumer protocol (KIP-848), whose members and assignment librdkafka 2.0.2 cannot describe, or one deleted in between"

/* groups per DescribeConsumerGroups call */
#define DESCRIBE_BATCH				500
/* ListConsumerGroupOffsets calls waiting for their answer at once */
#define OFFSET_FETCHES_IN_FLIGHT	16

/* What a call asked, for its DEBUG1 line (the benchmark reads it). */
static struct
{
	int			describe_calls;
	int			offset_calls;
	int			log_end_partitions;
}			asked_for;

/* One partition a group holds an offset for, or has assigned to a member. */
typedef struct GroupPartition
{
	const char *topic;
	int32		partition;
	int			member;			/* the member it is assigned to, or -1 */
	int64		committed;		/* -1: none */
	int64		log_end;		/* -1: the cluster has no such partition */
} GroupPartition;

typedef struct ConsumerGroup
{
	char	   *group_id;
	const char *state;
	bool		is_simple;
	bool		members_known;	/* false: a group DescribeGroups cannot describe */
	rd_kafka_consumer_group_state_t listed_state;	/* what ListGroups said */
	int			member_count;
	bool		described;		/* false: gone before it could be described */
	GroupPartition *partitions;
	int			partition_count;
	int			partition_space;
	int			sorted_count;	/* partitions[0 .. sorted_count) are sorted */
} ConsumerGroup;

static int compare_partitions(const void *a, const void *b);
static int compare_partition_pointers(const void *a, const void *b);

static const char *
state_name(rd_kafka_consumer_group_state_t state)
{
	switch (state)
	{
		case RD_KAFKA_CONSUMER_GROUP_STATE_PREPARING_REBALANCE:
			return "preparing_rebalance";
		case RD_KAFKA_CONSUMER_GROUP_STATE_COMPLETING_REBALANCE:
			return "completing_rebalance";
		case RD_KAFKA_CONSUMER_GROUP_STATE_STABLE:
			return "stable";
		case RD_KAFKA_CONSUMER_GROUP_STATE_DEAD:
			return "dead";
		case RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY:
			return "empty";
		default:
			return "unknown";
	}
}

/*
 * The cluster did not answer a group request ("what" says which): say so,
 * and stop.  A broker without the request at all gets its own words.
 */
static void
raise_group_error(const char *what, rd_kafka_resp_err_t code, const char *reason)
{
	bool		unsupported = code == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE;

	ereport(ERROR,
			(errcode(unsupported ? ERRCODE_FEATURE_NOT_SUPPORTED : ERRCODE_FDW_ERROR),
			 unsupported ?
			 errmsg("the Kafka cluster of server \"%s\" cannot %s: its brokers do not support the request",
					kpr_session.request->server_name, what) :
			 errmsg("the Kafka cluster of server \"%s\" did not %s",
					kpr_session.request->server_name, what),
			 errdetail("librdkafka: %s", kpr_kafka_redact(reason)),
			 errhint("Consumer groups need brokers that answer ListGroups, DescribeGroups and OffsetFetch (Apache Kafka 2.x and later; librdkafka's mock cluster does not), and a principal allowed to describe the groups and their topics.")));
}

static rd_kafka_AdminOptions_t *
admin_options(rd_kafka_admin_op_t operation)
{
	rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new(kpr_session.client, operation);
	char		errstr[256];

	rd_kafka_AdminOptions_set_request_timeout(options, kpr_session.kafka_timeout_ms,
											  errstr, sizeof(errstr));
	return options;
}

/* An admin request's result, or the connection error after kpr.kafka_timeout. */
static rd_kafka_event_t *
wait_result(TimestampTz deadline)
{
	rd_kafka_event_t *event = kpr_kafka_wait_event(deadline);

	if (event == NULL)
		kpr_kafka_raise_connection_error();
	return event;
}

static int
compare_groups(const void *a, const void *b)
{
	return strcmp(((const ConsumerGroup *) a)->group_id, ((const ConsumerGroup *) b)->group_id);
}

/* The groups the call selects, sorted by id. */
static ConsumerGroup *
list_groups(const char *group_filter, int *count)
{
	rd_kafka_AdminOptions_t *options = admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
	rd_kafka_event_t *event;
	const rd_kafka_ListConsumerGroups_result_t *result;
	const rd_kafka_ConsumerGroupListing_t **listings;
	const rd_kafka_error_t **errors;
	size_t		listing_count;
	size_t		error_count;
	ConsumerGroup *groups;

	rd_kafka_ListConsumerGroups(kpr_session.client, options, kpr_session.queue);
	rd_kafka_AdminOptions_destroy(options);
	event = wait_result(kpr_kafka_deadline());
	result = rd_kafka_event_ListConsumerGroups_result(event);
	if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR || result == NULL)
		raise_group_error("list its consumer groups", rd_kafka_event_error(event),
						  rd_kafka_event_error_string(event));

	/* a broker that did not answer would leave its groups out without a word */
	errors = rd_kafka_ListConsumerGroups_result_errors(result, &error_count);
	if (error_count > 0)
		raise_group_error(rd_kafka_error_code(errors[0]) == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ?
						  "list its consumer groups" : "list the consumer groups of every broker",
						  rd_kafka_error_code(errors[0]), rd_kafka_error_string(errors[0]));

	listings = rd_kafka_ListConsumerGroups_result_valid(result, &listing_count);
	groups = palloc0(sizeof(ConsumerGroup) * Max(listing_count, 1));
	*count = 0;
	for (size_t i = 0; i < listing_count; i++)
	{
		const char *group_id = rd_kafka_ConsumerGroupListing_group_id(listings[i]);

		if (group_filter != NULL && !kpr_topic_matches(group_filter, group_id))
			continue;
		groups[*count].group_id = pstrdup(group_id);
		groups[*count].is_simple = rd_kafka_ConsumerGroupListing_is_simple_consumer_group(listings[i]);
		groups[*count].listed_state = rd_kafka_ConsumerGroupListing_state(listings[i]);
		(*count)++;
	}
	rd_kafka_event_destroy(event);
	qsort(groups, *count, sizeof(ConsumerGroup), compare_groups);
	return groups;
}

static GroupPartition *
add_partition(ConsumerGroup *group, const char *topic, int32 partition)
{
	GroupPartition *entry;

	if (group->partition_count == group->partition_space)
	{
		group->partition_space = Max(16, group->partition_space * 2);
		group->partitions = group->partitions == NULL ?
			palloc(sizeof(GroupPartition) * group->partition_space) :
			repalloc(group->partitions, sizeof(GroupPartition) * group->partition_space);
	}
	entry = &group->partitions[group->partition_count++];
	entry->topic = pstrdup(topic);
	entry->partition = partition;
	entry->member = -1;
	entry->committed = -1;
	entry->log_end = -1;
	return entry;
}

static ConsumerGroup *
find_group(ConsumerGroup *groups, int count, const char *group_id)
{
	ConsumerGroup key = {.group_id = (char *) group_id};

	return bsearch(&key, groups, count, sizeof(ConsumerGroup), compare_groups);
}

/* State, members and each member's assignment, in batches of groups. */
static void
describe_groups(ConsumerGroup *groups, int count)
{
	for (int first = 0; first < count; first += DESCRIBE_BATCH)
	{
		int			batch = Min(DESCRIBE_BATCH, count - first);
		const char **ids = palloc(sizeof(char *) * batch);
		rd_kafka_AdminOptions_t *options;
		rd_kafka_event_t *event;
		const rd_kafka_DescribeConsumerGroups_result_t *result;
		const rd_kafka_ConsumerGroupDescription_t **descriptions;
		size_t		description_count;

		for (int i = 0; i < batch; i++)
			ids[i] = groups[first + i].group_id;
		options = admin_options(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
		rd_kafka_DescribeConsumerGroups(kpr_session.client, ids, batch, options, kpr_session.queue);
		asked_for.describe_calls++;
		rd_kafka_AdminOptions_destroy(options);
		event = wait_result(kpr_kafka_deadline());
		result = rd_kafka_event_DescribeConsumerGroups_result(event);
		if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR || result == NULL)
			raise_group_error("describe its consumer groups", rd_kafka_event_error(event),
							  rd_kafka_event_error_string(event));

		descriptions = rd_kafka_DescribeConsumerGroups_result_groups(result, &description_count);
		for (size_t d = 0; d < description_count; d++)
		{
			const rd_kafka_ConsumerGroupDescription_t *description = descriptions[d];
			const rd_kafka_error_t *error = rd_kafka_ConsumerGroupDescription_error(description);
			ConsumerGroup *group = find_group(groups, count,
											  rd_kafka_ConsumerGroupDescription_group_id(description));

			if (group == NULL)
				continue;
			if (error != NULL)
			{
				/* deleted since it was listed: it is no longer there to report */
				if (rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND)
					continue;
				raise_group_error(psprintf("describe consumer group \"%s\"", group->group_id),
								  rd_kafka_error_code(error), rd_kafka_error_string(error));
			}
			group->described = true;
			if (rd_kafka_ConsumerGroupDescription_state(description) == RD_KAFKA_CONSUMER_GROUP_STATE_DEAD &&
				group->listed_state != RD_KAFKA_CONSUMER_GROUP_STATE_DEAD &&
				group->listed_state != RD_KAFKA_CONSUMER_GROUP_STATE_UNKNOWN)
			{
				/* listed alive, described dead: the new protocol's (above) */
				group->state = state_name(group->listed_state);
				group->members_known = false;
				continue;
			}
			group->members_known = true;
			group->state = state_name(rd_kafka_ConsumerGroupDescription_state(description));
			group->is_simple = rd_kafka_ConsumerGroupDescription_is_simple_consumer_group(description);
			group->member_count = (int) rd_kafka_ConsumerGroupDescription_member_count(description);
			for (int m = 0; m < group->member_count; m++)
			{
				const rd_kafka_MemberDescription_t *member =
					rd_kafka_ConsumerGroupDescription_member(description, m);
				const rd_kafka_MemberAssignment_t *assignment =
					rd_kafka_MemberDescription_assignment(member);
				const rd_kafka_topic_partition_list_t *assigned =
					assignment ? rd_kafka_MemberAssignment_partitions(assignment) : NULL;

				for (int p = 0; assigned != NULL && p < assigned->cnt; p++)
					add_partition(group, assigned->elems[p].topic,
								  assigned->elems[p].partition)->member = m;
			}
			/* for the committed offsets to find their assigned partition */
			if (group->partition_count > 0)
				qsort(group->partitions, group->partition_count, sizeof(GroupPartition),
					  compare_partitions);
			group->sorted_count = group->partition_count;
		}
		rd_kafka_event_destroy(event);
		pfree(ids);
	}
}

static void
take_offsets(ConsumerGroup *groups, int count, rd_kafka_event_t *event)
{
	const rd_kafka_ListConsumerGroupOffsets_result_t *result =
		rd_kafka_event_ListConsumerGroupOffsets_result(event);
	const rd_kafka_group_result_t **answers;
	size_t		answer_count;

	if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR || result == NULL)
		raise_group_error("list the committed offsets of its consumer groups",
						  rd_kafka_event_error(event), rd_kafka_event_error_string(event));
	answers = rd_kafka_ListConsumerGroupOffsets_result_groups(result, &answer_count);
	for (size_t a = 0; a < answer_count; a++)
	{
		const rd_kafka_error_t *error = rd_kafka_group_result_error(answers[a]);
		const rd_kafka_topic_partition_list_t *offsets = rd_kafka_group_result_partitions(answers[a]);
		ConsumerGroup *group = find_group(groups, count, rd_kafka_group_result_name(answers[a]));

		if (group == NULL || !group->described)
			continue;
		if (error != NULL)
		{
			if (rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND)
				continue;
			raise_group_error(psprintf("list the committed offsets of consumer group \"%s\"",
									   group->group_id),
							  rd_kafka_error_code(error), rd_kafka_error_string(error));
		}
		for (int p = 0; offsets != NULL && p < offsets->cnt; p++)
		{
			const rd_kafka_topic_partition_t *offset = &offsets->elems[p];
			GroupPartition key = {.topic = offset->topic, .partition = offset->partition};
			GroupPartition *entry;

			if (offset->offset < 0)
				continue;		/* nothing committed for it */
			/* (no assignment: partitions is NULL, which bsearch may not take) */
			entry = group->sorted_count == 0 ? NULL :
				bsearch(&key, group->partitions, group->sorted_count,
						sizeof(GroupPartition), compare_partitions);
			if (entry == NULL)
				entry = add_partition(group, offset->topic, offset->partition);
			entry->committed = offset->offset;
		}
	}
}

/* Every group's committed offsets, OFFSET_FETCHES_IN_FLIGHT calls at a time. */
static void
fetch_committed_offsets(ConsumerGroup *groups, int count)
{
	int			next = 0;
	int			in_flight = 0;

	while (next < count || in_flight > 0)
	{
		while (next < count && in_flight < OFFSET_FETCHES_IN_FLIGHT)
		{
			ConsumerGroup *group = &groups[next++];
			rd_kafka_ListConsumerGroupOffsets_t *request;
			rd_kafka_AdminOptions_t *options;

			if (!group->described)
				continue;
			/* no partition list: every offset the group has committed */
			request = rd_kafka_ListConsumerGroupOffsets_new(group->group_id, NULL);
			options = admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
			rd_kafka_ListConsumerGroupOffsets(kpr_session.client, &request, 1, options,
											  kpr_session.queue);
			rd_kafka_AdminOptions_destroy(options);
			rd_kafka_ListConsumerGroupOffsets_destroy(request);
			asked_for.offset_calls++;
			in_flight++;
		}
		if (in_flight > 0)
		{
			rd_kafka_event_t *event = wait_result(kpr_kafka_deadline());

			in_flight--;
			take_offsets(groups, count, event);
			rd_kafka_event_destroy(event);
		}
	}
}

static const rd_kafka_metadata_topic_t *
find_topic(const rd_kafka_metadata_topic_t **topics, int topic_count, const char *name)
{
	const rd_kafka_metadata_topic_t **match;

	match = bsearch(name, topics, topic_count, sizeof(*topics), kpr_kafka_compare_name_to_topic);
	return match ? *match : NULL;
}

static bool
partition_exists(const rd_kafka_metadata_topic_t *topic, int32 partition)
{
	return topic != NULL && partition >= 0 && partition < topic->partition_cnt;
}

/*
 * The log end of every partition the cluster has and a group committed to:
 * each partition asked once, however many groups hold an offset for it (a
 * ListOffsets request may name a partition only once).
 */
static void
fetch_log_ends(ConsumerGroup *groups, int count,
			   const rd_kafka_metadata_topic_t **topics, int topic_count)
{
	int			space = 0;
	int			entries = 0;
	int			asked = 0;
	GroupPartition **owners;
	const char **names;
	int32	   *ids;
	int64	   *timestamps;
	int64	   *offsets;
	rd_kafka_resp_err_t *errors;

	for (int g = 0; g < count; g++)
		space += groups[g].partition_count;
	owners = palloc(sizeof(GroupPartition *) * Max(space, 1));
	for (int g = 0; g < count; g++)
		for (int e = 0; e < groups[g].partition_count; e++)
		{
			GroupPartition *entry = &groups[g].partitions[e];

			if (entry->committed >= 0 &&
				partition_exists(find_topic(topics, topic_count, entry->topic), entry->partition))
				owners[entries++] = entry;
		}
	qsort(owners, entries, sizeof(GroupPartition *), compare_partition_pointers);

	names = palloc(sizeof(char *) * Max(entries, 1));
	ids = palloc(sizeof(int32) * Max(entries, 1));
	timestamps = palloc(sizeof(int64) * Max(entries, 1));
	for (int i = 0; i < entries; i++)
		if (i == 0 || compare_partitions(owners[i - 1], owners[i]) != 0)
		{
			names[asked] = owners[i]->topic;
			ids[asked] = owners[i]->partition;
			timestamps[asked] = RD_KAFKA_OFFSET_END;
			asked++;
		}
	asked_for.log_end_partitions = asked;
	if (asked == 0)
		return;
	offsets = palloc(sizeof(int64) * asked);
	errors = palloc(sizeof(rd_kafka_resp_err_t) * asked);
	kpr_kafka_offsets_for_times(1, asked, names, ids, timestamps, offsets, errors);
	for (int i = 0; i < asked; i++)
		if (errors[i] != RD_KAFKA_RESP_ERR_NO_ERROR)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("the Kafka cluster of server \"%s\" did not give the log-end offset of partition %d of topic \"%s\"",
							kpr_session.request->server_name, ids[i], names[i]),
					 errdetail("librdkafka: %s", rd_kafka_err2str(errors[i]))));
	/* owners and the asked partitions are in the same order */
	for (int i = 0, a = -1; i < entries; i++)
	{
		if (i == 0 || compare_partitions(owners[i - 1], owners[i]) != 0)
			a++;
		owners[i]->log_end = offsets[a];
	}
}

static int
compare_partitions(const void *a, const void *b)
{
	const GroupPartition *left = a;
	const GroupPartition *right = b;
	int			by_topic = strcmp(left->topic, right->topic);

	if (by_topic != 0)
		return by_topic;
	return (left->partition > right->partition) - (left->partition < right->partition);
}

static int
compare_partition_pointers(const void *a, const void *b)
{
	return compare_partitions(*(GroupPartition *const *) a, *(GroupPartition *const *) b);
}

static char *
int64_text(int64 value)
{
	return psprintf(INT64_FORMAT, value);
}

/* One row for the partitions [first, last) of one topic of a group. */
static void
send_topic_row(const ConsumerGroup *group, const GroupPartition *first, const GroupPartition *last,
			   const rd_kafka_metadata_topic_t *topic)
{
	bool	   *member_seen = palloc0(sizeof(bool) * Max(group->member_count, 1));
	int			members_on_topic = 0;
	int			assigned = 0;
	int			committed = 0;
	int			measured = 0;	/* committed, on a partition the cluster has */
	int64		committed_sum = 0;
	int64		log_end_sum = 0;
	int64		lag = 0;
	int64		max_lag = -1;
	int32		max_lag_partition = -1;
	const char *values[15];

	for (const GroupPartition *entry = first; entry < last; entry++)
	{
		if (entry->member >= 0)
		{
			assigned++;
			if (!member_seen[entry->member])
				members_on_topic++;
			member_seen[entry->member] = true;
		}
		if (entry->committed < 0)
			continue;
		committed++;
		if (entry->log_end < 0)
			continue;
		measured++;
		committed_sum += entry->committed;
		log_end_sum += entry->log_end;
		/* a log that was truncated or recreated can end before the offset */
		if (Max(entry->log_end - entry->committed, 0) > max_lag)
		{
			max_lag = Max(entry->log_end - entry->committed, 0);
			max_lag_partition = entry->partition;
		}
		lag += Max(entry->log_end - entry->committed, 0);
	}

	values[0] = group->group_id;
	values[1] = first->topic;
	values[2] = group->state;
	values[3] = group->is_simple ? "t" : "f";
	values[4] = group->members_known ? psprintf("%d", group->member_count) : NULL;
	values[5] = group->members_known ? psprintf("%d", members_on_topic) : NULL;
	values[6] = topic ? psprintf("%d", topic->partition_cnt) : NULL;
	values[7] = group->members_known ? psprintf("%d", assigned) : NULL;
	values[8] = psprintf("%d", committed);
	values[9] = measured > 0 ? int64_text(committed_sum) : NULL;
	values[10] = measured > 0 ? int64_text(log_end_sum) : NULL;
	values[11] = measured > 0 ? int64_text(lag) : NULL;
	values[12] = measured > 0 ? psprintf("%d", max_lag_partition) : NULL;
	values[13] = measured > 0 ? int64_text(max_lag) : NULL;
	if (!group->members_known)
		values[14] = NEW_PROTOCOL_NOTE;
	else if (topic == NULL)
		values[14] = "the cluster has no such topic: offsets left from a deleted topic";
	else if (measured < committed)
		values[14] = psprintf("%d committed partition(s) beyond the topic's %d: left out of the lag",
							  committed - measured, topic->partition_cnt);
	else if (committed == 0)
		values[14] = "assigned, nothing committed yet";
	else
		values[14] = NULL;
	kpr_worker_send_row(15, values);
	pfree(member_seen);
}

static void
send_group_rows(const ConsumerGroup *group, const rd_kafka_metadata_topic_t **topics,
				int topic_count)
{
	const char *values[15] = {0};
	int			first = 0;

	if (group->partition_count == 0)
	{
		values[0] = group->group_id;
		values[2] = group->state;
		values[3] = group->is_simple ? "t" : "f";
		values[4] = group->members_known ? psprintf("%d", group->member_count) : NULL;
		values[14] = !group->members_known ? NEW_PROTOCOL_NOTE :
			group->member_count > 0 ?
			"no partition assigned and nothing committed" : "no member and nothing committed";
		kpr_worker_send_row(15, values);
		return;
	}
	qsort(group->partitions, group->partition_count, sizeof(GroupPartition), compare_partitions);
	for (int e = 1; e <= group->partition_count; e++)
		if (e == group->partition_count ||
			strcmp(group->partitions[e].topic, group->partitions[first].topic) != 0)
		{
			send_topic_row(group, &group->partitions[first], &group->partitions[e],
						   find_topic(topics, topic_count, group->partitions[first].topic));
			first = e;
		}
}

void
kpr_task_list_consumer_groups(const KprRequest *request)
{
	const rd_kafka_metadata_t *metadata;
	const rd_kafka_metadata_topic_t **topics;
	const char *group_filter = kpr_request_argument(request, "group_filter");
	ConsumerGroup *groups;
	int			topic_count;
	int			group_count;

	/* a consumer client: ListOffsets for the log ends runs on consumer clients */
	kpr_kafka_open(request, RD_KAFKA_CONSUMER);
	metadata = kpr_kafka_metadata();
	/* every topic: a group's topics are reported whatever topic_filter says */
	topics = palloc(sizeof(*topics) * Max(metadata->topic_cnt, 1));
	topic_count = 0;
	for (int i = 0; i < metadata->topic_cnt; i++)
		if (metadata->topics[i].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
			topics[topic_count++] = &metadata->topics[i];
	qsort(topics, topic_count, sizeof(*topics), kpr_kafka_compare_topics);

	kpr_session.queue = rd_kafka_queue_new(kpr_session.client);
	groups = list_groups(group_filter, &group_count);
	describe_groups(groups, group_count);
	fetch_committed_offsets(groups, group_count);
	rd_kafka_queue_destroy(kpr_session.queue);
	kpr_session.queue = NULL;
	fetch_log_ends(groups, group_count, topics, topic_count);

	for (int g = 0; g < group_count; g++)
		if (groups[g].described)
			send_group_rows(&groups[g], topics, topic_count);
	elog(DEBUG1, "list_consumer_groups on server %s: %d group(s), %d DescribeConsumerGroups call(s), %d ListConsumerGroupOffsets call(s), log ends of %d partition(s)",
		 request->server_name, group_count, asked_for.describe_calls, asked_for.offset_calls,
		 asked_for.log_end_partitions);
	kpr_kafka_close();
}
