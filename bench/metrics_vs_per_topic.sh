#!/usr/bin/env bash
# bench/metrics_vs_per_topic.sh - requests made and wall time of
# kpr.fetch_metrics on the Confluent Metrics API (a few grouped, paginated
# queries) against a per-topic client (one request per topic and metric), on
# the local Metrics API stub with 10,000 topics and 100 ms of latency per
# request.  Prints figures; it is a benchmark, not a test (it exits non-zero
# only when a step cannot run).
#
#   bench/metrics_vs_per_topic.sh      see bench/README.md for the knobs
#
# Steps: start the librdkafka mock cluster (test/fixtures/kafka_mock,
# regress.spec: the topic list and the cluster) and the Metrics API stub
# (test/fixtures/confluent_metrics) with the mock's hourly file plus 10,000
# synthetic topics, its clock pinned at today 00:00 UTC, 100 ms latency per
# request; in a throw-away PostgreSQL (pg_virtualenv -t) time fetch_metrics
# over the 6 complete days the API keeps, REPEATS times, counting the
# requests in the stub's requests.jsonl, and check its rows against the
# stub's expected_metrics.csv; time the per-topic client
# (bench/per_topic_metrics_client.py) on the first 250 and 500 topics and
# scale it to all of them; print a table.  Everything started is stopped
# (trap EXIT).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self="$here/$(basename "${BASH_SOURCE[0]}")"
repo=$(dirname "$here")
mock_sh="$repo/test/fixtures/kafka_mock/mock-cluster.sh"
mock_spec="$repo/test/fixtures/kafka_mock/regress.spec"
stub_sh="$repo/test/fixtures/confluent_metrics/stub.sh"
client_py="$here/per_topic_metrics_client.py"

TOPICS=${KPR_BENCH_TOPICS:-10000}
LATENCY_MS=${KPR_BENCH_LATENCY_MS:-100}
REPEATS=${KPR_BENCH_REPEATS:-3}
# topic counts of the per-topic client's measured subsets (the largest is scaled)
SUBSETS=${KPR_BENCH_SUBSETS:-250 500}
CONCURRENCY=4             # REQUESTS_IN_FLIGHT of src/metrics_confluent.c
CALL_TIMEOUT=${KPR_BENCH_CALL_TIMEOUT:-10min}
RATE_LIMIT_PER_MIN=300    # Confluent's documented Metrics API limit (per source IP)
KEEP=${KPR_BENCH_KEEP:-0}
# fetch_metrics accepts first_day >= today - 6: the API keeps 7 days, rolling,
# so today - 7 is partial; today - 6 .. today - 1 are the complete days.
DAYS=6
# the synthetic topics' queries per topic, as fetch_metrics makes them
QUERIES_PER_TOPIC=6

die() {
	echo "metrics_vs_per_topic.sh: ERROR: $*" >&2
	exit 1
}
note() { echo "== $*" >&2; }
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# requests.jsonl -> "requests non_200 distinct_bodies most_requests_of_one_body"
count_requests() {
	python3 - "$1" <<-'PY'
		import json, sys
		rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
		pages = {}
		for r in rows:
		    pages[r["body"]] = pages.get(r["body"], 0) + 1
		print(len(rows), sum(1 for r in rows if r["status"] != 200), len(pages), max(pages.values(), default=0))
	PY
}
# replay_bytes REQUESTS.JSONL URL: POSTs the logged requests again (same
# bodies, same page tokens, 4 at a time) and prints the bytes of the answers'
# bodies, or NA if one is not 200 (a token expired: they live 300 s).  The
# stub's answers depend only on the body and the page, so these are the bytes
# fetch_metrics received.
replay_bytes() {
	KPR_METRICS_SECRET=kpr-test-metrics-secret python3 - "$1" "$2" <<-'PY'
		import base64, concurrent.futures, http.client, json, os, sys
		rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
		host, port = sys.argv[2].split("//", 1)[1].rstrip("/").split(":")
		auth = "Basic " + base64.b64encode(("KPRTESTKEY:" + os.environ["KPR_METRICS_SECRET"]).encode()).decode()
		def one(row):
		    conn = http.client.HTTPConnection(host, int(port), timeout=300)
		    conn.request(row["method"], row["path"] + ("?" + row["query"] if row["query"] else ""),
		                 row["body"].encode(), {"Authorization": auth, "Content-Type": "application/json"})
		    response = conn.getresponse()
		    size = len(response.read())
		    conn.close()
		    return size if response.status == 200 else None
		with concurrent.futures.ThreadPoolExecutor(4) as pool:
		    sizes = list(pool.map(one, rows))
		print("NA" if None in sizes else sum(sizes))
	PY
}

###############################################################################
# Inner part: runs under pg_virtualenv (PGHOST, PGPORT, PGUSER... are set).
###############################################################################

inner() {
	local work=$1 bootstrap=$2 url=$3 first=$4 last=$5 stub_state=$6 r t0 t1 status
	echo "${PG_CLUSTER_CONF_ROOT:-}" >"$work/pg_conf_root"

	if ! psql -X -q -v ON_ERROR_STOP=1 >"$work/setup.log" 2>&1 <<-SQL; then
		CREATE EXTENSION kafka_partition_recommender;
		CREATE SERVER bench FOREIGN DATA WRAPPER kafka_partition_recommender
		    OPTIONS (bootstrap_servers '$bootstrap', metrics_source 'confluent',
		             metrics_url '$url', cluster_id 'lkc-kpr001');
		CREATE USER MAPPING FOR CURRENT_USER SERVER bench
		    OPTIONS (metrics_api_key 'KPRTESTKEY', metrics_api_secret 'kpr-test-metrics-secret');
	SQL
		cat "$work/setup.log" >&2
		if grep -q 'extension "kafka_partition_recommender" is not available\|could not open extension control file\|could not access file' "$work/setup.log"; then
			die "the extension is not installed in this PostgreSQL; run: cd $repo && make && sudo make install"
		fi
		die "setting up the extension and the foreign server failed (see above)"
	fi

	# The timed statement: count(*) plus per-day sums of every column (the
	# same scan of the same rows), so that each timed run is also checked.
	: >"$work/ext_runs.txt"
	for ((r = 1; r <= REPEATS; r++)); do
		note "fetch_metrics run $r/$REPEATS"
		"$stub_sh" control "$stub_state" requests_clear
		status=0
		t0=$(now)
		psql -X -q --csv -v ON_ERROR_STOP=1 \
			-c "SET statement_timeout = '$CALL_TIMEOUT'" \
			-c "SELECT day, count(*) AS rows, sum(bytes_in) AS bytes_in, sum(records_in) AS records_in,
			           sum(bytes_out) AS bytes_out, sum(records_out) AS records_out,
			           sum(peak_bytes_in_per_sec) AS peak_in, sum(peak_bytes_out_per_sec) AS peak_out
			    FROM kpr.fetch_metrics('bench', '$first', '$last') GROUP BY day ORDER BY day" \
			>"$work/ext_run$r.csv" 2>"$work/ext_run$r.err" || status=$?
		t1=$(now)
		cp "$stub_state/requests.jsonl" "$work/ext_run$r.requests.jsonl"
		echo "$r $status $(elapsed "$t0" "$t1") $(count_requests "$work/ext_run$r.requests.jsonl")" >>"$work/ext_runs.txt"
		if [[ "$status" != 0 ]]; then
			note "  FAILED after $(elapsed "$t0" "$t1")s: $(grep -m1 ERROR "$work/ext_run$r.err" || echo "psql exit $status")"
		else
			note "  $(elapsed "$t0" "$t1")s, $(awk '{ print $4 " requests" }' <<<"$(tail -1 "$work/ext_runs.txt")")"
		fi
	done

	# One more call, not timed: every row against expected_metrics.csv.
	note "fetch_metrics, one more call (not timed): every row against expected_metrics.csv"
	"$stub_sh" control "$stub_state" requests_clear
	psql -X -q --csv -v ON_ERROR_STOP=1 >"$work/ext_full.csv" 2>"$work/ext_full.err" <<-SQL || true
		SET statement_timeout = '$CALL_TIMEOUT';
		CREATE TEMP TABLE served (topic text, day date, bytes_in bigint, records_in bigint,
		    bytes_out bigint, records_out bigint,
		    peak_bytes_in_per_sec float8, peak_bytes_out_per_sec float8);
		\copy served FROM '$stub_state/expected_metrics.csv' WITH (FORMAT csv, HEADER true)
		DELETE FROM served WHERE day NOT BETWEEN '$first' AND '$last';
		CREATE TEMP TABLE fetched AS SELECT * FROM kpr.fetch_metrics('bench', '$first', '$last');
		SELECT (SELECT count(*) FROM fetched) AS fetched_rows,
		       (SELECT count(DISTINCT topic) FROM fetched) AS fetched_topics,
		       (SELECT count(*) FROM served WHERE topic NOT LIKE '\_%') AS served_rows,
		       (SELECT count(*) FROM served s JOIN fetched f USING (topic, day)
		        WHERE (f.bytes_in, f.records_in, f.bytes_out, f.records_out,
		               f.peak_bytes_in_per_sec, f.peak_bytes_out_per_sec) IS NOT DISTINCT FROM
		              (s.bytes_in, s.records_in, s.bytes_out, s.records_out,
		               s.peak_bytes_in_per_sec, s.peak_bytes_out_per_sec)) AS exact_rows,
		       (SELECT count(*) FROM served s LEFT JOIN fetched f USING (topic, day)
		        WHERE f.topic IS NULL AND s.topic NOT LIKE '\_%') AS missing_rows,
		       (SELECT count(*) FROM served s JOIN fetched f USING (topic, day)
		        WHERE (f.bytes_in, f.records_in, f.bytes_out, f.records_out,
		               f.peak_bytes_in_per_sec, f.peak_bytes_out_per_sec) IS DISTINCT FROM
		              (s.bytes_in, s.records_in, s.bytes_out, s.records_out,
		               s.peak_bytes_in_per_sec, s.peak_bytes_out_per_sec)) AS different_rows,
		       (SELECT count(*) FROM fetched f LEFT JOIN served s USING (topic, day)
		        WHERE s.topic IS NULL
		          AND f.bytes_in + f.records_in + f.bytes_out + f.records_out
		              + f.peak_bytes_in_per_sec + f.peak_bytes_out_per_sec <> 0) AS unexplained_rows;
	SQL
	cp "$stub_state/requests.jsonl" "$work/ext_full.requests.jsonl"
	note "replaying the requests of that call to count the bytes of the answers"
	replay_bytes "$work/ext_full.requests.jsonl" "$url" >"$work/ext_bytes.txt"
}

if [[ "${1:-}" == --inner ]]; then
	inner "${@:2}"
	exit 0
fi

###############################################################################
# Outer part
###############################################################################

[[ -x "$mock_sh" && -f "$mock_spec" ]] || die "mock fixture not found: $mock_sh"
[[ -x "$stub_sh" ]] || die "Metrics API stub not found: $stub_sh"
[[ -f "$client_py" ]] || die "baseline client not found: $client_py"
[[ "$REPEATS" =~ ^[1-9][0-9]*$ ]] || die "KPR_BENCH_REPEATS must be a positive integer"
[[ "$TOPICS" =~ ^[1-9][0-9]*$ ]] || die "KPR_BENCH_TOPICS must be a positive integer"
[[ "$LATENCY_MS" =~ ^[0-9]+$ ]] || die "KPR_BENCH_LATENCY_MS must be a whole number of ms"
for n in $SUBSETS; do
	[[ "$n" =~ ^[1-9][0-9]*$ ]] && ((n <= TOPICS)) || die "KPR_BENCH_SUBSETS: $n is not a topic count of 1..$TOPICS"
done
largest=$(tr ' ' '\n' <<<"$SUBSETS" | grep . | sort -n | tail -1)
[[ -n "$largest" ]] || die "KPR_BENCH_SUBSETS is empty"
for tool in pg_virtualenv psql python3 awk sort make; do
	command -v "$tool" >/dev/null || die "$tool not found (PostgreSQL 15 with postgresql-common, python3 and build tools are needed)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/kpr-bench-metrics.XXXXXX")
chmod 755 "$work"
mock_state="$work/kafka"
stub_state="$work/metrics"
mock_pid=""
stub_pid=""

cleanup() {
	local status=$? leftovers pg_root
	trap - EXIT INT TERM
	"$stub_sh" stop "$stub_state" || true
	"$mock_sh" stop "$mock_state" || true
	pg_root=$(cat "$work/pg_conf_root" 2>/dev/null || true)
	pg_root=${pg_root%/postgresql}
	# what of this run is still running? (zombies, state Z, have exited)
	leftovers=$(ps -eo pid=,stat=,args= | awk -v w="$work" -v p="$pg_root" -v m="$mock_pid" -v s="$stub_pid" -v me="$$" '
		$1 == me || $2 ~ /^Z/ { next }
		(m != "" && $1 == m) || (s != "" && $1 == s) || index($0, w) || (p != "" && index($0, p)) { print }' |
		grep -v -e 'ps -eo' -e 'awk -v w=' || true)
	if [[ -n "$leftovers" ]]; then
		echo "metrics_vs_per_topic.sh: WARNING: processes of this run are still running:" >&2
		echo "$leftovers" >&2
		status=1
	else
		echo "leftover processes: none (stub and mock stopped, temporary PostgreSQL dropped)" >&2
	fi
	if [[ "$KEEP" == 1 ]]; then
		echo "work files kept in $work" >&2
	else
		rm -rf "$work"
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

today=$(date -u +%F)
first=$(date -u -d "$today -$DAYS day" +%F)
last=$(date -u -d "$today -1 day" +%F)

# 1. the mock cluster: the topic list and the cluster fetch_metrics needs
note "starting the mock cluster with $(basename "$mock_spec")"
bootstrap=$("$mock_sh" start "$mock_state" "$mock_spec" 3) ||
	die "the mock cluster did not start (its log is above)"
mock_pid=$(cat "$mock_state/pid")

# 2. the Metrics API stub: the mock's traffic plus the synthetic topics, its
# clock pinned at today 00:00 UTC, so that the data cannot move during the run
note "starting the Metrics API stub: $TOPICS synthetic topics + the mock's, --now midnight"
t0=$(now)
url=$("$stub_sh" start "$stub_state" --hourly "$mock_state/expected_hourly.csv" \
	--synthetic-topics "$TOPICS" --now midnight) ||
	die "the Metrics API stub did not start (its log is above)"
stub_pid=$(cat "$stub_state/pid")
"$stub_sh" control "$stub_state" latency_ms "$LATENCY_MS" || die "could not set latency_ms $LATENCY_MS"
expected="$stub_state/expected_metrics.csv"
note "  ready in $(elapsed "$t0" "$(now)")s at $url; latency $LATENCY_MS ms per request; window $first .. $last ($DAYS days)"

# 3. fetch_metrics in a throw-away PostgreSQL
note "timing kpr.fetch_metrics('bench', '$first', '$last') in a temporary PostgreSQL (pg_virtualenv -t)"
export REPEATS CALL_TIMEOUT
pg_virtualenv -t bash "$self" --inner "$work" "$bootstrap" "$url" "$first" "$last" "$stub_state" \
	>"$work/pg_virtualenv.log" 2>&1 || {
	grep -v '^Creating new\|^Dropping cluster' "$work/pg_virtualenv.log" | tail -40 >&2
	die "the PostgreSQL part failed (pg_virtualenv output above)"
}
grep '^==' "$work/pg_virtualenv.log" >&2 || true
[[ -s "$work/ext_runs.txt" ]] || die "no fetch_metrics run recorded"

# 4. the per-topic client on the first topics, subsets interleaved
: >"$work/base_runs.txt"
for ((r = 1; r <= REPEATS; r++)); do
	for n in $SUBSETS; do
		note "per-topic client run $r/$REPEATS: $n topics x $QUERIES_PER_TOPIC queries, $CONCURRENCY in flight"
		"$stub_sh" control "$stub_state" requests_clear
		line=$(python3 "$client_py" "$url" --topics "$n" --first-day "$first" --last-day "$last" \
			--concurrency "$CONCURRENCY" --expected "$expected" 2>"$work/base_$n.$r.err") || {
			cat "$work/base_$n.$r.err" >&2
			die "the per-topic client failed"
		}
		cat "$work/base_$n.$r.err" >&2
		# n run client_requests secs response_bytes checked mismatches logged non200 bodies
		echo "$n $r $line $(count_requests "$stub_state/requests.jsonl")" >>"$work/base_runs.txt"
		read -r req secs _ _ mism <<<"$line"
		note "  ${secs}s, $req requests, $mism mismatches"
	done
done

###############################################################################
# Report
###############################################################################

echo
[[ "$(date -u +%F)" == "$today" ]] ||
	echo "WARNING: the UTC date changed during the run ($today -> $(date -u +%F)); PostgreSQL's today moved, mismatches are expected"

# expected per-day sums of what fetch_metrics returns (internal topics, whose
# names start with _, are left out by default)
awk -F, -v first="$first" -v last="$last" 'NR > 1 && $2 >= first && $2 <= last && $1 !~ /^_/ {
		bi[$2] += $3; ri[$2] += $4; bo[$2] += $5; ro[$2] += $6; pi[$2] += $7; po[$2] += $8 }
	END { for (d in bi) printf "%s %.0f %.0f %.0f %.0f %.10g %.10g\n", d, bi[d], ri[d], bo[d], ro[d], pi[d], po[d] }' \
	"$expected" | sort >"$work/expected_days.txt"

echo "Checks of kpr.fetch_metrics against the stub's expected_metrics.csv ($first .. $last):"
ext_ok_runs=""
while read -r r status secs req non200 bodies _; do
	if [[ "$status" != 0 ]]; then
		echo "  run $r: FAILED (psql exit $status): $(grep -m1 ERROR "$work/ext_run$r.err" || true)"
		continue
	fi
	verdict=$(awk -F, 'NR == FNR { e[$1] = $0; next }
		FNR == 1 { next }
		{
			if (!($1 in e)) { bad++; next }
			split(e[$1], x, " "); seen[$1] = 1
			for (i = 3; i <= 6; i++) if ($i != x[i - 1]) bad++
			for (i = 7; i <= 8; i++) { d = $i - x[i - 1]; if (d < 0) d = -d; if (d > 1e-9 * (x[i - 1] < 0 ? -x[i - 1] : x[i - 1]) + 1e-9) bad++ }
		}
		END { for (k in e) if (!(k in seen)) bad++; print bad ? "MISMATCH (" bad " sums)" : "OK" }' \
		FS=' ' "$work/expected_days.txt" FS=, "$work/ext_run$r.csv")
	rows=$(awk -F, 'NR > 1 { n += $2 } END { print n + 0 }' "$work/ext_run$r.csv")
	echo "  run $r: $rows rows, per-day sums of the 6 columns over $DAYS days: $verdict; $req requests ($non200 not 200), $bodies distinct bodies"
	[[ "$verdict" == OK ]] && ext_ok_runs+="$r "
done <"$work/ext_runs.txt"
if [[ -s "$work/ext_full.csv" ]]; then
	read -r full_req full_non200 _ < <(count_requests "$work/ext_full.requests.jsonl")
	full_req="$full_req ($full_non200 not 200)"
	awk -F, -v req="$full_req" 'NR == 2 {
		printf "  every row (one more call): %d rows for %d topics; of the %d (topic, day) rows the stub served: %d exact, %d missing, %d different; %d rows not served but non-zero; %s requests\n",
			$1, $2, $3, $4, $5, $6, $7, req
		if ($5 + $6 + $7 > 0 || $4 != $3) print "  ROWS: MISMATCH"; else print "  rows: OK" }' "$work/ext_full.csv"
else
	echo "  every row (one more call): FAILED: $(grep -m1 ERROR "$work/ext_full.err" || echo "no output")"
fi
awk '{ c[$1] = $6; m[$1] += $7; e[$1] += $9 } END { for (n in c) printf "  per-topic client, %5d topics: %d topic-days x 6 values checked per run, %d mismatches, %d requests not 200 over all runs\n", n, c[n], m[n], e[n] }' \
	"$work/base_runs.txt" | sort -k4,4n

[[ -n "$ext_ok_runs" ]] || die "no fetch_metrics run returned the right figures: nothing to compare"
n_ok=$(wc -w <<<"$ext_ok_runs")
((n_ok == REPEATS)) || echo "WARNING: only runs $ext_ok_runs of fetch_metrics were right; the median is over those"

# medians
declare -A b_secs b_req b_bytes
ext_secs=$(awk -v ok=" $ext_ok_runs" 'index(ok, " " $1 " ") { print $3 }' "$work/ext_runs.txt" | median)
ext_req=$(awk -v ok=" $ext_ok_runs" 'index(ok, " " $1 " ") { print $4 }' "$work/ext_runs.txt" | median)
ext_bytes=$(cat "$work/ext_bytes.txt" 2>/dev/null || true)
[[ "$ext_bytes" =~ ^[0-9]+$ ]] || ext_bytes=NA
topics_seen=$(awk -F, 'NR == 2 { print $2 }' "$work/ext_full.csv" 2>/dev/null || true)
for n in $SUBSETS; do
	b_secs[$n]=$(awk -v n="$n" '$1 == n { print $4 }' "$work/base_runs.txt" | median)
	b_req[$n]=$(awk -v n="$n" '$1 == n { print $8 }' "$work/base_runs.txt" | median)
	b_bytes[$n]=$(awk -v n="$n" '$1 == n { print $5 }' "$work/base_runs.txt" | median)
done
scale=$(awk -v a="$TOPICS" -v b="$largest" 'BEGIN { printf "%.6f", a / b }')
s_req=$(awk -v r="${b_req[$largest]}" -v s="$scale" 'BEGIN { printf "%.0f", r * s }')
s_secs=$(awk -v t="${b_secs[$largest]}" -v s="$scale" 'BEGIN { printf "%.1f", t * s }')
s_bytes=$(awk -v t="${b_bytes[$largest]}" -v s="$scale" 'BEGIN { printf "%.0f", t * s }')

echo
echo "All runs (seconds):"
awk '{ printf "  fetch_metrics run %d: %8.2f s, %d requests%s\n", $1, $3, $4, $2 ? " FAILED" : "" }' "$work/ext_runs.txt"
awk '{ printf "  per-topic %5d topics run %d: %8.2f s, %d requests (%d logged by the stub), responses %.1f MB\n", $1, $2, $4, $3, $8, $5 / 1e6 }' "$work/base_runs.txt"

echo
echo "Linearity of the per-topic client (median of $REPEATS; at fixed concurrency and latency, time should grow with requests):"
prev=""
for n in $(tr ' ' '\n' <<<"$SUBSETS" | grep . | sort -n); do
	awk -v n="$n" -v t="${b_secs[$n]}" -v r="${b_req[$n]}" -v c="$CONCURRENCY" -v l="$LATENCY_MS" 'BEGIN {
		printf "  %5d topics: %6d requests in %7.2f s = %.2f ms per request (latency alone, %d in flight: %.1f ms)\n", n, r, t, 1000 * t / r, c, l / c }'
	[[ -n "$prev" ]] && awk -v a="$prev" -v b="$n" -v ta="${b_secs[$prev]}" -v tb="${b_secs[$n]}" 'BEGIN {
		printf "  time(%d) / time(%d) = %.3f for %.3f times the topics\n", b, a, tb / ta, b / a }'
	prev=$n
done

echo
echo "$TOPICS synthetic topics (+ the mock's) x $DAYS days ($first .. $last), $LATENCY_MS ms latency per request, $CONCURRENCY requests in flight;"
echo "wall time: median of $REPEATS runs; ratios are per-topic / fetch_metrics"
awk -F'|' -v er="$ext_req" -v es="$ext_secs" '
	function row(name, topics, req, secs, bytes) {
		printf "%-44s %7s %9d %9.1f %12s %10.1f %10.1f\n", name, topics, req, secs,
			bytes == "NA" ? "NA" : sprintf("%.1f", bytes / 1e6), req / er, secs / es
	}
	BEGIN {
		printf "%-44s %7s %9s %9s %12s %10s %10s\n", "method", "topics", "requests", "wall s", "response MB", "req ratio", "time ratio"
		printf "%-44s %7s %9s %9s %12s %10s %10s\n", "------", "------", "--------", "------", "-----------", "---------", "----------"
	}
	{ row($1, $2, $3, $4, $5) }' <<EOF
$(printf '%s|%s|%s|%s|%s\n' "kpr.fetch_metrics (measured)" "${topics_seen:-all}" "$ext_req" "$ext_secs" "$ext_bytes"
for n in $(tr ' ' '\n' <<<"$SUBSETS" | grep . | sort -n); do
	printf '%s|%s|%s|%s|%s\n' "per-topic client (measured)" "$n" "${b_req[$n]}" "${b_secs[$n]}" "${b_bytes[$n]}"
done
printf '%s|%s|%s|%s|%s\n' "per-topic client (SCALED from $largest topics)" "$TOPICS" "$s_req" "$s_secs" "$s_bytes")
EOF
echo
echo "requests: counted in the stub's requests.jsonl (emptied before each run)."
echo "response MB: bodies of the answers; per-topic client: counted by it; fetch_metrics: its requests replayed after the run."
echo "SCALED: requests and MB x $TOPICS/$largest (requests exactly $QUERIES_PER_TOPIC per topic); wall time x $TOPICS/$largest (linear in requests, see above)."
echo "topics: fetch_metrics returns the topics with traffic (the idle 1 in 20 synthetic topics are not served) plus the mock's;"
echo "  the per-topic client asks for every synthetic topic syn-00000 .. (a per-topic tool asks for every topic Kafka lists), not the mock's few."
# the pages of one query follow one another: fetch_metrics needs at least
# max(pages of one query, requests / in flight) latencies
ext_chain=$(awk -v ok=" $ext_ok_runs" 'index(ok, " " $1 " ") { print $7 }' "$work/ext_runs.txt" | median)
awk -v er="$ext_req" -v ch="$ext_chain" -v br="$s_req" -v c="$CONCURRENCY" -v l="$LATENCY_MS" 'BEGIN {
	rounds = int((er + c - 1) / c); if (ch > rounds) rounds = ch
	e = rounds * l / 1000; b = br * l / 1000 / c
	printf "Latency alone (%d ms, %d in flight, the pages of one query one after another): fetch_metrics %.1f s (%d rounds), per-topic client %.0f s: %.0fx\n", l, c, e, rounds, b, b / e
	print "(the measured times are longer: the stub builds every answer in Python, one request at a time under its GIL)" }'
echo
awk -v er="$ext_req" -v es="$ext_secs" -v br="$s_req" -v bs="$s_secs" -v lim="$RATE_LIMIT_PER_MIN" 'BEGIN {
	ef = er * 60 / lim; bf = br * 60 / lim
	e = es > ef ? es : ef; b = bs > bf ? bs : bf
	printf "Under Confluent'"'"'s documented limit of %d requests per minute (per source IP), requests alone need at least:\n", lim
	printf "  kpr.fetch_metrics: %d requests -> %.1f s (%.1f min); with the measured time: %.1f s\n", er, ef, ef / 60, e
	printf "  per-topic client:  %d requests -> %.0f s (%.0f min); with the scaled time: %.0f s (%.0f min)\n", br, bf, bf / 60, b, b / 60
	printf "  ratio: %.0fx\n", b / e
}'
