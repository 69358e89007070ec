#!/usr/bin/env bash
# The demo, from a fresh Debian bookworm machine (as root, or with sudo):
#   1. installs the build packages (scripts/install-deps.sh, no option);
#   2. builds the extension and installs it into PostgreSQL 15;
#   3. starts a local Kafka cluster on 127.0.0.1: librdkafka's mock cluster
#      (3 brokers) holding the 31 topics of test/fixtures/kafka_mock/demo.spec,
#      7 days of traffic;
#   4. in a throwaway PostgreSQL 15 (pg_virtualenv): CREATE EXTENSION, a
#      server "demo" and a user mapping, kpr.collect('demo') (sampling: counts
#      from offsets, sizes from a bounded sample), and prints the run and
#      kpr.recommended_partitions;
#   5. stops everything it started, also when a step fails.
# Nothing else is changed: no existing PostgreSQL cluster is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

# The mock cluster keeps at most ~5 MiB per partition, so its traffic is a
# few hundred bytes per second per topic.  To make the recommendation as
# telling as on a real cluster, the demo sizes partitions for a consumer that
# sustains this many bytes per second per partition (real default: 10 MiB/s).
partition_throughput=${KPR_DEMO_PARTITION_THROUGHPUT:-4}

if [[ "${1:-}" == --inner ]]; then
	bootstrap=$2
	psql -X -q -v ON_ERROR_STOP=1 -v bootstrap="$bootstrap" \
		-v partition_throughput="$partition_throughput" <<-'SQL'
		\pset footer off
		SET client_min_messages = warning;
		CREATE EXTENSION kafka_partition_recommender;
		CREATE SERVER demo FOREIGN DATA WRAPPER kafka_partition_recommender
		    OPTIONS (bootstrap_servers :'bootstrap');
		CREATE USER MAPPING FOR CURRENT_USER SERVER demo;
		INSERT INTO kpr.settings (server, partition_throughput_bytes_per_sec)
		VALUES ('demo', :partition_throughput);

		\echo
		\echo '== SELECT kpr.collect(''demo'')  -- the last 7 complete UTC days, sampled'
		\timing on
		SELECT kpr.collect('demo') AS run_id \gset
		\timing off
		SELECT run_id, status, metrics_source, first_day, last_day, broker_count,
		       topics_seen, rows_written, finished_at - started_at AS took
		FROM kpr.collection_runs WHERE run_id = :run_id;

		\echo
		\echo '== SELECT ... FROM kpr.recommended_partitions'
		\echo '   (partition_throughput_bytes_per_sec scaled down to ' :partition_throughput ' B/s for the mock cluster''s tiny volumes)'
		SELECT topic,
		       current_partitions AS now,
		       recommended_partitions AS recommended,
		       delta, action,
		       kpr.format_bytes_per_sec(peak_bytes_in_per_sec) AS peak_in,
		       kpr.format_bytes_per_sec(required_bytes_per_sec) AS required
		FROM kpr.recommended_partitions
		WHERE server = 'demo'
		ORDER BY action, abs(delta) DESC, topic;

		\echo
		\echo '== why: the reason column of the largest changes'
		(SELECT topic, reason FROM kpr.recommended_partitions
		 WHERE server = 'demo' AND action = 'increase' ORDER BY delta DESC LIMIT 2)
		UNION ALL
		(SELECT topic, reason FROM kpr.recommended_partitions
		 WHERE server = 'demo' AND action = 'over_provisioned' ORDER BY delta LIMIT 1);

		\echo
		\echo '== hot partitions: a partition carrying at least twice the mean of its topic'
		SELECT topic, busiest_partition AS busiest, round(partition_skew::numeric, 2) AS skew,
		       round(100 * busiest_partition_share::numeric, 1) AS "share %",
		       round(100 * keyed_share::numeric) AS "keyed %"
		FROM kpr.recommended_partitions
		WHERE server = 'demo' AND hot_partition ORDER BY partition_skew DESC, topic;
		\echo '   and what to do about the most skewed one (its warning):'
		SELECT topic, warning FROM kpr.recommended_partitions
		WHERE server = 'demo' AND hot_partition AND warning IS NOT NULL
		ORDER BY partition_skew DESC, topic LIMIT 1;

		\echo
		\echo '== SELECT action, count(*) FROM kpr.recommended_partitions GROUP BY action'
		SELECT action, count(*) AS topics FROM kpr.recommended_partitions
		WHERE server = 'demo' GROUP BY action ORDER BY action;
	SQL
	exit 0
fi

scripts/install-deps.sh

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
make -s
"${as_root[@]}" make -s install PG_CONFIG="$PG_CONFIG" >/dev/null

state=$(mktemp -d /tmp/kpr-demo.XXXXXX)
stop() {
	test/fixtures/kafka_mock/mock-cluster.sh stop "$state"
	rm -rf "$state"
}
trap stop EXIT

bootstrap=$(test/fixtures/kafka_mock/mock-cluster.sh start "$state" test/fixtures/kafka_mock/demo.spec 3) ||
	{ echo "demo.sh: the local Kafka cluster did not start" >&2; exit 1; }
echo "demo.sh: local Kafka cluster (librdkafka mock, 3 brokers) at $bootstrap"

pg_virtualenv -v 15 -t "$PWD/scripts/demo.sh" --inner "$bootstrap"
