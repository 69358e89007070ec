-- kpr.recommended_partitions, case by case, each with its arithmetic by hand.
--
-- Defaults in force unless a case overrides them: throughput_factor 3,
-- window_days 7, partition_throughput_bytes_per_sec 10485760 (10 MiB/s),
-- min_partitions 1, no rounding to a broker multiple, cap 4000 per broker.
-- pg_temp.d(n) is the UTC day n days before today, so the window is
-- d(7) .. d(1): today is incomplete and never counted.
--
-- Everything runs in one transaction, so now() -- and with it "today" --
-- cannot move between the inserts and the queries.

BEGIN;

CREATE FUNCTION pg_temp.d(days_ago integer) RETURNS date
    LANGUAGE sql STABLE AS $$ SELECT (now() AT TIME ZONE 'UTC')::date - days_ago $$;

-- alpha's broker count comes from its latest run that recorded one (3, not
-- the older 5); beta has no run, so its broker count is unknown.
INSERT INTO kpr.collection_runs (server, started_at, finished_at, status, broker_count) VALUES
    ('alpha', now() - interval '2 days', now() - interval '2 days', 'succeeded', 5),
    ('alpha', now() - interval '1 day',  now() - interval '1 day',  'succeeded', 3);

INSERT INTO kpr.topic_inventory (server, topic, partition_count, replication_factor, is_internal, missing_since) VALUES
    ('alpha', 'seed_example',          12,  3, false, NULL),
    ('alpha', 'exact_multiple',         3,  3, false, NULL),
    ('alpha', 'one_byte_over',          2,  3, false, NULL),
    ('alpha', 'broker_multiple',        3,  3, false, NULL),
    ('alpha', 'broker_multiple_exact',  6,  3, false, NULL),
    ('alpha', 'min_partitions',         2,  3, false, NULL),
    ('alpha', 'over_provisioned',     100,  3, false, NULL),
    ('alpha', 'daily_totals_only',      4,  3, false, NULL),
    ('alpha', 'peak_beats_estimate',    3,  3, false, NULL),
    ('alpha', 'window_edges',           1,  3, false, NULL),
    ('alpha', 'egress_not_sized',       2,  3, false, NULL),
    ('alpha', 'no_rows',                5,  3, false, NULL),
    ('alpha', 'all_zero',               5,  3, false, NULL),
    ('alpha', 'only_outside_window',    5,  3, false, NULL),
    ('alpha', '__consumer_offsets',    50,  3, true,  NULL),
    ('alpha', 'deleted_topic',          8,  3, false, now()),
    ('beta',  'broker_count_unknown',   7,  1, false, NULL);

INSERT INTO kpr.settings (server, topic, throughput_factor, partition_throughput_bytes_per_sec,
                          min_partitions, partition_rounding, note) VALUES
    ('alpha', 'seed_example',          2.5, 25000000, NULL, NULL, 'the seed''s worked example'),
    ('alpha', 'one_byte_over',         1,   NULL,     NULL, NULL, 'required = peak'),
    ('alpha', 'broker_multiple',       NULL, NULL,    NULL, 'broker_multiple', NULL),
    ('alpha', 'broker_multiple_exact', NULL, NULL,    NULL, 'broker_multiple', NULL),
    ('alpha', 'min_partitions',        NULL, NULL,    6,    NULL, NULL),
    ('beta',  'broker_count_unknown',  NULL, NULL,    NULL, 'broker_multiple', NULL);

INSERT INTO kpr.consumption_daily (server, topic, day, bytes_in, peak_bytes_in_per_sec,
                                   bytes_out, peak_bytes_out_per_sec, peak_interval_seconds, source) VALUES
    -- seed: 500 MB/s peak x factor 2.5 = 1250 MB/s; 1250e6 / 25e6 per partition = 50 exactly.
    -- 12 -> 50: increase by 38.
    ('alpha', 'seed_example', pg_temp.d(1), 8640000000000, 500000000, NULL, NULL, 3600, 'manual'),
    -- 10485760 x 3 = 31457280 = 3 x 10485760 exactly -> 3; current 3: keep.
    ('alpha', 'exact_multiple', pg_temp.d(2), NULL, 10485760, NULL, NULL, 3600, 'manual'),
    -- factor 1: 20971521 is one byte over 2 x 10485760 -> ceil(2.0000001) = 3; current 2: increase 1.
    ('alpha', 'one_byte_over', pg_temp.d(2), NULL, 20971521, NULL, NULL, 3600, 'manual'),
    -- 24466773 x 3 = 73400319; / 10485760 = 6.9999999 -> 7; on 3 brokers rounded up to 9.
    -- (On the older run's 5 brokers it would be 10.)  current 3: increase 6.
    ('alpha', 'broker_multiple', pg_temp.d(3), NULL, 24466773, NULL, NULL, 3600, 'manual'),
    -- 20971520 x 3 = 62914560 = 6 x 10485760 -> 6, already a multiple of 3 -> 6; current 6: keep.
    ('alpha', 'broker_multiple_exact', pg_temp.d(3), NULL, 20971520, NULL, NULL, 3600, 'manual'),
    -- 1048576 x 3 = 3145728; / 10485760 = 0.3 -> 1; min_partitions 6 -> 6; current 2: increase 4.
    ('alpha', 'min_partitions', pg_temp.d(1), NULL, 1048576, NULL, NULL, 3600, 'manual'),
    -- 5242880 x 3 = 15728640; / 10485760 = 1.5 -> 2; current 100: over_provisioned, delta -98.
    ('alpha', 'over_provisioned', pg_temp.d(1), NULL, 5242880, NULL, NULL, 3600, 'manual'),
    -- daily totals only: 1811939328000 / 86400 = 20971520 B/s, 905969664000 / 86400 = 10485760 B/s.
    -- peak (estimated) 20971520 x 3 = 62914560 -> 6; current 4: increase 2.
    -- average = (1811939328000 + 905969664000) / (2 x 86400) = 15728640.
    ('alpha', 'daily_totals_only', pg_temp.d(1), 1811939328000, NULL, NULL, NULL, NULL, 'manual'),
    ('alpha', 'daily_totals_only', pg_temp.d(2),  905969664000, NULL, NULL, NULL, NULL, 'manual'),
    -- measured peak 10485760 beats the other day's estimate 362387865600 / 86400 = 4194304:
    -- 10485760 x 3 -> 3; current 3: keep, not estimated.
    -- average = (181193932800 + 362387865600) / (2 x 86400) = 3145728.
    ('alpha', 'peak_beats_estimate', pg_temp.d(1), 181193932800, 10485760, NULL, NULL, 3600, 'manual'),
    ('alpha', 'peak_beats_estimate', pg_temp.d(2), 362387865600, NULL,     NULL, NULL, NULL, 'manual'),
    -- today (d(0)) and d(8) lie outside the window; their 1 GB/s peaks would give 287.
    -- Inside: d(7) 3495253 x 3 = 10485759 -> 0.9999999 -> 1, d(1) 1000 -> 1; current 1: keep; 2 days.
    ('alpha', 'window_edges', pg_temp.d(0), NULL, 1000000000, NULL, NULL, 3600, 'manual'),
    ('alpha', 'window_edges', pg_temp.d(8), NULL, 1000000000, NULL, NULL, 3600, 'manual'),
    ('alpha', 'window_edges', pg_temp.d(7), NULL, 3495253,    NULL, NULL, 3600, 'manual'),
    ('alpha', 'window_edges', pg_temp.d(1), NULL, 1000,       NULL, NULL, 3600, 'manual'),
    -- ingress sizes: 2097152 x 3 = 6291456 -> 0.6 -> 1; current 2: over_provisioned -1.
    -- Egress is ten times ingress (fan_out 10): sizing from its peak would wrongly give
    -- 20971520 x 3 / 10485760 = 6.  average in = 90596966400 / 86400 = 1048576.
    ('alpha', 'egress_not_sized', pg_temp.d(1), 90596966400, 2097152, 905969664000, 20971520, 3600, 'manual'),
    -- no traffic at all on two observed days: no_data, not a division by zero.
    ('alpha', 'all_zero', pg_temp.d(1), 0, 0, 0, 0, 3600, 'manual'),
    ('alpha', 'all_zero', pg_temp.d(2), 0, 0, 0, 0, 3600, 'manual'),
    -- only before the window: no_data with 0 days observed.
    ('alpha', 'only_outside_window', pg_temp.d(9), NULL, 1000000000, NULL, NULL, 3600, 'manual'),
    -- a topic no longer seen is not recommended on, whatever its history.
    ('alpha', 'deleted_topic', pg_temp.d(1), NULL, 1000000000, NULL, NULL, 3600, 'manual'),
    -- 24466773 x 3 -> 7; rounding asked but beta's broker count is unknown: 7, not rounded; keep.
    ('beta', 'broker_count_unknown', pg_temp.d(1), NULL, 24466773, NULL, NULL, 3600, 'manual');

SELECT server, topic, current_partitions AS current, days_observed AS days,
       peak_bytes_in_per_sec AS peak, required_bytes_per_sec AS required,
       recommended_partitions AS recommended, delta, action, decided_by, broker_count AS brokers
FROM kpr.recommended_partitions
ORDER BY server, topic;

-- The figures that explain them.
SELECT topic, avg_bytes_in_per_sec AS avg_in, peak_is_estimated AS estimated,
       avg_bytes_out_per_sec AS avg_out, peak_bytes_out_per_sec AS peak_out, fan_out,
       throughput_factor AS factor, partition_throughput_bytes_per_sec AS per_partition, min_partitions
FROM kpr.recommended_partitions
WHERE topic IN ('seed_example', 'daily_totals_only', 'peak_beats_estimate', 'egress_not_sized', 'all_zero')
ORDER BY topic;

-- The window is the window_days complete UTC days before today.
SELECT DISTINCT window_last_day - window_first_day + 1 AS window_length,
       window_last_day = (now() AT TIME ZONE 'UTC')::date - 1 AS ends_yesterday
FROM kpr.recommended_partitions;

-- Every reason names the constraint that decided.
SELECT server, topic, reason
FROM kpr.recommended_partitions
ORDER BY server, topic;

-- Per-broker cap.  If every alpha topic took max(current, recommended) -- no_data
-- topics keep their current count -- alpha would hold, with 3 replicas each on 3 brokers,
--   (50 seed + 3 + 3 + 9 + 6 + 6 + 100 + 6 + 3 + 1 + 2 + 5 + 5 + 5 + 50 __consumer_offsets)
--   = 254 partitions x 3 replicas / 3 brokers = 254 replicas per broker.
-- A cap of 253 warns on alpha's increases; a cap of 254 does not.
INSERT INTO kpr.settings (server, max_partitions_per_broker) VALUES ('alpha', 253);
SELECT topic, action, warning
FROM kpr.recommended_partitions
WHERE warning IS NOT NULL
ORDER BY topic;
UPDATE kpr.settings SET max_partitions_per_broker = 254 WHERE server = 'alpha' AND topic IS NULL;
SELECT count(*) AS warnings_at_cap_254
FROM kpr.recommended_partitions
WHERE warning IS NOT NULL;
-- The view reads that sum from kpr.server_load (one row per server, not every
-- topic's history): the writes above kept it equal to the sum over the view.
SELECT l.server, l.replicas_after_recommendations, l.topics,
       l.replicas_after_recommendations =
           (SELECT sum(greatest(r.current_partitions, coalesce(r.recommended_partitions, 0))
                       * coalesce(r.replication_factor, 1))
            FROM kpr.recommended_partitions r WHERE r.server = l.server) AS as_summed
FROM kpr.server_load l ORDER BY l.server;
-- A settings change recomputes it: ten times seed_example's factor makes it
-- need ten times the partitions, so the same cap of 254 now warns.
UPDATE kpr.settings SET throughput_factor = 25 WHERE server = 'alpha' AND topic = 'seed_example';
SELECT replicas_after_recommendations FROM kpr.server_load WHERE server = 'alpha';
SELECT topic, action, recommended_partitions, warning IS NOT NULL AS warned
FROM kpr.recommended_partitions WHERE server = 'alpha' AND action = 'increase' ORDER BY topic;
UPDATE kpr.settings SET throughput_factor = 2.5 WHERE server = 'alpha' AND topic = 'seed_example';
SELECT replicas_after_recommendations AS back_to FROM kpr.server_load WHERE server = 'alpha';

-- Hot partitions (server hot, 12 partitions each, peak 20971520 B/s = 20
-- MiB/s, factor 3: 60 MiB/s needs 6 partitions; current 12: over-provisioned,
-- which more partitions would not change).  skew = busiest / mean = share x
-- 12; hot at 2.0 or more by default.  The busiest partition alone needs
-- peak x share x factor:
--   keyed_hot    share 0.5 (skew 6), keys on 100%:  20 x 0.5 x 3 = 30 MiB/s > 10: warned, salt or re-key
--   keyless_hot  share 0.5, keys on 0%:              30 MiB/s > 10: warned, more partitions spread them
--   mostly_keyless share 0.5, keys on 25%:           30 MiB/s > 10: warned, most carry no key
--   unknown_keys share 0.25 (skew 3), keys unknown:  15 MiB/s > 10: warned, if keyed ...
--   hot_but_small share 1/3 (skew 4), peak 1 MiB/s:  1 x 1/3 x 3 = 1 MiB/s: hot, not warned
--   mild_skew    share 0.125 (skew 1.5):             not hot
--   raised_bar   skew 3 with hot_partition_skew 4:   not hot
--   no_detail    no partition figures:               NULL
-- The window's most skewed day speaks: keyed_hot's other day (skew 1.2, partition 3) does not.
INSERT INTO kpr.collection_runs (server, started_at, finished_at, status, broker_count) VALUES
    ('hot', now() - interval '1 day', now() - interval '1 day', 'succeeded', 3);
INSERT INTO kpr.topic_inventory (server, topic, partition_count, replication_factor)
SELECT 'hot', t, 12, 3
FROM unnest(ARRAY['keyed_hot', 'keyless_hot', 'mostly_keyless', 'unknown_keys', 'hot_but_small', 'mild_skew',
                  'raised_bar', 'no_detail']) AS t;
INSERT INTO kpr.settings (server, topic, hot_partition_skew) VALUES ('hot', 'raised_bar', 4);
INSERT INTO kpr.consumption_daily (server, topic, day, peak_bytes_in_per_sec, peak_interval_seconds,
                                   busiest_partition, busiest_partition_share, partition_skew,
                                   keyed_share, source) VALUES
    ('hot', 'keyed_hot',     pg_temp.d(1), 20971520, 3600, 7, 0.5,     6,   1,    'manual'),
    ('hot', 'keyed_hot',     pg_temp.d(2), 20971520, 3600, 3, 0.1,     1.2, 1,    'manual'),
    ('hot', 'keyless_hot',   pg_temp.d(1), 20971520, 3600, 0, 0.5,     6,   0,    'manual'),
    ('hot', 'mostly_keyless', pg_temp.d(1), 20971520, 3600, 4, 0.5,    6,   0.25, 'manual'),
    ('hot', 'unknown_keys',  pg_temp.d(1), 20971520, 3600, 5, 0.25,    3,   NULL, 'manual'),
    ('hot', 'hot_but_small', pg_temp.d(1), 1048576,  3600, 2, 1.0 / 3, 4,   1,    'manual'),
    ('hot', 'mild_skew',     pg_temp.d(1), 20971520, 3600, 1, 0.125,   1.5, 1,    'manual'),
    ('hot', 'raised_bar',    pg_temp.d(1), 20971520, 3600, 9, 0.25,    3,   1,    'manual'),
    ('hot', 'no_detail',     pg_temp.d(1), 20971520, 3600, NULL, NULL, NULL, NULL, 'manual');
SELECT topic, action, busiest_partition AS busiest, busiest_partition_share AS share,
       partition_skew AS skew, hot_partition AS hot, hot_partition_skew AS bar, keyed_share AS keyed
FROM kpr.recommended_partitions WHERE server = 'hot' ORDER BY topic;
SELECT topic, reason, warning
FROM kpr.recommended_partitions WHERE server = 'hot' ORDER BY topic;

-- Consumer groups (server groups, 4 partitions each, peak 1048576 B/s = 1
-- MiB/s, factor 3: 3145728 B/s required; 100-byte records: 86400000 bytes
-- in 864000 records).  A group's day gives its backlogged seconds and the
-- records it read meanwhile; a group reading one partition per member
-- (4 members on 4 partitions) gives records/s x 100 B / 4 per partition:
--   measured         g-fast 2000 rec/s for 60 min: 50000 B/s per partition;
--                    g-slow 1000 rec/s for 60 min, still behind: 25000 B/s.
--                    The slowest sets it: 3145728 / 25000 = 125.8 -> 126
--                    (increase), and g-slow is the group that needs them.
--   too_little       g-brief 1000 rec/s for 10 min, under the 30 minutes:
--                    assumed 10 MiB/s, 1 partition (over-provisioned), and
--                    the reason says why not the measured 25000 B/s.
--   forced_measured  as too_little with consumer_throughput measured: 126.
--   forced_assumed   as measured's g-slow with consumer_throughput assumed: 1.
--   short_members    g-two: 2 members on 4 partitions, 1000 rec/s for 60
--                    min, still behind: add_consumers; its rate is not a
--                    per-partition one, so the throughput stays assumed.
--   excluded         console-consumer-1 as g-slow, but the server's
--                    consumer_group_exclude leaves it out: no group counts.
INSERT INTO kpr.collection_runs (server, started_at, finished_at, status, broker_count) VALUES
    ('groups', now() - interval '1 day', now() - interval '1 day', 'succeeded', 3);
INSERT INTO kpr.topic_inventory (server, topic, partition_count, replication_factor)
SELECT 'groups', t, 4, 3
FROM unnest(ARRAY['measured', 'too_little', 'forced_measured', 'forced_assumed', 'short_members',
                  'excluded']) AS t;
INSERT INTO kpr.consumption_daily (server, topic, day, bytes_in, records_in, peak_bytes_in_per_sec,
                                   peak_interval_seconds, source)
SELECT 'groups', topic, pg_temp.d(1), 86400000, 864000, 1048576, 3600, 'manual'
FROM kpr.topic_inventory WHERE server = 'groups';
INSERT INTO kpr.settings (server, topic, consumer_throughput, consumer_group_exclude) VALUES
    ('groups', NULL, NULL, 'console-consumer-*, tools?'),
    ('groups', 'forced_measured', 'measured', NULL),
    ('groups', 'forced_assumed', 'assumed', NULL);
INSERT INTO kpr.consumer_group_daily (server, group_id, topic, day, samples, records_consumed,
                                      seconds_measured, max_lag, last_lag, last_sampled_at,
                                      max_members, max_members_on_topic, topic_partitions,
                                      seconds_backlogged, records_backlogged,
                                      peak_backlogged_records_per_sec) VALUES
    ('groups', 'g-fast',  'measured',        pg_temp.d(1), 61, 7200000, 3600, 90000, 0,    now(), 4, 4, 4, 3600, 7200000, 2100),
    ('groups', 'g-slow',  'measured',        pg_temp.d(1), 61, 3600000, 3600, 90000, 5000, now(), 4, 4, 4, 3600, 3600000, 1100),
    ('groups', 'g-brief', 'too_little',      pg_temp.d(1), 61, 3600000, 3600, 90000, 0,    now(), 4, 4, 4, 600,  600000,  1100),
    ('groups', 'g-brief', 'forced_measured', pg_temp.d(1), 61, 3600000, 3600, 90000, 0,    now(), 4, 4, 4, 600,  600000,  1100),
    ('groups', 'g-slow',  'forced_assumed',  pg_temp.d(1), 61, 3600000, 3600, 90000, 5000, now(), 4, 4, 4, 3600, 3600000, 1100),
    ('groups', 'g-two',   'short_members',   pg_temp.d(1), 61, 3600000, 3600, 90000, 5000, now(), 2, 2, 4, 3600, 3600000, 1100),
    ('groups', 'console-consumer-1', 'excluded', pg_temp.d(1), 61, 3600000, 3600, 90000, 5000, now(), 4, 4, 4, 3600, 3600000, 1100);
SELECT topic, action, recommended_partitions AS recommended, partition_throughput_bytes_per_sec AS per_partition,
       partition_throughput_source AS source, measured_partition_throughput_bytes_per_sec AS measured,
       measured_by_group AS by_group, consumer_groups AS groups, group_short_of_members AS short,
       group_behind AS behind
FROM kpr.recommended_partitions WHERE server = 'groups' ORDER BY topic;
SELECT topic, reason
FROM kpr.recommended_partitions WHERE server = 'groups' ORDER BY topic;
-- The globs: '*' any run, '?' one character, LIKE's own characters literal.
SELECT g, kpr._group_selected(g, NULL, 'console-consumer-*, tools?') AS counted,
       kpr._group_selected(g, 'billing_%', NULL) AS only_billing_percent
FROM unnest(ARRAY['console-consumer-7', 'tools1', 'tools12', 'billing_%', 'billingX%', 'g-fast']) AS g
ORDER BY g;

ROLLBACK;
