/* kafka_partition_recommender 0.1.4 -> 0.1.5 */
\echo Use "ALTER EXTENSION kafka_partition_recommender UPDATE TO '0.1.5'" to load this file. \quit

-- 0.1.5: traffic below the topic (issue 16, first part: the sampling
-- source).  sample_topics returns each topic-day's records and bytes per
-- partition; collect keeps them in kpr.partition_daily for
-- kpr.partition_detail_days (90) and writes the day's busiest partition,
-- its share and the skew (busiest / mean) into kpr.consumption_daily.
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

ALTER TABLE kpr.consumption_daily
    ADD COLUMN busiest_partition integer CHECK (busiest_partition >= 0),
    ADD COLUMN busiest_partition_share double precision CHECK (busiest_partition_share BETWEEN 0 AND 1),
    ADD COLUMN partition_skew double precision CHECK (partition_skew >= 1);

COMMENT ON COLUMN kpr.consumption_daily.busiest_partition IS 'The partition that carried the most bytes that day (the lowest id of equals); NULL where the source gave no partition detail or the topic had no traffic.';
COMMENT ON COLUMN kpr.consumption_daily.busiest_partition_share IS 'The busiest partition''s share of the day''s bytes (1 / partitions when even).';
COMMENT ON COLUMN kpr.consumption_daily.partition_skew IS 'The busiest partition''s bytes / the mean over the topic''s partitions: 1 when even; the partition count when one partition carries everything.';

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
    partition_bytes bigint[])
AS 'MODULE_PATHNAME', 'kpr_sample_topics'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION kpr.sample_topics(name, integer, integer, text, boolean) IS
'Per topic and UTC day of the last complete days: records produced, counted by their timestamps (from offsets, exact while timestamps are in order; where the sample finds records out of their day, estimated within records_in_low .. records_in_high, records_exact false), bytes and average record size (key + value + headers), exact for partitions read whole (kpr.sample_seek_cost) and otherwise estimated from a sample of at most max_records_per_partition records per partition, stratified by hour where the broker answers offsets by time (stratified_by hour, else day), the busiest hour''s rate by its own bytes (hour strata only), the standard errors of bytes_in and of the peak, the topic''s timestamp type, the sampled records found outside their day or older than the record before them, and per partition (element k + 1 for partition k) its records and bytes.';

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
                       partition_skew = NULL,
                       source = excluded.source, run_id = excluded.run_id,
                       collected_at = excluded.collected_at
                RETURNING c.topic)
            SELECT count(*), array_agg(DISTINCT u.topic) INTO written, collected FROM upserted u;
        ELSIF source = 'sampling' THEN
            WITH sampled AS MATERIALIZED (
                SELECT s.*, b.busiest_partition, b.busiest_partition_share, b.partition_skew
                  FROM kpr.sample_topics(collect.server, window_last - window_first + 1) s
                  -- the busiest partition by bytes (the lowest id of equals), its
                  -- share of the day's bytes, and busiest / mean
                  LEFT JOIN LATERAL (
                      SELECT (p.k - 1)::integer AS busiest_partition,
                             p.bytes / nullif(sum(p.bytes) OVER (), 0) AS busiest_partition_share,
                             p.bytes / nullif(avg(p.bytes) OVER (), 0) AS partition_skew
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
                 WHERE detail_days > 0 AND s.day > today - 1 - detail_days
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
                        busiest_partition, busiest_partition_share, partition_skew,
                        source, run_id, collected_at)
                SELECT collect.server, s.topic, s.day, s.bytes_in, s.records_in, NULL, NULL,
                       s.peak_bytes_in_per_sec, NULL, s.peak_interval_seconds,
                       s.avg_record_bytes, s.bytes_in_stderr, s.peak_bytes_in_per_sec_stderr,
                       s.records_in_low, s.records_in_high,
                       s.sampled_out_of_day::double precision / nullif(s.sampled_records, 0),
                       s.sampled_backwards::double precision / nullif(s.sampled_records, 0),
                       s.busiest_partition, s.busiest_partition_share, s.partition_skew,
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
