/*
 * sample_order.c
 *		Records out of their day, estimated from a stratum's sample (see
 *		sample_order.h).
 */
#include "sample_order.h"

#include <math.h>

void
kpr_order_add(KprStratumOrder *stratum, bool out_of_day, bool backwards, bool create_time,
			  bool keyed, double bytes)
{
	stratum->sampled++;
	stratum->run_sampled++;
	if (out_of_day)
	{
		stratum->out_of_day++;
		stratum->run_out++;
		stratum->out_of_day_bytes += bytes;
	}
	stratum->backwards += backwards;
	stratum->create_time += create_time;
	stratum->keyed += keyed;
}

void
kpr_order_end_run(KprStratumOrder *stratum)
{
	double		length = (double) stratum->run_sampled;
	double		out = (double) stratum->run_out;

	if (stratum->run_sampled == 0)
		return;
	stratum->runs++;
	stratum->out_squares += out * out;
	stratum->length_squares += length * length;
	stratum->out_length += out * length;
	stratum->run_sampled = 0;
	stratum->run_out = 0;
}

double
kpr_order_scale(const KprStratumOrder *stratum, int64_t records)
{
	if (stratum->sampled == 0)
		return 0;
	if (stratum->sampled >= records)
		return 1;
	return (double) records / stratum->sampled;
}

double
kpr_order_out_of_day(const KprStratumOrder *stratum, int64_t records)
{
	return kpr_order_scale(stratum, records) * stratum->out_of_day;
}

/*
 * N^2 (1 - n/N) var(p), p the share out of the day.  Over r >= 2 ended runs
 * the ratio estimate's variance: sum (o_i - p m_i)^2 / (r (r - 1) mbar^2);
 * with one run there is one cluster, and its share says nothing of the
 * others': p (1 - p) at its largest, 1/4, once anything was out of its day.
 * A run still being read counts with the ended ones.
 */
double
kpr_order_out_of_day_variance(const KprStratumOrder *stratum, int64_t records)
{
	double		n = (double) stratum->sampled;
	double		big_n = (double) records;
	double		p;
	double		variance;
	double		runs = stratum->runs;
	double		out_squares = stratum->out_squares;
	double		length_squares = stratum->length_squares;
	double		out_length = stratum->out_length;

	if (stratum->sampled == 0 || stratum->sampled >= records)
		return 0;
	p = stratum->out_of_day / n;
	if (stratum->run_sampled > 0)
	{
		double		length = (double) stratum->run_sampled;
		double		out = (double) stratum->run_out;

		runs++;
		out_squares += out * out;
		length_squares += length * length;
		out_length += out * length;
	}
	if (runs >= 2)
	{
		double		mean_length = n / runs;
		double		deviations = out_squares - 2 * p * out_length + p * p * length_squares;

		variance = (deviations > 0 ? deviations : 0) /
			(runs * (runs - 1) * mean_length * mean_length);
	}
	else
		variance = stratum->out_of_day > 0 ? 0.25 : 0;
	return big_n * big_n * (1 - n / big_n) * variance;
}

double
kpr_order_unseen_share(int64_t runs)
{
	if (runs <= 0)
		return 1;
	return 1 - pow(0.05, 1.0 / (double) runs);
}

double
kpr_order_unseen_in_day(const KprStratumOrder *stratum, int64_t records)
{
	if (stratum->out_of_day == 0 || stratum->out_of_day < stratum->sampled ||
		stratum->sampled >= records)
		return 0;
	return kpr_order_unseen_share(stratum->runs + (stratum->run_sampled > 0)) *
		(double) (records - stratum->sampled);
}
