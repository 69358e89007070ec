-- Collects interrupted from outside, each while its worker samples: the Kafka
-- cluster killed (SIGKILL), pg_cancel_backend, the calling backend
-- terminated, the database server restarted.  After each: the outcome the
-- user sees (an error, or a run row the next collect closes as failed),
-- history as it was, no worker left, and no socket left in the backend
-- (its only socket is its client connection).  The killed cluster is a
-- mock of its own ($KPR_MOCK_SPARE_STATE); the restart uses pg_ctlcluster
-- on the cluster pg_virtualenv made ($PGVERSION/regress).
\getenv bootstrap KPR_MOCK_BOOTSTRAP
\getenv spare_state KPR_MOCK_SPARE_STATE
\getenv mock_cluster KPR_MOCK_CLUSTER
SELECT :{?bootstrap} AND :{?spare_state} AND :{?mock_cluster} AS "the peers are known";
\setenv KPR_DB :DBNAME
SELECT pg_backend_pid() AS backend_pid \gset
\setenv KPR_BACKEND_PID :backend_pid

-- What a run row says: its status and the first line of its error (the
-- next lines quote librdkafka, with ports and timings).
CREATE FUNCTION pg_temp.run(run bigint) RETURNS TABLE (status text, error text)
LANGUAGE sql AS $$ SELECT status, split_part(error, E'\n', 1) FROM kpr.collection_runs WHERE run_id = run $$;

SET client_min_messages = warning;
CREATE SERVER mock FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap');
CREATE USER MAPPING FOR CURRENT_USER SERVER mock
    OPTIONS ("ssl.key.password" 'SECRET-mock-key-password');
SELECT kpr.collect('mock', 2) IS NOT NULL AS collected;
SELECT regress_helpers.history('mock') AS mock_history \gset

-- The Kafka cluster killed while its topics are sampled: the collect fails
-- with a clear error and the run row says why.  The cluster is a second mock
-- (three brokers), started here.
\set spare_bootstrap `"$KPR_MOCK_CLUSTER" start "$KPR_MOCK_SPARE_STATE" "$(dirname "$KPR_MOCK_CLUSTER")/sample.spec" 3`
CREATE SERVER spare FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'spare_bootstrap');
CREATE USER MAPPING FOR CURRENT_USER SERVER spare
    OPTIONS ("ssl.key.password" 'SECRET-spare-key-password');
SELECT kpr.collect('spare', 3) IS NOT NULL AS collected;
SELECT regress_helpers.history('spare') AS spare_history \gset
-- The collect is stopped after its listing while the cluster is told to
-- hold every answer (test/lib/collect_gate.sh), so that its sampling cannot
-- end before the cluster is killed.
\! "$KPR_BACKGROUND" start hold "$KPR_COLLECT_GATE" "$KPR_CONTROL" "$KPR_MOCK_SPARE_STATE" 'rtt all 60000'
\! "$KPR_BACKGROUND" start kill --after 'the spare cluster is sampled' "regress_helpers.sampling('spare')" sh -c 'kill -KILL "$(cat "$KPR_MOCK_SPARE_STATE/pid")" && echo killed'
SELECT regress_helpers.wait_for_gate();
-- Where the kill lands (metadata, offsets, fetches) decides which of the
-- errors naming the server and the cause comes first, so only that is shown.
CREATE FUNCTION pg_temp.collect_failure(server_name name, days integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    message text;
BEGIN
    PERFORM kpr.collect(server_name, days);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS message = MESSAGE_TEXT;
    RETURN CASE WHEN message LIKE '%server "' || server_name || '"%' THEN 'an error naming the server'
                ELSE message END;
END $$;
SET kpr.kafka_timeout = '2s';
SELECT pg_temp.collect_failure('spare', 3);
RESET kpr.kafka_timeout;
\! "$KPR_BACKGROUND" wait hold
\! "$KPR_BACKGROUND" wait kill
SELECT status, error LIKE '%server "spare"%' AS names_the_server
FROM kpr.collection_runs WHERE run_id = regress_helpers.latest_run('spare');
SELECT regress_helpers.history('spare') = :'spare_history' AS history_unchanged;
SELECT regress_helpers.workers_left();
\! echo "sockets held by the backend: $(ls -l /proc/$KPR_BACKEND_PID/fd | grep -c 'socket:')"
\! "$KPR_MOCK_CLUSTER" stop "$KPR_MOCK_SPARE_STATE"

-- pg_cancel_backend while the topics are sampled: canceled, and recorded.
-- Stopped after its listing, the collect goes on to a cluster that holds
-- its answers, so the cancel comes while it samples.
\! "$KPR_BACKGROUND" start hold "$KPR_COLLECT_GATE" "$KPR_CONTROL" "$KPR_MOCK_STATE" 'rtt all 60000'
\! "$KPR_BACKGROUND" start cancel --after 'the collect samples' "regress_helpers.sampling('mock')" psql -XAtq -d "$KPR_DB" -c "SELECT pg_cancel_backend($KPR_BACKEND_PID)"
SELECT regress_helpers.wait_for_gate();
\set VERBOSITY terse
SELECT kpr.collect('mock', 2);
\set VERBOSITY default
\! "$KPR_BACKGROUND" wait hold
\! "$KPR_BACKGROUND" wait cancel
SELECT * FROM pg_temp.run(regress_helpers.latest_run('mock'));
SELECT regress_helpers.history('mock') = :'mock_history' AS history_unchanged;
SELECT regress_helpers.workers_left();
\! echo "sockets held by the backend: $(ls -l /proc/$KPR_BACKEND_PID/fd | grep -c 'socket:')"

-- The calling backend terminated while its worker samples: the worker goes
-- too; the run row stays marked running, and the next collect closes it.
-- Another session's collect is stopped after its listing and the cluster
-- told to hold its answers (the gate, as above), so that the termination
-- comes while the collect samples.
\! "$KPR_CONTROL" "$KPR_MOCK_STATE" 'rtt all 0'
\! "$KPR_BACKGROUND" start hold "$KPR_COLLECT_GATE" "$KPR_CONTROL" "$KPR_MOCK_STATE" 'rtt all 60000'
SELECT regress_helpers.wait_for_gate();
\! "$KPR_BACKGROUND" start terminated sh -c 'psql -XAtq -d "$KPR_DB" -c "SET application_name = '"'to be terminated'"'" -c "SELECT kpr.collect('"'mock'"', 2)" >/dev/null 2>&1; echo "the session ended"'
\! "$KPR_BACKGROUND" wait hold
SELECT regress_helpers.wait_for_sampling('mock');
SELECT pg_terminate_backend(pid) AS terminated
FROM pg_stat_activity WHERE application_name = 'to be terminated';
\! "$KPR_BACKGROUND" wait terminated
SELECT regress_helpers.workers_left();
SELECT regress_helpers.latest_run('mock') AS terminated_run \gset
SELECT * FROM pg_temp.run(:terminated_run);
SELECT regress_helpers.history('mock') = :'mock_history' AS history_unchanged;

-- The database server restarted while a collect's worker samples: after the
-- restart no worker runs, the run row says running, and the next collect
-- closes it as failed.  Stopped and held as above.
\! "$KPR_CONTROL" "$KPR_MOCK_STATE" 'rtt all 0'
\! "$KPR_BACKGROUND" start hold "$KPR_COLLECT_GATE" "$KPR_CONTROL" "$KPR_MOCK_STATE" 'rtt all 60000'
SELECT regress_helpers.wait_for_gate();
\! "$KPR_BACKGROUND" start restarted sh -c 'psql -XAtq -d "$KPR_DB" -c "SELECT kpr.collect('"'mock'"', 2)" >/dev/null 2>&1; echo "the session ended"'
\! "$KPR_BACKGROUND" wait hold
SELECT regress_helpers.wait_for_sampling('mock');
\! pg_ctlcluster "$PGVERSION" regress restart -m fast
\c
SET client_min_messages = warning;
SELECT pg_backend_pid() AS backend_pid \gset
\setenv KPR_BACKEND_PID :backend_pid
\! "$KPR_BACKGROUND" wait restarted
SELECT count(*) AS workers FROM pg_stat_activity
WHERE backend_type = 'kafka_partition_recommender worker';
SELECT regress_helpers.latest_run('mock') AS restarted_run \gset
SELECT status FROM kpr.collection_runs WHERE run_id = :restarted_run;
SELECT regress_helpers.history('mock') = :'mock_history' AS history_unchanged;

-- The next collect (brokers answering at once again) closes both.
\! "$KPR_CONTROL" "$KPR_MOCK_STATE" 'rtt all 0'
SELECT kpr.collect('mock', 2) AS next_run \gset
SELECT run_id = :terminated_run AS terminated_run, run_id = :restarted_run AS restarted_run, status, error
FROM kpr.collection_runs WHERE run_id IN (:terminated_run, :restarted_run) ORDER BY run_id;
SELECT status FROM kpr.collection_runs WHERE run_id = :next_run;
SELECT regress_helpers.workers_left();
\! echo "sockets held by the backend: $(ls -l /proc/$KPR_BACKEND_PID/fd | grep -c 'socket:')"

DELETE FROM kpr.partition_daily;
DELETE FROM kpr.consumption_daily;
DELETE FROM kpr.topic_inventory;
DELETE FROM kpr.collection_runs;
DROP SERVER mock, spare CASCADE;
