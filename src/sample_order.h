/*
 * sample_order.h
 *		What the timestamps of a sample say about a day's record count when
 *		a partition's timestamps are not in order.
 *
 * kpr.sample_topics counts a day's records from offsets: the records from
 * offset_at(midnight) to offset_at(next midnight), offset_at(T) being the
 * first record whose timestamp is >= T.  That is the number of records whose
 * timestamps fall on the day only while timestamps never go backwards within
 * a partition.  A late batch of old records, producers with skewed clocks
 * or a replay put records into a day's offsets whose timestamps lie in
 * another day.
 *
 * Every record the sample reads is looked at: is its timestamp outside the
 * day of the offsets it was counted in, and is it older than the record read
 * before it in the same run?  Per stratum (an hour or a day of a partition's
 * offsets, N records of which n were read), the records out of their day are
 * estimated as N x (out of day among the n) / n, exact when n = N, with the
 * variance of a ratio estimate over the stratum's runs (runs are clusters:
 * out-of-order records come in batches, and a batch a run lands in says less
 * than as many records drawn apart); with a single run, the binomial
 * variance.  A day's count by timestamp is then its offsets' count, minus
 * its records estimated out of the day, plus the records of the day found in
 * other days' offsets (each scaled by its stratum's N / n).
 *
 * A sample that saw nothing out of place has not shown that nothing is: a
 * batch between its runs goes unseen.  With R runs over the day and none
 * out of place, up to 1 - 0.05^(1/R) of the unread records could still be
 * (the 95% bound of seeing none in R draws), and the day's lower bound
 * allows for it.  Likewise a stratum whose every sampled record was out of
 * its day (its runs all fell into a late batch): its runs agree, so their
 * variance is 0, yet up to 1 - 0.05^(1/r) of its unread records could be
 * of the day after all, and the day's upper bound allows for it.
 *
 * PostgreSQL-free C, unit-tested by test/unit/test_sample_order.c.
 */
#ifndef KPR_SAMPLE_ORDER_H
#define KPR_SAMPLE_ORDER_H

#include <stdbool.h>
#include <stdint.h>

/* What the timestamps of one stratum's sample showed, record by record. */
typedef struct KprStratumOrder
{
	int64_t		sampled;		/* records whose timestamps were looked at */
	int64_t		out_of_day;		/* of them, timestamped outside the stratum's day */
	int64_t		backwards;		/* of them, older than the record before them in their run */
	int64_t		create_time;	/* of them, with a CreateTime (not LogAppendTime) timestamp */
	int64_t		keyed;			/* of them, with a key (not NULL) */
	double		out_of_day_bytes;	/* sizes of the records out of their day */
	/* per ended run i of m_i records, o_i out of their day */
	int32_t		runs;
	int64_t		run_sampled;	/* the run being read */
	int64_t		run_out;
	double		out_squares;	/* sum of o_i^2 */
	double		length_squares; /* sum of m_i^2 */
	double		out_length;		/* sum of o_i m_i */
} KprStratumOrder;

/* One more record of the run being read. */
extern void kpr_order_add(KprStratumOrder *stratum, bool out_of_day, bool backwards,
						  bool create_time, bool keyed, double bytes);

/* The run being read has ended (a no-op if it read nothing). */
extern void kpr_order_end_run(KprStratumOrder *stratum);

/*
 * N / n: what one sampled record of a stratum of records records stands for
 * (1 when every record was read, 0 when none was).
 */
extern double kpr_order_scale(const KprStratumOrder *stratum, int64_t records);

/* Records of the stratum estimated out of their day, and that estimate's variance. */
extern double kpr_order_out_of_day(const KprStratumOrder *stratum, int64_t records);
extern double kpr_order_out_of_day_variance(const KprStratumOrder *stratum, int64_t records);

/*
 * The share of records that may be out of place unseen when runs runs saw
 * none: 1 - 0.05^(1/runs) (1 with no run).
 */
extern double kpr_order_unseen_share(int64_t runs);

/*
 * The other extreme: where every record a stratum's runs read was out of
 * its day (a late batch the runs fell into), its unread records may still
 * hold some of the day's own: up to kpr_order_unseen_share(its runs) of
 * them.  0 where the sample saw records of both kinds (the runs' variance
 * speaks then), or covered the stratum.
 */
extern double kpr_order_unseen_in_day(const KprStratumOrder *stratum, int64_t records);

/* The normal quantile of a two-sided 95% interval. */
#define KPR_ORDER_Z95 1.959963984540054

#endif							/* KPR_SAMPLE_ORDER_H */
