-- kpr.list_consumer_groups against real consumer groups on the real broker.
-- test/fixtures/consumer_groups made them before the suite, with librdkafka's
-- own consumers, and wrote what each group committed and each partition's
-- log end at that moment into expected_groups.csv:
--   kpr-cg-simple   offsets committed without joining (a simple group): empty,
--                   orders' 6 partitions at 0, 10, .. 50, so it lags;
--   kpr-cg-left     read clicks to its end, committed, left: empty, no lag;
--   kpr-cg-fewer    2 members on orders' 6 partitions, all read and committed;
--   kpr-cg-crowded  5 members on clicks' 4 partitions, nothing committed.
-- orders and clicks are not written to after the broker was loaded, so the
-- log ends still hold, and every figure is exact.
\getenv bootstrap KPR_BROKER_BOOTSTRAP
\getenv groups_state KPR_GROUPS_STATE
SELECT :{?bootstrap} AND :{?groups_state} AS "the broker and the groups are running";
\set groups_csv `cat "$KPR_GROUPS_STATE/expected_groups.csv"`

CREATE EXTENSION kafka_partition_recommender;
CREATE SERVER broker FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap');
CREATE USER MAPPING FOR CURRENT_USER SERVER broker;

CREATE TEMP TABLE expected_groups AS
SELECT f[1] AS group_id, f[2] AS topic, f[3]::integer AS partition,
       nullif(f[4]::bigint, -1) AS committed, f[5]::bigint AS log_end
FROM (SELECT string_to_array(line, ',') AS f
      FROM regexp_split_to_table(:'groups_csv', '\n') AS line
      WHERE line <> '') lines;
SELECT group_id, count(*) AS partitions FROM expected_groups GROUP BY 1 ORDER BY 1;

-- What the cluster says, row by row (the figures that depend on the loaded
-- records are compared with the file below).
CREATE TEMP TABLE listed AS SELECT * FROM kpr.list_consumer_groups('broker', 'kpr-cg-*');
SELECT group_id, topic, state, is_simple, members, members_on_topic, topic_partitions,
       partitions_assigned, partitions_committed, lag = 0 AS caught_up, note
FROM listed ORDER BY group_id, topic;

-- Every committed and log-end sum, lag and busiest partition, against the file.
WITH expected AS (
    SELECT group_id, topic,
           sum(committed) AS committed_offsets,
           sum(log_end) FILTER (WHERE committed IS NOT NULL) AS log_end_offsets,
           sum(log_end - committed) AS lag,
           max(log_end - committed) AS max_lag,
           (array_agg(partition ORDER BY log_end - committed DESC, partition)
                FILTER (WHERE committed IS NOT NULL))[1] AS max_lag_partition
    FROM expected_groups GROUP BY group_id, topic
)
SELECT l.group_id,
       l.committed_offsets IS NOT DISTINCT FROM e.committed_offsets AS committed_as_written,
       l.log_end_offsets IS NOT DISTINCT FROM e.log_end_offsets AS log_end_as_written,
       l.lag IS NOT DISTINCT FROM e.lag AS lag_as_written,
       l.max_lag IS NOT DISTINCT FROM e.max_lag AS max_lag_as_written,
       l.max_lag_partition IS NOT DISTINCT FROM e.max_lag_partition AS max_lag_partition_as_written,
       l.lag
FROM listed l FULL JOIN expected e USING (group_id, topic)
ORDER BY 1;

-- The filter is a list of globs over group ids; a group it leaves out is not
-- asked about at all.
SELECT group_id, topic FROM kpr.list_consumer_groups('broker', 'kpr-cg-l?ft, kpr-cg-crowd*')
ORDER BY 1, 2;
SELECT count(*) AS none FROM kpr.list_consumer_groups('broker', 'no-such-group-*');
-- the whole cluster: the fixture's groups and none else
SELECT count(DISTINCT group_id) AS groups FROM kpr.list_consumer_groups('broker');

DROP SERVER broker CASCADE;
DROP EXTENSION kafka_partition_recommender;
