-- The Prometheus source against the real exporter: Prometheus (Debian's)
-- scrapes the real broker's JMX exporter agent every 2 s while kcat writes
-- 12 batches of 1,000 records, 10 s apart, to a new topic.  fetch_metrics
-- for today must then report what the broker counted: records exactly as
-- produced and bytes as the exporter's own counter moved, within the
-- scrape-edge error (Prometheus's increase() extrapolates each end of the
-- sampled interval by at most half a scrape interval: here at most 2 s of
-- about 125 s, 1.6%; the test allows 3%).  This proves the default queries
-- match the names and labels the real exporter emits.
\getenv bootstrap KPR_BROKER_BOOTSTRAP
\getenv broker_state KPR_BROKER_STATE
\getenv metrics_url KPR_BROKER_METRICS_URL
\getenv live_prometheus_url KPR_LIVE_PROMETHEUS_URL
SELECT :{?bootstrap} AND :{?broker_state} AND :{?metrics_url} AND :{?live_prometheus_url}
    AS "the broker and Prometheus are running";
SELECT (now() AT TIME ZONE 'UTC')::date AS today \gset

CREATE EXTENSION kafka_partition_recommender;
CREATE SERVER live FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap', metrics_source 'prometheus',
             metrics_url :'live_prometheus_url', topic_filter 'live_traffic');
CREATE USER MAPPING FOR CURRENT_USER SERVER live;

-- The topic, with one record so that the exporter's series exists before the
-- measured traffic (a series that appears with its first batch would hide it).
\! printf 'topic live_traffic 3 1\n' > "$KPR_BROKER_STATE/live.spec"
\! test/fixtures/kafka_mock/kpr_mock_cluster --spec "$KPR_BROKER_STATE/live.spec" --bootstrap-servers "$KPR_BROKER_BOOTSTRAP" --state-dir "$KPR_BROKER_STATE/live" >"$KPR_BROKER_STATE/live.log" 2>&1
SET client_min_messages = warning;
SELECT topic, partition_count FROM kpr.list_topics('live');
RESET client_min_messages;
-- Primed once Prometheus has scraped the record's series.
\! echo priming | kcat -P -b "$KPR_BROKER_BOOTSTRAP" -t live_traffic -p 0 && test/fixtures/prometheus/wait_for_value.py "$KPR_LIVE_PROMETHEUS_URL" 'kafka_server_brokertopicmetrics_messagesin_total{topic="live_traffic"}' 1 >/dev/null && echo "primed"
\set bytes_before `curl -s "$KPR_BROKER_METRICS_URL" | sed -n 's/^kafka_server_brokertopicmetrics_bytesin_total{topic="live_traffic",*} \(.*\)$/\1/p'`
-- each partition's log-end offset as the exporter reports it now
\set offsets_before `curl -s "$KPR_BROKER_METRICS_URL" | sed -n 's/^kafka_log_log_logendoffset{\(.*\)} \(.*\)$/\1 \2/p' | grep 'topic="live_traffic"' | sed 's/.*partition="\([0-9]*\)".* \(.*\)$/\1:\2/' | sort | paste -sd, -`

-- About two minutes of traffic.
\! for batch in $(seq 12); do seq 1000 | kcat -P -b "$KPR_BROKER_BOOTSTRAP" -t live_traffic; sleep 10; done; echo "12000 records produced"
\set bytes_after `curl -s "$KPR_BROKER_METRICS_URL" | sed -n 's/^kafka_server_brokertopicmetrics_bytesin_total{topic="live_traffic",*} \(.*\)$/\1/p'`
\set offsets_after `curl -s "$KPR_BROKER_METRICS_URL" | sed -n 's/^kafka_log_log_logendoffset{\(.*\)} \(.*\)$/\1 \2/p' | grep 'topic="live_traffic"' | sed 's/.*partition="\([0-9]*\)".* \(.*\)$/\1:\2/' | sort | paste -sd, -`
-- until Prometheus has scraped the exporter's final count
\setenv KPR_BYTES_AFTER :bytes_after
\! test/fixtures/prometheus/wait_for_value.py "$KPR_LIVE_PROMETHEUS_URL" 'kafka_server_brokertopicmetrics_bytesin_total{topic="live_traffic"}' "$KPR_BYTES_AFTER" >/dev/null && echo "scraped"
SELECT :'bytes_after'::float8 - :'bytes_before'::float8 > 0 AS "the exporter counted bytes";

SET client_min_messages = warning;
CREATE TEMP TABLE today AS SELECT * FROM kpr.fetch_metrics('live', :'today', :'today');
RESET client_min_messages;
SELECT topic, day = :'today' AS is_today,
       abs(records_in - 12000) <= 12000 * 0.03 AS records_within_edge_error,
       abs(bytes_in - (:'bytes_after'::float8 - :'bytes_before'::float8))
           <= (:'bytes_after'::float8 - :'bytes_before'::float8) * 0.03 AS bytes_within_edge_error,
       records_out IS NULL AS no_records_out_meter,
       peak_bytes_in_per_sec > 0 AS has_peak
FROM today ORDER BY topic;

-- Per partition, from the exporter's log-end offsets
-- (kafka_log_log_logendoffset{topic, partition}): the topic was created
-- today, so each partition's day starts at its first sample (no offset at
-- midnight), and ends at Prometheus's latest (the final count, scraped
-- above).  Each partition must move as the exporter's own offset moved
-- between the two readings, within the scrape edge: the first sample may
-- predate the priming record (1 record), the rest is exact.
\! test/fixtures/prometheus/wait_for_value.py "$KPR_LIVE_PROMETHEUS_URL" 'sum(kafka_log_log_logendoffset{topic="live_traffic"})' 12001 >/dev/null && echo "offsets scraped"
CREATE TEMP TABLE exporter_offsets AS
SELECT split_part(b, ':', 1)::integer AS partition,
       split_part(b, ':', 2)::float8 AS before,
       split_part(a, ':', 2)::float8 AS after
FROM unnest(string_to_array(:'offsets_before', ','), string_to_array(:'offsets_after', ',')) AS x(b, a);
SET client_min_messages = warning;
CREATE TEMP TABLE partitions_today AS
SELECT * FROM kpr.fetch_partition_metrics('live', :'today', :'today');
RESET client_min_messages;
SELECT count(*) AS partitions, sum(p.records_in) BETWEEN 12000 AND 12001 AS all_records,
       bool_and(abs(p.records_in - (e.after - e.before)) <= 1) AS each_as_the_exporter_moved,
       count(p.bytes_in) AS with_bytes
FROM partitions_today p JOIN exporter_offsets e USING (partition);
DROP SERVER live CASCADE;
DROP EXTENSION kafka_partition_recommender;
