#!/usr/bin/env bash
# A second session for the pg_regress tests: a command run beside the test,
# whose output becomes part of the test's expected output once it is done.
#
#   background.sh start NAME [--after WHAT CONDITION] COMMAND...
#                           runs COMMAND detached, its stdout and stderr in
#                           a log; returns at once.  With --after, COMMAND
#                           runs once the SQL boolean CONDITION holds in
#                           $KPR_DB (regress_helpers.wait_until, see
#                           test/sql/helpers.sql; WHAT names it, and a
#                           condition never met fails the job after 60 s)
#   background.sh wait NAME               waits for NAME to end, then prints
#                                         its log and "NAME: exit STATUS"
#
# So a test acts on a state, never on time passing: the job waits for the
# state it needs (a call seen running, a lock waited for) and then acts
# (a cancel, a fault), while the test's own session runs the call.  wait is
# bounded by
# KPR_BACKGROUND_TIMEOUT_S seconds (default 120); a job still running then
# is killed and reported, so a test never hangs on it.
#
# Jobs live in $KPR_TEST_TMP/background (scripts/test.sh sets KPR_TEST_TMP).
set -u

fail() {
	echo "background.sh: $*" >&2
	exit 1
}

[[ -n "${KPR_TEST_TMP:-}" && -d "$KPR_TEST_TMP" ]] ||
	fail "KPR_TEST_TMP is not a directory; run the tests through scripts/test.sh"
jobs_dir=$KPR_TEST_TMP/background
mkdir -p "$jobs_dir"
timeout_s=${KPR_BACKGROUND_TIMEOUT_S:-120}

# Runs inside the job: waits for the condition, then runs the command.
after() {
	local what=$1 condition=$2
	shift 2
	[[ -n "${KPR_DB:-}" ]] || fail "KPR_DB is not set (the test does \\setenv KPR_DB :DBNAME)"
	# psql interpolates :'what' and :'condition' as literals from stdin only
	echo "SELECT regress_helpers.wait_until(:'what', :'condition');" |
		psql -XAtq -v ON_ERROR_STOP=1 -v what="$what" -v condition="$condition" -d "$KPR_DB" ||
		exit 1
	exec "$@"
}

start() {
	local name=$1 self
	shift
	[[ ! -e "$jobs_dir/$name.pid" ]] || fail "a job named $name was started and not waited for"
	self=$(readlink -f "${BASH_SOURCE[0]}")
	if [[ "$1" == --after ]]; then
		(($# >= 4)) || fail "usage: $0 start NAME --after WHAT CONDITION COMMAND..."
		set -- "$self" run-after "${@:2}"
	fi
	rm -f "$jobs_dir/$name.log" "$jobs_dir/$name.status"
	# setsid: its own process group, so that wait can stop all of it
	setsid bash -c '"${@:3}" >"$1" 2>&1; echo $? >"$2"' _ \
		"$jobs_dir/$name.log" "$jobs_dir/$name.status" "$@" </dev/null >/dev/null 2>&1 &
	echo $! >"$jobs_dir/$name.pid"
}

wait_for() {
	local name=$1 waited_cs=0 pid
	[[ -f "$jobs_dir/$name.pid" ]] || fail "no job named $name was started"
	pid=$(cat "$jobs_dir/$name.pid")
	while [[ ! -s "$jobs_dir/$name.status" ]]; do
		if ((waited_cs >= timeout_s * 100)); then
			kill -KILL -- "-$pid" 2>/dev/null
			cat "$jobs_dir/$name.log"
			echo "$name: still running after ${timeout_s}s, killed"
			rm -f "$jobs_dir/$name.pid"
			exit 1
		fi
		sleep 0.01
		waited_cs=$((waited_cs + 1))
	done
	cat "$jobs_dir/$name.log"
	echo "$name: exit $(cat "$jobs_dir/$name.status")"
	rm -f "$jobs_dir/$name.pid" "$jobs_dir/$name.log" "$jobs_dir/$name.status"
}

case "${1:-}" in
start)
	(($# >= 3)) || fail "usage: $0 start NAME [--after WHAT CONDITION] COMMAND..."
	start "${@:2}"
	;;
run-after)
	after "${@:2}"
	;;
wait)
	(($# == 2)) || fail "usage: $0 wait NAME"
	wait_for "$2"
	;;
*)
	fail "usage: $0 start NAME [--after WHAT CONDITION] COMMAND... | wait NAME"
	;;
esac
