/*
 * sample_plan.h
 *		The plan of kpr.sample_topics: how a partition's sample budget is
 *		shared among its strata (hours or days), where each stratum's runs
 *		of consecutive records start, which offset the timestamp search
 *		probes next, where a partition read whole puts its hourly
 *		boundaries, and whether retention may have cut a day.  What a sample
 *		says (bytes, peak, their errors) is sample_estimate.h's.
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
 * Strata.  A partition's budget (max_records_per_partition) is shared among
 * its strata: its hours where the broker answers offsets by time (the exact
 * record count of every hour is then known), else its days.  Each stratum's
 * share is read as a few runs of consecutive records: one fetch serves a run,
 * so a run costs one round trip whatever its length, while separate runs
 * give the stratum's own between-run variance (sample_estimate.c).
 */
#define KPR_SAMPLE_RUNS_PER_HOUR 2
#define KPR_SAMPLE_RUNS_PER_DAY 3
#define KPR_SAMPLE_MAX_RUNS 3

/*
 * Records every non-empty stratum gets before the rest of the budget is
 * shared by records: two runs of two, so that no stratum's size is a guess
 * from its neighbours'.
 */
#define KPR_SAMPLE_STRATUM_MINIMUM 4

/*
 * Shares max_records among strata.  A budget covering every record reads
 * every record.  Otherwise each non-empty stratum first gets
 * min(records, m), m = min(KPR_SAMPLE_STRATUM_MINIMUM, max_records /
 * non-empty strata); the rest goes to the strata in proportion to their
 * records not yet taken, by cumulative rounding (so the shares sum to
 * max_records exactly and none exceeds its stratum).  With fewer records in
 * the budget than non-empty strata (m = 0), one record goes to every
 * (non-empty strata / max_records)-th non-empty stratum, spread over time.
 */
extern void kpr_plan_stratum_budgets(const int64_t *stratum_records, int strata,
									 int64_t max_records, int64_t *budget);

/* One run of a stratum's sample: its first record, counted from the stratum's first. */
typedef struct KprSampleRun
{
	int64_t		start;
	int64_t		length;			/* records to read; 0: this run reads nothing */
} KprSampleRun;

/*
 * Runs a stratum of records records with sample budget budget is read as:
 * 1 when the budget covers the stratum (every record, in one run), else
 * min(runs_wanted, budget / 2) (at least 1), so that no run is a single
 * record when two would fit.
 */
extern int	kpr_plan_stratum_runs(int64_t records, int64_t budget, int runs_wanted);

/*
 * Run number run (0 .. kpr_plan_stratum_runs() - 1).  With k runs, the
 * stratum is cut into k equal segments, run r reads
 * floor(budget (r+1) / k) - floor(budget r / k) records of segment r, from a
 * start drawn inside the segment by a hash of seed and r (deterministic:
 * the same seed gives the same sample, and a sample's position owes nothing
 * to the data).  Runs never overlap and stay in their segment; a covering
 * budget reads every record once.
 */
extern KprSampleRun kpr_plan_stratum_run(int64_t records, int64_t budget, int runs_wanted,
										 int run, uint64_t seed);

/* A well-mixed 64-bit hash of two values (splitmix64), for run seeds. */
extern uint64_t kpr_plan_mix(uint64_t a, uint64_t b);

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

/*
 * A partition read whole finds its hourly boundaries from its records, as a
 * broker's time index answers ListOffsets by timestamp: the boundary at time
 * T is the first offset at which the newest timestamp so far is >= T.
 * boundary_offsets[0 .. boundary_count - 1] holds the day boundaries (every
 * per_day-th) from the broker; boundary b is at first_ms + b * step_ms.
 * kpr_plan_whole_record takes the partition's records in offset order and
 * returns the stratum (boundary b to b + 1) each falls in, setting each
 * hourly boundary it passes (never past its day's end);
 * kpr_plan_whole_finish sets the hourly boundaries no record reached to the
 * next day boundary.  state starts as {1, INT64_MIN}.
 */
typedef struct KprWholeRead
{
	int			next_boundary;
	int64_t		max_timestamp;
} KprWholeRead;

extern int	kpr_plan_whole_record(KprWholeRead *state, int64_t offset, int64_t timestamp,
								  int64_t *boundary_offsets, int boundary_count, int per_day,
								  int64_t first_ms, int64_t step_ms);
extern void kpr_plan_whole_finish(const KprWholeRead *state, int64_t *boundary_offsets,
								  int boundary_count, int per_day);

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
