-- What a user meets when things go wrong: unreachable brokers, refused
-- credentials, statement_timeout and pg_cancel_backend during a call, no
-- free worker slot, a topic deleted during a call.  After each, no worker
-- may be left running.  Faults are injected into the mock cluster through
-- its control FIFO ($KPR_MOCK_STATE/control), by $KPR_CONTROL, which waits
-- for the mock to apply them; actions of another session wait for the
-- state they need ($KPR_BACKGROUND --after).
\getenv bootstrap KPR_MOCK_BOOTSTRAP
SELECT :{?bootstrap} AS "the mock cluster is running";
\setenv KPR_DB :DBNAME

CREATE SERVER mock FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap');
CREATE USER MAPPING FOR CURRENT_USER SERVER mock
    OPTIONS ("ssl.key.password" 'SECRET-mock-key-password');

-- Unreachable brokers: a clear error after kpr.kafka_timeout, not a hang.
CREATE SERVER refused FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:1');
CREATE USER MAPPING FOR CURRENT_USER SERVER refused
    OPTIONS ("ssl.key.password" 'SECRET-refused-key-password');
CREATE SERVER unresolvable FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers 'no-such-broker.invalid:9092');
CREATE USER MAPPING FOR CURRENT_USER SERVER unresolvable
    OPTIONS ("ssl.key.password" 'SECRET-unresolvable-key-password');
SET kpr.kafka_timeout = '1s';
\set VERBOSITY terse
SELECT * FROM kpr.list_topics('refused');
SELECT * FROM kpr.sample_topics('unresolvable');
-- below librdkafka's 1 s floor for connection set-up, too
SET kpr.kafka_timeout = '300ms';
SELECT * FROM kpr.list_topics('refused');
SET kpr.kafka_timeout = '1s';
\set VERBOSITY default
SELECT regress_helpers.workers_left();

-- Credentials the cluster refuses (the mock has no SASL, so the handshake
-- itself fails): the error names the server, and no secret appears in it.
CREATE SERVER sasl FOREIGN DATA WRAPPER kafka_partition_recommender OPTIONS (
    bootstrap_servers :'bootstrap', "security.protocol" 'SASL_PLAINTEXT', "sasl.mechanisms" 'PLAIN');
CREATE USER MAPPING FOR CURRENT_USER SERVER sasl
    OPTIONS ("sasl.username" 'alice', "sasl.password" 'SECRET-alice-password');
DO $$
DECLARE
    message text;
    detail text;
    hint text;
BEGIN
    PERFORM * FROM kpr.list_topics('sasl');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RAISE NOTICE 'error: %', message;
    RAISE NOTICE 'secret in message, detail or hint: %',
        concat_ws(' ', message, detail, hint) LIKE '%SECRET-%';
END $$;
RESET kpr.kafka_timeout;

-- A slow cluster: every broker holds each answer for 60 s, so that each
-- call below runs until the test ends it.  Each fault is acknowledged by
-- the mock before the test goes on (test/fixtures/lib/control.sh).
\! "$KPR_CONTROL" "$KPR_MOCK_STATE" 'rtt all 60000'

-- statement_timeout stops the call; the worker goes too.
SET statement_timeout = '700ms';
SELECT * FROM kpr.list_topics('mock');
RESET statement_timeout;
SELECT regress_helpers.workers_left();

-- pg_cancel_backend from another session stops the call; the worker goes
-- too.  The cancel is sent once the call's worker runs (and the cluster
-- holds its answers, so the call cannot end first).
SELECT pg_backend_pid() AS backend_pid \gset
\setenv KPR_BACKEND_PID :backend_pid
\! "$KPR_BACKGROUND" start canceller --after 'the call runs' "regress_helpers.sampling('mock')" psql -XAtq -d "$KPR_DB" -c "SELECT pg_cancel_backend($KPR_BACKEND_PID)"
SELECT * FROM kpr.sample_topics('mock', 7, 100, 'cancel me*');
\! "$KPR_BACKGROUND" wait canceller
SELECT regress_helpers.workers_left();

-- No free worker slot: another session's call holds the only one.  Its
-- worker waits for the slow cluster until the test cancels it.
\! "$KPR_BACKGROUND" start holder psql -XAtq -d "$KPR_DB" -c "SET application_name = 'slot holder'" -c "SET kpr.kafka_timeout = '60s'" -c "SELECT count(*) FROM kpr.list_topics('mock')"
SELECT regress_helpers.wait_until('the other session''s worker holds a slot', $$
    EXISTS (SELECT FROM pg_stat_activity WHERE query = 'list_topics on server mock')
    AND EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND classid = x'6b707200'::int AND granted)$$);
SET kpr.max_workers = 1;
SELECT * FROM kpr.list_topics('mock');
RESET kpr.max_workers;
SELECT pg_cancel_backend(pid) AS holder_canceled FROM pg_stat_activity WHERE application_name = 'slot holder';
\! "$KPR_BACKGROUND" wait holder
SELECT regress_helpers.workers_left();

-- A topic deleted during a call is left out with a NOTICE; the others are
-- sampled.  librdkafka is told to refresh metadata often, the brokers answer
-- after 200 ms, and the topic disappears once the worker has listed the
-- topics and counts their records (its pg_stat_activity row says so; the
-- counting and sampling after it take seconds of round trips).
\! "$KPR_CONTROL" "$KPR_MOCK_STATE" 'rtt all 200'
ALTER SERVER mock OPTIONS (ADD "topic.metadata.refresh.interval.ms" '100');
\! "$KPR_BACKGROUND" start deleter --after 'the call has listed its topics' "EXISTS (SELECT FROM pg_stat_activity WHERE starts_with(query, 'sample_topics on server mock: counting'))" "$KPR_CONTROL" "$KPR_MOCK_STATE" 'topic_error doomed 3'
\set VERBOSITY terse
SELECT topic, sum(records_in) AS records_in
FROM kpr.sample_topics('mock', 2, 10, 'doomed,clicks')
GROUP BY topic ORDER BY topic;
\set VERBOSITY default
\! "$KPR_BACKGROUND" wait deleter
-- and a later call does not see it at all
SELECT topic FROM kpr.list_topics('mock', 'doomed,clicks') ORDER BY topic;
\! "$KPR_CONTROL" "$KPR_MOCK_STATE" 'topic_error doomed 0' 'rtt all 0'
SELECT regress_helpers.workers_left();

SET client_min_messages = warning;
DROP SERVER mock, refused, unresolvable, sasl CASCADE;
RESET client_min_messages;
