#!/usr/bin/env bash
# Installs, from Debian bookworm's own archive, what building, the demo and
# the tests need.  Packages already present are left alone; nothing is
# installed from outside Debian.  Runs apt-get as root, or through sudo.
#
#   scripts/install-deps.sh                 building the extension
#   scripts/install-deps.sh --demo          + what the demo needs (Prometheus, Python)
#   scripts/install-deps.sh --tests         + what the fast test suite needs
#   scripts/install-deps.sh --integration   + what the integration suite needs
set -euo pipefail

build=(
	postgresql-15             # the server (pg_virtualenv comes with it)
	postgresql-server-dev-15  # server headers and PGXS
	librdkafka-dev            # Kafka client library
	libcurl4-openssl-dev      # HTTP client (metrics sources)
	libjson-c-dev             # JSON parser (metrics sources)
	pkg-config                # library flags for the Makefile
	make
	gcc
)
tests=(
	postgresql-15-cron        # pg_cron, to schedule the daily collect (and its test)
	python3                   # the local Confluent Metrics API and Prometheus fixtures
	prometheus                # a real Prometheus for the Prometheus source's tests
	curl                      # fixture readiness checks
	openssl                   # a throw-away certificate for the HTTP unit test's TLS checks
)
demo=(
	prometheus                # the demo's metrics source, backfilled (prometheus + promtool)
	python3                   # writes the demo's history
)
integration=(
	openjdk-17-jre-headless   # the real Kafka broker
	maven                     # Kafka's jars from Maven Central
	kcat                      # a producer for the live exporter test
)

packages=("${build[@]}")
case "${1:-}" in
"") ;;
--demo) packages+=("${demo[@]}") ;;
--tests) packages+=("${tests[@]}") ;;
--integration) packages+=("${tests[@]}" "${integration[@]}") ;;
*) echo "usage: $0 [--demo | --tests | --integration]" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
echo "install-deps: installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
