#!/bin/sh
# Unit tests of the PostgreSQL-free parts: build them, run
# test_prometheus_response, test_sample_plan, test_sample_estimate,
# test_sample_order, test_confluent_response and test_trend_fit (no server needed), start the fault server on
# 127.0.0.1, run test_http, all under AddressSanitizer + UBSan; always stop
# the server.
#
#   test/unit/run.sh              the ASan/UBSan run
#   test/unit/run.sh valgrind     the plain build under valgrind --leak-check=full
#
# Exits non-zero if the build, the server or any check of any test fails.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-asan}
work=$(mktemp -d)
server_pid=

stop() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

# a proxy from the environment would send 127.0.0.1 traffic elsewhere
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

case $mode in
	asan) make -s -C "$here" asan; binary=$here/test_http_asan
		serverless="$here/test_prometheus_response_asan $here/test_sample_plan_asan $here/test_sample_estimate_asan $here/test_sample_order_asan $here/test_confluent_response_asan $here/test_trend_fit_asan" ;;
	valgrind) make -s -C "$here" all; binary=$here/test_http
		serverless="$here/test_prometheus_response $here/test_sample_plan $here/test_sample_estimate $here/test_sample_order $here/test_confluent_response $here/test_trend_fit" ;;
	*) echo "usage: $0 [asan|valgrind]" >&2; exit 2 ;;
esac

# the tests that need no server first; a failure is reported at the end
serverless_status=0
for test in $serverless; do
	status=0
	if [ "$mode" = asan ]; then
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			"$test" || status=$?
	else
		valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible \
			--errors-for-leak-kinds=definite,indirect --error-exitcode=3 \
			"$test" || status=$?
	fi
	if [ "$status" -ne 0 ]; then
		echo "run.sh: $(basename "$test") exited $status" >&2
		serverless_status=1
	fi
done

# a throw-away certificate for 127.0.0.1, for the TLS checks
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

python3 "$here/http_fault_server.py" "$work/port" "$work/cert.pem" "$work/key.pem" &
server_pid=$!
tries=0
while [ ! -s "$work/port" ]; do
	tries=$((tries + 1))
	# 30 s: python3 and its ssl module start slowly on a busy machine
	if [ $tries -gt 600 ] || ! kill -0 "$server_pid" 2>/dev/null; then
		echo "run.sh: the fault server did not start" >&2
		exit 1
	fi
	sleep 0.05
done
read -r port tls_port < "$work/port"

http_status=0
if [ "$mode" = asan ]; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$binary" "$port" "$tls_port" "$work/cert.pem" || http_status=$?
else
	valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=3 \
		"$binary" "$port" "$tls_port" "$work/cert.pem" || http_status=$?
fi

if [ "$serverless_status" -ne 0 ] || [ "$http_status" -ne 0 ]; then
	echo "run.sh: test_http exited $http_status; see above for the others" >&2
	exit 1
fi
