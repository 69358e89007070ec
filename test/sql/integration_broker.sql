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
-- timestamps out of order: below (their busiest hour is by offsets)
WHERE s.topic NOT IN ('late_batch', 'skewed_clocks', 'append_time')
ORDER BY s.topic, s.day;
-- timestamps in order in every partition of those topics: nothing out of
-- place or going backwards, every count exact
SELECT count(*) AS rows, count(*) FILTER (WHERE records_exact) AS exact,
       sum(sampled_out_of_day) AS out_of_day, sum(sampled_backwards) AS backwards,
       string_agg(DISTINCT timestamp_type, ',') AS timestamp_types
FROM by_broker WHERE topic NOT IN ('late_batch', 'skewed_clocks', 'append_time');
-- per partition: every partition-day as the broker holds it (the fixture's
-- retained records per partition)
CREATE TEMP TABLE retained_partitions AS
SELECT f[1] AS topic, f[2]::date AS day, f[3]::int AS partition,
       f[4]::bigint AS records, f[5]::bigint AS record_bytes
FROM (SELECT string_to_array(line, ',') AS f
      FROM regexp_split_to_table(:'retained_csv', '\n') AS line
      WHERE line <> '' AND line NOT LIKE 'topic,%') AS lines;
SELECT count(*) AS partition_days,
       count(*) FILTER (WHERE p.records = coalesce(r.records, 0)
                          AND p.bytes = coalesce(r.record_bytes, 0)) AS as_retained
FROM by_broker s
CROSS JOIN LATERAL unnest(s.partition_records, s.partition_bytes) WITH ORDINALITY AS p(records, bytes, k)
LEFT JOIN retained_partitions r ON (r.topic, r.day, r.partition) = (s.topic, s.day, p.k - 1);
-- who carries keys: diurnal's records all do (12 bytes; its partition 0,
-- skew=50, is a hot key's), clicks' none
SELECT topic, min(keyed_share) AS min_keyed, max(keyed_share) AS max_keyed
FROM by_broker WHERE topic IN ('diurnal', 'clicks') AND sampled_records > 0
GROUP BY topic ORDER BY topic;
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

-- Timestamps out of order (integration.spec: late_batch, a late batch of
-- 500 day -3 records written after day -1's; skewed_clocks, 30% of the
-- records from a producer whose clock is 10 minutes behind; append_time,
-- LogAppendTime).  The fixture writes down every record of these topics
-- (expected_records.csv): its offset and the timestamp it was sent with.
-- From that, the truth, records per UTC day of their timestamps, and what
-- a reader of the offsets meets: a record lies in the offsets of the day of
-- the newest timestamp up to it (offset_at(T) is the first offset whose
-- timestamp is >= T); it is out of its day when its own timestamp is in
-- another, and backwards when older than the record before it (not counted
-- for a window's first record: the one before it is not read).
\set records_csv `cat "$KPR_BROKER_STATE/expected_records.csv"`
CREATE TEMP TABLE written AS
SELECT f[1] AS topic, f[2]::int AS partition, f[3]::bigint AS record_offset,
       f[4]::bigint AS timestamp_ms, f[5]::bigint AS record_bytes
FROM (SELECT string_to_array(line, ',') AS f
      FROM regexp_split_to_table(:'records_csv', '\n') AS line
      WHERE line <> '' AND line NOT LIKE 'topic,%') AS lines;
CREATE TEMP TABLE placed AS
SELECT topic, partition, record_offset, record_bytes, day, counted_day, counted_hour,
       timestamp_ms < lag(timestamp_ms) OVER w
           AND lag(counted_day) OVER w >= :'today'::date - 3 AS backwards
FROM (SELECT *, date '1970-01-01' + (timestamp_ms / 86400000)::int AS day,
             date '1970-01-01' + (max(timestamp_ms) OVER w / 86400000)::int AS counted_day,
             max(timestamp_ms) OVER w / 3600000 % 24 AS counted_hour
      -- append_time's records carry the time the broker stored them, today
      FROM written WHERE topic <> 'append_time'
      WINDOW w AS (PARTITION BY topic, partition ORDER BY record_offset)) AS r
WINDOW w AS (PARTITION BY topic, partition ORDER BY record_offset);
CREATE TEMP TABLE truth AS
SELECT t.topic, d.day,
       (SELECT count(*) FROM placed p WHERE p.topic = t.topic AND p.day = d.day) AS records,
       (SELECT count(*) FROM placed p WHERE p.topic = t.topic AND p.counted_day = d.day
           AND p.day <> d.day) AS out_of_day,
       (SELECT count(*) FROM placed p WHERE p.topic = t.topic AND p.counted_day = d.day
           AND p.backwards) AS backwards,
       -- the busiest hour of the day's offsets: what the brokers carried
       (SELECT max(h.bytes) FROM (SELECT sum(p.record_bytes) AS bytes FROM placed p
                                  WHERE p.topic = t.topic AND p.counted_day = d.day
                                  GROUP BY p.counted_hour) AS h) AS peak_hour_bytes,
       (SELECT sum(p.record_bytes) FROM placed p WHERE p.topic = t.topic AND p.day = d.day) AS bytes
FROM (VALUES ('late_batch'), ('skewed_clocks')) AS t(topic),
     generate_series(:'today'::date - 3, :'today'::date - 1, interval '1 day') AS d(day);
-- what was written where (issue 21's case: 1,000 / 1,000 / 1,500 by offsets)
SELECT topic, :'today'::date - counted_day AS days_ago, count(*) AS in_its_offsets,
       count(*) FILTER (WHERE day = counted_day) AS of_that_day
FROM placed WHERE counted_day >= :'today'::date - 3
GROUP BY 1, 2 ORDER BY 1, 2 DESC;

-- Every record read (a covering budget): each is counted in the day of its
-- timestamp, wherever it landed, so the counts and bytes are the truth and
-- exact; what was out of place is counted, and a NOTICE names each topic.
-- The busiest hour stays that of the offsets: the hour the records landed
-- in, what the brokers carried then (for late_batch's day -1, its last
-- hour and the late batch).  The
-- LogAppendTime topic's records carry the time they arrived (today): its
-- days are empty, exact, with nothing out of place.
\set VERBOSITY terse
CREATE TEMP TABLE ordered AS
SELECT * FROM kpr.sample_topics('broker', 3, 100000, 'late_batch,skewed_clocks,append_time');
\set VERBOSITY default
SELECT s.topic, :'today'::date - s.day AS days_ago, s.records_in, t.records AS truth,
       s.records_exact, s.records_in_low = s.records_in AND s.records_in_high = s.records_in
           AS interval_is_the_count,
       s.sampled_out_of_day, s.sampled_out_of_day = t.out_of_day AS out_of_day_right,
       s.sampled_backwards, s.sampled_backwards = t.backwards AS backwards_right,
       s.sampled_records AS read_in_its_offsets, s.bytes_in = t.bytes AS bytes_right,
       s.peak_bytes_in_per_sec * 3600 = t.peak_hour_bytes AS peak_right, s.timestamp_type
FROM ordered s LEFT JOIN truth t USING (topic, day)
ORDER BY 1, 2 DESC;

-- A sample (400 records per partition, kpr.sample_seek_cost = 0 so that
-- nothing is read whole): the counts are estimates now, each interval holds
-- the truth, and where the sample met records out of their day it says so.
SET kpr.sample_seek_cost = 0;
SET client_min_messages = warning;
CREATE TEMP TABLE sampled_order AS
SELECT * FROM kpr.sample_topics('broker', 3, 400, 'late_batch,skewed_clocks');
RESET client_min_messages;
SELECT s.topic, :'today'::date - s.day AS days_ago,
       s.sampled_records < s.records_in AS sampled_not_read_all,
       t.records BETWEEN s.records_in_low AND s.records_in_high AS truth_within_interval,
       s.records_exact, s.sampled_out_of_day > 0 AS out_of_day_seen,
       s.sampled_backwards > 0 AS backwards_seen
FROM sampled_order s JOIN truth t USING (topic, day)
ORDER BY 1, 2 DESC;

-- The correction: kpr.sample_full_read_records lets the call read whole
-- again the partitions whose sample met records out of order (out of their
-- day, or going backwards).  Their counts are then the truth, and exact, at
-- the cost of those reads.
SET kpr.sample_full_read_records = 1000000;
SET client_min_messages = warning;
SELECT s.topic, :'today'::date - s.day AS days_ago, s.records_in = t.records AS count_right,
       s.records_exact, s.sampled_out_of_day = t.out_of_day AS out_of_day_right
FROM kpr.sample_topics('broker', 3, 400, 'late_batch,skewed_clocks') s JOIN truth t USING (topic, day)
ORDER BY 1, 2 DESC;
RESET client_min_messages;
RESET kpr.sample_full_read_records;
RESET kpr.sample_seek_cost;

-- kpr.collect writes the counts by timestamp, their interval and the shares
-- out of order, and notes the topics in the run row; the run succeeds.
CREATE SERVER broker_order FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap', topic_filter 'late_batch,skewed_clocks,append_time');
CREATE USER MAPPING FOR CURRENT_USER SERVER broker_order;
SET client_min_messages = warning;
SELECT kpr.collect('broker_order', 3) AS order_run \gset
RESET client_min_messages;
SELECT status, jsonb_array_length(notes) AS topics_noted,
       (SELECT string_agg(n->>'topic', ',' ORDER BY n->>'topic') FROM jsonb_array_elements(notes) n) AS noted
FROM kpr.collection_runs WHERE run_id = :order_run;
SELECT c.topic, :'today'::date - c.day AS days_ago, c.records_in = coalesce(t.records, 0) AS count_right,
       c.records_in_low = c.records_in AND c.records_in_high = c.records_in AS exact,
       round(c.out_of_day_share::numeric, 4) AS out_of_day_share,
       c.backward_share > 0 AS backwards
FROM kpr.consumption_daily c LEFT JOIN truth t USING (topic, day)
WHERE c.server = 'broker_order'
ORDER BY 1, 2 DESC;
DROP SERVER broker_order CASCADE;

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
