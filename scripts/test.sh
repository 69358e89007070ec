#!/usr/bin/env bash
# The whole test suite, from a fresh Debian bookworm machine:
#   1. installs the Debian packages listed in scripts/install-deps.sh;
#   2. builds the extension with warnings as errors and installs it into
#      PostgreSQL 15 (as root, or through sudo);
#   3. the fast suite: runs the unit tests of the PostgreSQL-free C files
#      (test/unit) and a bounded fuzzing of their parsers (test/fuzz, about
#      1.5 minutes); starts its peers on 127.0.0.1 (a librdkafka mock
#      cluster with the topics of test/fixtures/kafka_mock/regress.spec; a
#      local Confluent Metrics API serving the same traffic plus 1,500
#      generated topics, so every query has two pages; a real Prometheus
#      holding the same traffic as exporter series); runs the pg_regress
#      suite (REGRESS in the Makefile) in a throwaway PostgreSQL 15 cluster
#      made by pg_virtualenv, removed afterwards whatever the outcome;
#   4. the integration suite (skipped with --fast): a real Apache Kafka broker
#      from Maven Central with the Prometheus JMX exporter agent
#      (test/fixtures/kafka_broker) and a Prometheus scraping it every 2 s,
#      then the pg_regress tests of INTEGRATION in the Makefile in another
#      throwaway cluster;
#   5. the sanitizer pass: builds a copy of the sources with AddressSanitizer
#      and UBSan and installs it into a temporary directory, never into
#      PostgreSQL's own (the installed extension stays the build of step 2);
#      restarts every peer afresh (the integration tests leave the broker
#      changed: a topic more, today's records); runs the pg_regress suites of
#      steps 3 and 4 again (only the fast one with --fast) in clusters whose
#      servers preload libasan and load that build (test/sanitizer); fails if
#      a server is not instrumented or if a sanitizer reported anything;
#   6. stops every peer it started, also when a step fails;
#   7. ends with one line that counts every test it ran, pg_regress tests,
#      unit checks and fuzz targets alike: "summary: N passed, N failed".
#
#   scripts/test.sh --fast --repeat N   builds, starts the fast suite's peers
#      once and runs only the fast pg_regress suite N times against them, each
#      time in a new cluster; the summary counts runs, and the first failing
#      run's regression.diffs is kept (its path is printed).  How the suite's
#      stability is shown (docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	echo "usage: $0 [--fast [--repeat N]]" >&2
	exit 2
}
integration=true
repeat=0
while (($#)); do
	case "$1" in
	--fast) integration=false ;;
	--repeat)
		(($# >= 2)) && [[ "$2" =~ ^[1-9][0-9]*$ ]] || usage
		repeat=$2
		shift
		;;
	*) usage ;;
	esac
	shift
done
((repeat == 0)) || ! $integration || { echo "$0: --repeat runs the fast suite only; add --fast" >&2; exit 2; }

# The closing count.  Each suite adds what it ran; a run that fails in a
# step that counts nothing (the build, a peer that does not start) counts
# that as one failure, so that a failed run never ends in "0 failed".
passed=0
failed=0
print_summary() {
	local status=$1
	if ((status != 0 && failed == 0)); then
		failed=1
	fi
	echo "summary: $passed passed, $failed failed"
	exit "$status"
}
trap 'print_summary $?' EXIT
# Adds the counts of the "ok"/"not ok" lines of a TAP log.
count_tap() {
	passed=$((passed + $(grep -c '^ok ' "$1" || true)))
	failed=$((failed + $(grep -c '^not ok ' "$1" || true)))
}
# Adds the counts of a pg_regress log (PostgreSQL 15's "test NAME ... ok").
count_regress() {
	passed=$((passed + $(grep -cE '^test .* \.\.\. ok ' "$1" || true)))
	failed=$((failed + $(grep -cE '^test .* \.\.\. FAILED' "$1" || true)))
}

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
groups_state="$fixtures/consumer-groups"
# the instrumented build, the servers' environment, the sanitizers' reports
sanitizer=$(mktemp -d /tmp/kpr-sanitizer.XXXXXX)

# Stops every peer and removes its state, so that the next start is fresh.
stop_fixtures() {
	test/fixtures/prometheus/prometheus.sh stop "$live_prometheus_state"
	test/fixtures/consumer_groups/groups.sh stop "$groups_state"
	test/fixtures/kafka_broker/broker.sh stop "$broker_state"
	test/fixtures/prometheus/prometheus.sh stop "$prometheus_state"
	test/fixtures/confluent_metrics/stub.sh stop "$confluent_state"
	test/fixtures/kafka_mock/mock-cluster.sh stop "$spare_kafka_state"
	test/fixtures/kafka_mock/mock-cluster.sh stop "$kafka_state"
	rm -rf "$kafka_state" "$spare_kafka_state" "$confluent_state" "$prometheus_state" \
		"$broker_state" "$live_prometheus_state" "$groups_state"
}
trap 'status=$?; stop_fixtures; rm -rf "$fixtures" "$sanitizer"; print_summary $status' EXIT

# What the tests' shell steps use: the acknowledged fault switch of every
# fixture, the second-session runner, the collect gate, and a directory for
# their files.
export KPR_CONTROL="$PWD/test/fixtures/lib/control.sh" \
	KPR_BACKGROUND="$PWD/test/lib/background.sh" \
	KPR_COLLECT_GATE="$PWD/test/lib/collect_gate.sh" KPR_TEST_TMP="$fixtures/tests"
mkdir "$KPR_TEST_TMP"

# The peers fix "today" when they start (the mock's records, the stub's
# days, the broker's retention plan); the tests take it from the clock.  So
# a suite must not straddle UTC midnight: with less than MARGIN seconds left
# before it, wait until it has passed.
wait_out_midnight() {
	local margin=$1 left
	left=$((86400 - $(date -u +%s) % 86400))
	if ((left < margin)); then
		echo "test.sh: UTC midnight in ${left} s, within this suite's ${margin} s; waiting for it"
		sleep $((left + 2))
	fi
}

# The fast suite's peers.  A peer that cannot start fails the suite here, loudly.
start_fast_fixtures() {
	wait_out_midnight 900
	KPR_MOCK_BOOTSTRAP=$(test/fixtures/kafka_mock/mock-cluster.sh start "$kafka_state" \
		test/fixtures/kafka_mock/regress.spec 3) ||
		{ echo "test.sh: the Kafka mock cluster did not start" >&2; exit 1; }
	export KPR_MOCK_BOOTSTRAP KPR_MOCK_STATE="$kafka_state" \
		KPR_MOCK_SPARE_STATE="$spare_kafka_state" \
		KPR_MOCK_CLUSTER="$PWD/test/fixtures/kafka_mock/mock-cluster.sh"
	echo "test.sh: Kafka mock cluster at $KPR_MOCK_BOOTSTRAP"

	KPR_CONFLUENT_URL=$(test/fixtures/confluent_metrics/stub.sh start "$confluent_state" \
		--hourly "$kafka_state/expected_partition_hourly.csv" --synthetic-topics 1500) ||
		{ echo "test.sh: the Confluent Metrics API stub did not start" >&2; exit 1; }
	export KPR_CONFLUENT_URL KPR_CONFLUENT_STATE="$confluent_state" \
		KPR_CONFLUENT_STUB="$PWD/test/fixtures/confluent_metrics/stub.sh"
	echo "test.sh: Confluent Metrics API stub at $KPR_CONFLUENT_URL"

	KPR_PROMETHEUS_URL=$(test/fixtures/prometheus/prometheus.sh start "$prometheus_state" \
		--hourly "$kafka_state/expected_hourly.csv" \
		--partition-hourly "$kafka_state/expected_partition_hourly.csv" --retention 30d) ||
		{ echo "test.sh: Prometheus did not start" >&2; exit 1; }
	export KPR_PROMETHEUS_URL KPR_PROMETHEUS_STATE="$prometheus_state"
	echo "test.sh: Prometheus at $KPR_PROMETHEUS_URL"
	fixtures_day=$(($(date -u +%s) / 86400))
}

# Between two runs of --repeat: undo every fault a failed run may have left
# (acknowledged, like the tests' own), stop the spare mock, forget unwaited
# background jobs.  A failure here fails the whole repeat.
reset_fast_fixtures() {
	local topics
	topics=$(awk '$1 == "topic" { print "topic_error " $2 " 0" }' test/fixtures/kafka_mock/regress.spec)
	mapfile -t topic_resets <<<"$topics"
	"$KPR_CONTROL" "$kafka_state" 'rtt all 0' 'broker_up all' "${topic_resets[@]}" &&
		"$KPR_CONTROL" "$confluent_state" reset ||
		{ echo "test.sh: could not reset the peers between runs" >&2; exit 1; }
	test/fixtures/kafka_mock/mock-cluster.sh stop "$spare_kafka_state"
	local job
	for job in "$KPR_TEST_TMP"/background/*.pid; do
		[[ -f "$job" ]] || continue
		kill -KILL -- "-$(cat "$job")" 2>/dev/null
		rm -f "$job"
	done
}

# The integration suite's peers, as loudly.
start_integration_fixtures() {
	wait_out_midnight 600
	KPR_BROKER_BOOTSTRAP=$(test/fixtures/kafka_broker/broker.sh start "$broker_state" \
		test/fixtures/kafka_broker/integration.spec) ||
		{ echo "test.sh: the Kafka broker did not start" >&2; exit 1; }
	KPR_BROKER_SASL_BOOTSTRAP=$(cat "$broker_state/sasl_bootstrap")
	KPR_BROKER_METRICS_URL=$(cat "$broker_state/metrics_url")
	export KPR_BROKER_BOOTSTRAP KPR_BROKER_SASL_BOOTSTRAP KPR_BROKER_METRICS_URL \
		KPR_BROKER_STATE="$broker_state"
	echo "test.sh: Kafka broker at $KPR_BROKER_BOOTSTRAP (SASL $KPR_BROKER_SASL_BOOTSTRAP)"

	test/fixtures/consumer_groups/groups.sh start "$groups_state" "$KPR_BROKER_BOOTSTRAP" ||
		{ echo "test.sh: the consumer groups on the broker could not be made" >&2; exit 1; }
	export KPR_GROUPS_STATE="$groups_state"
	echo "test.sh: consumer groups on the broker: $(cut -d, -f1 "$groups_state/expected_groups.csv" | sort -u | tr '\n' ' ')"

	KPR_LIVE_PROMETHEUS_URL=$(test/fixtures/prometheus/prometheus.sh start "$live_prometheus_state" \
		--scrape "$KPR_BROKER_METRICS_URL" --scrape-interval 2s) ||
		{ echo "test.sh: Prometheus scraping the broker did not start" >&2; exit 1; }
	export KPR_LIVE_PROMETHEUS_URL
	echo "test.sh: Prometheus scraping the broker's exporter at $KPR_LIVE_PROMETHEUS_URL"
}

# Prints the sanitizers' reports (ASan's asan.PID files, UBSan's found in
# the server log), if any, and then fails SUITE.
check_sanitizer_reports() {
	local suite=$1 report found=false
	for report in "$sanitizer/reports"/*; do
		[ -f "$report" ] || continue
		echo "----- $report"
		cat "$report"
		found=true
	done
	if $found; then
		echo "test.sh: AddressSanitizer/UBSan found a problem in the $suite suite (reports above)" >&2
		return 1
	fi
}

# pg_regress in a throwaway cluster, with pg_cron preloaded (the cron test
# schedules a collect in the regression database); counts its tests, prints
# the differences when it fails and returns non-zero then.  In the sanitizer
# pass the server runs the instrumented build, and a sanitizer report fails
# the suite too.
sanitizing=false
run_regress() {
	local suite=$1 status=0 log="$fixtures/regress.log"
	shift
	# external_pid_file: Debian's default path names the cluster (15/regress)
	# only, so clusters of two test runs at once shared it, and pg_ctlcluster
	# (collect_interrupted restarts the server) took one for the other.
	local cluster=(-o shared_preload_libraries=pg_cron
		-o cron.database_name=contrib_regression -o cron.use_background_workers=on
		-o "external_pid_file=/tmp/kpr-regress-$$.pid")
	local command=(test/lib/installcheck.sh "$@")
	if $sanitizing; then
		suite="sanitized $suite"
		# extension_destdir finds the control, SQL and '$libdir/...' files
		# there first; dynamic_library_path the bare module name of the
		# background workers.
		cluster+=(-c "--environment=$sanitizer/environment"
			-o "extension_destdir=$sanitizer/dest"
			-o "dynamic_library_path=$sanitizer_libdir:\$libdir")
		command=(test/sanitizer/installcheck.sh "$sanitizer_libdir/kafka_partition_recommender.so"
			"$sanitizer/reports" "$@")
	fi
	rm -f test/regression.diffs
	pg_virtualenv -v 15 -t "${cluster[@]}" "${command[@]}" 2>&1 | tee "$log" || status=$?
	count_regress "$log"
	if ((status != 0)) && [ -f test/regression.diffs ]; then
		cat test/regression.diffs
	fi
	if $sanitizing && ! check_sanitizer_reports "$suite"; then
		status=1
	fi
	if ((status != 0)); then
		echo "test.sh: the $suite suite FAILED" >&2
		return 1
	fi
}

# --- the fast suite --------------------------------------------------------

if ((repeat > 0)); then
	# Stability: the fast pg_regress suite again and again against one set of
	# peers; the summary counts runs, not tests.
	start_fast_fixtures
	runs_passed=0
	runs_failed=0
	kept_diffs=
	for ((run = 1; run <= repeat; run++)); do
		echo "test.sh: fast suite, run $run of $repeat"
		if (($(date -u +%s) / 86400 != fixtures_day)) || ((86400 - $(date -u +%s) % 86400 < 900)); then
			# the peers' "today" would not be the clock's: start them afresh
			stop_fixtures
			start_fast_fixtures
		else
			reset_fast_fixtures
		fi
		if run_regress fast; then
			runs_passed=$((runs_passed + 1))
		else
			runs_failed=$((runs_failed + 1))
			if [[ -z "$kept_diffs" && -f test/regression.diffs ]]; then
				kept_diffs=$(mktemp /tmp/kpr-repeat-first-failure.XXXXXX.diffs)
				cp test/regression.diffs "$kept_diffs"
			fi
		fi
	done
	[[ -z "$kept_diffs" ]] || echo "test.sh: the first failing run's regression.diffs: $kept_diffs"
	passed=$runs_passed
	failed=$runs_failed
	((runs_failed == 0))
	exit
fi

unit_log="$fixtures/unit.log"
unit_status=0
test/unit/run.sh 2>&1 | tee "$unit_log" || unit_status=$?
count_tap "$unit_log"
((unit_status == 0)) || { echo "test.sh: the unit tests FAILED" >&2; exit 1; }

# the parsers of remote bytes under ASan/UBSan, 20 s per target, seed 1;
# a target counts as passed when it found nothing
fuzz_log="$fixtures/fuzz.log"
fuzz_status=0
test/fuzz/run.sh 2>&1 | tee "$fuzz_log" || fuzz_status=$?
passed=$((passed + $(grep '^fuzz-result: target=' "$fuzz_log" | grep -vc FINDING || true)))
failed=$((failed + $(grep '^fuzz-result: target=' "$fuzz_log" | grep -c FINDING || true)))
((fuzz_status == 0)) || { echo "test.sh: fuzzing FOUND A PROBLEM (see above)" >&2; exit 1; }

start_fast_fixtures
run_regress fast || exit 1
echo "test.sh: the fast suite passed"

# --- the integration suite -------------------------------------------------

if $integration; then
	start_integration_fixtures
	run_regress integration REGRESS="$(make -s print-integration)" || exit 1
	echo "test.sh: the integration suite passed"
else
	echo "test.sh: integration suite skipped (--fast)"
fi

# --- the sanitizer pass ----------------------------------------------------

sanitizer_started=$SECONDS
cc=$("$PG_CONFIG" --cc)

# A copy, so that the worktree keeps the production build of step 2.
mkdir "$sanitizer/build"
cp -R Makefile kafka_partition_recommender.control sql src "$sanitizer/build/"
make -C "$sanitizer/build" clean >/dev/null
make -C "$sanitizer/build" \
	COPT="-Werror -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
make -C "$sanitizer/build" install DESTDIR="$sanitizer/dest"
sanitizer_libdir="$sanitizer/dest$("$PG_CONFIG" --pkglibdir)"

# PostgreSQL is not instrumented: the ASan runtime of the compiler that built
# the module (gcc 12: libasan.so.8) is preloaded into the server, first, and
# after it test/sanitizer/preload_shim.c, without which the server hangs at
# its start (see there).  libubsan comes with the module.
libasan=$(readlink -f "$("$cc" -print-file-name=libasan.so)")
[ -f "$libasan" ] || { echo "test.sh: $cc has no libasan.so" >&2; exit 1; }
"$cc" -shared -fPIC -O2 -Wall -Werror -o "$sanitizer/preload_shim.so" \
	test/sanitizer/preload_shim.c
mkdir "$sanitizer/reports"
chmod 755 "$sanitizer" # the server's user reads the build
if [ "$(id -u)" -eq 0 ]; then
	chown postgres:postgres "$sanitizer/reports"
fi

# The servers' environment: pg_createcluster --environment copies the file
# into the cluster, pg_ctlcluster starts the server with it.  ASan options:
#   detect_leaks=0       PostgreSQL leaves much of its memory to process exit;
#   abort_on_error=1     a report ends the process by SIGABRT, which the
#                        postmaster always takes for a crash (exit code 1,
#                        the default, is also how a FATAL error ends);
#   disable_coredump=1   (the default, but pg_virtualenv asks for cores) a
#                        core holding ASan's shadow memory is terabytes;
#   handle_segv=1        (the default) a crash in our code gets a report with
#                        its stack;
#   handle_abort=1       so does an abort(): librdkafka's failed assertions
#                        and PostgreSQL's PANIC end that way, and would
#                        otherwise leave no report;
#   detect_stack_use_after_return=0  (gcc 12's default) its fake frames on
#                        the heap would cost memory in every server process;
#   log_path             reports go to files, checked after each suite.
# UBSan's options are in preload_shim.c: it could not read UBSAN_OPTIONS.
cat >"$sanitizer/environment" <<ENVIRONMENT
LD_PRELOAD = '$libasan $sanitizer/preload_shim.so'
ASAN_OPTIONS = 'detect_leaks=0:abort_on_error=1:disable_coredump=1:handle_segv=1:handle_abort=1:detect_stack_use_after_return=0:log_path=$sanitizer/reports/asan'
ENVIRONMENT

stop_fixtures
start_fast_fixtures
sanitizing=true
run_regress fast || exit 1
if $integration; then
	start_integration_fixtures
	run_regress integration REGRESS="$(make -s print-integration)" || exit 1
fi
echo "test.sh: the sanitizer pass passed in $((SECONDS - sanitizer_started)) s"
echo "test.sh: all suites passed"
