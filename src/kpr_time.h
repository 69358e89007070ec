/*
 * kpr_time.h
 *		Times as the extension passes them around: Unix milliseconds (Kafka's
 *		timestamps, the metrics services'), UTC days, and their text.
 */
#ifndef KPR_TIME_H
#define KPR_TIME_H

#include "datatype/timestamp.h"

#define KPR_MS_PER_DAY		INT64CONST(86400000)

/* PostgreSQL's epoch (2000-01-01) in Unix milliseconds */
#define KPR_POSTGRES_EPOCH_UNIX_MS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * KPR_MS_PER_DAY)

/* Now, in Unix milliseconds. */
extern int64 kpr_unix_now_ms(void);

/* A timestamptz from Unix milliseconds. */
extern TimestampTz kpr_unix_ms_to_timestamptz(int64 unix_ms);

/* "YYYY-MM-DD" of the UTC day holding unix_ms, whatever DateStyle says. */
extern char *kpr_day_text(int64 unix_ms);

#endif							/* KPR_TIME_H */
