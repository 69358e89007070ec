#!/usr/bin/env bash
# bench/view.sh - how fast the recommendation answers on a large history:
# kpr.recommended_partitions over KPR_BENCH_TOPICS topics (10,000) with
# KPR_BENCH_HISTORY_DAYS days of topic history (365) and
# KPR_BENCH_DETAIL_DAYS days of partition detail (90) for
# KPR_BENCH_PARTITIONS partitions each (12), the whole view and a
# single-topic lookup (WHERE server = .. AND topic = ..), and
# kpr.partition_traffic for one topic.  Prints figures, each the median of
# KPR_BENCH_REPEATS (5) runs, and their ratio to the whole view measured in
# the same run; it is a benchmark, not a test (it fails only when a step
# cannot run).  The history is synthetic (rows written by SQL, source
# 'manual'): the view reads tables, not clusters.
#
#   bench/view.sh                                   10,000 topics, about 5 minutes
#   KPR_BENCH_TOPICS=1000 bench/view.sh             a quick run
#
# Needs the extension installed (make install, or KPR_BENCH_EXT_DESTDIR as
# bench/scale.sh) and pg_virtualenv; the cluster is a throw-away one.
set -euo pipefail

topics=${KPR_BENCH_TOPICS:-10000}
history_days=${KPR_BENCH_HISTORY_DAYS:-365}
detail_days=${KPR_BENCH_DETAIL_DAYS:-90}
partitions=${KPR_BENCH_PARTITIONS:-12}
repeats=${KPR_BENCH_REPEATS:-5}

if [[ "${1:-}" == --inner ]]; then
	psql -X -q -v ON_ERROR_STOP=1 -v topics="$topics" -v history_days="$history_days" \
		-v detail_days="$detail_days" -v partitions="$partitions" <<-'SQL'
		CREATE EXTENSION kafka_partition_recommender;
		INSERT INTO kpr.collection_runs (server, status, started_at, finished_at, metrics_source, broker_count)
		VALUES ('big', 'succeeded', now() - interval '1 minute', now(), 'sampling', 6);
		INSERT INTO kpr.topic_inventory (server, topic, partition_count, replication_factor)
		SELECT 'big', 't' || lpad(g::text, 6, '0'), :partitions, 3 FROM generate_series(1, :topics) g;
		-- a topic's peak grows with its number; every 10th topic is skewed
		INSERT INTO kpr.consumption_daily (server, topic, day, bytes_in, records_in, peak_bytes_in_per_sec,
		                                   peak_interval_seconds, busiest_partition, busiest_partition_share,
		                                   partition_skew, keyed_share, source)
		SELECT 'big', 't' || lpad(g::text, 6, '0'), (now() AT TIME ZONE 'UTC')::date - d,
		       1000000::bigint * g, 1000::bigint * g, 50.0 * g, 3600, g % :partitions,
		       CASE WHEN g % 10 = 0 THEN 0.5 ELSE 1.0 / :partitions END,
		       CASE WHEN g % 10 = 0 THEN 0.5 * :partitions ELSE 1 END, 1, 'manual'
		FROM generate_series(1, :topics) g, generate_series(1, :history_days) d;
		INSERT INTO kpr.partition_daily (server, topic, day, partition, records_in, bytes_in, source)
		SELECT 'big', 't' || lpad(g::text, 6, '0'), (now() AT TIME ZONE 'UTC')::date - d, p,
		       100 * g, 100000::bigint * g, 'manual'
		FROM generate_series(1, :topics) g, generate_series(1, :detail_days) d,
		     generate_series(0, :partitions - 1) p;
		VACUUM ANALYZE;
	SQL
	# median of the repeats, in ms, from psql's \timing
	time_ms() {
		local query=$1 i
		for ((i = 0; i < repeats; i++)); do
			psql -X -q -c '\timing on' -c "$query" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
		done | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
	}
	middle="t$(printf '%06d' $((topics / 2)))"
	whole=$(time_ms "SELECT * FROM kpr.recommended_partitions" >/dev/null; time_ms "SELECT * FROM kpr.recommended_partitions")
	one=$(time_ms "SELECT * FROM kpr.recommended_partitions WHERE server = 'big' AND topic = '$middle'")
	heat=$(time_ms "SELECT * FROM kpr.partition_traffic WHERE server = 'big' AND topic = '$middle'")
	rows=$(psql -X -At -c "SELECT count(*) FROM kpr.consumption_daily")
	detail=$(psql -X -At -c "SELECT count(*) FROM kpr.partition_daily")
	printf 'view.sh: %s topics x %s partitions; %s topic-day rows, %s partition-day rows; median of %s\n' \
		"$topics" "$partitions" "$rows" "$detail" "$repeats"
	printf '| query | ms | ÷ whole view |\n|---|---|---|\n'
	for row in "whole view:$whole" "one topic:$one" "partition_traffic, one topic:$heat"; do
		printf '| %s | %s | %s |\n' "${row%%:*}" "${row#*:}" \
			"$(awk -v a="${row#*:}" -v b="$whole" 'BEGIN { printf "%.3f", a / b }')"
	done
	exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
options=()
if [[ -n "${KPR_BENCH_EXT_DESTDIR:-}" ]]; then
	options+=(-o "extension_destdir=$KPR_BENCH_EXT_DESTDIR"
		-o "dynamic_library_path=$KPR_BENCH_EXT_DESTDIR/usr/lib/postgresql/15/lib:\$libdir")
fi
exec pg_virtualenv -v 15 -t "${options[@]}" env KPR_BENCH_TOPICS="$topics" \
	KPR_BENCH_HISTORY_DAYS="$history_days" KPR_BENCH_DETAIL_DAYS="$detail_days" \
	KPR_BENCH_PARTITIONS="$partitions" KPR_BENCH_REPEATS="$repeats" "$here/view.sh" --inner
