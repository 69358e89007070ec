-- kpr.partition_changes on the real broker: its kafka-topics.sh command runs
-- as printed (Kafka's own TopicCommand, from the broker fixture's jars:
-- test/fixtures/kafka_broker/kafka-topics.sh) and does what the view says.
\getenv bootstrap KPR_BROKER_BOOTSTRAP
\getenv broker_state KPR_BROKER_STATE
SELECT :{?bootstrap} AND :{?broker_state} AS "the broker is running";

CREATE EXTENSION kafka_partition_recommender;
CREATE SERVER changes FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap');
CREATE USER MAPPING FOR CURRENT_USER SERVER changes;

-- A topic of this test's own, 2 partitions, made with the same tool (its
-- log4j warnings and answers discarded: the echo says it succeeded).
\! PATH="$PWD/test/fixtures/kafka_broker:$PATH" kafka-topics.sh --bootstrap-server "$KPR_BROKER_BOOTSTRAP" --create --topic kpr-changes --partitions 2 --replication-factor 1 >/dev/null 2>&1 && echo created
SELECT topic, partition_count FROM kpr.list_topics('changes') WHERE topic = 'kpr-changes';

-- Its history says 20 MiB/s yesterday: x 3 / 10 MiB/s = 6 partitions.
INSERT INTO kpr.topic_inventory (server, topic, partition_count, replication_factor)
VALUES ('changes', 'kpr-changes', 2, 1);
INSERT INTO kpr.consumption_daily (server, topic, day, peak_bytes_in_per_sec, peak_interval_seconds, source)
VALUES ('changes', 'kpr-changes', (now() AT TIME ZONE 'UTC')::date - 1, 20971520, 3600, 'manual');
SELECT action, current_partitions, recommended_partitions,
       replace(kafka_topics_command, :'bootstrap', 'BOOTSTRAP') AS kafka_topics_command
FROM kpr.partition_changes WHERE server = 'changes';

-- The command as printed, piped to a shell: without KAFKA_CLIENT_CONFIG
-- the shell refuses to run it; with an empty client properties file (the
-- broker's plaintext listener needs no settings) it runs.
\pset tuples_only on
\pset format unaligned
SELECT kafka_topics_command FROM kpr.partition_changes WHERE server = 'changes'
\g | (unset KAFKA_CLIENT_CONFIG; PATH="$PWD/test/fixtures/kafka_broker:$PATH" sh 2>/dev/null || echo refused without a client config)
SELECT kafka_topics_command FROM kpr.partition_changes WHERE server = 'changes'
\g | (PATH="$PWD/test/fixtures/kafka_broker:$PATH" KAFKA_CLIENT_CONFIG=/dev/null sh >/dev/null 2>&1 && echo altered)
\pset format aligned
\pset tuples_only off

-- The broker answers with the new count once its metadata has the change
-- (asked until then, at most 30 s).
DO $$
DECLARE
    partitions integer;
BEGIN
    FOR attempt IN 1..60 LOOP
        SELECT partition_count INTO partitions FROM kpr.list_topics('changes') WHERE topic = 'kpr-changes';
        EXIT WHEN partitions = 6;
        PERFORM pg_sleep(0.5);
    END LOOP;
END
$$;
SELECT topic, partition_count FROM kpr.list_topics('changes') WHERE topic = 'kpr-changes';

-- The same command again is refused by the broker (the topic has those
-- partitions already); nothing changes.
\pset tuples_only on
\pset format unaligned
SELECT kafka_topics_command FROM kpr.partition_changes WHERE server = 'changes'
\g | (PATH="$PWD/test/fixtures/kafka_broker:$PATH" KAFKA_CLIENT_CONFIG=/dev/null sh >/dev/null 2>&1 || echo refused by the broker)
\pset format aligned
\pset tuples_only off
SELECT topic, partition_count FROM kpr.list_topics('changes') WHERE topic = 'kpr-changes';

\! PATH="$PWD/test/fixtures/kafka_broker:$PATH" kafka-topics.sh --bootstrap-server "$KPR_BROKER_BOOTSTRAP" --delete --topic kpr-changes >/dev/null 2>&1 && echo deleted
DROP EXTENSION kafka_partition_recommender CASCADE;
