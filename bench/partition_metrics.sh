#!/usr/bin/env bash
# bench/partition_metrics.sh - requests made and wall time of
# kpr.fetch_partition_metrics on the Confluent Metrics API, against
# kpr.fetch_metrics on the same stub in the same run (the baseline), with
# KPR_BENCH_TOPICS (10,000) synthetic topics of KPR_BENCH_PARTITIONS (12)
# partitions each, over the 6 complete days the API keeps, with
# KPR_BENCH_LATENCY_MS (100) of latency per request.  Prints a table; it is a
# benchmark, not a test (it fails only when a step cannot run).
#
#   bench/partition_metrics.sh                      about 2 minutes
#   KPR_BENCH_TOPICS=1000 bench/partition_metrics.sh
#
# The Kafka side is the mock cluster of regress.spec: the synthetic topics
# are not its topics, so their rows are left out of the result (the function
# returns the cluster's topics only), but every request is made as for a
# cluster that has them: without partition_detail_min_records the queries
# name no topic.  The floor's smaller queries need the topics in the cluster
# and are not measured here (the fast test metrics_partitions shows them).
# Needs the extension installed (make install, or KPR_BENCH_EXT_DESTDIR as
# bench/scale.sh) and pg_virtualenv.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
mock_sh="$repo/test/fixtures/kafka_mock/mock-cluster.sh"
stub_sh="$repo/test/fixtures/confluent_metrics/stub.sh"
topics=${KPR_BENCH_TOPICS:-10000}
partitions=${KPR_BENCH_PARTITIONS:-12}
latency_ms=${KPR_BENCH_LATENCY_MS:-100}

if [[ "${1:-}" == --inner ]]; then
	url=$2
	stub_state=$3
	psql -X -q -v ON_ERROR_STOP=1 <<-SQL >/dev/null
		CREATE EXTENSION kafka_partition_recommender;
		CREATE SERVER bench FOREIGN DATA WRAPPER kafka_partition_recommender
		    OPTIONS (bootstrap_servers '$KPR_BENCH_BOOTSTRAP', metrics_source 'confluent',
		             metrics_url '$url', cluster_id 'lkc-kpr001');
		CREATE USER MAPPING FOR CURRENT_USER SERVER bench
		    OPTIONS (metrics_api_key 'KPRTESTKEY', metrics_api_secret 'kpr-test-metrics-secret');
	SQL
	# one call: its seconds, then "requests pages_of_the_busiest_query"
	measure() {
		local function=$1 t0 t1
		"$stub_sh" control "$stub_state" requests_clear >/dev/null
		t0=$EPOCHREALTIME
		psql -X -q -At -v ON_ERROR_STOP=1 \
			-c "SELECT count(*) FROM kpr.$function('bench', current_date - 6, current_date - 1)" >/dev/null
		t1=$EPOCHREALTIME
		python3 - "$stub_state/requests.jsonl" "$t0" "$t1" <<-'PY'
			import collections, json, sys
			rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
			pages = collections.Counter(r["body"] for r in rows)
			print(f"{float(sys.argv[3]) - float(sys.argv[2]):.2f} {len(rows)} {max(pages.values(), default=0)} {len(pages)}")
		PY
	}
	read -r base_s base_requests base_pages base_queries < <(measure fetch_metrics)
	read -r part_s part_requests part_pages part_queries < <(measure fetch_partition_metrics)
	printf 'partition_metrics.sh: %s topics x %s partitions, 6 days, %s ms per request, 4 in flight\n' \
		"$topics" "$partitions" "$latency_ms"
	printf '| call | queries | pages of the largest | requests | s | requests ÷ fetch_metrics | s ÷ fetch_metrics |\n|---|---|---|---|---|---|---|\n'
	printf '| fetch_metrics (baseline) | %s | %s | %s | %s | 1.000 | 1.000 |\n' \
		"$base_queries" "$base_pages" "$base_requests" "$base_s"
	printf '| fetch_partition_metrics | %s | %s | %s | %s | %s | %s |\n' \
		"$part_queries" "$part_pages" "$part_requests" "$part_s" \
		"$(awk -v a="$part_requests" -v b="$base_requests" 'BEGIN { printf "%.3f", a / b }')" \
		"$(awk -v a="$part_s" -v b="$base_s" 'BEGIN { printf "%.3f", a / b }')"
	exit 0
fi

work=$(mktemp -d)
cleanup() {
	"$stub_sh" stop "$work/stub" >/dev/null 2>&1 || true
	"$mock_sh" stop "$work/kafka" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
bootstrap=$("$mock_sh" start "$work/kafka" "$repo/test/fixtures/kafka_mock/regress.spec" 3) ||
	{ echo "partition_metrics.sh: the mock cluster did not start" >&2; exit 1; }
url=$("$stub_sh" start "$work/stub" --hourly "$work/kafka/expected_partition_hourly.csv" \
	--synthetic-topics "$topics" --synthetic-partitions "$partitions" --now midnight) ||
	{ echo "partition_metrics.sh: the Metrics API stub did not start" >&2; exit 1; }
"$stub_sh" control "$work/stub" latency_ms "$latency_ms" >/dev/null
options=()
if [[ -n "${KPR_BENCH_EXT_DESTDIR:-}" ]]; then
	options+=(-o "extension_destdir=$KPR_BENCH_EXT_DESTDIR"
		-o "dynamic_library_path=$KPR_BENCH_EXT_DESTDIR/usr/lib/postgresql/15/lib:\$libdir")
fi
pg_virtualenv -v 15 -t "${options[@]}" env KPR_BENCH_BOOTSTRAP="$bootstrap" \
	"$here/partition_metrics.sh" --inner "$url" "$work/stub"
