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

-- Sampling into history.  A group of 4 members on a topic of 4 partitions,
-- each member reading 50 records a second from the start of 40,000 records
-- of 100 bytes (the start committed before it is in place), and committing
-- every 100 ms: behind from its start (as a consumer restarted after an
-- outage is), never running out of records while the test samples it, at
-- 4 x 50 = 200 records a second.  Beside it, kpr-cg-short: 2 members on
-- the same 4 partitions at 50 records a second each, behind too.  The test
-- samples until the first has read 4,000 records past its first sample (20 s
-- at its rate), bounded by 120 s.
\! printf 'topic cg_backlog 4 1\nday cg_backlog -1 40000 0 100 100 0\n' > "$KPR_GROUPS_STATE/backlog.spec"
\! test/fixtures/kafka_mock/kpr_mock_cluster --spec "$KPR_GROUPS_STATE/backlog.spec" --bootstrap-servers "$KPR_BROKER_BOOTSTRAP" --state-dir "$KPR_GROUPS_STATE/backlog" >"$KPR_GROUPS_STATE/backlog.log" 2>&1 && echo "cg_backlog loaded"
\! test/fixtures/consumer_groups/groups.sh throttled "$KPR_GROUPS_STATE" "$KPR_BROKER_BOOTSTRAP" kpr-cg-throttled cg_backlog 4 50 && echo "kpr-cg-throttled in place"
\! test/fixtures/consumer_groups/groups.sh throttled "$KPR_GROUPS_STATE" "$KPR_BROKER_BOOTSTRAP" kpr-cg-short cg_backlog 2 50 && echo "kpr-cg-short in place"

-- the topic's average record size comes from a collect of it
ALTER SERVER broker OPTIONS (ADD topic_filter 'cg_backlog');
SET client_min_messages = warning;
SELECT kpr.collect('broker') IS NOT NULL AS collected;
RESET client_min_messages;
SELECT topic, sum(records_in) AS records_in, sum(bytes_in) AS bytes_in
FROM kpr.consumption_daily WHERE topic = 'cg_backlog' GROUP BY topic;

DO $wait$
DECLARE
    deadline  timestamptz := clock_timestamp() + interval '120 seconds';
    committed bigint;
    start     bigint;
BEGIN
    LOOP
        PERFORM kpr.collect_consumer_groups('broker');
        SELECT s.committed_offsets INTO committed
        FROM kpr.consumer_group_samples s
        WHERE s.group_id = 'kpr-cg-throttled' AND s.partitions_committed = 4
        ORDER BY s.sampled_at DESC LIMIT 1;
        start := coalesce(start, committed);
        EXIT WHEN committed >= start + 4000;
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'kpr-cg-throttled did not read 4,000 records on all 4 partitions within 120 s (committed: %, from %)',
                            committed, start;
        END IF;
        PERFORM pg_sleep(0.5);
    END LOOP;
END
$wait$;

-- Its day: every interval with all 4 partitions committed was backlogged,
-- and the rate it read at is the one it was held to, within 10%.  Its bytes
-- go through the topic's average record size (100 bytes).
SELECT group_id, topic, max_members, max_members_on_topic, topic_partitions,
       samples > 2 AS sampled_often, minutes_backlogged > 0 AS backlogged,
       records_backlogged = records_consumed AS every_read_backlogged,
       abs(backlogged_records_per_sec / 200 - 1) < 0.10 AS within_10_percent,
       avg_record_bytes,
       abs(backlogged_bytes_per_sec / (200 * 100) - 1) < 0.10 AS bytes_within_10_percent
FROM kpr.consumer_group_days
WHERE group_id = 'kpr-cg-throttled';

-- The other groups: caught up or idle, never backlogged; the simple group
-- lags but reads nothing.
SELECT group_id, topic, max_members, last_lag = max_lag AS lag_steady,
       records_consumed, minutes_backlogged, backlogged_records_per_sec
FROM kpr.consumer_group_days
WHERE group_id NOT IN ('kpr-cg-throttled', 'kpr-cg-short')
ORDER BY group_id, topic;

-- The model.  With min_backlogged_minutes at 0.2 (12 s: the test's sampling
-- lasts 20 s), kpr-cg-throttled's rate replaces the assumed 10 MiB/s:
-- 200 records/s x 100 bytes / 4 partitions = 5,000 B/s per partition,
-- within 10%.  cg_backlog's records all came on one day, 40,000 x 100 bytes
-- over 86,400 s; their peak x 3 needs 1 partition at that rate.  But
-- kpr-cg-short, 2 members on 4 partitions and still behind, makes the
-- action add_consumers.
INSERT INTO kpr.settings (server, min_backlogged_minutes) VALUES ('broker', 0.2);
SELECT topic, current_partitions, action, recommended_partitions, partition_throughput_source,
       measured_by_group, abs(partition_throughput_bytes_per_sec / 5000 - 1) < 0.10 AS within_10_percent,
       recommended_partitions = ceil(required_bytes_per_sec / partition_throughput_bytes_per_sec)
           AS as_that_rate_implies,
       consumer_groups, group_short_of_members, group_behind
FROM kpr.recommended_partitions WHERE server = 'broker';
SELECT reason LIKE '%(measured: group kpr-cg-throttled read % per partition, one member each, while backlogged)%'
           AS says_measured,
       reason LIKE '%; group kpr-cg-short fell behind with 2 member(s) on 4 partitions: add consumers, up to one per partition, before adding partitions'
           AS says_add_consumers
FROM kpr.recommended_partitions WHERE server = 'broker';

-- A sample is one row per group and topic; the day sums them.
SELECT count(DISTINCT sampled_at) > 2 AS several_samples,
       count(*) FILTER (WHERE group_id = 'kpr-cg-throttled') =
           count(DISTINCT sampled_at) FILTER (WHERE group_id = 'kpr-cg-throttled') AS one_row_each
FROM kpr.consumer_group_samples;
SELECT bool_and(d.samples = s.samples) AS days_count_every_sample
FROM kpr.consumer_group_daily d
JOIN (SELECT group_id, topic, count(*) AS samples FROM kpr.consumer_group_samples GROUP BY 1, 2) s
     USING (group_id, topic);

-- Samples older than kpr.consumer_group_sample_days go; the days stay.
WITH moved AS (UPDATE kpr.consumer_group_samples SET sampled_at = sampled_at - interval '3 days'
               RETURNING 1)
SELECT count(*) > 0 AS samples_made_old FROM moved;
SET kpr.consumer_group_sample_days = 2;
SELECT kpr.collect_consumer_groups('broker') AS rows_sampled;
SELECT count(*) FILTER (WHERE sampled_at < now() - interval '2 days') AS old_samples_left,
       count(*) AS samples_left
FROM kpr.consumer_group_samples;
RESET kpr.consumer_group_sample_days;
SELECT count(*) > 0 AS days_kept FROM kpr.consumer_group_daily;

SELECT kpr.collect_consumer_groups(NULL);

DROP SERVER broker CASCADE;
DROP EXTENSION kafka_partition_recommender;
