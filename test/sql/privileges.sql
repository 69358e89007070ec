-- Privileges: nothing for PUBLIC; the documented grants work; a role that
-- may create servers cannot make the database server read files or run
-- commands; other roles cannot read someone's credentials.

CREATE ROLE regress_kpr_nobody;
CREATE ROLE regress_kpr_reporter;
CREATE ROLE regress_kpr_operator;

-- The grants README.md documents for a reporting role.
GRANT USAGE ON SCHEMA kpr TO regress_kpr_reporter;
GRANT SELECT ON kpr.recommended_partitions TO regress_kpr_reporter;

-- ... and for an operator who registers clusters and tunes settings.
GRANT USAGE ON FOREIGN DATA WRAPPER kafka_partition_recommender TO regress_kpr_operator;
GRANT USAGE ON SCHEMA kpr TO regress_kpr_operator;
GRANT SELECT, INSERT, UPDATE, DELETE ON kpr.settings TO regress_kpr_operator;
GRANT SELECT ON ALL TABLES IN SCHEMA kpr TO regress_kpr_operator;

INSERT INTO kpr.topic_inventory (server, topic, partition_count) VALUES ('prod', 'orders', 4);
INSERT INTO kpr.consumption_daily (server, topic, day, peak_bytes_in_per_sec, source)
VALUES ('prod', 'orders', (now() AT TIME ZONE 'UTC')::date - 1, 10485760, 'manual');

-- A role without grants sees nothing.
SET ROLE regress_kpr_nobody;
SELECT count(*) FROM kpr.recommended_partitions;
SELECT count(*) FROM kpr.consumption_daily;
INSERT INTO kpr.settings (throughput_factor) VALUES (10);
CREATE SERVER sneaky FOREIGN DATA WRAPPER kafka_partition_recommender
    OPTIONS (bootstrap_servers '127.0.0.1:9092');
RESET ROLE;

-- The reporting role reads the recommendation (computed from tables it cannot
-- read directly: the view runs with its owner's rights) and nothing else.
SET ROLE regress_kpr_reporter;
SELECT server, topic, recommended_partitions, action, reason FROM kpr.recommended_partitions;
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
INSERT INTO kpr.settings (server, throughput_factor) VALUES ('prod', 2);
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

-- Another role cannot read the operator's credentials.
GRANT USAGE ON FOREIGN SERVER operator_cluster TO regress_kpr_reporter;
SET ROLE regress_kpr_reporter;
SELECT srvname, usename, umoptions FROM pg_user_mappings WHERE srvname = 'operator_cluster';
RESET ROLE;
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
