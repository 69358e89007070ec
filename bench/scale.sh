#!/usr/bin/env bash
# bench/scale.sh - how the time of collection grows with the number of
# topics: kpr.sample_topics, kpr.fetch_metrics (Confluent, Prometheus),
# kpr.collect of each source and kpr.collect_all, timed at several topic
# counts, so that a part that grows faster than the topics shows as a number
# (ms per partition, and its ratio to the smaller sizes).  Prints figures; it
# is a benchmark, not a test (it exits non-zero when a step cannot run, or
# when a call returns a wrong result: then it prints no figure for it).
#
#   bench/scale.sh                      see bench/README.md for the knobs
#   KPR_BENCH_SIZES="100 300" bench/scale.sh          a quick run
#
# Steps, for each size N of KPR_BENCH_SIZES: write a spec of N topics
# s00000.. (KPR_BENCH_PARTITIONS partitions, replication 1, KPR_BENCH_RECORDS
# records on each of the 2 days before today); start the librdkafka mock
# cluster (test/fixtures/kafka_mock, 3 brokers) with it, the Confluent
# Metrics API stub (test/fixtures/confluent_metrics) and a backfilled
# Prometheus (test/fixtures/prometheus) with its hourly file, timing each
# start-up (the fixtures' cost, not the extension's); in a throw-away
# PostgreSQL (pg_virtualenv -t) with three servers on the mock (sampling,
# confluent, prometheus), time with client_min_messages = debug1, REPEATS
# times: sample_topics('sampling', 2, 10000), fetch_metrics of both metrics
# servers over the same 2 days, collect of each server, collect_all(2);
# check every result against the fixtures' expected files and the run rows;
# read the worker's DEBUG1 lines (time, rows and bytes sent, peak resident
# memory) and sample_topics' phase lines; stop the fixtures of that size.
# With KPR_BENCH_BROKER_TOPICS set, the same for sample_topics and collect on
# a real Kafka broker (test/fixtures/kafka_broker).  Then print one table
# per path.  Everything started is stopped (trap EXIT).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self="$here/$(basename "${BASH_SOURCE[0]}")"
repo=$(dirname "$here")
mock_sh="$repo/test/fixtures/kafka_mock/mock-cluster.sh"
stub_sh="$repo/test/fixtures/confluent_metrics/stub.sh"
prom_sh="$repo/test/fixtures/prometheus/prometheus.sh"
broker_sh="$repo/test/fixtures/kafka_broker/broker.sh"

SIZES=${KPR_BENCH_SIZES:-1000 3000 10000}
PARTITIONS=${KPR_BENCH_PARTITIONS:-3}
RECORDS=${KPR_BENCH_RECORDS:-30}
REPEATS=${KPR_BENCH_REPEATS:-1}
# which metrics fixtures to start (sampling is always measured; empty = none)
SOURCES=${KPR_BENCH_SOURCES-confluent prometheus}
# topics of the real-broker point; empty = no broker
BROKER_TOPICS=${KPR_BENCH_BROKER_TOPICS:-}
# max_records_per_partition of sample_topics
MAX_RECORDS=${KPR_BENCH_MAX_RECORDS:-10000}
# statement_timeout of each timed call (a cap, so that the script ends)
CALL_TIMEOUT=${KPR_BENCH_CALL_TIMEOUT:-30min}
# kpr.kafka_timeout and kpr.sample_slice_partitions for the calls; empty =
# the extension's defaults
KAFKA_TIMEOUT_MS=${KPR_BENCH_KAFKA_TIMEOUT_MS:-}
SLICE_PARTITIONS=${KPR_BENCH_SLICE_PARTITIONS:-}
# seconds the mock may take to start (KPR_MOCK_START_TIMEOUT): at 10,000
# topics its start-up takes minutes
MOCK_TIMEOUT=${KPR_BENCH_MOCK_TIMEOUT:-1800}
# seconds the Metrics API stub and Prometheus (its backfill included) may
# each take to start
FIXTURE_TIMEOUT=${KPR_BENCH_FIXTURE_TIMEOUT:-7200}
# seconds broker.sh may take to start and load the spec
LOAD_TIMEOUT=${KPR_BENCH_LOAD_TIMEOUT:-900}
# where the extension is installed: empty = PostgreSQL's own directories;
# else a `make install DESTDIR=...` tree, loaded through extension_destdir
# and dynamic_library_path
EXT_DESTDIR=${KPR_BENCH_EXT_DESTDIR:-}
KEEP=${KPR_BENCH_KEEP:-0}
# the spec's day lines are days -2 and -1: the 2 complete days before today
DAYS=2
BROKERS=3
# the Prometheus fixture's OpenMetrics file, per topic: 21 series (JMX and
# Redpanda names, 3 brokers) x (one sample every 5 minutes, --coarse, over
# DAYS days + 1), at
# about 143 bytes a sample measured (150 counted)
PROM_BYTES_PER_TOPIC=$((21 * (288 * DAYS + 1) * 150))

die() {
	echo "scale.sh: ERROR: $*" >&2
	exit 1
}
note() { echo "== $*" >&2; }
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
has_source() { [[ " $SOURCES " == *" $1 "* ]]; }

###############################################################################
# Inner part: runs under pg_virtualenv (PGHOST, PGPORT, PGUSER... are set).
###############################################################################

# worker_lines ERR: the worker's DEBUG1 line at the end of each call, as
# "task|rows|bytes|ms|peak_rss_kB"
worker_lines() {
	sed -n 's/.*DEBUG:  \(.*\) on server [^:]*: \([0-9][0-9]*\) rows (\([0-9][0-9]*\) bytes) sent in \([0-9][0-9]*\) ms, worker peak resident memory \([0-9][0-9]*\) kB.*/\1|\2|\3|\4|\5/p' "$1"
}

# timed_call OUT SQL [CHECK_SQL]: SQL is the timed statement (DEBUG1 on,
# psql's \timing), CHECK_SQL runs after it at client_min_messages = warning;
# rows to OUT.out (psql -At), messages to OUT.err.  Prints the statement's
# milliseconds; dies if psql fails.
timed_call() {
	local out=$1 sql=$2 check=${3:-} status=0 ms
	psql -X -qAt -v ON_ERROR_STOP=1 >"$out.out" 2>"$out.err" <<-SQL || status=$?
		SET statement_timeout = '$CALL_TIMEOUT';
		${KAFKA_TIMEOUT_MS:+SET kpr.kafka_timeout = $KAFKA_TIMEOUT_MS;}
		${SLICE_PARTITIONS:+SET kpr.sample_slice_partitions = $SLICE_PARTITIONS;}
		SET client_min_messages = debug1;
		\\timing on
		$sql;
		\\timing off
		SET client_min_messages = warning;
		$check
	SQL
	if [[ "$status" != 0 ]]; then
		grep -v 'DEBUG:' "$out.err" | tail -20 >&2
		die "$sql failed (psql exit $status; messages above, all of them in $out.err with KPR_BENCH_KEEP=1)"
	fi
	ms=$(sed -n 's/^Time: \([0-9.][0-9.]*\) ms.*/\1/p' "$out.out" | head -1)
	[[ -n "$ms" ]] || die "no \\timing line in $out.out for: $sql"
	echo "$ms"
}

# record CLUSTER TOPICS PATH RUN MS OUT: appends the call's figures from the
# worker lines of OUT.err to results.txt and breakdown.txt
record() {
	local cluster=$1 topics=$2 path=$3 run=$4 ms=$5 out=$6 lines
	lines=$(worker_lines "$out.err")
	[[ -n "$lines" ]] ||
		die "$path: no worker DEBUG1 line ('... rows (... bytes) sent in ... ms, worker peak resident memory ... kB') in $out.err: a build without it?"
	awk -F'|' -v c="$cluster" -v t="$topics" -v p="$path" -v r="$run" -v b="$breakdown" '
		{ n++; rows += $2; bytes += $3; wms += $4; if ($5 > rss) rss = $5
		  task = $1; gsub(/ /, "_", task)
		  print c, t, p, r, task, $4, $2, $3, $5 >>b }
		END { print n, wms, rss, rows, bytes }' <<<"$lines" |
		{ read -r calls wms rss rows bytes
		  echo "$cluster $topics $((topics * partitions_per_topic)) $path $run $ms $calls $wms $rss $rows $bytes" >>"$results"; }
}

# expected_sums FILE FIRST LAST: "rows records bytes" of expected_metrics.csv
# (topic,day,bytes_in,records_in,...) within the window, internal topics
# (names starting with _) left out as fetch_metrics does
expected_sums() {
	awk -F, -v f="$2" -v l="$3" 'NR > 1 && $2 >= f && $2 <= l && $1 !~ /^_/ { n++; r += $4; b += $3 }
		END { printf "%d %.0f %.0f\n", n, r, b }' "$1"
}

inner() {
	local work=$1 cluster=$2 topics=$3 kafka_state=$4 bootstrap=$5 today=$6
	local c_url=$7 c_state=$8 p_url=$9 p_state=${10}
	local kserver first last pg_today run r ms line setup r_ok
	local e_rows e_records s_rows s_topics s_records
	local servers=() m_rows m_records m_bytes f_rows f_topics f_records f_bytes
	echo "${PG_CLUSTER_CONF_ROOT:-}" >>"$work/pg_conf_root"
	results="$work/results.txt"
	breakdown="$work/breakdown.txt"
	partitions_per_topic=$PARTITIONS
	kserver=sampling
	[[ "$cluster" == broker ]] && kserver=broker
	first=$(date -u -d "$today -$DAYS day" +%F)
	last=$(date -u -d "$today -1 day" +%F)

	setup="CREATE EXTENSION kafka_partition_recommender CASCADE;
		CREATE SERVER $kserver FOREIGN DATA WRAPPER kafka_partition_recommender
		    OPTIONS (bootstrap_servers '$bootstrap');
		CREATE USER MAPPING FOR CURRENT_USER SERVER $kserver;"
	[[ "$c_url" == - ]] || setup+="
		CREATE SERVER confluent FOREIGN DATA WRAPPER kafka_partition_recommender
		    OPTIONS (bootstrap_servers '$bootstrap', metrics_source 'confluent',
		             metrics_url '$c_url', cluster_id 'lkc-kpr001');
		CREATE USER MAPPING FOR CURRENT_USER SERVER confluent
		    OPTIONS (metrics_api_key 'KPRTESTKEY', metrics_api_secret 'kpr-test-metrics-secret');"
	[[ "$p_url" == - ]] || setup+="
		CREATE SERVER prometheus FOREIGN DATA WRAPPER kafka_partition_recommender
		    OPTIONS (bootstrap_servers '$bootstrap', metrics_source 'prometheus', metrics_url '$p_url');
		CREATE USER MAPPING FOR CURRENT_USER SERVER prometheus;"
	if ! psql -X -q -v ON_ERROR_STOP=1 -c "$setup" >"$work/setup.log" 2>&1; then
		cat "$work/setup.log" >&2
		if grep -q 'extension "kafka_partition_recommender" is not available\|could not open extension control file\|could not open directory\|could not access file' "$work/setup.log"; then
			if [[ -n "$EXT_DESTDIR" ]]; then
				die "the extension is not installed under KPR_BENCH_EXT_DESTDIR=$EXT_DESTDIR; run: make -C $repo && make -C $repo install DESTDIR=$EXT_DESTDIR"
			fi
			die "the extension is not installed in this PostgreSQL; run: cd $repo && make && sudo make install (or set KPR_BENCH_EXT_DESTDIR to a make install DESTDIR=... tree)"
		fi
		die "setting up the extension and the foreign servers failed (see above)"
	fi
	# which build: the library this backend loaded
	psql -X -qAt -v ON_ERROR_STOP=1 >"$work/library.txt" 2>&1 <<-'SQL' ||
		LOAD 'kafka_partition_recommender';
		SELECT DISTINCT substring(l from '/\S*kafka_partition_recommender\S*')
		FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\n') AS l
		WHERE l LIKE '%kafka_partition_recommender%';
	SQL
		{ cat "$work/library.txt" >&2; die "cannot tell which library of the extension is loaded"; }
	pg_today=$(psql -X -qAt -c "SELECT (clock_timestamp() AT TIME ZONE 'UTC')::date")
	[[ "$pg_today" == "$today" ]] ||
		die "the UTC date moved from $today (the fixtures' today) to $pg_today: the window moved, rerun"

	# what the window must hold: expected.csv is topic,day,partition,records,...
	read -r e_rows e_records < <(awk -F, -v f="$first" -v l="$last" 'NR > 1 && $2 >= f && $2 <= l {
			if (!(($1, $2) in seen)) { seen[$1, $2]; n++ } r += $4 }
		END { printf "%d %.0f\n", n, r }' "$kafka_state/expected.csv")
	servers=("$kserver")
	[[ "$c_url" == - ]] || servers+=(confluent)
	[[ "$p_url" == - ]] || servers+=(prometheus)

	for ((r = 1; r <= REPEATS; r++)); do
		run="$work/$cluster-$topics-r$r"
		note "$cluster, $topics topics, run $r/$REPEATS"

		ms=$(timed_call "$run-sample" \
			"SELECT 'result', count(*), count(DISTINCT topic), sum(records_in) FROM kpr.sample_topics('$kserver', $DAYS, $MAX_RECORDS)")
		IFS='|' read -r _ s_rows s_topics s_records < <(grep '^result|' "$run-sample.out")
		[[ "$s_topics" == "$topics" && "$s_rows" == "$e_rows" && "$s_records" == "$e_records" ]] ||
			die "sample_topics('$kserver', $DAYS, $MAX_RECORDS) is wrong: $s_rows rows, $s_topics topics, sum(records_in) $s_records; expected.csv says $e_rows rows, $topics topics, $e_records records in $first .. $last"
		record "$cluster" "$topics" sample_topics "$r" "$ms" "$run-sample"
		# sample_topics' own lines: topics, partitions, slices; time by phase
		sed -n 's/.*sample_topics on server [^:]*: \([0-9]*\) topics, \([0-9]*\) partitions in \([0-9]*\) slice(s), offsets by \([a-z ]*\), read \([0-9]*\) records for boundaries and \([0-9]*\) for the size sample.*/\1 \2 \3 \5 \6 \4/p' \
			"$run-sample.err" | tail -1 >"$run-sample.counts"
		sed -n 's/.*sample_topics on server [^:]*: open \([0-9]*\) ms, watermarks \([0-9]*\) ms, edges \([0-9]*\) ms, boundaries \([0-9]*\) ms, sample \([0-9]*\) ms; \([0-9]*\) ListOffsets calls, \([0-9]*\) partition(s) read whole, \([0-9]*\) seeks.*/\1 \2 \3 \4 \5 \6 \7 \8/p' \
			"$run-sample.err" | tail -1 >"$run-sample.phases"
		[[ -s "$run-sample.counts" && -s "$run-sample.phases" ]] ||
			die "sample_topics' DEBUG1 lines ('... topics, ... partitions in ... slice(s)', 'open .. ms, watermarks ..') not found in $run-sample.err"
		read -r line _ <"$run-sample.counts"
		[[ "$line" == "$topics" ]] || die "sample_topics says it saw $line topics, the spec has $topics"
		echo "$cluster $topics $r $(cat "$run-sample.counts") $(cat "$run-sample.phases")" >>"$work/phases.txt"
		note "  sample_topics: ${ms} ms"

		for server in confluent prometheus; do
			[[ " ${servers[*]} " == *" $server "* ]] || continue
			if [[ "$server" == confluent ]]; then
				read -r m_rows m_records m_bytes < <(expected_sums "$c_state/expected_metrics.csv" "$first" "$last")
			else
				read -r m_rows m_records m_bytes < <(expected_sums "$p_state/expected_metrics.csv" "$first" "$last")
			fi
			ms=$(timed_call "$run-fetch-$server" \
				"SELECT 'result', count(*), count(DISTINCT topic), sum(records_in), sum(bytes_in) FROM kpr.fetch_metrics('$server', '$first', '$last')")
			IFS='|' read -r _ f_rows f_topics f_records f_bytes < <(grep '^result|' "$run-fetch-$server.out")
			[[ "$f_topics" == "$topics" && "$f_rows" == "$((topics * DAYS))" && "$f_rows" == "$m_rows" &&
				"$f_records" == "$m_records" && "$f_bytes" == "$m_bytes" ]] ||
				die "fetch_metrics('$server', '$first', '$last') is wrong: $f_rows rows, $f_topics topics, records_in $f_records, bytes_in $f_bytes; the fixture's expected_metrics.csv says $m_rows rows ($((topics * DAYS)) wanted: $topics topics x $DAYS days), records_in $m_records, bytes_in $m_bytes"
			record "$cluster" "$topics" "fetch_metrics/$server" "$r" "$ms" "$run-fetch-$server"
			note "  fetch_metrics('$server'): ${ms} ms"
		done

		for server in "${servers[@]}"; do
			ms=$(timed_call "$run-collect-$server" "SELECT 'result', kpr.collect('$server', $DAYS)" \
				"SELECT 'check', status, topics_seen, rows_written, replace(coalesce(error, ''), E'\\n', ' ')
				   FROM kpr.collection_runs WHERE run_id = (SELECT max(run_id) FROM kpr.collection_runs WHERE server = '$server');")
			line=$(grep '^check|' "$run-collect-$server.out" || true)
			[[ "$line" == "check|succeeded|$topics|$((topics * DAYS))|" ]] ||
				die "collect('$server', $DAYS) did not succeed with $topics topics and $((topics * DAYS)) rows: its run row says status|topics_seen|rows_written|error = ${line#check|}"
			record "$cluster" "$topics" "collect/$server" "$r" "$ms" "$run-collect-$server"
			note "  collect('$server'): ${ms} ms"
		done

		[[ "$cluster" == mock ]] || continue
		ms=$(timed_call "$run-collect_all" "SELECT 'result', server, run_id, status, replace(coalesce(error, ''), E'\\n', ' ') FROM kpr.collect_all($DAYS)" \
			"SELECT 'check', r.server, r.status, r.topics_seen, r.rows_written FROM kpr.collection_runs r
			  WHERE r.run_id IN (SELECT max(run_id) FROM kpr.collection_runs GROUP BY server) ORDER BY r.server;")
		line=$(grep -c "^check|[a-z]*|succeeded|$topics|$((topics * DAYS))\$" "$run-collect_all.out" || true)
		r_ok=$(grep -c '^result|.*|succeeded|$' "$run-collect_all.out" || true)
		[[ "$line" == "${#servers[@]}" && "$r_ok" == "${#servers[@]}" ]] || {
			grep '^result|\|^check|' "$run-collect_all.out" >&2
			die "collect_all($DAYS) did not collect all ${#servers[@]} servers with $topics topics and $((topics * DAYS)) rows each (rows above)"
		}
		record "$cluster" "$topics" collect_all "$r" "$ms" "$run-collect_all"
		note "  collect_all: ${ms} ms"
	done
}

if [[ "${1:-}" == --inner ]]; then
	inner "${@:2}"
	exit 0
fi

###############################################################################
# Outer part
###############################################################################

for f in "$mock_sh" "$stub_sh" "$prom_sh" "$broker_sh"; do
	[[ -x "$f" ]] || die "fixture not found: $f"
done
[[ "$REPEATS" =~ ^[1-9][0-9]*$ ]] || die "KPR_BENCH_REPEATS must be a positive integer"
[[ "$PARTITIONS" =~ ^[1-9][0-9]*$ ]] && ((PARTITIONS <= 1000)) || die "KPR_BENCH_PARTITIONS must be 1..1000"
[[ "$RECORDS" =~ ^[1-9][0-9]*$ ]] || die "KPR_BENCH_RECORDS must be a positive integer"
[[ "$MAX_RECORDS" =~ ^[1-9][0-9]*$ ]] || die "KPR_BENCH_MAX_RECORDS must be a positive integer"
for t in "$MOCK_TIMEOUT" "$FIXTURE_TIMEOUT" "$LOAD_TIMEOUT"; do
	[[ "$t" =~ ^[1-9][0-9]*$ ]] || die "the KPR_BENCH_*_TIMEOUT knobs are whole seconds, got '$t'"
done
[[ -z "$BROKER_TOPICS" || "$BROKER_TOPICS" =~ ^[1-9][0-9]*$ ]] || die "KPR_BENCH_BROKER_TOPICS must be a positive integer"
for n in $SIZES; do
	[[ "$n" =~ ^[1-9][0-9]*$ ]] && ((n <= 100000)) || die "KPR_BENCH_SIZES must be topic counts of 1..100000, got '$n'"
done
[[ -n "${SIZES// /}" || -n "$BROKER_TOPICS" ]] || die "KPR_BENCH_SIZES is empty and no broker point is asked for"
for s in $SOURCES; do
	[[ "$s" == confluent || "$s" == prometheus ]] || die "KPR_BENCH_SOURCES takes confluent and/or prometheus, got '$s'"
done
if [[ -n "$EXT_DESTDIR" ]]; then
	[[ -d "$EXT_DESTDIR" ]] || die "KPR_BENCH_EXT_DESTDIR=$EXT_DESTDIR is not a directory (make install DESTDIR=... first)"
	EXT_DESTDIR=$(cd "$EXT_DESTDIR" && pwd)
fi
for tool in pg_virtualenv pg_config psql awk sort make timeout python3; do
	command -v "$tool" >/dev/null || die "$tool not found (PostgreSQL 15 with postgresql-common, build tools and python3 are needed)"
done
if has_source prometheus; then
	command -v prometheus >/dev/null && command -v promtool >/dev/null ||
		die "prometheus/promtool not found: apt-get install -y --no-install-recommends prometheus (or KPR_BENCH_SOURCES=confluent)"
fi
if [[ -n "$BROKER_TOPICS" ]]; then
	command -v java >/dev/null || die "java not found (the broker point needs Java 17 and Maven)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kpr-bench-scale.XXXXXX")
chmod 755 "$work"
: >"$work/results.txt"
: >"$work/breakdown.txt"
: >"$work/phases.txt"
: >"$work/fixtures.txt"
: >"$work/pg_conf_root"
bounded_pid=""
# state dirs of the fixtures started, "kind dir" a line, for cleanup
: >"$work/started"

stop_fixture() { # KIND DIR
	case "$1" in
	mock) "$mock_sh" stop "$2" || true ;;
	stub) "$stub_sh" stop "$2" || true ;;
	prometheus) "$prom_sh" stop "$2" || true ;;
	broker) "$broker_sh" stop "$2" || true ;;
	esac
}

cleanup() {
	local status=$? leftovers roots kind dir
	trap - EXIT INT TERM
	# a fixture start still under way: timeout passes the signal on to its
	# process group (the start script and what it started)
	if [[ -n "$bounded_pid" ]]; then
		kill -TERM "$bounded_pid" 2>/dev/null || true
		wait "$bounded_pid" 2>/dev/null || true
	fi
	tac "$work/started" | while read -r kind dir; do stop_fixture "$kind" "$dir"; done
	# what of this run is still running? (every fixture's command line names
	# its state dir under $work; zombies, state Z, only wait to be reaped)
	roots=$(sed 's,/postgresql$,,' "$work/pg_conf_root" | grep . | tr '\n' ' ' || true)
	leftovers=$(ps -eo pid=,stat=,args= | awk -v w="$work" -v roots="$roots" -v me="$$" '
		BEGIN { n = split(roots, p, " ") }
		$1 == me || $2 ~ /^Z/ { next }
		index($0, w) { print; next }
		{ for (i = 1; i <= n; i++) if (index($0, p[i])) { print; next } }' |
		grep -v -e 'ps -eo' -e 'awk -v w=' || true)
	if [[ -n "$leftovers" ]]; then
		echo "scale.sh: WARNING: processes of this run are still running:" >&2
		echo "$leftovers" >&2
		status=1
	else
		echo "leftover processes: none (fixtures stopped, temporary PostgreSQL dropped)" >&2
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

# bounded SECONDS OUT WHAT CMD...: runs CMD under timeout(1), stdout to OUT;
# dies saying WHAT if it fails or takes longer
bounded() {
	local secs=$1 out=$2 what=$3 status=0
	shift 3
	timeout "$secs" "$@" </dev/null >"$out" &
	bounded_pid=$!
	wait "$bounded_pid" || status=$?
	bounded_pid=""
	if [[ "$status" == 124 ]]; then
		die "$what did not start within ${secs}s (its log is under $(dirname "$out"); KPR_BENCH_KEEP=1 keeps it)"
	elif [[ "$status" != 0 ]]; then
		die "$what did not start (exit $status; its log is above)"
	fi
}

# write_spec N FILE: N topics s00000.., 2 day lines each
write_spec() {
	awk -v n="$1" -v p="$PARTITIONS" -v r="$RECORDS" 'BEGIN {
		print "# bench/scale.sh: " n " topics x " p " partitions, " r " records on each of days -2 and -1"
		for (i = 0; i < n; i++) {
			t = sprintf("s%05d", i)
			print "topic", t, p, 1
			print "day", t, -2, r, 8, 50, 150, 0
			print "day", t, -1, r, 8, 50, 150, 0
		} }' >"$2"
}

# check_expected STATE N: the loader's expected.csv holds the spec (N topics,
# N x 2 x RECORDS records)
check_expected() {
	local got
	got=$(awk -F, 'NR > 1 { if (!($1 in t)) { t[$1]; n++ } r += $4 } END { printf "%d %.0f\n", n, r }' "$1/expected.csv")
	[[ "$got" == "$2 $(($2 * DAYS * RECORDS))" ]] ||
		die "$1/expected.csv holds topics/records $got, the spec $2 $(($2 * DAYS * RECORDS))"
}

pg_opts=()
if [[ -n "$EXT_DESTDIR" ]]; then
	pkglibdir=$(pg_config --pkglibdir)
	pg_opts=(-o "extension_destdir=$EXT_DESTDIR" -o "dynamic_library_path=$EXT_DESTDIR$pkglibdir:\$libdir")
fi
export REPEATS PARTITIONS RECORDS MAX_RECORDS CALL_TIMEOUT KAFKA_TIMEOUT_MS SLICE_PARTITIONS EXT_DESTDIR

# run_inner DIR ARGS...: the PostgreSQL part, its notes shown as they come
run_inner() {
	local dir=$1
	shift
	note "timing the calls in a temporary PostgreSQL (pg_virtualenv -t ${pg_opts[*]})"
	if ! pg_virtualenv -t "${pg_opts[@]}" bash "$self" --inner "$work" "$@" 2>&1 |
		tee "$dir/pg_virtualenv.log" | { grep --line-buffered '^==' >&2 || true; }; then
		grep -v '^Creating new\|^Dropping cluster\|^==' "$dir/pg_virtualenv.log" | tail -40 >&2
		die "the PostgreSQL part failed (pg_virtualenv output above)"
	fi
}

# The Prometheus fixture writes its whole history as one OpenMetrics file
# before promtool reads it: check the disk before anything starts.
if has_source prometheus && [[ -n "${SIZES// /}" ]]; then
	largest=$(tr ' ' '\n' <<<"$SIZES" | grep . | sort -n | tail -1)
	need_kb=$((largest * PROM_BYTES_PER_TOPIC * 11 / 10 / 1024))
	avail_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
	((avail_kb > need_kb)) ||
		die "the Prometheus fixture needs about $((need_kb / 1048576)) GB of disk for $largest topics (its OpenMetrics file: $((PROM_BYTES_PER_TOPIC / 1000000)) MB per topic over $DAYS days) and $work's file system has $((avail_kb / 1048576)) GB free: set TMPDIR to a larger disk, leave Prometheus out (KPR_BENCH_SOURCES=confluent), or take smaller KPR_BENCH_SIZES"
fi

today=$(date -u +%F)
for n in $SIZES; do
	dir="$work/n$n"
	mkdir -p "$dir"
	write_spec "$n" "$dir/scale.spec"
	c_url=- p_url=- stub_secs=- prom_secs=- prom_detail=-

	note "$n topics x $PARTITIONS partitions: starting the mock cluster ($BROKERS brokers, up to ${MOCK_TIMEOUT}s)"
	echo "mock $dir/kafka" >>"$work/started"
	t0=$(now)
	KPR_MOCK_TODAY=$today KPR_MOCK_START_TIMEOUT=$MOCK_TIMEOUT \
		bounded $((MOCK_TIMEOUT + 120)) "$dir/bootstrap.txt" "the mock cluster ($n topics)" \
		"$mock_sh" start "$dir/kafka" "$dir/scale.spec" "$BROKERS"
	mock_secs=$(elapsed "$t0" "$(now)")
	bootstrap=$(cat "$dir/bootstrap.txt")
	check_expected "$dir/kafka" "$n"
	note "  ready in ${mock_secs}s at $bootstrap"

	if has_source confluent; then
		note "  starting the Metrics API stub with the mock's hourly file"
		echo "stub $dir/metrics" >>"$work/started"
		t0=$(now)
		bounded "$FIXTURE_TIMEOUT" "$dir/confluent_url.txt" "the Metrics API stub ($n topics)" \
			"$stub_sh" start "$dir/metrics" --hourly "$dir/kafka/expected_hourly.csv"
		stub_secs=$(elapsed "$t0" "$(now)")
		c_url=$(cat "$dir/confluent_url.txt")
		note "  ready in ${stub_secs}s at $c_url"
	fi
	if has_source prometheus; then
		note "  starting Prometheus, backfilled from the mock's hourly file (about $((n * PROM_BYTES_PER_TOPIC / 1000000)) MB of OpenMetrics on the way; up to ${FIXTURE_TIMEOUT}s)"
		echo "prometheus $dir/prom" >>"$work/started"
		t0=$(now)
		bounded "$FIXTURE_TIMEOUT" "$dir/prometheus_url.txt" "Prometheus ($n topics)" \
			"$prom_sh" start "$dir/prom" --hourly "$dir/kafka/expected_hourly.csv" --coarse --retention 30d
		prom_secs=$(elapsed "$t0" "$(now)")
		p_url=$(cat "$dir/prometheus_url.txt")
		prom_detail=$(awk '{ v[$1] = $2 } END { printf "%s/%s/%s", v["generate_s"], v["promtool_s"], v["ready_s"] }' "$dir/prom/timings")
		note "  ready in ${prom_secs}s at $p_url (generate/promtool/ready s: $prom_detail)"
	fi
	echo "mock $n $mock_secs $stub_secs $prom_secs $prom_detail" >>"$work/fixtures.txt"

	run_inner "$dir" mock "$n" "$dir/kafka" "$bootstrap" "$today" \
		"$c_url" "$dir/metrics" "$p_url" "$dir/prom"
	note "  stopping the fixtures of $n topics"
	stop_fixture prometheus "$dir/prom"
	stop_fixture stub "$dir/metrics"
	stop_fixture mock "$dir/kafka"
done

if [[ -n "$BROKER_TOPICS" ]]; then
	n=$BROKER_TOPICS
	dir="$work/broker$n"
	mkdir -p "$dir"
	write_spec "$n" "$dir/scale.spec"
	note "real broker: starting test/fixtures/kafka_broker with $n topics x $PARTITIONS partitions (up to ${LOAD_TIMEOUT}s)"
	echo "broker $dir/broker" >>"$work/started"
	t0=$(now)
	KPR_BROKER_TODAY=$today KPR_BROKER_START_TIMEOUT=$LOAD_TIMEOUT \
		bounded $((LOAD_TIMEOUT + 600)) "$dir/bootstrap.txt" "the Kafka broker ($n topics)" \
		"$broker_sh" start "$dir/broker" "$dir/scale.spec"
	broker_secs=$(elapsed "$t0" "$(now)")
	bootstrap=$(cat "$dir/bootstrap.txt")
	check_expected "$dir/broker" "$n"
	loader_line=$(grep -m1 'loaded .* in ' "$dir/broker/load.log" || true)
	note "  ready in ${broker_secs}s at $bootstrap (${loader_line#kpr_mock_cluster: })"
	echo "broker $n $broker_secs - - -" >>"$work/fixtures.txt"
	run_inner "$dir" broker "$n" "$dir/broker" "$bootstrap" "$today" - - - -
	stop_fixture broker "$dir/broker"
fi

###############################################################################
# Report
###############################################################################

[[ "$(date -u +%F)" == "$today" ]] ||
	echo "WARNING: the UTC date changed during the run ($today -> $(date -u +%F)); the checks passed, but later sizes ran a day later"
[[ -s "$work/results.txt" ]] || die "no call recorded"

echo
echo "kpr scale bench: $PARTITIONS partitions per topic, $RECORDS records per topic and day, $DAYS days; median of $REPEATS run(s) by time"
echo "extension library: $(cat "$work/library.txt" 2>/dev/null || echo unknown)"
echo
echo "Fixture start-up (their cost, not the extension's), seconds:"
awk 'BEGIN { printf "  %-7s %7s %11s %9s %13s   %s\n", "cluster", "topics", "kafka start", "stub", "prometheus", "(generate/promtool/ready)" }
	{ printf "  %-7s %7d %11.1f %9s %13s   %s\n", $1, $2, $3, $4, $5, $6 }' "$work/fixtures.txt"

# the median run of each (cluster, path, topics): results.txt is
# cluster topics partitions path run ms calls worker_ms rss_kB rows bytes
sort -k1,1 -k4,4 -k2,2n -k6,6g "$work/results.txt" | awk '
	{ key = $1 " " $4 " " $2; n[key]++; line[key, n[key]] = $0; if (!(key in seen)) { seen[key]; order[++k] = key } }
	END { for (i = 1; i <= k; i++) print line[order[i], int((n[order[i]] + 1) / 2)] }' >"$work/median.txt"

for cluster in mock broker; do
	for path in sample_topics fetch_metrics/confluent fetch_metrics/prometheus collect/sampling \
		collect/broker collect/confluent collect/prometheus collect_all; do
		awk -v c="$cluster" -v p="$path" '$1 == c && $4 == p' "$work/median.txt" >"$work/table.txt"
		[[ -s "$work/table.txt" ]] || continue
		echo
		case "$cluster" in
		mock) echo "$path on the librdkafka mock cluster ($BROKERS brokers):" ;;
		broker) echo "$path on a real Kafka broker (test/fixtures/kafka_broker):" ;;
		esac
		awk -v collect="$([[ "$path" == collect* ]] && echo 1 || echo 0)" '
			BEGIN {
				printf "  %7s %10s %9s %9s %7s %8s %12s %8s %9s %10s %10s\n", "topics", "partitions", "seconds", "ms/part",
					"x prev", "x first", collect ? "SQL-side s" : "outside s", "workers", "peak RSS", "rows sent", "MB sent"
			}
			{
				mpp = $6 / $3
				prev_r = NR > 1 ? sprintf("%.2f", mpp / prev) : "-"
				first_r = NR > 1 ? sprintf("%.2f", mpp / first) : "-"
				if (NR == 1) first = mpp
				prev = mpp
				printf "  %7d %10d %9.2f %9.3f %7s %8s %12.2f %8d %6.1f MB %10d %10.2f\n", $2, $3, $6 / 1000, mpp,
					prev_r, first_r, ($6 - $8) / 1000, $7, $9 / 1024, $10, $11 / 1e6
			}' "$work/table.txt"
		if [[ "$path" == collect* ]]; then
			# the median runs' worker time by task
			awk 'NR == FNR { want[$1 " " $2 " " $4 " " $5]; next }
				($1 " " $2 " " $3 " " $4) in want {
					t = $5; gsub(/_/, " ", t)
					if (!(($2, t) in ms)) { tasks[$2] = tasks[$2] (tasks[$2] == "" ? "" : "|") t; topics[$2] }
					ms[$2, t] += $6; calls[$2, t]++
				}
				END {
					for (n in topics) {
						k = split(tasks[n], tk, "|"); line = ""
						for (i = 1; i <= k; i++)
							line = line sprintf("%s%s %.2f s%s", i > 1 ? ", " : "", tk[i], ms[n, tk[i]] / 1000,
								calls[n, tk[i]] > 1 ? " (" calls[n, tk[i]] " calls)" : "")
						printf "  %7d topics, worker time by task: %s\n", n, line
					}
				}' \
				"$work/table.txt" <(awk -v c="$cluster" -v p="$path" '$1 == c && $3 == p' "$work/breakdown.txt") | sort -n
		fi
	done
done

if [[ -s "$work/phases.txt" ]]; then
	echo
	echo "sample_topics by phase (its DEBUG1 lines, median runs; ms summed over slices):"
	# phases.txt: cluster topics run  topics partitions slices boundary_rec sample_rec offsets-by(words...)
	#             open watermarks edges boundaries sample listoffsets whole seeks (the last 8 fields)
	awk 'NR == FNR { if ($4 == "sample_topics") want[$1 " " $2 " " $5]; next }
		($1 " " $2 " " $3) in want {
			f = NF - 7; by = ""; for (i = 9; i < f; i++) by = by (by == "" ? "" : " ") $i
			printf "  %-6s %7d topics %7d partitions %4d slice(s), offsets by %s: open %d, watermarks %d, edges %d, boundaries %d, sample %d ms; %d ListOffsets calls, %d read whole, %d seeks; %d + %d records read\n",
				$1, $2, $5, $6, by, $f, $(f + 1), $(f + 2), $(f + 3), $(f + 4), $(f + 5), $(f + 6), $(f + 7), $7, $8
		}' "$work/median.txt" "$work/phases.txt" | sort -k1,1r -k2,2n
fi

echo
echo "All runs (cluster topics path run: seconds, worker seconds, peak RSS):"
awk '{ printf "  %-6s %7d %-26s run %d: %9.2f s, workers %9.2f s, %7.1f MB\n", $1, $2, $4, $5, $6 / 1000, $8 / 1000, $9 / 1024 }' \
	"$work/results.txt"
echo
printf '%s\n' "seconds: psql's \\timing of the call. ms/part: its milliseconds per partition (topics x $PARTITIONS);"
echo "  x prev, x first: that figure over the same figure at the previous and at the first size (1.00 = linear in partitions)."
echo "outside s: the call's time minus its workers' own (worker start-up, the rows' way into the query); for collect"
echo "  (SQL-side s) also everything collect does in SQL: the run rows, the inventory and history upserts."
echo "workers, peak RSS, rows/MB sent: from the workers' DEBUG1 lines; collect starts one worker per call"
echo "  (recording a collect run, cluster_info, list_topics, then sample_topics or fetch_metrics); peak RSS is the largest."
