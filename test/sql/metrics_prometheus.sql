-- kpr.fetch_metrics from Prometheus: a real Prometheus (Debian's package)
-- started by the harness holds the mock cluster's traffic as exporter series
-- (backfilled with promtool; test/fixtures/prometheus), under the JMX
-- exporter's names and Redpanda's.  The fixture writes what the extension
-- must return (expected_metrics.csv), computed with Prometheus's own float
-- steps: values must match exactly.  Days are shown as days before today.
\getenv bootstrap KPR_MOCK_BOOTSTRAP
\getenv prometheus_url KPR_PROMETHEUS_URL
\getenv prometheus_state KPR_PROMETHEUS_STATE
SELECT :{?bootstrap} AND :{?prometheus_url} AND :{?prometheus_state} AS "the peers are running";
SELECT (now() AT TIME ZONE 'UTC')::date AS today \gset

CREATE SERVER prom FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap', metrics_source 'prometheus',
             metrics_url :'prometheus_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER prom
    OPTIONS (metrics_api_key 'kpr', metrics_api_secret 'SECRET-prom-password');

\set expected_csv `cat "$KPR_PROMETHEUS_STATE/expected_metrics.csv"`
CREATE TEMP TABLE expected AS
SELECT f[1] AS topic, f[2]::date AS day,
       f[3]::bigint AS bytes_in, f[4]::bigint AS records_in,
       f[5]::bigint AS bytes_out, f[6]::bigint AS records_out,
       f[7]::float8 AS peak_bytes_in_per_sec, f[8]::float8 AS peak_bytes_out_per_sec
FROM (SELECT string_to_array(line, ',') AS f
      FROM regexp_split_to_table(:'expected_csv', '\n') AS line
      WHERE line <> '' AND line NOT LIKE 'topic,%') AS lines;
SELECT min(day) AS first_day, max(day) AS last_day FROM expected \gset

-- The JMX exporter's names (the defaults).  Every cluster topic gets a row
-- per day: zeros where Prometheus has no series yet (clicks before its first
-- day, the idle topic); records_out is NULL (the exporter has no meter).
CREATE TEMP TABLE fetched AS
SELECT * FROM kpr.fetch_metrics('prom', :'first_day', :'last_day');
SELECT f.topic, :'today'::date - f.day AS days_ago,
       f.bytes_in, f.records_in, f.bytes_out, f.records_out,
       round(f.peak_bytes_in_per_sec::numeric, 3) AS peak_in,
       (f.bytes_in, f.records_in, f.bytes_out,
        f.peak_bytes_in_per_sec, f.peak_bytes_out_per_sec)
       IS NOT DISTINCT FROM
       (coalesce(e.bytes_in, 0), coalesce(e.records_in, 0), coalesce(e.bytes_out, 0),
        coalesce(e.peak_bytes_in_per_sec, 0), coalesce(e.peak_bytes_out_per_sec, 0)) AS exact
FROM fetched f LEFT JOIN expected e USING (topic, day)
ORDER BY f.topic, f.day;
-- nothing Prometheus holds is missing
SELECT e.topic, e.day FROM expected e LEFT JOIN fetched f USING (topic, day)
WHERE f.topic IS NULL AND e.topic NOT LIKE '\_%';

-- Redpanda's names through the metric options (with records out), and once
-- through a full PromQL override: the same numbers.
CREATE SERVER redpanda FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap', metrics_source 'prometheus',
             metrics_url :'prometheus_url', topic_label 'redpanda_topic',
             bytes_in_metric 'redpanda_kafka_request_bytes_total{redpanda_request="produce",redpanda_namespace="kafka"}',
             bytes_out_metric 'redpanda_kafka_request_bytes_total{redpanda_request="consume",redpanda_namespace="kafka"}',
             records_in_metric 'redpanda_kafka_records_produced_total{redpanda_namespace="kafka"}',
             records_out_metric 'redpanda_kafka_records_fetched_total{redpanda_namespace="kafka"}');
CREATE USER MAPPING FOR CURRENT_USER SERVER redpanda
    OPTIONS (metrics_api_key 'kpr', metrics_api_secret 'SECRET-redpanda-password');
CREATE TEMP TABLE via_redpanda AS
SELECT * FROM kpr.fetch_metrics('redpanda', :'first_day', :'last_day');
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (r.bytes_in, r.records_in, r.bytes_out, r.records_out,
                               r.peak_bytes_in_per_sec, r.peak_bytes_out_per_sec)
                              IS NOT DISTINCT FROM
                              (coalesce(e.bytes_in, 0), coalesce(e.records_in, 0),
                               coalesce(e.bytes_out, 0), coalesce(e.records_out, 0),
                               coalesce(e.peak_bytes_in_per_sec, 0),
                               coalesce(e.peak_bytes_out_per_sec, 0))) AS exact
FROM via_redpanda r LEFT JOIN expected e USING (topic, day);
ALTER SERVER redpanda OPTIONS (ADD bytes_in_query
    'sum by (redpanda_topic) (increase(redpanda_kafka_request_bytes_total{redpanda_request="produce",redpanda_namespace="kafka"}[$window]))');
SELECT count(*) AS rows,
       count(*) FILTER (WHERE r.bytes_in = v.bytes_in) AS same_bytes_in,
       count(*) FILTER (WHERE r.peak_bytes_in_per_sec = v.peak_bytes_in_per_sec) AS peak_from_the_metric
FROM kpr.fetch_metrics('redpanda', :'first_day', :'last_day') r JOIN via_redpanda v USING (topic, day);

-- A topic filter.
SELECT topic, count(*) AS days, sum(bytes_in) AS bytes_in
FROM kpr.fetch_metrics('prom', :'first_day', :'last_day', 'c*')
GROUP BY topic ORDER BY topic;

-- Today so far is allowed (evaluated now).
SELECT count(*) > 0 AS has_rows, bool_and(day = :'today') AS only_today
FROM kpr.fetch_metrics('prom', :'today', :'today');

-- Errors.  Messages name the day and details the PromQL; days are shown as
-- DAY and libcurl's connect time as N, so output is stable.
CREATE FUNCTION pg_temp.error_of(server name, first_day date, last_day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    message text;
    detail text;
BEGIN
    PERFORM count(*) FROM kpr.fetch_metrics(server, first_day, last_day);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN regexp_replace(regexp_replace(
               concat_ws(E'\n', 'ERROR: ' || message, 'DETAIL: ' || nullif(detail, '')),
               '\d{4}-\d{2}-\d{2}', 'DAY', 'g'), 'after \d+ ms', 'after N ms', 'g');
END
$$;
-- PromQL Prometheus cannot parse
ALTER SERVER redpanda OPTIONS (SET bytes_in_query 'sum by (redpanda_topic) (increase(x[$window])');
SELECT pg_temp.error_of('redpanda', :'last_day', :'last_day');
-- PromQL Prometheus parses but cannot evaluate: many topics on one side of
-- a one-to-one match (an execution error, HTTP 422)
ALTER SERVER redpanda OPTIONS (SET bytes_in_query
    'sum by (redpanda_topic) (increase(redpanda_kafka_request_bytes_total[$window])) + on() vector(1)');
SELECT pg_temp.error_of('redpanda', :'last_day', :'last_day');
-- a query whose series do not carry the topic label
ALTER SERVER redpanda OPTIONS (SET bytes_in_query 'sum(increase(redpanda_kafka_request_bytes_total[$window]))');
SELECT pg_temp.error_of('redpanda', :'last_day', :'last_day');
-- older than the server keeps (the fixture's Prometheus says 30 days)
SELECT pg_temp.error_of('prom', :'today'::date - 40, :'today'::date - 39);
-- Prometheus down (nothing listens on port 9 of 127.0.0.1)
ALTER SERVER prom OPTIONS (SET metrics_url 'http://127.0.0.1:9');
SELECT pg_temp.error_of('prom', :'last_day', :'last_day');

-- The validator knows the Prometheus options.
ALTER SERVER prom OPTIONS (ADD bytes_in_metric 'sum(x)');
ALTER SERVER prom OPTIONS (ADD bytes_in_metric 'm{a=b}');
ALTER SERVER prom OPTIONS (ADD bytes_in_metric 'm{a="b"}x');
ALTER SERVER prom OPTIONS (ADD topic_label '1x');
ALTER SERVER prom OPTIONS (ADD bytes_in_query '  ');
ALTER USER MAPPING FOR CURRENT_USER SERVER prom OPTIONS (ADD topic_label 'topic');

DROP SERVER prom CASCADE;
DROP SERVER redpanda CASCADE;
