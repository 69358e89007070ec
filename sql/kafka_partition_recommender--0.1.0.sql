/*
 * kafka_partition_recommender 0.1.0
 *
 * Every object lives in schema kpr, which belongs to the extension and goes
 * with DROP EXTENSION.  Nothing here is granted to PUBLIC: a superuser grants
 * what each role needs (README.md, "Privileges").
 *
 * Frozen: 0.1.0 is released as it is here.  Every change ships as an update
 * script, kafka_partition_recommender--A--B.sql, tested by test/sql/upgrade.sql.
 */

\echo Use "CREATE EXTENSION kafka_partition_recommender" to load this file. \quit

CREATE SCHEMA kpr;
COMMENT ON SCHEMA kpr IS 'kafka_partition_recommender: Kafka topic traffic history and partition recommendations.';

------------------------------------------------------------------------------
-- Connections: a foreign-data wrapper whose servers are Kafka clusters and
-- whose user mappings hold each role's credentials.
------------------------------------------------------------------------------

CREATE FUNCTION kpr.fdw_validator(options text[], catalog oid)
RETURNS void
AS 'MODULE_PATHNAME', 'kafka_partition_recommender_fdw_validator'
LANGUAGE C STRICT;

COMMENT ON FUNCTION kpr.fdw_validator(text[], oid) IS
'Checks the options of kafka_partition_recommender servers and user mappings; secrets are accepted only in user mappings.';

CREATE FOREIGN DATA WRAPPER kafka_partition_recommender VALIDATOR kpr.fdw_validator;

COMMENT ON FOREIGN DATA WRAPPER kafka_partition_recommender IS
'Each server is a Kafka cluster (bootstrap_servers, metrics_source, metrics_url, cluster_id, topic_filter, include_internal, librdkafka properties); each user mapping holds credentials (sasl.username, sasl.password, metrics_api_key, metrics_api_secret).';

------------------------------------------------------------------------------
-- Reading a cluster.  Each call resolves the server and the caller's user
-- mapping, then runs in a background worker that does all network I/O.
------------------------------------------------------------------------------

CREATE FUNCTION kpr.list_topics(
    server name,
    topic_filter text DEFAULT NULL,
    include_internal boolean DEFAULT NULL)
RETURNS TABLE (
    topic text,
    partition_count integer,
    replication_factor integer,
    is_internal boolean,
    retention_ms bigint,
    cleanup_policy text)
AS 'MODULE_PATHNAME', 'kpr_list_topics'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION kpr.list_topics(name, text, boolean) IS
'Topics of a server''s Kafka cluster with their partitions, replication, retention and cleanup policy; topic_filter and include_internal default to the server''s options.';

CREATE FUNCTION kpr.sample_topics(
    server name,
    days integer DEFAULT 7,
    max_records_per_partition integer DEFAULT 10000,
    topic_filter text DEFAULT NULL,
    include_internal boolean DEFAULT NULL)
RETURNS TABLE (
    topic text,
    day date,
    records_in bigint,
    sampled_records bigint,
    avg_record_bytes double precision,
    bytes_in bigint,
    peak_bytes_in_per_sec double precision,
    peak_interval_seconds integer)
AS 'MODULE_PATHNAME', 'kpr_sample_topics'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION kpr.sample_topics(name, integer, integer, text, boolean) IS
'Per topic and UTC day of the last complete days: records produced (exact, from offsets), average record size (key + value + headers, from at most max_records_per_partition records per partition), estimated bytes, and the busiest hour''s rate where the broker can say.';

CREATE FUNCTION kpr.fetch_metrics(
    server name,
    first_day date,
    last_day date,
    topic_filter text DEFAULT NULL,
    include_internal boolean DEFAULT NULL)
RETURNS TABLE (
    topic text,
    day date,
    bytes_in bigint,
    records_in bigint,
    bytes_out bigint,
    records_out bigint,
    peak_bytes_in_per_sec double precision,
    peak_bytes_out_per_sec double precision)
AS 'MODULE_PATHNAME', 'kpr_fetch_metrics'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION kpr.fetch_metrics(name, date, date, text, boolean) IS
'Per topic and UTC day from first_day to last_day (today ends now): bytes and records produced and consumed, and the peak produce and consume rates, from the server''s metrics source (Confluent Metrics API or Prometheus).  Every topic of the cluster gets a row per day, idle ones with zeros; a measure the source cannot report is NULL.';

------------------------------------------------------------------------------
-- History
------------------------------------------------------------------------------

CREATE TABLE kpr.collection_runs (
    run_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    server          text NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at     timestamptz,
    status          text NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
    metrics_source  text CHECK (metrics_source IN ('confluent', 'prometheus', 'sampling', 'none')),
    first_day       date,
    last_day        date,
    cluster_id      text,
    broker_count    integer CHECK (broker_count > 0),
    topics_seen     integer CHECK (topics_seen >= 0),
    rows_written    bigint CHECK (rows_written >= 0),
    failed_topics   jsonb,
    error           text,
    run_by          name NOT NULL DEFAULT current_user,
    CONSTRAINT finished_unless_running CHECK ((status = 'running') = (finished_at IS NULL)),
    CONSTRAINT finished_after_started CHECK (finished_at >= started_at),
    CONSTRAINT days_in_order CHECK (last_day >= first_day)
);

CREATE INDEX ON kpr.collection_runs (server, started_at);

COMMENT ON TABLE kpr.collection_runs IS 'One row per collect of one server: when, how it ended, what it saw and wrote, and why it failed.';
COMMENT ON COLUMN kpr.collection_runs.run_id IS 'Identifies the run; history rows point to the run that wrote them.';
COMMENT ON COLUMN kpr.collection_runs.server IS 'Foreign server name of the cluster collected.';
COMMENT ON COLUMN kpr.collection_runs.started_at IS 'When the run started.';
COMMENT ON COLUMN kpr.collection_runs.finished_at IS 'When the run ended; NULL while it is running.';
COMMENT ON COLUMN kpr.collection_runs.status IS 'running, succeeded, partial (some topics failed, see failed_topics) or failed (see error).';
COMMENT ON COLUMN kpr.collection_runs.metrics_source IS 'Where traffic figures came from: confluent, prometheus, sampling or none.';
COMMENT ON COLUMN kpr.collection_runs.first_day IS 'First UTC day collected.';
COMMENT ON COLUMN kpr.collection_runs.last_day IS 'Last UTC day collected.';
COMMENT ON COLUMN kpr.collection_runs.cluster_id IS 'Kafka cluster id seen in the cluster''s metadata or given by the server option cluster_id.';
COMMENT ON COLUMN kpr.collection_runs.broker_count IS 'Number of brokers in the cluster''s metadata; used to round to a multiple of the broker count and to check the per-broker cap.';
COMMENT ON COLUMN kpr.collection_runs.topics_seen IS 'Topics listed by the cluster after topic_filter and include_internal.';
COMMENT ON COLUMN kpr.collection_runs.rows_written IS 'Rows inserted or replaced in kpr.consumption_daily.';
COMMENT ON COLUMN kpr.collection_runs.failed_topics IS 'For a partial run: a JSON array of {"topic": ..., "error": ...} for the topics that failed.';
COMMENT ON COLUMN kpr.collection_runs.error IS 'For a failed run: why it failed.';
COMMENT ON COLUMN kpr.collection_runs.run_by IS 'Role that ran the collect.';

CREATE TABLE kpr.topic_inventory (
    server              text NOT NULL,
    topic               text NOT NULL,
    partition_count     integer NOT NULL CHECK (partition_count > 0),
    replication_factor  integer CHECK (replication_factor > 0),
    is_internal         boolean NOT NULL DEFAULT false,
    retention_ms        bigint CHECK (retention_ms >= -1),
    cleanup_policy      text,
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at        timestamptz NOT NULL DEFAULT now(),
    missing_since       timestamptz,
    last_run_id         bigint REFERENCES kpr.collection_runs ON DELETE SET NULL,
    PRIMARY KEY (server, topic),
    CONSTRAINT seen_in_order CHECK (last_seen_at >= first_seen_at)
);

COMMENT ON TABLE kpr.topic_inventory IS 'Latest known shape of each topic of each server; topics no longer seen are marked (missing_since), never deleted.';
COMMENT ON COLUMN kpr.topic_inventory.server IS 'Foreign server name of the cluster.';
COMMENT ON COLUMN kpr.topic_inventory.topic IS 'Kafka topic name.';
COMMENT ON COLUMN kpr.topic_inventory.partition_count IS 'Partitions the topic has now.';
COMMENT ON COLUMN kpr.topic_inventory.replication_factor IS 'Replicas per partition.';
COMMENT ON COLUMN kpr.topic_inventory.is_internal IS 'True for Kafka''s internal topics such as __consumer_offsets.';
COMMENT ON COLUMN kpr.topic_inventory.retention_ms IS 'Topic retention.ms in milliseconds; -1 means unlimited; NULL when the broker did not say.';
COMMENT ON COLUMN kpr.topic_inventory.cleanup_policy IS 'Topic cleanup.policy: delete, compact or compact,delete; NULL when the broker did not say.';
COMMENT ON COLUMN kpr.topic_inventory.first_seen_at IS 'When a collect first saw the topic.';
COMMENT ON COLUMN kpr.topic_inventory.last_seen_at IS 'When a collect last saw the topic.';
COMMENT ON COLUMN kpr.topic_inventory.missing_since IS 'Set when a collect no longer sees the topic (deleted, or hidden by a filter or ACL); NULL while it exists.';
COMMENT ON COLUMN kpr.topic_inventory.last_run_id IS 'Run that last updated this row.';

CREATE TABLE kpr.consumption_daily (
    server                   text NOT NULL,
    topic                    text NOT NULL,
    day                      date NOT NULL,
    bytes_in                 bigint CHECK (bytes_in >= 0),
    records_in               bigint CHECK (records_in >= 0),
    bytes_out                bigint CHECK (bytes_out >= 0),
    records_out              bigint CHECK (records_out >= 0),
    peak_bytes_in_per_sec    double precision CHECK (peak_bytes_in_per_sec >= 0),
    peak_bytes_out_per_sec   double precision CHECK (peak_bytes_out_per_sec >= 0),
    peak_interval_seconds    integer CHECK (peak_interval_seconds > 0),
    avg_record_bytes         double precision CHECK (avg_record_bytes >= 0),
    source                   text NOT NULL
                             CHECK (source IN ('confluent', 'prometheus', 'sampling', 'manual')),
    run_id                   bigint REFERENCES kpr.collection_runs ON DELETE SET NULL,
    collected_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (server, topic, day),
    FOREIGN KEY (server, topic) REFERENCES kpr.topic_inventory ON UPDATE CASCADE
);

CREATE INDEX ON kpr.consumption_daily (run_id);

COMMENT ON TABLE kpr.consumption_daily IS 'Traffic of each topic per UTC day; re-collecting a day replaces its row, so history never duplicates.';
COMMENT ON COLUMN kpr.consumption_daily.server IS 'Foreign server name of the cluster.';
COMMENT ON COLUMN kpr.consumption_daily.topic IS 'Kafka topic name.';
COMMENT ON COLUMN kpr.consumption_daily.day IS 'UTC calendar day the figures cover.';
COMMENT ON COLUMN kpr.consumption_daily.bytes_in IS 'Bytes produced to the topic that day (ingress).';
COMMENT ON COLUMN kpr.consumption_daily.records_in IS 'Records produced to the topic that day.';
COMMENT ON COLUMN kpr.consumption_daily.bytes_out IS 'Bytes fetched from the topic that day by all consumers together (egress).';
COMMENT ON COLUMN kpr.consumption_daily.records_out IS 'Records fetched from the topic that day by all consumers together.';
COMMENT ON COLUMN kpr.consumption_daily.peak_bytes_in_per_sec IS 'Highest ingress rate that day, in bytes per second, averaged over peak_interval_seconds; NULL when only the daily total is known.';
COMMENT ON COLUMN kpr.consumption_daily.peak_bytes_out_per_sec IS 'Highest egress rate that day, in bytes per second, averaged over peak_interval_seconds.';
COMMENT ON COLUMN kpr.consumption_daily.peak_interval_seconds IS 'Length of the interval the peak rates are averaged over (3600 for hourly buckets); shorter means spikier.';
COMMENT ON COLUMN kpr.consumption_daily.avg_record_bytes IS 'Average record size in bytes (key + value + headers).';
COMMENT ON COLUMN kpr.consumption_daily.source IS 'Where the figures came from: confluent, prometheus, sampling, or manual (entered by a user).';
COMMENT ON COLUMN kpr.consumption_daily.run_id IS 'Run that wrote the row; NULL for manual rows or when the run was pruned.';
COMMENT ON COLUMN kpr.consumption_daily.collected_at IS 'When the row was written.';

------------------------------------------------------------------------------
-- The model's inputs
------------------------------------------------------------------------------

CREATE TABLE kpr.settings (
    server                              text,
    topic                               text,
    throughput_factor                   double precision CHECK (throughput_factor > 0),
    window_days                         integer CHECK (window_days BETWEEN 1 AND 366),
    partition_throughput_bytes_per_sec  double precision CHECK (partition_throughput_bytes_per_sec >= 1),
    min_partitions                      integer CHECK (min_partitions >= 1),
    round_to_broker_multiple            boolean,
    max_partitions_per_broker           integer CHECK (max_partitions_per_broker >= 1),
    note                                text,
    CONSTRAINT topic_setting_needs_server CHECK (topic IS NULL OR server IS NOT NULL),
    CONSTRAINT one_row_per_scope UNIQUE NULLS NOT DISTINCT (server, topic)
);

COMMENT ON TABLE kpr.settings IS 'Overrides of the model''s inputs: a row with server and topic NULL applies to all, a row with only server to that server, a row with both to that topic. Most specific non-NULL value wins; NULL inherits. kpr.effective_settings shows the result.';
COMMENT ON COLUMN kpr.settings.server IS 'Foreign server name, or NULL for the global row.';
COMMENT ON COLUMN kpr.settings.topic IS 'Topic name, or NULL for a whole-server (or global) row.';
COMMENT ON COLUMN kpr.settings.throughput_factor IS 'Headroom multiplier on peak ingress (default 3).';
COMMENT ON COLUMN kpr.settings.window_days IS 'How many complete UTC days before today the model looks at (default 7).';
COMMENT ON COLUMN kpr.settings.partition_throughput_bytes_per_sec IS 'Bytes per second one consumer can sustain on one partition (default 10485760, 10 MiB/s).';
COMMENT ON COLUMN kpr.settings.min_partitions IS 'Never recommend fewer partitions than this (default 1).';
COMMENT ON COLUMN kpr.settings.round_to_broker_multiple IS 'Round the recommendation up to a multiple of the broker count, for even leader spread (default false).';
COMMENT ON COLUMN kpr.settings.max_partitions_per_broker IS 'Partition replicas one broker should hold at most; applying all recommendations above it raises a warning (default 4000).';
COMMENT ON COLUMN kpr.settings.note IS 'Why the override exists.';

-- The defaults live here and only here.
CREATE VIEW kpr.effective_settings AS
SELECT i.server,
       i.topic,
       coalesce(t.throughput_factor, s.throughput_factor, g.throughput_factor, 3)
           AS throughput_factor,
       coalesce(t.window_days, s.window_days, g.window_days, 7)
           AS window_days,
       coalesce(t.partition_throughput_bytes_per_sec, s.partition_throughput_bytes_per_sec,
                g.partition_throughput_bytes_per_sec, 10485760)
           AS partition_throughput_bytes_per_sec,
       coalesce(t.min_partitions, s.min_partitions, g.min_partitions, 1)
           AS min_partitions,
       coalesce(t.round_to_broker_multiple, s.round_to_broker_multiple,
                g.round_to_broker_multiple, false)
           AS round_to_broker_multiple,
       coalesce(t.max_partitions_per_broker, s.max_partitions_per_broker,
                g.max_partitions_per_broker, 4000)
           AS max_partitions_per_broker
FROM kpr.topic_inventory i
LEFT JOIN kpr.settings t ON t.server = i.server AND t.topic = i.topic
LEFT JOIN kpr.settings s ON s.server = i.server AND s.topic IS NULL
LEFT JOIN kpr.settings g ON g.server IS NULL AND g.topic IS NULL;

COMMENT ON VIEW kpr.effective_settings IS 'The model''s inputs in force for each known topic, after applying kpr.settings (topic over server over global over default).';
COMMENT ON COLUMN kpr.effective_settings.server IS 'Foreign server name of the cluster.';
COMMENT ON COLUMN kpr.effective_settings.topic IS 'Kafka topic name.';
COMMENT ON COLUMN kpr.effective_settings.throughput_factor IS 'Headroom multiplier on peak ingress.';
COMMENT ON COLUMN kpr.effective_settings.window_days IS 'Complete UTC days before today that the model looks at.';
COMMENT ON COLUMN kpr.effective_settings.partition_throughput_bytes_per_sec IS 'Bytes per second one consumer sustains on one partition.';
COMMENT ON COLUMN kpr.effective_settings.min_partitions IS 'Lowest partition count recommended.';
COMMENT ON COLUMN kpr.effective_settings.round_to_broker_multiple IS 'Whether the recommendation is rounded up to a multiple of the broker count.';
COMMENT ON COLUMN kpr.effective_settings.max_partitions_per_broker IS 'Partition replicas per broker above which a warning is raised.';

------------------------------------------------------------------------------
-- The recommendation
------------------------------------------------------------------------------

CREATE FUNCTION kpr.format_bytes_per_sec(bytes_per_sec double precision)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE
    WHEN bytes_per_sec >= 1073741824 THEN to_char(bytes_per_sec / 1073741824, 'FM999999990.00') || ' GiB/s'
    WHEN bytes_per_sec >= 1048576 THEN to_char(bytes_per_sec / 1048576, 'FM9990.0') || ' MiB/s'
    WHEN bytes_per_sec >= 1024 THEN to_char(bytes_per_sec / 1024, 'FM9990.0') || ' KiB/s'
    ELSE to_char(bytes_per_sec, 'FM9990') || ' B/s'
END;

COMMENT ON FUNCTION kpr.format_bytes_per_sec(double precision) IS
'A rate for people: 26214400 -> ''25.0 MiB/s'' (binary units).';

/*
 * Per topic, over the window_days complete UTC days before today:
 *   peak      = highest measured peak ingress rate, or, for days with only a
 *               daily total, that total / 86400 (said so in reason);
 *   required  = peak * throughput_factor;
 *   sized     = ceil(required / partition_throughput), at least min_partitions,
 *               optionally rounded up to a multiple of the broker count.
 * Arithmetic is numeric so exact multiples stay exact.  Partitions cannot be
 * removed: a figure below the current count is reported as over_provisioned,
 * never as an action.  No rows, or only zeros, give no_data.
 */
CREATE VIEW kpr.recommended_partitions AS
WITH latest_broker_count AS (
    SELECT DISTINCT ON (server) server, broker_count
    FROM kpr.collection_runs
    WHERE broker_count IS NOT NULL
    ORDER BY server, started_at DESC, run_id DESC
),
observed AS (
    SELECT e.*,
           i.partition_count, i.replication_factor, i.is_internal,
           b.broker_count,
           w.window_first_day, w.window_last_day,
           t.*,
           greatest(t.measured_peak_in, t.estimated_peak_in) AS peak_in,
           t.estimated_peak_in IS NOT NULL
               AND (t.measured_peak_in IS NULL OR t.estimated_peak_in > t.measured_peak_in)
               AS peak_is_estimated
    FROM kpr.effective_settings e
    JOIN kpr.topic_inventory i USING (server, topic)
    LEFT JOIN latest_broker_count b USING (server)
    CROSS JOIN LATERAL (
        SELECT (now() AT TIME ZONE 'UTC')::date - e.window_days AS window_first_day,
               (now() AT TIME ZONE 'UTC')::date - 1 AS window_last_day
    ) w
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE c.bytes_in IS NOT NULL
                                   OR c.peak_bytes_in_per_sec IS NOT NULL) AS days_observed,
               sum(c.bytes_in) AS bytes_in,
               count(c.bytes_in) AS days_with_bytes_in,
               sum(c.bytes_out) AS bytes_out,
               count(c.bytes_out) AS days_with_bytes_out,
               sum(c.bytes_out) FILTER (WHERE c.bytes_in IS NOT NULL)::numeric
                   / nullif(sum(c.bytes_in) FILTER (WHERE c.bytes_out IS NOT NULL), 0)
                   AS fan_out,
               max(c.peak_bytes_in_per_sec::numeric) AS measured_peak_in,
               max(c.bytes_in::numeric / 86400)
                   FILTER (WHERE c.peak_bytes_in_per_sec IS NULL) AS estimated_peak_in,
               max(c.peak_bytes_out_per_sec) AS peak_bytes_out_per_sec,
               max(c.peak_interval_seconds) AS peak_interval_seconds
        FROM kpr.consumption_daily c
        WHERE c.server = e.server AND c.topic = e.topic
          AND c.day BETWEEN w.window_first_day AND w.window_last_day
    ) t
    WHERE i.missing_since IS NULL
),
sized AS (
    SELECT o.*,
           coalesce(o.peak_in > 0, false) AS has_traffic,
           o.peak_in * o.throughput_factor::numeric AS required,
           ceil(o.peak_in * o.throughput_factor::numeric
                / o.partition_throughput_bytes_per_sec::numeric)::bigint AS by_throughput
    FROM observed o
),
floored AS (
    SELECT s.*, greatest(s.by_throughput, s.min_partitions) AS at_least_min
    FROM sized s
),
rounded AS (
    SELECT f.*,
           CASE WHEN f.round_to_broker_multiple AND f.broker_count IS NOT NULL
                THEN ceil(f.at_least_min::numeric / f.broker_count)::bigint * f.broker_count
                ELSE f.at_least_min
           END AS rounded
    FROM floored f
),
decided AS (
    SELECT r.*,
           CASE WHEN NOT r.has_traffic THEN 'no_data'
                WHEN r.rounded > r.partition_count THEN 'increase'
                WHEN r.rounded < r.partition_count THEN 'over_provisioned'
                ELSE 'keep'
           END AS action,
           CASE WHEN NOT r.has_traffic THEN NULL
                WHEN r.rounded > r.at_least_min THEN 'broker_multiple'
                WHEN r.at_least_min > r.by_throughput THEN 'min_partitions'
                ELSE 'throughput'
           END AS decided_by
    FROM rounded r
),
capped AS (
    -- partition replicas per broker if every topic of the server took its
    -- recommendation (or kept its current count where that is higher)
    SELECT d.*,
           sum(greatest(d.partition_count,
                        CASE WHEN d.has_traffic THEN d.rounded ELSE 0 END)
               * coalesce(d.replication_factor, 1))
               OVER (PARTITION BY d.server)::numeric
               / d.broker_count AS replicas_per_broker_after
    FROM decided d
)
SELECT c.server,
       c.topic,
       c.is_internal,
       c.partition_count AS current_partitions,
       c.replication_factor,
       c.broker_count,
       c.window_first_day,
       c.window_last_day,
       c.days_observed::integer AS days_observed,
       (c.bytes_in::numeric / nullif(c.days_with_bytes_in * 86400, 0))::double precision
           AS avg_bytes_in_per_sec,
       c.peak_in::double precision AS peak_bytes_in_per_sec,
       c.peak_is_estimated,
       c.peak_interval_seconds,
       (c.bytes_out::numeric / nullif(c.days_with_bytes_out * 86400, 0))::double precision
           AS avg_bytes_out_per_sec,
       c.peak_bytes_out_per_sec,
       round(c.fan_out, 2)::double precision AS fan_out,
       c.throughput_factor,
       c.required::double precision AS required_bytes_per_sec,
       c.partition_throughput_bytes_per_sec,
       c.min_partitions,
       CASE WHEN c.has_traffic THEN c.rounded END AS recommended_partitions,
       CASE WHEN c.has_traffic THEN c.rounded - c.partition_count END AS delta,
       c.action,
       c.decided_by,
       CASE
       WHEN c.action = 'no_data' AND c.days_observed = 0 THEN
           format('no traffic measurements in the last %s complete UTC days', c.window_days)
       WHEN c.action = 'no_data' THEN
           format('no traffic: ingress was zero on all %s days observed', c.days_observed)
       ELSE
           CASE WHEN c.peak_is_estimated
                THEN 'peak estimated as a daily total / 86400 (no intraday peak measured); '
                ELSE '' END
           || format('peak %s x factor %s = %s needs %s partition%s at %s each',
                     kpr.format_bytes_per_sec(c.peak_in),
                     c.throughput_factor::numeric,
                     kpr.format_bytes_per_sec(c.required),
                     c.by_throughput,
                     CASE WHEN c.by_throughput = 1 THEN '' ELSE 's' END,
                     kpr.format_bytes_per_sec(c.partition_throughput_bytes_per_sec))
           || CASE WHEN c.at_least_min > c.by_throughput
                   THEN format('; raised to min_partitions %s', c.min_partitions)
                   ELSE '' END
           || CASE WHEN c.rounded > c.at_least_min
                   THEN format('; rounded up to %s, a multiple of %s brokers', c.rounded, c.broker_count)
                   WHEN c.round_to_broker_multiple AND c.broker_count IS NULL
                   THEN '; not rounded to a broker multiple: no collect has recorded the broker count'
                   ELSE '' END
           || CASE c.action
              WHEN 'increase' THEN format('; %s more than the current %s', c.rounded - c.partition_count, c.partition_count)
              WHEN 'over_provisioned' THEN format('; the current %s are more than needed (partitions cannot be removed)', c.partition_count)
              ELSE format('; the current %s fit', c.partition_count)
              END
       END AS reason,
       CASE WHEN c.action = 'increase'
                 AND c.replicas_per_broker_after > c.max_partitions_per_broker
            THEN format('applying every recommendation on server %s puts %s partition replicas on each of %s brokers, above max_partitions_per_broker %s',
                        c.server, ceil(c.replicas_per_broker_after), c.broker_count,
                        c.max_partitions_per_broker)
       END AS warning
FROM capped c;

COMMENT ON VIEW kpr.recommended_partitions IS 'One row per known topic: how many partitions its measured peak ingress needs, what to do, and why. Sizes from ingress because every consumer group reads the whole stream.';
COMMENT ON COLUMN kpr.recommended_partitions.server IS 'Foreign server name of the cluster.';
COMMENT ON COLUMN kpr.recommended_partitions.topic IS 'Kafka topic name.';
COMMENT ON COLUMN kpr.recommended_partitions.is_internal IS 'True for Kafka''s internal topics.';
COMMENT ON COLUMN kpr.recommended_partitions.current_partitions IS 'Partitions the topic has now.';
COMMENT ON COLUMN kpr.recommended_partitions.replication_factor IS 'Replicas per partition.';
COMMENT ON COLUMN kpr.recommended_partitions.broker_count IS 'Brokers in the cluster at the latest collect that recorded it.';
COMMENT ON COLUMN kpr.recommended_partitions.window_first_day IS 'First UTC day of the window looked at.';
COMMENT ON COLUMN kpr.recommended_partitions.window_last_day IS 'Last UTC day of the window looked at (yesterday: today is not complete).';
COMMENT ON COLUMN kpr.recommended_partitions.days_observed IS 'Days in the window with an ingress figure.';
COMMENT ON COLUMN kpr.recommended_partitions.avg_bytes_in_per_sec IS 'Average ingress over the days observed, bytes per second.';
COMMENT ON COLUMN kpr.recommended_partitions.peak_bytes_in_per_sec IS 'Highest ingress rate in the window, bytes per second; the figure the model sizes from.';
COMMENT ON COLUMN kpr.recommended_partitions.peak_is_estimated IS 'True when the peak is a daily total / 86400 because no intraday peak was measured that day (it understates bursts).';
COMMENT ON COLUMN kpr.recommended_partitions.peak_interval_seconds IS 'Longest interval any measured peak in the window was averaged over.';
COMMENT ON COLUMN kpr.recommended_partitions.avg_bytes_out_per_sec IS 'Average egress (all consumer groups together) over the days observed, bytes per second.';
COMMENT ON COLUMN kpr.recommended_partitions.peak_bytes_out_per_sec IS 'Highest egress rate in the window, bytes per second.';
COMMENT ON COLUMN kpr.recommended_partitions.fan_out IS 'Egress / ingress over the window: roughly how many consumer groups read the topic. Not used for sizing.';
COMMENT ON COLUMN kpr.recommended_partitions.throughput_factor IS 'Headroom multiplier in force.';
COMMENT ON COLUMN kpr.recommended_partitions.required_bytes_per_sec IS 'peak_bytes_in_per_sec x throughput_factor.';
COMMENT ON COLUMN kpr.recommended_partitions.partition_throughput_bytes_per_sec IS 'Bytes per second one consumer sustains on one partition, in force.';
COMMENT ON COLUMN kpr.recommended_partitions.min_partitions IS 'Lowest partition count in force.';
COMMENT ON COLUMN kpr.recommended_partitions.recommended_partitions IS 'Partitions the traffic needs: ceil(required / partition throughput), at least min_partitions, rounded up to a broker multiple if asked; NULL for no_data.';
COMMENT ON COLUMN kpr.recommended_partitions.delta IS 'recommended_partitions - current_partitions; negative means over-provisioned.';
COMMENT ON COLUMN kpr.recommended_partitions.action IS 'increase, keep, over_provisioned (more than needed; partitions cannot be removed) or no_data.';
COMMENT ON COLUMN kpr.recommended_partitions.decided_by IS 'The constraint that set the figure: throughput, min_partitions or broker_multiple.';
COMMENT ON COLUMN kpr.recommended_partitions.reason IS 'The arithmetic behind the figure, in words.';
COMMENT ON COLUMN kpr.recommended_partitions.warning IS 'Set on increases when applying every recommendation of the server would put more partition replicas on a broker than max_partitions_per_broker.';

------------------------------------------------------------------------------
-- Collection: kpr.collect writes what the reading functions return into the
-- history, one server at a time; kpr.collect_all does every server.
------------------------------------------------------------------------------

CREATE FUNCTION kpr.cluster_info(server name)
RETURNS TABLE (
    cluster_id text,
    broker_count integer,
    controller_id integer)
AS 'MODULE_PATHNAME', 'kpr_cluster_info'
LANGUAGE C VOLATILE STRICT;

COMMENT ON FUNCTION kpr.cluster_info(name) IS
'The Kafka cluster''s id, its number of brokers and its controller, from the cluster''s metadata.';

-- The start and the failure of a run are written by a worker in transactions
-- of their own, so that they outlive a collect that is rolled back or
-- canceled (see src/run_log.c).
CREATE FUNCTION kpr._record_run_start(server text, metrics_source text, first_day date, last_day date)
RETURNS TABLE (run_id bigint, status text)
AS 'MODULE_PATHNAME', 'kpr_record_run_start'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION kpr._record_run_start(text, text, date, date) IS
'For kpr.collect, which holds the server''s collect lock: closes the server''s runs still marked running as failed, and opens a new run, in a transaction of its own.';

CREATE FUNCTION kpr._record_run_failure(run_id bigint, error text)
RETURNS TABLE (run_id bigint, status text)
AS 'MODULE_PATHNAME', 'kpr_record_run_failure'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION kpr._record_run_failure(bigint, text) IS
'For kpr.collect: marks a running run failed with its error, in a transaction of its own.';

CREATE FUNCTION kpr.collect(server name, days integer DEFAULT 7)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $collect$
#variable_conflict use_column
DECLARE
    -- the clock, not the transaction's start: the reading functions check
    -- day ranges against the clock too
    today           date := (clock_timestamp() AT TIME ZONE 'UTC')::date;
    source          text;
    configured_id   text;
    window_first    date;
    window_last     date := (clock_timestamp() AT TIME ZONE 'UTC')::date - 1;
    this_run        bigint;
    cluster         record;
    listed          jsonb;
    collected       text[];
    written         bigint := 0;
    failed          jsonb;
    message         text;
    detail          text;
BEGIN
    IF collect.server IS NULL THEN
        RAISE EXCEPTION 'server name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF collect.days IS NULL OR collect.days NOT BETWEEN 1 AND 366 THEN
        RAISE EXCEPTION 'days must be between 1 and 366, not %', coalesce(collect.days::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'kpr.collect needs the READ COMMITTED isolation level, not %',
                        current_setting('transaction_isolation')
            USING ERRCODE = 'invalid_transaction_state',
                  DETAIL = 'It records its run in a transaction of its own and must see that row.';
    END IF;

    SELECT coalesce((SELECT o.option_value FROM pg_options_to_table(s.srvoptions) o
                     WHERE o.option_name = 'metrics_source'), 'sampling'),
           (SELECT o.option_value FROM pg_options_to_table(s.srvoptions) o
             WHERE o.option_name = 'cluster_id')
      INTO source, configured_id
      FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
     WHERE s.srvname = collect.server AND w.fdwname = 'kafka_partition_recommender';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'server "%" does not exist or is not a Kafka cluster of kafka_partition_recommender', collect.server
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT srvname FROM pg_foreign_server lists the servers.';
    END IF;

    -- one collect per server at a time; held until this transaction ends
    IF NOT pg_try_advisory_xact_lock(hashtext('kafka_partition_recommender collect'),
                                     hashtext(collect.server)) THEN
        RAISE EXCEPTION 'a collect of server "%" is already running', collect.server
            USING ERRCODE = 'lock_not_available',
                  HINT = 'Wait for it to end; kpr.collection_runs shows it with status running.';
    END IF;

    -- the complete UTC days before today; the Metrics API keeps 7 days, so
    -- at most the 6 complete ones (today - 6 is the oldest it keeps whole)
    window_first := today - collect.days;
    IF source = 'confluent' THEN
        window_first := greatest(window_first, today - 6);
    END IF;

    SELECT r.run_id INTO this_run
      FROM kpr._record_run_start(collect.server, source, window_first, window_last) r;

    BEGIN
        SELECT * INTO cluster FROM kpr.cluster_info(collect.server);
        SELECT coalesce(jsonb_agg(to_jsonb(t)), '[]') INTO listed FROM kpr.list_topics(collect.server) t;

        -- the inventory: topics seen are upserted; topics no longer seen are
        -- marked, never deleted (their history stays)
        INSERT INTO kpr.topic_inventory AS i
               (server, topic, partition_count, replication_factor, is_internal,
                retention_ms, cleanup_policy, first_seen_at, last_seen_at, missing_since, last_run_id)
        SELECT collect.server, l.topic, l.partition_count, l.replication_factor, l.is_internal,
               l.retention_ms, l.cleanup_policy, now(), now(), NULL, this_run
          FROM jsonb_to_recordset(listed) AS l(topic text, partition_count integer,
                                               replication_factor integer, is_internal boolean,
                                               retention_ms bigint, cleanup_policy text)
        ON CONFLICT (server, topic) DO UPDATE
           SET partition_count = excluded.partition_count,
               replication_factor = excluded.replication_factor,
               is_internal = excluded.is_internal,
               retention_ms = excluded.retention_ms,
               cleanup_policy = excluded.cleanup_policy,
               last_seen_at = excluded.last_seen_at,
               missing_since = NULL,
               last_run_id = excluded.last_run_id;
        UPDATE kpr.topic_inventory i
           SET missing_since = now(), last_run_id = this_run
         WHERE i.server = collect.server AND i.missing_since IS NULL
           AND NOT EXISTS (SELECT FROM jsonb_to_recordset(listed) AS l(topic text) WHERE l.topic = i.topic);

        -- traffic per topic and day: a day collected again replaces its row
        IF source IN ('confluent', 'prometheus') THEN
            WITH upserted AS (
                INSERT INTO kpr.consumption_daily AS c
                       (server, topic, day, bytes_in, records_in, bytes_out, records_out,
                        peak_bytes_in_per_sec, peak_bytes_out_per_sec, peak_interval_seconds,
                        avg_record_bytes, source, run_id, collected_at)
                SELECT collect.server, f.topic, f.day, f.bytes_in, f.records_in, f.bytes_out, f.records_out,
                       f.peak_bytes_in_per_sec, f.peak_bytes_out_per_sec,
                       -- Confluent: the busiest hourly bucket; Prometheus: the busiest 5-minute rate
                       CASE source WHEN 'confluent' THEN 3600 ELSE 300 END,
                       CASE WHEN f.records_in > 0 THEN f.bytes_in::double precision / f.records_in END,
                       source, this_run, now()
                  FROM kpr.fetch_metrics(collect.server, window_first, window_last) f
                  JOIN kpr.topic_inventory i ON i.server = collect.server AND i.topic = f.topic
                ON CONFLICT (server, topic, day) DO UPDATE
                   SET bytes_in = excluded.bytes_in, records_in = excluded.records_in,
                       bytes_out = excluded.bytes_out, records_out = excluded.records_out,
                       peak_bytes_in_per_sec = excluded.peak_bytes_in_per_sec,
                       peak_bytes_out_per_sec = excluded.peak_bytes_out_per_sec,
                       peak_interval_seconds = excluded.peak_interval_seconds,
                       avg_record_bytes = excluded.avg_record_bytes,
                       source = excluded.source, run_id = excluded.run_id,
                       collected_at = excluded.collected_at
                RETURNING c.topic)
            SELECT count(*), array_agg(DISTINCT u.topic) INTO written, collected FROM upserted u;
        ELSIF source = 'sampling' THEN
            WITH upserted AS (
                INSERT INTO kpr.consumption_daily AS c
                       (server, topic, day, bytes_in, records_in, bytes_out, records_out,
                        peak_bytes_in_per_sec, peak_bytes_out_per_sec, peak_interval_seconds,
                        avg_record_bytes, source, run_id, collected_at)
                SELECT collect.server, s.topic, s.day, s.bytes_in, s.records_in, NULL, NULL,
                       s.peak_bytes_in_per_sec, NULL, s.peak_interval_seconds,
                       s.avg_record_bytes, 'sampling', this_run, now()
                  FROM kpr.sample_topics(collect.server, window_last - window_first + 1) s
                ON CONFLICT (server, topic, day) DO UPDATE
                   SET bytes_in = excluded.bytes_in, records_in = excluded.records_in,
                       bytes_out = NULL, records_out = NULL,
                       peak_bytes_in_per_sec = excluded.peak_bytes_in_per_sec,
                       peak_bytes_out_per_sec = NULL,
                       peak_interval_seconds = excluded.peak_interval_seconds,
                       avg_record_bytes = excluded.avg_record_bytes,
                       source = excluded.source, run_id = excluded.run_id,
                       collected_at = excluded.collected_at
                RETURNING c.topic)
            SELECT count(*), array_agg(DISTINCT u.topic) INTO written, collected FROM upserted u;
        END IF;

        -- topics listed but without any figure: deleted meanwhile, or (when
        -- sampling) retention kept none of the window's days
        IF source <> 'none' THEN
            SELECT jsonb_agg(jsonb_build_object(
                       'topic', l.topic,
                       'error', CASE source WHEN 'sampling'
                                THEN 'sample_topics returned no day of it: deleted during the collect, or its retention keeps none of the window'
                                ELSE 'the metrics source returned no day of it: deleted during the collect?' END)
                   ORDER BY l.topic)
              INTO failed
              FROM jsonb_to_recordset(listed) AS l(topic text)
             WHERE l.topic <> ALL (coalesce(collected, '{}'));
        END IF;

        UPDATE kpr.collection_runs r
           SET status = CASE WHEN failed IS NULL THEN 'succeeded' ELSE 'partial' END,
               finished_at = greatest(clock_timestamp(), r.started_at),
               cluster_id = coalesce(configured_id, cluster.cluster_id),
               broker_count = cluster.broker_count,
               topics_seen = jsonb_array_length(listed),
               rows_written = written,
               failed_topics = failed
         WHERE r.run_id = this_run;
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
        -- the failure outlives this transaction; then the error goes on
        BEGIN
            PERFORM kpr._record_run_failure(this_run, message || coalesce(E'\n' || nullif(detail, ''), ''));
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'could not record the failure of run % of server "%": %', this_run, collect.server, SQLERRM;
        END;
        RAISE;
    END;
    RETURN this_run;
END
$collect$;

COMMENT ON FUNCTION kpr.collect(name, integer) IS
'Collects one server: opens a run (kpr.collection_runs), refreshes kpr.topic_inventory, writes traffic of the last complete UTC days into kpr.consumption_daily from the server''s metrics_source (sampling when unset), and closes the run as succeeded or partial; on error the run is recorded as failed, earlier history is untouched, and the error is raised.  Returns the run id.';

CREATE FUNCTION kpr.collect_all(days integer DEFAULT 7)
RETURNS TABLE (server name, run_id bigint, status text, error text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $collect_all$
#variable_conflict use_column
DECLARE
    target      name;
    this_run    bigint;
    last_before bigint;
BEGIN
    FOR target IN
        SELECT s.srvname
          FROM pg_foreign_server s
          JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
         WHERE w.fdwname = 'kafka_partition_recommender'
           AND has_server_privilege(s.oid, 'USAGE')
           AND EXISTS (SELECT FROM pg_user_mappings m
                        WHERE m.srvid = s.oid
                          AND m.umuser IN (0, (SELECT oid FROM pg_roles WHERE rolname = current_user)))
         ORDER BY s.srvname
    LOOP
        SELECT max(r.run_id) INTO last_before FROM kpr.collection_runs r;
        BEGIN
            this_run := kpr.collect(target, collect_all.days);
            RETURN QUERY SELECT target, r.run_id, r.status, r.error
                           FROM kpr.collection_runs r WHERE r.run_id = this_run;
        EXCEPTION WHEN OTHERS THEN
            -- the failed run, recorded by collect in a transaction of its own;
            -- none when the collect could not start (then the error says why)
            RETURN QUERY
                SELECT target, r.run_id, 'failed'::text, coalesce(r.error, SQLERRM)
                  FROM (SELECT NULL) AS always
                  LEFT JOIN kpr.collection_runs r
                         ON r.server = target AND r.run_id > coalesce(last_before, 0)
                 ORDER BY r.run_id DESC NULLS LAST
                 LIMIT 1;
        END;
    END LOOP;
END
$collect_all$;

COMMENT ON FUNCTION kpr.collect_all(integer) IS
'Collects every kafka_partition_recommender server the caller may use and has a user mapping for, one after the other; a failing server does not stop the others.  One row per server: its run id, status, and error if it failed.';

------------------------------------------------------------------------------
-- pg_dump keeps the rows of these tables (history and settings are user data)
------------------------------------------------------------------------------

SELECT pg_catalog.pg_extension_config_dump('kpr.collection_runs', '');
SELECT pg_catalog.pg_extension_config_dump('kpr.collection_runs_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('kpr.topic_inventory', '');
SELECT pg_catalog.pg_extension_config_dump('kpr.consumption_daily', '');
SELECT pg_catalog.pg_extension_config_dump('kpr.settings', '');

------------------------------------------------------------------------------
-- Privileges: none for PUBLIC
------------------------------------------------------------------------------

REVOKE ALL ON SCHEMA kpr FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA kpr FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA kpr FROM PUBLIC;

-- The one exception: views call this formatter with the reader's privileges,
-- and it reveals nothing.
GRANT EXECUTE ON FUNCTION kpr.format_bytes_per_sec(double precision) TO PUBLIC;
