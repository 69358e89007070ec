#!/usr/bin/env bash
# Stops a kpr.collect between its listing and its sampling, runs a command
# while it waits there, then lets it go on.
#
#   collect_gate.sh COMMAND...
#
# A session takes a SHARE lock on kpr.topic_inventory, waits until another
# session waits for that lock (a collect's inventory upsert comes right after
# its listing; the tests run one collect at a time), runs COMMAND (a fault:
# a topic deleted, the brokers told to hold their answers) and commits.
# The test starts it with test/lib/background.sh and, before it
# calls kpr.collect, waits for the lock (regress_helpers.wait_for_gate()).
# Prints what it waited for and COMMAND's output; fails if the collect does
# not come within 60 s or COMMAND fails.
set -u

fail() {
	echo "collect_gate.sh: $*" >&2
	exit 1
}

(($# >= 1)) || fail "usage: $0 COMMAND..."
[[ -n "${KPR_DB:-}" && -d "${KPR_TEST_TMP:-}" ]] ||
	fail "KPR_DB and KPR_TEST_TMP must be set (the test and scripts/test.sh set them)"

# psql runs \! through /bin/sh; the command goes in a bash script, quoted.
held=$(mktemp "$KPR_TEST_TMP/collect_gate.XXXXXX")
trap 'rm -f "$held"' EXIT
{
	printf '%q ' "$@"
	printf '|| { echo "collect_gate.sh: the command failed" >&2; exit 1; }\n'
} >"$held"

psql -XAtq -v ON_ERROR_STOP=1 -v held="$held" -d "$KPR_DB" <<'SQL' || fail "gate session failed"
BEGIN;
LOCK TABLE kpr.topic_inventory IN SHARE MODE;
SELECT regress_helpers.wait_until('a collect waits after its listing',
    $$EXISTS (SELECT FROM pg_locks WHERE relation = 'kpr.topic_inventory'::regclass AND NOT granted)$$);
\setenv KPR_GATE_COMMAND :held
\! bash "$KPR_GATE_COMMAND"
COMMIT;
SQL
