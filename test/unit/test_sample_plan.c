/*
 * test_sample_plan.c
 *		Unit tests of src/sample_plan.c, the arithmetic of sample_topics:
 *		hand-computed cases (the arithmetic beside each), then properties of
 *		the run layout over every small day.
 */
#include <stdio.h>
#include <string.h>

#include "../../src/sample_plan.h"
#include "tap.h"

#define DAY_MS	INT64_C(86400000)

static int
budgets_are(const int64_t *records, int days, int64_t max_records, const int64_t *expected)
{
	int64_t		budget[16];

	kpr_plan_day_budgets(records, days, max_records, budget);
	for (int d = 0; d < days; d++)
		if (budget[d] != expected[d])
		{
			printf("# day %d: budget %lld, expected %lld\n", d, (long long) budget[d],
				   (long long) expected[d]);
			return 0;
		}
	return 1;
}

static void
test_budgets(void)
{
	/* 100 * 100/1000, 100 * 300/1000, 100 * 600/1000 */
	check(budgets_are((int64_t[]) {100, 300, 600}, 3, 100, (int64_t[]) {10, 30, 60}),
		  "budget shared by records: 10, 30, 60 of 100");
	/* a partition with fewer records than its budget: all of them, no more */
	check(budgets_are((int64_t[]) {3, 2}, 2, 100, (int64_t[]) {3, 2}),
		  "fewer records than the budget: every record, 3 and 2");
	/* floor(100 * 5/1000) = 0, raised to 1; floor(100 * 995/1000) = 99 */
	check(budgets_are((int64_t[]) {5, 995}, 2, 100, (int64_t[]) {1, 99}),
		  "a small day gets at least one record: 1, 99");
	check(budgets_are((int64_t[]) {0, 50, 50}, 3, 10, (int64_t[]) {0, 5, 5}),
		  "an empty day gets nothing: 0, 5, 5");
	/* 0 -> 1, 0 -> 1, floor(10 * 10^6 / (10^6 + 2)) = 9: 11, the largest gives one */
	check(budgets_are((int64_t[]) {1, 1, 1000000}, 3, 10, (int64_t[]) {1, 1, 8}),
		  "one huge day: 1, 1, 8 (trimmed from 9 to keep 10)");
	/* every share floors to 0; the first two days take the 2 records */
	check(budgets_are((int64_t[]) {10, 10, 10, 10}, 4, 2, (int64_t[]) {1, 1, 0, 0}),
		  "a budget below the days with records: the first days, 1, 1, 0, 0");
	/* 1, 1, 1, floor(10 * 48/100) = 4, floor(10 * 49/100) = 4: 11; the first largest gives */
	check(budgets_are((int64_t[]) {1, 1, 1, 48, 49}, 5, 10, (int64_t[]) {1, 1, 1, 3, 4}),
		  "overshoot trimmed from the earliest of equal shares: 1, 1, 1, 3, 4");
	check(budgets_are((int64_t[]) {0, 0}, 2, 100, (int64_t[]) {0, 0}), "no records: nothing");
	check(budgets_are((int64_t[]) {7, 9}, 2, 0, (int64_t[]) {0, 0}), "no budget: nothing");
}

static int
run_is(int64_t records, int64_t budget, int run, int64_t start, int64_t length)
{
	KprSampleRun r = kpr_plan_day_run(records, budget, run);

	if (r.start == start && r.length == length)
		return 1;
	printf("# run %d of %lld records, budget %lld: start %lld length %lld\n", run,
		   (long long) records, (long long) budget, (long long) r.start, (long long) r.length);
	return 0;
}

static void
test_runs(void)
{
	/* starts floor(1000 r / 3): 0, 333, 666; lengths floor(10 (r+1) / 3) - floor(10 r / 3) */
	check(run_is(1000, 10, 0, 0, 3) && run_is(1000, 10, 1, 333, 3) && run_is(1000, 10, 2, 666, 4),
		  "1000 records, budget 10: runs at 0, 333, 666 of 3, 3, 4");
	/* a budget covering the day: 0, 1-2, 3-4 */
	check(run_is(5, 5, 0, 0, 1) && run_is(5, 5, 1, 1, 2) && run_is(5, 5, 2, 3, 2),
		  "5 records, budget 5: every record once (0+1, 1+2, 3+2)");
	/* fewer records to read than runs: two runs of one */
	check(run_is(100, 2, 0, 0, 1) && run_is(100, 2, 1, 50, 1) && run_is(100, 2, 2, 0, 0),
		  "budget 2: two runs of 1 at 0 and 50, no third");
	check(run_is(100, 0, 0, 0, 0), "budget 0: no run");
	check(run_is(0, 5, 0, 0, 0), "an empty day: no run");
	check(run_is(100, 10, -1, 0, 0) && run_is(100, 10, KPR_SAMPLE_RUNS_PER_DAY, 0, 0),
		  "run numbers outside 0..%d: no run", KPR_SAMPLE_RUNS_PER_DAY - 1);
}

/* Over every day of up to 60 records and every budget up to its records. */
static void
test_run_properties(void)
{
	int			inside = 1,
				disjoint = 1,
				exact = 1,
				covering = 1;

	for (int64_t records = 1; records <= 60; records++)
		for (int64_t budget = 0; budget <= records; budget++)
		{
			int64_t		read = 0;
			int64_t		end = 0;

			for (int run = 0; run < KPR_SAMPLE_RUNS_PER_DAY; run++)
			{
				KprSampleRun r = kpr_plan_day_run(records, budget, run);

				if (r.length == 0)
					continue;
				if (r.start < 0 || r.start + r.length > records)
					inside = 0;
				if (r.start < end)
					disjoint = 0;
				end = r.start + r.length;
				read += r.length;
			}
			if (read != budget)
			{
				if (exact)
					printf("# %lld records, budget %lld: %lld read\n", (long long) records,
						   (long long) budget, (long long) read);
				exact = 0;
			}
			if (budget == records && read != records)
				covering = 0;
		}
	check(inside, "runs stay inside their day");
	check(disjoint, "runs never overlap, in order");
	check(exact, "runs read exactly the budget");
	check(covering, "a budget covering the day reads every record");
}

static void
test_probe(void)
{
	check(kpr_plan_probe(0, 100, 0, 999, 500, false) == 50, "bisection: the middle, 50");
	/* (500 - 0) / (999 - 0 + 1) of 100 */
	check(kpr_plan_probe(0, 100, 0, 999, 500, true) == 50, "interpolation: 500 of 0..999 is 50");
	check(kpr_plan_probe(0, 100, 0, 999, 100, true) == 10, "interpolation: 100 of 0..999 is 10");
	check(kpr_plan_probe(200, 300, 1000, 2000, 1250, true) == 224,
		  "interpolation from lower: 200 + 250/1001 of 100 = 224");
	check(kpr_plan_probe(0, 100, 0, 999, 5000, true) == 99, "target past the range: clamped to 99");
	check(kpr_plan_probe(10, 100, 500, 999, 0, true) == 10, "target before the range: clamped to 10");
	check(kpr_plan_probe(0, 100, 700, 700, 700, true) == 50,
		  "equal timestamps: bisection even when interpolating");
	check(kpr_plan_probe(5, 6, 0, 10, 3, true) == 5 && kpr_plan_probe(5, 6, 0, 10, 3, false) == 5,
		  "a one-record range: that record");
}

static void
test_estimates(void)
{
	KprPartitionDay both[] = {{100, 10, 1000.0}, {300, 10, 2000.0}};
	KprPartitionDay one_unsampled[] = {{100, 10, 1000.0}, {300, 0, 0.0}};
	KprPartitionDay none[] = {{100, 0, 0.0}, {300, 0, 0.0}};
	int64_t		hours[] = {10, 50, 40};

	/* 100 * 1000/10 + 300 * 2000/10 */
	check(kpr_plan_estimated_bytes(both, 2) == 70000.0, "bytes: each partition's mean, 70000");
	/* 100 * 100, scaled by 400/100 */
	check(kpr_plan_estimated_bytes(one_unsampled, 2) == 40000.0,
		  "bytes: an unsampled partition takes the others' mean, 40000");
	check(kpr_plan_estimated_bytes(none, 2) == 0.0, "bytes: no sample, 0");
	/* busiest hour 50 records of 10000 / 100 bytes each */
	check(kpr_plan_peak_hour_bytes(hours, 3, 100, 10000.0, 10) == 5000.0,
		  "peak: the busiest hour's records times the mean size, 5000");
	check(kpr_plan_peak_hour_bytes((int64_t[]) {0, 0}, 2, 0, 0.0, 0) == 0.0, "peak: no records, 0");
	check(kpr_plan_peak_hour_bytes(hours, 3, 100, 0.0, 0) == -1.0, "peak: records, no sample: unknown");
}

static void
test_day_may_be_cut(void)
{
	int64_t		day = 20000 * DAY_MS;
	int64_t		now = day + 2 * DAY_MS;
	int64_t		zero[] = {0};
	int64_t		hundred[] = {100};
	int64_t		truncated[] = {40};

	check(kpr_plan_day_may_be_cut(day, now, DAY_MS, zero, hundred, (int64_t[]) {day}, 1),
		  "retention 1 day, the day began 2 days ago: cut");
	check(!kpr_plan_day_may_be_cut(day, now, 7 * DAY_MS, zero, hundred, (int64_t[]) {day}, 1),
		  "retention 7 days, log from offset 0: whole");
	check(!kpr_plan_day_may_be_cut(day, now, -1, zero, hundred, (int64_t[]) {day + 5}, 1),
		  "unlimited retention, log from offset 0: whole");
	check(kpr_plan_day_may_be_cut(day, now, KPR_RETENTION_UNKNOWN, truncated, hundred,
								  (int64_t[]) {day + 1}, 1),
		  "retention unknown, truncated log starting after midnight: cut");
	check(!kpr_plan_day_may_be_cut(day, now, KPR_RETENTION_UNKNOWN, truncated, hundred,
								   (int64_t[]) {day}, 1),
		  "retention unknown, truncated log starting at midnight: whole");
	check(!kpr_plan_day_may_be_cut(day, now, 7 * DAY_MS, truncated, hundred,
								   (int64_t[]) {day + DAY_MS / 2}, 1),
		  "retention known, truncated log starting in the day: whole (the day's first segment is kept)");
	check(kpr_plan_day_may_be_cut(day, now, 7 * DAY_MS, truncated, hundred,
								  (int64_t[]) {day + DAY_MS}, 1),
		  "retention known, truncated log starting the next day: cut");
	check(!kpr_plan_day_may_be_cut(day, now, KPR_RETENTION_UNKNOWN, truncated, truncated,
								   (int64_t[]) {day + DAY_MS}, 1),
		  "an empty truncated partition says nothing: whole");
}

int
main(void)
{
	test_budgets();
	test_runs();
	test_run_properties();
	test_probe();
	test_estimates();
	test_day_may_be_cut();
	return tap_finish();
}
