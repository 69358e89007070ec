/*
 * trend_fit.h
 *		A straight line through a topic's daily peaks that one spike day
 *		cannot tilt: the Theil-Sen estimator, with Sen's 95% interval for
 *		its slope.
 *
 * The slope is the median of the slopes of every pair of points with
 * different x; the intercept is the median of y - slope * x.  A single spike
 * day changes n - 1 of the n(n - 1)/2 pair slopes, so the median moves by at
 * most one rank: up to about 29% of the days can be outliers before the
 * line follows them, where least squares follows the first one.  It uses the
 * points it is given, so missing days need no filling.  The interval is the
 * distribution-free one of Sen (1968): between the order statistics of the
 * pair slopes at ranks (N -+ 1.96 sqrt(n(n-1)(2n+5)/18)) / 2, rounded
 * outwards, N being the number of pair slopes.  Points exactly on a line
 * give that line, and an interval of width 0.
 *
 * PostgreSQL-free C, unit-tested by test/unit/test_trend_fit.c.
 */
#ifndef KPR_TREND_FIT_H
#define KPR_TREND_FIT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct KprTrend
{
	int			points;			/* points fitted */
	double		slope;			/* median pair slope */
	double		intercept;		/* median of y - slope * x: the line at x = 0 */
	double		slope_low;		/* Sen's 95% interval of the slope */
	double		slope_high;
} KprTrend;

/* Pair slopes of n points: the size of the work array kpr_theil_sen needs. */
extern size_t kpr_trend_work_size(int n);

/*
 * Fits the line through (x[i], y[i]), i < n, into *trend, using work (at
 * least kpr_trend_work_size(n) doubles, overwritten).  False, with
 * trend->points set and the rest 0, when fewer than two distinct x leave no
 * slope.  x and y must be finite.
 */
extern bool kpr_theil_sen(const double *x, const double *y, int n,
						  double *work, KprTrend *trend);

#endif							/* KPR_TREND_FIT_H */
