#!/usr/bin/env bash
# bench/partition_metrics.sh - requests made and wall time of
# kpr.fetch_partition_metrics on the Confluent Metrics API, against
# kpr.fetch_metrics on the same stub in the same run (the baseline), with
# KPR_BENCH_TOPICS (10,000) synthetic topics of KPR_BENCH_PARTITIONS (12)
# partitions each, over the 6 complete days the API keeps, with
# KPR_BENCH_LATENCY_MS (100) of latency per request; then the same call with
# the server option partition_detail_min_records (the floor, KPR_BENCH_FLOOR,
# 92,000 records on a topic's busiest day: about 10% of the synthetic
# topics reach it) on a Kafka cluster that holds the synthetic topics.
# Prints a table; it is a benchmark, not a test (it fails only when a step
# cannot run, or when the floor's result is not exactly the rows of the
# topics that reach the floor).
#
#   bench/partition_metrics.sh                        4-8 minutes, most of it the floor's mock start-up
#   KPR_BENCH_TOPICS=1000 bench/partition_metrics.sh  about half a minute
#
# Without the floor (the first two rows) the Kafka side is the mock cluster
# of regress.spec: the synthetic topics are not its topics, so their rows are
# left out of the result (the function returns the cluster's topics only),
# but every request is made as for a cluster that has them: without the
# floor the queries name no topic.
#
# The floor keeps only topics the cluster has, so its row runs on a second
# mock cluster, started from a generated spec: regress.spec's topics plus the
# synthetic topics with the stub's names and partition counts, as topics
# without records.  The librdkafka mock starts such a spec slowly (it checks
# every partition's watermarks, and finds a topic by walking all of them):
# 1,000 x 12 partitions took 15-22 s, 3,000 x 12 3.6-6.6 minutes, and
# 10,000 x 12 had checked 1,846 of its topics after 17 minutes (over an hour
# in all; measured 2026-12-07 on 2 vCPUs).
# So the floor row uses its own synthetic count, KPR_BENCH_FLOOR_TOPICS: by
# default the smaller of KPR_BENCH_TOPICS and 3,000.  With fewer topics than
# KPR_BENCH_TOPICS it gets its own stub with that many synthetic topics and
# its own fetch_metrics baseline there (an extra row), so that its ratios
# compare calls over the same topics; with as many it shares the first stub
# and its baseline.
#
# The number of synthetic topics whose busiest day of the window reaches the
# floor is computed before anything starts, from the stub's own generator
# (synthetic_topics in metrics_stub.py: the traffic of the d-th day before
# "today" does not depend on the date), and printed.  After the call, the
# result must hold exactly those topics, every row of theirs equal to the
# stub's expected_partition_metrics.csv (0 for a partition it does not
# list), and nothing else; the topics that the stub's file puts over the
# floor must be the same ones.  Otherwise the script says what differs and
# exits 1.
#
# Knobs: KPR_BENCH_TOPICS, KPR_BENCH_PARTITIONS, KPR_BENCH_LATENCY_MS (above),
# KPR_BENCH_FLOOR (records, 92000), KPR_BENCH_FLOOR_TOPICS (see above),
# KPR_BENCH_MOCK_TIMEOUT (seconds the floor's mock may take to start, 1800),
# KPR_BENCH_EXT_DESTDIR (as bench/scale.sh), KPR_BENCH_KEEP=1 (keep the work
# directory).  Needs the extension installed (make install, or
# KPR_BENCH_EXT_DESTDIR) and pg_virtualenv.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
mock_sh="$repo/test/fixtures/kafka_mock/mock-cluster.sh"
stub_sh="$repo/test/fixtures/confluent_metrics/stub.sh"
topics=${KPR_BENCH_TOPICS:-10000}
partitions=${KPR_BENCH_PARTITIONS:-12}
latency_ms=${KPR_BENCH_LATENCY_MS:-100}
floor=${KPR_BENCH_FLOOR:-92000}
floor_topics=${KPR_BENCH_FLOOR_TOPICS:-$((topics < 3000 ? topics : 3000))}
mock_timeout=${KPR_BENCH_MOCK_TIMEOUT:-1800}

die() {
	echo "partition_metrics.sh: $*" >&2
	exit 1
}

if [[ "${1:-}" == --inner ]]; then
	url=$2
	stub_state=$3
	floor_url=$4
	floor_stub=$5
	work=$6
	first=$KPR_BENCH_FIRST_DAY
	last=$KPR_BENCH_LAST_DAY
	psql -X -q -v ON_ERROR_STOP=1 <<-SQL >/dev/null
		CREATE EXTENSION kafka_partition_recommender;
		CREATE SERVER bench FOREIGN DATA WRAPPER kafka_partition_recommender
		    OPTIONS (bootstrap_servers '$KPR_BENCH_BOOTSTRAP', metrics_source 'confluent',
		             metrics_url '$url', cluster_id 'lkc-kpr001');
		CREATE USER MAPPING FOR CURRENT_USER SERVER bench
		    OPTIONS (metrics_api_key 'KPRTESTKEY', metrics_api_secret 'kpr-test-metrics-secret');
		CREATE SERVER bench_floor FOREIGN DATA WRAPPER kafka_partition_recommender
		    OPTIONS (bootstrap_servers '$KPR_BENCH_FLOOR_BOOTSTRAP', metrics_source 'confluent',
		             metrics_url '$floor_url', cluster_id 'lkc-kpr001');
		CREATE USER MAPPING FOR CURRENT_USER SERVER bench_floor
		    OPTIONS (metrics_api_key 'KPRTESTKEY', metrics_api_secret 'kpr-test-metrics-secret');
	SQL
	# One timed psql session of the given statements; writes NAME.measure:
	# its seconds, requests, pages of the query with the most pages, queries
	# (distinct bodies); the session's messages go to NAME.log.
	measure() {
		local name=$1 stub=$2 t0 t1 statement
		local args=()
		shift 2
		for statement in "$@"; do
			args+=(-c "$statement")
		done
		"$stub_sh" control "$stub" requests_clear >/dev/null
		t0=$EPOCHREALTIME
		psql -X -q -At -v ON_ERROR_STOP=1 "${args[@]}" >/dev/null 2>"$work/$name.log" ||
			{ cat "$work/$name.log" >&2; die "the call of row $name failed"; }
		t1=$EPOCHREALTIME
		cp "$stub/requests.jsonl" "$work/$name.requests.jsonl"
		python3 - "$work/$name.requests.jsonl" "$t0" "$t1" >"$work/$name.measure" <<-'PY'
			import collections, json, sys
			rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
			pages = collections.Counter(r["body"] for r in rows)
			print(f"{float(sys.argv[3]) - float(sys.argv[2]):.2f} {len(rows)} {max(pages.values(), default=0)} {len(pages)}")
		PY
	}
	ratio() {
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'
	}
	window="'$first', '$last'"
	measure base "$stub_state" "SELECT count(*) FROM kpr.fetch_metrics('bench', $window)"
	measure part "$stub_state" "SELECT count(*) FROM kpr.fetch_partition_metrics('bench', $window)"
	if [[ "$floor_topics" != "$topics" ]]; then
		measure floor_base "$floor_stub" "SELECT count(*) FROM kpr.fetch_metrics('bench_floor', $window)"
	else
		cp "$work/base.measure" "$work/floor_base.measure"
	fi
	psql -X -q -v ON_ERROR_STOP=1 \
		-c "ALTER SERVER bench_floor OPTIONS (ADD partition_detail_min_records '$floor')" >/dev/null
	# the rows are kept for the check: CREATE TABLE AS instead of count(*)
	measure floor "$floor_stub" "SET client_min_messages = debug1" \
		"CREATE TABLE floor_rows AS SELECT * FROM kpr.fetch_partition_metrics('bench_floor', $window)"
	read -r base_s base_requests base_pages base_queries <"$work/base.measure"
	read -r part_s part_requests part_pages part_queries <"$work/part.measure"
	read -r fbase_s fbase_requests fbase_pages fbase_queries <"$work/floor_base.measure"
	read -r floor_s floor_requests floor_pages floor_queries <"$work/floor.measure"

	# The check: the stub's partition figures of the window, the topics they
	# put over the floor (internal ones aside, as the function's default), the
	# generator's list of synthetic topics over the floor, and the result.
	psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 <<-SQL >"$work/check.out" || die "the check of the floor's result could not run"
		CREATE TABLE stub_partition (topic text, day date, partition integer, records_in bigint, bytes_in bigint);
		\copy stub_partition FROM '$floor_stub/expected_partition_metrics.csv' WITH (FORMAT csv, HEADER)
		CREATE TABLE generator_topics (topic text);
		\copy generator_topics FROM '$work/floor_topics.txt'
		CREATE TABLE expected_topics AS
		SELECT topic FROM (SELECT topic, day, sum(records_in) AS records FROM stub_partition
		                   WHERE day BETWEEN '$first' AND '$last' AND topic NOT LIKE '\_%'
		                   GROUP BY topic, day) d
		GROUP BY topic HAVING max(records) >= $floor;
		CREATE TABLE expected_rows AS
		SELECT s.* FROM stub_partition s JOIN expected_topics USING (topic)
		WHERE s.day BETWEEN '$first' AND '$last';
		SELECT (SELECT count(*) FROM expected_topics),
		       (SELECT count(*) FROM expected_topics WHERE topic LIKE 'syn-%'),
		       (SELECT count(*) FROM generator_topics),
		       (SELECT count(*) FROM ((SELECT topic FROM generator_topics
		                               EXCEPT SELECT topic FROM expected_topics WHERE topic LIKE 'syn-%')
		                              UNION ALL
		                              (SELECT topic FROM expected_topics WHERE topic LIKE 'syn-%'
		                               EXCEPT SELECT topic FROM generator_topics)) x),
		       (SELECT count(DISTINCT topic) FROM floor_rows),
		       (SELECT count(*) FROM (SELECT topic FROM expected_topics EXCEPT SELECT topic FROM floor_rows) x),
		       (SELECT count(*) FROM (SELECT topic FROM floor_rows EXCEPT SELECT topic FROM expected_topics) x),
		       (SELECT count(*) FROM expected_rows),
		       (SELECT count(*) FROM floor_rows),
		       (SELECT count(*) FROM expected_rows e LEFT JOIN floor_rows f USING (topic, day, partition)
		        WHERE f.topic IS NULL),
		       (SELECT count(*) FROM expected_rows e JOIN floor_rows f USING (topic, day, partition)
		        WHERE (e.records_in, e.bytes_in) IS DISTINCT FROM (f.records_in, f.bytes_in)),
		       (SELECT count(*) FROM floor_rows f LEFT JOIN expected_rows e USING (topic, day, partition)
		        WHERE e.topic IS NULL
		          AND (f.records_in, f.bytes_in) IS DISTINCT FROM (0::bigint, 0::bigint));
	SQL
	read -r expected_topics expected_synthetic generator_topics generator_diff result_topics \
		missing_topics extra_topics expected_rows result_rows missing_rows different_rows extra_rows \
		<"$work/check.out"

	# the floor's queries: the busiest-day query, then the partition queries
	python3 - "$work/floor.requests.jsonl" >"$work/floor.queries" <<-'PY'
		import collections, json, sys
		rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
		pages = collections.Counter(r["body"] for r in rows)
		by_partition = [b for b in pages if "metric.partition" in json.loads(b)["group_by"]]
		named = sum(b.count('"field":"metric.topic"') for b in by_partition) // 2
		print(f"{sum(n for b, n in pages.items() if b not in by_partition)} {len(by_partition)} "
		      f"{sum(pages[b] for b in by_partition)} {named}")
	PY
	read -r busiest_pages partition_queries partition_pages named_topics <"$work/floor.queries"

	printf 'partition_metrics.sh: %s topics x %s partitions, 6 days (%s .. %s), %s ms per request, 4 in flight\n' \
		"$topics" "$partitions" "$first" "$last" "$latency_ms"
	printf 'floor: partition_detail_min_records %s on %s synthetic topics x %s partitions + regress.spec'"'"'s, in a mock cluster that holds them\n' \
		"$floor" "$floor_topics" "$partitions"
	printf '| topics × partitions | call | queries | pages of the largest | requests | s | requests ÷ fetch_metrics | s ÷ fetch_metrics |\n|---|---|---|---|---|---|---|---|\n'
	printf '| %s × %s | fetch_metrics (baseline) | %s | %s | %s | %s | 1.000 | 1.000 |\n' \
		"$topics" "$partitions" "$base_queries" "$base_pages" "$base_requests" "$base_s"
	printf '| %s × %s | fetch_partition_metrics | %s | %s | %s | %s | %s | %s |\n' \
		"$topics" "$partitions" "$part_queries" "$part_pages" "$part_requests" "$part_s" \
		"$(ratio "$part_requests" "$base_requests")" "$(ratio "$part_s" "$base_s")"
	if [[ "$floor_topics" != "$topics" ]]; then
		printf '| %s × %s | fetch_metrics (baseline of the floor) | %s | %s | %s | %s | 1.000 | 1.000 |\n' \
			"$floor_topics" "$partitions" "$fbase_queries" "$fbase_pages" "$fbase_requests" "$fbase_s"
	fi
	printf '| %s × %s | fetch_partition_metrics, floor %s (%s topics) | %s | %s | %s | %s | %s | %s |\n' \
		"$floor_topics" "$partitions" "$floor" "$result_topics" "$floor_queries" "$floor_pages" \
		"$floor_requests" "$floor_s" \
		"$(ratio "$floor_requests" "$fbase_requests")" "$(ratio "$floor_s" "$fbase_s")"
	printf 'floor queries: the busiest-day query (received_records by topic, P1D) in %s pages, then %s partition queries (records and bytes of %s topics, in chunks of at most 100 topics and 1000 partitions) in %s pages\n' \
		"$busiest_pages" "$partition_queries" "$named_topics" "$partition_pages"
	grep -o 'Confluent Metrics API on server bench_floor: .*' "$work/floor.log" | sed 's/^/worker: /' || true
	printf 'floor check: %s topics reach the floor (%s synthetic, %s by the generator, %s differ); result: %s topics, %s rows (expected %s): %s topics missing, %s extra; rows %s missing, %s different, %s extra\n' \
		"$expected_topics" "$expected_synthetic" "$generator_topics" "$generator_diff" \
		"$result_topics" "$result_rows" "$expected_rows" "$missing_topics" "$extra_topics" \
		"$missing_rows" "$different_rows" "$extra_rows"
	if [[ "$generator_diff$missing_topics$extra_topics$missing_rows$different_rows$extra_rows" != 000000 ||
		"$expected_synthetic" != "$generator_topics" || "$result_rows" != "$expected_rows" ]]; then
		die "WRONG RESULT with partition_detail_min_records $floor: the function's rows are not exactly those of the topics that reach the floor (line above)"
	fi
	echo "floor check: OK"
	exit 0
fi

work=$(mktemp -d)
cleanup() {
	"$stub_sh" stop "$work/stub" >/dev/null 2>&1 || true
	"$stub_sh" stop "$work/floor-stub" >/dev/null 2>&1 || true
	"$mock_sh" stop "$work/kafka" >/dev/null 2>&1 || true
	"$mock_sh" stop "$work/floor-kafka" >/dev/null 2>&1 || true
	if [[ "${KPR_BENCH_KEEP:-0}" == 1 ]]; then
		echo "partition_metrics.sh: work directory kept: $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
[[ "$floor_topics" =~ ^[1-9][0-9]*$ && "$floor_topics" -le "$topics" ]] ||
	die "KPR_BENCH_FLOOR_TOPICS must be 1..KPR_BENCH_TOPICS ($topics), not '$floor_topics'"
[[ "$floor" =~ ^[1-9][0-9]*$ ]] || die "KPR_BENCH_FLOOR must be a positive number of records, not '$floor'"
today=$(date -u +%F)
first=$(date -u -d "$today -6 day" +%F)
last=$(date -u -d "$today -1 day" +%F)

# The synthetic topics whose busiest day of the window (days 6 .. 1 before
# today) reaches the floor, by the stub's generator: their names, one a line.
python3 - "$repo/test/fixtures/confluent_metrics" "$floor_topics" "$floor" \
	"$work/floor_topics.txt" >"$work/active_topics" <<-'PY' ||
	import datetime, sys
	sys.path.insert(0, sys.argv[1])
	from metrics_stub import synthetic_topics
	count, floor = int(sys.argv[2]), int(sys.argv[3])
	today = datetime.datetime.now(datetime.timezone.utc).date()
	midnight = int(datetime.datetime.combine(today, datetime.time(), datetime.timezone.utc).timestamp()) // 3600
	busiest = {name: max(sum(hours.get(midnight - 24 * d + h, (0, 0))[0] for h in range(24)) for d in range(1, 7))
	           for name, hours, _ in synthetic_topics(count, 7, today)}
	with open(sys.argv[4], "w") as f:
	    f.writelines(f"{name}\n" for name, records in busiest.items() if records >= floor)
	print(len(busiest))
PY
	die "cannot compute the topics over the floor from the stub's generator"
active_topics=$(cat "$work/active_topics")
reaching=$(wc -l <"$work/floor_topics.txt")
echo "partition_metrics.sh: floor $floor records on a topic's busiest day of $first .. $last:" \
	"$reaching of the $floor_topics synthetic topics reach it" \
	"($(awk -v a="$reaching" -v b="$floor_topics" 'BEGIN { printf "%.1f", 100 * a / b }')%;" \
	"$active_topics of them have traffic)"

# regress.spec's topics plus the synthetic ones, without records
{
	cat "$repo/test/fixtures/kafka_mock/regress.spec"
	echo "# synthetic topics of the Metrics API stub, created empty"
	awk -v n="$floor_topics" -v p="$partitions" 'BEGIN {
		w = length(sprintf("%d", n - 1)); if (w < 5) w = 5
		format = "topic syn-%0" w "d %d 1\n"
		for (i = 0; i < n; i++) printf format, i, p
	}'
} >"$work/floor.spec"
t0=$EPOCHREALTIME
floor_bootstrap=$(KPR_MOCK_START_TIMEOUT=$mock_timeout "$mock_sh" start "$work/floor-kafka" "$work/floor.spec" 3) ||
	die "the floor's mock cluster ($floor_topics synthetic topics) did not start within ${mock_timeout}s"
t1=$EPOCHREALTIME
echo "partition_metrics.sh: the floor's mock cluster ($(grep -c '^topic ' "$work/floor.spec") topics," \
	"$((floor_topics * partitions)) synthetic partitions) started in" \
	"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"

bootstrap=$("$mock_sh" start "$work/kafka" "$repo/test/fixtures/kafka_mock/regress.spec" 3) ||
	die "the mock cluster did not start"
url=$("$stub_sh" start "$work/stub" --hourly "$work/kafka/expected_partition_hourly.csv" \
	--synthetic-topics "$topics" --synthetic-partitions "$partitions" --now midnight) ||
	die "the Metrics API stub did not start"
"$stub_sh" control "$work/stub" latency_ms "$latency_ms" >/dev/null
if [[ "$floor_topics" != "$topics" ]]; then
	floor_url=$("$stub_sh" start "$work/floor-stub" --hourly "$work/floor-kafka/expected_partition_hourly.csv" \
		--synthetic-topics "$floor_topics" --synthetic-partitions "$partitions" --now midnight) ||
		die "the floor's Metrics API stub did not start"
	"$stub_sh" control "$work/floor-stub" latency_ms "$latency_ms" >/dev/null
	floor_stub=$work/floor-stub
else
	floor_url=$url
	floor_stub=$work/stub
fi
options=()
if [[ -n "${KPR_BENCH_EXT_DESTDIR:-}" ]]; then
	options+=(-o "extension_destdir=$KPR_BENCH_EXT_DESTDIR"
		-o "dynamic_library_path=$KPR_BENCH_EXT_DESTDIR/usr/lib/postgresql/15/lib:\$libdir")
fi
pg_virtualenv -v 15 -t "${options[@]}" env KPR_BENCH_BOOTSTRAP="$bootstrap" \
	KPR_BENCH_FLOOR_BOOTSTRAP="$floor_bootstrap" KPR_BENCH_TOPICS="$topics" \
	KPR_BENCH_FLOOR_TOPICS="$floor_topics" KPR_BENCH_FLOOR="$floor" \
	KPR_BENCH_FIRST_DAY="$first" KPR_BENCH_LAST_DAY="$last" \
	"$here/partition_metrics.sh" --inner "$url" "$work/stub" "$floor_url" "$floor_stub" "$work"
[[ "$(date -u +%F)" == "$today" ]] ||
	echo "WARNING: the UTC date changed during the run ($today -> $(date -u +%F)); the fixtures' days and the window may disagree"
