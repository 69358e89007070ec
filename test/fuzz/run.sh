#!/bin/sh
# Fuzz every parser of remote bytes for a bounded time, under AddressSanitizer
# (with LeakSanitizer) and UBSan: build test/fuzz with gcc, run each target's
# seeded mutation loop from its corpus (test/fuzz/corpus/<target>), print
# one grep-able line per target,
#	fuzz-result: target=T iterations=N seconds=S ... crashes=X seed=D
# and exit non-zero on any finding (a sanitizer report, a broken invariant,
# a leak, a hang), after printing the report and the path of the saved input.
#
#   test/fuzz/run.sh [--seconds N] [--iterations N] [--seed N] [--jobs N]
#                    [--crash-dir DIR] [target...]
#
# Defaults (also from the environment): FUZZ_SECONDS=20 and
# FUZZ_ITERATIONS=2000000 per target, whichever ends first; FUZZ_SEED=1;
# FUZZ_JOBS=2 targets at a time; crashing inputs in test/fuzz/findings.
# Eight targets, two at a time, 20 s each: about 1.5 minutes with the build.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
seconds=${FUZZ_SECONDS:-20}
iterations=${FUZZ_ITERATIONS:-2000000}
seed=${FUZZ_SEED:-1}
jobs=${FUZZ_JOBS:-2}
crash_dir=${FUZZ_CRASH_DIR:-$here/findings}
all_targets="confluent_response rfc3339 prometheus_vector prometheus_runtimeinfo
	prometheus_retention promql http_headers trend_fit"

usage() {
	echo "usage: $0 [--seconds N] [--iterations N] [--seed N] [--jobs N] [--crash-dir DIR] [target...]" >&2
	echo "targets: $(echo $all_targets)" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
		--seconds) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
		--iterations) [ $# -ge 2 ] || usage; iterations=$2; shift 2 ;;
		--seed) [ $# -ge 2 ] || usage; seed=$2; shift 2 ;;
		--jobs) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
		--crash-dir) [ $# -ge 2 ] || usage; crash_dir=$2; shift 2 ;;
		-*) usage ;;
		*) break ;;
	esac
done
targets=${*:-$all_targets}
for target in $targets; do
	case " $(echo $all_targets) " in
		*" $target "*) ;;
		*) echo "run.sh: no fuzz target $target" >&2; usage ;;
	esac
done

make -s -C "$here" -j"$jobs" $(for t in $targets; do printf 'fuzz_%s ' "$t"; done)
mkdir -p "$crash_dir"
crash_dir=$(cd "$crash_dir" && pwd)
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
trap 'exit 130' INT TERM

run_target() {
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$here/fuzz_$1" --corpus "$here/corpus/$1" --seconds "$seconds" \
		--iterations "$iterations" --seed "$seed" --crash-dir "$crash_dir" \
		> "$logs/$1.log" 2>&1 && echo 0 > "$logs/$1.status" || echo $? > "$logs/$1.status"
}

# $jobs targets at a time
running=0
for target in $targets; do
	run_target "$target" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

findings=0
total_iterations=0
for target in $targets; do
	status=$(cat "$logs/$target.status")
	result=$(grep '^fuzz-result:' "$logs/$target.log" || true)
	if [ "$status" -ne 0 ] || [ -z "$result" ]; then
		findings=$((findings + 1))
		echo "fuzz-result: target=$target FINDING (exit status $status)"
		# the report: the sanitizer's or the broken invariant, then the input
		grep -v '^fuzz-result:\|^fuzz-crash:' "$logs/$target.log" | head -60 | sed 's/^/    /'
		grep '^fuzz-crash:' "$logs/$target.log" || true
	else
		echo "$result"
		n=$(echo "$result" | sed -n 's/.* iterations=\([0-9]*\) .*/\1/p')
		total_iterations=$((total_iterations + n))
	fi
done
echo "fuzz-summary: targets=$(echo $targets | wc -w) findings=$findings iterations=$total_iterations seconds_per_target=$seconds seed=$seed"
if [ "$findings" -ne 0 ]; then
	echo "run.sh: $findings fuzz target(s) found a problem; reproduce with test/fuzz/fuzz_<target> <input file>" >&2
	exit 1
fi
