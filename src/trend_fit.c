/*
 * trend_fit.c
 *		The Theil-Sen line and Sen's interval of its slope (see trend_fit.h).
 */
#include "trend_fit.h"

#include <math.h>
#include <stdlib.h>

/* two-sided 95% quantile of the standard normal distribution */
#define Z_95 1.959963984540054

static int
compare_doubles(const void *a, const void *b)
{
	double		left = *(const double *) a;
	double		right = *(const double *) b;

	return (left > right) - (left < right);
}

/* The median of values[0 .. count - 1], sorted in place; count > 0. */
static double
median_of(double *values, size_t count)
{
	qsort(values, count, sizeof(double), compare_doubles);
	if (count % 2 == 1)
		return values[count / 2];
	/* halves first, so two values near DBL_MAX cannot overflow */
	return values[count / 2 - 1] / 2 + values[count / 2] / 2;
}

size_t
kpr_trend_work_size(int n)
{
	size_t		points = n > 0 ? (size_t) n : 0;
	size_t		pairs = points * (points > 0 ? points - 1 : 0) / 2;

	/* the residuals reuse the array after the pairs are done */
	return pairs > points ? pairs : points;
}

bool
kpr_theil_sen(const double *x, const double *y, int n, double *work, KprTrend *trend)
{
	size_t		pairs = 0;
	double		variance;
	double		spread;
	double		low_rank;
	double		high_rank;
	size_t		low;
	size_t		high;

	trend->points = n;
	trend->slope = trend->intercept = trend->slope_low = trend->slope_high = 0;

	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (x[j] != x[i])
				work[pairs++] = (y[j] - y[i]) / (x[j] - x[i]);
	if (pairs == 0)
		return false;

	trend->slope = median_of(work, pairs);	/* sorts work */

	/*
	 * Sen's interval: ranks (N - C) / 2 and (N + C) / 2 + 1 (1-based) of the
	 * sorted slopes, rounded outwards and kept inside 1 .. N.
	 */
	variance = (double) n * (n - 1) * (2.0 * n + 5) / 18;
	spread = Z_95 * sqrt(variance);
	low_rank = floor((pairs - spread) / 2);
	high_rank = ceil((pairs + spread) / 2) + 1;
	low = low_rank < 1 ? 1 : (size_t) low_rank;
	high = high_rank > (double) pairs ? pairs : (size_t) high_rank;
	trend->slope_low = work[low - 1];
	trend->slope_high = work[high - 1];

	for (int i = 0; i < n; i++)
		work[i] = y[i] - trend->slope * x[i];
	trend->intercept = median_of(work, (size_t) n);
	return true;
}
