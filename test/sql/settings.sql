-- kpr.settings: overrides globally, per server and per topic; the most
-- specific non-NULL value wins, NULL inherits, and the defaults apply when no
-- row says otherwise.  Every topic below peaks at 10485760 B/s (10 MiB/s) and
-- the partition throughput stays at its default 10485760 B/s, so the
-- recommendation equals ceil(factor x 1) = the factor in force, rounded up.

BEGIN;

CREATE FUNCTION pg_temp.d(days_ago integer) RETURNS date
    LANGUAGE sql STABLE AS $$ SELECT (now() AT TIME ZONE 'UTC')::date - days_ago $$;

INSERT INTO kpr.topic_inventory (server, topic, partition_count) VALUES
    ('gamma', 'plain', 1),
    ('gamma', 'own_factor', 1),
    ('gamma', 'inherits', 1),
    ('gamma', 'short_window', 1),
    ('delta', 'plain', 1);

-- 10 MiB/s yesterday; short_window also peaked at 40 MiB/s three days ago.
INSERT INTO kpr.consumption_daily (server, topic, day, peak_bytes_in_per_sec, source)
SELECT server, topic, pg_temp.d(1), 10485760, 'manual' FROM kpr.topic_inventory;
INSERT INTO kpr.consumption_daily (server, topic, day, peak_bytes_in_per_sec, source) VALUES
    ('gamma', 'short_window', pg_temp.d(3), 41943040, 'manual');

-- No settings rows: the defaults.  Factor 3 -> 3 partitions everywhere, except
-- short_window: its 40 MiB/s day is in the 7-day window, 40 x 3 / 10 = 12.
SELECT server, topic, throughput_factor, window_days, partition_throughput_bytes_per_sec,
       min_partitions, partition_rounding, max_partitions_per_broker,
       trend_days, min_trend_days, forecast_horizon_days
FROM kpr.effective_settings ORDER BY server, topic;
SELECT server, topic, recommended_partitions FROM kpr.recommended_partitions ORDER BY server, topic;

-- Global factor 2: every topic -> 2 (short_window: 40 x 2 / 10 = 8).
INSERT INTO kpr.settings (server, topic, throughput_factor) VALUES (NULL, NULL, 2);
-- Server gamma factor 4: gamma's topics -> 4 (short_window 16); delta keeps the global 2.
INSERT INTO kpr.settings (server, topic, throughput_factor) VALUES ('gamma', NULL, 4);
-- Topic gamma/own_factor factor 5 -> 5.
INSERT INTO kpr.settings (server, topic, throughput_factor) VALUES ('gamma', 'own_factor', 5);
-- Topic gamma/inherits sets only min_partitions (1, the default): its factor
-- stays gamma's 4, because NULL inherits.
INSERT INTO kpr.settings (server, topic, min_partitions) VALUES ('gamma', 'inherits', 1);
-- Topic gamma/short_window looks at 1 day only: the 40 MiB/s day drops out -> 10 x 4 / 10 = 4.
INSERT INTO kpr.settings (server, topic, window_days) VALUES ('gamma', 'short_window', 1);

SELECT server, topic, throughput_factor, window_days FROM kpr.effective_settings ORDER BY server, topic;
SELECT server, topic, throughput_factor, recommended_partitions, days_observed
FROM kpr.recommended_partitions ORDER BY server, topic;

-- Removing the global row brings back the default 3 where nothing closer applies.
DELETE FROM kpr.settings WHERE server IS NULL;
SELECT server, topic, throughput_factor, recommended_partitions
FROM kpr.recommended_partitions WHERE server = 'delta';

ROLLBACK;

-- Refused: a topic row without a server, a second row for the same scope
-- (NULLs included), and values that make no sense.
INSERT INTO kpr.settings (topic, throughput_factor) VALUES ('plain', 2);
INSERT INTO kpr.settings (server, throughput_factor) VALUES ('gamma', 4);
INSERT INTO kpr.settings (server, throughput_factor) VALUES ('gamma', 6);
INSERT INTO kpr.settings (throughput_factor) VALUES (2);
INSERT INTO kpr.settings (throughput_factor) VALUES (2);
INSERT INTO kpr.settings (throughput_factor) VALUES (0);
INSERT INTO kpr.settings (window_days) VALUES (0);
INSERT INTO kpr.settings (partition_throughput_bytes_per_sec) VALUES (0);
INSERT INTO kpr.settings (min_partitions) VALUES (0);
INSERT INTO kpr.settings (max_partitions_per_broker) VALUES (-1);
INSERT INTO kpr.settings (partition_rounding) VALUES ('round_nicely');
INSERT INTO kpr.settings (trend_days) VALUES (1);
INSERT INTO kpr.settings (min_trend_days) VALUES (1);
INSERT INTO kpr.settings (forecast_horizon_days) VALUES (-1);
SELECT server, topic, throughput_factor FROM kpr.settings ORDER BY server NULLS FIRST;
DELETE FROM kpr.settings;
