/*
 * test_sample_order.c
 *		Unit tests of src/sample_order.c: hand-computed cases, then the
 *		interval's coverage over many seeds for a late batch of old records
 *		that lies somewhere in a stratum sampled by runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/sample_order.h"
#include "../../src/sample_plan.h"
#include "tap.h"

static int
near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * (fabs(b) + 1);
}

/* A stratum whose runs read the given numbers of records, out[r] of each out of the day. */
static KprStratumOrder
order_of(int run_count, const int *lengths, const int *out)
{
	KprStratumOrder s;

	memset(&s, 0, sizeof(s));
	for (int r = 0; r < run_count; r++)
	{
		for (int i = 0; i < lengths[r]; i++)
			kpr_order_add(&s, i < out[r], false, true, false, 100);
		kpr_order_end_run(&s);
	}
	return s;
}

static void
test_hand_cases(void)
{
	KprStratumOrder covered = order_of(1, (int[]) {1500}, (int[]) {500});
	KprStratumOrder none = order_of(3, (int[]) {10, 10, 10}, (int[]) {0, 0, 0});
	KprStratumOrder one_run = order_of(3, (int[]) {10, 10, 10}, (int[]) {10, 0, 0});
	KprStratumOrder single = order_of(1, (int[]) {10}, (int[]) {10});
	KprStratumOrder still_reading;

	/* issue 21's day -1: all 1,500 records read, 500 of them two days old */
	check(near(kpr_order_scale(&covered, 1500), 1), "a covered stratum: each record stands for one");
	check(near(kpr_order_out_of_day(&covered, 1500), 500), "a covered stratum: exactly what was seen out of the day");
	check(kpr_order_out_of_day_variance(&covered, 1500) == 0, "a covered stratum: no variance");
	check(covered.out_of_day_bytes == 50000, "the bytes of the records out of their day");

	check(kpr_order_out_of_day(&none, 300) == 0 && kpr_order_out_of_day_variance(&none, 300) == 0,
		  "nothing seen: 0, variance 0 (the day's unseen bound is the caller's)");

	/*
	 * 3 runs of 10, one wholly out of day: p = 1/3, N = 300 -> 100.  Runs'
	 * deviations: (10 - 10/3)^2 + 2 (10/3)^2 = 400/9 + 200/9 = 600/9;
	 * / (3 x 2 x 10^2) = 1/9; x (1 - 30/300) x 300^2 = 9000.
	 */
	check(near(kpr_order_out_of_day(&one_run, 300), 100), "one run of three out of its day: N x 1/3");
	check(near(kpr_order_out_of_day_variance(&one_run, 300), 9000),
		  "the runs are clusters: variance 9000 (%g)", kpr_order_out_of_day_variance(&one_run, 300));

	/* a single run says nothing of the others: p (1 - p) taken at 1/4 */
	check(near(kpr_order_out_of_day_variance(&single, 100), 100.0 * 100 * 0.9 * 0.25),
		  "a single run wholly out of its day: the largest variance");

	/* a run not yet ended counts with the ended ones */
	still_reading = order_of(2, (int[]) {10, 10}, (int[]) {10, 0});
	for (int i = 0; i < 10; i++)
		kpr_order_add(&still_reading, false, i == 3, true, i < 4, 100);
	check(near(kpr_order_out_of_day_variance(&still_reading, 300),
			   kpr_order_out_of_day_variance(&one_run, 300)),
		  "the run being read counts as if it had ended");
	check(still_reading.backwards == 1 && still_reading.create_time == 30 && still_reading.keyed == 4,
		  "backwards, CreateTime and keyed records are counted");

	/* all 2 runs wholly out of day: the unread may still be the day's, up to 1 - 0.05^(1/2) */
	{
		KprStratumOrder all_out = order_of(2, (int[]) {12, 11}, (int[]) {12, 11});

		check(kpr_order_out_of_day_variance(&all_out, 542) == 0, "runs that agree: variance 0");
		check(near(kpr_order_unseen_in_day(&all_out, 542), (1 - sqrt(0.05)) * (542 - 23)),
			  "every sampled record out of its day: up to 1 - 0.05^(1/2) of the 519 unread may be in it");
		check(kpr_order_unseen_in_day(&one_run, 300) == 0 && kpr_order_unseen_in_day(&covered, 1500) == 0,
			  "records of both kinds seen, or a covered stratum: no such allowance");
	}
	check(kpr_order_unseen_share(0) == 1, "no run: anything may be out of place");
	check(near(kpr_order_unseen_share(1), 0.95), "one run: 95%%");
	check(near(kpr_order_unseen_share(3), 1 - pow(0.05, 1.0 / 3)), "three runs: 1 - 0.05^(1/3)");
	check(kpr_order_unseen_share(576) < 0.0053 && kpr_order_unseen_share(576) > 0.0051,
		  "576 runs (12 partitions x 24 hours x 2): about 0.52%%");
}

/*
 * A stratum of N records holding a late batch of B consecutive records at a
 * random place, sampled as the plan samples a day (3 runs, budget n).  The
 * interval is the one kpr.sample_topics states: +- 1.96 standard errors
 * where something was seen, and down to N x the unseen share otherwise.
 * Over many seeds it must hold the truth in at least 95% of cases.
 */
static void
test_late_batch_coverage(void)
{
	const int64_t records = 100000;
	const int64_t budget = 3000;
	int			trials = 0;
	int			held = 0;
	int			seen = 0;

	for (int64_t batch = 500; batch <= 20000; batch *= 2)
		for (uint64_t seed = 1; seed <= 200; seed++)
		{
			int64_t		start = (int64_t) (kpr_plan_mix(seed, (uint64_t) batch) % (uint64_t) (records - batch));
			int			runs = kpr_plan_stratum_runs(records, budget, 3);
			KprStratumOrder s;
			double		estimate;
			double		half;
			double		low;
			double		high;

			memset(&s, 0, sizeof(s));
			for (int r = 0; r < runs; r++)
			{
				KprSampleRun run = kpr_plan_stratum_run(records, budget, 3, r, kpr_plan_mix(seed, 77));

				for (int64_t o = run.start; o < run.start + run.length; o++)
					kpr_order_add(&s, o >= start && o < start + batch, false, true, false, 100);
				kpr_order_end_run(&s);
			}
			estimate = kpr_order_out_of_day(&s, records);
			half = KPR_ORDER_Z95 * sqrt(kpr_order_out_of_day_variance(&s, records));
			low = estimate - half;
			high = estimate + half;
			if (s.out_of_day == 0)
				high = kpr_order_unseen_share(s.runs) * (records - s.sampled);
			else
				seen++;
			trials++;
			held += low <= batch && batch <= high;
		}
	check(held >= 0.95 * trials, "a late batch: the interval holds its size in %d of %d trials (%d saw it)",
		  held, trials, seen);
}

int
main(void)
{
	test_hand_cases();
	test_late_batch_coverage();
	return tap_finish();
}
