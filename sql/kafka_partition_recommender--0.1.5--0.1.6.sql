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
    members               integer NOT NULL CHECK (members >= 0),
    members_on_topic      integer NOT NULL CHECK (members_on_topic >= 0),
    topic_partitions      integer CHECK (topic_partitions >= 0),
    partitions_assigned   integer NOT NULL CHECK (partitions_assigned >= 0),
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
COMMENT ON COLUMN kpr.consumer_group_samples.members IS 'Members of the group.';
COMMENT ON COLUMN kpr.consumer_group_samples.members_on_topic IS 'Members assigned a partition of the topic.';
COMMENT ON COLUMN kpr.consumer_group_samples.topic_partitions IS 'Partitions of the topic; NULL when the cluster has no such topic.';
COMMENT ON COLUMN kpr.consumer_group_samples.partitions_assigned IS 'Partitions of the topic held by a member.';
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
    max_members                integer NOT NULL CHECK (max_members >= 0),
    max_members_on_topic       integer NOT NULL CHECK (max_members_on_topic >= 0),
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
COMMENT ON COLUMN kpr.consumer_group_daily.max_members IS 'Most members sampled that day.';
COMMENT ON COLUMN kpr.consumer_group_daily.max_members_on_topic IS 'Most members assigned a partition of the topic.';
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
