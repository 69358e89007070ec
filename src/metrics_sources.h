/*
 * metrics_sources.h
 *		The values of the server option metrics_source, written once: the two
 *		services kpr.fetch_metrics reads over HTTP (fetch_metrics.c has a
 *		fetcher for each), then sampling (kpr.sample_topics) and none.  The
 *		validator (options.c), kpr.fetch_metrics' checks (functions.c) and the
 *		fetchers take them from here.
 */
#ifndef KPR_METRICS_SOURCES_H
#define KPR_METRICS_SOURCES_H

#define KPR_SOURCE_CONFLUENT	"confluent"
#define KPR_SOURCE_PROMETHEUS	"prometheus"
#define KPR_SOURCE_SAMPLING		"sampling"
#define KPR_SOURCE_NONE			"none"

/* every value, in the order the documentation lists them */
#define KPR_METRICS_SOURCE_VALUES \
	{KPR_SOURCE_CONFLUENT, KPR_SOURCE_PROMETHEUS, KPR_SOURCE_SAMPLING, KPR_SOURCE_NONE}
#define KPR_METRICS_SOURCE_LIST \
	KPR_SOURCE_CONFLUENT ", " KPR_SOURCE_PROMETHEUS ", " KPR_SOURCE_SAMPLING ", " KPR_SOURCE_NONE
/* the ones kpr.fetch_metrics reads, for hints */
#define KPR_HTTP_SOURCE_LIST \
	"'" KPR_SOURCE_CONFLUENT "' or '" KPR_SOURCE_PROMETHEUS "'"

/* Is this a source kpr.fetch_metrics reads? */
static inline bool
kpr_metrics_source_is_http(const char *source)
{
	return source != NULL &&
		(strcmp(source, KPR_SOURCE_CONFLUENT) == 0 || strcmp(source, KPR_SOURCE_PROMETHEUS) == 0);
}

#endif							/* KPR_METRICS_SOURCES_H */
