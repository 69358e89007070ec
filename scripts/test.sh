#!/usr/bin/env bash
# The whole test suite, from a fresh Debian bookworm machine:
#   1. installs the Debian packages listed in scripts/install-deps.sh;
#   2. builds the extension with warnings as errors and installs it into
#      PostgreSQL 15 (as root, or through sudo);
#   3. starts the peers of the fast suite on 127.0.0.1: a librdkafka mock
#      cluster with the topics of test/fixtures/kafka_mock/regress.spec, and a
#      local Confluent Metrics API (test/fixtures/confluent_metrics) serving
#      the same traffic plus 1,500 generated topics (two pages per query);
#   4. runs the pg_regress suite in a throwaway PostgreSQL 15 cluster made by
#      pg_virtualenv, which is removed afterwards whatever the outcome;
#   5. stops the peers, also when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
make clean >/dev/null
make COPT=-Werror
"${as_root[@]}" make install PG_CONFIG="$PG_CONFIG"

fixtures=$(mktemp -d /tmp/kpr-fixtures.XXXXXX)
kafka_state="$fixtures/kafka"
confluent_state="$fixtures/confluent"
stop_fixtures() {
	test/fixtures/confluent_metrics/stub.sh stop "$confluent_state"
	test/fixtures/kafka_mock/mock-cluster.sh stop "$kafka_state"
	rm -rf "$fixtures"
}
trap stop_fixtures EXIT

# A fixture that cannot start fails the suite here, loudly.
KPR_MOCK_BOOTSTRAP=$(test/fixtures/kafka_mock/mock-cluster.sh start "$kafka_state" \
	test/fixtures/kafka_mock/regress.spec 3) ||
	{ echo "test.sh: the Kafka mock cluster did not start" >&2; exit 1; }
export KPR_MOCK_BOOTSTRAP KPR_MOCK_STATE="$kafka_state"
echo "test.sh: Kafka mock cluster at $KPR_MOCK_BOOTSTRAP"

KPR_CONFLUENT_URL=$(test/fixtures/confluent_metrics/stub.sh start "$confluent_state" \
	--hourly "$kafka_state/expected_hourly.csv" --synthetic-topics 1500) ||
	{ echo "test.sh: the Confluent Metrics API stub did not start" >&2; exit 1; }
export KPR_CONFLUENT_URL KPR_CONFLUENT_STATE="$confluent_state" \
	KPR_CONFLUENT_STUB="$PWD/test/fixtures/confluent_metrics/stub.sh"
echo "test.sh: Confluent Metrics API stub at $KPR_CONFLUENT_URL"

if ! pg_virtualenv -v 15 -t make installcheck; then
	[ -f test/regression.diffs ] && cat test/regression.diffs
	echo "test.sh: the regression suite FAILED" >&2
	exit 1
fi
echo "test.sh: all suites passed"
