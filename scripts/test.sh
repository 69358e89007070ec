#!/usr/bin/env bash
# The whole test suite, from a fresh Debian bookworm machine:
#   1. installs the Debian packages listed in scripts/install-deps.sh;
#   2. builds the extension with warnings as errors and installs it into
#      PostgreSQL 15 (as root, or through sudo);
#   3. the fast suite: starts its peers on 127.0.0.1 (a librdkafka mock
#      cluster with the topics of test/fixtures/kafka_mock/regress.spec; a
#      local Confluent Metrics API serving the same traffic plus 1,500
#      generated topics, so every query has two pages; a real Prometheus
#      holding the same traffic as exporter series), runs the unit tests
#      of the PostgreSQL-free C files (test/unit), a bounded fuzzing of their
#      parsers (test/fuzz, about 1.5 minutes) and the pg_regress suite
#      (REGRESS in the Makefile) in a throwaway PostgreSQL 15 cluster made by
#      pg_virtualenv, removed afterwards whatever the outcome;
#   4. the integration suite (skipped with --fast): a real Apache Kafka broker
#      from Maven Central with the Prometheus JMX exporter agent
#      (test/fixtures/kafka_broker) and a Prometheus scraping it every 2 s,
#      then the pg_regress tests of INTEGRATION in the Makefile in another
#      throwaway cluster;
#   5. stops every peer it started, also when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

integration=true
case "${1:-}" in
--fast) integration=false ;;
"") ;;
*) echo "usage: $0 [--fast]" >&2; exit 2 ;;
esac

if $integration; then
	scripts/install-deps.sh --integration
else
	scripts/install-deps.sh --tests
fi

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
make clean >/dev/null
make COPT=-Werror
"${as_root[@]}" make install PG_CONFIG="$PG_CONFIG"

fixtures=$(mktemp -d /tmp/kpr-fixtures.XXXXXX)
kafka_state="$fixtures/kafka"
# for a mock cluster a test starts and kills (collect_interrupted)
spare_kafka_state="$fixtures/kafka-spare"
confluent_state="$fixtures/confluent"
prometheus_state="$fixtures/prometheus"
broker_state="$fixtures/broker"
live_prometheus_state="$fixtures/live-prometheus"
stop_fixtures() {
	test/fixtures/prometheus/prometheus.sh stop "$live_prometheus_state"
	test/fixtures/kafka_broker/broker.sh stop "$broker_state"
	test/fixtures/prometheus/prometheus.sh stop "$prometheus_state"
	test/fixtures/confluent_metrics/stub.sh stop "$confluent_state"
	test/fixtures/kafka_mock/mock-cluster.sh stop "$spare_kafka_state"
	test/fixtures/kafka_mock/mock-cluster.sh stop "$kafka_state"
	rm -rf "$fixtures"
}
trap stop_fixtures EXIT

# pg_regress in a throwaway cluster, with pg_cron preloaded (the cron test
# schedules a collect in the regression database); prints the differences
# when it fails.
run_regress() {
	local suite=$1
	shift
	# external_pid_file: Debian's default path names the cluster (15/regress)
	# only, so clusters of two test runs at once shared it, and pg_ctlcluster
	# (collect_interrupted restarts the server) took one for the other.
	if ! pg_virtualenv -v 15 -t -o shared_preload_libraries=pg_cron \
		-o cron.database_name=contrib_regression -o cron.use_background_workers=on \
		-o "external_pid_file=/tmp/kpr-regress-$$.pid" \
		make installcheck "$@"; then
		[ -f test/regression.diffs ] && cat test/regression.diffs
		echo "test.sh: the $suite suite FAILED" >&2
		exit 1
	fi
}

# --- the fast suite --------------------------------------------------------

test/unit/run.sh || { echo "test.sh: the unit tests FAILED" >&2; exit 1; }
# the parsers of remote bytes under ASan/UBSan, 20 s per target, seed 1
test/fuzz/run.sh || { echo "test.sh: fuzzing FOUND A PROBLEM (see above)" >&2; exit 1; }

# A fixture that cannot start fails the suite here, loudly.
KPR_MOCK_BOOTSTRAP=$(test/fixtures/kafka_mock/mock-cluster.sh start "$kafka_state" \
	test/fixtures/kafka_mock/regress.spec 3) ||
	{ echo "test.sh: the Kafka mock cluster did not start" >&2; exit 1; }
export KPR_MOCK_BOOTSTRAP KPR_MOCK_STATE="$kafka_state" \
	KPR_MOCK_SPARE_STATE="$spare_kafka_state" \
	KPR_MOCK_CLUSTER="$PWD/test/fixtures/kafka_mock/mock-cluster.sh"
echo "test.sh: Kafka mock cluster at $KPR_MOCK_BOOTSTRAP"

KPR_CONFLUENT_URL=$(test/fixtures/confluent_metrics/stub.sh start "$confluent_state" \
	--hourly "$kafka_state/expected_hourly.csv" --synthetic-topics 1500) ||
	{ echo "test.sh: the Confluent Metrics API stub did not start" >&2; exit 1; }
export KPR_CONFLUENT_URL KPR_CONFLUENT_STATE="$confluent_state" \
	KPR_CONFLUENT_STUB="$PWD/test/fixtures/confluent_metrics/stub.sh"
echo "test.sh: Confluent Metrics API stub at $KPR_CONFLUENT_URL"

KPR_PROMETHEUS_URL=$(test/fixtures/prometheus/prometheus.sh start "$prometheus_state" \
	--hourly "$kafka_state/expected_hourly.csv" --retention 30d) ||
	{ echo "test.sh: Prometheus did not start" >&2; exit 1; }
export KPR_PROMETHEUS_URL KPR_PROMETHEUS_STATE="$prometheus_state"
echo "test.sh: Prometheus at $KPR_PROMETHEUS_URL"

run_regress fast
echo "test.sh: the fast suite passed"

# --- the integration suite -------------------------------------------------

if ! $integration; then
	echo "test.sh: integration suite skipped (--fast)"
	exit 0
fi

KPR_BROKER_BOOTSTRAP=$(test/fixtures/kafka_broker/broker.sh start "$broker_state" \
	test/fixtures/kafka_broker/integration.spec) ||
	{ echo "test.sh: the Kafka broker did not start" >&2; exit 1; }
KPR_BROKER_SASL_BOOTSTRAP=$(cat "$broker_state/sasl_bootstrap")
KPR_BROKER_METRICS_URL=$(cat "$broker_state/metrics_url")
export KPR_BROKER_BOOTSTRAP KPR_BROKER_SASL_BOOTSTRAP KPR_BROKER_METRICS_URL \
	KPR_BROKER_STATE="$broker_state"
echo "test.sh: Kafka broker at $KPR_BROKER_BOOTSTRAP (SASL $KPR_BROKER_SASL_BOOTSTRAP)"

KPR_LIVE_PROMETHEUS_URL=$(test/fixtures/prometheus/prometheus.sh start "$live_prometheus_state" \
	--scrape "$KPR_BROKER_METRICS_URL" --scrape-interval 2s) ||
	{ echo "test.sh: Prometheus scraping the broker did not start" >&2; exit 1; }
export KPR_LIVE_PROMETHEUS_URL
echo "test.sh: Prometheus scraping the broker's exporter at $KPR_LIVE_PROMETHEUS_URL"

run_regress integration REGRESS="$(make -s print-integration)"
echo "test.sh: all suites passed"
