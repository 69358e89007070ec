/*
 * sample_estimate.c
 *		Estimates of a topic-day from its stratified sample (see
 *		sample_estimate.h): bytes, the busiest hour's bytes, and their
 *		variances.
 */
#include "sample_estimate.h"

#include <math.h>

void
kpr_sample_add(KprStratumSample *stratum, double bytes)
{
	double		centered;

	if (stratum->sampled == 0)
		stratum->shift = bytes;
	centered = bytes - stratum->shift;
	stratum->sampled++;
	stratum->sum += centered;
	stratum->squares += centered * centered;
	stratum->run_sampled++;
	stratum->run_sum += centered;
}

void
kpr_sample_end_run(KprStratumSample *stratum)
{
	double		mean;

	if (stratum->run_sampled == 0)
		return;
	mean = stratum->run_sum / stratum->run_sampled;
	stratum->runs++;
	stratum->run_means += mean;
	stratum->run_mean_squares += mean * mean;
	stratum->run_sampled = 0;
	stratum->run_sum = 0;
}

/* Mean record size of a stratum's sample (sampled > 0). */
static double
sample_mean(const KprStratumSample *stratum)
{
	return stratum->shift + stratum->sum / stratum->sampled;
}

/* Sum of squared deviations from the stratum's own sample mean. */
static double
deviations(const KprStratumSample *stratum)
{
	double		m2 = stratum->squares - stratum->sum * stratum->sum / stratum->sampled;

	return m2 > 0 ? m2 : 0;
}

/* The records' own variance in a stratum sampled n >= 2 times. */
static double
within_variance(const KprStratumSample *stratum)
{
	return deviations(stratum) / (stratum->sampled - 1);
}

/*
 * The variance between a stratum's run means (runs >= 2), scaled to records:
 * what the records' variance would have to be for n records drawn apart to
 * vary as much as the runs do.
 */
static double
between_runs_variance(const KprStratumSample *stratum)
{
	double		between = (stratum->run_mean_squares -
						   stratum->run_means * stratum->run_means / stratum->runs) /
		(stratum->runs - 1);

	return (between > 0 ? between : 0) * stratum->sampled / stratum->runs;
}

KprDayEstimate
kpr_estimate_day(const KprStratumSample *const *partitions, int partition_count, int strata)
{
	KprDayEstimate result = {0};
	double		stratum_bytes[KPR_ESTIMATE_MAX_STRATA] = {0};
	double		stratum_variance[KPR_ESTIMATE_MAX_STRATA] = {0};
	double		sum_of_sizes = 0;
	double		within_deviations = 0;
	int64_t		within_degrees = 0;
	double		mean;
	double		spread_deviations;
	double		pooled_within;
	double		day_spread;
	double		srs_sum = 0;
	double		runs_sum = 0;
	double		design_effect = 1;

	if (strata > KPR_ESTIMATE_MAX_STRATA)
		strata = KPR_ESTIMATE_MAX_STRATA;
	result.exact = true;

	/* the day's mean size, and its spreads within and across strata */
	for (int k = 0; k < partition_count; k++)
		for (int s = 0; s < strata; s++)
		{
			const KprStratumSample *stratum = &partitions[k][s];

			result.records += stratum->records;
			if (stratum->sampled < stratum->records)
				result.exact = false;
			if (stratum->sampled == 0)
				continue;
			result.sampled += stratum->sampled;
			sum_of_sizes += stratum->sampled * sample_mean(stratum);
			if (stratum->sampled >= 2)
			{
				within_deviations += deviations(stratum);
				within_degrees += stratum->sampled - 1;
				/* where runs tell, how much more they vary than records would */
				if (stratum->runs >= 2 && stratum->sampled < stratum->records)
				{
					double		scale = (double) stratum->records * stratum->records *
						(1 - (double) stratum->sampled / stratum->records) / stratum->sampled;

					srs_sum += scale * within_variance(stratum);
					runs_sum += scale * between_runs_variance(stratum);
				}
			}
		}
	if (srs_sum > 0 && runs_sum > srs_sum)
		design_effect = runs_sum / srs_sum;
	if (result.sampled == 0)
	{
		result.bytes_variance = result.records > 0 ? NAN : 0;
		result.peak_variance = result.bytes_variance;
		result.exact = result.records == 0;
		return result;
	}
	mean = sum_of_sizes / result.sampled;
	spread_deviations = within_deviations;
	for (int k = 0; k < partition_count; k++)
		for (int s = 0; s < strata; s++)
		{
			const KprStratumSample *stratum = &partitions[k][s];

			if (stratum->sampled > 0)
			{
				double		off = sample_mean(stratum) - mean;

				spread_deviations += stratum->sampled * off * off;
			}
		}
	day_spread = result.sampled >= 2 ? spread_deviations / (result.sampled - 1) : NAN;
	pooled_within = within_degrees > 0 ? within_deviations / within_degrees : day_spread;

	for (int k = 0; k < partition_count; k++)
	{
		const KprStratumSample *partition = partitions[k];
		int64_t		partition_sampled = 0;
		double		partition_sizes = 0;
		double		partition_mean;

		for (int s = 0; s < strata; s++)
			if (partition[s].sampled > 0)
			{
				partition_sampled += partition[s].sampled;
				partition_sizes += partition[s].sampled * sample_mean(&partition[s]);
			}
		partition_mean = partition_sampled > 0 ? partition_sizes / partition_sampled : mean;

		for (int s = 0; s < strata; s++)
		{
			const KprStratumSample *stratum = &partition[s];
			double		n = (double) stratum->sampled;
			double		records = (double) stratum->records;

			if (stratum->records <= 0)
				continue;
			if (stratum->sampled >= stratum->records)
			{
				/* every record read: its bytes exactly */
				stratum_bytes[s] += stratum->shift * n + stratum->sum;
				continue;
			}
			if (stratum->sampled == 0)
			{
				stratum_bytes[s] += records * partition_mean;
				stratum_variance[s] += records * records * day_spread;
				continue;
			}
			stratum_bytes[s] += records * sample_mean(stratum);
			if (stratum->sampled >= 2)
			{
				double		v = within_variance(stratum) * design_effect;

				if (stratum->runs >= 2 && between_runs_variance(stratum) > v)
					v = between_runs_variance(stratum);
				stratum_variance[s] += records * records * (1 - n / records) * v / n;
			}
			else
				stratum_variance[s] += records * records * (1 - n / records) *
					pooled_within * design_effect / n;
		}
	}

	result.peak_stratum = 0;
	for (int s = 0; s < strata; s++)
	{
		result.bytes += stratum_bytes[s];
		result.bytes_variance += stratum_variance[s];
		if (stratum_bytes[s] > stratum_bytes[result.peak_stratum])
			result.peak_stratum = s;
	}
	result.peak_bytes = stratum_bytes[result.peak_stratum];

	/*
	 * The busiest hour is itself chosen from estimates, and the largest of
	 * noisy figures leans high: the truth lies between the largest lower
	 * bound and the largest upper bound of the hours' 95% intervals.  The
	 * peak's standard error is widened so that its own interval reaches that
	 * upper bound (its lower bound is at most the peak hour's own).
	 */
	result.peak_variance = stratum_variance[result.peak_stratum];
	for (int s = 0; s < strata; s++)
	{
		double		reach = (stratum_bytes[s] + KPR_ESTIMATE_Z95 * sqrt(stratum_variance[s]) -
							 result.peak_bytes) / KPR_ESTIMATE_Z95;

		if (reach > 0 && reach * reach > result.peak_variance)
			result.peak_variance = reach * reach;
	}
	return result;
}
