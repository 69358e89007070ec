#!/usr/bin/env bash
# The command scripts/test.sh's sanitizer pass runs inside pg_virtualenv:
# fails, loudly, unless the server really runs under the sanitizers and
# loads the instrumented build; runs test/lib/installcheck.sh (make
# installcheck, then a look for crashes in the server log); then copies the
# sanitizer reports of the server log to REPORT_DIR.
#
#   test/sanitizer/installcheck.sh MODULE REPORT_DIR [make argument...]
#
# MODULE is the instrumented kafka_partition_recommender.so every backend
# must load, REPORT_DIR the directory of the sanitizers' reports.
set -euo pipefail

module=$1 report_dir=$2
shift 2

fail() {
	echo "test/sanitizer/installcheck.sh: $*" >&2
	exit 1
}

# query SQL: prints the one value SQL returns
query() {
	psql -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

# The postmaster's /proc files (the backends overwrite their environment
# with their process titles).
postmaster=$(query "SELECT split_part(pg_read_file('postmaster.pid'), E'\\n', 1)") ||
	fail "cannot read the postmaster's pid"
maps=$(query "SELECT pg_read_file('/proc/$postmaster/maps')") ||
	fail "cannot read the postmaster's memory map"
environment=$(query "SELECT replace(encode(pg_read_binary_file('/proc/$postmaster/environ'),
	'escape'), '\\000', E'\\n')") || fail "cannot read the postmaster's environment"

# libasan is no dependency of PostgreSQL's: only LD_PRELOAD brings it there.
grep -q '/libasan\.so' <<<"$maps" ||
	fail "libasan is not preloaded into the server: the pass would run uninstrumented"
grep -q '/preload_shim\.so' <<<"$maps" ||
	fail "the preload shim is not loaded: UBSan would run without its options"
# Without log_path ASan's reports would go to the server log.
grep -q "^ASAN_OPTIONS=.*log_path=$report_dir/asan" <<<"$environment" ||
	fail "the server's ASAN_OPTIONS do not send reports to $report_dir"

# Both ways the module is loaded: '$libdir/...' (its SQL functions, through
# extension_destdir) and the bare name (its background workers, through
# dynamic_library_path).
loaded=$(psql -XAtq -v ON_ERROR_STOP=1 -c "LOAD 'kafka_partition_recommender'" \
	-c "LOAD '\$libdir/kafka_partition_recommender'" \
	-c "SELECT pg_read_file('/proc/self/maps')" |
	awk '$6 ~ /kafka_partition_recommender\.so$/ { print $6 }' | sort -u) ||
	fail "cannot load kafka_partition_recommender"
[ "$loaded" = "$module" ] ||
	fail "the server loads ${loaded:-nothing}, not the instrumented $module"

echo "test/sanitizer/installcheck.sh: the server preloads libasan and loads $module"
status=0
test/lib/installcheck.sh "$@" || status=$?

# UBSan writes its reports to the server log (see preload_shim.c), as would
# a sanitizer runtime before it knows log_path ("==PID==..." lines): copy
# them, with their stacks, to REPORT_DIR, where scripts/test.sh looks.
awk '/: runtime error: |^==[0-9]+==/ { report = 1; print; next }
	report && /^ +#[0-9]+ / { print; next }
	{ report = 0 }' "$(dirname "$PGSYSCONFDIR")"/log/postgresql-*.log >"$report_dir/server-log"
[ -s "$report_dir/server-log" ] || rm "$report_dir/server-log"
exit "$status"
