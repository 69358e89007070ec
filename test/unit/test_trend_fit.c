/*
 * test_trend_fit.c
 *		Unit tests of src/trend_fit.c: hand-computed lines (exact, with a
 *		spike, with gaps, flat, shrinking), Sen's interval on a small case
 *		worked by hand, the degenerate inputs, and a noisy line whose true
 *		slope the interval covers about 95% of the time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../src/trend_fit.h"
#include "tap.h"

static int
near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * (fabs(b) + 1);
}

static KprTrend
fit(const double *x, const double *y, int n, bool *fitted)
{
	double	   *work = malloc(kpr_trend_work_size(n) * sizeof(double) + 1);
	KprTrend	trend;

	*fitted = kpr_theil_sen(x, y, n, work, &trend);
	free(work);
	return trend;
}

static void
test_lines(void)
{
	double		x[28];
	double		y[28];
	bool		fitted;
	KprTrend	t;

	/* 28 days on y = 1000 + 50 x, x = -28 .. -1 */
	for (int i = 0; i < 28; i++)
	{
		x[i] = i - 28;
		y[i] = 1000 + 50 * x[i];
	}
	t = fit(x, y, 28, &fitted);
	check(fitted && t.points == 28, "a line of 28 points is fitted");
	check(near(t.slope, 50) && near(t.intercept, 1000),
		  "exact line: slope 50, intercept 1000 (got %g, %g)", t.slope, t.intercept);
	check(near(t.slope_low, 50) && near(t.slope_high, 50),
		  "exact line: interval of width 0 (got %g .. %g)", t.slope_low, t.slope_high);

	/* one spike day, 100 times the level: the line does not move */
	y[20] = 100 * y[20];
	t = fit(x, y, 28, &fitted);
	check(near(t.slope, 50) && near(t.intercept, 1000),
		  "a spike day leaves slope 50 and intercept 1000 (got %g, %g)", t.slope, t.intercept);
	check(near(t.slope_low, 50) && near(t.slope_high, 50),
		  "the 27 spiked pair slopes fall outside Sen's ranks (got %g .. %g)",
		  t.slope_low, t.slope_high);

	/* gaps: every third day only, still on the line */
	{
		double		gx[10];
		double		gy[10];

		for (int i = 0; i < 10; i++)
		{
			gx[i] = -28 + 3 * i;
			gy[i] = 1000 + 50 * gx[i];
		}
		t = fit(gx, gy, 10, &fitted);
		check(fitted && near(t.slope, 50) && near(t.intercept, 1000),
			  "gaps: slope 50, intercept 1000 (got %g, %g)", t.slope, t.intercept);
	}

	/* flat and shrinking */
	for (int i = 0; i < 28; i++)
		y[i] = 7;
	t = fit(x, y, 28, &fitted);
	check(t.slope == 0 && t.intercept == 7 && t.slope_low == 0 && t.slope_high == 0,
		  "flat: slope 0, intercept 7");
	for (int i = 0; i < 28; i++)
		y[i] = 500 - 10 * x[i];
	t = fit(x, y, 28, &fitted);
	check(near(t.slope, -10) && near(t.intercept, 500) && t.slope_high < 0,
		  "shrinking: slope -10, intercept 500, interval below 0 (got %g, %g, high %g)",
		  t.slope, t.intercept, t.slope_high);
}

/*
 * Five points, by hand: x = 0..4, y = 0, 2, 1, 5, 4.  The ten pair slopes,
 * sorted: -1, -1, 1/2, 2/3, 1, 3/2, 3/2, 5/3, 2, 4 -> median (1 + 3/2)/2 =
 * 5/4.  Residuals y - 5/4 x: 0, 3/4, -3/2, 5/4, -1 -> median 0.
 * Interval: variance 5*4*15/18 = 50/3, C = 1.96 sqrt(50/3) = 8.0015;
 * ranks floor((10 - 8.0015)/2) = 0 -> 1 and ceil((10 + 8.0015)/2) + 1 = 11
 * -> 10: the whole range -1 .. 4.
 */
static void
test_hand_case(void)
{
	double		x[5] = {0, 1, 2, 3, 4};
	double		y[5] = {0, 2, 1, 5, 4};
	bool		fitted;
	KprTrend	t = fit(x, y, 5, &fitted);

	check(fitted && near(t.slope, 1.25), "five points: slope 5/4 (got %g)", t.slope);
	check(near(t.intercept, 0), "five points: intercept 0 (got %g)", t.intercept);
	check(t.slope_low == -1 && t.slope_high == 4,
		  "five points: interval -1 .. 4 (got %g .. %g)", t.slope_low, t.slope_high);
}

static void
test_degenerate(void)
{
	double		x[3] = {5, 5, 5};
	double		y[3] = {1, 2, 3};
	bool		fitted;
	KprTrend	t;

	t = fit(x, y, 0, &fitted);
	check(!fitted && t.points == 0, "no points: no line");
	t = fit(x, y, 1, &fitted);
	check(!fitted && t.points == 1, "one point: no line");
	t = fit(x, y, 3, &fitted);
	check(!fitted && t.points == 3, "three points on one x: no line");

	/* two distinct x among repeats: only the pairs across them count */
	{
		double		rx[3] = {0, 0, 2};
		double		ry[3] = {1, 3, 6};

		t = fit(rx, ry, 3, &fitted);
		/* slopes (6-1)/2 = 2.5 and (6-3)/2 = 1.5 -> 2; residuals 1, 3, 2 -> 2 */
		check(fitted && near(t.slope, 2) && near(t.intercept, 2),
			  "repeated x: slope 2, intercept 2 (got %g, %g)", t.slope, t.intercept);
	}
}

/*
 * 28 days on y = 1000 + 5 x with independent noise of standard deviation
 * 100: over 2,000 seeds, Sen's interval covers the true slope 5 in at least
 * 93% of them (its nominal 95%, rounded outwards).
 */
static void
test_coverage(void)
{
	int			covered = 0;
	int			trials = 2000;

	srand(20261208);
	for (int trial = 0; trial < trials; trial++)
	{
		double		x[28];
		double		y[28];
		bool		fitted;
		KprTrend	t;

		for (int i = 0; i < 28; i++)
		{
			/* a normal deviate from two uniforms (Box-Muller) */
			double		u1 = (rand() + 1.0) / (RAND_MAX + 2.0);
			double		u2 = (rand() + 1.0) / (RAND_MAX + 2.0);

			x[i] = i - 28;
			y[i] = 1000 + 5 * x[i] + 100 * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
		}
		t = fit(x, y, 28, &fitted);
		if (fitted && t.slope_low <= 5 && 5 <= t.slope_high)
			covered++;
	}
	check(covered >= trials * 93 / 100,
		  "noisy line: the interval covers the true slope in %d of %d fits", covered, trials);
}

int
main(void)
{
	test_lines();
	test_hand_case();
	test_degenerate();
	test_coverage();
	return tap_finish();
}
