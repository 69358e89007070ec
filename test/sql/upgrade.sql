-- The upgrade path: 0.1.0 is frozen; 0.1.1 to 0.1.5 ship as update
-- scripts.  A database holding 0.1.0 with history and settings is updated
-- with ALTER EXTENSION ... UPDATE (every step) and loses nothing; what the
-- updates add works.
CREATE DATABASE kpr_upgrade;
\c kpr_upgrade
SET client_min_messages = warning;
CREATE EXTENSION kafka_partition_recommender VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'kafka_partition_recommender';

-- History, inventory, settings and a run, as a 0.1.0 user would have them.
CREATE SERVER prod FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092');
INSERT INTO kpr.collection_runs (server, status, started_at, finished_at, metrics_source,
                                 first_day, last_day, broker_count, topics_seen, rows_written)
VALUES ('prod', 'succeeded', now() - interval '1 minute', now(), 'sampling',
        (now() AT TIME ZONE 'UTC')::date - 2, (now() AT TIME ZONE 'UTC')::date - 1, 3, 2, 4);
INSERT INTO kpr.topic_inventory (server, topic, partition_count, replication_factor)
VALUES ('prod', 'orders', 6, 3), ('prod', 'clicks', 12, 3);
INSERT INTO kpr.consumption_daily (server, topic, day, bytes_in, records_in, peak_bytes_in_per_sec, source, run_id)
SELECT 'prod', t, (now() AT TIME ZONE 'UTC')::date - d, 1000000 * d, 1000 * d, 50000000.0 * d, 'manual',
       (SELECT max(run_id) FROM kpr.collection_runs)
FROM unnest(ARRAY['orders', 'clicks']) AS t, generate_series(1, 2) AS d;
INSERT INTO kpr.settings (server, throughput_factor) VALUES ('prod', 2);
-- the boolean that 0.1.6 folds into partition_rounding
INSERT INTO kpr.settings (server, topic, round_to_broker_multiple) VALUES
    ('staging', NULL, true), ('staging', 'audit', false);

CREATE TEMP TABLE before AS
SELECT 'runs' AS what, md5(string_agg(to_jsonb(r)::text, ',' ORDER BY run_id)) AS fingerprint FROM kpr.collection_runs r
UNION ALL SELECT 'inventory', md5(string_agg(i::text, ',' ORDER BY topic)) FROM kpr.topic_inventory i
UNION ALL SELECT 'history', md5(string_agg(to_jsonb(c)::text, ',' ORDER BY topic, day)) FROM kpr.consumption_daily c
-- (0.1.6 folds round_to_broker_multiple into partition_rounding: checked below)
UNION ALL SELECT 'settings', md5(string_agg((to_jsonb(s) - 'round_to_broker_multiple')::text, ',' ORDER BY server, topic NULLS FIRST)) FROM kpr.settings s
UNION ALL SELECT 'recommendation', md5(string_agg(to_jsonb(p)::text, ',' ORDER BY topic)) FROM kpr.recommended_partitions p;

ALTER EXTENSION kafka_partition_recommender UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'kafka_partition_recommender';

-- Nothing lost or changed.
SELECT b.what, b.fingerprint = a.fingerprint AS unchanged
FROM before b
-- the columns 0.1.0 had (0.1.4 adds the runs' notes, NULL for this run: checked below)
JOIN (SELECT 'runs' AS what, md5(string_agg((to_jsonb(r) - 'notes')::text, ',' ORDER BY run_id)) AS fingerprint FROM kpr.collection_runs r
      UNION ALL SELECT 'inventory', md5(string_agg(i::text, ',' ORDER BY topic)) FROM kpr.topic_inventory i
      -- the columns 0.1.0 had (0.1.2 adds two, 0.1.4 four, 0.1.5 four, NULL for these rows: checked below)
      UNION ALL SELECT 'history', md5(string_agg((to_jsonb(c) - 'bytes_in_stderr' - 'peak_bytes_in_per_sec_stderr'
                                                  - 'records_in_low' - 'records_in_high' - 'out_of_day_share'
                                                  - 'backward_share' - 'busiest_partition'
                                                  - 'busiest_partition_share' - 'partition_skew'
                                                  - 'keyed_share')::text,
                                      ',' ORDER BY topic, day)) FROM kpr.consumption_daily c
      -- 0.1.5 adds a setting and the view's partition columns (checked below),
      -- 0.1.6 eight settings and the view's consumer group and forecast
      -- columns; the reason says there is no forecast yet (two days of history)
      UNION ALL SELECT 'settings', md5(string_agg((to_jsonb(s) - 'hot_partition_skew' - 'consumer_throughput'
                                                   - 'min_backlogged_minutes' - 'consumer_group_include'
                                                   - 'consumer_group_exclude' - 'trend_days' - 'min_trend_days'
                                                   - 'forecast_horizon_days' - 'partition_rounding')::text,
                                      ',' ORDER BY server, topic NULLS FIRST)) FROM kpr.settings s
      UNION ALL SELECT 'recommendation', md5(string_agg((to_jsonb(p) - 'busiest_partition' - 'busiest_partition_share'
                                                         - 'partition_skew' - 'hot_partition' - 'hot_partition_skew'
                                                         - 'keyed_share' - 'partition_throughput_source'
                                                         - 'assumed_partition_throughput_bytes_per_sec'
                                                         - 'measured_partition_throughput_bytes_per_sec'
                                                         - 'measured_by_group' - 'consumer_groups'
                                                         - 'group_short_of_members' - 'group_behind'
                                                         - 'trend' - 'trend_days_observed'
                                                         - 'trend_bytes_in_per_sec_per_day'
                                                         - 'trend_low_bytes_in_per_sec_per_day'
                                                         - 'trend_high_bytes_in_per_sec_per_day'
                                                         - 'forecast_horizon_days' - 'projected_peak_bytes_in_per_sec'
                                                         - 'horizon_partitions' - 'runs_out_on' - 'partition_rounding'
                                                         || jsonb_build_object('reason',
                                                                regexp_replace(p.reason, '; no forecast: 2 of the last 28 days observed, min_trend_days 14', '')))::text,
                                      ',' ORDER BY topic))
                FROM kpr.recommended_partitions p) a
USING (what)
ORDER BY b.what;

-- What 0.1.1 adds.
SELECT server, last_status, last_error, days_behind, last_success_at IS NOT NULL AS has_succeeded
FROM kpr.collection_health;
-- still nothing for PUBLIC
SELECT count(*) AS granted_to_public
FROM information_schema.role_table_grants
WHERE table_schema = 'kpr' AND grantee = 'PUBLIC';

-- What 0.1.2 adds: the errors of sampled figures, NULL (not stated) for
-- rows written before, and the new result columns of sample_topics.
SELECT count(*) AS rows, count(bytes_in_stderr) AS with_bytes_error,
       count(peak_bytes_in_per_sec_stderr) AS with_peak_error
FROM kpr.consumption_daily;
SELECT pg_get_function_result('kpr.sample_topics(name, integer, integer, text, boolean)'::regprocedure)
       LIKE '%bytes_in_stderr double precision, peak_bytes_in_per_sec_stderr double precision, stratified_by text,%' AS new_columns;
SELECT has_function_privilege('public', 'kpr.sample_topics(name, integer, integer, text, boolean)', 'EXECUTE')
       AS public_may_sample;

-- What 0.1.3 changes: collect's body only (it finds the topics no longer
-- listed, and those without figures, from what its run wrote).
SELECT prosrc LIKE '%i.last_run_id IS DISTINCT FROM this_run%' AS collect_updated
FROM pg_proc WHERE oid = 'kpr.collect(name, integer)'::regprocedure;

-- What 0.1.4 adds: counts by timestamp with their interval and what the
-- sample saw out of order, NULL (not stated) for rows written before; the
-- run's notes; sample_topics' new result columns, still not for PUBLIC.
SELECT count(*) AS rows, count(records_in_low) AS with_low, count(records_in_high) AS with_high,
       count(out_of_day_share) AS with_out_of_day, count(backward_share) AS with_backwards
FROM kpr.consumption_daily;
SELECT count(*) AS runs, count(notes) AS with_notes FROM kpr.collection_runs;
SELECT pg_get_function_result('kpr.sample_topics(name, integer, integer, text, boolean)'::regprocedure)
       LIKE '%stratified_by text, records_in_low bigint, records_in_high bigint, records_exact boolean, timestamp_type text, sampled_out_of_day bigint, sampled_backwards bigint,%' AS columns_0_1_4;
SELECT has_function_privilege('public', 'kpr.sample_topics(name, integer, integer, text, boolean)', 'EXECUTE')
       AS public_may_sample;
SELECT prosrc LIKE '%out_of_day_share = excluded.out_of_day_share%' AS collect_writes_them
FROM pg_proc WHERE oid = 'kpr.collect(name, integer)'::regprocedure;

-- What 0.1.5 adds: traffic per partition (empty until a collect), the
-- day's busiest partition, skew and keyed share (NULL for rows written
-- before), sample_topics' per-partition arrays, and the model's hot
-- partition columns (NULL without partition detail; the threshold 2).
SELECT count(*) AS partition_rows FROM kpr.partition_daily;
SELECT count(busiest_partition) + count(busiest_partition_share) + count(partition_skew)
       + count(keyed_share) AS with_skew
FROM kpr.consumption_daily;
SELECT pg_get_function_result('kpr.sample_topics(name, integer, integer, text, boolean)'::regprocedure)
       LIKE '%sampled_backwards bigint, partition_records bigint[], partition_bytes bigint[], keyed_share double precision)' AS columns_0_1_5;
SELECT has_table_privilege('public', 'kpr.partition_daily', 'SELECT') AS public_may_read_partitions;
SELECT topic, busiest_partition, partition_skew, hot_partition, hot_partition_skew, keyed_share
FROM kpr.recommended_partitions ORDER BY topic;
SELECT prosrc LIKE '%DELETE FROM kpr.partition_daily%' AS collect_prunes
FROM pg_proc WHERE oid = 'kpr.collect(name, integer)'::regprocedure;
-- the update computes kpr.server_load for the servers already collected
-- (prod: both topics recommended 20 partitions, peak 100 MB/s x 2 / 10 MiB/s,
-- above their 6 and 12; 3 replicas each: 120)
SELECT server, replicas_after_recommendations, topics FROM kpr.server_load;
SELECT prosrc LIKE '%kpr._refresh_server_load(collect.server)%' AS collect_refreshes
FROM pg_proc WHERE oid = 'kpr.collect(name, integer)'::regprocedure;

-- What 0.1.6 adds: consumer groups, empty until sampled; the model's
-- settings at their defaults and its columns without groups (assumed
-- throughput, no group).
SELECT (SELECT count(*) FROM kpr.consumer_group_samples) + (SELECT count(*) FROM kpr.consumer_group_daily)
       AS group_rows;
SELECT DISTINCT consumer_throughput, min_backlogged_minutes, consumer_group_include, consumer_group_exclude
FROM kpr.effective_settings;
SELECT topic, partition_throughput_source, partition_throughput_bytes_per_sec,
       measured_partition_throughput_bytes_per_sec, consumer_groups, group_short_of_members, group_behind
FROM kpr.recommended_partitions ORDER BY topic;
SELECT has_function_privilege('public', 'kpr.collect_consumer_groups(name)', 'EXECUTE') AS public_may_sample_groups,
       has_table_privilege('public', 'kpr.consumer_group_daily', 'SELECT') AS public_may_read_groups;
-- ... planning: round_to_broker_multiple became partition_rounding (true:
-- broker_multiple, false: none, NULL: inherit), the trend settings at their
-- defaults, and no forecast on two days of history.
SELECT server, topic, partition_rounding FROM kpr.settings ORDER BY server, topic NULLS FIRST;
SELECT count(*) AS boolean_columns_left FROM pg_attribute
WHERE attrelid = 'kpr.settings'::regclass AND attname = 'round_to_broker_multiple' AND NOT attisdropped;
SELECT DISTINCT trend_days, min_trend_days, forecast_horizon_days, partition_rounding
FROM kpr.effective_settings;
SELECT topic, trend, trend_days_observed, horizon_partitions, runs_out_on, decided_by
FROM kpr.recommended_partitions ORDER BY topic;
-- ... the shipped platform limits, and kpr.server_load's partitions
-- before replication, computed by the update (20 + 20)
SELECT platform, count(*) AS limits FROM kpr.platform_limits GROUP BY platform ORDER BY platform;
SELECT server, partitions_after_recommendations, replicas_after_recommendations FROM kpr.server_load;

-- A fresh install of 0.1.6 (0.1.0, then the updates) has the same objects.
CREATE TEMP TABLE updated_objects AS
SELECT pg_describe_object(classid, objid, objsubid) AS object FROM pg_depend
WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'kafka_partition_recommender')
  AND deptype = 'e';
DROP EXTENSION kafka_partition_recommender CASCADE;
CREATE EXTENSION kafka_partition_recommender;
SELECT extversion FROM pg_extension WHERE extname = 'kafka_partition_recommender';
SELECT count(*) AS objects,
       count(*) FILTER (WHERE pg_describe_object(classid, objid, objsubid)
                              IN (SELECT object FROM updated_objects)) AS also_in_the_updated
FROM pg_depend
WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'kafka_partition_recommender')
  AND deptype = 'e';

\c contrib_regression
DROP DATABASE kpr_upgrade;
