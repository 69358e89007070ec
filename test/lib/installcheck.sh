#!/usr/bin/env bash
# What scripts/test.sh runs inside pg_virtualenv for a pg_regress suite:
# make installcheck, then a look at the server's log for a crash of any
# server process.  A crash fails the suite by itself already (every test
# after it loses its connection), but the log that says which process died,
# of what, and what it was doing lives in pg_virtualenv's temporary
# directory and is gone when the suite ends: this prints the lines around
# each crash while they still exist.
#
#   test/lib/installcheck.sh [make argument...]
#
# Exits with make's status, or 1 when the log shows a crash.
set -uo pipefail

status=0
make installcheck "$@" || status=$?

# pg_virtualenv's cluster logs to <its directory>/log (PGSYSCONFDIR is
# <its directory>/postgresql-common).
log_dir="$(dirname "$PGSYSCONFDIR")/log"
shopt -s nullglob
logs=("$log_dir"/postgresql-*.log)
if ((${#logs[@]} == 0)); then
	echo "test/lib/installcheck.sh: no server log in $log_dir: cannot tell whether a server process crashed" >&2
	exit 1
fi

# The postmaster's words for a child that died abnormally (PostgreSQL 15,
# postmaster.c LogChildExit and HandleChildCrash); librdkafka's and
# PostgreSQL's own aborts print before it.  Exit code 1 is a FATAL error's
# ordinary end, 0 a clean one.
crash='was terminated by signal|exited with exit code ([2-9]|[1-9][0-9]+)$|terminating any other active server processes|PANIC: |: assert: '
if grep -Eq "$crash" "${logs[@]}"; then
	echo "test/lib/installcheck.sh: a server process crashed; the server log around it:" >&2
	# 40 lines of context before each crash line, 5 after
	grep -E -B 40 -A 5 "$crash" "${logs[@]}" >&2
	exit 1
fi
exit "$status"
