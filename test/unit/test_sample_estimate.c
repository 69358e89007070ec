/*
 * test_sample_estimate.c
 *		Unit tests of src/sample_estimate.c: hand-computed cases (the
 *		arithmetic beside each), then the plan and the estimate together on
 *		synthetic days whose truth is known: issue 15's day (a burst hour of
 *		large records), and the coverage of the stated interval over many
 *		seeds on days whose sizes cluster in time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/sample_estimate.h"
#include "../../src/sample_plan.h"
#include "tap.h"

/* A stratum of N records whose sample is the given runs of sizes. */
static KprStratumSample
stratum_of(int64_t records, int run_count, const int *run_lengths, const double *sizes)
{
	KprStratumSample s;
	int			next = 0;

	memset(&s, 0, sizeof(s));
	s.records = records;
	for (int r = 0; r < run_count; r++)
	{
		for (int i = 0; i < run_lengths[r]; i++)
			kpr_sample_add(&s, sizes[next++]);
		kpr_sample_end_run(&s);
	}
	return s;
}

static int
near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * (fabs(b) + 1);
}

static void
test_hand_cases(void)
{
	KprStratumSample one_run = stratum_of(10, 1, (int[]) {2}, (double[]) {1, 3});
	KprStratumSample two_runs = stratum_of(100, 2, (int[]) {2, 2}, (double[]) {1, 1, 5, 5});
	KprStratumSample covered = stratum_of(3, 1, (int[]) {3}, (double[]) {10, 20, 40});
	KprStratumSample uniform = stratum_of(1000, 2, (int[]) {3, 3},
										  (double[]) {250, 250, 250, 250, 250, 250});
	const KprStratumSample *p[1];
	KprDayEstimate e;

	/* mean 2, 20 bytes; s^2 = 2, (1 - 2/10) * 2 / 2 * 10^2 = 80 */
	p[0] = &one_run;
	e = kpr_estimate_day(p, 1, 1);
	check(near(e.bytes, 20) && near(e.bytes_variance, 80) && !e.exact,
		  "one run of 1, 3 in 10 records: 20 bytes, variance 80");

	/*
	 * mean 3: 300 bytes.  Within: 16 / 3; between run means 1 and 5: 8, times
	 * 2 records per run = 16, the larger.  100^2 (1 - 4/100) 16 / 4 = 38400.
	 */
	p[0] = &two_runs;
	e = kpr_estimate_day(p, 1, 1);
	check(near(e.bytes, 300) && near(e.bytes_variance, 38400),
		  "runs of 1, 1 and 5, 5 in 100 records: 300 bytes, variance 38400 (between runs)");

	p[0] = &covered;
	e = kpr_estimate_day(p, 1, 1);
	check(e.bytes == 70 && e.bytes_variance == 0 && e.exact,
		  "every record read: 70 bytes exactly, variance 0, exact");

	p[0] = &uniform;
	e = kpr_estimate_day(p, 1, 1);
	check(e.bytes == 250000 && e.bytes_variance == 0 && !e.exact,
		  "equal sizes: 250000 bytes, variance exactly 0, not exact (not every record read)");
}

static void
test_peak_by_bytes(void)
{
	/* hour 0: 100 records of 10 B; hour 1: 50 of 100 B; both read whole */
	double		small[100];
	double		large[50];
	KprStratumSample hours[2];
	const KprStratumSample *p[1] = {hours};
	KprDayEstimate e;

	for (int i = 0; i < 100; i++)
		small[i] = 10;
	for (int i = 0; i < 50; i++)
		large[i] = 100;
	hours[0] = stratum_of(100, 1, (int[]) {100}, small);
	hours[1] = stratum_of(50, 1, (int[]) {50}, large);
	e = kpr_estimate_day(p, 1, 2);
	check(e.peak_stratum == 1 && e.peak_bytes == 5000 && e.peak_variance == 0 && e.bytes == 6000,
		  "the busiest hour by bytes (50 x 100 B), not by records (100 x 10 B)");
}

static void
test_unsampled(void)
{
	KprStratumSample hours[2];
	const KprStratumSample *p[1] = {hours};
	KprDayEstimate e;

	/* hour 1 has records and no sample: the partition's mean, day spread as error */
	hours[0] = stratum_of(10, 1, (int[]) {2}, (double[]) {4, 6});
	memset(&hours[1], 0, sizeof(hours[1]));
	hours[1].records = 10;
	e = kpr_estimate_day(p, 1, 2);
	/* 50 + 10 * 5; variances (1 - 2/10) * 2 / 2 * 100 = 80 and 10^2 * 2 = 200 */
	check(near(e.bytes, 100) && near(e.bytes_variance, 280),
		  "an unsampled hour takes its partition's mean: 100 bytes, variance 80 + 200");

	memset(&hours[0], 0, sizeof(hours[0]));
	hours[0].records = 5;
	hours[1] = stratum_of(10, 1, (int[]) {1}, (double[]) {7});
	e = kpr_estimate_day(p, 1, 2);
	check(near(e.bytes, 105) && isnan(e.bytes_variance),
		  "one record read of the day: 105 bytes, variance not estimable (NaN)");

	memset(hours, 0, sizeof(hours));
	e = kpr_estimate_day(p, 1, 2);
	check(e.bytes == 0 && e.bytes_variance == 0 && e.exact && e.records == 0,
		  "no records: 0 bytes, exact");
}

/*
 * A synthetic partition: hours[h] records, size_of(h, i) the size of record
 * i of hour h.  The plan picks runs, the estimate uses what they read.
 */
typedef double (*SizeRule) (int hour, int64_t i, uint64_t population);

static KprDayEstimate
sample_day(const int64_t *hours, SizeRule size_of, uint64_t population, int64_t budget,
		   uint64_t seed, double *true_bytes, double *true_peak)
{
	int64_t		share[24];
	KprStratumSample strata[24];
	const KprStratumSample *p[1] = {strata};

	*true_bytes = 0;
	*true_peak = 0;
	kpr_plan_stratum_budgets(hours, 24, budget, share);
	for (int h = 0; h < 24; h++)
	{
		int			runs = kpr_plan_stratum_runs(hours[h], share[h], KPR_SAMPLE_RUNS_PER_HOUR);
		double		hour_bytes = 0;

		memset(&strata[h], 0, sizeof(strata[h]));
		strata[h].records = hours[h];
		for (int r = 0; r < runs; r++)
		{
			KprSampleRun run = kpr_plan_stratum_run(hours[h], share[h], KPR_SAMPLE_RUNS_PER_HOUR,
													r, kpr_plan_mix(seed, (uint64_t) h));

			for (int64_t i = run.start; i < run.start + run.length; i++)
				kpr_sample_add(&strata[h], size_of(h, i, population));
			kpr_sample_end_run(&strata[h]);
		}
		for (int64_t i = 0; i < hours[h]; i++)
			hour_bytes += size_of(h, i, population);
		*true_bytes += hour_bytes;
		if (hour_bytes > *true_peak)
			*true_peak = hour_bytes;
	}
	return kpr_estimate_day(p, 1, 24);
}

/*
 * Issue 15's day: 4,001 records of 100 B over the day, 1,000 of 2,000 B in
 * 05:00-06:00; hour 5 then holds 167 small ones among the large (interleaved
 * in time order, as the fixture writes them).
 */
static double
burst_hour_size(int hour, int64_t i, uint64_t population)
{
	(void) population;
	if (hour != 5)
		return 100;
	/* 1167 records: 167 small ones spread among 1000 large */
	return (i * 167) % 1167 < 167 ? 100 : 2000;
}

static void
test_burst_hour(void)
{
	int64_t		hours[24];
	double		true_bytes,
				true_peak;
	KprDayEstimate e;

	for (int h = 0; h < 24; h++)
		hours[h] = 4001 / 24 + (h < 4001 % 24);
	hours[5] = 1167;
	e = sample_day(hours, burst_hour_size, 0, 1000, 1, &true_bytes, &true_peak);
	check(e.peak_stratum == 5, "burst day: the busiest hour is hour 5");
	check(fabs(e.peak_bytes - true_peak) <= 1.96 * sqrt(e.peak_variance) &&
		  fabs(e.peak_bytes - true_peak) < 0.05 * true_peak,
		  "burst day, budget 1000: peak %.0f B within 1.96 x %.0f of the truth %.0f (and 5%%)",
		  e.peak_bytes, sqrt(e.peak_variance), true_peak);
	check(fabs(e.bytes - true_bytes) <= 1.96 * sqrt(e.bytes_variance),
		  "burst day, budget 1000: bytes %.0f within 1.96 x %.0f of the truth %.0f",
		  e.bytes, sqrt(e.bytes_variance), true_bytes);
	e = sample_day(hours, burst_hour_size, 0, 10000, 1, &true_bytes, &true_peak);
	check(e.exact && e.bytes == true_bytes && e.peak_bytes == true_peak && e.bytes_variance == 0,
		  "burst day, budget 10000: every record read, bytes and peak exact");
}

/*
 * Sizes that cluster in time: each hour is made of blocks of 50 records,
 * each block of one size drawn from 50..5000 B (a producer sending a batch
 * of similar records), and the hour's level varies through the day.
 */
static double
clustered_size(int hour, int64_t i, uint64_t population)
{
	uint64_t	block = kpr_plan_mix(population, (uint64_t) hour * 1000003 + (uint64_t) (i / 50));
	double		level = 1 + (hour >= 8 && hour < 18 ? 2 : 0);

	return level * (50 + (double) (block % 1600));
}

/* Sizes drawn independently for every record: 100..1100 B, twice that in the day. */
static double
independent_size(int hour, int64_t i, uint64_t population)
{
	uint64_t	draw = kpr_plan_mix(population, (uint64_t) hour * 1000003 + (uint64_t) i);

	return (hour >= 8 && hour < 18 ? 2 : 1) * (100 + (double) (draw % 1001));
}

static void
coverage_of(SizeRule size_of, const char *what, int bytes_percent, int peak_percent)
{
	int64_t		hours[24];
	int			trials = 400;
	int			bytes_inside = 0,
				peak_inside = 0;

	for (int h = 0; h < 24; h++)
		hours[h] = 2000 + 300 * (h % 7);
	for (int t = 0; t < trials; t++)
	{
		double		true_bytes,
					true_peak;
		KprDayEstimate e = sample_day(hours, size_of, (uint64_t) t, 1000, (uint64_t) t + 7,
									  &true_bytes, &true_peak);

		bytes_inside += fabs(e.bytes - true_bytes) <= 1.96 * sqrt(e.bytes_variance);
		peak_inside += fabs(e.peak_bytes - true_peak) <= 1.96 * sqrt(e.peak_variance);
	}
	/* how often a 95% interval holds the truth, against a floor (percent) */
	check(bytes_inside * 100 >= trials * bytes_percent,
		  "%s, budget 1000 of 55,200: bytes within 1.96 standard errors in %d of %d days (floor %d%%)",
		  what, bytes_inside, trials, bytes_percent);
	check(peak_inside * 100 >= trials * peak_percent,
		  "%s: the busiest hour within 1.96 standard errors in %d of %d days (floor %d%%)",
		  what, peak_inside, trials, peak_percent);
}

/*
 * 400 seeds each.  Independent sizes: the interval is the textbook one, and
 * 400 trials put its 95% above 92%.  Sizes in blocks of 50 equal records:
 * an hour's 2 runs then land in 2 blocks, its variance has one degree of
 * freedom, and the interval holds less often than it says, most of all for
 * the peak (one hour); these floors say how much less.
 */
static void
test_coverage(void)
{
	coverage_of(independent_size, "independent sizes", 92, 92);
	coverage_of(clustered_size, "sizes in blocks of 50", 91, 80);
}

int
main(void)
{
	test_hand_cases();
	test_peak_by_bytes();
	test_unsampled();
	test_burst_hour();
	test_coverage();
	return tap_finish();
}
