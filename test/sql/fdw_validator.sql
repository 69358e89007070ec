-- The foreign-data wrapper's validator: what servers and user mappings accept,
-- and the error, naming option and value, for everything they refuse.
-- Secret values below (containing "s3cr3t") must never appear in a message.
\set VERBOSITY default

-- Accepted ---------------------------------------------------------------

CREATE SERVER minimal FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092');

CREATE SERVER confluent_cloud FOREIGN DATA WRAPPER kafka_partition_recommender OPTIONS (
    bootstrap_servers 'pkc-123.us-east-1.aws.confluent.cloud:9092',
    metrics_source 'confluent',
    metrics_url 'https://api.telemetry.confluent.cloud',
    cluster_id 'lkc-abc123',
    "security.protocol" 'SASL_SSL',
    "sasl.mechanisms" 'PLAIN');

CREATE SERVER self_managed FOREIGN DATA WRAPPER kafka_partition_recommender OPTIONS (
    bootstrap_servers 'broker-1.example.com:9092, broker-2.example.com:9093 ,[::1]:9094,broker-4',
    metrics_source 'prometheus',
    metrics_url 'http://prometheus.example.com:9090/prom',
    topic_filter 'orders.*, payments-?,audit',
    include_internal 'true',
    "client.id" 'kpr',
    "socket.timeout.ms" '30000');

CREATE SERVER sampled FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers 'localhost:9092', metrics_source 'sampling', include_internal 'off');

CREATE USER MAPPING FOR CURRENT_USER SERVER confluent_cloud OPTIONS (
    "sasl.username" 'KAFKA_KEY', "sasl.password" 'kafka-s3cr3t',
    metrics_api_key 'CLOUD_KEY', metrics_api_secret 'cloud-s3cr3t');

-- A superuser may point librdkafka at files on the database server.
CREATE USER MAPPING FOR CURRENT_USER SERVER self_managed OPTIONS (
    "ssl.ca.location" '/etc/ssl/certs/ca-certificates.crt', "ssl.key.password" 'key-s3cr3t');

ALTER SERVER minimal OPTIONS (ADD metrics_source 'none', SET bootstrap_servers 'b1:9092,b2:9092');

SELECT srvname, unnest(srvoptions) AS option FROM pg_foreign_server
WHERE srvfdw = (SELECT oid FROM pg_foreign_data_wrapper WHERE fdwname = 'kafka_partition_recommender')
ORDER BY srvname;

-- Refused: names -----------------------------------------------------------

CREATE SERVER no_brokers FOREIGN DATA WRAPPER kafka_partition_recommender;
ALTER SERVER minimal OPTIONS (DROP bootstrap_servers);
CREATE SERVER typo FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_server '127.0.0.1:9092');
CREATE SERVER typo FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', metric_source 'confluent');
CREATE SERVER unknown FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', "no.such.property" '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER minimal OPTIONS ("sasl.passwrd" 'x');

-- Refused: options in the wrong place (secrets belong in user mappings) -----

CREATE SERVER leaky FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', "sasl.password" 'server-s3cr3t');
CREATE SERVER leaky FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', metrics_api_secret 'server-s3cr3t');
CREATE SERVER leaky FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', "ssl.key.pem" 'server-s3cr3t');
ALTER SERVER minimal OPTIONS (ADD "ssl.keystore.password" 'server-s3cr3t');
CREATE SERVER misplaced FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', metrics_api_key 'CLOUD_KEY');
CREATE USER MAPPING FOR CURRENT_USER SERVER minimal OPTIONS (bootstrap_servers 'other:9092');
CREATE USER MAPPING FOR CURRENT_USER SERVER minimal OPTIONS (metrics_source 'confluent');

-- Refused: librdkafka properties the extension owns or that load code -------

CREATE SERVER owned FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', "bootstrap.servers" '127.0.0.1:9093');
CREATE SERVER owned FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', "group.id" 'mine');
CREATE SERVER owned FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', "plugin.library.paths" '/tmp/evil');
CREATE USER MAPPING FOR CURRENT_USER SERVER minimal OPTIONS ("enable.auto.commit" 'true');

-- Refused: values ---------------------------------------------------------

CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', metrics_source 'datadog');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', include_internal 'maybe');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', metrics_source 'prometheus');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', metrics_url 'ftp://metrics.example.com');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', metrics_url 'https://');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', metrics_url 'https://key:url-s3cr3t@api.example.com/');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:99999');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers 'broker:');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers 'broker:ninety');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers ' , ');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers 'broker one:9092');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', topic_filter 'orders,,payments');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', topic_filter 'orders;payments');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', cluster_id '');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', cluster_id 'lkc abc');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', "security.protocol" 'SASL_TLS');
CREATE SERVER bad FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', "socket.timeout.ms" 'soon');
CREATE USER MAPPING FOR CURRENT_USER SERVER minimal OPTIONS (metrics_api_secret '');
CREATE USER MAPPING FOR CURRENT_USER SERVER minimal OPTIONS (metrics_api_key '');

-- Refused: the wrapper itself takes no options, and there are no foreign tables

ALTER FOREIGN DATA WRAPPER kafka_partition_recommender OPTIONS (ADD bootstrap_servers 'x:1');
CREATE FOREIGN TABLE topics (topic text) SERVER minimal;

-- Nothing refused above was created or changed.
SELECT srvname, unnest(srvoptions) AS option FROM pg_foreign_server
WHERE srvfdw = (SELECT oid FROM pg_foreign_data_wrapper WHERE fdwname = 'kafka_partition_recommender')
ORDER BY srvname;
SELECT srvname, array_length(umoptions, 1) AS option_count FROM pg_user_mappings ORDER BY srvname;

SET client_min_messages = warning;
DROP SERVER minimal, confluent_cloud, self_managed, sampled CASCADE;
RESET client_min_messages;

-- metrics_ca_file: a file the server reads, so an absolute path (and, see
-- privileges, superusers only).
CREATE SERVER ca_relative FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', metrics_ca_file 'certs/ca.pem');
CREATE SERVER ca_absolute FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', metrics_ca_file '/etc/ssl/certs/ca-certificates.crt');
DROP SERVER ca_absolute;
