/*
 * test_sample_plan.c
 *		Unit tests of src/sample_plan.c, the plan of sample_topics:
 *		hand-computed cases (the arithmetic beside each), then properties of
 *		the budget split over pseudo-random strata and of the run layout over
 *		every small stratum.
 */
#include <stdio.h>
#include <string.h>

#include "../../src/sample_plan.h"
#include "tap.h"

#define DAY_MS	INT64_C(86400000)

static int
budgets_are(const int64_t *records, int strata, int64_t max_records, const int64_t *expected)
{
	int64_t		budget[16];

	kpr_plan_stratum_budgets(records, strata, max_records, budget);
	for (int s = 0; s < strata; s++)
		if (budget[s] != expected[s])
		{
			printf("# stratum %d: budget %lld, expected %lld\n", s, (long long) budget[s],
				   (long long) expected[s]);
			return 0;
		}
	return 1;
}

static void
test_budgets(void)
{
	/*
	 * 4 each first (12), then 88 by the untaken 96, 296, 596 of 988:
	 * floor(88 * 96/988) = 8, floor(88 * 392/988) = 34, 88: 8, 26, 54
	 */
	check(budgets_are((int64_t[]) {100, 300, 600}, 3, 100, (int64_t[]) {12, 30, 58}),
		  "4 each, the rest by records: 12, 30, 58 of 100");
	check(budgets_are((int64_t[]) {3, 2}, 2, 100, (int64_t[]) {3, 2}),
		  "a budget covering the records: every record, 3 and 2");
	check(budgets_are((int64_t[]) {3, 2}, 2, 5, (int64_t[]) {3, 2}),
		  "a budget equal to the records: every record");
	/* 2 of the small one (all it has) and 4; the 4 left go to the large one */
	check(budgets_are((int64_t[]) {2, 1000}, 2, 10, (int64_t[]) {2, 8}),
		  "a stratum smaller than the minimum is read whole: 2, 8");
	check(budgets_are((int64_t[]) {0, 50, 50}, 3, 10, (int64_t[]) {0, 5, 5}),
		  "an empty stratum gets nothing: 0, 5, 5");
	/* m = min(4, 10/3) = 3: 3, 3, 3, then the one left by 0, 0, 999997 untaken */
	check(budgets_are((int64_t[]) {1, 3, 1000000}, 3, 10, (int64_t[]) {1, 3, 6}),
		  "one huge stratum: 1, 3, 6");
	/* 2 records for 4 non-empty strata: every second one, spread over time */
	check(budgets_are((int64_t[]) {5, 0, 5, 5, 5}, 5, 2, (int64_t[]) {0, 0, 1, 0, 1}),
		  "a budget below the non-empty strata: one each to every second, 0, 0, 1, 0, 1");
	check(budgets_are((int64_t[]) {0, 0}, 2, 100, (int64_t[]) {0, 0}), "no records: nothing");
	check(budgets_are((int64_t[]) {7, 9}, 2, 0, (int64_t[]) {0, 0}), "no budget: nothing");
}

/* Over pseudo-random strata: the shares' sum, bounds and minimum. */
static void
test_budget_properties(void)
{
	int			sums = 1,
				bounded = 1,
				minimum = 1;

	for (uint64_t trial = 0; trial < 2000; trial++)
	{
		int64_t		records[48];
		int64_t		budget[48];
		int			strata = 1 + (int) (kpr_plan_mix(trial, 1) % 48);
		int64_t		max_records = (int64_t) (kpr_plan_mix(trial, 2) % 3000);
		int64_t		total = 0,
					given = 0,
					nonempty = 0,
					m;

		for (int s = 0; s < strata; s++)
		{
			uint64_t	r = kpr_plan_mix(trial, 100 + s);

			/* a third empty, some small, some large */
			records[s] = r % 3 == 0 ? 0 : (int64_t) ((r >> 8) % (r % 5 == 0 ? 5000 : 40));
			total += records[s];
			nonempty += records[s] > 0;
		}
		kpr_plan_stratum_budgets(records, strata, max_records, budget);
		m = nonempty > 0 ? max_records / nonempty : 0;
		if (m > KPR_SAMPLE_STRATUM_MINIMUM)
			m = KPR_SAMPLE_STRATUM_MINIMUM;
		for (int s = 0; s < strata; s++)
		{
			given += budget[s];
			if (budget[s] < 0 || budget[s] > records[s])
				bounded = 0;
			if (records[s] > 0 && budget[s] < (records[s] < m ? records[s] : m))
				minimum = 0;
		}
		if (given != (max_records < total ? max_records : total))
		{
			if (sums)
				printf("# trial %llu: %lld given of %lld (records %lld)\n",
					   (unsigned long long) trial, (long long) given,
					   (long long) max_records, (long long) total);
			sums = 0;
		}
	}
	check(sums, "shares sum to the budget, or to every record when it covers them");
	check(bounded, "no share exceeds its stratum");
	check(minimum, "every non-empty stratum gets its minimum share");
}

static int
run_is(int64_t records, int64_t budget, int runs, int run, int64_t start, int64_t length)
{
	KprSampleRun r = kpr_plan_stratum_run(records, budget, runs, run, 7);

	if (r.start == start && r.length == length)
		return 1;
	printf("# run %d of %lld records, budget %lld: start %lld length %lld\n", run,
		   (long long) records, (long long) budget, (long long) r.start, (long long) r.length);
	return 0;
}

static void
test_runs(void)
{
	check(kpr_plan_stratum_runs(1000, 10, 3) == 3 && kpr_plan_stratum_runs(1000, 4, 3) == 2 &&
		  kpr_plan_stratum_runs(1000, 3, 3) == 1 && kpr_plan_stratum_runs(1000, 1, 2) == 1,
		  "runs: 3 of 10, 2 of 4, 1 of 3 (no run of one when two fit), 1 of 1");
	check(kpr_plan_stratum_runs(5, 5, 3) == 1 && kpr_plan_stratum_runs(5, 9, 3) == 1,
		  "a covering budget: one run");
	check(kpr_plan_stratum_runs(0, 5, 3) == 0 && kpr_plan_stratum_runs(5, 0, 3) == 0,
		  "no records or no budget: no run");
	check(run_is(5, 5, 3, 0, 0, 5) && run_is(5, 5, 3, 1, 0, 0),
		  "a covering budget: every record in one run");
	check(run_is(100, 0, 2, 0, 0, 0) && run_is(0, 5, 2, 0, 0, 0), "nothing to read: no run");
	check(run_is(100, 10, 2, -1, 0, 0) && run_is(100, 10, 2, 2, 0, 0),
		  "run numbers outside 0..runs-1: no run");
	{
		KprSampleRun a = kpr_plan_stratum_run(1000, 10, 2, 1, 42);
		KprSampleRun b = kpr_plan_stratum_run(1000, 10, 2, 1, 42);
		int			starts_differ = 0;

		for (uint64_t seed = 0; seed < 10; seed++)
			starts_differ |= kpr_plan_stratum_run(1000, 10, 2, 1, seed).start != a.start;
		check(a.start == b.start && a.length == 5 && a.start >= 500 && a.start <= 995,
			  "the second of 2 runs of 5 in 1000 starts in 500..995, the same for the same seed");
		check(starts_differ, "other seeds, other starts");
	}
}

/* Over every stratum of up to 60 records, every budget and a few seeds. */
static void
test_run_properties(void)
{
	int			inside = 1,
				disjoint = 1,
				exact = 1,
				covering = 1;

	for (int runs_wanted = 1; runs_wanted <= KPR_SAMPLE_MAX_RUNS; runs_wanted++)
		for (int64_t records = 1; records <= 60; records++)
			for (int64_t budget = 0; budget <= records + 1; budget++)
				for (uint64_t seed = 0; seed < 5; seed++)
				{
					int64_t		read = 0;
					int64_t		end = 0;
					int			runs = kpr_plan_stratum_runs(records, budget, runs_wanted);

					for (int run = 0; run < runs; run++)
					{
						KprSampleRun r = kpr_plan_stratum_run(records, budget, runs_wanted,
															  run, seed);

						if (r.start < records * run / runs ||
							r.start + r.length > records * (run + 1) / runs)
							inside = 0;
						if (r.start < end)
							disjoint = 0;
						end = r.start + r.length;
						read += r.length;
					}
					if (read != (budget < records ? budget : records))
					{
						if (exact)
							printf("# %lld records, budget %lld, %d runs: %lld read\n",
								   (long long) records, (long long) budget, runs,
								   (long long) read);
						exact = 0;
					}
					if (budget >= records && read != records)
						covering = 0;
				}
	check(inside, "runs stay inside their segment of the stratum");
	check(disjoint, "runs never overlap, in order");
	check(exact, "runs read exactly the budget");
	check(covering, "a covering budget reads every record");
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

/*
 * A whole read of 2 days of 4 "hours" each (step 10 ms from 0): 8 strata,
 * boundaries 0..8, day boundaries 0, 4 and 8 from the broker.
 */
static int
whole_read_is(const int64_t *offsets, const int64_t *timestamps, int records,
			  const int64_t *day_boundaries, const int64_t *expected_boundaries,
			  const int *expected_strata)
{
	int64_t		boundaries[9] = {0};
	KprWholeRead state = {1, INT64_MIN};
	int			ok = 1;

	boundaries[0] = day_boundaries[0];
	boundaries[4] = day_boundaries[1];
	boundaries[8] = day_boundaries[2];
	for (int i = 0; i < records; i++)
	{
		int			stratum = kpr_plan_whole_record(&state, offsets[i], timestamps[i], boundaries,
													9, 4, 0, 10);

		if (stratum != expected_strata[i])
		{
			printf("# record %d (offset %lld, time %lld): stratum %d, expected %d\n", i,
				   (long long) offsets[i], (long long) timestamps[i], stratum, expected_strata[i]);
			ok = 0;
		}
	}
	kpr_plan_whole_finish(&state, boundaries, 9, 4);
	for (int b = 0; b < 9; b++)
		if (boundaries[b] != expected_boundaries[b])
		{
			printf("# boundary %d: %lld, expected %lld\n", b, (long long) boundaries[b],
				   (long long) expected_boundaries[b]);
			ok = 0;
		}
	return ok;
}

static void
test_whole_read(void)
{
	/* one record per stratum, in order: every boundary at its record */
	check(whole_read_is((int64_t[]) {0, 1, 2, 3, 4, 5, 6, 7},
						(int64_t[]) {0, 10, 20, 30, 40, 50, 60, 70}, 8,
						(int64_t[]) {0, 4, 8},
						(int64_t[]) {0, 1, 2, 3, 4, 5, 6, 7, 8},
						(int[]) {0, 1, 2, 3, 4, 5, 6, 7}),
		  "whole read in order: boundaries at each hour's first record");
	/* empty hours: 2 records in hour 0, then hour 3; day 2 empty but its last */
	check(whole_read_is((int64_t[]) {0, 1, 2, 3},
						(int64_t[]) {1, 5, 35, 75}, 4,
						(int64_t[]) {0, 3, 4},
						(int64_t[]) {0, 2, 2, 2, 3, 3, 3, 3, 4},
						(int[]) {0, 0, 3, 7}),
		  "empty hours: a boundary no record starts is the next record's, or the day's end");
	/* a late record with an old timestamp does not move a boundary back */
	check(whole_read_is((int64_t[]) {0, 1, 2, 3, 4},
						(int64_t[]) {0, 12, 3, 25, 31}, 5,
						(int64_t[]) {0, 5, 5},
						(int64_t[]) {0, 1, 3, 4, 5, 5, 5, 5, 5},
						(int[]) {0, 1, 1, 2, 3}),
		  "an older timestamp after a newer one stays in the newer one's hour (the broker's index)");
	/* timestamps past the day's end while the broker's day boundary says otherwise */
	check(whole_read_is((int64_t[]) {0, 1, 2},
						(int64_t[]) {0, 45, 46}, 3,
						(int64_t[]) {0, 2, 3},
						(int64_t[]) {0, 1, 1, 1, 2, 3, 3, 3, 3},
						(int[]) {0, 3, 4}),
		  "an hour's boundary never passes its day's boundary from the broker");
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
	test_budget_properties();
	test_runs();
	test_run_properties();
	test_probe();
	test_whole_read();
	test_day_may_be_cut();
	return tap_finish();
}
