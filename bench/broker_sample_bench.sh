#!/usr/bin/env bash
# bench/broker_sample_bench.sh - kpr.sample_topics on a real Kafka broker:
# how much it reads, how long it takes and how close its figures are to the
# truth, against kcat and a librdkafka floor reading the same number of
# records.  Prints figures; it is a benchmark, not a test (it exits non-zero
# only when a step cannot run).
#
#   bench/broker_sample_bench.sh        see bench/README.md for the knobs
#
# Steps: install kcat if missing (apt-get, through sudo when not root); build
# bench/read_floor.c; start the real broker of test/fixtures/kafka_broker
# loaded with bench/broker_bench.spec; in a throw-away PostgreSQL
# (pg_virtualenv -t) time kpr.sample_topics('broker', 7, BUDGET) REPEATS
# times per budget; time kcat and read_floor reading as many records as
# sample_topics did, kcat's per-process floor, and kcat reading every record;
# compare sample_topics' rows with the loader's expected.csv and
# expected_hourly.csv; print one markdown table.  The broker is always
# stopped (trap EXIT).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self="$here/$(basename "${BASH_SOURCE[0]}")"
repo=$(dirname "$here")
broker_sh="$repo/test/fixtures/kafka_broker/broker.sh"
report_py="$here/broker_bench_report.py"

SPEC=${KPR_BENCH_SPEC:-$here/broker_bench.spec}
REPEATS=${KPR_BENCH_REPEATS:-3}
BUDGETS=${KPR_BENCH_BUDGETS:-1000 10000}
DAYS=7
KCAT_JOBS=${KPR_BENCH_KCAT_JOBS:-4}
# kpr.kafka_timeout for the calls; empty = the extension's default (30 s)
KAFKA_TIMEOUT_MS=${KPR_BENCH_KAFKA_TIMEOUT_MS:-}
# batch.size of the fixture's producer, i.e. the stored batches; empty =
# librdkafka's default (1 MB)
BATCH_BYTES=${KPR_BENCH_BATCH_BYTES:-}
if [[ -n "$BATCH_BYTES" ]]; then
	export KPR_LOADER_BATCH_BYTES=$BATCH_BYTES
fi
# kpr.sample_seek_cost for the calls; empty = the extension's default (0 samples
# every partition the budget does not cover, -1 never reads one whole)
SEEK_COST=${KPR_BENCH_SEEK_COST:-}
# statement_timeout of each sample_topics call (a cap, so that the script ends)
CALL_TIMEOUT=${KPR_BENCH_CALL_TIMEOUT:-20min}
# where the extension is installed: empty = PostgreSQL's own directories;
# else a `make install DESTDIR=...` tree, loaded through extension_destdir
# and dynamic_library_path
EXT_DESTDIR=${KPR_BENCH_EXT_DESTDIR:-}
# seconds broker.sh may take to start and load the spec
LOAD_TIMEOUT=${KPR_BENCH_LOAD_TIMEOUT:-900}
KEEP=${KPR_BENCH_KEEP:-0}

die() {
	echo "broker_sample_bench.sh: ERROR: $*" >&2
	exit 1
}
note() { echo "== $*" >&2; }
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# bytes received on the loopback interface (= sent on it), whole machine
lo_bytes() { sed -n 's/^ *lo: *\([0-9][0-9]*\).*/\1/p' /proc/net/dev; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

###############################################################################
# Inner part: runs under pg_virtualenv (PGHOST, PGPORT, PGUSER... are set).
###############################################################################

# sample_call OUT BUDGET: one sample_topics call; rows to OUT.csv, messages to
# OUT.err; prints "status seconds loopback_bytes boundary_records
# sample_records rounds round_ms".
sample_call() {
	local out=$1 budget=$2 t0 t1 l0 l1 status=0 debug rounds
	l0=$(lo_bytes)
	t0=$(now)
	psql -X -q --csv -v ON_ERROR_STOP=1 \
		-c "SET client_min_messages = debug2" \
		${KAFKA_TIMEOUT_MS:+-c "SET kpr.kafka_timeout = $KAFKA_TIMEOUT_MS"} \
		${SEEK_COST:+-c "SET kpr.sample_seek_cost = $SEEK_COST"} \
		-c "SET statement_timeout = '$CALL_TIMEOUT'" \
		-c "SELECT $columns FROM kpr.sample_topics('broker', $DAYS, $budget) ORDER BY topic, day" \
		>"$out.csv" 2>"$out.err" || status=$?
	t1=$(now)
	l1=$(lo_bytes)
	debug=$(sed -n 's/.*read \([0-9][0-9]*\) records for boundaries and \([0-9][0-9]*\) for the size sample.*/\1 \2/p' "$out.err" | tail -1)
	[[ -n "$debug" ]] || debug="NA NA"
	rounds=$(sed -n 's/.*sample_topics round: \([0-9][0-9]*\) partitions in \([0-9][0-9]*\) ms.*/\2/p' "$out.err" |
		awk '{ n++; ms += $1 } END { print n + 0, ms + 0 }')
	echo "$status $(elapsed "$t0" "$t1") $((l1 - l0)) $debug $rounds"
}

inner() {
	local work=$1 bootstrap=$2 budget r line status secs lo b s
	echo "${PG_CLUSTER_CONF_ROOT:-}" >"$work/pg_conf_root"

	if ! psql -X -q -v ON_ERROR_STOP=1 >"$work/setup.log" 2>&1 <<-SQL; then
		CREATE EXTENSION kafka_partition_recommender;
		CREATE SERVER broker FOREIGN DATA WRAPPER kafka_partition_recommender
		    OPTIONS (bootstrap_servers '$bootstrap');
		CREATE USER MAPPING FOR CURRENT_USER SERVER broker;
		-- The worker reports at the caller's client_min_messages; a role
		-- setting also reaches builds older than that.
		ALTER ROLE CURRENT_USER SET client_min_messages = debug2;
	SQL
		cat "$work/setup.log" >&2
		if grep -q 'extension "kafka_partition_recommender" is not available\|could not open extension control file\|could not access file' "$work/setup.log"; then
			if [[ -n "$EXT_DESTDIR" ]]; then
				die "the extension is not installed under KPR_BENCH_EXT_DESTDIR=$EXT_DESTDIR; run: make -C $repo && make -C $repo install DESTDIR=$EXT_DESTDIR"
			fi
			die "the extension is not installed in this PostgreSQL; run: cd $repo && make && sudo make install (or set KPR_BENCH_EXT_DESTDIR to a make install DESTDIR=... tree)"
		fi
		die "setting up the extension and the foreign server failed (see above)"
	fi
	# which build: the library this backend loaded, and the output columns
	psql -X -qAt -v ON_ERROR_STOP=1 >"$work/library.txt" 2>&1 <<-'SQL' ||
		LOAD 'kafka_partition_recommender';
		SELECT DISTINCT substring(l from '/\S*kafka_partition_recommender\S*')
		FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\n') AS l
		WHERE l LIKE '%kafka_partition_recommender%';
	SQL
		{ cat "$work/library.txt" >&2; die "cannot tell which library of the extension is loaded"; }
	psql -X -qAt -v ON_ERROR_STOP=1 >"$work/columns.txt" 2>&1 <<-'SQL' ||
		SELECT string_agg(a.name, ' ' ORDER BY a.n)
		FROM unnest((SELECT proargnames FROM pg_proc
		             WHERE pronamespace = 'kpr'::regnamespace AND proname = 'sample_topics'
		             ORDER BY pronargs DESC LIMIT 1),
		            (SELECT proargmodes FROM pg_proc
		             WHERE pronamespace = 'kpr'::regnamespace AND proname = 'sample_topics'
		             ORDER BY pronargs DESC LIMIT 1)) WITH ORDINALITY AS a(name, mode, n)
		WHERE a.mode = 't';
	SQL
		{ cat "$work/columns.txt" >&2; die "cannot read the output columns of kpr.sample_topics"; }
	columns="topic, day, records_in, sampled_records, avg_record_bytes, bytes_in, peak_bytes_in_per_sec"
	for c in bytes_in_stderr peak_bytes_in_per_sec_stderr stratified_by; do
		if grep -qw "$c" "$work/columns.txt"; then columns+=", $c"; fi
	done
	note "sample_topics columns read: $columns"

	: >"$work/sample_runs.txt"
	for budget in $BUDGETS; do
		for ((r = 1; r <= REPEATS; r++)); do
			note "sample_topics('broker', $DAYS, $budget), run $r/$REPEATS"
			line=$(sample_call "$work/run_${budget}_$r" "$budget")
			read -r status secs lo b s _ <<<"$line"
			if [[ "$status" != 0 ]]; then
				grep -v '^DEBUG' "$work/run_${budget}_$r.err" | tail -20 >&2
				die "kpr.sample_topics('broker', $DAYS, $budget) failed after ${secs}s (psql exit $status; messages above)"
			fi
			[[ "$b" =~ ^[0-9]+$ && "$s" =~ ^[0-9]+$ ]] ||
				die "no DEBUG1 line with the records read was captured from sample_topics (see $work/run_${budget}_$r.err; KPR_BENCH_KEEP=1 keeps it)"
			echo "$budget $r $line" >>"$work/sample_runs.txt"
			note "  ${secs}s, read $b records for boundaries + $s for the sample"
		done
	done
}

if [[ "${1:-}" == --inner ]]; then
	inner "$2" "$3"
	exit 0
fi

###############################################################################
# Outer part
###############################################################################

[[ -f "$SPEC" ]] || die "spec not found: $SPEC"
[[ -x "$broker_sh" ]] || die "broker fixture not found: $broker_sh"
[[ -f "$report_py" ]] || die "report script not found: $report_py"
[[ "$REPEATS" =~ ^[1-9][0-9]*$ ]] || die "KPR_BENCH_REPEATS must be a positive integer"
[[ "$KCAT_JOBS" =~ ^[1-9][0-9]*$ ]] || die "KPR_BENCH_KCAT_JOBS must be a positive integer"
for budget in $BUDGETS; do
	[[ "$budget" =~ ^[1-9][0-9]*$ ]] || die "KPR_BENCH_BUDGETS must be positive integers, got '$budget'"
done
if [[ -n "$EXT_DESTDIR" ]]; then
	[[ -d "$EXT_DESTDIR" ]] || die "KPR_BENCH_EXT_DESTDIR=$EXT_DESTDIR is not a directory (make install DESTDIR=... first)"
	EXT_DESTDIR=$(cd "$EXT_DESTDIR" && pwd)
fi
for tool in pg_virtualenv pg_config psql awk sort make cc pkg-config python3 java xargs; do
	command -v "$tool" >/dev/null || die "$tool not found (PostgreSQL 15 with postgresql-common, build tools, Java 17 and python3 are needed)"
done
pkg-config --exists rdkafka || die "pkg-config cannot find rdkafka: install librdkafka-dev"

# 1. kcat from Debian
if ! command -v kcat >/dev/null; then
	if [[ $(id -u) -eq 0 ]]; then sudo=()
	elif command -v sudo >/dev/null; then sudo=(sudo)
	else die "kcat is missing and this is not root and there is no sudo: install the Debian package kcat"
	fi
	note "installing kcat from Debian (apt-get${sudo:+ through sudo})"
	if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q kcat >&2; then
		"${sudo[@]}" apt-get update -q >&2 &&
			"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q kcat >&2 ||
			die "apt-get install kcat failed"
	fi
	command -v kcat >/dev/null || die "kcat still not found after apt-get install"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kpr-broker-bench.XXXXXX")
chmod 755 "$work"
broker_state="$work/broker"

cleanup() {
	local status=$? leftovers pg_root
	trap - EXIT INT TERM
	"$broker_sh" stop "$broker_state" || true
	# what is still running that belongs to this run? (the broker's command
	# line names its config under $work; zombies, state Z, only wait to be reaped)
	pg_root=$(cat "$work/pg_conf_root" 2>/dev/null || true)
	pg_root=${pg_root%/postgresql}
	leftovers=$(ps -eo pid=,stat=,args= | awk -v w="$work" -v p="$pg_root" -v me="$$" '
		$1 == me || $2 ~ /^Z/ { next }
		index($0, w) || (p != "" && index($0, p)) { print }' |
		grep -v -e 'ps -eo' -e 'awk -v w=' || true)
	if [[ -n "$leftovers" ]]; then
		echo "broker_sample_bench.sh: WARNING: processes of this run are still running:" >&2
		echo "$leftovers" >&2
		status=1
	else
		echo "leftover processes: none (broker stopped, temporary PostgreSQL dropped)" >&2
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

# 2. the protocol-floor client
note "building bench/read_floor.c"
# shellcheck disable=SC2046 # pkg-config prints several words
cc -O2 -Wall -Wextra -Werror $(pkg-config --cflags rdkafka) -o "$work/read_floor" \
	"$here/read_floor.c" $(pkg-config --libs rdkafka) >&2 ||
	die "building bench/read_floor.c failed (needs gcc and librdkafka-dev)"

# 3. the broker, loaded with the spec
note "starting the Kafka broker (test/fixtures/kafka_broker) and loading $(basename "$SPEC")"
t0=$(now)
bootstrap=$(KPR_BROKER_START_TIMEOUT=$LOAD_TIMEOUT "$broker_sh" start "$broker_state" "$SPEC") ||
	die "the broker did not start or the spec did not load (its logs are above)"
load_secs=$(elapsed "$t0" "$(now)")
expected="$broker_state/expected.csv"
hourly="$broker_state/expected_hourly.csv"
data_dir="$(cat "$broker_state/work_dir")/data"
# the log segments' bytes (du would count the preallocated sparse index files)
disk_bytes=$(find "$data_dir" -name '*.log' -printf '%s\n' | awk '{ n += $1 } END { printf "%.0f", n }')
loader_line=$(grep -m1 'loaded .* in ' "$broker_state/load.log" || true)
topics=$(tail -n +2 "$expected" | cut -d, -f1 | awk '!seen[$0]++')
partitions_total=$(awk '$1 == "topic" { n += $3 } END { print n + 0 }' "$SPEC")
total_records=$(awk -F, 'NR > 1 { n += $4 } END { print n + 0 }' "$expected")
total_bytes=$(awk -F, 'NR > 1 { n += $5 } END { printf "%.0f", n }' "$expected")
note "  ready in ${load_secs}s at $bootstrap (${loader_line#kpr_mock_cluster: }); $(echo "$topics" | wc -w) topics, $partitions_total partitions, $total_records records, $((total_bytes / 1000000)) MB of keys+values+headers, $((disk_bytes / 1000000)) MB of log segments"

# 4. sample_topics in a throw-away PostgreSQL
pg_opts=()
if [[ -n "$EXT_DESTDIR" ]]; then
	pkglibdir=$(pg_config --pkglibdir)
	pg_opts=(-o "extension_destdir=$EXT_DESTDIR" -o "dynamic_library_path=$EXT_DESTDIR$pkglibdir:\$libdir")
fi
note "timing kpr.sample_topics('broker', $DAYS, B) for B in $BUDGETS, $REPEATS runs each (pg_virtualenv -t ${pg_opts[*]})"
export SPEC REPEATS BUDGETS KAFKA_TIMEOUT_MS CALL_TIMEOUT EXT_DESTDIR
pg_virtualenv -t "${pg_opts[@]}" bash "$self" --inner "$work" "$bootstrap" >"$work/pg_virtualenv.log" 2>&1 || {
	grep -v '^Creating new\|^Dropping cluster' "$work/pg_virtualenv.log" | tail -40 >&2
	die "the PostgreSQL part failed (pg_virtualenv output above)"
}
grep '^==' "$work/pg_virtualenv.log" >&2 || true
note "  extension library loaded: $(cat "$work/library.txt")"

# time_reads NAME FUNCTION [ARGS]: runs FUNCTION (which prints a record
# count) REPEATS times; each run is a line "run seconds records
# loopback_bytes" of $work/NAME.txt.
time_reads() {
	local name=$1 r n t0 t1 l0 l1
	shift
	: >"$work/$name.txt"
	for ((r = 1; r <= REPEATS; r++)); do
		l0=$(lo_bytes); t0=$(now)
		n=$("$@") || die "$* failed (run $r of $name)"
		t1=$(now); l1=$(lo_bytes)
		echo "$r $(elapsed "$t0" "$t1") $n $((l1 - l0))" >>"$work/$name.txt"
		note "  $name run $r: $n records in $(elapsed "$t0" "$t1")s"
	done
}

# 5. the same number of records as each budget's median sample_topics run,
# spread over the partitions as evenly as their sizes allow (a partition
# smaller than its share is read whole, the rest goes to the others)
awk -F, 'NR > 1 { n[$1 " " $3] += $4 } END { for (k in n) print k, n[k] }' "$expected" |
	sort -k1,1 -k2,2n >"$work/partition_sizes.txt"
spread() { # stdin: "topic partition size"; $1: records to read -> "topic partition count"
	sort -k3,3n | awk -v want="$1" '
		{ t[NR] = $1; p[NR] = $2; s[NR] = $3 }
		END {
			left = want
			for (i = 1; i <= NR; i++) {
				share = int(left / (NR - i + 1)); if (left % (NR - i + 1)) share++
				c = share < s[i] ? share : s[i]
				left -= c
				if (c > 0) print t[i], p[i], c
			}
		}'
}
kcat_plan() { # $1: plan file, $2: processes at a time
	# xargs exits non-zero if any kcat does; pipefail carries it through wc
	xargs -P "$2" -n 3 sh -c \
		'exec kcat -C -b "$0" -t "$1" -p "$2" -o beginning -c "$3" -e -q -f "%T\n"' "$bootstrap" <"$1" | wc -l
}
floor_plan() { # $1: plan file
	"$work/read_floor" "$bootstrap" "$1" 2>>"$work/read_floor.log"
}
for budget in $BUDGETS; do
	secs=$(awk -v b="$budget" '$1 == b { print $4 }' "$work/sample_runs.txt" | median)
	run=$(awk -v b="$budget" -v m="$secs" '$1 == b { d = $4 - m; if (d < 0) d = -d; if (best == "" || d < best) { best = d; r = $2 } } END { print r }' "$work/sample_runs.txt")
	records=$(awk -v b="$budget" -v r="$run" '$1 == b && $2 == r { print $6 + $7 }' "$work/sample_runs.txt")
	echo "$budget $run" >>"$work/median_runs.txt"
	plan="$work/plan_$budget.txt"
	spread "$records" <"$work/partition_sizes.txt" >"$plan"
	planned=$(awk '{ n += $3 } END { print n + 0 }' "$plan")
	((planned == records)) || note "  WARNING: the window holds fewer records ($planned) than sample_topics read ($records)"
	note "budget $budget: reading $planned records (-c N over $(wc -l <"$plan") partitions), as many as sample_topics run $run read"
	time_reads "kcat_seq_$budget" kcat_plan "$plan" 1
	time_reads "kcat_par_$budget" kcat_plan "$plan" "$KCAT_JOBS"
	time_reads "floor_$budget" floor_plan "$plan"
done

# 6. kcat's floor per process: one record of one partition
first_topic=$(echo "$topics" | head -1)
one_record() { kcat -C -b "$bootstrap" -t "$first_topic" -p 0 -o beginning -c 1 -e -q -f '%T\n' | wc -l; }
note "timing kcat reading 1 record of $first_topic [0] (process start-up floor)"
time_reads kcat_one one_record

# 7. kcat reads every record of the window
kcat_full() {
	local t
	for t in $topics; do
		kcat -C -b "$bootstrap" -t "$t" -o beginning -e -q -f '%T\n' ||
			{ echo "kcat failed on topic $t" >&2; return 1; }
	done | wc -l
}
note "timing kcat reading every record ($REPEATS runs, topic after topic)"
time_reads kcat_full kcat_full
awk -v want="$total_records" '$3 != want { print "== WARNING: kcat run " $1 " read " $3 " records, expected.csv says " want }' \
	"$work/kcat_full.txt" >&2

# 8. accuracy and the table
[[ "$(date -u +%F)" == "$today" ]] ||
	echo "WARNING: the UTC date changed during the run ($today -> $(date -u +%F)); the 7-day window moved, errors are expected"
python3 "$report_py" "$work" "$expected" "$hourly" \
	"budgets=$BUDGETS" "repeats=$REPEATS" "kcat_jobs=$KCAT_JOBS" "days=$DAYS" \
	"partitions=$partitions_total" "total_records=$total_records" "total_bytes=$total_bytes" \
	"disk_bytes=$disk_bytes" "load_secs=$load_secs" "library=$(cat "$work/library.txt")" \
	"today=$today" ||
	die "the report failed (bench/broker_bench_report.py)"
