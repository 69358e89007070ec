/* kafka_partition_recommender 0.1.0 -> 0.1.1 */
\echo Use "ALTER EXTENSION kafka_partition_recommender UPDATE TO '0.1.1'" to load this file. \quit

-- 0.1.1 adds kpr.collection_health: for each server, how its latest collect
-- ended and how old the history is, for monitoring a daily schedule.  No
-- table changes: history and settings are kept as they are.

CREATE VIEW kpr.collection_health AS
SELECT s.srvname::text AS server,
       r.run_id AS last_run_id,
       r.status AS last_status,
       r.started_at AS last_started_at,
       r.finished_at AS last_finished_at,
       r.error AS last_error,
       (SELECT max(c.day) FROM kpr.consumption_daily c WHERE c.server = s.srvname) AS newest_day,
       (now() AT TIME ZONE 'UTC')::date - 1
           - (SELECT max(c.day) FROM kpr.consumption_daily c WHERE c.server = s.srvname) AS days_behind,
       (SELECT max(ok.finished_at) FROM kpr.collection_runs ok
         WHERE ok.server = s.srvname AND ok.status IN ('succeeded', 'partial')) AS last_success_at
FROM pg_catalog.pg_foreign_server s
JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
LEFT JOIN LATERAL (
    SELECT * FROM kpr.collection_runs r
    WHERE r.server = s.srvname
    ORDER BY r.run_id DESC
    LIMIT 1) r ON true
WHERE w.fdwname = 'kafka_partition_recommender';

COMMENT ON VIEW kpr.collection_health IS 'Per server: how its latest collect ended, and how far behind its history is; for monitoring the daily schedule.';
COMMENT ON COLUMN kpr.collection_health.server IS 'Foreign server name.';
COMMENT ON COLUMN kpr.collection_health.last_run_id IS 'The latest run of the server; NULL if it was never collected.';
COMMENT ON COLUMN kpr.collection_health.last_status IS 'How the latest run ended: running, succeeded, partial or failed.';
COMMENT ON COLUMN kpr.collection_health.last_started_at IS 'When the latest run started.';
COMMENT ON COLUMN kpr.collection_health.last_finished_at IS 'When the latest run ended; NULL while it runs.';
COMMENT ON COLUMN kpr.collection_health.last_error IS 'Why the latest run failed, if it did.';
COMMENT ON COLUMN kpr.collection_health.newest_day IS 'The newest UTC day of the server''s history.';
COMMENT ON COLUMN kpr.collection_health.days_behind IS 'Complete UTC days missing after newest_day (0 when yesterday is collected); NULL without history.';
COMMENT ON COLUMN kpr.collection_health.last_success_at IS 'When a run of the server last succeeded (or ended partial).';

REVOKE ALL ON kpr.collection_health FROM PUBLIC;
