/*
 * sample_plan.c
 *		The arithmetic of kpr.sample_topics (see sample_plan.h): budgets, run
 *		layout, search probes and the estimates of a topic-day.
 */
#include "sample_plan.h"

#define MS_PER_DAY	INT64_C(86400000)

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

void
kpr_plan_day_budgets(const int64_t *day_records, int days, int64_t max_records,
					 int64_t *budget)
{
	int64_t		total = 0;
	int64_t		given = 0;

	for (int d = 0; d < days; d++)
	{
		budget[d] = 0;
		total += day_records[d];
	}
	if (total <= 0 || max_records <= 0)
		return;
	for (int d = 0; d < days; d++)
	{
		int64_t		records = day_records[d];

		budget[d] = min64(records, (int64_t) ((double) max_records * records / total));
		/* a day with records gets at least one, while the budget lasts */
		if (records > 0 && budget[d] == 0 && given < max_records)
			budget[d] = 1;
		given += budget[d];
	}
	/* rounding up days with few records may overshoot: trim the largest */
	while (given > max_records)
	{
		int			largest = 0;

		for (int d = 1; d < days; d++)
			if (budget[d] > budget[largest])
				largest = d;
		budget[largest]--;
		given--;
	}
}

KprSampleRun
kpr_plan_day_run(int64_t day_records, int64_t budget, int run)
{
	KprSampleRun result = {0, 0};
	int64_t		runs = min64(KPR_SAMPLE_RUNS_PER_DAY, budget);
	int64_t		spacing;

	if (run < 0 || run >= runs || day_records <= 0)
		return result;
	result.start = day_records * run / runs;
	spacing = day_records * (run + 1) / runs - result.start;
	result.length = min64(budget * (run + 1) / runs - budget * run / runs, spacing);
	if (result.length < 0)
		result.length = 0;
	return result;
}

int64_t
kpr_plan_probe(int64_t lower, int64_t upper, int64_t lower_timestamp, int64_t upper_timestamp,
			   int64_t target, bool interpolate)
{
	int64_t		probe = lower + (upper - lower) / 2;

	if (interpolate && upper_timestamp > lower_timestamp)
	{
		double		fraction = (double) (target - lower_timestamp) /
			(double) (upper_timestamp - lower_timestamp + 1);

		probe = lower + (int64_t) (fraction * (double) (upper - lower));
	}
	return min64(max64(probe, lower), upper - 1);
}

double
kpr_plan_estimated_bytes(const KprPartitionDay *partitions, int partition_count)
{
	double		estimated = 0;
	int64_t		records = 0;
	int64_t		covered = 0;

	for (int i = 0; i < partition_count; i++)
	{
		records += partitions[i].records;
		if (partitions[i].sampled_records > 0)
		{
			estimated += partitions[i].records *
				(partitions[i].sampled_bytes / partitions[i].sampled_records);
			covered += partitions[i].records;
		}
	}
	/* partitions without a sample take the others' mean size */
	if (covered > 0 && covered < records)
		estimated *= (double) records / covered;
	return estimated;
}

double
kpr_plan_peak_hour_bytes(const int64_t *hour_records, int hours, int64_t day_records,
						 double day_bytes, int64_t sampled_records)
{
	double		peak = 0;

	if (day_records == 0)
		return 0;
	if (sampled_records <= 0)
		return -1;
	for (int h = 0; h < hours; h++)
	{
		double		bytes = hour_records[h] * (day_bytes / day_records);

		if (bytes > peak)
			peak = bytes;
	}
	return peak;
}

bool
kpr_plan_day_may_be_cut(int64_t day_start_ms, int64_t now_ms, int64_t retention_ms,
						const int64_t *low, const int64_t *high,
						const int64_t *first_timestamp_ms, int partition_count)
{
	bool		retention_known = retention_ms != KPR_RETENTION_UNKNOWN;
	int64_t		day_end_ms = day_start_ms + MS_PER_DAY;

	if (retention_ms >= 0 && day_start_ms < now_ms - retention_ms)
		return true;
	for (int i = 0; i < partition_count; i++)
	{
		/* the log was truncated after this day began: records may be gone */
		if (low[i] > 0 && low[i] < high[i] &&
			first_timestamp_ms[i] >= (retention_known ? day_end_ms : day_start_ms + 1))
			return true;
	}
	return false;
}
