/*
 * sample_estimate.h
 *		What a stratified sample of record sizes says about a topic-day: its
 *		bytes, its busiest hour's bytes, and the variance of both, from the
 *		sample's own spread.
 *
 * The design (sample_plan.h): every partition's records of a day are cut
 * into strata (hours where the broker answers offsets by time, else the
 * day), whose record counts are exact, from offsets; each stratum is sampled
 * by a few runs of consecutive records.  A stratum's bytes are estimated as
 * its records x its sample mean; a topic-day's bytes, and each hour's, are
 * sums of stratum estimates, and their variances sums of stratum variances
 * (the strata are sampled independently).
 *
 * A stratum's variance is N^2 (1 - n/N) v / n, N its records, n those
 * sampled (zero when n = N: a covered stratum is exact).  v is the larger of
 * the records' own variance in the sample and, with two or more runs, the
 * variance between run means times the records per run (a run of similar
 * records next to each other tells less than as many records drawn apart,
 * and this is how much less).  A stratum with one sampled record takes the
 * day's pooled within-stratum variance; one with none (a budget smaller
 * than the strata) takes its partition's mean size for the day, with the
 * day's whole spread as its uncertainty.
 *
 * PostgreSQL-free C, unit-tested by test/unit/test_sample_estimate.c.
 */
#ifndef KPR_SAMPLE_ESTIMATE_H
#define KPR_SAMPLE_ESTIMATE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The sample of one stratum, accumulated record by record.  Sums are of
 * (size - shift), shift being the first record's size, so that equal sizes
 * give an exact zero variance and large sizes lose no precision.
 */
typedef struct KprStratumSample
{
	int64_t		records;		/* N: records of the stratum, from offsets */
	int64_t		sampled;		/* n: records read */
	double		shift;
	double		sum;
	double		squares;
	int32_t		runs;			/* runs ended with at least one record */
	int64_t		run_sampled;	/* the run being read */
	double		run_sum;
	double		run_means;		/* sum over ended runs of (run mean - shift) */
	double		run_mean_squares;
} KprStratumSample;

/* One more record of bytes bytes into the run being read. */
extern void kpr_sample_add(KprStratumSample *stratum, double bytes);

/* The run being read has ended (a no-op if it read nothing). */
extern void kpr_sample_end_run(KprStratumSample *stratum);

/* The normal quantile of a two-sided 95% interval: estimate +- 1.96 standard errors. */
#define KPR_ESTIMATE_Z95 1.959963984540054

/* Hours in a day, the most strata a topic-day has per partition. */
#define KPR_ESTIMATE_MAX_STRATA 24

typedef struct KprDayEstimate
{
	int64_t		records;		/* the day's records, summed over partitions */
	int64_t		sampled;		/* of them read */
	double		bytes;
	double		bytes_variance; /* NaN: not estimable (fewer than 2 records read) */
	int			peak_stratum;	/* the stratum (hour) with the most estimated bytes */
	double		peak_bytes;
	double		peak_variance;	/* of the busiest hour's bytes, widened for the
								 * choice of that hour (see the .c); NaN: not
								 * estimable */
	bool		exact;			/* every record of the day was read */
} KprDayEstimate;

/*
 * The estimate of a topic-day from partition_count partitions' strata:
 * partitions[k][s] is stratum s (0 .. strata - 1, at most
 * KPR_ESTIMATE_MAX_STRATA) of partition k that day.  bytes is 0 with no
 * sample; peak_stratum is the first of equal maxima.
 */
extern KprDayEstimate kpr_estimate_day(const KprStratumSample *const *partitions,
									   int partition_count, int strata);

#endif							/* KPR_SAMPLE_ESTIMATE_H */
