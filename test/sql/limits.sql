-- Platform limits: the shipped rows, how a server's options pick them, a
-- row of the user's own taking precedence, the warnings where applying
-- every recommendation passes a limit, and shipped rows kept safe.

-- What ships: per platform, the limits and their range, all sourced and dated.
SELECT platform, limit_name, count(*) AS tiers, min(value), max(value),
       bool_and(source LIKE 'https://%') AS sourced, bool_and(as_of IS NOT NULL) AS dated
FROM kpr.platform_limits GROUP BY platform, limit_name ORDER BY platform, limit_name;

BEGIN;
CREATE FUNCTION pg_temp.d(days_ago integer) RETURNS date
    LANGUAGE sql STABLE AS $$ SELECT (now() AT TIME ZONE 'UTC')::date - days_ago $$;

CREATE SERVER msk FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', platform 'aws_msk', platform_tier 'kafka.m5.large');
CREATE SERVER cloud FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', platform 'confluent_cloud', platform_tier 'basic');
CREATE SERVER self_run FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', platform 'apache_kafka');
CREATE SERVER unnamed FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092');

-- The limits in force: msk's broker size, cloud's cluster type, and for
-- self_run (no tier) the platform's rows for every tier; unnamed has none.
SELECT server, platform, tier, limit_name, value, limit_tier, provided_by
FROM kpr.server_limits ORDER BY server, limit_name;

-- Each server: 3 brokers; a topic without traffic holding most of the
-- partitions, and "grows", 4 partitions needing 10 (peak 33.3 MiB/s x 3 /
-- 10 MiB/s = 9.99 -> 10).
INSERT INTO kpr.collection_runs (server, started_at, finished_at, status, broker_count)
SELECT s, now(), now(), 'succeeded', 3 FROM unnest(ARRAY['msk', 'cloud', 'self_run', 'unnamed']) AS s;
INSERT INTO kpr.topic_inventory (server, topic, partition_count, replication_factor) VALUES
    -- msk: 1000 x 3 replicas / 3 brokers = 1000 per broker, at its limit; with
    -- grows at 10: (1000 + 10) x 3 / 3 = 1010, above kafka.m5.large's 1000.
    ('msk', 'quiet', 1000, 3), ('msk', 'grows', 4, 3),
    -- cloud: 4090 + 10 = 4100 partitions, above basic's 4096.
    ('cloud', 'quiet', 4090, 3), ('cloud', 'grows', 4, 3),
    -- self_run and unnamed: the same as msk, under apache_kafka's 4000 per
    -- broker and 200000 per cluster; unnamed has no limits at all.
    ('self_run', 'quiet', 1000, 3), ('self_run', 'grows', 4, 3),
    ('unnamed', 'quiet', 1000, 3), ('unnamed', 'grows', 4, 3);
INSERT INTO kpr.consumption_daily (server, topic, day, peak_bytes_in_per_sec, peak_interval_seconds, source)
SELECT server, 'grows', pg_temp.d(1), 34952533, 3600, 'manual'
FROM unnest(ARRAY['msk', 'cloud', 'self_run', 'unnamed']) AS server;

SELECT server, partitions_after_recommendations, replicas_after_recommendations
FROM kpr.server_load ORDER BY server;
SELECT server, topic, action, recommended_partitions, warning
FROM kpr.recommended_partitions ORDER BY server, topic;

-- A row of the user's own for kafka.m5.large takes precedence: 1500 per
-- broker (the most that still supports updates), and the warning goes.
INSERT INTO kpr.platform_limits (platform, tier, limit_name, value, unit, source, as_of, note)
VALUES ('aws_msk', 'kafka.m5.large', 'replicas_per_broker', 1500, 'partition replicas per broker',
        'https://docs.aws.amazon.com/msk/latest/developerguide/bestpractices.html', date '2026-12-08',
        'we accept the update-operations maximum');
SELECT server, limit_name, value, provided_by = current_user AS ours
FROM kpr.server_limits WHERE server = 'msk';
SELECT server, topic, warning FROM kpr.recommended_partitions WHERE server = 'msk' AND topic = 'grows';
ROLLBACK;

-- Shipped rows cannot be edited in place (pg_dump would not keep the edit):
-- the error says what to do instead.  Rows of one's own can.
UPDATE kpr.platform_limits SET value = 5000 WHERE platform = 'aws_msk' AND tier = 'kafka.m5.large';
DELETE FROM kpr.platform_limits WHERE platform = 'confluent_cloud';
INSERT INTO kpr.platform_limits (platform, tier, limit_name, value, unit, source, as_of, provided_by)
VALUES ('on_prem', '*', 'replicas_per_broker', 3000, 'replicas', 'our capacity review', date '2026-11-01', 'platform team');
UPDATE kpr.platform_limits SET value = 3500 WHERE platform = 'on_prem' RETURNING platform, value;
DELETE FROM kpr.platform_limits WHERE platform = 'on_prem';
-- pg_dump keeps the rows that are not shipped.
SELECT c.condition AS dump_condition
FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS c(config, condition)
WHERE e.extname = 'kafka_partition_recommender' AND c.config = 'kpr.platform_limits'::regclass;
-- The options take words; a blank platform is refused.
CREATE SERVER blank_platform FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', platform '');

-- pg_dump keeps a row of one's own and the shipped rows once: a database
-- with one is dumped and restored into another.
CREATE DATABASE kpr_dump;
CREATE DATABASE kpr_restore;
\c kpr_dump
SET client_min_messages = warning;
CREATE EXTENSION kafka_partition_recommender;
INSERT INTO kpr.platform_limits (platform, tier, limit_name, value, unit, source, as_of, provided_by)
VALUES ('aws_msk', 'kafka.m5.large', 'replicas_per_broker', 1500, 'partition replicas per broker',
        'our review', date '2026-12-01', 'platform team');
\! pg_dump -d kpr_dump | psql -X -q -v ON_ERROR_STOP=1 -d kpr_restore >/dev/null && echo restored
\c kpr_restore
SELECT provided_by, count(*) AS limits FROM kpr.platform_limits GROUP BY provided_by ORDER BY provided_by;
SELECT platform, tier, limit_name, value, source FROM kpr.platform_limits WHERE provided_by = 'platform team';
\c contrib_regression
DROP DATABASE kpr_dump;
DROP DATABASE kpr_restore;
