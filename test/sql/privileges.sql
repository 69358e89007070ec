-- Privileges: nothing for PUBLIC but a formatting helper; the documented
-- grants work; a role without them cannot collect or change settings; a
-- role that may create servers cannot make the database server read files
-- or run commands; other roles cannot read or use someone's credentials;
-- no function is SECURITY DEFINER.

CREATE ROLE regress_kpr_nobody;
CREATE ROLE regress_kpr_reporter;
CREATE ROLE regress_kpr_operator;

-- The grants README.md documents for a reporting role.
GRANT USAGE ON SCHEMA kpr TO regress_kpr_reporter;
GRANT SELECT ON kpr.recommended_partitions TO regress_kpr_reporter;
GRANT SELECT ON kpr.partition_changes TO regress_kpr_reporter;

-- ... and for an operator who registers clusters and tunes settings.
GRANT USAGE ON FOREIGN DATA WRAPPER kafka_partition_recommender TO regress_kpr_operator;
GRANT USAGE ON SCHEMA kpr TO regress_kpr_operator;
GRANT SELECT, INSERT, UPDATE, DELETE ON kpr.settings TO regress_kpr_operator;
GRANT SELECT ON ALL TABLES IN SCHEMA kpr TO regress_kpr_operator;

INSERT INTO kpr.topic_inventory (server, topic, partition_count) VALUES ('prod', 'orders', 4);
INSERT INTO kpr.consumption_daily (server, topic, day, peak_bytes_in_per_sec, source)
VALUES ('prod', 'orders', (now() AT TIME ZONE 'UTC')::date - 1, 10485760, 'manual');

-- A role without grants sees nothing.  (The library is loaded first, so
-- that its settings are known and SET checks them.)
LOAD '$libdir/kafka_partition_recommender';
SET ROLE regress_kpr_nobody;
SELECT count(*) FROM kpr.recommended_partitions;
SELECT count(*) FROM kpr.consumption_daily;
INSERT INTO kpr.settings (throughput_factor) VALUES (10);
CREATE SERVER sneaky FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092');
-- ... nor change the global settings of the extension.
SET kpr.max_workers = 100;
ALTER SYSTEM SET kpr.kafka_timeout = '1min';
ALTER DATABASE :"DBNAME" SET kpr.http_timeout = '1min';
RESET ROLE;

-- What a role without grants may call: the model's formatting helper, which
-- reads nothing; no collection function.
SELECT p.oid::regprocedure AS function,
       has_function_privilege('regress_kpr_nobody', p.oid, 'EXECUTE') AS callable_without_grants
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'kafka_partition_recommender')
ORDER BY p.oid::regprocedure::text;
-- and the schema's USAGE alone does not make them callable
GRANT USAGE ON SCHEMA kpr TO regress_kpr_nobody;
SET ROLE regress_kpr_nobody;
SELECT kpr.collect('prod');
SELECT kpr.collect_all();
SELECT * FROM kpr.list_topics('prod');
SELECT * FROM kpr.sample_topics('prod');
SELECT * FROM kpr.fetch_metrics('prod', current_date - 1, current_date - 1);
SELECT * FROM kpr.cluster_info('prod');
RESET ROLE;
REVOKE USAGE ON SCHEMA kpr FROM regress_kpr_nobody;

-- No function of the extension runs with its owner's rights, so none needs
-- a pinned search_path.
SELECT count(*) AS security_definer_functions
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'kafka_partition_recommender')
  AND p.prosecdef;

-- The reporting role reads the recommendation (computed from tables it cannot
-- read directly: the view runs with its owner's rights) and nothing else.
SET ROLE regress_kpr_reporter;
SELECT server, topic, recommended_partitions, action, reason FROM kpr.recommended_partitions;
SELECT server, topic, action, remediation IS NOT NULL AS has_remediation FROM kpr.partition_changes;
SELECT count(*) FROM kpr.consumption_daily;
SELECT count(*) FROM kpr.settings;
UPDATE kpr.settings SET throughput_factor = 10;
RESET ROLE;

-- The operator creates a server and its own user mapping, and changes settings.
SET ROLE regress_kpr_operator;
CREATE SERVER operator_cluster FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', "security.protocol" 'SSL',
             "ssl.ca.pem" '-----BEGIN CERTIFICATE-----');
CREATE USER MAPPING FOR CURRENT_USER SERVER operator_cluster
    OPTIONS ("sasl.username" 'operator', "sasl.password" 'operator-s3cr3t');
-- Without INSERT and DELETE on kpr.server_load, a settings change cannot
-- recompute it: a warning says what to grant, and the change goes through.
INSERT INTO kpr.settings (server, throughput_factor) VALUES ('prod', 2);
SELECT throughput_factor FROM kpr.settings WHERE server = 'prod';
-- but may not make the database server read its files or run commands
CREATE SERVER file_reader FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092', "ssl.ca.location" '/etc/passwd');
ALTER SERVER operator_cluster OPTIONS (ADD "sasl.kerberos.kinit.cmd" 'touch /tmp/owned');
ALTER USER MAPPING FOR CURRENT_USER SERVER operator_cluster
    OPTIONS (ADD "ssl.key.location" '/var/lib/postgresql/server.key');
ALTER SERVER operator_cluster OPTIONS (ADD metrics_ca_file '/etc/passwd');
-- nor write history or the inventory, which only collection writes
DELETE FROM kpr.consumption_daily;
RESET ROLE;

SELECT server, topic, throughput_factor, recommended_partitions FROM kpr.recommended_partitions;

-- Another role cannot read the operator's credentials, nor use them: the
-- functions take the caller's own user mapping.
GRANT USAGE ON FOREIGN SERVER operator_cluster TO regress_kpr_reporter;
GRANT EXECUTE ON FUNCTION kpr.list_topics TO regress_kpr_reporter;
SET ROLE regress_kpr_reporter;
SELECT srvname, usename, umoptions FROM pg_user_mappings WHERE srvname = 'operator_cluster';
SELECT * FROM kpr.list_topics('operator_cluster');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION kpr.list_topics FROM regress_kpr_reporter;
SET ROLE regress_kpr_operator;
SELECT srvname, usename, umoptions FROM pg_user_mappings WHERE srvname = 'operator_cluster';
RESET ROLE;

-- Clean up.
DELETE FROM kpr.settings;
DELETE FROM kpr.consumption_daily;
DELETE FROM kpr.topic_inventory;
SET client_min_messages = warning;
DROP SERVER operator_cluster CASCADE;
DROP OWNED BY regress_kpr_nobody, regress_kpr_reporter, regress_kpr_operator;
DROP ROLE regress_kpr_nobody, regress_kpr_reporter, regress_kpr_operator;
RESET client_min_messages;
