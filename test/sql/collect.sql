-- kpr.collect and kpr.collect_all: history written from each source, written
-- again without duplicates, failures that leave history as it was and a run
-- row saying why (even when the transaction rolls back), partial runs,
-- concurrent collects, and one broken server among several.  Peers: the mock
-- cluster (sampling) and the Confluent stub (metrics).  Run ids and times
-- differ from run to run and are not shown; days are shown as days ago.
\getenv bootstrap KPR_MOCK_BOOTSTRAP
\getenv confluent_url KPR_CONFLUENT_URL
SELECT :{?bootstrap} AND :{?confluent_url} AS "the peers are running";
SELECT (now() AT TIME ZONE 'UTC')::date AS today \gset
\setenv KPR_DB :DBNAME

-- What a run row says, without what changes from run to run.
CREATE FUNCTION pg_temp.run(run bigint) RETURNS TABLE (
    server text, status text, metrics_source text, first_days_ago integer, last_days_ago integer,
    has_cluster_id boolean, broker_count integer, topics_seen integer, rows_written bigint,
    failed_topics jsonb, error text, timed boolean)
LANGUAGE sql AS $$
    SELECT server, status, metrics_source,
           (now() AT TIME ZONE 'UTC')::date - first_day, (now() AT TIME ZONE 'UTC')::date - last_day,
           cluster_id IS NOT NULL, broker_count, topics_seen, rows_written, failed_topics,
           -- six queries run at once, any may meet a fault first
           regexp_replace(error, 'the P\w+ query of \w+ \(page \d+\)', 'a query'),
           finished_at >= started_at
    FROM kpr.collection_runs WHERE run_id = run
$$;

SET client_min_messages = warning;

-- Sampling (metrics_source unset): three complete days of the mock cluster.
CREATE SERVER sampled FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap');
CREATE USER MAPPING FOR CURRENT_USER SERVER sampled
    OPTIONS ("ssl.key.password" 'SECRET-sampled-key-password');
SELECT kpr.collect('sampled', 3) AS first_run \gset
SELECT * FROM pg_temp.run(:first_run);
SELECT topic, partition_count, is_internal, missing_since IS NULL AS present,
       last_run_id = :first_run AS by_this_run
FROM kpr.topic_inventory WHERE server = 'sampled' ORDER BY topic;
SELECT topic, :'today'::date - day AS days_ago, records_in, bytes_in, source, run_id = :first_run AS by_this_run
FROM kpr.consumption_daily WHERE server = 'sampled' AND records_in > 0 ORDER BY topic, day;
-- Timestamps in order and every record read: every count exact (its
-- interval is the count), nothing out of order, nothing in the run's notes.
SELECT count(*) AS rows,
       count(*) FILTER (WHERE records_in_low = records_in AND records_in_high = records_in) AS exact_counts,
       max(out_of_day_share) AS out_of_day, max(backward_share) AS backwards,
       (SELECT notes FROM kpr.collection_runs WHERE run_id = :first_run) AS notes
FROM kpr.consumption_daily WHERE server = 'sampled';

-- Collect again: the same days are replaced, not added; a day outside the
-- window (entered by hand) is kept; a changed value is corrected; a topic
-- of the inventory the cluster no longer lists is marked missing, not
-- deleted.
INSERT INTO kpr.topic_inventory (server, topic, partition_count, replication_factor, last_run_id)
VALUES ('sampled', 'retired', 4, 3, :first_run);
INSERT INTO kpr.consumption_daily (server, topic, day, bytes_in, records_in, source)
VALUES ('sampled', 'orders', :'today'::date - 30, 1000, 10, 'manual');
UPDATE kpr.consumption_daily SET bytes_in = 1 WHERE server = 'sampled' AND topic = 'orders'
   AND day = :'today'::date - 1;
SELECT kpr.collect('sampled', 3) AS second_run \gset
SELECT * FROM pg_temp.run(:second_run);
SELECT count(*) AS rows, count(*) FILTER (WHERE run_id = :second_run) AS by_second_run,
       count(*) FILTER (WHERE source = 'manual') AS manual_kept,
       count(DISTINCT (topic, day)) = count(*) AS no_duplicates,
       (SELECT bytes_in > 1 FROM kpr.consumption_daily WHERE server = 'sampled' AND topic = 'orders'
           AND day = :'today'::date - 1) AS corrected
FROM kpr.consumption_daily WHERE server = 'sampled';
SELECT topic, missing_since IS NULL AS present, last_run_id = :second_run AS by_second_run
FROM kpr.topic_inventory WHERE server = 'sampled' ORDER BY topic;

-- Below the topic: every partition's records and bytes of each day, as the
-- fixture produced them (expected.csv, per partition; the budget reads every
-- record, so bytes are exact too), and per topic-day the busiest partition,
-- its share of the bytes and busiest / mean.  clicks sends about 85% of its
-- records to partition 0 of 4 (skew=80 in regress.spec).
\getenv mock_state KPR_MOCK_STATE
\set expected_csv `cat "$KPR_MOCK_STATE/expected.csv"`
CREATE TEMP TABLE produced_partitions AS
SELECT f[1] AS topic, f[2]::date AS day, f[3]::int AS partition,
       f[4]::bigint AS records, f[5]::bigint AS record_bytes
FROM (SELECT string_to_array(line, ',') AS f
      FROM regexp_split_to_table(:'expected_csv', '\n') AS line
      WHERE line <> '' AND line NOT LIKE 'topic,%') AS lines;
SELECT count(*) AS partition_days,
       count(*) FILTER (WHERE d.records_in = coalesce(p.records, 0)
                          AND d.bytes_in = coalesce(p.record_bytes, 0)) AS exact,
       count(*) FILTER (WHERE d.run_id = :second_run) AS by_second_run
FROM kpr.partition_daily d
LEFT JOIN produced_partitions p USING (topic, day, partition)
WHERE d.server = 'sampled';
-- nothing produced in the window is missing
SELECT p.topic, p.day, p.partition FROM produced_partitions p
LEFT JOIN kpr.partition_daily d ON d.server = 'sampled' AND (d.topic, d.day, d.partition) = (p.topic, p.day, p.partition)
WHERE d.topic IS NULL AND p.day >= :'today'::date - 3 AND p.topic <> '_schemas';
SELECT topic, :'today'::date - day AS days_ago, busiest_partition,
       round(busiest_partition_share::numeric, 4) AS busiest_share,
       round(partition_skew::numeric, 4) AS skew, keyed_share
FROM kpr.consumption_daily
WHERE server = 'sampled' AND run_id = :second_run AND topic IN ('clicks', 'orders', 'audit_idle')
ORDER BY 1, 2 DESC;
SELECT c.topic, :'today'::date - c.day AS days_ago,
       c.busiest_partition_share = (SELECT max(p.record_bytes)::float8 / sum(p.record_bytes)
                                      FROM produced_partitions p WHERE (p.topic, p.day) = (c.topic, c.day))
           AS share_exact
FROM kpr.consumption_daily c
WHERE c.server = 'sampled' AND c.run_id = :second_run AND c.topic = 'clicks'
ORDER BY 2 DESC;

-- The per-partition picture (kpr.partition_traffic), yesterday's clicks:
-- 2,125 of its 2,500 records on partition 0, 125 on each other (skew=80).
SELECT partition, records_in, round(bytes_share::numeric, 4) AS bytes_share,
       round(records_share::numeric, 4) AS records_share, round(skew::numeric, 2) AS skew
FROM kpr.partition_traffic
WHERE server = 'sampled' AND topic = 'clicks' AND day = :'today'::date - 1
ORDER BY partition;

-- In the model: clicks is hot (skew 3.4 >= 2.0); its records carry no key.
SELECT topic, busiest_partition, round(partition_skew::numeric, 2) AS skew, hot_partition, keyed_share
FROM kpr.recommended_partitions
WHERE server = 'sampled' AND topic IN ('clicks', 'orders') ORDER BY topic;

-- The detail is kept kpr.partition_detail_days (90 by default): a collect
-- deletes older rows of its server; the topic history stays whole.
INSERT INTO kpr.partition_daily (server, topic, day, partition, records_in, source)
VALUES ('sampled', 'orders', :'today'::date - 91, 0, 5, 'manual'),
       ('sampled', 'orders', :'today'::date - 90, 0, 5, 'manual');
SET kpr.partition_detail_days = 2;
SELECT kpr.collect('sampled', 3) AS detail_run \gset
RESET kpr.partition_detail_days;
SELECT :'today'::date - day AS days_ago, count(*) AS partition_rows
FROM kpr.partition_daily WHERE server = 'sampled' GROUP BY day ORDER BY day;
SELECT count(*) FILTER (WHERE day = :'today'::date - 30) AS manual_day_kept,
       count(DISTINCT day) FILTER (WHERE run_id = :detail_run) AS days_collected
FROM kpr.consumption_daily WHERE server = 'sampled';

-- The Confluent Metrics API: its 6 complete days (7 asked for), every value
-- as the stub serves it.
CREATE SERVER cloud FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap', metrics_source 'confluent',
             metrics_url :'confluent_url', cluster_id 'lkc-kpr001', topic_filter 'orders,clicks,audit_idle');
CREATE USER MAPPING FOR CURRENT_USER SERVER cloud
    OPTIONS (metrics_api_key 'KPRTESTKEY', metrics_api_secret 'kpr-test-metrics-secret');
SELECT kpr.collect('cloud') AS cloud_run \gset
SELECT * FROM pg_temp.run(:cloud_run);
SELECT topic, :'today'::date - day AS days_ago, bytes_in, records_in, bytes_out, records_out,
       round(peak_bytes_in_per_sec::numeric, 3) AS peak_in, peak_interval_seconds,
       round(avg_record_bytes::numeric, 2) AS avg_record_bytes
FROM kpr.consumption_daily WHERE server = 'cloud' AND bytes_in > 0 ORDER BY topic, day;
-- the metrics count what the brokers received: no interval, no order figures
SELECT count(*) AS rows, count(records_in_low) + count(records_in_high) + count(out_of_day_share)
       + count(backward_share) AS stated
FROM kpr.consumption_daily WHERE server = 'cloud';
SELECT regress_helpers.history('cloud') AS cloud_history \gset

-- A collect that fails midway (the API answers 500 to everything): the
-- error reaches the caller, the run row says why, history is as it was.
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" error500 100
\set VERBOSITY sqlstate
SELECT kpr.collect('cloud');
\set VERBOSITY default
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" reset
SELECT * FROM pg_temp.run(regress_helpers.latest_run('cloud'));
SELECT regress_helpers.history('cloud') = :'cloud_history' AS history_unchanged;

-- The Kafka cluster down: the same.
SELECT regress_helpers.history('sampled') AS sampled_history \gset
\! "$KPR_CONTROL" "$KPR_MOCK_STATE" 'broker_down all'
SET kpr.kafka_timeout = '1s';
\set VERBOSITY terse
SELECT kpr.collect('sampled', 3);
\set VERBOSITY default
RESET kpr.kafka_timeout;
\! "$KPR_CONTROL" "$KPR_MOCK_STATE" 'broker_up all'
-- the first line: the next quotes librdkafka's last event, whichever came last
SELECT server, status, split_part(error, E'\n', 1) AS error FROM pg_temp.run(regress_helpers.latest_run('sampled'));
SELECT regress_helpers.history('sampled') = :'sampled_history' AS history_unchanged;

-- A collect whose transaction rolls back leaves its run row behind, marked
-- running; the next collect of that server closes it as failed.
BEGIN;
SELECT kpr.collect('sampled', 1) IS NOT NULL AS collected_then_rolled_back;
ROLLBACK;
SELECT status FROM pg_temp.run(regress_helpers.latest_run('sampled'));
SELECT regress_helpers.latest_run('sampled') AS rolled_back_run \gset
SELECT kpr.collect('sampled', 1) IS NOT NULL AS collected;
SELECT status, error FROM pg_temp.run(:rolled_back_run);

-- statement_timeout during a collect: canceled, and recorded as such (the
-- brokers hold every answer for 10 s, far past the 1 s timeout).
\! "$KPR_CONTROL" "$KPR_MOCK_STATE" 'rtt all 10000'
SET statement_timeout = '1s';
\set VERBOSITY terse
SELECT kpr.collect('sampled', 1);
\set VERBOSITY default
RESET statement_timeout;
SELECT status, error FROM pg_temp.run(regress_helpers.latest_run('sampled'));

-- Two collects of one server at once: the second is refused, not run twice.
-- The first runs in another session, and the brokers hold its answers until
-- the second has been refused.
\! "$KPR_CONTROL" "$KPR_MOCK_STATE" 'rtt all 60000'
\! "$KPR_BACKGROUND" start first_collect psql -XAtq -d "$KPR_DB" -c "SET client_min_messages = warning" -c "SELECT kpr.collect('sampled', 1) IS NOT NULL AS collected"
SELECT regress_helpers.wait_until('the first collect holds the server''s lock and has a run row', $$
    EXISTS (SELECT FROM kpr.collection_runs WHERE server = 'sampled' AND status = 'running')
    AND EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                WHERE l.locktype = 'advisory' AND l.granted AND a.pid <> pg_backend_pid()
                  AND a.query LIKE '%kpr.collect(''sampled''%')$$);
SELECT kpr.collect('sampled', 1);
\! "$KPR_CONTROL" "$KPR_MOCK_STATE" 'rtt all 0'
\! "$KPR_BACKGROUND" wait first_collect
SELECT status FROM pg_temp.run(regress_helpers.latest_run('sampled'));

-- A topic deleted between the listing and the sampling: a partial run that
-- names it.  The collect is stopped after its listing, the topic deleted
-- meanwhile, and the collect let go (test/lib/collect_gate.sh).
CREATE SERVER partial FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap', topic_filter 'doomed,clicks',
             "topic.metadata.refresh.interval.ms" '100');
CREATE USER MAPPING FOR CURRENT_USER SERVER partial
    OPTIONS ("ssl.key.password" 'SECRET-partial-key-password');
\! "$KPR_BACKGROUND" start deleter "$KPR_COLLECT_GATE" "$KPR_CONTROL" "$KPR_MOCK_STATE" 'topic_error doomed 3'
SELECT regress_helpers.wait_for_gate();
SELECT kpr.collect('partial', 2) AS partial_run \gset
\! "$KPR_BACKGROUND" wait deleter
\! "$KPR_CONTROL" "$KPR_MOCK_STATE" 'topic_error doomed 0'
SELECT status, topics_seen, failed_topics FROM pg_temp.run(:partial_run);
SELECT DISTINCT topic FROM kpr.consumption_daily WHERE run_id = :partial_run ORDER BY topic;

-- collect_all: every server the caller has a mapping for; a broken one
-- fails alone.  The broken one waits the whole kpr.kafka_timeout; it is
-- left at its default (30 s), because a shorter one bounds the healthy
-- servers' reads too, and 1 s once failed the sampled one on a busy machine.
CREATE SERVER broken FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:1');
CREATE USER MAPPING FOR CURRENT_USER SERVER broken
    OPTIONS ("ssl.key.password" 'SECRET-broken-key-password');
CREATE SERVER not_mine FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap');
SELECT server, run_id IS NOT NULL AS has_run, status, split_part(error, E'\n', 1) AS error
FROM kpr.collect_all(2) ORDER BY server;

-- Bad input.
SELECT kpr.collect('no_such_server');
SELECT kpr.collect('sampled', 0);
SELECT kpr.collect(NULL);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT kpr.collect('sampled');
ROLLBACK;

-- The grants README.md documents for a role that collects (typically the
-- role pg_cron runs the job as): it collects with its own user mapping and
-- writes history, and nothing more.  A role without them cannot collect.
CREATE ROLE regress_kpr_collector;
CREATE ROLE regress_kpr_bystander;
GRANT USAGE ON SCHEMA kpr TO regress_kpr_collector;
GRANT USAGE ON FOREIGN SERVER sampled TO regress_kpr_collector;
GRANT EXECUTE ON FUNCTION kpr.collect(name, integer), kpr.collect_all(integer),
    kpr.cluster_info(name), kpr.list_topics(name, text, boolean),
    kpr.sample_topics(name, integer, integer, text, boolean),
    kpr.fetch_metrics(name, date, date, text, boolean),
    kpr.fetch_partition_metrics(name, date, date, text, boolean),
    kpr._record_run_start(text, text, date, date), kpr._record_run_failure(bigint, text)
    TO regress_kpr_collector;
-- collect recomputes kpr.server_load at its end (it reads the recommendation)
GRANT SELECT, INSERT, DELETE ON kpr.server_load TO regress_kpr_collector;
GRANT SELECT ON kpr.recommended_partitions TO regress_kpr_collector;
GRANT SELECT, INSERT, UPDATE ON kpr.collection_runs, kpr.topic_inventory, kpr.consumption_daily
    TO regress_kpr_collector;
-- partition detail: collect prunes what is older than kpr.partition_detail_days
GRANT SELECT, INSERT, UPDATE, DELETE ON kpr.partition_daily TO regress_kpr_collector;
CREATE USER MAPPING FOR regress_kpr_collector SERVER sampled
    OPTIONS ("ssl.key.password" 'SECRET-collector-key-password');
SET ROLE regress_kpr_collector;
SELECT kpr.collect('sampled', 1) AS collector_run \gset
SELECT server, status, run_by FROM kpr.collection_runs WHERE run_id = :collector_run;
SELECT server, status FROM kpr.collect_all(1);
UPDATE kpr.settings SET throughput_factor = 10;
DELETE FROM kpr.partition_daily;
DELETE FROM kpr.consumption_daily;
RESET ROLE;
SET ROLE regress_kpr_bystander;
SELECT kpr.collect('sampled', 1);
RESET ROLE;
DROP USER MAPPING FOR regress_kpr_collector SERVER sampled;
DROP OWNED BY regress_kpr_collector, regress_kpr_bystander;
DROP ROLE regress_kpr_collector, regress_kpr_bystander;

RESET client_min_messages;
DELETE FROM kpr.partition_daily;
DELETE FROM kpr.consumption_daily;
DELETE FROM kpr.topic_inventory;
DELETE FROM kpr.collection_runs;
DROP SERVER sampled, cloud, partial, broken, not_mine CASCADE;
