-- kpr.partition_changes: the statements for each increase, with the keyed
-- warning, and the way down for an over-provisioned topic.

BEGIN;
CREATE FUNCTION pg_temp.d(days_ago integer) RETURNS date
    LANGUAGE sql STABLE AS $$ SELECT (now() AT TIME ZONE 'UTC')::date - days_ago $$;
CREATE SERVER prod FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers 'kafka-1.example:9092,kafka-2.example:9092');
INSERT INTO kpr.collection_runs (server, started_at, finished_at, status, broker_count)
VALUES ('prod', now(), now(), 'succeeded', 3);
INSERT INTO kpr.topic_inventory (server, topic, partition_count, replication_factor) VALUES
    ('prod', 'orders.created', 6, 3),      -- keyed: 90% of sampled records carry a key
    ('prod', 'clicks_raw', 4, 2),          -- keyless: 10%
    ('prod', 'Payments.Settled', 2, 3),    -- unknown: no sample
    ('prod', 'legacy', 32, 3),             -- over-provisioned
    ('prod', 'steady', 3, 3),              -- keep: not listed
    ('prod', 'idle', 5, 3);                -- no_data: not listed
-- 20 MiB/s x 3 / 10 MiB/s = 6 partitions needed ... each topic its own peak:
--   orders.created 40 MiB/s -> 12; clicks_raw 20 MiB/s -> 6;
--   Payments.Settled 10 MiB/s -> 3; legacy 1 MiB/s -> 1; steady 10 MiB/s -> 3.
INSERT INTO kpr.consumption_daily (server, topic, day, peak_bytes_in_per_sec, peak_interval_seconds,
                                   keyed_share, source) VALUES
    ('prod', 'orders.created', pg_temp.d(1), 41943040, 3600, 0.9, 'manual'),
    ('prod', 'clicks_raw', pg_temp.d(1), 20971520, 3600, 0.1, 'manual'),
    ('prod', 'Payments.Settled', pg_temp.d(1), 10485760, 3600, NULL, 'manual'),
    ('prod', 'legacy', pg_temp.d(1), 1048576, 3600, NULL, 'manual'),
    ('prod', 'steady', pg_temp.d(1), 10485760, 3600, NULL, 'manual');

\x on
SELECT * FROM kpr.partition_changes ORDER BY topic;
\x off
ROLLBACK;

-- Names that need care: a topic starting with a digit (Terraform), with
-- underscores and capitals (Kubernetes), and a bootstrap list a shell would
-- glob ([::1]) goes in single quotes.
BEGIN;
CREATE SERVER v6 FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '[::1]:9092');
INSERT INTO kpr.topic_inventory (server, topic, partition_count, replication_factor) VALUES
    ('v6', '2024_Events', 1, 1);
INSERT INTO kpr.consumption_daily (server, topic, day, peak_bytes_in_per_sec, peak_interval_seconds, source)
VALUES ('v6', '2024_Events', (now() AT TIME ZONE 'UTC')::date - 1, 10485760, 3600, 'manual');
SELECT kafka_topics_command, terraform, strimzi FROM kpr.partition_changes WHERE server = 'v6';
-- history of a server since dropped: a placeholder the shell insists on
INSERT INTO kpr.topic_inventory (server, topic, partition_count, replication_factor) VALUES
    ('dropped', 'orders', 1, 1);
INSERT INTO kpr.consumption_daily (server, topic, day, peak_bytes_in_per_sec, peak_interval_seconds, source)
VALUES ('dropped', 'orders', (now() AT TIME ZONE 'UTC')::date - 1, 10485760, 3600, 'manual');
SELECT kafka_topics_command FROM kpr.partition_changes WHERE server = 'dropped';
ROLLBACK;
SELECT kpr._shell_word(w) FROM unnest(ARRAY['orders.created', 'a b', 'it''s', '$HOME', '']) AS w;
