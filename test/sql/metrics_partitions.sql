-- kpr.fetch_partition_metrics: traffic per partition from both metrics
-- sources, against the same peers as metrics_confluent and
-- metrics_prometheus.  The Confluent stub holds the mock cluster's records
-- per partition (expected_partition_hourly.csv) plus 1,500 generated topics
-- of one partition each, so every partition query has two pages; it writes
-- what it serves per partition (expected_partition_metrics.csv).  Prometheus
-- holds each partition's log-end offset under the JMX exporter's,
-- kafka_exporter's and Redpanda's names, every JMX replica reporting its own
-- (followers a minute behind), and the fixture writes the exact answer.
-- The mock's clicks has a hot partition: 0 carries 85% of its records.
\getenv bootstrap KPR_MOCK_BOOTSTRAP
\getenv confluent_url KPR_CONFLUENT_URL
\getenv confluent_state KPR_CONFLUENT_STATE
\getenv stub KPR_CONFLUENT_STUB
\getenv prometheus_url KPR_PROMETHEUS_URL
\getenv prometheus_state KPR_PROMETHEUS_STATE
SELECT :{?bootstrap} AND :{?confluent_url} AND :{?confluent_state} AND :{?stub}
       AND :{?prometheus_url} AND :{?prometheus_state} AS "the peers are running";
SELECT (now() AT TIME ZONE 'UTC')::date AS today \gset

CREATE SERVER confluent FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap', metrics_source 'confluent',
             metrics_url :'confluent_url', cluster_id 'lkc-kpr001');
CREATE USER MAPPING FOR CURRENT_USER SERVER confluent
    OPTIONS (metrics_api_key 'KPRTESTKEY', metrics_api_secret 'kpr-test-metrics-secret');

-- What the stub serves per partition and UTC day (no rows where none).
\set served_csv `cat "$KPR_CONFLUENT_STATE/expected_partition_metrics.csv"`
CREATE TEMP TABLE served AS
SELECT f[1] AS topic, f[2]::date AS day, f[3]::integer AS partition,
       f[4]::bigint AS records_in, f[5]::bigint AS bytes_in
FROM (SELECT string_to_array(line, ',') AS f
      FROM regexp_split_to_table(:'served_csv', '\n') AS line
      WHERE line <> '' AND line NOT LIKE 'topic,%') AS lines
WHERE f[2]::date BETWEEN :'today'::date - 6 AND :'today'::date - 1;

\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" requests_clear
CREATE TEMP TABLE fetched AS
SELECT * FROM kpr.fetch_partition_metrics('confluent', :'today'::date - 6, :'today'::date - 1);

-- Per topic and day: every partition of the cluster's topic (zeros where
-- the API served none), each exact.  The generated topics are not the
-- cluster's: left out.
SELECT f.topic, :'today'::date - f.day AS days_ago, count(*) AS partitions,
       sum(f.records_in) AS records_in, sum(f.bytes_in) AS bytes_in,
       bool_and((f.records_in, f.bytes_in) =
                (coalesce(s.records_in, 0), coalesce(s.bytes_in, 0))) AS exact
FROM fetched f LEFT JOIN served s USING (topic, day, partition)
GROUP BY f.topic, f.day ORDER BY f.topic, f.day;
SELECT count(*) AS served_but_not_fetched
FROM served s LEFT JOIN fetched f USING (topic, day, partition)
WHERE f.topic IS NULL AND s.topic NOT LIKE 'syn-%' AND s.topic NOT LIKE '\_%';
-- clicks' hot partition, as the view kpr.partition_traffic will show it
SELECT :'today'::date - day AS days_ago, partition, records_in,
       round(records_in::numeric / sum(records_in) OVER (PARTITION BY day), 3) AS share
FROM fetched WHERE topic = 'clicks' ORDER BY day, partition;

-- Two grouped queries (records, bytes) of two pages each: four requests
-- for 1,500 topics, grouped by topic and partition, the second page with
-- the first page's body.
\set requests `cat "$KPR_CONFLUENT_STATE/requests.jsonl"`
CREATE TEMP TABLE requests AS
SELECT line::json AS r FROM regexp_split_to_table(:'requests', '\n') AS line WHERE line <> '';
SELECT count(*) AS requests,
       count(DISTINCT r->>'body') AS distinct_bodies,
       count(*) FILTER (WHERE r->>'query' LIKE '%page_token=%') AS with_page_token,
       bool_and(r->>'body' LIKE '%"group_by":["metric.topic","metric.partition"]%') AS by_partition,
       bool_and(r->>'body' LIKE '%"granularity":"P1D"%') AS daily
FROM requests;

-- A floor (partition_detail_min_records): a first query by topic finds the
-- topics whose busiest day reached it, and the partition queries name only
-- those (an OR of metric.topic filters): fewer series, one page each.
ALTER SERVER confluent OPTIONS (ADD partition_detail_min_records '2500');
\! "$KPR_CONFLUENT_STUB" control "$KPR_CONFLUENT_STATE" requests_clear
CREATE TEMP TABLE floored AS
SELECT * FROM kpr.fetch_partition_metrics('confluent', :'today'::date - 6, :'today'::date - 1);
SELECT topic, count(*) AS rows,
       (SELECT max(d.records) FROM (SELECT sum(records_in) AS records FROM fetched x
                                     WHERE x.topic = f.topic GROUP BY x.day) d) AS busiest_day
FROM floored f GROUP BY topic ORDER BY topic;
SELECT count(*) AS different_rows
FROM (SELECT * FROM floored EXCEPT
      SELECT * FROM fetched WHERE topic IN (SELECT topic FROM floored)) d;
\set requests `cat "$KPR_CONFLUENT_STATE/requests.jsonl"`
SELECT count(*) AS requests,
       count(*) FILTER (WHERE r->>'body' LIKE '%"group_by":["metric.topic"]%') AS by_topic,
       count(*) FILTER (WHERE r->>'body' LIKE '%"group_by":["metric.topic","metric.partition"]%'
                          AND r->>'body' LIKE '%"op":"OR"%') AS by_partition_of_named_topics
FROM (SELECT line::json AS r FROM regexp_split_to_table(:'requests', '\n') AS line
      WHERE line <> '') AS lines;
ALTER SERVER confluent OPTIONS (DROP partition_detail_min_records);

-- The options are checked when they are set.
ALTER SERVER confluent OPTIONS (ADD partition_detail 'sometimes');
ALTER SERVER confluent OPTIONS (ADD partition_detail_min_records '-1');
ALTER SERVER confluent OPTIONS (ADD partition_detail_min_records '10k');
ALTER SERVER confluent OPTIONS (ADD partition_label 'partition-id');
ALTER SERVER confluent OPTIONS (ADD partition_offset_metric 'kafka log end');

-- Prometheus: the JMX exporter's log-end offsets (the defaults).  Records
-- are the leader's offset at the midnight ending a day minus the one
-- starting it; adding the followers would triple them.
CREATE SERVER prom FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap', metrics_source 'prometheus',
             metrics_url :'prometheus_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER prom
    OPTIONS (metrics_api_key 'kpr', metrics_api_secret 'SECRET-prom-password');
\set expected_csv `cat "$KPR_PROMETHEUS_STATE/expected_partition_metrics.csv"`
CREATE TEMP TABLE expected AS
SELECT f[1] AS topic, f[2]::date AS day, f[3]::integer AS partition, f[4]::bigint AS records_in
FROM (SELECT string_to_array(line, ',') AS f
      FROM regexp_split_to_table(:'expected_csv', '\n') AS line
      WHERE line <> '' AND line NOT LIKE 'topic,%') AS lines;
SELECT min(day) AS first_day, max(day) AS last_day FROM expected \gset
CREATE TEMP TABLE from_jmx AS
SELECT * FROM kpr.fetch_partition_metrics('prom', :'first_day', :'last_day');
SELECT f.topic, count(*) AS partition_days, sum(f.records_in) AS records_in,
       count(f.bytes_in) AS with_bytes,
       count(*) FILTER (WHERE f.records_in = e.records_in) AS exact
FROM from_jmx f LEFT JOIN expected e USING (topic, day, partition)
GROUP BY f.topic ORDER BY f.topic;
SELECT count(*) AS expected_but_not_fetched
FROM expected e LEFT JOIN from_jmx f USING (topic, day, partition)
WHERE f.topic IS NULL AND e.topic NOT LIKE '\_%';

-- kafka_exporter's name, and Redpanda's (its own labels; its internal
-- namespace left out by a matcher): the same numbers.
CREATE SERVER kafka_exporter FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap', metrics_source 'prometheus',
             metrics_url :'prometheus_url',
             partition_offset_metric 'kafka_topic_partition_current_offset');
CREATE USER MAPPING FOR CURRENT_USER SERVER kafka_exporter
    OPTIONS (metrics_api_key 'kpr', metrics_api_secret 'SECRET-prom-password');
CREATE SERVER redpanda FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap', metrics_source 'prometheus',
             metrics_url :'prometheus_url', topic_label 'redpanda_topic',
             partition_label 'redpanda_partition',
             partition_offset_metric 'redpanda_kafka_max_offset{redpanda_namespace="kafka"}');
CREATE USER MAPPING FOR CURRENT_USER SERVER redpanda
    OPTIONS (metrics_api_key 'kpr', metrics_api_secret 'SECRET-prom-password');
SELECT (SELECT count(*) FROM (SELECT * FROM from_jmx EXCEPT
                              SELECT * FROM kpr.fetch_partition_metrics('kafka_exporter', :'first_day', :'last_day')) d)
     + (SELECT count(*) FROM (SELECT * FROM kpr.fetch_partition_metrics('kafka_exporter', :'first_day', :'last_day')
                              EXCEPT SELECT * FROM from_jmx) d) AS kafka_exporter_differs,
       (SELECT count(*) FROM (SELECT * FROM from_jmx EXCEPT
                              SELECT * FROM kpr.fetch_partition_metrics('redpanda', :'first_day', :'last_day')) d)
     + (SELECT count(*) FROM (SELECT * FROM kpr.fetch_partition_metrics('redpanda', :'first_day', :'last_day')
                              EXCEPT SELECT * FROM from_jmx) d) AS redpanda_differs;

-- A label that is not there: a clear error naming the options.  (Which
-- midnight's answer fails first varies: the day is shown as DAY, the
-- detail, naming the first series, left out.)
ALTER SERVER kafka_exporter OPTIONS (ADD partition_label 'shard');
DO $$
DECLARE
    message text;
    detail text;
    hint text;
BEGIN
    PERFORM count(*) FROM kpr.fetch_partition_metrics('kafka_exporter', current_date - 3, current_date - 1);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RAISE NOTICE E'%\ndetail has the query: %\nhint: %',
        regexp_replace(message, '\d{4}-\d{2}-\d{2}', 'DAY'),
        detail LIKE '%The query: max by (topic, shard) (kafka_topic_partition_current_offset{topic!=""})', hint;
END
$$;
ALTER SERVER kafka_exporter OPTIONS (DROP partition_label);

-- A server with no metrics source has nothing to fetch partitions from.
CREATE SERVER sampled FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap');
CREATE USER MAPPING FOR CURRENT_USER SERVER sampled;
SELECT count(*) FROM kpr.fetch_partition_metrics('sampled', :'today'::date - 1, :'today'::date - 1);

-- kpr.collect keeps the partitions (kpr.partition_daily) and each day's
-- busiest partition; partition_detail 'false' keeps none.
CREATE TEMP TABLE runs AS SELECT kpr.collect('confluent') AS run_id;
SELECT r.status, r.rows_written,
       (SELECT count(*) FROM kpr.partition_daily d WHERE d.server = 'confluent') AS partition_rows,
       (SELECT count(*) FROM kpr.partition_daily d WHERE d.server = 'confluent' AND d.run_id = r.run_id)
           AS by_this_run
FROM kpr.collection_runs r JOIN runs USING (run_id);
SELECT topic, :'today'::date - day AS days_ago, busiest_partition,
       round(busiest_partition_share::numeric, 3) AS share, round(partition_skew::numeric, 2) AS skew
FROM kpr.consumption_daily WHERE server = 'confluent' AND busiest_partition IS NOT NULL
ORDER BY topic, day;
SELECT topic, busiest_partition, round(partition_skew::numeric, 2) AS skew, hot_partition
FROM kpr.recommended_partitions WHERE server = 'confluent' AND partition_skew IS NOT NULL
ORDER BY topic;
-- Prometheus has records per partition, not bytes: the skew is by records,
-- over the partitions it reports (the fixture gives no series to a
-- partition that never had a record, so sparse's 3 empty ones are not in
-- its mean; a real exporter reports every partition's offset)
SELECT kpr.collect('prom', 8) IS NOT NULL AS collected;
SELECT topic, busiest_partition, round(partition_skew::numeric, 2) AS skew, hot_partition
FROM kpr.recommended_partitions WHERE server = 'prom' AND partition_skew IS NOT NULL
ORDER BY topic;
SELECT count(*) AS by_records_rows, count(bytes_in) AS with_bytes
FROM kpr.partition_traffic WHERE server = 'prom' AND skew IS NOT NULL;

DELETE FROM kpr.partition_daily WHERE server = 'confluent';
ALTER SERVER confluent OPTIONS (ADD partition_detail 'false');
SELECT kpr.collect('confluent') IS NOT NULL AS collected;
SELECT count(*) AS partition_rows,
       (SELECT count(busiest_partition) FROM kpr.consumption_daily WHERE server = 'confluent') AS with_busiest
FROM kpr.partition_daily WHERE server = 'confluent';

DELETE FROM kpr.partition_daily;
DELETE FROM kpr.consumption_daily;
DELETE FROM kpr.topic_inventory;
DELETE FROM kpr.collection_runs;
DROP SERVER confluent, prom, kafka_exporter, redpanda, sampled CASCADE;
