#!/usr/bin/env bash
# bench/consumer_groups.sh - what one consumer-group sample costs on a real
# Kafka broker, as the groups and their partitions grow:
# kpr.list_consumer_groups over KPR_BENCH_GROUP_COUNTS groups (10 100 1000)
# that each committed offsets on a topic of 1 partition, and as many on a
# topic of KPR_BENCH_WIDE_PARTITIONS partitions (48), then
# kpr.collect_consumer_groups over all of them.  Prints the median of
# KPR_BENCH_REPEATS (3) calls in ms, each as a ratio to the smallest count on
# 1 partition measured in the same run, and the requests the call made (its
# DEBUG1 line).  A benchmark, not a test: it fails only when a step cannot
# run or a call does not see every group.
#
#   bench/consumer_groups.sh                          about 3 minutes
#   KPR_BENCH_GROUP_COUNTS="10 100" bench/consumer_groups.sh
#
# The groups are simple groups (offsets committed without joining, by
# test/fixtures/consumer_groups/kpr_consumer_groups commit): the requests a
# sample makes are the same for groups with members, whose DescribeGroups
# answers are larger.  Needs the extension installed (make install, or
# KPR_BENCH_EXT_DESTDIR as bench/scale.sh), Java and Maven for the broker.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
counts=${KPR_BENCH_GROUP_COUNTS:-10 100 1000}
wide=${KPR_BENCH_WIDE_PARTITIONS:-48}
repeats=${KPR_BENCH_REPEATS:-3}
program="$repo/test/fixtures/consumer_groups/kpr_consumer_groups"

if [[ "${1:-}" == --inner ]]; then
	bootstrap=$2
	psql -X -q -v ON_ERROR_STOP=1 -v bootstrap="$bootstrap" <<-'SQL'
		CREATE EXTENSION kafka_partition_recommender;
		CREATE SERVER bench FOREIGN DATA WRAPPER kafka_partition_recommender
		    OPTIONS (bootstrap_servers :'bootstrap');
		CREATE USER MAPPING FOR CURRENT_USER SERVER bench;
	SQL
	# groups narrow-1 .. narrow-N on bench_narrow, wide-1 .. wide-N on bench_wide
	commit_groups() {
		local prefix=$1 topic=$2 partitions=$3 first=$4 last=$5 offsets=() p
		for ((p = 0; p < partitions; p++)); do offsets+=("$p:1"); done
		seq "$first" "$last" | xargs -P 4 -I{} "$program" commit "$bootstrap" "$prefix-{}" "$topic" \
			"${offsets[@]}" >/dev/null
	}
	# median ms of a query, and the DEBUG1 request line of its last run
	measure() {
		local query=$1 i out times=() calls=
		for ((i = 0; i < repeats; i++)); do
			out=$(psql -X -q -c 'SET client_min_messages = debug1' -c '\timing on' -c "$query" 2>&1)
			times+=("$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")")
			calls=$(sed -n 's/.*list_consumer_groups on server bench: //p' <<<"$out")
		done
		printf '%s|%s\n' "$(printf '%s\n' "${times[@]}" | sort -n |
			awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')" "$calls"
	}
	previous=0
	baseline=
	printf 'consumer_groups.sh: median of %s calls\n' "$repeats"
	printf '| groups | partitions each | call | ms | ÷ baseline | requests (DEBUG1) |\n|---|---|---|---|---|---|\n'
	for count in $counts; do
		commit_groups narrow bench_narrow 1 $((previous + 1)) "$count"
		commit_groups wide bench_wide "$wide" $((previous + 1)) "$count"
		previous=$count
		seen=$(psql -X -At -c "SELECT count(DISTINCT group_id) FILTER (WHERE group_id LIKE 'narrow-%'), count(DISTINCT group_id) FILTER (WHERE group_id LIKE 'wide-%') FROM kpr.list_consumer_groups('bench')")
		[[ "$seen" == "$count|$count" ]] ||
			{ echo "consumer_groups.sh: list_consumer_groups saw $seen groups, not $count|$count" >&2; exit 1; }
		for row in "narrow:1" "wide:$wide"; do
			IFS='|' read -r ms calls < <(measure "SELECT count(*) FROM kpr.list_consumer_groups('bench', '${row%%:*}-*')")
			baseline=${baseline:-$ms}
			printf '| %s | %s | list_consumer_groups | %s | %s | %s |\n' "$count" "${row#*:}" "$ms" \
				"$(awk -v a="$ms" -v b="$baseline" 'BEGIN { printf "%.2f", a / b }')" "$calls"
		done
		IFS='|' read -r ms calls < <(measure "SELECT kpr.collect_consumer_groups('bench')")
		printf '| %s + %s | 1 and %s | collect_consumer_groups | %s | %s | %s |\n' "$count" "$count" "$wide" "$ms" \
			"$(awk -v a="$ms" -v b="$baseline" 'BEGIN { printf "%.2f", a / b }')" "$calls"
	done
	exit 0
fi

work=$(mktemp -d)
cleanup() {
	"$repo/test/fixtures/kafka_broker/broker.sh" stop "$work/broker" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
make -s -C "$repo/test/fixtures/consumer_groups" >/dev/null
printf 'topic bench_narrow 1 1\nday bench_narrow -1 100 0 100 100 0\ntopic bench_wide %s 1\nday bench_wide -1 %s 0 100 100 0\n' \
	"$wide" $((wide * 100)) >"$work/bench.spec"
bootstrap=$("$repo/test/fixtures/kafka_broker/broker.sh" start "$work/broker" "$work/bench.spec") ||
	{ echo "consumer_groups.sh: the broker did not start" >&2; exit 1; }
options=()
if [[ -n "${KPR_BENCH_EXT_DESTDIR:-}" ]]; then
	options+=(-o "extension_destdir=$KPR_BENCH_EXT_DESTDIR"
		-o "dynamic_library_path=$KPR_BENCH_EXT_DESTDIR/usr/lib/postgresql/15/lib:\$libdir")
fi
pg_virtualenv -v 15 -t "${options[@]}" env KPR_BENCH_GROUP_COUNTS="$counts" \
	KPR_BENCH_WIDE_PARTITIONS="$wide" KPR_BENCH_REPEATS="$repeats" "$here/consumer_groups.sh" --inner "$bootstrap"
