/*
 * prometheus_response.h
 *		Parsing what a Prometheus server's HTTP API answers: an instant
 *		query's vector (/api/v1/query) and the storage retention of
 *		/api/v1/status/runtimeinfo.
 *
 * Plain C and json-c, no PostgreSQL: it allocates with malloc, frees
 * everything before it returns, and is unit-tested and fuzzed on its own
 * (test/unit/test_prometheus_response.c).  Any byte string is a valid input:
 * the answer is then an error, never a crash.  json-c bounds the nesting
 * depth (32); nothing here recurses.
 */
#ifndef KPR_PROMETHEUS_RESPONSE_H
#define KPR_PROMETHEUS_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum KprPromOutcome
{
	KPR_PROM_OK = 0,
	KPR_PROM_NOT_JSON,			/* not one complete, strict JSON document */
	KPR_PROM_BAD_SHAPE,			/* JSON, but not the answer expected */
	KPR_PROM_API_ERROR,			/* "status":"error": see error_type, message */
	KPR_PROM_MISSING_LABEL,		/* a series without the label (or "") */
	KPR_PROM_BAD_VALUE,			/* +Inf, -Inf or a value that is no number */
	KPR_PROM_STOPPED			/* the callback returned false */
} KprPromOutcome;

/* What went wrong, for a message; both texts are NUL-terminated. */
typedef struct KprPromError
{
	char		error_type[64];	/* API_ERROR: Prometheus's errorType */
	char		message[512];	/* the error text, or what was wrong where */
} KprPromError;

/*
 * Called once per series of the vector, in the answer's order, after the
 * whole answer has been checked: on any error it is not called at all.
 * label_value is the series' value of the label asked for (non-empty, no
 * NUL byte inside); it lives until the callback returns.  Return false to
 * stop (the parse then ends with KPR_PROM_STOPPED).  The callback must not
 * longjmp (no ereport): the document would not be freed.
 */
typedef bool (*KprPromSampleCallback) (const char *label_value, double value, void *arg);

/*
 * Parse the answer to an instant query, which must be
 *	{"status":"success","data":{"resultType":"vector","result":[
 *		{"metric":{"<label>":"<label value>",...},"value":[<time>,"<value>"]},...]}}
 * (other keys, such as "warnings" and "infos", are ignored), or the error
 * shape {"status":"error","errorType":"...","error":"..."}, which gives
 * KPR_PROM_API_ERROR.  An empty result is fine: no callback.
 *
 * Sample values are Prometheus's strings: decimal numbers, "NaN", "+Inf",
 * "-Inf".  NaN (0/0, e.g. a ratio over an idle topic) means "no value": the
 * series is skipped, as if Prometheus had not returned it, and counted in
 * *nan_count if that is not NULL.  An infinity or a string that is not a
 * whole finite number is KPR_PROM_BAD_VALUE.  Every series must carry the
 * label, with a non-empty value (KPR_PROM_MISSING_LABEL otherwise: such a
 * series is usually a broker-wide total that the query did not filter out).
 *
 * error may be NULL; on KPR_PROM_OK it is left as it was.
 */
extern KprPromOutcome kpr_prom_parse_vector(const char *body, size_t length,
											const char *label,
											KprPromSampleCallback callback, void *arg,
											int *nan_count, KprPromError *error);

/*
 * The same for series carrying two labels (topic and partition): both must
 * be present and non-empty, and the callback gets both values.
 */
typedef bool (*KprPromPairCallback) (const char *label_value, const char *second_value,
									 double value, void *arg);
extern KprPromOutcome kpr_prom_parse_vector_pairs(const char *body, size_t length,
												  const char *label, const char *second_label,
												  KprPromPairCallback callback, void *arg,
												  int *nan_count, KprPromError *error);

/* The time part of a storage retention. */
typedef enum KprPromRetentionKind
{
	KPR_PROM_RETENTION_TIME,	/* *seconds holds it */
	KPR_PROM_RETENTION_NO_TIME, /* size only ("10GiB"), or none: no time limit */
	KPR_PROM_RETENTION_UNKNOWN	/* a text this parser does not understand */
} KprPromRetentionKind;

/*
 * Parse /api/v1/status/runtimeinfo's answer and its data.storageRetention,
 * such as "15d", "100y", "1y2w", "15d or 10GiB", "10GiB".  Durations are
 * Prometheus's: units y (365 days), w, d, h, m, s, ms, each at most once,
 * largest first.  On KPR_PROM_OK, *kind says what the retention is, *seconds
 * (time retention only, rounded down to a second) how long, and retention_text
 * holds the text as the server sent it (truncated to fit, NUL-terminated).
 * A missing or non-string storageRetention is KPR_PROM_RETENTION_UNKNOWN.
 */
extern KprPromOutcome kpr_prom_parse_runtimeinfo(const char *body, size_t length,
												 KprPromRetentionKind *kind, int64_t *seconds,
												 char *retention_text, size_t retention_text_size,
												 KprPromError *error);

/* The retention text alone (for the above, and for tests). */
extern KprPromRetentionKind kpr_prom_parse_retention(const char *text, int64_t *seconds);

/* "ok", "not_json", ... for messages and tests. */
extern const char *kpr_prom_outcome_name(KprPromOutcome outcome);

#endif							/* KPR_PROMETHEUS_RESPONSE_H */
