/*
 * kpr_time.c
 *		Unix milliseconds, UTC days and their text (see kpr_time.h).
 */
#include "postgres.h"

#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "kpr_time.h"

int64
kpr_unix_now_ms(void)
{
	return GetCurrentTimestamp() / 1000 + KPR_POSTGRES_EPOCH_UNIX_MS;
}

TimestampTz
kpr_unix_ms_to_timestamptz(int64 unix_ms)
{
	return (unix_ms - KPR_POSTGRES_EPOCH_UNIX_MS) * 1000;
}

char *
kpr_day_text(int64 unix_ms)
{
	int64		day = unix_ms / KPR_MS_PER_DAY - (unix_ms % KPR_MS_PER_DAY < 0 ? 1 : 0);
	int			year,
				month,
				mday;

	j2date(UNIX_EPOCH_JDATE + (int) day, &year, &month, &mday);
	return psprintf("%04d-%02d-%02d", year, month, mday);
}
