#!/usr/bin/env bash
# Installs, from Debian bookworm's own archive, what building and testing the
# extension needs.  Packages already present are left alone; nothing is
# installed from outside Debian.  Runs apt-get as root, or through sudo.
set -euo pipefail

packages=(
	postgresql-15             # the server the tests run against (pg_virtualenv comes with it)
	postgresql-server-dev-15  # server headers and PGXS
	postgresql-15-cron        # pg_cron, to schedule the daily collect (and its test)
	librdkafka-dev            # Kafka client library
	libcurl4-openssl-dev      # HTTP client (metrics sources)
	libjson-c-dev             # JSON parser (metrics sources)
	pkg-config                # library flags for the Makefile
	make
	gcc
	python3                   # the local Confluent Metrics API and Prometheus fixtures
	prometheus                # a real Prometheus for the Prometheus source's tests
	curl                      # fixture readiness checks
	openssl                   # a throw-away certificate for the HTTP unit test's TLS checks
	openjdk-17-jre-headless   # integration suite: the real Kafka broker
	maven                     # integration suite: Kafka's jars from Maven Central
)

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
