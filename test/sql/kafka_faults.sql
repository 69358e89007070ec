-- What a user meets when things go wrong: unreachable brokers, refused
-- credentials, statement_timeout and pg_cancel_backend during a call, no
-- free worker slot, a topic deleted during a call.  After each, no worker
-- may be left running.  Faults are injected into the mock cluster through
-- its control FIFO ($KPR_MOCK_STATE/control).
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

-- A slow cluster: every broker answers after 2 s.
\! for broker in 1 2 3; do echo "rtt $broker 2000" > "$KPR_MOCK_STATE/control"; done

-- statement_timeout stops the call; the worker goes too.
SET statement_timeout = '700ms';
SELECT * FROM kpr.list_topics('mock');
RESET statement_timeout;
SELECT regress_helpers.workers_left();

-- pg_cancel_backend from another session stops the call; the worker goes too.
\! (sleep 1; psql -XAtq -d "$KPR_DB" -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%cancel me%' AND backend_type = 'client backend' AND pid <> pg_backend_pid()") >/dev/null 2>&1 &
SELECT * FROM kpr.sample_topics('mock', 7, 100, 'cancel me*');
SELECT regress_helpers.workers_left();

-- No free worker slot: another session's call holds the only one.
\! (psql -XAtq -d "$KPR_DB" -c "SET kpr.kafka_timeout = '3s'; SELECT count(*) FROM kpr.list_topics('mock')") >/dev/null 2>&1 &
SELECT pg_sleep(1);
SET kpr.max_workers = 1;
SELECT * FROM kpr.list_topics('mock');
RESET kpr.max_workers;
SELECT regress_helpers.workers_left();

-- A topic deleted during a call is left out with a NOTICE; the others are
-- sampled.  librdkafka is told to refresh metadata often, the brokers answer
-- after 200 ms, and the topic disappears a second into the call.
\! for broker in 1 2 3; do echo "rtt $broker 200" > "$KPR_MOCK_STATE/control"; done
ALTER SERVER mock OPTIONS (ADD "topic.metadata.refresh.interval.ms" '100');
\! (sleep 1; echo "topic_error doomed 3" > "$KPR_MOCK_STATE/control") &
\set VERBOSITY terse
SELECT topic, sum(records_in) AS records_in
FROM kpr.sample_topics('mock', 2, 10, 'doomed,clicks')
GROUP BY topic ORDER BY topic;
\set VERBOSITY default
-- and a later call does not see it at all
SELECT topic FROM kpr.list_topics('mock', 'doomed,clicks') ORDER BY topic;
\! echo "topic_error doomed 0" > "$KPR_MOCK_STATE/control"
\! for broker in 1 2 3; do echo "rtt $broker 0" > "$KPR_MOCK_STATE/control"; done
SELECT regress_helpers.workers_left();

SET client_min_messages = warning;
DROP SERVER mock, refused, unresolvable, sasl CASCADE;
RESET client_min_messages;
