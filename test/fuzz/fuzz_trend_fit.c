/*
 * fuzz_trend_fit.c
 *		Fuzz target: kpr_theil_sen on any points.
 *
 * The input is read as pairs of little-endian 16-bit integers (x, y), at
 * most 64 points; the last odd bytes are left out.  Invariants, besides no
 * sanitizer report: a line exactly when two x differ; the slope and Sen's
 * interval lie within the pair slopes and in order, low <= slope <= high;
 * the intercept is finite; and the same points in reverse order give the
 * same line (the fit does not depend on their order).
 */
#include <math.h>
#include <stdlib.h>

#include "../../src/trend_fit.h"
#include "fuzz.h"

#define MAX_POINTS 64

const char *const fuzz_target_name = "trend_fit";
const char *const fuzz_dictionary[] = {"\x00\x00\x00\x00", "\xff\x7f\xff\x7f", "\x00\x80\x00\x80",
	"\x01\x00\x01\x00", NULL};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double		x[MAX_POINTS];
	double		y[MAX_POINTS];
	double		reversed_x[MAX_POINTS];
	double		reversed_y[MAX_POINTS];
	int			n = 0;
	double	   *work;
	double		lowest = INFINITY;
	double		highest = -INFINITY;
	KprTrend	trend;
	KprTrend	reversed;
	bool		fitted;
	bool		reversed_fitted;

	for (size_t i = 0; i + 4 <= size && n < MAX_POINTS; i += 4, n++)
	{
		x[n] = (int16_t) (data[i] | data[i + 1] << 8);
		y[n] = (int16_t) (data[i + 2] | data[i + 3] << 8);
	}
	for (int i = 0; i < n; i++)
	{
		reversed_x[i] = x[n - 1 - i];
		reversed_y[i] = y[n - 1 - i];
		for (int j = i + 1; j < n; j++)
			if (x[j] != x[i])
			{
				double		slope = (y[j] - y[i]) / (x[j] - x[i]);

				lowest = fmin(lowest, slope);
				highest = fmax(highest, slope);
			}
	}

	work = malloc(kpr_trend_work_size(n) * sizeof(double) + 1);
	FUZZ_CHECK(work != NULL);
	fitted = kpr_theil_sen(x, y, n, work, &trend);
	reversed_fitted = kpr_theil_sen(reversed_x, reversed_y, n, work, &reversed);
	free(work);

	FUZZ_CHECK(trend.points == n);
	FUZZ_CHECK(fitted == (lowest <= highest));
	FUZZ_CHECK(reversed_fitted == fitted);
	if (fitted)
	{
		FUZZ_CHECK(lowest <= trend.slope_low);
		FUZZ_CHECK(trend.slope_low <= trend.slope);
		FUZZ_CHECK(trend.slope <= trend.slope_high);
		FUZZ_CHECK(trend.slope_high <= highest);
		FUZZ_CHECK(isfinite(trend.intercept));
		FUZZ_CHECK(reversed.slope == trend.slope);
		FUZZ_CHECK(reversed.slope_low == trend.slope_low);
		FUZZ_CHECK(reversed.slope_high == trend.slope_high);
		FUZZ_CHECK(reversed.intercept == trend.intercept);
	}
	return 0;
}
