-- kpr.list_topics against a real Kafka protocol peer: librdkafka's mock
-- cluster, started by scripts/test.sh with test/fixtures/kafka_mock/regress.spec.
\getenv bootstrap KPR_MOCK_BOOTSTRAP
SELECT :{?bootstrap} AS "the mock cluster is running (KPR_MOCK_BOOTSTRAP is set)";

CREATE SERVER mock FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers :'bootstrap');

-- No user mapping yet: a clear error that says how to make one.
SELECT * FROM kpr.list_topics('mock');
CREATE USER MAPPING FOR CURRENT_USER SERVER mock;

-- The mock cannot describe configurations: one NOTICE, NULL retention and
-- cleanup policy.  (The mock also reports min(3, brokers) replicas whatever
-- a topic was created with.)  _schemas is internal and left out by default.
SELECT * FROM kpr.list_topics('mock') ORDER BY topic;

SELECT topic, is_internal FROM kpr.list_topics('mock', include_internal => true)
WHERE topic LIKE '\_%' ORDER BY topic;

-- topic_filter patterns: '*' any run, '?' one character.
SELECT topic FROM kpr.list_topics('mock', 'o*, pay?ents, nothing') ORDER BY topic;

-- The server's options apply when the arguments are NULL; arguments win.
ALTER SERVER mock OPTIONS (ADD topic_filter 'c*,*_idle', ADD include_internal 'true');
SELECT topic FROM kpr.list_topics('mock') ORDER BY topic;
SELECT topic FROM kpr.list_topics('mock', '_*') ORDER BY topic;
SELECT topic FROM kpr.list_topics('mock', '_*', false) ORDER BY topic;
ALTER SERVER mock OPTIONS (DROP topic_filter, DROP include_internal);

-- Bad arguments and unknown servers.
SELECT * FROM kpr.list_topics('mock', 'orders;drop');
SELECT * FROM kpr.list_topics('mock', ',');
SELECT * FROM kpr.list_topics('no_such_server');
SELECT * FROM kpr.list_topics(NULL);

-- Topic names are valid text in the database encoding, usable in joins.
SELECT count(*) AS topics, sum(partition_count) AS partitions
FROM kpr.list_topics('mock', include_internal => true);

-- Consumer groups: librdkafka's mock cluster answers neither ListGroups nor
-- DescribeGroups: a clear error, not a crash or
-- an empty answer.  Real groups are listed in integration_consumer_groups.
SELECT * FROM kpr.list_consumer_groups('mock');
SELECT * FROM kpr.list_consumer_groups('mock', 'billing-*, ,audit');
SELECT * FROM kpr.list_consumer_groups('mock', 'billing-[0-9]');
SELECT * FROM kpr.list_consumer_groups(NULL);

SET client_min_messages = warning;
DROP SERVER mock CASCADE;
RESET client_min_messages;
