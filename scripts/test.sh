#!/usr/bin/env bash
# The whole test suite, from a fresh Debian bookworm machine:
#   1. installs the Debian packages listed in scripts/install-deps.sh;
#   2. builds the extension with warnings as errors and installs it into
#      PostgreSQL 15 (as root, or through sudo);
#   3. runs the pg_regress suite in a throwaway PostgreSQL 15 cluster made by
#      pg_virtualenv, which is removed afterwards whatever the outcome.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
make clean >/dev/null
make COPT=-Werror
"${as_root[@]}" make install PG_CONFIG="$PG_CONFIG"

if ! pg_virtualenv -v 15 -t make installcheck; then
	[ -f test/regression.diffs ] && cat test/regression.diffs
	echo "test.sh: the regression suite FAILED" >&2
	exit 1
fi
echo "test.sh: all suites passed"
