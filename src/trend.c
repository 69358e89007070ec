/*
 * trend.c
 *		The aggregate kpr.theil_sen(x, y): a line through points that one
 *		outlier cannot tilt, for the view's growth trend (the fit itself is
 *		trend_fit.c, PostgreSQL-free).
 *
 * The transition function keeps the points in the aggregate's memory
 * context; the final function fits them and returns a kpr.trend row without
 * changing the state, so the aggregate also works as a window function.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/memutils.h"

#include "trend_fit.h"

PG_FUNCTION_INFO_V1(kpr_trend_accum);
PG_FUNCTION_INFO_V1(kpr_trend_final);

/*
 * Points a fit takes: its pair slopes need n(n - 1)/2 doubles, 64 MB at
 * this many; a daily trend over ten years needs 3,653.
 */
#define MAX_TREND_POINTS	4000

typedef struct TrendPoints
{
	int			count;
	int			capacity;
	double	   *x;
	double	   *y;
} TrendPoints;

Datum
kpr_trend_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggregate_context;
	TrendPoints *points;
	double		x;
	double		y;

	if (!AggCheckCallContext(fcinfo, &aggregate_context))
		elog(ERROR, "kpr_trend_accum called in a non-aggregate context");

	points = PG_ARGISNULL(0) ? NULL : (TrendPoints *) PG_GETARG_POINTER(0);
	/* a point with a NULL coordinate is not a point */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (points == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(points);
	}
	x = PG_GETARG_FLOAT8(1);
	y = PG_GETARG_FLOAT8(2);
	if (!isfinite(x) || !isfinite(y))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("kpr.theil_sen cannot fit the point (%g, %g)", x, y),
				 errhint("Pass finite numbers, or NULL to leave the point out.")));

	if (points == NULL)
	{
		points = MemoryContextAllocZero(aggregate_context, sizeof(TrendPoints));
		points->capacity = 32;
		points->x = MemoryContextAlloc(aggregate_context, points->capacity * sizeof(double));
		points->y = MemoryContextAlloc(aggregate_context, points->capacity * sizeof(double));
	}
	else if (points->count >= MAX_TREND_POINTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("kpr.theil_sen fits at most %d points", MAX_TREND_POINTS),
				 errhint("Fit fewer points: ten years of days are 3,653 points.")));
	else if (points->count == points->capacity)
	{
		points->capacity *= 2;
		points->x = repalloc(points->x, points->capacity * sizeof(double));
		points->y = repalloc(points->y, points->capacity * sizeof(double));
	}
	points->x[points->count] = x;
	points->y[points->count] = y;
	points->count++;
	PG_RETURN_POINTER(points);
}

Datum
kpr_trend_final(PG_FUNCTION_ARGS)
{
	TrendPoints *points;
	TupleDesc	descriptor;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	KprTrend	trend;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	points = (TrendPoints *) PG_GETARG_POINTER(0);

	if (get_call_result_type(fcinfo, NULL, &descriptor) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "kpr_trend_final must return a composite type");
	descriptor = BlessTupleDesc(descriptor);

	values[0] = Int32GetDatum(points->count);
	if (kpr_theil_sen(points->x, points->y, points->count,
					  palloc(kpr_trend_work_size(points->count) * sizeof(double)),
					  &trend))
	{
		values[1] = Float8GetDatum(trend.slope);
		values[2] = Float8GetDatum(trend.intercept);
		values[3] = Float8GetDatum(trend.slope_low);
		values[4] = Float8GetDatum(trend.slope_high);
	}
	else
		nulls[1] = nulls[2] = nulls[3] = nulls[4] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls)));
}
