#!/usr/bin/env bash
# bench/sample_vs_kcat.sh - how much kpr.sample_topics reads, and how long it
# takes, compared with kcat reading the whole window.  Prints figures; it is a
# benchmark, not a test (it exits non-zero only when a step cannot run).
#
#   bench/sample_vs_kcat.sh            see bench/README.md for the knobs
#
# Steps: install kcat if missing (apt-get, through sudo when not root); start
# the librdkafka mock cluster of test/fixtures/kafka_mock with
# bench/sample_bench.spec; in a throw-away PostgreSQL (pg_virtualenv -t) time
# kpr.sample_topics('mock', 7, 10000) REPEATS times; time kcat reading every
# record of the window, and kcat reading only as many records as
# sample_topics did; check sample_topics' figures against the mock's
# expected.csv; print a table.  The mock is always stopped (trap EXIT).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self="$here/$(basename "${BASH_SOURCE[0]}")"
repo=$(dirname "$here")
mock_sh="$repo/test/fixtures/kafka_mock/mock-cluster.sh"

SPEC=${KPR_BENCH_SPEC:-$here/sample_bench.spec}
BROKERS=${KPR_BENCH_BROKERS:-3}
REPEATS=${KPR_BENCH_REPEATS:-3}
DAYS=7
MAX_RECORDS=${KPR_BENCH_MAX_RECORDS:-10000}
# kpr.kafka_timeout for the calls; empty = the extension's default (30 s)
KAFKA_TIMEOUT_MS=${KPR_BENCH_KAFKA_TIMEOUT_MS:-}
# statement_timeout of each sample_topics call (a cap, so that the script ends)
CALL_TIMEOUT=${KPR_BENCH_CALL_TIMEOUT:-10min}
# auto: one call for all topics; if it fails, one call per topic (topic_filter)
# all: only the single call; per-topic: only one call per topic
MODE=${KPR_BENCH_MODE:-auto}
KCAT_JOBS=${KPR_BENCH_KCAT_JOBS:-1}
KEEP=${KPR_BENCH_KEEP:-0}

die() {
	echo "sample_vs_kcat.sh: ERROR: $*" >&2
	exit 1
}
note() { echo "== $*" >&2; }
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
lo_bytes() { cat /sys/class/net/lo/statistics/tx_bytes 2>/dev/null || echo 0; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# time_reads NAME FUNCTION: runs FUNCTION (which prints a record count)
# REPEATS times; each run is a line "run seconds records loopback_bytes" of
# $work/NAME.txt.
time_reads() {
	local r n t0 t1 l0 l1
	: >"$work/$1.txt"
	for ((r = 1; r <= REPEATS; r++)); do
		l0=$(lo_bytes); t0=$(now)
		n=$("$2") || die "$2 failed"
		t1=$(now); l1=$(lo_bytes)
		echo "$r $(elapsed "$t0" "$t1") $n $((l1 - l0))" >>"$work/$1.txt"
		note "  run $r: $n records in $(elapsed "$t0" "$t1")s"
	done
}
# median_run NAME: "seconds records loopback_bytes" of the median run of
# $work/NAME.txt (with an even count, the median time matches no run: then
# the first run's records and 0 bytes).
median_run() {
	local secs
	secs=$(awk '{ print $2 }' "$work/$1.txt" | median)
	awk -v m="$secs" '$2 == m { print m, $3, $4; found = 1; exit }
		END { if (!found) { getline first < FILENAME; split(first, f, " "); print m, f[3], 0 } }' "$work/$1.txt"
}

###############################################################################
# Inner part: runs under pg_virtualenv (PGHOST, PGPORT, PGUSER... are set).
###############################################################################

# psql for one sample_topics call; rows to $1.csv, messages to $1.err,
# "status seconds loopback_bytes boundary_records sample_records" to stdout.
sample_call() {
	local out=$1 filter=$2 t0 t1 l0 l1 status=0 args debug
	args="'mock', $DAYS, $MAX_RECORDS"
	[[ -n "$filter" ]] && args+=", '$filter'"
	l0=$(lo_bytes)
	t0=$(now)
	psql -X -q --csv -v ON_ERROR_STOP=1 \
		-c "SET client_min_messages = debug1" \
		${KAFKA_TIMEOUT_MS:+-c "SET kpr.kafka_timeout = $KAFKA_TIMEOUT_MS"} \
		-c "SET statement_timeout = '$CALL_TIMEOUT'" \
		-c "SELECT topic, day, records_in, sampled_records, avg_record_bytes, bytes_in
		    FROM kpr.sample_topics($args) ORDER BY topic, day" \
		>"$out.csv" 2>"$out.err" || status=$?
	t1=$(now)
	l1=$(lo_bytes)
	debug=$(sed -n 's/.*read \([0-9][0-9]*\) records for boundaries and \([0-9][0-9]*\) for the size sample.*/\1 \2/p' "$out.err" | tail -1)
	[[ -n "$debug" ]] || debug="NA NA"
	echo "$status $(elapsed "$t0" "$t1") $((l1 - l0)) $debug"
}

inner() {
	local work=$1 bootstrap=$2 run mode r line status secs lo b s topics t
	echo "${PG_CLUSTER_CONF_ROOT:-}" >"$work/pg_conf_root"

	if ! psql -X -q -v ON_ERROR_STOP=1 >"$work/setup.log" 2>&1 <<-SQL; then
		CREATE EXTENSION kafka_partition_recommender;
		CREATE SERVER mock FOREIGN DATA WRAPPER kafka_partition_recommender
		    OPTIONS (bootstrap_servers '$bootstrap');
		CREATE USER MAPPING FOR CURRENT_USER SERVER mock;
		-- The call runs in a background worker, which does not inherit the
		-- session's SET client_min_messages; a role setting reaches it.
		ALTER ROLE CURRENT_USER SET client_min_messages = debug1;
	SQL
		cat "$work/setup.log" >&2
		if grep -q 'extension "kafka_partition_recommender" is not available\|could not open extension control file\|could not access file' "$work/setup.log"; then
			die "the extension is not installed in this PostgreSQL; run: cd $repo && make && sudo make install"
		fi
		die "setting up the extension and the foreign server failed (see above)"
	fi

	topics=$(awk '$1 == "topic" { print $2 }' "$SPEC")
	mode=$MODE
	: >"$work/sample_runs.txt"
	: >"$work/sample_calls.txt"
	for ((r = 1; r <= REPEATS; r++)); do
		if [[ "$mode" != per-topic ]]; then
			note "sample_topics run $r/$REPEATS: one call for all topics"
			line=$(sample_call "$work/run$r" "")
			read -r status secs lo b s <<<"$line"
			echo "$r all $line" >>"$work/sample_calls.txt"
			if [[ "$status" == 0 ]]; then
				echo "$r all $secs $lo $b $s" >>"$work/sample_runs.txt"
				note "  ${secs}s, read $b records for boundaries + $s for the sample"
				mode=all
				continue
			fi
			note "  FAILED after ${secs}s: $(grep -m1 'ERROR' "$work/run$r.err" || echo "psql exit $status")"
			cp "$work/run$r.err" "$work/failed_all_topics.err"
			echo "$secs" >"$work/failed_all_topics.secs"
			rm -f "$work/run$r.csv"
			[[ "$mode" == auto ]] || die "sample_topics failed (KPR_BENCH_MODE=all); see $work/run$r.err"
			note "  falling back to one call per topic (topic_filter) for every run"
			mode=per-topic
		fi
		note "sample_topics run $r/$REPEATS: one call per topic"
		local sum_secs=0 sum_lo=0 sum_b=0 sum_s=0
		: >"$work/run$r.csv"
		for t in $topics; do
			line=$(sample_call "$work/run$r.$t" "$t")
			read -r status secs lo b s <<<"$line"
			echo "$r $t $line" >>"$work/sample_calls.txt"
			if [[ "$status" != 0 ]]; then
				cat "$work/run$r.$t.err" >&2
				die "sample_topics(..., topic_filter => '$t') failed after ${secs}s"
			fi
			note "  $t: ${secs}s, read $b records for boundaries + $s for the sample"
			if [[ -s "$work/run$r.csv" ]]; then tail -n +2 "$work/run$r.$t.csv" >>"$work/run$r.csv"
			else cat "$work/run$r.$t.csv" >"$work/run$r.csv"; fi
			sum_secs=$(awk -v a="$sum_secs" -v b="$secs" 'BEGIN { printf "%.3f", a + b }')
			sum_lo=$((sum_lo + lo)); sum_b=$((sum_b + b)); sum_s=$((sum_s + s))
		done
		echo "$r per-topic $sum_secs $sum_lo $sum_b $sum_s" >>"$work/sample_runs.txt"
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
[[ -x "$mock_sh" ]] || die "mock fixture not found: $mock_sh"
[[ "$REPEATS" =~ ^[1-9][0-9]*$ ]] || die "KPR_BENCH_REPEATS must be a positive integer"
[[ "$MODE" =~ ^(auto|all|per-topic)$ ]] || die "KPR_BENCH_MODE must be auto, all or per-topic"
for tool in pg_virtualenv psql awk sort make; do
	command -v "$tool" >/dev/null || die "$tool not found (PostgreSQL 15 with postgresql-common, and build tools, are needed)"
done

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

work=$(mktemp -d "${TMPDIR:-/tmp}/kpr-bench.XXXXXX")
chmod 755 "$work"
mock_state="$work/mock"
mock_pid=""

cleanup() {
	local status=$? leftovers pg_root
	trap - EXIT INT TERM
	"$mock_sh" stop "$mock_state" || true
	# what is still running that belongs to this run?
	pg_root=$(cat "$work/pg_conf_root" 2>/dev/null || true)
	pg_root=${pg_root%/postgresql}
	# (zombies, state Z, have exited and only wait to be reaped)
	leftovers=$(ps -eo pid=,stat=,args= | awk -v w="$work" -v p="$pg_root" -v m="$mock_pid" -v me="$$" '
		$1 == me || $2 ~ /^Z/ { next }
		(m != "" && $1 == m) || index($0, w) || (p != "" && index($0, p)) { print }' |
		grep -v -e 'ps -eo' -e 'awk -v w=' || true)
	if [[ -n "$leftovers" ]]; then
		echo "sample_vs_kcat.sh: WARNING: processes of this run are still running:" >&2
		echo "$leftovers" >&2
		status=1
	else
		echo "leftover processes: none (mock stopped, temporary PostgreSQL dropped)" >&2
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

# 2. the mock cluster
note "starting the mock cluster ($BROKERS brokers) with $(basename "$SPEC")"
t0=$(now)
bootstrap=$("$mock_sh" start "$mock_state" "$SPEC" "$BROKERS") ||
	die "the mock cluster did not start (its log is above)"
mock_pid=$(cat "$mock_state/pid")
expected="$mock_state/expected.csv"
note "  ready in $(elapsed "$t0" "$(now)")s at $bootstrap (pid $mock_pid)"

topics=$(awk '$1 == "topic" { print $2 }' "$SPEC")
partitions_total=$(awk '$1 == "topic" { n += $3 } END { print n + 0 }' "$SPEC")
total_records=$(awk -F, 'NR > 1 { n += $4 } END { print n + 0 }' "$expected")
total_bytes=$(awk -F, 'NR > 1 { n += $5 } END { printf "%.0f", n }' "$expected")
note "  $(echo "$topics" | wc -w) topics, $partitions_total partitions, $total_records records, $((total_bytes / 1000000)) MB of keys+values+headers over $DAYS days"

# 3. sample_topics in a throw-away PostgreSQL
note "timing kpr.sample_topics('mock', $DAYS, $MAX_RECORDS) in a temporary PostgreSQL (pg_virtualenv -t)"
export SPEC BROKERS REPEATS MAX_RECORDS KAFKA_TIMEOUT_MS CALL_TIMEOUT MODE
pg_virtualenv -t bash "$self" --inner "$work" "$bootstrap" >"$work/pg_virtualenv.log" 2>&1 || {
	grep -v '^Creating new\|^Dropping cluster' "$work/pg_virtualenv.log" | tail -40 >&2
	die "the PostgreSQL part failed (pg_virtualenv output above)"
}
grep '^==' "$work/pg_virtualenv.log" >&2 || true
[[ -s "$work/sample_runs.txt" ]] || die "no successful sample_topics run recorded"

sample_mode=$(awk 'END { print $2 }' "$work/sample_runs.txt")
sample_secs=$(awk '{ print $3 }' "$work/sample_runs.txt" | median)
# the run whose time is the median gives the records read
median_run=$(awk -v m="$sample_secs" '{ d = $3 - m; if (d < 0) d = -d; if (best == "" || d < best) { best = d; r = $1 } } END { print r }' "$work/sample_runs.txt")
read -r _ _ _ sample_lo sample_b sample_s < <(awk -v r="$median_run" '$1 == r' "$work/sample_runs.txt")
[[ "$sample_b" =~ ^[0-9]+$ && "$sample_s" =~ ^[0-9]+$ ]] ||
	die "no DEBUG line with the records read was captured (see the .err files; KPR_BENCH_KEEP=1 keeps them)"
sample_records=$((sample_b + sample_s))

# 4. kcat reads the whole window
kcat_full() {
	local t
	for t in $topics; do
		kcat -C -b "$bootstrap" -t "$t" -o beginning -e -q -f '%T\n' ||
			{ echo "kcat failed on topic $t" >&2; return 1; }
	done | wc -l
}
note "timing kcat reading every record of the window ($REPEATS runs, topic after topic)"
time_reads kcat_full kcat_full
awk -v want="$total_records" '$3 != want { print "== WARNING: kcat run " $1 " read " $3 " records, expected.csv says " want }' \
	"$work/kcat_full.txt" >&2
read -r full_secs full_records full_lo < <(median_run kcat_full)

# 5. kcat reads as many records as sample_topics did, spread over the same
# partitions as evenly as their sizes allow (a partition smaller than its
# share is read whole and the rest goes to the others).  With one call per
# topic, each topic's count is spread over that topic's partitions.
plan="$work/kcat_partial_plan.txt"
awk -F, 'NR > 1 { n[$1 " " $3] += $4 } END { for (k in n) print k, n[k] }' "$expected" | sort -k1,1 -k2,2n >"$work/partition_sizes.txt"
# topics/partitions without records still count as partitions (0 records)
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
if [[ "$sample_mode" == per-topic ]]; then
	: >"$plan"
	for t in $topics; do
		got=$(awk -v r="$median_run" -v t="$t" '$1 == r && $2 == t { print $6 + $7 }' "$work/sample_calls.txt" | tail -1)
		awk -v t="$t" '$1 == t' "$work/partition_sizes.txt" | spread "${got:-0}" >>"$plan"
	done
else
	spread "$sample_records" <"$work/partition_sizes.txt" >"$plan"
fi
planned=$(awk '{ n += $3 } END { print n + 0 }' "$plan")
capped=""
((planned < sample_records)) && capped=" (capped: the window holds fewer)"
kcat_partial() {
	# xargs exits non-zero if any kcat does; pipefail carries it through wc
	xargs -P "$KCAT_JOBS" -n 3 sh -c \
		'exec kcat -C -b "$0" -t "$1" -p "$2" -o beginning -c "$3" -e -q -f "%T\n"' "$bootstrap" <"$plan" | wc -l
}
note "timing kcat reading $planned records$capped, -c N per partition over $(wc -l <"$plan") partitions ($REPEATS runs, $KCAT_JOBS at a time)"
time_reads kcat_partial kcat_partial
read -r part_secs part_records part_lo < <(median_run kcat_partial)

# 6. accuracy against expected.csv
echo
[[ "$(date -u +%F)" == "$today" ]] ||
	echo "WARNING: the UTC date changed during the run ($today -> $(date -u +%F)); the 7-day window moved, mismatches are expected"
echo "Accuracy of kpr.sample_topics (run $median_run) against $(basename "$expected") (exact, from the spec)"
awk -F, -v runfile="$work/run$median_run.csv" '
	FNR == 1 { next }
	FILENAME != runfile { k = $1 SUBSEP $2; er[k] += $4; eb[k] += $5; key[k] = 1; next }
	{ k = $1 SUBSEP $2; got[k] = 1; gr[k] = $3; gs[k] = $4; ga[k] = $5; key[k] = 1 }
	END {
		printf "%-14s %-10s %10s %10s %-8s %9s %10s %10s %8s\n", "topic", "day", "expected", "records_in", "count", "sampled", "true_avg_B", "avg_B", "rel_err"
		n = 0; bad = 0; nerr = 0; maxerr = 0; sumerr = 0
		# print in topic/day order
		m = 0
		for (k in key) { m++; ks[m] = k }
		for (i = 2; i <= m; i++) { v = ks[i]; j = i - 1; while (j > 0 && ks[j] > v) { ks[j + 1] = ks[j]; j-- } ks[j + 1] = v }
		for (i = 1; i <= m; i++) {
			k = ks[i]; split(k, tk, SUBSEP); n++
			exp_r = er[k] + 0
			if (!(k in got)) { status = "MISSING"; bad++ }
			else if (gr[k] + 0 == exp_r) status = "OK"
			else { status = "MISMATCH"; bad++ }
			true_avg = exp_r > 0 ? eb[k] / exp_r : 0
			err = ""
			if (exp_r > 0 && (k in got) && ga[k] != "") {
				e = (ga[k] - true_avg) / true_avg * 100
				err = sprintf("%+.3f%%", e)
				a = e < 0 ? -e : e; nerr++; sumerr += a; if (a > maxerr) maxerr = a
			}
			got_r = "-"; got_s = "-"; got_a = "-"; true_a = "-"
			if (k in got) { got_r = gr[k]; got_s = gs[k]; if (ga[k] != "") got_a = sprintf("%.2f", ga[k]) }
			if (exp_r > 0) true_a = sprintf("%.2f", true_avg)
			printf "%-14s %-10s %10d %10s %-8s %9s %10s %10s %8s\n", tk[1], tk[2], exp_r,
				got_r, status, got_s, true_a, got_a, err
		}
		printf "records_in: %s (%d of %d topic-days exact)\n", bad ? "MISMATCH" : "OK", n - bad, n
		if (nerr) printf "avg_record_bytes: relative error max %.3f%%, mean %.3f%% over %d topic-days\n", maxerr, sumerr / nerr, nerr
	}' "$expected" "$work/run$median_run.csv"
# every other run must give the same counts
for f in "$work"/run[0-9]*.csv; do
	[[ "$f" =~ /run[0-9]+\.csv$ ]] || continue
	awk -F, -v runfile="$f" 'FNR == 1 { next } FILENAME != runfile { e[$1 SUBSEP $2] += $4; next }
		{ g[$1 SUBSEP $2] = $3 } END { for (k in e) if (g[k] != e[k]) bad++; for (k in g) if (!(k in e) && g[k] != 0) bad++
		printf "  %s: records_in %s\n", substr(runfile, length(runfile) - 7), bad ? "MISMATCH (" bad " topic-days)" : "OK" }' "$expected" "$f"
done

# 7. the table
echo
echo "sample_topics runs (seconds, records read for boundaries + sample, loopback MB):"
awk '{ printf "  run %d (%s): %8.2f s  %10d + %-10d  %8.1f MB\n", $1, $2, $3, $5, $6, $4 / 1e6 }' "$work/sample_runs.txt"
if [[ -f "$work/failed_all_topics.err" ]]; then
	echo "  NOTE: the single call for all topics failed after $(cat "$work/failed_all_topics.secs")s:"
	grep -m2 -e 'ERROR' -e 'HINT' "$work/failed_all_topics.err" | sed 's/^/    /'
	echo "  so every run above is one call per topic (topic_filter), times and records summed."
fi
if [[ "$sample_mode" == per-topic ]]; then
	echo "  per call (run, topic, status, seconds, loopback bytes, boundary records, sample records):"
	awk '$2 != "all" { print "   ", $0 }' "$work/sample_calls.txt"
fi
echo
sample_label="kpr.sample_topics"
[[ "$sample_mode" == per-topic ]] && sample_label="kpr.sample_topics, 1 call/topic"
echo "Reading the last $DAYS days: $partitions_total partitions, $total_records records (median of $REPEATS runs; ratios are the point, times depend on the machine)"
awk -v fr="$full_records" -v fs="$full_secs" '
	function row(name, rec, secs, lo) {
		printf "%-44s %12d %10.2f %12.4f %10.3f %10.1f\n", name, rec, secs, fr ? rec / fr : 0, fs ? secs / fs : 0, lo / 1e6
	}
	BEGIN {
		printf "%-44s %12s %10s %12s %10s %10s\n", "method", "records read", "wall s", "records/full", "time/full", "lo MB"
		printf "%-44s %12s %10s %12s %10s %10s\n", "------", "------------", "------", "------------", "---------", "-----"
	}
	{ row($1, $2, $3, $4) }' <<EOF
$(printf '%s %s %s %s\n' \
	"kcat_whole_window" "$full_records" "$full_secs" "$full_lo" \
	"sample_topics" "$sample_records" "$sample_secs" "$sample_lo" \
	"kcat_same_record_count" "$part_records" "$part_secs" "$part_lo")
EOF
echo
echo "kcat_whole_window:      kcat -C -o beginning -e, one topic after the other, every record"
echo "sample_topics:          $sample_label('mock', $DAYS, $MAX_RECORDS): $sample_b records for boundaries (timestamp search) + $sample_s for the size sample (its DEBUG line)"
echo "kcat_same_record_count: kcat -C -p P -o beginning -c N -e, one process per partition, $KCAT_JOBS at a time$capped"
echo "lo MB: bytes sent over the loopback interface meanwhile (whole machine: approximate)"

# The size sample's share of the window, from the partition sizes: it reads
# up to min(records, budget) per partition.  (Boundary reads and read rounds
# are the extension's own figures: its DEBUG line, and DEBUG2 per round.)
window_days=$(for ((i = DAYS; i >= 1; i--)); do date -u -d "$today -$i day" +%F; done | tr '\n' ' ')
awk -F, -v days="$window_days" -v budget="$MAX_RECORDS" '
	BEGIN { nd = split(days, d, " "); for (i = 1; i <= nd; i++) di[d[i]] = i }
	NR > 1 && ($2 in di) { k = $1 SUBSEP $3; c[k] += $4 }
	END {
		for (k in c) { total += c[k]; sample += c[k] < budget ? c[k] : budget }
		printf "\nSize sample budget on this data: sum over partitions of min(records, %d) = %d of %d records (%.1f%%).\n", budget, sample, total, total ? 100 * sample / total : 0
	}' "$expected"
