-- Planning ahead: the growth trend, the forecast and runs_out_on, and the
-- rounding modes, case by case with the arithmetic by hand.
--
-- Defaults unless a case overrides them: factor 3, 10 MiB/s (10485760 B/s)
-- per partition, window 7 days, trend over 28 days, a forecast from 14 days
-- observed, horizon 365 days, no rounding.  x is a day's distance from
-- today (d(28) is x = -28); the window is x = -7 .. -1.
--
-- One transaction, so "today" cannot move under the figures.

BEGIN;

CREATE FUNCTION pg_temp.d(days_ago integer) RETURNS date
    LANGUAGE sql STABLE AS $$ SELECT (now() AT TIME ZONE 'UTC')::date - days_ago $$;

-- A topic's daily peaks on the line level + slope * x, for x = -first .. -last.
CREATE FUNCTION pg_temp.line(topic text, first_x integer, last_x integer,
                             level double precision, slope double precision) RETURNS void
    LANGUAGE sql AS $$
    INSERT INTO kpr.consumption_daily (server, topic, day, peak_bytes_in_per_sec, peak_interval_seconds, source)
    SELECT 'plan', topic, pg_temp.d(-x), level + slope * x, 3600, 'manual'
    FROM generate_series(first_x, last_x) AS x
$$;

INSERT INTO kpr.collection_runs (server, started_at, finished_at, status, broker_count) VALUES
    ('plan', now(), now(), 'succeeded', 3);

INSERT INTO kpr.topic_inventory (server, topic, partition_count, replication_factor) VALUES
    ('plan', 'linear',               8, 3),
    ('plan', 'spike_outside_window', 8, 3),
    ('plan', 'gaps',                 8, 3),
    ('plan', 'just_enough_history',  8, 3),
    ('plan', 'too_little_history',   8, 3),
    ('plan', 'already_short',        4, 3),
    ('plan', 'lasts_past_horizon',  30, 3),
    ('plan', 'horizon_zero',         8, 3),
    ('plan', 'flat',                 6, 3),
    ('plan', 'noisy_flat',           6, 3),
    ('plan', 'shrinking',            4, 3);

-- linear: 20 MiB/s today, +128 KiB/s (131072 B/s) a day, 28 days.
--   window peak x = -1: 20971520 - 131072 = 20840448 (19.9 MiB/s);
--   today: 20840448 x 3 / 10485760 = 5.96 -> 6 partitions;
--   in 365 days: 20840448 + 365 x 131072 = 68681728 (65.5 MiB/s),
--   x 3 / 10485760 = 19.65 -> 20: the forecast decides, 20 (8 -> +12);
--   the current 8 carry 8 x 10485760 / 3 = 27962026.7 B/s: the peak passes
--   it after floor((27962026.7 - 20840448) / 131072) + 1 = 54 + 1 = 55 days.
SELECT pg_temp.line('linear', -28, -1, 20971520, 131072);
-- the same, with one day at 200 MiB/s three weeks ago (outside the 7-day
-- window): the trend and every figure stay those of linear.
SELECT pg_temp.line('spike_outside_window', -28, -1, 20971520, 131072);
UPDATE kpr.consumption_daily SET peak_bytes_in_per_sec = 209715200
WHERE topic = 'spike_outside_window' AND day = pg_temp.d(21);
-- the same line with a gap of 8 days (x = -27 .. -20 missing): 20 days
-- observed, the same figures.
SELECT pg_temp.line('gaps', -28, -28, 20971520, 131072);
SELECT pg_temp.line('gaps', -19, -1, 20971520, 131072);
-- 14 days (x = -14 .. -1): just enough, the same figures; 13 days: none.
SELECT pg_temp.line('just_enough_history', -14, -1, 20971520, 131072);
SELECT pg_temp.line('too_little_history', -13, -1, 20971520, 131072);
-- the line on 4 partitions: today's 6 are already more than 4, so it ran
-- out today.
SELECT pg_temp.line('already_short', -28, -1, 20971520, 131072);
-- the line on 30 partitions: they carry 104857600 B/s, reached after
-- (104857600 - 20840448) / 131072 = 641 days exactly, + 1 = 642 > 365: not
-- within the horizon; 20 needed then: over_provisioned.
SELECT pg_temp.line('lasts_past_horizon', -28, -1, 20971520, 131072);
-- the line with forecast_horizon_days 0: sized for today (6), and the 55
-- days lie beyond a horizon of 0.
SELECT pg_temp.line('horizon_zero', -28, -1, 20971520, 131072);
-- 20 MiB/s every day: slope 0, interval 0 .. 0: flat; 6 partitions needed
-- today and in a year; never runs out.
SELECT pg_temp.line('flat', -28, -1, 20971520, 0);
-- 20 MiB/s plus scattered noise of up to +-2 MiB/s (a fixed pseudo-random
-- sequence: (-x * 7919) mod 13 - 6, in sixths of 2 MiB/s): the pair slopes
-- spread either side of 0, and Sen's interval holds 0: flat, so nothing is
-- projected (slope and interval below).  Its highest day in the window, 22
-- MiB/s, needs 66 / 10 -> 7 today: more than the 6 it has.
INSERT INTO kpr.consumption_daily (server, topic, day, peak_bytes_in_per_sec, peak_interval_seconds, source)
SELECT 'plan', 'noisy_flat', pg_temp.d(-x), 20971520 + 2097152 * ((-x * 7919) % 13 - 6) / 6.0,
       3600, 'manual'
FROM generate_series(-28, -1) AS x;
-- 10 MiB/s today, -128 KiB/s a day: window peak x = -7: 10485760 + 7 x
-- 131072 = 11403264, x 3 / 10485760 = 3.26 -> 4 = current: keep;
-- shrinking, projected max(11403264 - 365 x 131072, 0) = 0 -> min 1.
SELECT pg_temp.line('shrinking', -28, -1, 10485760, -131072);

INSERT INTO kpr.settings (server, topic, forecast_horizon_days) VALUES ('plan', 'horizon_zero', 0);

SELECT topic, trend, trend_days_observed AS days,
       round(trend_bytes_in_per_sec_per_day::numeric, 1) AS slope,
       round(trend_low_bytes_in_per_sec_per_day::numeric, 1) AS slope_low,
       round(trend_high_bytes_in_per_sec_per_day::numeric, 1) AS slope_high,
       round(peak_bytes_in_per_sec::numeric, 1) AS peak,
       round(projected_peak_bytes_in_per_sec::numeric, 1) AS projected
FROM kpr.recommended_partitions ORDER BY topic;

SELECT trend, trend_low_bytes_in_per_sec_per_day < 0 AND trend_high_bytes_in_per_sec_per_day > 0
       AS interval_holds_0
FROM kpr.recommended_partitions WHERE topic = 'noisy_flat';

SELECT topic, current_partitions AS current, horizon_partitions AS horizon,
       recommended_partitions AS recommended, action, decided_by,
       runs_out_on - (now() AT TIME ZONE 'UTC')::date AS runs_out_in_days
FROM kpr.recommended_partitions ORDER BY topic;

SELECT topic, reason FROM kpr.recommended_partitions ORDER BY topic;

-- The trend's settings: horizon_zero fitted over trend_days 14 (x = -14 ..
-- -1) sees 14 days; min_trend_days 13 gives too_little_history a forecast,
-- the figures of linear.
UPDATE kpr.settings SET trend_days = 14, min_trend_days = 13 WHERE topic = 'horizon_zero';
INSERT INTO kpr.settings (server, topic, min_trend_days) VALUES ('plan', 'too_little_history', 13);
SELECT topic, trend, trend_days_observed AS days, horizon_partitions AS horizon, recommended_partitions,
       runs_out_on - (now() AT TIME ZONE 'UTC')::date AS runs_out_in_days
FROM kpr.recommended_partitions WHERE topic IN ('too_little_history', 'horizon_zero') ORDER BY topic;

ROLLBACK;

-- Rounding.  The divisor-friendly counts chosen for needs of 1 to 300:
SELECT array_agg(DISTINCT kpr.divisor_friendly_partitions(n) ORDER BY kpr.divisor_friendly_partitions(n))
       AS divisor_friendly
FROM generate_series(1, 300) AS n;
-- ... and at the edges: up to 1 gives 1; 385 gives 480 (15 x 32); past
-- 2^62, where doubling would overflow, 9 x 2^59; past the list, the number.
SELECT n, kpr.divisor_friendly_partitions(n)
FROM unnest(ARRAY[-5, 0, 1, 384, 385, 5000, 4611686018427387905, 9223372036854775807]) AS n;
-- each mode on needs of 7, 13, 50 and 121 partitions, with 3 and 5 brokers
-- and an unknown broker count:
--   broker_multiple 3: 9, 15, 51, 123; 5: 10, 15, 50, 125;
--   divisor_friendly: 8, 16, 60, 128;
--   divisor_friendly_broker_multiple 3: 3 x df(3, 5, 17, 41) = 3 x (3, 6, 24, 48) = 9, 18, 72, 144;
--                                    5: 5 x df(2, 3, 10, 25) = 5 x (2, 3, 12, 32) = 10, 15, 60, 160;
--   without a broker count, the divisor-friendly part only.
SELECT rounding, brokers,
       array_agg(kpr._round_partitions(needed, rounding, brokers) ORDER BY needed) AS rounded
FROM unnest(ARRAY['none', 'broker_multiple', 'divisor_friendly', 'divisor_friendly_broker_multiple']) AS rounding,
     unnest(ARRAY[3, 5, NULL]) AS brokers,
     unnest(ARRAY[7, 13, 50, 121]::bigint[]) AS needed
GROUP BY rounding, brokers
ORDER BY rounding, brokers NULLS LAST;

-- In the view: a need of 7 (peak 23.3 MiB/s x 3 / 10 MiB/s = 6.99 -> 7) on
-- 3 brokers under each mode, and on a server whose broker count no collect
-- has recorded.
BEGIN;
CREATE FUNCTION pg_temp.d(days_ago integer) RETURNS date
    LANGUAGE sql STABLE AS $$ SELECT (now() AT TIME ZONE 'UTC')::date - days_ago $$;
INSERT INTO kpr.collection_runs (server, started_at, finished_at, status, broker_count) VALUES
    ('plan', now(), now(), 'succeeded', 3);
INSERT INTO kpr.topic_inventory (server, topic, partition_count, replication_factor)
SELECT 'plan', r, 4, 3
FROM unnest(ARRAY['none', 'broker_multiple', 'divisor_friendly', 'divisor_friendly_broker_multiple']) AS r;
INSERT INTO kpr.topic_inventory (server, topic, partition_count, replication_factor) VALUES
    ('unknown_brokers', 'divisor_friendly_broker_multiple', 4, 3);
INSERT INTO kpr.consumption_daily (server, topic, day, peak_bytes_in_per_sec, peak_interval_seconds, source)
SELECT server, topic, pg_temp.d(1), 24466773, 3600, 'manual' FROM kpr.topic_inventory;
INSERT INTO kpr.settings (server, topic, partition_rounding)
SELECT server, topic, topic FROM kpr.topic_inventory;
SELECT server, topic, partition_rounding, recommended_partitions, decided_by, reason
FROM kpr.recommended_partitions ORDER BY server, topic;
ROLLBACK;

-- The aggregate on its own: the five points of the unit test (slope 5/4,
-- intercept 0, interval -1 .. 4); a NULL coordinate leaves its row out; one
-- x gives no slope; no rows give NULL; a non-finite point is refused.
SELECT (kpr.theil_sen(x, y)).*
FROM (VALUES (0, 0), (1, 2), (2, 1), (3, 5), (4, 4), (5, NULL), (NULL, 9)) AS p(x, y);
SELECT (kpr.theil_sen(x, y)).* FROM (VALUES (1, 2), (1, 3)) AS p(x, y);
SELECT kpr.theil_sen(x, y) IS NULL AS no_rows FROM (VALUES (1.0, 2.0)) AS p(x, y) WHERE false;
SELECT kpr.theil_sen(x, y) FROM (VALUES (1, 2), ('infinity'::float8, 3)) AS p(x, y);
-- 4,000 points fit; one more is refused (its pair slopes would need 64 MB)
SELECT (kpr.theil_sen(g, 2 * g)).slope FROM generate_series(1, 4000) AS g;
SELECT (kpr.theil_sen(g, 2 * g)).slope FROM generate_series(1, 4001) AS g;
-- as a window function, over a growing frame
SELECT x, (kpr.theil_sen(x, y) OVER (ORDER BY x)).slope
FROM (VALUES (0, 0), (1, 2), (2, 1), (3, 5), (4, 4)) AS p(x, y) ORDER BY x;
