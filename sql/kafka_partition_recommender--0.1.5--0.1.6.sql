/* kafka_partition_recommender 0.1.5 -> 0.1.6 */
\echo Use "ALTER EXTENSION kafka_partition_recommender UPDATE TO '0.1.6'" to load this file. \quit

-- 0.1.6: consumer groups (issue 17, first part): each group's state,
-- members, assignment, committed offsets and lag per topic, read from the
-- cluster through librdkafka's admin API in a background worker.

CREATE FUNCTION kpr.list_consumer_groups(
    server name,
    group_filter text DEFAULT NULL)
RETURNS TABLE (
    group_id text,
    topic text,
    state text,
    is_simple boolean,
    members integer,
    members_on_topic integer,
    topic_partitions integer,
    partitions_assigned integer,
    partitions_committed integer,
    committed_offsets bigint,
    log_end_offsets bigint,
    lag bigint,
    max_lag_partition integer,
    max_lag bigint,
    note text)
AS 'MODULE_PATHNAME', 'kpr_list_consumer_groups'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION kpr.list_consumer_groups(name, text) IS
'Consumer groups of a server''s Kafka cluster, one row per group and topic it is assigned or has committed offsets for (one row with topic NULL for a group with neither): state, members, partitions assigned and committed, committed and log-end offsets summed over the committed partitions the cluster has, lag, and the partition with the most lag. group_filter: comma-separated globs over group ids.';

REVOKE ALL ON FUNCTION kpr.list_consumer_groups(name, text) FROM PUBLIC;
