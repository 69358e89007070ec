-- Secrets: recognizable values in user mappings, and the paths where a
-- call fails or runs: refused SASL credentials, an unreachable cluster, the
-- Metrics API refusing a secret, collects of each, a call watched while it
-- runs.  None of the values may appear in an error, detail, hint or NOTICE
-- (the output below), in kpr.collection_runs, in pg_stat_activity, or in
-- the server log.  At the end, the same check over the whole suite: the
-- secrets of every test's user mappings, in every run row written and the
-- whole server log (see test secrets_watch).
\getenv bootstrap KPR_MOCK_BOOTSTRAP
\getenv confluent_url KPR_CONFLUENT_URL
SELECT :{?bootstrap} AND :{?confluent_url} AS "the peers are running";
SELECT (now() AT TIME ZONE 'UTC')::date AS today \gset
\setenv KPR_DB :DBNAME

-- The mock cluster speaks no SASL: every call is refused.
CREATE SERVER sasl_refused FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap', "security.protocol" 'SASL_PLAINTEXT',
             "sasl.mechanisms" 'PLAIN');
CREATE USER MAPPING FOR CURRENT_USER SERVER sasl_refused
    OPTIONS ("sasl.username" 'kpr-user', "sasl.password" 'SECRET-KAFKA-7d41');
-- Nothing listens there.
CREATE SERVER unreachable FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:1', "security.protocol" 'SASL_PLAINTEXT',
             "sasl.mechanisms" 'SCRAM-SHA-256');
CREATE USER MAPPING FOR CURRENT_USER SERVER unreachable
    OPTIONS ("sasl.username" 'kpr-user', "sasl.password" 'SECRET-DOWN-3e8f');
-- The Metrics API refuses this secret (401).
CREATE SERVER cloud_refused FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap', metrics_source 'confluent',
             metrics_url :'confluent_url', cluster_id 'lkc-kpr001');
CREATE USER MAPPING FOR CURRENT_USER SERVER cloud_refused
    OPTIONS (metrics_api_key 'KPRTESTKEY', metrics_api_secret 'SECRET-API-9b2c');
-- Works, slowly, with a secret property librdkafka keeps but does not use here.
CREATE SERVER slow FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap');
CREATE USER MAPPING FOR CURRENT_USER SERVER slow
    OPTIONS ("ssl.key.password" 'SECRET-SLOW-5a0c');

-- Each call's error, and whether its message, detail, hint or context
-- holds a secret (librdkafka's details carry timings, so only the message
-- is shown).
CREATE FUNCTION pg_temp.failure(statement text)
RETURNS TABLE (message text, secret_shown boolean)
LANGUAGE plpgsql AS $$
DECLARE
    detail text;
    hint text;
    context text;
BEGIN
    EXECUTE statement;
    RETURN QUERY SELECT 'no error'::text, false;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT, context = PG_EXCEPTION_CONTEXT;
    RETURN QUERY SELECT message, concat_ws(' ', message, detail, hint, context) LIKE '%SECRET-%';
END
$$;
SET kpr.kafka_timeout = '1s';
SELECT * FROM pg_temp.failure($$SELECT count(*) FROM kpr.list_topics('sasl_refused')$$);
SELECT * FROM pg_temp.failure($$SELECT count(*) FROM kpr.sample_topics('sasl_refused', 1)$$);
SELECT * FROM pg_temp.failure($$SELECT count(*) FROM kpr.list_topics('unreachable')$$);
SELECT * FROM pg_temp.failure(format($$SELECT count(*) FROM kpr.fetch_metrics('cloud_refused', %L, %L)$$,
                                     :'today'::date - 1, :'today'::date - 1));
SELECT * FROM pg_temp.failure($$SELECT kpr.collect('sasl_refused', 1)$$);
SELECT * FROM pg_temp.failure($$SELECT kpr.collect('unreachable', 1)$$);
SELECT * FROM pg_temp.failure($$SELECT kpr.collect('cloud_refused', 1)$$);
RESET kpr.kafka_timeout;

-- A call watched while it runs (the brokers hold its answers; it is
-- canceled once looked at): neither the caller's nor the worker's row of
-- pg_stat_activity shows a secret.
\! "$KPR_CONTROL" "$KPR_MOCK_STATE" 'rtt all 60000'
\! "$KPR_BACKGROUND" start watched psql -XAtq -d "$KPR_DB" -c "SET application_name = 'watched'" -c "SELECT count(*) FROM kpr.sample_topics('slow', 2) /* watched */"
SELECT regress_helpers.wait_for_sampling('slow');
SELECT count(*) FILTER (WHERE query LIKE '%watched%') AS caller,
       count(*) FILTER (WHERE backend_type = 'kafka_partition_recommender worker') AS worker,
       count(*) FILTER (WHERE query LIKE '%SECRET-%') AS showing_a_secret
FROM pg_stat_activity
WHERE pid <> pg_backend_pid()
  AND (query LIKE '%watched%' OR backend_type = 'kafka_partition_recommender worker');
SELECT pg_cancel_backend(pid) AS watched_call_canceled FROM pg_stat_activity WHERE application_name = 'watched';
\! "$KPR_BACKGROUND" wait watched
\! "$KPR_CONTROL" "$KPR_MOCK_STATE" 'rtt all 0'

-- The runs say why they failed, without the secrets.
SELECT server, status, split_part(error, E'\n', 1) AS error,
       error LIKE '%SECRET-%' OR coalesce(failed_topics::text, '') LIKE '%SECRET-%' AS shows_a_secret
FROM kpr.collection_runs ORDER BY run_id;
-- The server log has the errors, and no secret.
\! grep -c 'SECRET-' "$(dirname "$PGSYSCONFDIR")"/log/postgresql-*.log
\! grep -q 'refused the credentials of user "kpr-user"' "$(dirname "$PGSYSCONFDIR")"/log/postgresql-*.log && echo "errors are in the log"

-- Across the whole suite since test secrets_watch: every run row ever
-- written, and the whole server log (errors, warnings and NOTICEs of every
-- fault above, from backends and workers).
SELECT count(DISTINCT run_id) >= 20 AS at_least_20_runs,
       count(DISTINCT run_id) FILTER (WHERE status = 'failed') >= 10 AS at_least_10_failed,
       count(*) FILTER (WHERE concat_ws(' ', error, failed_topics::text)
                        ~ '(SECRET-|kpr-test-metrics-secret)') AS with_a_secret
FROM public.runs_seen;
\! grep -c -e 'SECRET-' -e 'kpr-test-metrics-secret' "$(dirname "$PGSYSCONFDIR")"/log/postgresql-*.log
\! grep -q 'NOTICE: *the Kafka cluster of server' "$(dirname "$PGSYSCONFDIR")"/log/postgresql-*.log && echo "NOTICEs are in the log"
DROP TRIGGER copy_run ON kpr.collection_runs;
DROP FUNCTION public.copy_run();
DROP TABLE public.runs_seen;
ALTER SYSTEM RESET log_min_messages;
SELECT pg_reload_conf();

SET client_min_messages = warning;
DELETE FROM kpr.partition_daily;
DELETE FROM kpr.consumption_daily;
DELETE FROM kpr.topic_inventory;
DELETE FROM kpr.collection_runs;
DROP SERVER sasl_refused, unreachable, cloud_refused, slow CASCADE;
RESET client_min_messages;
