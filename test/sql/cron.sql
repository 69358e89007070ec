-- Scheduling with the real pg_cron: scripts/test.sh preloads it
-- (shared_preload_libraries = pg_cron, cron.database_name = this database,
-- cron.use_background_workers = on).  A job runs kpr.collect_all() as it
-- would every night; the test waits for pg_cron to run it once (jobs start
-- on minute boundaries) and checks what it wrote.
\getenv bootstrap KPR_MOCK_BOOTSTRAP
SELECT current_setting('shared_preload_libraries') ~ 'pg_cron' AS "pg_cron is preloaded",
       current_setting('cron.database_name') = current_database() AS "it schedules in this database";
CREATE EXTENSION pg_cron;
CREATE SERVER nightly FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap', topic_filter 'orders,clicks');
CREATE USER MAPPING FOR CURRENT_USER SERVER nightly
    OPTIONS ("ssl.key.password" 'SECRET-nightly-key-password');

SELECT cron.schedule('kpr-collect', '* * * * *', $$SELECT kpr.collect_all(2)$$) > 0 AS scheduled;
-- A run is over once pg_cron has written its last word.  A NOTICE that
-- pg_cron reads after the command ended is written with status
-- 'succeeded', and the command's tag (or its error) only in a second
-- update: until then the run is not over.
CREATE FUNCTION pg_temp.run_is_over(status text, return_message text) RETURNS boolean
LANGUAGE sql RETURN status = 'failed'
    OR (status = 'succeeded' AND return_message !~ '^(NOTICE|WARNING|INFO|LOG|DEBUG[0-9]?):');
-- the next minute boundary, and the collect itself: at most 150 s
SELECT regress_helpers.wait_until('pg_cron has run the job',
    $$EXISTS (SELECT FROM cron.job_run_details WHERE pg_temp.run_is_over(status, return_message))$$, '150 s');
SELECT cron.unschedule('kpr-collect');
-- a run started at a later minute boundary meanwhile must end first
SELECT regress_helpers.wait_until('no run of the job is left',
    $$NOT EXISTS (SELECT FROM cron.job_run_details WHERE NOT pg_temp.run_is_over(status, return_message))$$);

-- pg_cron's record, and ours.
SELECT status, return_message FROM cron.job_run_details ORDER BY runid LIMIT 1;
SELECT server, status, metrics_source, topics_seen, rows_written, run_by = current_user AS run_by_job_owner
FROM kpr.collection_runs ORDER BY run_id LIMIT 1;
SELECT topic, sum(records_in) AS records_in FROM kpr.consumption_daily
WHERE server = 'nightly' GROUP BY topic ORDER BY topic;

-- How an operator sees failures: both places, joined by time.
SELECT count(*) AS failed_jobs FROM cron.job_run_details WHERE status = 'failed';
SELECT count(*) AS failed_runs FROM kpr.collection_runs WHERE status IN ('failed', 'partial');

DELETE FROM kpr.partition_daily;
DELETE FROM kpr.consumption_daily;
DELETE FROM kpr.topic_inventory;
DELETE FROM kpr.collection_runs;
DROP SERVER nightly CASCADE;
DROP EXTENSION pg_cron;
