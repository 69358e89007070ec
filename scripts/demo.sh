#!/usr/bin/env bash
# The demo, from a fresh Debian bookworm machine (as root, or with sudo):
#   1. installs the build packages and Prometheus (scripts/install-deps.sh --demo);
#   2. builds the extension and installs it into PostgreSQL 15;
#   3. starts a local Kafka cluster on 127.0.0.1, librdkafka's mock cluster
#      (3 brokers) holding the 31 topics of test/fixtures/kafka_mock/demo.spec,
#      and a local Prometheus (Debian's) backfilled with 35 days of the JMX
#      exporter's series for them (scripts/demo_history.py: MiB/s rates with
#      a daily cycle, growing, flat and shrinking topics, a spike, a hot
#      partition);
#   4. in a throwaway PostgreSQL 15 (pg_virtualenv): CREATE EXTENSION, a
#      server "demo" (the cluster for the topics, Prometheus for the traffic)
#      and a user mapping, kpr.collect('demo', 35), and prints the run and
#      kpr.recommended_partitions at the default 10 MiB/s per partition, with
#      divisor-friendly rounding: the counts, the forecasts, the reasons;
#   5. stops everything it started, also when a step fails.
# Nothing else is changed: no existing PostgreSQL cluster is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

# days of history the demo loads and collects
days=${KPR_DEMO_DAYS:-35}

if [[ "${1:-}" == --inner ]]; then
	bootstrap=$2 prometheus_url=$3
	psql -X -q -v ON_ERROR_STOP=1 -v bootstrap="$bootstrap" -v prometheus_url="$prometheus_url" \
		-v days="$days" <<-'SQL'
		\pset footer off
		SET client_min_messages = warning;
		CREATE EXTENSION kafka_partition_recommender;
		CREATE SERVER demo FOREIGN DATA WRAPPER kafka_partition_recommender
		    OPTIONS (bootstrap_servers :'bootstrap', metrics_source 'prometheus',
		             metrics_url :'prometheus_url');
		CREATE USER MAPPING FOR CURRENT_USER SERVER demo;
		-- counts that consumer groups of many sizes divide evenly
		INSERT INTO kpr.settings (server, partition_rounding) VALUES ('demo', 'divisor_friendly');

		\echo
		\echo '== SELECT kpr.collect(''demo'', ' :days ')  -- the topics from the cluster, their traffic from Prometheus'
		\timing on
		SELECT kpr.collect('demo', :days) AS run_id \gset
		\timing off
		SELECT run_id, status, metrics_source, first_day, last_day, broker_count,
		       topics_seen, rows_written, finished_at - started_at AS took
		FROM kpr.collection_runs WHERE run_id = :run_id;

		\echo
		\echo '== SELECT ... FROM kpr.recommended_partitions   (10 MiB/s per partition, factor 3, a year ahead)'
		SELECT topic,
		       current_partitions AS now,
		       recommended_partitions AS recommended,
		       action, decided_by,
		       kpr.format_bytes_per_sec(peak_bytes_in_per_sec) AS peak_in,
		       trend,
		       CASE WHEN trend IN ('growing', 'shrinking')
		            THEN kpr._format_rate_change(trend_bytes_in_per_sec_per_day) || '/day' END AS per_day,
		       kpr.format_bytes_per_sec(projected_peak_bytes_in_per_sec) AS in_a_year,
		       runs_out_on - (now() AT TIME ZONE 'UTC')::date AS runs_out_in_days
		FROM kpr.recommended_partitions
		WHERE server = 'demo'
		ORDER BY action, runs_out_on NULLS LAST, recommended_partitions - current_partitions DESC, topic;

		\echo
		\echo '== why: the reason column of a few topics'
		SELECT topic, reason FROM kpr.recommended_partitions
		WHERE server = 'demo'
		  AND topic IN ('orders.created', 'payments.authorized', 'legacy.batch_export')
		ORDER BY topic;

		\echo
		\echo '== hot partitions: a partition carrying at least twice the mean of its topic'
		SELECT topic, busiest_partition AS busiest, round(partition_skew::numeric, 2) AS skew,
		       round(100 * busiest_partition_share::numeric, 1) AS "share %", warning
		FROM kpr.recommended_partitions
		WHERE server = 'demo' AND hot_partition ORDER BY partition_skew DESC, topic;

		\echo
		\echo '== SELECT action, count(*) FROM kpr.recommended_partitions GROUP BY action'
		SELECT action, count(*) AS topics FROM kpr.recommended_partitions
		WHERE server = 'demo' GROUP BY action ORDER BY action;
	SQL
	exit 0
fi

scripts/install-deps.sh --demo

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
make -s
"${as_root[@]}" make -s install PG_CONFIG="$PG_CONFIG" >/dev/null

state=$(mktemp -d /tmp/kpr-demo.XXXXXX)
stop() {
	test/fixtures/prometheus/prometheus.sh stop "$state/prometheus"
	test/fixtures/kafka_mock/mock-cluster.sh stop "$state/mock"
	rm -rf "$state"
}
trap stop EXIT

bootstrap=$(test/fixtures/kafka_mock/mock-cluster.sh start "$state/mock" test/fixtures/kafka_mock/demo.spec 3) ||
	{ echo "demo.sh: the local Kafka cluster did not start" >&2; exit 1; }
echo "demo.sh: local Kafka cluster (librdkafka mock, 3 brokers) at $bootstrap"

python3 scripts/demo_history.py --openmetrics "$state/history.om" --days "$days" ||
	{ echo "demo.sh: the demo's traffic history could not be written" >&2; exit 1; }
prometheus_url=$(test/fixtures/prometheus/prometheus.sh start "$state/prometheus" --openmetrics "$state/history.om") ||
	{ echo "demo.sh: Prometheus did not start" >&2; exit 1; }
rm -f "$state/history.om"
echo "demo.sh: Prometheus with $days days of exporter series at $prometheus_url"

pg_virtualenv -v 15 -t "$PWD/scripts/demo.sh" --inner "$bootstrap" "$prometheus_url"
