/* kafka_partition_recommender 0.1.5 -> 0.1.6 */
\echo Use "ALTER EXTENSION kafka_partition_recommender UPDATE TO '0.1.6'" to load this file. \quit

-- 0.1.6: consumer groups (issue 17, first part): each group's state,
-- members, assignment, committed offsets and lag per topic, read from the
-- cluster through librdkafka's admin API in a background worker.

CREATE FUNCTION kpr.list_consumer_groups(
    server name,
    group_filter text DEFAULT NULL)
RETURNS TABLE (
    group_id text,
    topic text,
    state text,
    is_simple boolean,
    members integer,
    members_on_topic integer,
    topic_partitions integer,
    partitions_assigned integer,
    partitions_committed integer,
    committed_offsets bigint,
    log_end_offsets bigint,
    lag bigint,
    max_lag_partition integer,
    max_lag bigint,
    note text)
AS 'MODULE_PATHNAME', 'kpr_list_consumer_groups'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION kpr.list_consumer_groups(name, text) IS
'Consumer groups of a server''s Kafka cluster, one row per group and topic it is assigned or has committed offsets for (one row with topic NULL for a group with neither): state, members, partitions assigned and committed, committed and log-end offsets summed over the committed partitions the cluster has, lag, and the partition with the most lag. group_filter: comma-separated globs over group ids.';

REVOKE ALL ON FUNCTION kpr.list_consumer_groups(name, text) FROM PUBLIC;

-- Sampling the groups into history (issue 17, second part).  A sample is
-- what kpr.list_consumer_groups says at one moment; pg_cron takes one a
-- minute.  Raw samples are kept kpr.consumer_group_sample_days days (14);
-- each sample also adds the interval since the group's previous sample to
-- its day in kpr.consumer_group_daily, which is kept for ever.
CREATE TABLE kpr.consumer_group_samples (
    server                text NOT NULL,
    group_id              text NOT NULL,
    topic                 text NOT NULL,
    sampled_at            timestamptz NOT NULL,
    state                 text NOT NULL,
    members               integer CHECK (members >= 0),
    members_on_topic      integer CHECK (members_on_topic >= 0),
    topic_partitions      integer CHECK (topic_partitions >= 0),
    partitions_assigned   integer CHECK (partitions_assigned >= 0),
    partitions_committed  integer NOT NULL CHECK (partitions_committed >= 0),
    committed_offsets     bigint,
    log_end_offsets       bigint,
    lag                   bigint CHECK (lag >= 0),
    PRIMARY KEY (server, group_id, topic, sampled_at)
);
CREATE INDEX ON kpr.consumer_group_samples (server, sampled_at);

COMMENT ON TABLE kpr.consumer_group_samples IS 'What kpr.list_consumer_groups said at each kpr.collect_consumer_groups, per group and topic; kept kpr.consumer_group_sample_days days (each sample prunes its server''s older ones).';
COMMENT ON COLUMN kpr.consumer_group_samples.server IS 'Foreign server name of the cluster.';
COMMENT ON COLUMN kpr.consumer_group_samples.group_id IS 'Consumer group id.';
COMMENT ON COLUMN kpr.consumer_group_samples.topic IS 'Topic the group is assigned or has committed offsets for.';
COMMENT ON COLUMN kpr.consumer_group_samples.sampled_at IS 'When the cluster answered (the end of the listing).';
COMMENT ON COLUMN kpr.consumer_group_samples.state IS 'Group state: stable, empty, preparing_rebalance, completing_rebalance, dead or unknown.';
COMMENT ON COLUMN kpr.consumer_group_samples.members IS 'Members of the group; NULL where not known (a group of the new consumer protocol, KIP-848).';
COMMENT ON COLUMN kpr.consumer_group_samples.members_on_topic IS 'Members assigned a partition of the topic; NULL where not known.';
COMMENT ON COLUMN kpr.consumer_group_samples.topic_partitions IS 'Partitions of the topic; NULL when the cluster has no such topic.';
COMMENT ON COLUMN kpr.consumer_group_samples.partitions_assigned IS 'Partitions of the topic held by a member; NULL where not known.';
COMMENT ON COLUMN kpr.consumer_group_samples.partitions_committed IS 'Partitions of the topic with a committed offset.';
COMMENT ON COLUMN kpr.consumer_group_samples.committed_offsets IS 'Committed offsets summed over the committed partitions the cluster has.';
COMMENT ON COLUMN kpr.consumer_group_samples.log_end_offsets IS 'Log-end offsets of the same partitions, summed.';
COMMENT ON COLUMN kpr.consumer_group_samples.lag IS 'Records behind: log end - committed, summed (never below 0 per partition).';
REVOKE ALL ON kpr.consumer_group_samples FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('kpr.consumer_group_samples', '');

CREATE TABLE kpr.consumer_group_daily (
    server                     text NOT NULL,
    group_id                   text NOT NULL,
    topic                      text NOT NULL,
    day                        date NOT NULL,
    samples                    integer NOT NULL CHECK (samples > 0),
    records_consumed           bigint NOT NULL DEFAULT 0 CHECK (records_consumed >= 0),
    seconds_measured           double precision NOT NULL DEFAULT 0 CHECK (seconds_measured >= 0),
    max_lag                    bigint CHECK (max_lag >= 0),
    last_lag                   bigint CHECK (last_lag >= 0),
    last_sampled_at            timestamptz NOT NULL,
    max_members                integer CHECK (max_members >= 0),
    max_members_on_topic       integer CHECK (max_members_on_topic >= 0),
    topic_partitions           integer CHECK (topic_partitions >= 0),
    seconds_backlogged         double precision NOT NULL DEFAULT 0 CHECK (seconds_backlogged >= 0),
    records_backlogged         bigint NOT NULL DEFAULT 0 CHECK (records_backlogged >= 0),
    peak_backlogged_records_per_sec double precision CHECK (peak_backlogged_records_per_sec >= 0),
    PRIMARY KEY (server, group_id, topic, day)
);
CREATE INDEX ON kpr.consumer_group_daily (server, topic, day);

COMMENT ON TABLE kpr.consumer_group_daily IS 'Per consumer group, topic and UTC day, what its samples add up to: records consumed, lag, members, and how fast it read while backlogged (its measured capacity). Kept for ever; kpr.consumer_group_days adds rates and bytes.';
COMMENT ON COLUMN kpr.consumer_group_daily.server IS 'Foreign server name of the cluster.';
COMMENT ON COLUMN kpr.consumer_group_daily.group_id IS 'Consumer group id.';
COMMENT ON COLUMN kpr.consumer_group_daily.topic IS 'Topic it reads.';
COMMENT ON COLUMN kpr.consumer_group_daily.day IS 'UTC day of the samples (an interval between two samples counts in the day of its later sample).';
COMMENT ON COLUMN kpr.consumer_group_daily.samples IS 'Samples taken that day.';
COMMENT ON COLUMN kpr.consumer_group_daily.records_consumed IS 'Records the group committed past over the day''s measured intervals.';
COMMENT ON COLUMN kpr.consumer_group_daily.seconds_measured IS 'Length of the measured intervals: two samples at most an hour apart, with the same committed partitions and committed offsets that did not go back.';
COMMENT ON COLUMN kpr.consumer_group_daily.max_lag IS 'Highest lag sampled that day.';
COMMENT ON COLUMN kpr.consumer_group_daily.last_lag IS 'Lag of the day''s last sample (the end-of-day lag, once the day is over).';
COMMENT ON COLUMN kpr.consumer_group_daily.last_sampled_at IS 'When the day''s last sample was taken.';
COMMENT ON COLUMN kpr.consumer_group_daily.max_members IS 'Most members sampled that day; NULL where never known (a group of the new consumer protocol, KIP-848).';
COMMENT ON COLUMN kpr.consumer_group_daily.max_members_on_topic IS 'Most members assigned a partition of the topic; NULL where never known.';
COMMENT ON COLUMN kpr.consumer_group_daily.topic_partitions IS 'Partitions of the topic at the day''s last sample.';
COMMENT ON COLUMN kpr.consumer_group_daily.seconds_backlogged IS 'Length of the measured intervals in which the group was backlogged: at the interval''s start it was behind by at least as many records as it then read, and still behind at its end, so it never ran out of records to read.';
COMMENT ON COLUMN kpr.consumer_group_daily.records_backlogged IS 'Records it read in those intervals.';
COMMENT ON COLUMN kpr.consumer_group_daily.peak_backlogged_records_per_sec IS 'The fastest of those intervals, in records per second.';
REVOKE ALL ON kpr.consumer_group_daily FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('kpr.consumer_group_daily', '');

-- The daily rows with their rates, and bytes through the topic's average
-- record size (kpr.consumption_daily: that day, or the latest day before it
-- with records, within 7 days).
CREATE VIEW kpr.consumer_group_days AS
SELECT d.server, d.group_id, d.topic, d.day, d.samples,
       d.records_consumed,
       d.records_consumed / nullif(d.seconds_measured, 0) AS records_per_sec,
       d.max_lag, d.last_lag, d.max_members, d.max_members_on_topic, d.topic_partitions,
       d.seconds_backlogged / 60 AS minutes_backlogged,
       d.records_backlogged,
       d.records_backlogged / nullif(d.seconds_backlogged, 0) AS backlogged_records_per_sec,
       d.peak_backlogged_records_per_sec,
       r.avg_record_bytes,
       d.records_backlogged / nullif(d.seconds_backlogged, 0) * r.avg_record_bytes
           AS backlogged_bytes_per_sec
FROM kpr.consumer_group_daily d
LEFT JOIN LATERAL (
    SELECT c.bytes_in::double precision / c.records_in AS avg_record_bytes
    FROM kpr.consumption_daily c
    WHERE c.server = d.server AND c.topic = d.topic
      AND c.day BETWEEN d.day - 7 AND d.day
      AND c.records_in > 0 AND c.bytes_in IS NOT NULL
    ORDER BY c.day DESC
    LIMIT 1
) r ON true;

COMMENT ON VIEW kpr.consumer_group_days IS 'kpr.consumer_group_daily with rates: records per second read over the measured intervals, and while backlogged (the group''s measured capacity), in records and, through the topic''s average record size, in bytes.';
COMMENT ON COLUMN kpr.consumer_group_days.server IS 'Foreign server name of the cluster.';
COMMENT ON COLUMN kpr.consumer_group_days.group_id IS 'Consumer group id.';
COMMENT ON COLUMN kpr.consumer_group_days.topic IS 'Topic it reads.';
COMMENT ON COLUMN kpr.consumer_group_days.day IS 'UTC day of the samples.';
COMMENT ON COLUMN kpr.consumer_group_days.samples IS 'Samples taken that day.';
COMMENT ON COLUMN kpr.consumer_group_days.records_consumed IS 'Records the group committed past over the day''s measured intervals.';
COMMENT ON COLUMN kpr.consumer_group_days.max_lag IS 'Highest lag sampled that day.';
COMMENT ON COLUMN kpr.consumer_group_days.last_lag IS 'Lag of the day''s last sample.';
COMMENT ON COLUMN kpr.consumer_group_days.max_members IS 'Most members sampled that day.';
COMMENT ON COLUMN kpr.consumer_group_days.max_members_on_topic IS 'Most members assigned a partition of the topic.';
COMMENT ON COLUMN kpr.consumer_group_days.topic_partitions IS 'Partitions of the topic at the day''s last sample.';
COMMENT ON COLUMN kpr.consumer_group_days.records_backlogged IS 'Records read while backlogged.';
COMMENT ON COLUMN kpr.consumer_group_days.peak_backlogged_records_per_sec IS 'The fastest backlogged interval, in records per second.';
COMMENT ON COLUMN kpr.consumer_group_days.records_per_sec IS 'Records consumed / seconds measured: how fast it read on average.';
COMMENT ON COLUMN kpr.consumer_group_days.minutes_backlogged IS 'Minutes in which the group never ran out of records to read.';
COMMENT ON COLUMN kpr.consumer_group_days.backlogged_records_per_sec IS 'Records read while backlogged / seconds backlogged: the rate the group can sustain.';
COMMENT ON COLUMN kpr.consumer_group_days.avg_record_bytes IS 'The topic''s average record size, from kpr.consumption_daily (that day or the latest of the 7 before with records).';
COMMENT ON COLUMN kpr.consumer_group_days.backlogged_bytes_per_sec IS 'backlogged_records_per_sec x avg_record_bytes.';
REVOKE ALL ON kpr.consumer_group_days FROM PUBLIC;

-- One sample of a server's groups: rows into kpr.consumer_group_samples,
-- the interval since each group's previous sample into its day of
-- kpr.consumer_group_daily, older samples pruned.  Cheap enough to run every
-- minute: the work is in proportion to the groups, not to the history.
CREATE FUNCTION kpr.collect_consumer_groups(server name)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $sample$
DECLARE
    -- the module's setting, read as text so that this works before the
    -- module is loaded
    keep_days   integer := coalesce(nullif(current_setting('kpr.consumer_group_sample_days', true), '')::integer, 14);
    sampled     integer;
BEGIN
    IF collect_consumer_groups.server IS NULL THEN
        RAISE EXCEPTION 'server name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;

    -- Every statement reads the table as it was before this one: "previous"
    -- is each group's latest sample before this one.
    WITH listed AS MATERIALIZED (
        SELECT l.*, (SELECT clock_timestamp()) AS sampled_at
        FROM kpr.list_consumer_groups(collect_consumer_groups.server) l
        WHERE l.topic IS NOT NULL
    ),
    stored AS (
        INSERT INTO kpr.consumer_group_samples
            (server, group_id, topic, sampled_at, state, members, members_on_topic,
             topic_partitions, partitions_assigned, partitions_committed,
             committed_offsets, log_end_offsets, lag)
        SELECT collect_consumer_groups.server, group_id, topic, sampled_at, state, members,
               members_on_topic, topic_partitions, partitions_assigned, partitions_committed,
               committed_offsets, log_end_offsets, lag
        FROM listed
    ),
    intervals AS (
        SELECT l.*, (l.sampled_at AT TIME ZONE 'UTC')::date AS day,
               -- measured: two samples an hour apart at most, of the same
               -- committed partitions, the offsets not gone back
               p.sampled_at IS NOT NULL
                   AND l.sampled_at - p.sampled_at <= interval '1 hour'
                   AND l.partitions_committed = p.partitions_committed
                   AND l.topic_partitions IS NOT DISTINCT FROM p.topic_partitions
                   AND l.committed_offsets >= p.committed_offsets AS measured,
               extract(epoch FROM l.sampled_at - p.sampled_at)::double precision AS seconds,
               l.committed_offsets - p.committed_offsets AS consumed,
               p.lag AS previous_lag
        FROM listed l
        LEFT JOIN LATERAL (
            SELECT s.sampled_at, s.partitions_committed, s.topic_partitions,
                   s.committed_offsets, s.lag
            FROM kpr.consumer_group_samples s
            WHERE s.server = collect_consumer_groups.server
              AND s.group_id = l.group_id AND s.topic = l.topic
            ORDER BY s.sampled_at DESC
            LIMIT 1
        ) p ON true
    ),
    added AS (
        SELECT i.*, coalesce(i.measured, false) AS counted,
               -- backlogged: behind at the start by at least what it then
               -- read, and still behind at the end: it never ran dry
               coalesce(i.measured AND i.consumed > 0 AND i.previous_lag >= i.consumed
                        AND i.lag > 0, false) AS backlogged
        FROM intervals i
    )
    INSERT INTO kpr.consumer_group_daily AS d
        (server, group_id, topic, day, samples, records_consumed, seconds_measured,
         max_lag, last_lag, last_sampled_at, max_members, max_members_on_topic,
         topic_partitions, seconds_backlogged, records_backlogged,
         peak_backlogged_records_per_sec)
    SELECT collect_consumer_groups.server, a.group_id, a.topic, a.day, 1,
           CASE WHEN a.counted THEN a.consumed ELSE 0 END,
           CASE WHEN a.counted THEN a.seconds ELSE 0 END,
           a.lag, a.lag, a.sampled_at, a.members, a.members_on_topic, a.topic_partitions,
           CASE WHEN a.backlogged THEN a.seconds ELSE 0 END,
           CASE WHEN a.backlogged THEN a.consumed ELSE 0 END,
           CASE WHEN a.backlogged THEN a.consumed / nullif(a.seconds, 0) END
    FROM added a
    ON CONFLICT ON CONSTRAINT consumer_group_daily_pkey DO UPDATE SET
        samples = d.samples + 1,
        records_consumed = d.records_consumed + excluded.records_consumed,
        seconds_measured = d.seconds_measured + excluded.seconds_measured,
        max_lag = greatest(d.max_lag, excluded.max_lag),
        last_lag = excluded.last_lag,
        last_sampled_at = excluded.last_sampled_at,
        max_members = greatest(d.max_members, excluded.max_members),
        max_members_on_topic = greatest(d.max_members_on_topic, excluded.max_members_on_topic),
        topic_partitions = excluded.topic_partitions,
        seconds_backlogged = d.seconds_backlogged + excluded.seconds_backlogged,
        records_backlogged = d.records_backlogged + excluded.records_backlogged,
        peak_backlogged_records_per_sec = greatest(d.peak_backlogged_records_per_sec,
                                                   excluded.peak_backlogged_records_per_sec);
    GET DIAGNOSTICS sampled = ROW_COUNT;

    DELETE FROM kpr.consumer_group_samples s
     WHERE s.server = collect_consumer_groups.server
       AND s.sampled_at < clock_timestamp() - make_interval(days => keep_days);
    RETURN sampled;
END
$sample$;

COMMENT ON FUNCTION kpr.collect_consumer_groups(name) IS 'One sample of a server''s consumer groups into kpr.consumer_group_samples, and the interval since each group''s previous sample into kpr.consumer_group_daily; prunes samples older than kpr.consumer_group_sample_days. Returns the (group, topic) rows sampled. Schedule it with pg_cron every minute.';
REVOKE ALL ON FUNCTION kpr.collect_consumer_groups(name) FROM PUBLIC;

-- The model uses the consumer groups (issue 17, third part): a measured
-- per-partition throughput where a group reading one partition per member
-- was backlogged long enough, the groups that read a topic, and the action
-- add_consumers for a group that fell behind with fewer members than
-- partitions.
ALTER TABLE kpr.settings
    ADD COLUMN consumer_throughput text
        CHECK (consumer_throughput IN ('auto', 'measured', 'assumed')),
    ADD COLUMN min_backlogged_minutes double precision CHECK (min_backlogged_minutes >= 0),
    ADD COLUMN consumer_group_include text,
    ADD COLUMN consumer_group_exclude text;
COMMENT ON COLUMN kpr.settings.consumer_throughput IS 'Which per-partition throughput the model divides by: auto (default) the measured one where a group reading one partition per member was backlogged at least min_backlogged_minutes in the window, else partition_throughput_bytes_per_sec; measured: the measured one whenever there is any; assumed: always partition_throughput_bytes_per_sec.';
COMMENT ON COLUMN kpr.settings.min_backlogged_minutes IS 'Minutes a group must have been backlogged (reading as fast as it can) in the window before its rate replaces the assumed throughput, and before a group behind counts as needing consumers or partitions (default 30).';
COMMENT ON COLUMN kpr.settings.consumer_group_include IS 'Comma-separated globs (* and ?) over group ids: only these groups count for the model; NULL: every group.';
COMMENT ON COLUMN kpr.settings.consumer_group_exclude IS 'Comma-separated globs over group ids that never count for the model (test and tooling groups); NULL: none.';

CREATE FUNCTION kpr._glob_like(pattern text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN replace(replace(replace(replace(replace(btrim(pattern), '\', '\\'), '%', '\%'), '_', '\_'),
                       '*', '%'), '?', '_');
COMMENT ON FUNCTION kpr._glob_like(text) IS 'A glob (* and ?) as a LIKE pattern, white space around it dropped.';
GRANT EXECUTE ON FUNCTION kpr._glob_like(text) TO PUBLIC;

-- Is a group counted, by the include and exclude globs ('*' any run, '?'
-- one character; LIKE's own characters are matched literally)?
CREATE FUNCTION kpr._group_selected(group_id text, include text, exclude text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (include IS NULL
        OR EXISTS (SELECT FROM unnest(string_to_array(include, ',')) p
                   WHERE group_id LIKE kpr._glob_like(p)))
   AND NOT EXISTS (SELECT FROM unnest(string_to_array(exclude, ',')) p
                   WHERE group_id LIKE kpr._glob_like(p));
COMMENT ON FUNCTION kpr._group_selected(text, text, text) IS 'Whether a consumer group counts for the model, by the consumer_group_include and consumer_group_exclude globs.';
GRANT EXECUTE ON FUNCTION kpr._group_selected(text, text, text) TO PUBLIC;

-- Planning ahead (issue 18): a growth trend of the daily peak and the date a
-- topic runs out of partitions; rounding to divisor-friendly counts beside
-- the broker multiple, which replaces the boolean round_to_broker_multiple.
ALTER TABLE kpr.settings
    ADD COLUMN trend_days integer CHECK (trend_days BETWEEN 2 AND 3653),
    ADD COLUMN min_trend_days integer CHECK (min_trend_days >= 2),
    ADD COLUMN forecast_horizon_days integer CHECK (forecast_horizon_days BETWEEN 0 AND 3653),
    ADD COLUMN partition_rounding text
        CHECK (partition_rounding IN ('none', 'broker_multiple', 'divisor_friendly',
                                      'divisor_friendly_broker_multiple'));
COMMENT ON COLUMN kpr.settings.trend_days IS 'Complete UTC days before today the growth trend is fitted over (default 28).';
COMMENT ON COLUMN kpr.settings.min_trend_days IS 'Days with traffic the trend needs among them before there is a forecast (default 14).';
COMMENT ON COLUMN kpr.settings.forecast_horizon_days IS 'Days ahead the recommendation plans for: the count the projected peak needs then, when more than today''s (default 365; 0 sizes for today only).';
COMMENT ON COLUMN kpr.settings.partition_rounding IS 'How the count is rounded up: none (default); broker_multiple (a multiple of the broker count, for an even leader spread); divisor_friendly (the next count of kpr.divisor_friendly_partitions: 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 36, 48, 60, 64, 72, 96, 120, ..., so consumer groups of many sizes divide it); divisor_friendly_broker_multiple (the broker count times such a count).';
-- the boolean folds into the rounding setting (its column goes once the
-- views no longer read it, below)
UPDATE kpr.settings
   SET partition_rounding = CASE WHEN round_to_broker_multiple THEN 'broker_multiple' ELSE 'none' END
 WHERE round_to_broker_multiple IS NOT NULL;

-- The trend reads the daily peaks of 28 days per topic: with the peak
-- columns in the primary key's index, that is an index-only scan (10,000
-- topics: 130 ms instead of 230 ms), without a second index.  The update
-- rebuilds the index (the table is locked meanwhile).
ALTER TABLE kpr.consumption_daily
    DROP CONSTRAINT consumption_daily_pkey,
    ADD CONSTRAINT consumption_daily_pkey PRIMARY KEY (server, topic, day)
        INCLUDE (peak_bytes_in_per_sec, bytes_in);

-- The smallest divisor-friendly count at or above a number: the powers of
-- two, three times them, and from 36 and 60 on nine and fifteen times the
-- powers of two from 4 (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 36, 48, 60, 64,
-- 72, 96, 120, 128, 144, 192, 240, 256, 288, ...): counts that groups of
-- 1, 2, 3, 4, 6 and 8 consumers, and 5 from 60, divide evenly.
CREATE FUNCTION kpr.divisor_friendly_partitions(at_least bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'kpr_divisor_friendly_partitions'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION kpr.divisor_friendly_partitions(bigint) IS 'The smallest count at or above the argument in the list 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 36, 48, 60, 64, 72, 96, 120, 128, 144, 192, 240, ... (2^k, 3 x 2^k, and 9 x 2^k and 15 x 2^k for k >= 2): counts with many divisors, so consumer groups of many sizes split them evenly.';
GRANT EXECUTE ON FUNCTION kpr.divisor_friendly_partitions(bigint) TO PUBLIC;

-- The rounding that applies on a cluster of the given brokers: without a
-- broker count there is no broker multiple, and the divisor-friendly part
-- still applies.  The view names it in decided_by and reason.
CREATE FUNCTION kpr._rounding_in_force(rounding text, brokers integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN coalesce(brokers, 0) > 0 THEN rounding
    WHEN rounding = 'divisor_friendly_broker_multiple' THEN 'divisor_friendly'
    WHEN rounding = 'broker_multiple' THEN 'none'
    ELSE rounding
END;
COMMENT ON FUNCTION kpr._rounding_in_force(text, integer) IS 'The partition_rounding that applies on a cluster of the given brokers (NULL: unknown): no broker multiple without a broker count.';
GRANT EXECUTE ON FUNCTION kpr._rounding_in_force(text, integer) TO PUBLIC;

CREATE FUNCTION kpr._round_partitions(needed bigint, rounding text, brokers integer)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE kpr._rounding_in_force(rounding, brokers)
    WHEN 'broker_multiple'
        THEN ceil(needed::numeric / brokers)::bigint * brokers
    WHEN 'divisor_friendly_broker_multiple'
        THEN brokers * kpr.divisor_friendly_partitions(ceil(needed::numeric / brokers)::bigint)
    WHEN 'divisor_friendly'
        THEN kpr.divisor_friendly_partitions(needed)
    ELSE needed
END;
COMMENT ON FUNCTION kpr._round_partitions(bigint, text, integer) IS 'A partition count rounded up as the setting partition_rounding says, on a cluster of the given brokers (NULL: unknown, so no broker multiple).';
GRANT EXECUTE ON FUNCTION kpr._round_partitions(bigint, text, integer) TO PUBLIC;

-- The growth trend's fit: a line through the daily peaks that one spike
-- day cannot tilt (Theil-Sen), in C for speed (src/trend_fit.c).
CREATE TYPE kpr.trend AS (
    points      integer,
    slope       double precision,
    intercept   double precision,
    slope_low   double precision,
    slope_high  double precision
);
COMMENT ON TYPE kpr.trend IS 'A Theil-Sen line: the points fitted, the slope (median of the pair slopes), the intercept (the line at x = 0) and Sen''s 95% interval of the slope; slope and the rest NULL when fewer than two distinct x.';

CREATE FUNCTION kpr._theil_sen_accum(internal, double precision, double precision)
RETURNS internal
AS 'MODULE_PATHNAME', 'kpr_trend_accum'
LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION kpr._theil_sen_accum(internal, double precision, double precision) IS 'Transition function of kpr.theil_sen: keeps the points.';
GRANT EXECUTE ON FUNCTION kpr._theil_sen_accum(internal, double precision, double precision) TO PUBLIC;

CREATE FUNCTION kpr._theil_sen_final(internal)
RETURNS kpr.trend
AS 'MODULE_PATHNAME', 'kpr_trend_final'
LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION kpr._theil_sen_final(internal) IS 'Final function of kpr.theil_sen: fits the points.';
GRANT EXECUTE ON FUNCTION kpr._theil_sen_final(internal) TO PUBLIC;

CREATE AGGREGATE kpr.theil_sen(x double precision, y double precision) (
    SFUNC = kpr._theil_sen_accum,
    STYPE = internal,
    FINALFUNC = kpr._theil_sen_final
);
COMMENT ON AGGREGATE kpr.theil_sen(double precision, double precision) IS 'The Theil-Sen line through the points (x, y) as a kpr.trend: the median of the slopes of all pairs of points with different x, robust to outliers (about 29% of the points) and to gaps; rows with a NULL coordinate are left out.';
GRANT EXECUTE ON FUNCTION kpr.theil_sen(double precision, double precision) TO PUBLIC;

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
       -- kept for readers of 0.1.5's column; partition_rounding decides
       coalesce(t.partition_rounding, s.partition_rounding, g.partition_rounding, 'none')
           IN ('broker_multiple', 'divisor_friendly_broker_multiple')
           AS round_to_broker_multiple,
       coalesce(t.max_partitions_per_broker, s.max_partitions_per_broker,
                g.max_partitions_per_broker, 4000)
           AS max_partitions_per_broker,
       coalesce(t.hot_partition_skew, s.hot_partition_skew, g.hot_partition_skew, 2.0)
           AS hot_partition_skew,
       coalesce(t.consumer_throughput, s.consumer_throughput, g.consumer_throughput, 'auto')
           AS consumer_throughput,
       coalesce(t.min_backlogged_minutes, s.min_backlogged_minutes, g.min_backlogged_minutes, 30)
           AS min_backlogged_minutes,
       coalesce(t.consumer_group_include, s.consumer_group_include, g.consumer_group_include)
           AS consumer_group_include,
       coalesce(t.consumer_group_exclude, s.consumer_group_exclude, g.consumer_group_exclude)
           AS consumer_group_exclude,
       coalesce(t.trend_days, s.trend_days, g.trend_days, 28) AS trend_days,
       coalesce(t.min_trend_days, s.min_trend_days, g.min_trend_days, 14) AS min_trend_days,
       coalesce(t.forecast_horizon_days, s.forecast_horizon_days, g.forecast_horizon_days, 365)
           AS forecast_horizon_days,
       coalesce(t.partition_rounding, s.partition_rounding, g.partition_rounding, 'none')
           AS partition_rounding
FROM kpr.topic_inventory i
LEFT JOIN kpr.settings t ON t.server = i.server AND t.topic = i.topic
LEFT JOIN kpr.settings s ON s.server = i.server AND s.topic IS NULL
LEFT JOIN kpr.settings g ON g.server IS NULL AND g.topic IS NULL;

COMMENT ON COLUMN kpr.effective_settings.consumer_throughput IS 'auto, measured or assumed: which per-partition throughput the model divides by.';
COMMENT ON COLUMN kpr.effective_settings.min_backlogged_minutes IS 'Minutes backlogged in the window before a group''s evidence counts.';
COMMENT ON COLUMN kpr.effective_settings.consumer_group_include IS 'Globs of the groups that count; NULL: every group.';
COMMENT ON COLUMN kpr.effective_settings.consumer_group_exclude IS 'Globs of the groups that never count.';
COMMENT ON COLUMN kpr.effective_settings.round_to_broker_multiple IS 'Whether partition_rounding includes the broker multiple (the setting of 0.1.5 and before, which partition_rounding replaces).';
COMMENT ON COLUMN kpr.effective_settings.trend_days IS 'Days the growth trend is fitted over.';
COMMENT ON COLUMN kpr.effective_settings.min_trend_days IS 'Days with traffic the trend needs before there is a forecast.';
COMMENT ON COLUMN kpr.effective_settings.forecast_horizon_days IS 'Days ahead the recommendation plans for.';
COMMENT ON COLUMN kpr.effective_settings.partition_rounding IS 'none, broker_multiple, divisor_friendly or divisor_friendly_broker_multiple.';

-- Platform limits (issue 18, third part): dated, sourced rows; a server's
-- options platform and platform_tier pick the rows that apply, and the
-- recommendation warns where applying every recommendation passes one.
CREATE TABLE kpr.platform_limits (
    platform     text NOT NULL CHECK (platform <> ''),
    tier         text NOT NULL CHECK (tier <> ''),
    limit_name   text NOT NULL CHECK (limit_name IN ('partitions_per_cluster', 'replicas_per_broker')),
    value        bigint NOT NULL CHECK (value > 0),
    unit         text NOT NULL,
    source       text NOT NULL,
    as_of        date NOT NULL,
    note         text,
    provided_by  text NOT NULL DEFAULT current_user,
    PRIMARY KEY (platform, tier, limit_name, provided_by)
);
COMMENT ON TABLE kpr.platform_limits IS 'Partition limits of Kafka platforms, one dated, sourced row per limit.  A server''s options platform and platform_tier select the rows that apply (tier ''*'': every tier of the platform); a row of your own for the same platform, tier and limit takes precedence over the shipped one.  Shipped rows (provided_by kafka_partition_recommender) come with the extension and its updates; pg_dump keeps your rows.';
COMMENT ON COLUMN kpr.platform_limits.platform IS 'Platform, as the server option platform names it: confluent_cloud, aws_msk, apache_kafka, or your own.';
COMMENT ON COLUMN kpr.platform_limits.tier IS 'Tier, as the server option platform_tier names it (the cluster type, or the broker size); * for every tier.';
COMMENT ON COLUMN kpr.platform_limits.limit_name IS 'partitions_per_cluster (partitions before replication, all topics) or replicas_per_broker (partition replicas, leaders and followers, on one broker).';
COMMENT ON COLUMN kpr.platform_limits.value IS 'The limit.';
COMMENT ON COLUMN kpr.platform_limits.unit IS 'What the value counts, in words.';
COMMENT ON COLUMN kpr.platform_limits.source IS 'Where the value is published.';
COMMENT ON COLUMN kpr.platform_limits.as_of IS 'When the value was read at its source.';
COMMENT ON COLUMN kpr.platform_limits.note IS 'What the source adds (whether the limit is enforced or advice).';
COMMENT ON COLUMN kpr.platform_limits.provided_by IS 'kafka_partition_recommender for the shipped rows; for yours, the role that added it (or what you put).';
SELECT pg_catalog.pg_extension_config_dump('kpr.platform_limits',
                                           'WHERE provided_by <> ''kafka_partition_recommender''');

INSERT INTO kpr.platform_limits (platform, tier, limit_name, value, unit, source, as_of, note, provided_by)
SELECT 'confluent_cloud', tier, 'partitions_per_cluster', value,
       'partitions before replication, all topics of the cluster',
       'https://docs.confluent.io/cloud/current/clusters/cluster-types.html', date '2026-12-08',
       'Cluster limit comparison: partitions (pre-replication, non-compacted topics), the cluster type''s maximum; a Dedicated cluster''s own limit also grows with its CKUs.',
       'kafka_partition_recommender'
FROM (VALUES ('basic', 4096), ('standard', 4096), ('enterprise', 30000), ('dedicated', 100000)) AS t(tier, value)
UNION ALL
SELECT 'aws_msk', tier, 'replicas_per_broker', value,
       'partition replicas (leaders and followers) per broker',
       'https://docs.aws.amazon.com/msk/latest/developerguide/bestpractices.html', date '2026-12-08',
       format('Recommended partitions per Standard broker, not enforced; the most that still supports update operations is %s.', updatable),
       'kafka_partition_recommender'
FROM (VALUES ('kafka.t3.small', 300, 300),
             ('kafka.m5.large', 1000, 1500), ('kafka.m5.xlarge', 1000, 1500),
             ('kafka.m5.2xlarge', 2000, 3000),
             ('kafka.m5.4xlarge', 4000, 6000), ('kafka.m5.8xlarge', 4000, 6000),
             ('kafka.m5.12xlarge', 4000, 6000), ('kafka.m5.16xlarge', 4000, 6000),
             ('kafka.m5.24xlarge', 4000, 6000),
             ('kafka.m7g.large', 1000, 1500), ('kafka.m7g.xlarge', 1000, 1500),
             ('kafka.m7g.2xlarge', 2000, 3000),
             ('kafka.m7g.4xlarge', 4000, 6000), ('kafka.m7g.8xlarge', 4000, 6000),
             ('kafka.m7g.12xlarge', 4000, 6000), ('kafka.m7g.16xlarge', 4000, 6000))
     AS b(tier, value, updatable)
UNION ALL
SELECT 'apache_kafka', '*', limit_name, value, unit,
       'https://cwiki.apache.org/confluence/display/KAFKA/KIP-578%3A+Add+configuration+to+limit+number+of+partitions',
       date '2026-12-08',
       'The generic recommendation KIP-578 quotes (from clusters with ZooKeeper; not enforced by Kafka).',
       'kafka_partition_recommender'
FROM (VALUES ('replicas_per_broker', 4000, 'partition replicas (leaders and followers) per broker'),
             ('partitions_per_cluster', 200000, 'partitions, all topics of the cluster'))
     AS a(limit_name, value, unit);

-- A shipped row edited in place would be lost by pg_dump (it keeps only
-- your rows) and by the next update: refuse, and say what to do instead.
CREATE FUNCTION kpr._protect_shipped_limits()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $protect$
BEGIN
    IF OLD.provided_by = 'kafka_partition_recommender' THEN
        RAISE EXCEPTION 'the shipped limit % % % cannot be changed or deleted', OLD.platform, OLD.tier, OLD.limit_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Insert your own row for the same platform, tier and limit_name: it takes precedence, and pg_dump keeps it.';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$protect$;
COMMENT ON FUNCTION kpr._protect_shipped_limits() IS 'Refuses changes to the rows of kpr.platform_limits the extension ships.';
REVOKE ALL ON FUNCTION kpr._protect_shipped_limits() FROM PUBLIC;
CREATE TRIGGER protect_shipped_limits BEFORE UPDATE OR DELETE ON kpr.platform_limits
    FOR EACH ROW EXECUTE FUNCTION kpr._protect_shipped_limits();

-- The limits in force per server: its platform and tier from its options,
-- and per limit the user's row before the shipped one, the tier's own row
-- before the platform's '*', the newest first.
CREATE VIEW kpr.server_limits AS
SELECT s.srvname::text AS server, o.platform, o.tier, l.limit_name, l.value, l.unit,
       l.source, l.as_of, l.provided_by, l.tier AS limit_tier
FROM pg_catalog.pg_foreign_server s
JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw AND w.fdwname = 'kafka_partition_recommender'
CROSS JOIN LATERAL (
    SELECT max(option_value) FILTER (WHERE option_name = 'platform') AS platform,
           max(option_value) FILTER (WHERE option_name = 'platform_tier') AS tier
    FROM pg_catalog.pg_options_to_table(s.srvoptions)
) o
JOIN LATERAL (
    SELECT DISTINCT ON (p.limit_name) p.*
    FROM kpr.platform_limits p
    WHERE p.platform = o.platform AND (p.tier = o.tier OR p.tier = '*')
    ORDER BY p.limit_name, p.provided_by = 'kafka_partition_recommender', p.tier = '*', p.as_of DESC
) l ON true;
COMMENT ON VIEW kpr.server_limits IS 'Per server of the wrapper with a platform option, the limits of kpr.platform_limits in force: one row per limit.';
COMMENT ON COLUMN kpr.server_limits.server IS 'Foreign server name of the cluster.';
COMMENT ON COLUMN kpr.server_limits.platform IS 'Its option platform.';
COMMENT ON COLUMN kpr.server_limits.tier IS 'Its option platform_tier (NULL: not set, so only the platform''s * rows apply).';
COMMENT ON COLUMN kpr.server_limits.limit_name IS 'partitions_per_cluster or replicas_per_broker.';
COMMENT ON COLUMN kpr.server_limits.value IS 'The limit.';
COMMENT ON COLUMN kpr.server_limits.unit IS 'What it counts.';
COMMENT ON COLUMN kpr.server_limits.source IS 'Where it is published.';
COMMENT ON COLUMN kpr.server_limits.as_of IS 'When it was read there.';
COMMENT ON COLUMN kpr.server_limits.provided_by IS 'Who provided the row in force.';
COMMENT ON COLUMN kpr.server_limits.limit_tier IS 'The tier of that row: the server''s, or *.';

-- kpr.server_load also counts the partitions before replication (the unit
-- of a per-cluster limit).
ALTER TABLE kpr.server_load ADD COLUMN partitions_after_recommendations bigint
    CHECK (partitions_after_recommendations >= 0);
COMMENT ON COLUMN kpr.server_load.partitions_after_recommendations IS 'Sum over the server''s topics of greatest(current partitions, recommended partitions).';

CREATE OR REPLACE FUNCTION kpr._refresh_server_load(server text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $refresh$
BEGIN
    DELETE FROM kpr.server_load l
     WHERE _refresh_server_load.server IS NULL OR l.server = _refresh_server_load.server;
    INSERT INTO kpr.server_load (server, replicas_after_recommendations, partitions_after_recommendations,
                                 topics, computed_at)
    SELECT r.server,
           sum(greatest(r.current_partitions, coalesce(r.recommended_partitions, 0))
               * coalesce(r.replication_factor, 1)),
           sum(greatest(r.current_partitions, coalesce(r.recommended_partitions, 0))),
           count(*), now()
      FROM kpr.recommended_partitions r
     WHERE _refresh_server_load.server IS NULL OR r.server = _refresh_server_load.server
     GROUP BY r.server;
    RETURN true;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'kpr.server_load was not refreshed: %', SQLERRM
        USING DETAIL = 'The per-broker and per-cluster warnings of kpr.recommended_partitions keep the figures of the last refresh.',
              HINT = format('GRANT SELECT, INSERT, DELETE ON kpr.server_load TO %I; GRANT SELECT ON kpr.recommended_partitions TO %I;',
                            current_user, current_user);
    RETURN false;
END
$refresh$;

-- not STRICT, so that the planner inlines it (a strict SQL function whose
-- body is a CASE runs through the SQL function executor: 25 us a call)
CREATE FUNCTION kpr._format_rate_change(bytes_per_sec_per_day double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN bytes_per_sec_per_day < 0 THEN '-' ELSE '+' END
       || kpr.format_bytes_per_sec(abs(bytes_per_sec_per_day));
COMMENT ON FUNCTION kpr._format_rate_change(double precision) IS 'A change of rate with its sign: 1048576 -> ''+1.0 MiB/s''.';
GRANT EXECUTE ON FUNCTION kpr._format_rate_change(double precision) TO PUBLIC;

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
           w.window_first_day, w.window_last_day, w.today,
           t.*,
           tr.*,
           cg.*,
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
               (now() AT TIME ZONE 'UTC')::date - 1 AS window_last_day,
               (now() AT TIME ZONE 'UTC')::date AS today
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
    -- The growth trend: a Theil-Sen line through the daily peaks (the day's
    -- measured peak, or its total / 86400) of the trend_days complete days,
    -- x counted in days from today, so its intercept is today's level.
    CROSS JOIN LATERAL (
        SELECT count(*)::integer AS trend_days_observed,
               kpr.theil_sen((c.day - w.today)::double precision,
                             coalesce(c.peak_bytes_in_per_sec, c.bytes_in / 86400.0::double precision))
                   AS fit
        FROM kpr.consumption_daily c
        WHERE c.server = e.server AND c.topic = e.topic
          AND c.day BETWEEN w.today - e.trend_days AND w.window_last_day
          AND (c.peak_bytes_in_per_sec IS NOT NULL OR c.bytes_in IS NOT NULL)
    ) tr
    -- The consumer groups that read the topic, from the window's first day
    -- to today (a sample of today is evidence too): the slowest group that
    -- reads with one member per partition gives the measured per-partition
    -- throughput; a group still behind after min_backlogged_minutes of
    -- reading as fast as it can, with fewer members than partitions, needs
    -- consumers.
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE gp.reads)::integer AS consumer_groups,
               min(gp.per_partition) FILTER (WHERE gp.one_per_partition
                                               AND gp.minutes >= e.min_backlogged_minutes)
                   AS measured_enough,
               (array_agg(gp.group_id ORDER BY gp.per_partition, gp.group_id)
                    FILTER (WHERE gp.one_per_partition AND gp.minutes >= e.min_backlogged_minutes))[1]
                   AS measured_enough_group,
               min(gp.per_partition) FILTER (WHERE gp.one_per_partition AND gp.minutes > 0)
                   AS measured_any,
               (array_agg(gp.group_id ORDER BY gp.per_partition, gp.group_id)
                    FILTER (WHERE gp.one_per_partition AND gp.minutes > 0))[1]
                   AS measured_any_group,
               (array_agg(gp.minutes ORDER BY gp.per_partition, gp.group_id)
                    FILTER (WHERE gp.one_per_partition AND gp.minutes > 0))[1]
                   AS measured_any_minutes,
               (array_agg(ARRAY[gp.group_id, gp.members_on_topic::text, gp.partitions::text]
                          ORDER BY gp.minutes DESC, gp.group_id)
                    FILTER (WHERE gp.behind AND NOT gp.one_per_partition))[1:1]
                   AS short_of_members,
               (array_agg(gp.group_id ORDER BY gp.minutes DESC, gp.group_id)
                    FILTER (WHERE gp.behind AND gp.one_per_partition))[1]
                   AS behind_group
        FROM (
            SELECT g.group_id, g.reads, g.minutes, g.members_on_topic, g.partitions,
                   g.members_on_topic >= g.partitions AS one_per_partition,
                   g.bytes_per_sec / nullif(g.partitions, 0) AS per_partition,
                   g.minutes >= e.min_backlogged_minutes AND g.last_lag > 0 AS behind
            FROM (
                SELECT d.group_id,
                       bool_or(d.records_consumed > 0 OR d.max_members_on_topic > 0) AS reads,
                       sum(d.minutes_backlogged) AS minutes,
                       sum(d.records_backlogged * d.avg_record_bytes)
                           FILTER (WHERE d.avg_record_bytes IS NOT NULL)
                           / nullif(60 * sum(d.minutes_backlogged)
                                        FILTER (WHERE d.avg_record_bytes IS NOT NULL), 0)
                           AS bytes_per_sec,
                       max(d.max_members_on_topic) AS members_on_topic,
                       (array_agg(d.topic_partitions ORDER BY d.day DESC))[1] AS partitions,
                       (array_agg(d.last_lag ORDER BY d.day DESC))[1] AS last_lag
                FROM kpr.consumer_group_days d
                WHERE d.server = e.server AND d.topic = e.topic
                  AND d.day BETWEEN w.window_first_day AND w.window_last_day + 1
                  AND kpr._group_selected(d.group_id, e.consumer_group_include,
                                          e.consumer_group_exclude)
                GROUP BY d.group_id
            ) g
        ) gp
    ) cg
    WHERE i.missing_since IS NULL
),
-- Each figure below is computed once per topic.  The planner flattens a plain
-- subquery and copies its expressions into every place that names them (the
-- reason names the rounded count a dozen times, through action and
-- decided_by, and an expression argument keeps kpr.format_bytes_per_sec from
-- being inlined); a lateral subquery with OFFSET 0 stays a subquery, so its
-- columns are values.  bench/view.sh measures the difference.
sized AS (
    SELECT o.*, m.*, n.*, f.*, p.*
    FROM observed o
    -- the per-partition throughput: measured where the evidence suffices
    -- (consumer_throughput auto), or as the setting forces
    CROSS JOIN LATERAL (
        SELECT CASE o.consumer_throughput
                   WHEN 'assumed' THEN NULL
                   WHEN 'measured' THEN o.measured_any
                   ELSE o.measured_enough
               END AS measured_used,
               CASE o.consumer_throughput
                   WHEN 'assumed' THEN NULL
                   WHEN 'measured' THEN o.measured_any_group
                   ELSE o.measured_enough_group
               END AS measured_group
        OFFSET 0
    ) m
    CROSS JOIN LATERAL (
        SELECT coalesce(o.peak_in > 0, false) AS has_traffic,
               o.peak_in * o.throughput_factor::numeric AS required,
               ceil(o.peak_in * o.throughput_factor::numeric
                    / coalesce(m.measured_used, o.partition_throughput_bytes_per_sec)::numeric)::bigint
                   AS by_throughput,
               o.partition_skew >= o.hot_partition_skew AS hot_partition,
               -- the busiest partition's share of the peak, with the same headroom
               o.peak_in * o.busiest_partition_share::numeric * o.throughput_factor::numeric
                   AS busiest_required,
               coalesce(m.measured_used, o.partition_throughput_bytes_per_sec)::numeric
                   AS partition_throughput
        OFFSET 0
    ) n
    -- The trend, when there is history enough: growing or shrinking where
    -- Sen's 95% interval of the slope lies above or below 0, else flat (a
    -- slope the day-to-day variation could give is not projected).
    CROSS JOIN LATERAL (
        SELECT CASE WHEN NOT n.has_traffic OR o.trend_days_observed < o.min_trend_days
                         OR (o.fit).slope IS NULL THEN NULL
                    WHEN (o.fit).slope_low > 0 THEN 'growing'
                    WHEN (o.fit).slope_high < 0 THEN 'shrinking'
                    ELSE 'flat'
               END AS trend
        OFFSET 0
    ) f
    -- The forecast: the window's peak moves by the trend's slope per day;
    -- at the horizon it needs horizon_by_throughput partitions.
    CROSS JOIN LATERAL (
        SELECT q.growth_per_day,
               q.projected_peak,
               ceil(q.projected_peak * o.throughput_factor::numeric / n.partition_throughput)::bigint
                   AS horizon_by_throughput
        FROM (
            SELECT g.growth_per_day,
                   greatest(o.peak_in + g.growth_per_day * o.forecast_horizon_days, 0) AS projected_peak
            FROM (SELECT CASE WHEN f.trend IS NULL THEN NULL
                              WHEN f.trend = 'flat' THEN 0
                              ELSE (o.fit).slope::numeric
                         END AS growth_per_day) g
        ) q
        OFFSET 0
    ) p
),
rounded AS (
    SELECT s.*, r.*
    FROM sized s
    CROSS JOIN LATERAL (
        SELECT x.*,
               kpr._round_partitions(x.at_least_min, s.partition_rounding, s.broker_count) AS rounded,
               kpr._round_partitions(greatest(s.horizon_by_throughput, s.min_partitions),
                                     s.partition_rounding, s.broker_count) AS horizon_partitions,
               -- the first day the need passes the current count: today if it
               -- already has; never for a flat or shrinking topic; else the
               -- day the growing peak passes what the count carries, if that
               -- is within the horizon
               CASE WHEN s.trend IS NULL THEN NULL
                    WHEN x.needed_today > s.partition_count THEN s.today
                    WHEN s.growth_per_day <= 0 THEN NULL
                    ELSE (SELECT s.today + d.days::integer
                          FROM (SELECT floor((s.partition_count * s.partition_throughput
                                              / s.throughput_factor::numeric - s.peak_in)
                                             / s.growth_per_day) + 1 AS days) d
                          WHERE d.days <= s.forecast_horizon_days)
               END AS runs_out_on
        FROM (
            SELECT greatest(s.by_throughput, s.horizon_by_throughput, s.min_partitions) AS at_least_min,
                   greatest(s.by_throughput, s.min_partitions) AS needed_today,
                   kpr._rounding_in_force(s.partition_rounding, s.broker_count) AS rounding_applied
        ) x
        OFFSET 0
    ) r
),
decided AS (
    SELECT r.*, d.*
    FROM rounded r
    CROSS JOIN LATERAL (
        SELECT CASE WHEN NOT r.has_traffic THEN 'no_data'
                    WHEN r.short_of_members IS NOT NULL THEN 'add_consumers'
                    WHEN r.rounded > r.partition_count THEN 'increase'
                    WHEN r.rounded < r.partition_count THEN 'over_provisioned'
                    ELSE 'keep'
               END AS action,
               CASE WHEN NOT r.has_traffic THEN NULL
                    WHEN r.rounded > r.at_least_min THEN r.rounding_applied
                    WHEN r.at_least_min > greatest(r.by_throughput, r.horizon_by_throughput)
                        THEN 'min_partitions'
                    WHEN r.horizon_by_throughput > r.by_throughput THEN 'forecast'
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
           l.replicas_after_recommendations::numeric / d.broker_count AS replicas_per_broker_after,
           l.partitions_after_recommendations,
           pc.value AS platform_partitions_per_cluster,
           pc.platform || CASE WHEN pc.limit_tier = '*' THEN '' ELSE ' ' || pc.limit_tier END
               AS platform_partitions_per_cluster_of,
           pb.value AS platform_replicas_per_broker,
           pb.platform || CASE WHEN pb.limit_tier = '*' THEN '' ELSE ' ' || pb.limit_tier END
               AS platform_replicas_per_broker_of
    FROM decided d
    LEFT JOIN kpr.server_load l ON l.server = d.server
    -- the platform's limits, where the server names its platform
    LEFT JOIN kpr.server_limits pc ON pc.server = d.server AND pc.limit_name = 'partitions_per_cluster'
    LEFT JOIN kpr.server_limits pb ON pb.server = d.server AND pb.limit_name = 'replicas_per_broker'
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
       c.partition_throughput::double precision AS partition_throughput_bytes_per_sec,
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
                     kpr.format_bytes_per_sec(c.partition_throughput))
           || CASE WHEN c.measured_group IS NOT NULL
                   THEN format(' (measured: group %s read %s per partition, one member each, while backlogged)',
                               c.measured_group, kpr.format_bytes_per_sec(c.measured_used))
                   WHEN c.consumer_throughput = 'measured'
                   THEN ' (assumed: consumer_throughput is measured, but no group reading one partition per member was seen backlogged)'
                   WHEN c.consumer_throughput = 'assumed' AND c.measured_any IS NOT NULL
                   THEN format(' (assumed, as consumer_throughput says: group %s read %s per partition while backlogged)',
                               c.measured_any_group, kpr.format_bytes_per_sec(c.measured_any))
                   WHEN c.consumer_throughput = 'auto' AND c.measured_any IS NOT NULL
                   THEN format(' (assumed: group %s was backlogged %s min, under min_backlogged_minutes %s)',
                               c.measured_any_group, round(c.measured_any_minutes::numeric, 1),
                               c.min_backlogged_minutes)
                   ELSE '' END
           || CASE
              WHEN c.trend IS NULL
              THEN format('; no forecast: %s of the last %s days observed, min_trend_days %s',
                          c.trend_days_observed, c.trend_days, c.min_trend_days)
              WHEN c.trend = 'flat'
              THEN format('; flat: no trend beyond the day-to-day variation over %s days observed (95%%: %s to %s per day)',
                          c.trend_days_observed, kpr._format_rate_change((c.fit).slope_low),
                          kpr._format_rate_change((c.fit).slope_high))
              ELSE format('; %s %s per day over %s days observed (95%%: %s to %s)',
                          c.trend, kpr._format_rate_change((c.fit).slope), c.trend_days_observed,
                          kpr._format_rate_change((c.fit).slope_low),
                          kpr._format_rate_change((c.fit).slope_high))
                   || CASE WHEN c.trend = 'shrinking'
                           THEN ': it never runs out'
                           WHEN c.forecast_horizon_days > 0
                           THEN format(': in %s days the peak reaches %s, x factor %s = %s needs %s partition%s',
                                       c.forecast_horizon_days, kpr.format_bytes_per_sec(c.projected_peak),
                                       c.throughput_factor::numeric,
                                       kpr.format_bytes_per_sec(c.projected_peak * c.throughput_factor::numeric),
                                       c.horizon_by_throughput,
                                       CASE WHEN c.horizon_by_throughput = 1 THEN '' ELSE 's' END)
                           ELSE '' END
              END
           || CASE WHEN c.runs_out_on > c.today
                   THEN format('; the current %s run out in %s days', c.partition_count,
                               c.runs_out_on - c.today)
                   ELSE '' END
           || CASE WHEN c.at_least_min > greatest(c.by_throughput, c.horizon_by_throughput)
                   THEN format('; raised to min_partitions %s', c.min_partitions)
                   ELSE '' END
           || CASE WHEN c.rounded > c.at_least_min
                   THEN format('; rounded up to %s', c.rounded)
                        || CASE c.rounding_applied
                           WHEN 'broker_multiple'
                           THEN format(', a multiple of %s brokers', c.broker_count)
                           WHEN 'divisor_friendly'
                           THEN ', the next divisor-friendly count'
                           ELSE format(', %s brokers x %s (divisor-friendly)', c.broker_count,
                                       c.rounded / c.broker_count)
                           END
                   ELSE '' END
           || CASE WHEN c.partition_rounding IN ('broker_multiple', 'divisor_friendly_broker_multiple')
                        AND c.broker_count IS NULL
                   THEN '; not rounded to a broker multiple: no collect has recorded the broker count'
                   ELSE '' END
           || CASE WHEN c.hot_partition
                   THEN format('; partition %s carries %s%% of the bytes, %s times the mean (hot: skew at or above %s)',
                               c.busiest_partition, round((100 * c.busiest_partition_share)::numeric, 1),
                               round(c.partition_skew::numeric, 2), c.hot_partition_skew)
                        || CASE WHEN c.busiest_needs_more
                                THEN format(', and alone needs %s, more than one partition''s %s: %s',
                                            kpr.format_bytes_per_sec(c.busiest_required),
                                            kpr.format_bytes_per_sec(c.partition_throughput),
                                            kpr._hot_partition_advice(c.keyed_share))
                                ELSE '' END
                   ELSE '' END
           || CASE c.action
              WHEN 'add_consumers' THEN format('; group %s fell behind with %s member(s) on %s partitions: add consumers, up to one per partition, before adding partitions',
                                               c.short_of_members[1][1], c.short_of_members[1][2],
                                               c.short_of_members[1][3])
              WHEN 'increase' THEN format('; %s more than the current %s', c.rounded - c.partition_count, c.partition_count)
                   || CASE WHEN c.behind_group IS NOT NULL
                           THEN format('; group %s reads every partition with a member of its own and fell behind: it needs them',
                                       c.behind_group)
                           ELSE '' END
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
           CASE WHEN c.action = 'increase'
                     AND c.replicas_per_broker_after > c.platform_replicas_per_broker
                THEN format('applying every recommendation on server %s puts %s partition replicas on each of %s brokers, above the %s per broker of %s (kpr.server_limits)',
                            c.server, ceil(c.replicas_per_broker_after), c.broker_count,
                            c.platform_replicas_per_broker, c.platform_replicas_per_broker_of)
           END,
           CASE WHEN c.action = 'increase'
                     AND c.partitions_after_recommendations > c.platform_partitions_per_cluster
                THEN format('applying every recommendation on server %s makes %s partitions, above the %s per cluster of %s (kpr.server_limits)',
                            c.server, c.partitions_after_recommendations,
                            c.platform_partitions_per_cluster, c.platform_partitions_per_cluster_of)
           END,
           CASE WHEN c.has_traffic AND c.busiest_needs_more
                THEN format('hot partition %s needs %s alone, more than one partition''s %s: %s',
                            c.busiest_partition, kpr.format_bytes_per_sec(c.busiest_required),
                            kpr.format_bytes_per_sec(c.partition_throughput),
                            kpr._hot_partition_advice(c.keyed_share))
           END), '') AS warning,
       c.busiest_partition,
       c.busiest_partition_share,
       c.partition_skew,
       c.hot_partition,
       c.hot_partition_skew,
       c.keyed_share,
       CASE WHEN c.measured_used IS NOT NULL THEN 'measured' ELSE 'assumed' END
           AS partition_throughput_source,
       c.partition_throughput_bytes_per_sec AS assumed_partition_throughput_bytes_per_sec,
       coalesce(c.measured_enough, c.measured_any)::double precision
           AS measured_partition_throughput_bytes_per_sec,
       coalesce(c.measured_enough_group, c.measured_any_group) AS measured_by_group,
       c.consumer_groups,
       c.short_of_members[1][1] AS group_short_of_members,
       c.behind_group AS group_behind,
       c.trend,
       c.trend_days_observed,
       (c.fit).slope AS trend_bytes_in_per_sec_per_day,
       (c.fit).slope_low AS trend_low_bytes_in_per_sec_per_day,
       (c.fit).slope_high AS trend_high_bytes_in_per_sec_per_day,
       c.forecast_horizon_days,
       CASE WHEN c.trend IS NOT NULL THEN c.projected_peak::double precision END
           AS projected_peak_bytes_in_per_sec,
       CASE WHEN c.trend IS NOT NULL THEN c.horizon_partitions END AS horizon_partitions,
       c.runs_out_on,
       c.partition_rounding
FROM capped c;

COMMENT ON COLUMN kpr.recommended_partitions.action IS 'increase, keep, over_provisioned, no_data, or add_consumers: a group fell behind with fewer members than partitions (more partitions would not help it).';
COMMENT ON COLUMN kpr.recommended_partitions.partition_throughput_bytes_per_sec IS 'Per-partition throughput the model divided by: the measured one (partition_throughput_source measured) or the assumed setting.';
COMMENT ON COLUMN kpr.recommended_partitions.partition_throughput_source IS 'measured: from a consumer group backlogged while reading one partition per member (measured_by_group); assumed: the setting partition_throughput_bytes_per_sec.';
COMMENT ON COLUMN kpr.recommended_partitions.assumed_partition_throughput_bytes_per_sec IS 'The setting partition_throughput_bytes_per_sec.';
COMMENT ON COLUMN kpr.recommended_partitions.measured_partition_throughput_bytes_per_sec IS 'The slowest per-partition rate of a group reading one partition per member while backlogged (bytes per second), used or not; NULL without such evidence.';
COMMENT ON COLUMN kpr.recommended_partitions.measured_by_group IS 'The group that rate comes from.';
COMMENT ON COLUMN kpr.recommended_partitions.consumer_groups IS 'Consumer groups that read the topic in the window (sampled by kpr.collect_consumer_groups): the fan-out by groups, beside fan_out by bytes.';
COMMENT ON COLUMN kpr.recommended_partitions.group_short_of_members IS 'A group backlogged at least min_backlogged_minutes and still behind, with fewer members than partitions: action add_consumers.';
COMMENT ON COLUMN kpr.recommended_partitions.group_behind IS 'A group backlogged at least min_backlogged_minutes and still behind, reading every partition with a member of its own: the group an increase is for.';
COMMENT ON COLUMN kpr.recommended_partitions.decided_by IS 'What set the count: throughput (today''s peak), forecast (the peak projected at the horizon), min_partitions, or the rounding (broker_multiple, divisor_friendly, divisor_friendly_broker_multiple); NULL for no_data.';
COMMENT ON COLUMN kpr.recommended_partitions.warning IS 'Set on increases when applying every recommendation of the server would put more partition replicas on a broker than max_partitions_per_broker or than the platform''s replicas_per_broker, or make more partitions than its partitions_per_cluster (kpr.server_limits); and when a hot partition alone needs more than one partition''s throughput.';
COMMENT ON COLUMN kpr.recommended_partitions.trend IS 'growing or shrinking (Sen''s 95% interval of the slope above or below 0), flat (the interval holds 0), or NULL: no forecast (fewer than min_trend_days days observed, or no traffic).';
COMMENT ON COLUMN kpr.recommended_partitions.trend_days_observed IS 'Days with traffic among the trend_days complete days before today.';
COMMENT ON COLUMN kpr.recommended_partitions.trend_bytes_in_per_sec_per_day IS 'Slope of the Theil-Sen line through the daily peak ingress (measured peak, or total / 86400) of those days: bytes per second gained per day.';
COMMENT ON COLUMN kpr.recommended_partitions.trend_low_bytes_in_per_sec_per_day IS 'Lower end of Sen''s 95% interval of that slope.';
COMMENT ON COLUMN kpr.recommended_partitions.trend_high_bytes_in_per_sec_per_day IS 'Upper end of Sen''s 95% interval of that slope.';
COMMENT ON COLUMN kpr.recommended_partitions.forecast_horizon_days IS 'Days ahead the recommendation plans for (setting forecast_horizon_days).';
COMMENT ON COLUMN kpr.recommended_partitions.projected_peak_bytes_in_per_sec IS 'The window''s peak moved by the slope (0 when flat) for forecast_horizon_days days, at least 0; NULL without a forecast.';
COMMENT ON COLUMN kpr.recommended_partitions.horizon_partitions IS 'Partitions the projected peak needs (x throughput_factor / per-partition throughput, at least min_partitions, rounded as partition_rounding says); the recommendation is the greater of this and today''s need.';
COMMENT ON COLUMN kpr.recommended_partitions.runs_out_on IS 'First UTC day on which the projected need passes the current count, within the horizon: today when it already has; NULL for a flat or shrinking topic that has enough, beyond the horizon, or without a forecast.';
COMMENT ON COLUMN kpr.recommended_partitions.partition_rounding IS 'The rounding setting in force: none, broker_multiple, divisor_friendly or divisor_friendly_broker_multiple.';

-- No view reads the boolean any more: partition_rounding holds its value.
ALTER TABLE kpr.settings DROP COLUMN round_to_broker_multiple;

-- kpr.server_load's new column, for the servers already collected
SELECT kpr._refresh_server_load(NULL);

-- From recommendation to change (issue 19, first part): per topic to
-- increase, the statements that make the change in the tools operators use;
-- per over-provisioned topic, the way back down (a new topic), never a
-- decrease.  Nothing here runs anything.
-- A word for a POSIX shell command line: as it is when it holds only
-- characters no shell treats specially, else in single quotes.
CREATE FUNCTION kpr._shell_word(word text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN word ~ '^[A-Za-z0-9._:,/=@+-]+$' THEN word
            ELSE '''' || replace(word, '''', '''\''''') || ''''
       END;
COMMENT ON FUNCTION kpr._shell_word(text) IS 'A word for a POSIX shell command line: as it is when safe, else single-quoted.';
GRANT EXECUTE ON FUNCTION kpr._shell_word(text) TO PUBLIC;

-- Whether a topic's records carry keys, from the share of sampled records
-- that do: keyed from half on, keyless below, unknown without a sample.
CREATE FUNCTION kpr._keyed(keyed_share double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN keyed_share >= 0.5 THEN 'keyed'
            WHEN keyed_share < 0.5 THEN 'keyless'
            ELSE 'unknown'
       END;
COMMENT ON FUNCTION kpr._keyed(double precision) IS 'keyed (at least half of the sampled records carry a key), keyless, or unknown (NULL: no sample).';
GRANT EXECUTE ON FUNCTION kpr._keyed(double precision) TO PUBLIC;

-- the hot-partition advice decides on keys by the same rule
CREATE OR REPLACE FUNCTION kpr._hot_partition_advice(keyed_share double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE kpr._keyed(keyed_share)
    WHEN 'keyed'
        THEN 'its records carry keys (' || round((100 * keyed_share)::numeric) || '% of those sampled), and adding partitions does not move a key: salt or re-key the hot key, or accept what one consumer can read'
    WHEN 'keyless'
        THEN CASE WHEN keyed_share = 0
                  THEN 'its records carry no key, so more partitions do spread them; check that the producer''s partitioner spreads keyless records'
                  ELSE 'most of its records carry no key (' || round((100 * (1 - keyed_share))::numeric) || '% of those sampled), so more partitions do spread them; check that the producer''s partitioner spreads keyless records'
             END
    ELSE 'if its traffic is keyed, adding partitions does not relieve it: salt or re-key the hot key, or accept what one consumer can read'
END;

CREATE VIEW kpr.partition_changes AS
SELECT r.server,
       r.topic,
       r.action,
       r.current_partitions,
       r.recommended_partitions,
       k.keyed,
       CASE WHEN r.action <> 'increase' THEN NULL
            WHEN k.keyed = 'keyless'
            THEN format('most sampled records carry no key (%s%% keyed): adding partitions moves no key',
                        round((100 * r.keyed_share)::numeric))
            ELSE CASE k.keyed
                      WHEN 'keyed'
                      THEN format('its records carry keys (%s%% of those sampled)', round((100 * r.keyed_share)::numeric))
                      ELSE 'whether its records carry keys is not known (only sampling sees them)'
                 END
                 || format(': a key''s partition is its hash modulo the partition count, so going from %s to %s partitions moves most keys; records of one key produced before and after the change can be read out of order. Let consumers that need per-key order drain the topic before producers see the new partitions, or accept it',
                           r.current_partitions, r.recommended_partitions)
       END AS keyed_warning,
       CASE WHEN r.action = 'increase'
            THEN format('kafka-topics.sh --bootstrap-server %s --command-config %s --alter --topic %s --partitions %s',
                        b.bootstrap_word, b.client_config_word, kpr._shell_word(r.topic),
                        r.recommended_partitions)
       END AS kafka_topics_command,
       CASE WHEN r.action = 'increase'
            THEN format(E'resource "confluent_kafka_topic" "%s" {\n  topic_name       = "%s"\n  partitions_count = %s\n  # kafka_cluster, rest_endpoint and credentials as in your configuration\n}',
                        -- a resource name: letters, digits, _ and -, not starting with a digit
                        regexp_replace(regexp_replace(r.topic, '[^A-Za-z0-9_-]', '_', 'g'), '^([0-9-])', 'topic_\1'),
                        r.topic, r.recommended_partitions)
       END AS terraform,
       CASE WHEN r.action = 'increase'
            THEN format(E'apiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaTopic\nmetadata:\n  name: %s\n  labels:\n    strimzi.io/cluster: my-cluster  # the name of your Kafka resource\nspec:\n  topicName: %s\n  partitions: %s',
                        -- a Kubernetes name: lower case, digits, - and ., alphanumeric at both ends
                        btrim(lower(regexp_replace(r.topic, '[^A-Za-z0-9.-]', '-', 'g')), '.-'),
                        r.topic, r.recommended_partitions)
       END AS strimzi,
       CASE WHEN r.action = 'over_provisioned'
            THEN format('partitions cannot be removed: to go from %s to %s, create a new topic (kafka-topics.sh --bootstrap-server %s --command-config %s --create --topic %s --partitions %s --replication-factor %s), move the producers to it, let the consumers drain %s, then move them and delete it. Or keep the %s: spare partitions cost the brokers memory, open files and longer leader elections, not throughput',
                        r.current_partitions, r.recommended_partitions, b.bootstrap_word, b.client_config_word,
                        kpr._shell_word(r.topic || '.v2'), r.recommended_partitions,
                        coalesce(r.replication_factor, 3), r.topic, r.current_partitions)
       END AS remediation
FROM kpr.recommended_partitions r
-- the server's bootstrap servers (a placeholder the shell insists on where
-- the server is gone), and the client properties file, always a placeholder:
-- no secret in a statement
CROSS JOIN LATERAL (
    SELECT coalesce((SELECT kpr._shell_word(o.option_value)
                     FROM pg_catalog.pg_foreign_server s, pg_catalog.pg_options_to_table(s.srvoptions) o
                     WHERE s.srvname = r.server AND o.option_name = 'bootstrap_servers'),
                    '"${KAFKA_BOOTSTRAP_SERVERS:?the cluster''s bootstrap servers}"') AS bootstrap_word,
           '"${KAFKA_CLIENT_CONFIG:?the client properties file of the cluster}"' AS client_config_word
) b
CROSS JOIN LATERAL (SELECT kpr._keyed(r.keyed_share) AS keyed) k
WHERE r.action IN ('increase', 'over_provisioned');
COMMENT ON VIEW kpr.partition_changes IS 'Per topic of kpr.recommended_partitions to increase, the statements that make the change (kafka-topics.sh, Terraform''s Confluent provider, a Strimzi KafkaTopic) and what it does to keyed records; per over-provisioned topic, the way down (a new topic), never a decrease.  Prints, runs nothing; no secret in it.';
COMMENT ON COLUMN kpr.partition_changes.server IS 'Foreign server name of the cluster.';
COMMENT ON COLUMN kpr.partition_changes.topic IS 'Topic name.';
COMMENT ON COLUMN kpr.partition_changes.action IS 'increase or over_provisioned, as kpr.recommended_partitions says.';
COMMENT ON COLUMN kpr.partition_changes.current_partitions IS 'Partitions now.';
COMMENT ON COLUMN kpr.partition_changes.recommended_partitions IS 'Partitions recommended.';
COMMENT ON COLUMN kpr.partition_changes.keyed IS 'keyed or keyless (at least half, or fewer, of the records sampling read carry a key), or unknown (no sample: metrics sources cannot tell).';
COMMENT ON COLUMN kpr.partition_changes.keyed_warning IS 'For an increase: what it does to keys (each key moves to the partition of its hash modulo the new count, so per-key order breaks across the change), or that no key moves.';
COMMENT ON COLUMN kpr.partition_changes.kafka_topics_command IS 'For an increase: the kafka-topics.sh command, with the server''s bootstrap servers and the client properties file from the environment variable KAFKA_CLIENT_CONFIG (the shell refuses to run it without).';
COMMENT ON COLUMN kpr.partition_changes.terraform IS 'For an increase: the confluent_kafka_topic resource of Confluent''s Terraform provider with the new partitions_count (the provider increases it in place).';
COMMENT ON COLUMN kpr.partition_changes.strimzi IS 'For an increase: a Strimzi KafkaTopic with the new partitions (set the strimzi.io/cluster label to your Kafka resource).';
COMMENT ON COLUMN kpr.partition_changes.remediation IS 'For an over-provisioned topic: how to get fewer partitions (a new topic and a migration), since they cannot be removed.';
