-- kpr.sample_topics against librdkafka's mock cluster (regress.spec).  The
-- fixture writes down exactly what it produced (expected.csv): counts must
-- match it exactly; average record sizes must match it exactly when the
-- budget covers every record, and within the documented sampling error
-- otherwise.  Days are shown as days before today, so output is stable.
\getenv bootstrap KPR_MOCK_BOOTSTRAP
\getenv mock_state KPR_MOCK_STATE
SELECT :{?bootstrap} AND :{?mock_state} AS "the mock cluster is running";

CREATE SERVER mock FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap');
CREATE USER MAPPING FOR CURRENT_USER SERVER mock;

-- What the fixture produced, per topic and UTC day.
\set expected_csv `cat "$KPR_MOCK_STATE/expected.csv"`
CREATE TEMP TABLE produced AS
SELECT f[1] AS topic, f[2]::date AS day,
       sum(f[4]::bigint) AS records, sum(f[5]::bigint) AS record_bytes,
       count(*) AS partitions_with_records
FROM (SELECT string_to_array(line, ',') AS f
      FROM regexp_split_to_table(:'expected_csv', '\n') AS line
      WHERE line <> '' AND line NOT LIKE 'topic,%') AS lines
GROUP BY 1, 2;

-- The mock cannot describe configurations (NOTICE tested in kafka_list_topics).
SET client_min_messages = warning;

-- Default budget (10000 per partition) covers every record here, so the
-- average is exact too.  Every selected topic gets one row per day of the
-- window, zeros included (idle topics, days without traffic).
CREATE TEMP TABLE sampled AS SELECT * FROM kpr.sample_topics('mock', 7);
SELECT s.topic,
       (now() AT TIME ZONE 'UTC')::date - s.day AS days_ago,
       s.records_in,
       coalesce(p.records, 0) AS produced,
       s.records_in = coalesce(p.records, 0) AS count_exact,
       s.sampled_records = s.records_in AS read_all,
       s.avg_record_bytes = p.record_bytes::float8 / p.records AS average_exact,
       s.bytes_in = coalesce(p.record_bytes, 0) AS bytes_exact,
       s.bytes_in_stderr = 0 AS no_error,
       s.peak_bytes_in_per_sec IS NULL AS no_peak_on_mock
FROM sampled s LEFT JOIN produced p USING (topic, day)
ORDER BY 1, 2 DESC;

-- Timestamps never go backwards in these partitions: no sampled record is
-- outside its day or older than the one before it, and with every record
-- read the counts are exact, their interval the count itself.  The mock
-- describes no configurations: the timestamp type comes from the records.
SELECT count(*) AS rows, count(*) FILTER (WHERE records_exact) AS exact,
       count(*) FILTER (WHERE records_in_low = records_in AND records_in_high = records_in)
           AS interval_is_the_count,
       sum(sampled_out_of_day) AS out_of_day, sum(sampled_backwards) AS backwards,
       string_agg(DISTINCT timestamp_type, ',') AS timestamp_types
FROM sampled;

-- Per partition (partition_records[k + 1], partition_bytes[k + 1] for
-- partition k): every partition-day as produced, and they sum to the topic's.
SELECT count(*) AS partition_days,
       count(*) FILTER (WHERE p.records = coalesce(e.records, 0)
                          AND p.bytes = coalesce(e.record_bytes, 0)) AS as_produced
FROM sampled s
CROSS JOIN LATERAL unnest(s.partition_records, s.partition_bytes) WITH ORDINALITY AS p(records, bytes, k)
LEFT JOIN (SELECT f[1] AS topic, f[2]::date AS day, f[3]::int AS partition,
                  f[4]::bigint AS records, f[5]::bigint AS record_bytes
           FROM (SELECT string_to_array(line, ',') AS f
                 FROM regexp_split_to_table(:'expected_csv', '\n') AS line
                 WHERE line <> '' AND line NOT LIKE 'topic,%') AS lines) e
       ON (e.topic, e.day, e.partition) = (s.topic, s.day, p.k - 1);
SELECT count(*) FILTER (WHERE (SELECT sum(r) FROM unnest(partition_records) r) = records_in
                          AND (SELECT sum(b) FROM unnest(partition_bytes) b) = bytes_in) AS sums_match,
       count(*) AS rows
FROM sampled;

-- Nothing produced in the window is missing from the result, and the day
-- before the window (payments, 9 days ago) is not in it.
SELECT p.topic, (now() AT TIME ZONE 'UTC')::date - p.day AS days_ago, p.records
FROM produced p LEFT JOIN sampled s USING (topic, day)
WHERE s.topic IS NULL AND p.topic <> '_schemas'
ORDER BY 1, 2;

-- A budget of 30 records per partition: counts stay exact, at most 30 x
-- partitions records are read for the sample, and bytes_in is within the
-- 95% interval the call states (+- 1.96 standard errors; see README,
-- "Sampling").  The mock cannot answer offsets by time: the strata are days.
-- clicks' values are all 60 B: a sample of equal sizes has no spread, so its
-- stated error is 0, and it is right.
SET kpr.sample_seek_cost = 0;	-- sample, do not read whole (see below)
CREATE TEMP TABLE small_sample AS SELECT * FROM kpr.sample_topics('mock', 3, 30, 'orders,clicks,payments');
RESET kpr.sample_seek_cost;
SELECT s.topic,
       (now() AT TIME ZONE 'UTC')::date - s.day AS days_ago,
       s.records_in = p.records AS count_exact,
       s.sampled_records <= 30 * p.partitions_with_records AS within_budget,
       s.sampled_records < s.records_in AS sampled_not_read_all,
       s.bytes_in_stderr > 0 AS error_stated,
       abs(s.bytes_in - p.record_bytes) <= 1.96 * s.bytes_in_stderr AS bytes_within_interval,
       s.bytes_in = round(s.records_in * s.avg_record_bytes) AS bytes_is_records_x_average,
       s.stratified_by,
       -- in order, but a sample cannot prove it: not exact, and the interval
       -- reaches down by what a batch between the runs could hold
       s.sampled_out_of_day + s.sampled_backwards = 0 AS nothing_out_of_order,
       NOT s.records_exact AS not_exact,
       p.records BETWEEN s.records_in_low AND s.records_in_high AS count_within_interval,
       s.records_in_high = s.records_in AS upper_bound_is_count
FROM small_sample s JOIN produced p USING (topic, day)
ORDER BY 1, 2 DESC;
SELECT topic, sum(sampled_records) <= 30 * max(c.partitions) AS partition_budget_kept
FROM small_sample JOIN (VALUES ('orders', 6), ('clicks', 4), ('payments', 3)) AS c(topic, partitions) USING (topic)
GROUP BY topic ORDER BY topic;

-- With the default kpr.sample_seek_cost (256kB), the same budget reads these
-- small partitions whole, every record, since the sample's seeks would fetch
-- more: the figures are exact.
SELECT s.topic,
       (now() AT TIME ZONE 'UTC')::date - s.day AS days_ago,
       s.sampled_records = s.records_in AS read_whole,
       s.bytes_in = p.record_bytes AS bytes_exact,
       s.bytes_in_stderr = 0 AS no_error
FROM kpr.sample_topics('mock', 3, 30, 'orders,clicks,payments') s JOIN produced p USING (topic, day)
ORDER BY 1, 2 DESC;

-- Forcing the binary search gives the same counts (the mock needs it anyway);
-- forcing the broker's answer on a broker that cannot give one is caught by
-- nothing but the counts, so it is not the default.
SET kpr.offset_search = binary;
SELECT count(*) AS rows_differing
FROM kpr.sample_topics('mock', 7) s JOIN sampled USING (topic, day)
WHERE s.records_in <> sampled.records_in;
RESET kpr.offset_search;

-- A large cluster is read in slices of whole topics, one after another, each
-- with a fresh client (kpr.sample_slice_partitions).  Slices of at most 5
-- partitions put orders (6) and clicks (4) in slices of their own and
-- payments with audit_idle: every row is the same as from one slice, the
-- sample too (its starts are seeded by topic and partition, not by order).
SET kpr.sample_slice_partitions = 5;
SELECT count(*) AS rows_differing FROM (
    (TABLE sampled EXCEPT ALL SELECT * FROM kpr.sample_topics('mock', 7))
    UNION ALL
    (SELECT * FROM kpr.sample_topics('mock', 7) EXCEPT ALL TABLE sampled)) AS d;
SET kpr.sample_seek_cost = 0;
SELECT count(*) AS rows_differing FROM (
    (TABLE small_sample
     EXCEPT ALL SELECT * FROM kpr.sample_topics('mock', 3, 30, 'orders,clicks,payments'))
    UNION ALL
    (SELECT * FROM kpr.sample_topics('mock', 3, 30, 'orders,clicks,payments')
     EXCEPT ALL TABLE small_sample)) AS d;
RESET kpr.sample_seek_cost;
RESET kpr.sample_slice_partitions;

-- Bad arguments.
RESET client_min_messages;
SELECT * FROM kpr.sample_topics('mock', 0);
SELECT * FROM kpr.sample_topics('mock', 367);
SELECT * FROM kpr.sample_topics('mock', 7, 0);

SET client_min_messages = warning;
DROP SERVER mock CASCADE;
RESET client_min_messages;

-- Record timestamps out of order, on a second mock (out_of_order.spec): a
-- late batch of 500 day -3 records after day -1's 1,000, and a producer
-- whose clock is 10 minutes behind.  The mock cannot answer offsets by
-- time: the search on record timestamps, which assumes them in order, puts
-- the boundaries where it can, and every record read is counted in the day
-- of its timestamp.  The truth: what the fixture wrote, by the day of the
-- timestamps the records carry (expected.csv).
\set disordered_bootstrap `"$KPR_MOCK_CLUSTER" start "$KPR_MOCK_SPARE_STATE" "$(dirname "$KPR_MOCK_CLUSTER")/out_of_order.spec" 1`
CREATE SERVER disordered FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'disordered_bootstrap');
CREATE USER MAPPING FOR CURRENT_USER SERVER disordered;
\set disordered_csv `cat "$KPR_MOCK_SPARE_STATE/expected.csv"`
CREATE TEMP TABLE disordered_truth AS
SELECT f[1] AS topic, f[2]::date AS day, sum(f[4]::bigint) AS records, sum(f[5]::bigint) AS record_bytes
FROM (SELECT string_to_array(line, ',') AS f
      FROM regexp_split_to_table(:'disordered_csv', '\n') AS line
      WHERE line <> '' AND line NOT LIKE 'topic,%') AS lines
GROUP BY 1, 2;
-- every record read: the counts and bytes are the truth, exact, flagged (a
-- NOTICE per topic; the terse form leaves out the detail, which names a date)
\set VERBOSITY terse
SELECT s.topic, (now() AT TIME ZONE 'UTC')::date - s.day AS days_ago, s.records_in,
       s.records_in = t.records AS count_right, s.bytes_in = t.record_bytes AS bytes_right,
       s.records_exact, s.sampled_out_of_day > 0 AS out_of_day_seen,
       s.sampled_backwards > 0 AS backwards_seen, s.stratified_by
FROM kpr.sample_topics('disordered', 3) s JOIN disordered_truth t USING (topic, day)
ORDER BY 1, 2 DESC;
\set VERBOSITY default
-- a sample of 60 records per partition: estimates whose intervals hold the truth
SET kpr.sample_seek_cost = 0;
SET client_min_messages = warning;
SELECT s.topic, (now() AT TIME ZONE 'UTC')::date - s.day AS days_ago,
       s.sampled_records < s.records_in AS sampled_not_read_all,
       t.records BETWEEN s.records_in_low AND s.records_in_high AS truth_within_interval,
       s.records_exact
FROM kpr.sample_topics('disordered', 3, 60) s JOIN disordered_truth t USING (topic, day)
ORDER BY 1, 2 DESC;
RESET kpr.sample_seek_cost;
DROP SERVER disordered CASCADE;
RESET client_min_messages;
\! "$KPR_MOCK_CLUSTER" stop "$KPR_MOCK_SPARE_STATE"
