/* kafka_partition_recommender 0.1.4 -> 0.1.5 */
\echo Use "ALTER EXTENSION kafka_partition_recommender UPDATE TO '0.1.5'" to load this file. \quit

-- 0.1.5: traffic below the topic (issue 16, first part: the sampling
-- source).  sample_topics returns each topic-day's records and bytes per
-- partition; collect keeps them in kpr.partition_daily for
-- kpr.partition_detail_days (90) and writes the day's busiest partition,
-- its share and the skew (busiest / mean) into kpr.consumption_daily; the
-- view kpr.partition_traffic shows each partition's share; the model flags
-- hot partitions.
-- Existing history is kept; its rows get NULLs.

CREATE TABLE kpr.partition_daily (
    server          text NOT NULL,
    topic           text NOT NULL,
    day             date NOT NULL,
    partition       integer NOT NULL CHECK (partition >= 0),
    records_in      bigint CHECK (records_in >= 0),
    bytes_in        bigint CHECK (bytes_in >= 0),
    source          text NOT NULL
                    CHECK (source IN ('confluent', 'prometheus', 'sampling', 'manual')),
    run_id          bigint REFERENCES kpr.collection_runs ON DELETE SET NULL,
    collected_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (server, topic, day, partition),
    FOREIGN KEY (server, topic) REFERENCES kpr.topic_inventory ON UPDATE CASCADE
);

CREATE INDEX ON kpr.partition_daily (run_id);
CREATE INDEX ON kpr.partition_daily (server, day);

COMMENT ON TABLE kpr.partition_daily IS 'Traffic of each partition per UTC day, kept kpr.partition_detail_days days (collect prunes older rows; kpr.consumption_daily keeps the topic''s for ever).';
COMMENT ON COLUMN kpr.partition_daily.server IS 'Foreign server name of the cluster.';
COMMENT ON COLUMN kpr.partition_daily.topic IS 'Kafka topic name.';
COMMENT ON COLUMN kpr.partition_daily.day IS 'UTC calendar day the figures cover.';
COMMENT ON COLUMN kpr.partition_daily.partition IS 'Partition id.';
COMMENT ON COLUMN kpr.partition_daily.records_in IS 'Records produced to the partition that day (sampling: by their timestamps, from offsets).';
COMMENT ON COLUMN kpr.partition_daily.bytes_in IS 'Bytes produced to the partition that day (sampling: estimated from the partition''s own sample, exact where it was read whole); NULL where the source has no bytes.';
COMMENT ON COLUMN kpr.partition_daily.source IS 'Where the figures came from: confluent, prometheus, sampling, or manual.';
COMMENT ON COLUMN kpr.partition_daily.run_id IS 'Run that wrote the row; NULL for manual rows or when the run was pruned.';
COMMENT ON COLUMN kpr.partition_daily.collected_at IS 'When the row was written.';

REVOKE ALL ON kpr.partition_daily FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('kpr.partition_daily', '');

-- Partition detail from a metrics source: Confluent's figures grouped by
-- partition, or Prometheus's log-end offsets.  kpr.collect calls it for a
-- confluent or prometheus server unless its option partition_detail is false.
CREATE FUNCTION kpr.fetch_partition_metrics(
    server name,
    first_day date,
    last_day date,
    topic_filter text DEFAULT NULL,
    include_internal boolean DEFAULT NULL)
RETURNS TABLE (
    topic text,
    day date,
    partition integer,
    records_in bigint,
    bytes_in bigint)
AS 'MODULE_PATHNAME', 'kpr_fetch_partition_metrics'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION kpr.fetch_partition_metrics(name, date, date, text, boolean) IS
'Per topic, UTC day and partition from first_day to last_day (today ends now): records and bytes produced, from the server''s metrics source.  Confluent: received_records and received_bytes grouped by partition, every partition of a topic with traffic that day (0 where none); Prometheus: records from each partition''s log-end offset (the largest replica''s), bytes NULL.  Only topics whose busiest day reached the server option partition_detail_min_records.';
REVOKE ALL ON FUNCTION kpr.fetch_partition_metrics(name, date, date, text, boolean) FROM PUBLIC;

-- The per-partition picture for an investigation (a Grafana heat map: one
-- row per partition and day).  Filters on server, topic and day reach the
-- table: they are the window's partition keys.
CREATE VIEW kpr.partition_traffic AS
SELECT d.server, d.topic, d.day, d.partition, d.records_in, d.bytes_in,
       d.bytes_in::double precision / nullif(sum(d.bytes_in) OVER w, 0) AS bytes_share,
       d.records_in::double precision / nullif(sum(d.records_in) OVER w, 0) AS records_share,
       -- by bytes where the source has them, else by records (Prometheus)
       coalesce(d.bytes_in::double precision / nullif(avg(d.bytes_in) OVER w, 0),
                d.records_in::double precision / nullif(avg(d.records_in) OVER w, 0)) AS skew,
       d.source
FROM kpr.partition_daily d
WINDOW w AS (PARTITION BY d.server, d.topic, d.day);

COMMENT ON VIEW kpr.partition_traffic IS 'Each partition''s traffic per UTC day with its share of the topic''s day and its skew: the per-partition picture (kept kpr.partition_detail_days days).';
COMMENT ON COLUMN kpr.partition_traffic.server IS 'Foreign server name of the cluster.';
COMMENT ON COLUMN kpr.partition_traffic.topic IS 'Kafka topic name.';
COMMENT ON COLUMN kpr.partition_traffic.day IS 'UTC calendar day the figures cover.';
COMMENT ON COLUMN kpr.partition_traffic.partition IS 'Partition id.';
COMMENT ON COLUMN kpr.partition_traffic.records_in IS 'Records produced to the partition that day.';
COMMENT ON COLUMN kpr.partition_traffic.bytes_in IS 'Bytes produced to the partition that day; NULL where the source has no bytes.';
COMMENT ON COLUMN kpr.partition_traffic.source IS 'Where the figures came from.';
COMMENT ON COLUMN kpr.partition_traffic.bytes_share IS 'The partition''s share of the topic''s bytes that day.';
COMMENT ON COLUMN kpr.partition_traffic.records_share IS 'The partition''s share of the topic''s records that day.';
COMMENT ON COLUMN kpr.partition_traffic.skew IS 'The partition''s bytes / the mean over the topic''s partitions that day (1 when even); by records where the source has no bytes per partition (Prometheus).';
REVOKE ALL ON kpr.partition_traffic FROM PUBLIC;

ALTER TABLE kpr.consumption_daily
    ADD COLUMN busiest_partition integer CHECK (busiest_partition >= 0),
    ADD COLUMN busiest_partition_share double precision CHECK (busiest_partition_share BETWEEN 0 AND 1),
    ADD COLUMN partition_skew double precision CHECK (partition_skew >= 1);

COMMENT ON COLUMN kpr.consumption_daily.busiest_partition IS 'The partition that carried the most bytes that day (the lowest id of equals); NULL where the source gave no partition detail or the topic had no traffic.';
COMMENT ON COLUMN kpr.consumption_daily.busiest_partition_share IS 'The busiest partition''s share of the day''s bytes (1 / partitions when even).';
COMMENT ON COLUMN kpr.consumption_daily.partition_skew IS 'The busiest partition''s bytes / the mean over the topic''s partitions: 1 when even; the partition count when one partition carries everything.';

-- Hot partitions in the model (issue 16): a setting, the keyed share of the
-- sample, and the view's new columns and words.
ALTER TABLE kpr.settings
    ADD COLUMN hot_partition_skew double precision CHECK (hot_partition_skew >= 1);
COMMENT ON COLUMN kpr.settings.hot_partition_skew IS 'A topic whose busiest partition carries at least this many times the mean of its partitions is flagged hot (default 2.0, as klag and Conduktor use).';

ALTER TABLE kpr.consumption_daily
    ADD COLUMN keyed_share double precision CHECK (keyed_share BETWEEN 0 AND 1);
COMMENT ON COLUMN kpr.consumption_daily.keyed_share IS 'When sampling: share of the sampled records that carry a key; NULL when no record was read or not stated.';

CREATE OR REPLACE VIEW kpr.effective_settings AS
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
           AS max_partitions_per_broker,
       coalesce(t.hot_partition_skew, s.hot_partition_skew, g.hot_partition_skew, 2.0)
           AS hot_partition_skew
FROM kpr.topic_inventory i
LEFT JOIN kpr.settings t ON t.server = i.server AND t.topic = i.topic
LEFT JOIN kpr.settings s ON s.server = i.server AND s.topic IS NULL
LEFT JOIN kpr.settings g ON g.server IS NULL AND g.topic IS NULL;

COMMENT ON COLUMN kpr.effective_settings.hot_partition_skew IS 'Skew (busiest partition / mean) at or above which a topic is flagged hot.';

-- What to do about a hot partition that alone needs more than a partition's
-- throughput: it depends on whether its traffic is keyed.
CREATE FUNCTION kpr._hot_partition_advice(keyed_share double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN keyed_share >= 0.5
        THEN 'its records carry keys (' || round((100 * keyed_share)::numeric) || '% of those sampled), and adding partitions does not move a key: salt or re-key the hot key, or accept what one consumer can read'
    WHEN keyed_share = 0
        THEN 'its records carry no key, so more partitions do spread them; check that the producer''s partitioner spreads keyless records'
    WHEN keyed_share < 0.5
        THEN 'most of its records carry no key (' || round((100 * (1 - keyed_share))::numeric) || '% of those sampled), so more partitions do spread them; check that the producer''s partitioner spreads keyless records'
    ELSE 'if its traffic is keyed, adding partitions does not relieve it: salt or re-key the hot key, or accept what one consumer can read'
END;
COMMENT ON FUNCTION kpr._hot_partition_advice(double precision) IS 'The words kpr.recommended_partitions uses for a hot partition, from the share of sampled records that carry a key (NULL: not known).';
GRANT EXECUTE ON FUNCTION kpr._hot_partition_advice(double precision) TO PUBLIC;

-- What applying every recommendation of a server would put on its brokers,
-- kept here rather than summed over all the server's topics by the view: a
-- single-topic lookup of kpr.recommended_partitions then reads one row, not
-- every topic's history.  kpr.collect refreshes it at the end of each run, and
-- a change of kpr.settings refreshes it for every server.
CREATE TABLE kpr.server_load (
    server                          text PRIMARY KEY,
    replicas_after_recommendations  bigint NOT NULL CHECK (replicas_after_recommendations >= 0),
    topics                          integer NOT NULL CHECK (topics >= 0),
    computed_at                     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE kpr.server_load IS 'Per server, the partition replicas its brokers would hold if every topic took its recommendation (or kept its count where that is higher): the input of kpr.recommended_partitions'' max_partitions_per_broker warning. Refreshed by kpr.collect and by changes of kpr.settings.';
COMMENT ON COLUMN kpr.server_load.server IS 'Foreign server name of the cluster.';
COMMENT ON COLUMN kpr.server_load.replicas_after_recommendations IS 'Sum over the server''s topics of greatest(current partitions, recommended partitions) x replication factor.';
COMMENT ON COLUMN kpr.server_load.topics IS 'Topics the sum covers.';
COMMENT ON COLUMN kpr.server_load.computed_at IS 'When it was computed (the recommendation''s window is the one of that day).';
REVOKE ALL ON kpr.server_load FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('kpr.server_load', '');

CREATE OR REPLACE VIEW kpr.recommended_partitions AS
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
           t.most_skewed_day[1] AS partition_skew,
           t.most_skewed_day[3]::integer AS busiest_partition,
           t.most_skewed_day[4] AS busiest_partition_share,
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
               max(c.peak_interval_seconds) AS peak_interval_seconds,
               -- the window's most skewed day (the latest of equals): its skew,
               -- busiest partition and share, by one plain max over arrays (no
               -- sort per topic)
               max(ARRAY[c.partition_skew, c.day - date '2000-01-01', c.busiest_partition,
                         c.busiest_partition_share])
                   FILTER (WHERE c.partition_skew IS NOT NULL) AS most_skewed_day,
               avg(c.keyed_share) AS keyed_share
        FROM kpr.consumption_daily c
        WHERE c.server = e.server AND c.topic = e.topic
          AND c.day BETWEEN w.window_first_day AND w.window_last_day
    ) t
    WHERE i.missing_since IS NULL
),
-- Each figure below is computed once per topic.  The planner flattens a plain
-- subquery and copies its expressions into every place that names them (the
-- reason names the rounded count a dozen times, through action and
-- decided_by, and an expression argument keeps kpr.format_bytes_per_sec from
-- being inlined); a lateral subquery with OFFSET 0 stays a subquery, so its
-- columns are values.  bench/view.sh measures the difference.
sized AS (
    SELECT o.*, n.*
    FROM observed o
    CROSS JOIN LATERAL (
        SELECT coalesce(o.peak_in > 0, false) AS has_traffic,
               o.peak_in * o.throughput_factor::numeric AS required,
               ceil(o.peak_in * o.throughput_factor::numeric
                    / o.partition_throughput_bytes_per_sec::numeric)::bigint AS by_throughput,
               o.partition_skew >= o.hot_partition_skew AS hot_partition,
               -- the busiest partition's share of the peak, with the same headroom
               o.peak_in * o.busiest_partition_share::numeric * o.throughput_factor::numeric
                   AS busiest_required,
               o.partition_throughput_bytes_per_sec::numeric AS partition_throughput
        OFFSET 0
    ) n
),
rounded AS (
    SELECT s.*, r.*
    FROM sized s
    CROSS JOIN LATERAL (
        SELECT greatest(s.by_throughput, s.min_partitions) AS at_least_min,
               CASE WHEN s.round_to_broker_multiple AND s.broker_count IS NOT NULL
                    THEN ceil(greatest(s.by_throughput, s.min_partitions)::numeric
                              / s.broker_count)::bigint * s.broker_count
                    ELSE greatest(s.by_throughput, s.min_partitions)
               END AS rounded
        OFFSET 0
    ) r
),
decided AS (
    SELECT r.*, d.*
    FROM rounded r
    CROSS JOIN LATERAL (
        SELECT CASE WHEN NOT r.has_traffic THEN 'no_data'
                    WHEN r.rounded > r.partition_count THEN 'increase'
                    WHEN r.rounded < r.partition_count THEN 'over_provisioned'
                    ELSE 'keep'
               END AS action,
               CASE WHEN NOT r.has_traffic THEN NULL
                    WHEN r.rounded > r.at_least_min THEN 'broker_multiple'
                    WHEN r.at_least_min > r.by_throughput THEN 'min_partitions'
                    ELSE 'throughput'
               END AS decided_by,
               r.hot_partition AND r.busiest_required > r.partition_throughput
                   AS busiest_needs_more
        OFFSET 0
    ) d
),
capped AS (
    -- partition replicas per broker if every topic of the server took its
    -- recommendation (or kept its current count where that is higher), as
    -- kpr.server_load last computed it: one row, whatever the topic count
    SELECT d.*,
           l.replicas_after_recommendations::numeric / d.broker_count AS replicas_per_broker_after
    FROM decided d
    LEFT JOIN kpr.server_load l ON l.server = d.server
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
           || CASE WHEN c.hot_partition
                   THEN format('; partition %s carries %s%% of the bytes, %s times the mean (hot: skew at or above %s)',
                               c.busiest_partition, round((100 * c.busiest_partition_share)::numeric, 1),
                               round(c.partition_skew::numeric, 2), c.hot_partition_skew)
                        || CASE WHEN c.busiest_needs_more
                                THEN format(', and alone needs %s, more than one partition''s %s: %s',
                                            kpr.format_bytes_per_sec(c.busiest_required),
                                            kpr.format_bytes_per_sec(c.partition_throughput_bytes_per_sec),
                                            kpr._hot_partition_advice(c.keyed_share))
                                ELSE '' END
                   ELSE '' END
           || CASE c.action
              WHEN 'increase' THEN format('; %s more than the current %s', c.rounded - c.partition_count, c.partition_count)
              WHEN 'over_provisioned' THEN format('; the current %s are more than needed (partitions cannot be removed)', c.partition_count)
              ELSE format('; the current %s fit', c.partition_count)
              END
       END AS reason,
       nullif(concat_ws('; ',
           CASE WHEN c.action = 'increase'
                     AND c.replicas_per_broker_after > c.max_partitions_per_broker
                THEN format('applying every recommendation on server %s puts %s partition replicas on each of %s brokers, above max_partitions_per_broker %s',
                            c.server, ceil(c.replicas_per_broker_after), c.broker_count,
                            c.max_partitions_per_broker)
           END,
           CASE WHEN c.has_traffic AND c.busiest_needs_more
                THEN format('hot partition %s needs %s alone, more than one partition''s %s: %s',
                            c.busiest_partition, kpr.format_bytes_per_sec(c.busiest_required),
                            kpr.format_bytes_per_sec(c.partition_throughput_bytes_per_sec),
                            kpr._hot_partition_advice(c.keyed_share))
           END), '') AS warning,
       c.busiest_partition,
       c.busiest_partition_share,
       c.partition_skew,
       c.hot_partition,
       c.hot_partition_skew,
       c.keyed_share
FROM capped c;

COMMENT ON COLUMN kpr.recommended_partitions.warning IS 'Set on increases when applying every recommendation of the server would put more partition replicas on a broker than max_partitions_per_broker, and when a hot partition alone needs more than one partition''s throughput.';
COMMENT ON COLUMN kpr.recommended_partitions.busiest_partition IS 'The busiest partition of the window''s most skewed day; NULL where no source gave partition detail.';
COMMENT ON COLUMN kpr.recommended_partitions.busiest_partition_share IS 'Its share of that day''s bytes.';
COMMENT ON COLUMN kpr.recommended_partitions.partition_skew IS 'The highest skew (busiest partition / mean) of the window''s days.';
COMMENT ON COLUMN kpr.recommended_partitions.hot_partition IS 'partition_skew at or above hot_partition_skew; NULL where no source gave partition detail.';
COMMENT ON COLUMN kpr.recommended_partitions.hot_partition_skew IS 'The skew at or above which a topic is flagged hot, in force.';
COMMENT ON COLUMN kpr.recommended_partitions.keyed_share IS 'Average over the window''s days of the share of sampled records that carry a key; NULL when not known (metrics sources).';

-- Refresh kpr.server_load for one server (NULL: every server).  It runs
-- with the caller's rights, as every function of the extension: a role that
-- may not write kpr.server_load (or read kpr.recommended_partitions) gets a
-- warning saying what to grant, and its collect or settings change goes on.
CREATE FUNCTION kpr._refresh_server_load(server text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $refresh$
BEGIN
    DELETE FROM kpr.server_load l
     WHERE _refresh_server_load.server IS NULL OR l.server = _refresh_server_load.server;
    INSERT INTO kpr.server_load (server, replicas_after_recommendations, topics, computed_at)
    SELECT r.server,
           sum(greatest(r.current_partitions, coalesce(r.recommended_partitions, 0))
               * coalesce(r.replication_factor, 1)),
           count(*), now()
      FROM kpr.recommended_partitions r
     WHERE _refresh_server_load.server IS NULL OR r.server = _refresh_server_load.server
     GROUP BY r.server;
    RETURN true;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'kpr.server_load was not refreshed: %', SQLERRM
        USING DETAIL = 'The max_partitions_per_broker warning of kpr.recommended_partitions keeps the figures of the last refresh.',
              HINT = format('GRANT SELECT, INSERT, DELETE ON kpr.server_load TO %I; GRANT SELECT ON kpr.recommended_partitions TO %I;',
                            current_user, current_user);
    RETURN false;
END
$refresh$;
COMMENT ON FUNCTION kpr._refresh_server_load(text) IS 'Recompute kpr.server_load for a server (NULL: all); kpr.collect calls it at the end of a run, and changes of the settings and of the history by hand through triggers. False (and a warning) when the role may not.';
-- callable by all: it can only write what its caller may write
GRANT EXECUTE ON FUNCTION kpr._refresh_server_load(text) TO PUBLIC;

CREATE FUNCTION kpr._settings_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $changed$
BEGIN
    IF coalesce(current_setting('kpr_internal.collecting', true), '') = '' THEN
        PERFORM kpr._refresh_server_load(NULL);
    END IF;
    RETURN NULL;
END
$changed$;
COMMENT ON FUNCTION kpr._settings_changed() IS 'Trigger of kpr.settings, kpr.consumption_daily and kpr.topic_inventory: the model''s inputs changed, so kpr.server_load is recomputed for every server (outside kpr.collect, which refreshes at its end).';
REVOKE ALL ON FUNCTION kpr._settings_changed() FROM PUBLIC;

CREATE TRIGGER refresh_server_load AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kpr.settings
    FOR EACH STATEMENT EXECUTE FUNCTION kpr._settings_changed();
-- history written by hand ('manual' rows, a deleted topic) counts too; a
-- collect, which writes both tables in several statements, refreshes once
-- at its end instead (it sets kpr_internal.collecting meanwhile)
CREATE TRIGGER refresh_server_load AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kpr.consumption_daily
    FOR EACH STATEMENT EXECUTE FUNCTION kpr._settings_changed();
CREATE TRIGGER refresh_server_load AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kpr.topic_inventory
    FOR EACH STATEMENT EXECUTE FUNCTION kpr._settings_changed();

-- the servers collected before this update
SELECT FROM kpr._refresh_server_load(NULL);

-- The result gains columns, so the function is replaced.
DROP FUNCTION kpr.sample_topics(name, integer, integer, text, boolean);

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
    peak_interval_seconds integer,
    bytes_in_stderr double precision,
    peak_bytes_in_per_sec_stderr double precision,
    stratified_by text,
    records_in_low bigint,
    records_in_high bigint,
    records_exact boolean,
    timestamp_type text,
    sampled_out_of_day bigint,
    sampled_backwards bigint,
    partition_records bigint[],
    partition_bytes bigint[],
    keyed_share double precision)
AS 'MODULE_PATHNAME', 'kpr_sample_topics'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION kpr.sample_topics(name, integer, integer, text, boolean) IS
'Per topic and UTC day of the last complete days: records produced, counted by their timestamps (from offsets, exact while timestamps are in order; where the sample finds records out of their day, estimated within records_in_low .. records_in_high, records_exact false), bytes and average record size (key + value + headers), exact for partitions read whole (kpr.sample_seek_cost) and otherwise estimated from a sample of at most max_records_per_partition records per partition, stratified by hour where the broker answers offsets by time (stratified_by hour, else day), the busiest hour''s rate by its own bytes (hour strata only), the standard errors of bytes_in and of the peak, the topic''s timestamp type, the sampled records found outside their day or older than the record before them,, per partition (element k + 1 for partition k) its records and bytes, and the share of sampled records that carry a key.';

REVOKE ALL ON FUNCTION kpr.sample_topics(name, integer, integer, text, boolean) FROM PUBLIC;

-- collect keeps the partitions' figures and the day's skew.
CREATE OR REPLACE FUNCTION kpr.collect(server name, days integer DEFAULT 7)
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
    -- the server options partition_detail and partition_detail_min_records
    partition_detail boolean;
    detail_floor    bigint;
    window_first    date;
    window_last     date := (clock_timestamp() AT TIME ZONE 'UTC')::date - 1;
    this_run        bigint;
    cluster         record;
    listed          jsonb;
    written         bigint := 0;
    collected       text[];
    failed          jsonb;
    run_notes       jsonb;
    -- kpr.partition_detail_days: the module's setting, read as text so that
    -- collect works before the module is loaded
    detail_days     integer := coalesce(nullif(current_setting('kpr.partition_detail_days', true), '')::integer, 90);
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
             WHERE o.option_name = 'cluster_id'),
           coalesce((SELECT o.option_value::boolean FROM pg_options_to_table(s.srvoptions) o
                     WHERE o.option_name = 'partition_detail'), true),
           coalesce((SELECT o.option_value::bigint FROM pg_options_to_table(s.srvoptions) o
                     WHERE o.option_name = 'partition_detail_min_records'), 0)
      INTO source, configured_id, partition_detail, detail_floor
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
    -- the history triggers leave kpr.server_load to the end of the run
    PERFORM set_config('kpr_internal.collecting', collect.server, true);

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
        -- the upsert has just stamped every listed topic with this run: no
        -- join with the list (planned on a young table's statistics, that
        -- join was a nested loop: 8 s at 10,000 topics)
        UPDATE kpr.topic_inventory i
           SET missing_since = now(), last_run_id = this_run
         WHERE i.server = collect.server AND i.missing_since IS NULL
           AND i.last_run_id IS DISTINCT FROM this_run;

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
                       bytes_in_stderr = NULL, peak_bytes_in_per_sec_stderr = NULL,
                       records_in_low = NULL, records_in_high = NULL,
                       out_of_day_share = NULL, backward_share = NULL,
                       busiest_partition = NULL, busiest_partition_share = NULL,
                       partition_skew = NULL, keyed_share = NULL,
                       source = excluded.source, run_id = excluded.run_id,
                       collected_at = excluded.collected_at
                RETURNING c.topic)
            SELECT count(*), array_agg(DISTINCT u.topic) INTO written, collected FROM upserted u;

            -- the partitions of the days kept in detail, and from them each
            -- topic-day's busiest partition (by bytes; by records where the
            -- source has no bytes per partition)
            IF partition_detail AND detail_days > 0 AND window_last >= greatest(window_first, today - detail_days) THEN
                WITH detail AS (
                    INSERT INTO kpr.partition_daily AS d
                           (server, topic, day, partition, records_in, bytes_in, source, run_id, collected_at)
                    SELECT collect.server, p.topic, p.day, p.partition, p.records_in, p.bytes_in,
                           source, this_run, now()
                      FROM kpr.fetch_partition_metrics(collect.server, greatest(window_first, today - detail_days),
                                                       window_last) p
                      JOIN kpr.topic_inventory i ON i.server = collect.server AND i.topic = p.topic
                    ON CONFLICT (server, topic, day, partition) DO UPDATE
                       SET records_in = excluded.records_in, bytes_in = excluded.bytes_in,
                           source = excluded.source, run_id = excluded.run_id,
                           collected_at = excluded.collected_at
                    RETURNING d.topic, d.day, d.partition,
                              coalesce(d.bytes_in, d.records_in)::double precision AS traffic),
                busiest AS (
                    SELECT DISTINCT ON (x.topic, x.day) x.topic, x.day, x.partition,
                           -- bounded: float rounding must not break the columns' checks
                           CASE WHEN sum(x.traffic) OVER w > 0
                                THEN least(1, x.traffic / sum(x.traffic) OVER w) END AS share,
                           CASE WHEN sum(x.traffic) OVER w > 0
                                THEN greatest(1, x.traffic / avg(x.traffic) OVER w) END AS skew
                      FROM detail x
                    WINDOW w AS (PARTITION BY x.topic, x.day)
                     ORDER BY x.topic, x.day, x.traffic DESC, x.partition)
                UPDATE kpr.consumption_daily c
                   SET busiest_partition = b.partition, busiest_partition_share = b.share,
                       partition_skew = b.skew
                  FROM busiest b
                 WHERE c.server = collect.server AND c.topic = b.topic AND c.day = b.day
                   AND b.skew IS NOT NULL;
            END IF;
        ELSIF source = 'sampling' THEN
            WITH sampled AS MATERIALIZED (
                SELECT s.*, b.busiest_partition, b.busiest_partition_share, b.partition_skew
                  FROM kpr.sample_topics(collect.server, window_last - window_first + 1) s
                  -- the busiest partition by bytes (the lowest id of equals), its
                  -- share of the day's bytes, and busiest / mean
                  LEFT JOIN LATERAL (
                      SELECT (p.k - 1)::integer AS busiest_partition,
                             -- bounded: float rounding must not break the columns' checks
                             CASE WHEN sum(p.bytes) OVER () > 0
                                  THEN least(1, p.bytes / sum(p.bytes) OVER ()) END AS busiest_partition_share,
                             CASE WHEN sum(p.bytes) OVER () > 0
                                  THEN greatest(1, p.bytes / avg(p.bytes) OVER ()) END AS partition_skew
                        FROM unnest(s.partition_bytes::double precision[]) WITH ORDINALITY AS p(bytes, k)
                       ORDER BY p.bytes DESC, p.k
                       LIMIT 1) b ON b.partition_skew IS NOT NULL
            ),
            partitions AS (
                INSERT INTO kpr.partition_daily AS d
                       (server, topic, day, partition, records_in, bytes_in, source, run_id, collected_at)
                SELECT collect.server, s.topic, s.day, (p.k - 1)::integer, p.records, s.partition_bytes[p.k],
                       'sampling', this_run, now()
                  FROM sampled s
                 CROSS JOIN LATERAL unnest(s.partition_records) WITH ORDINALITY AS p(records, k)
                 WHERE partition_detail AND detail_days > 0 AND s.day > today - 1 - detail_days
                   -- the server's floor: topics whose busiest day reached it
                   AND (detail_floor = 0 OR s.topic IN (SELECT b.topic FROM sampled b GROUP BY b.topic
                                                          HAVING max(b.records_in) >= detail_floor))
                ON CONFLICT (server, topic, day, partition) DO UPDATE
                   SET records_in = excluded.records_in, bytes_in = excluded.bytes_in,
                       source = excluded.source, run_id = excluded.run_id,
                       collected_at = excluded.collected_at
                RETURNING 1),
            upserted AS (
                INSERT INTO kpr.consumption_daily AS c
                       (server, topic, day, bytes_in, records_in, bytes_out, records_out,
                        peak_bytes_in_per_sec, peak_bytes_out_per_sec, peak_interval_seconds,
                        avg_record_bytes, bytes_in_stderr, peak_bytes_in_per_sec_stderr,
                        records_in_low, records_in_high, out_of_day_share, backward_share,
                        busiest_partition, busiest_partition_share, partition_skew, keyed_share,
                        source, run_id, collected_at)
                SELECT collect.server, s.topic, s.day, s.bytes_in, s.records_in, NULL, NULL,
                       s.peak_bytes_in_per_sec, NULL, s.peak_interval_seconds,
                       s.avg_record_bytes, s.bytes_in_stderr, s.peak_bytes_in_per_sec_stderr,
                       s.records_in_low, s.records_in_high,
                       s.sampled_out_of_day::double precision / nullif(s.sampled_records, 0),
                       s.sampled_backwards::double precision / nullif(s.sampled_records, 0),
                       s.busiest_partition, s.busiest_partition_share, s.partition_skew, s.keyed_share,
                       'sampling', this_run, now()
                  FROM sampled s
                ON CONFLICT (server, topic, day) DO UPDATE
                   SET bytes_in = excluded.bytes_in, records_in = excluded.records_in,
                       bytes_out = NULL, records_out = NULL,
                       peak_bytes_in_per_sec = excluded.peak_bytes_in_per_sec,
                       peak_bytes_out_per_sec = NULL,
                       peak_interval_seconds = excluded.peak_interval_seconds,
                       avg_record_bytes = excluded.avg_record_bytes,
                       bytes_in_stderr = excluded.bytes_in_stderr,
                       peak_bytes_in_per_sec_stderr = excluded.peak_bytes_in_per_sec_stderr,
                       records_in_low = excluded.records_in_low,
                       records_in_high = excluded.records_in_high,
                       out_of_day_share = excluded.out_of_day_share,
                       backward_share = excluded.backward_share,
                       busiest_partition = excluded.busiest_partition,
                       busiest_partition_share = excluded.busiest_partition_share,
                       partition_skew = excluded.partition_skew,
                       keyed_share = excluded.keyed_share,
                       source = excluded.source, run_id = excluded.run_id,
                       collected_at = excluded.collected_at
                RETURNING c.topic, c.out_of_day_share, c.backward_share)
            SELECT count(*), array_agg(DISTINCT u.topic),
                   -- the topics whose timestamps are out of order (sample_topics said so too)
                   (SELECT jsonb_agg(jsonb_build_object(
                               'topic', f.topic,
                               'note', format('record timestamps out of order on %s day(s), up to %s%% of the sampled records: records_in counts the records by their timestamps, within records_in_low and records_in_high',
                                              f.days, round((100 * f.share)::numeric, 1)))
                           ORDER BY f.topic)
                      FROM (SELECT v.topic, count(*) AS days,
                                   max(greatest(v.out_of_day_share, v.backward_share)) AS share
                              FROM upserted v
                             WHERE greatest(v.out_of_day_share, v.backward_share) >
                                   coalesce(nullif(current_setting('kpr.out_of_order_threshold', true), '')::double precision, 0.001)
                             GROUP BY v.topic) f)
              INTO written, collected, run_notes FROM upserted u;
        END IF;

        -- partition detail is kept kpr.partition_detail_days; topic history for ever
        DELETE FROM kpr.partition_daily d
         WHERE d.server = collect.server AND d.day <= today - 1 - detail_days;

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
              -- the listed topics not collected, by grouping both lists: no
              -- join the planner could make a nested loop
              FROM (SELECT t.topic
                      FROM (SELECT l.topic, true AS listed
                              FROM jsonb_to_recordset(listed) AS l(topic text)
                            UNION ALL
                            SELECT c, false FROM unnest(collected) AS c) AS t
                     GROUP BY t.topic
                    HAVING bool_and(t.listed)) AS l;
        END IF;

        -- the broker count of this run counts from now on: record it first
        UPDATE kpr.collection_runs r
           SET broker_count = cluster.broker_count
         WHERE r.run_id = this_run;
        PERFORM set_config('kpr_internal.collecting', '', true);
        PERFORM kpr._refresh_server_load(collect.server);

        UPDATE kpr.collection_runs r
           SET status = CASE WHEN failed IS NULL THEN 'succeeded' ELSE 'partial' END,
               finished_at = greatest(clock_timestamp(), r.started_at),
               cluster_id = coalesce(configured_id, cluster.cluster_id),
               broker_count = cluster.broker_count,
               topics_seen = jsonb_array_length(listed),
               rows_written = written,
               failed_topics = failed,
               notes = run_notes
         WHERE r.run_id = this_run;
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
        PERFORM set_config('kpr_internal.collecting', '', true);
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
