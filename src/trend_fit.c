/*
 * trend_fit.c
 *		The Theil-Sen line and Sen's interval of its slope (see trend_fit.h).
 */
#include "trend_fit.h"

#include <math.h>

/* two-sided 95% quantile of the standard normal distribution */
#define Z_95 1.959963984540054

/*
 * The k-th smallest (0-based) of values[0 .. count - 1], by quickselect:
 * partitions in place around the median of three, Hoare's way (equal values
 * stop both scans, so runs of equal slopes, the rule for a steady trend,
 * split evenly), and keeps the side that holds k.  Linear on average where
 * sorting is n log n; the view fits one trend per topic.  Afterwards every
 * value left of k is <= it and every value right of it >= it, so further
 * ranks can be selected from the same array.
 */
static double
select_rank(double *values, size_t count, size_t k)
{
	size_t		left = 0;
	size_t		right = count - 1;

	while (left < right)
	{
		size_t		middle = left + (right - left) / 2;
		double		a = values[left];
		double		b = values[middle];
		double		c = values[right];
		double		pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
		size_t		i = left;
		size_t		j = right;

		for (;;)
		{
			while (values[i] < pivot)
				i++;
			while (values[j] > pivot)
				j--;
			if (i >= j)
				break;
			{
				double		swap = values[i];

				values[i] = values[j];
				values[j] = swap;
			}
			i++;
			j--;
		}
		/* values[left .. j] <= pivot <= values[j + 1 .. right] */
		if (k <= j)
			right = j;
		else
			left = j + 1;
	}
	return values[k];
}

/* The median of values[0 .. count - 1], reordered in place; count > 0. */
static double
median_of(double *values, size_t count)
{
	double		upper = select_rank(values, count, count / 2);

	if (count % 2 == 1)
		return upper;
	/* the lower middle is the largest left of the upper one; halves first,
	 * so two values near DBL_MAX cannot overflow */
	{
		double		lower = values[0];

		for (size_t i = 1; i < count / 2; i++)
			if (values[i] > lower)
				lower = values[i];
		return lower / 2 + upper / 2;
	}
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

	trend->slope = median_of(work, pairs);

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
	trend->slope_low = select_rank(work, pairs, low - 1);
	trend->slope_high = select_rank(work, pairs, high - 1);

	for (int i = 0; i < n; i++)
		work[i] = y[i] - trend->slope * x[i];
	trend->intercept = median_of(work, (size_t) n);
	return true;
}
