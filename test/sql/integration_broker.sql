-- The integration suite: a real Apache Kafka broker (test/fixtures/kafka_broker,
-- KRaft, from Maven Central) answers what librdkafka's mock cannot:
-- DescribeConfigs, ListOffsets by timestamp, SASL, and real retention.  It
-- holds the topics of integration.spec; the fixture writes down what it
-- produced and what retention left (expected_retained*.csv).  Days are shown
-- as days before today, so output is stable.
\getenv bootstrap KPR_BROKER_BOOTSTRAP
\getenv sasl_bootstrap KPR_BROKER_SASL_BOOTSTRAP
\getenv broker_state KPR_BROKER_STATE
SELECT :{?bootstrap} AND :{?sasl_bootstrap} AND :{?broker_state} AS "the broker is running";
SELECT (now() AT TIME ZONE 'UTC')::date AS today \gset

CREATE EXTENSION kafka_partition_recommender;
CREATE SERVER broker FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap');
CREATE USER MAPPING FOR CURRENT_USER SERVER broker;

-- Topic configurations come from the broker's DescribeConfigs: the compacted
-- topic is marked, the short-retention topic says 3 days, the others were
-- created with retention.ms = -1 (unlimited).
SELECT * FROM kpr.list_topics('broker') ORDER BY topic;

-- What is still in the broker, per topic and UTC day, and per hour.
\set retained_csv `cat "$KPR_BROKER_STATE/expected_retained.csv"`
CREATE TEMP TABLE retained AS
SELECT f[1] AS topic, f[2]::date AS day,
       sum(f[4]::bigint) AS records, sum(f[5]::bigint) AS record_bytes
FROM (SELECT string_to_array(line, ',') AS f
      FROM regexp_split_to_table(:'retained_csv', '\n') AS line
      WHERE line <> '' AND line NOT LIKE 'topic,%') AS lines
GROUP BY 1, 2;
\set retained_hourly_csv `cat "$KPR_BROKER_STATE/expected_retained_hourly.csv"`
CREATE TEMP TABLE hourly AS
SELECT f[1] AS topic, f[2]::date AS day, f[3]::int AS hour,
       f[4]::bigint AS records, f[5]::bigint AS record_bytes
FROM (SELECT string_to_array(line, ',') AS f
      FROM regexp_split_to_table(:'retained_hourly_csv', '\n') AS line
      WHERE line <> '' AND line NOT LIKE 'topic,%') AS lines;
-- the busiest hour by its own bytes (not by records x the day's average)
CREATE TEMP TABLE busiest_hour AS
SELECT DISTINCT ON (topic, day) topic, day, hour, record_bytes AS bytes
FROM hourly ORDER BY topic, day, record_bytes DESC, hour;

-- sample_topics where the broker answers ListOffsets by timestamp, with a
-- budget that covers every record: every partition is read whole, its day
-- boundaries from ListOffsets and its hours from its records' timestamps, so
-- counts, bytes and the busiest hour's rate are exact, and their stated
-- errors 0.  Days retention deleted (telemetry_short, 3 days) are left out;
-- the days it kept are there.
SET client_min_messages = warning;
CREATE TEMP TABLE by_broker AS SELECT * FROM kpr.sample_topics('broker', 8, 100000);
RESET client_min_messages;
SELECT s.topic, :'today'::date - s.day AS days_ago, s.records_in,
       s.records_in = coalesce(r.records, 0) AS count_exact,
       s.bytes_in = coalesce(r.record_bytes, 0) AS bytes_exact,
       s.peak_interval_seconds,
       abs(s.peak_bytes_in_per_sec - coalesce(h.bytes / 3600.0, 0))
           <= 1e-9 * greatest(s.peak_bytes_in_per_sec, 1) AS peak_exact,
       s.bytes_in_stderr = 0 AND s.peak_bytes_in_per_sec_stderr = 0 AS no_error,
       s.stratified_by
FROM by_broker s
LEFT JOIN retained r USING (topic, day)
LEFT JOIN busiest_hour h USING (topic, day)
ORDER BY s.topic, s.day;
-- nothing the broker still holds is missing
SELECT r.topic, r.day FROM retained r LEFT JOIN by_broker s USING (topic, day)
WHERE s.topic IS NULL AND r.day >= :'today'::date - 8;
-- issue 15's day: the busiest hour (05:00, 2,016,700 B) measured, 560.2 B/s
SELECT round(peak_bytes_in_per_sec::numeric, 1) AS peak_bytes_in_per_sec,
       round(avg_record_bytes::numeric, 1) AS avg_record_bytes
FROM by_broker WHERE topic = 'burst_sizes' AND day = :'today'::date - 1;

-- kpr.sample_seek_cost = -1 never reads a partition whole: every hourly
-- boundary is then a ListOffsets request, and with the same covering budget
-- the figures are the same, exactly.
SET kpr.sample_seek_cost = -1;
SET client_min_messages = warning;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE b.records_in = s.records_in AND b.bytes_in = s.bytes_in
                          AND b.peak_bytes_in_per_sec = s.peak_bytes_in_per_sec
                          AND b.bytes_in_stderr = 0) AS same_and_exact
FROM kpr.sample_topics('broker', 8, 100000) b JOIN by_broker s USING (topic, day);
RESET client_min_messages;

-- A budget smaller than the records, sampled (kpr.sample_seek_cost = 0:
-- only covered partitions are read whole): counts stay exact, bytes and the
-- peak are estimates, each within the 95% interval the call states (+- 1.96
-- standard errors), against the truth computed from per-hour bytes.  The
-- sample is drawn from a seed of the topic, partition and hour, so the
-- figures are the same every run on the same data.
SET kpr.sample_seek_cost = 0;
SET client_min_messages = warning;
CREATE TEMP TABLE sampled AS
SELECT * FROM kpr.sample_topics('broker', 3, 1000, 'burst_sizes,diurnal,orders,clicks');
RESET client_min_messages;
RESET kpr.sample_seek_cost;
SELECT s.topic, :'today'::date - s.day AS days_ago,
       s.records_in = r.records AS count_exact,
       s.sampled_records < s.records_in AS sampled_not_read_all,
       abs(s.bytes_in - r.record_bytes) <= 1.96 * s.bytes_in_stderr AS bytes_within_interval,
       abs(s.peak_bytes_in_per_sec - h.bytes / 3600.0)
           <= 1.96 * s.peak_bytes_in_per_sec_stderr AS peak_within_interval,
       s.bytes_in_stderr < 0.1 * s.bytes_in AS bytes_error_under_10pct
FROM sampled s JOIN retained r USING (topic, day) JOIN busiest_hour h USING (topic, day)
WHERE s.records_in > 0
ORDER BY s.topic, s.day;

-- With the default kpr.sample_seek_cost (256kB) the same budget reads these
-- partitions whole: a few MB each, less than their samples' seeks would
-- fetch again.  The figures are then exact.
SET client_min_messages = warning;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE w.sampled_records = w.records_in AND w.bytes_in = r.record_bytes
                          AND w.bytes_in_stderr = 0) AS read_whole_and_exact
FROM kpr.sample_topics('broker', 3, 1000, 'burst_sizes,diurnal,orders,clicks') w
JOIN retained r USING (topic, day);
RESET client_min_messages;

-- The binary search on record timestamps, forced, finds the same counts on
-- the same broker (no hourly peak: not affordable that way).
SET kpr.offset_search = 'binary';
SET client_min_messages = warning;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE b.records_in = s.records_in) AS same_count,
       count(*) FILTER (WHERE b.peak_bytes_in_per_sec IS NULL) AS without_peak
FROM kpr.sample_topics('broker', 8, 100000) b JOIN by_broker s USING (topic, day);
RESET client_min_messages;
RESET kpr.offset_search;

-- SASL/PLAIN and SCRAM-SHA-256 through a user mapping.
CREATE SERVER broker_sasl FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'sasl_bootstrap', "security.protocol" 'SASL_PLAINTEXT',
             "sasl.mechanisms" 'PLAIN');
CREATE USER MAPPING FOR CURRENT_USER SERVER broker_sasl
    OPTIONS ("sasl.username" 'kpr', "sasl.password" 'kpr-test-secret');
SET client_min_messages = warning;
SELECT count(*) AS topics FROM kpr.list_topics('broker_sasl');
ALTER SERVER broker_sasl OPTIONS (SET "sasl.mechanisms" 'SCRAM-SHA-256');
SELECT count(*) AS topics FROM kpr.list_topics('broker_sasl');
RESET client_min_messages;
-- A wrong password: the error names the server and the user, never the password.
ALTER USER MAPPING FOR CURRENT_USER SERVER broker_sasl
    OPTIONS (SET "sasl.password" 'wrong-password-5c1e');
-- The message and the hint; the detail quotes librdkafka's last event,
-- which depends on when its reconnection comes.
CREATE FUNCTION pg_temp.failure(statement text) RETURNS TABLE (message text, hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN QUERY SELECT 'no error', NULL::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN NEXT;
END $$;
\set VERBOSITY terse
SELECT count(*) FROM kpr.list_topics('broker_sasl');
\set VERBOSITY default
ALTER SERVER broker_sasl OPTIONS (SET "sasl.mechanisms" 'PLAIN');
\x on
SELECT * FROM pg_temp.failure($$SELECT count(*) FROM kpr.sample_topics('broker_sasl', 1)$$);
\x off
\! grep -c -e 'kpr-test-secret' -e 'wrong-password-5c1e' "$(dirname "$PGSYSCONFDIR")"/log/postgresql-*.log
\! grep -q 'refused the credentials of user "kpr"' "$(dirname "$PGSYSCONFDIR")"/log/postgresql-*.log && echo "errors are in the log"

DROP SERVER broker_sasl CASCADE;
DROP SERVER broker CASCADE;
DROP EXTENSION kafka_partition_recommender;
