/*
 * sample_plan.c
 *		The plan of kpr.sample_topics (see sample_plan.h): budgets, run
 *		layout, search probes, the boundaries of a whole read and the
 *		retention rule.
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
kpr_plan_stratum_budgets(const int64_t *stratum_records, int strata, int64_t max_records,
						 int64_t *budget)
{
	int64_t		total = 0;
	int64_t		nonempty = 0;
	int64_t		floor_share;
	int64_t		left;
	int64_t		untaken = 0;
	int64_t		untaken_so_far = 0;
	int64_t		given_so_far = 0;

	for (int s = 0; s < strata; s++)
	{
		budget[s] = 0;
		total += stratum_records[s];
		nonempty += stratum_records[s] > 0;
	}
	if (total <= 0 || max_records <= 0)
		return;
	if (max_records >= total)
	{
		for (int s = 0; s < strata; s++)
			budget[s] = stratum_records[s];
		return;
	}

	floor_share = min64(KPR_SAMPLE_STRATUM_MINIMUM, max_records / nonempty);
	if (floor_share == 0)
	{
		/* fewer records than strata: one each to evenly spaced strata */
		int64_t		j = 0;

		for (int s = 0; s < strata; s++)
			if (stratum_records[s] > 0)
			{
				budget[s] = (j + 1) * max_records / nonempty - j * max_records / nonempty;
				j++;
			}
		return;
	}

	left = max_records;
	for (int s = 0; s < strata; s++)
	{
		budget[s] = min64(stratum_records[s], floor_share);
		left -= budget[s];
		untaken += stratum_records[s] - budget[s];
	}
	/*
	 * The rest by cumulative rounding: stratum s gets
	 * floor(left * U(s) / U) - floor(left * U(s-1) / U), U(s) the untaken
	 * records of strata 0..s.  left < U (the budget does not cover), so no
	 * stratum gets more than its untaken records.  The products need 128
	 * bits: left fits 63, U(s) too.
	 */
	for (int s = 0; s < strata && untaken > 0; s++)
	{
		int64_t		given;

		untaken_so_far += stratum_records[s] - budget[s];
		given = (int64_t) ((__int128) left * untaken_so_far / untaken);
		budget[s] += given - given_so_far;
		given_so_far = given;
	}
}

int
kpr_plan_stratum_runs(int64_t records, int64_t budget, int runs_wanted)
{
	if (records <= 0 || budget <= 0)
		return 0;
	if (budget >= records)
		return 1;
	return (int) max64(1, min64(runs_wanted, budget / 2));
}

uint64_t
kpr_plan_mix(uint64_t a, uint64_t b)
{
	uint64_t	z = a * UINT64_C(0x9e3779b97f4a7c15) + b + UINT64_C(0x632be59bd9b4e019);

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

KprSampleRun
kpr_plan_stratum_run(int64_t records, int64_t budget, int runs_wanted, int run, uint64_t seed)
{
	KprSampleRun result = {0, 0};
	int			runs = kpr_plan_stratum_runs(records, budget, runs_wanted);
	int64_t		segment_start;
	int64_t		segment_length;
	int64_t		slack;

	if (run < 0 || run >= runs)
		return result;
	budget = min64(budget, records);
	segment_start = records * run / runs;
	segment_length = records * (run + 1) / runs - segment_start;
	result.length = min64(budget * (run + 1) / runs - budget * run / runs, segment_length);
	slack = segment_length - result.length;
	result.start = segment_start +
		(slack > 0 ? (int64_t) (kpr_plan_mix(seed, (uint64_t) run) % (uint64_t) (slack + 1)) : 0);
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

int
kpr_plan_whole_record(KprWholeRead *state, int64_t offset, int64_t timestamp,
					  int64_t *boundary_offsets, int boundary_count, int per_day,
					  int64_t first_ms, int64_t step_ms)
{
	int			last = boundary_count - 1;

	if (timestamp > state->max_timestamp)
		state->max_timestamp = timestamp;
	while (state->next_boundary < last)
	{
		int			b = state->next_boundary;

		if (b % per_day == 0)
		{
			if (offset < boundary_offsets[b])
				break;
		}
		else
		{
			int64_t		day_end = boundary_offsets[b - b % per_day + per_day];

			if (offset < day_end && state->max_timestamp < first_ms + b * step_ms)
				break;
			boundary_offsets[b] = min64(offset, day_end);
		}
		state->next_boundary++;
	}
	return state->next_boundary - 1;
}

void
kpr_plan_whole_finish(const KprWholeRead *state, int64_t *boundary_offsets, int boundary_count,
					  int per_day)
{
	for (int b = state->next_boundary; b < boundary_count - 1; b++)
		if (b % per_day != 0)
			boundary_offsets[b] = boundary_offsets[b - b % per_day + per_day];
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
