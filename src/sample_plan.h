/*
 * sample_plan.h
 *		The arithmetic of kpr.sample_topics that users act on: how a
 *		partition's sample budget is shared among its days, where each day's
 *		runs of consecutive records start, which offset the timestamp search
 *		probes next, and what a topic-day's sample says (bytes, peak hour,
 *		whether retention may have cut the day).
 *
 * PostgreSQL-free C (stdint only), so that it is unit-tested on its own
 * (test/unit/test_sample_plan.c) under AddressSanitizer and UBSan; sample.c
 * does the librdkafka I/O around it.
 */
#ifndef KPR_SAMPLE_PLAN_H
#define KPR_SAMPLE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Runs of consecutive records one partition-day's sample is split into.
 * Every run of every day is one read round, and on librdkafka 2.0.2 a round
 * costs about a second whatever it reads, so this trades spread within a day
 * against wall time.
 */
#define KPR_SAMPLE_RUNS_PER_DAY 3

/*
 * Shares max_records among days in proportion to their records:
 * budget[d] = floor(max_records * records[d] / total), never more than
 * records[d]; a day with records gets at least one while the budget lasts
 * (earlier days first); if that overshoots, the largest shares give one back
 * each (the earliest of equal ones first) until the total is max_records.
 * A partition without records gets nothing.
 */
extern void kpr_plan_day_budgets(const int64_t *day_records, int days,
								 int64_t max_records, int64_t *budget);

/* One run of a day's sample: its first record, counted from the day's first. */
typedef struct KprSampleRun
{
	int64_t		start;
	int64_t		length;			/* records to read; 0: this run reads nothing */
} KprSampleRun;

/*
 * Run number run (0 .. KPR_SAMPLE_RUNS_PER_DAY - 1) of a day holding
 * day_records records whose sample budget is budget.  With
 * runs = min(KPR_SAMPLE_RUNS_PER_DAY, budget), run r starts at
 * floor(day_records * r / runs) and reads
 * floor(budget * (r + 1) / runs) - floor(budget * r / runs) records, never
 * more than the distance to the next run: runs never overlap, and a budget
 * that covers the day reads every record exactly once.
 */
extern KprSampleRun kpr_plan_day_run(int64_t day_records, int64_t budget, int run);

/*
 * The next offset to read when searching [lower, upper) for the first record
 * whose timestamp is >= target, the records at lower and upper having (at
 * most) the timestamps lower_timestamp and upper_timestamp.  Interpolation
 * guesses from the timestamps; bisection halves the range; the search
 * alternates them, so that skewed timestamps cannot make it linear.  Always
 * in [lower, upper - 1]; the caller stops once lower >= upper.
 */
extern int64_t kpr_plan_probe(int64_t lower, int64_t upper,
							  int64_t lower_timestamp, int64_t upper_timestamp,
							  int64_t target, bool interpolate);

/* What one partition's sample of one day holds, for the estimates below. */
typedef struct KprPartitionDay
{
	int64_t		records;		/* records of the day, from offsets (exact) */
	int64_t		sampled_records;	/* of them, read for the size sample */
	double		sampled_bytes;	/* their total size */
} KprPartitionDay;

/*
 * A topic-day's bytes: each partition's records times its own sample mean;
 * partitions without a sample take the mean of the others (their records
 * scale the estimate up).  0 when no partition has a sample.
 */
extern double kpr_plan_estimated_bytes(const KprPartitionDay *partitions, int partition_count);

/*
 * The busiest hour's bytes: its records (summed over partitions) times the
 * day's mean record size, the largest over the hours given.  -1 when no
 * record was sampled (unknown), 0 when the day has no records.
 */
extern double kpr_plan_peak_hour_bytes(const int64_t *hour_records, int hours,
									   int64_t day_records, double day_bytes,
									   int64_t sampled_records);

/* Retention of a topic that the broker did not describe. */
#define KPR_RETENTION_UNKNOWN INT64_C(-2)

/*
 * Whether retention may already have deleted records of the day
 * [day_start_ms, day_start_ms + 1 day): the day begins before
 * now_ms - retention_ms (retention_ms >= 0; -1 is unlimited), or a
 * partition's log no longer starts at offset 0 (low > 0) and its first
 * record is newer than the day's start.  Where retention_ms is known, a
 * segment goes only when its newest record is older than
 * now - retention.ms, so the second rule applies only to days wholly before
 * the first remaining record.  low, high and first_timestamp_ms describe
 * each of partition_count partitions.
 */
extern bool kpr_plan_day_may_be_cut(int64_t day_start_ms, int64_t now_ms, int64_t retention_ms,
									const int64_t *low, const int64_t *high,
									const int64_t *first_timestamp_ms, int partition_count);

#endif							/* KPR_SAMPLE_PLAN_H */
