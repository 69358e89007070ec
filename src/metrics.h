/*
 * metrics.h
 *		What the metrics sources of kpr.fetch_metrics share inside a worker:
 *		the request, the per-topic, per-day traffic table every source fills,
 *		and the HTTP client.
 *
 * A source (metrics_confluent.c, metrics_prometheus.c) fills a
 * KprTrafficTable with what its service reports and says which measures it
 * can report at all; fetch_metrics.c turns the table into rows: one per topic and
 * day for every topic the Kafka cluster has (idle ones as zeros) and every
 * other topic the service reported, a measure the source cannot report as
 * NULL.  An error anywhere fails the whole call: no row leaves the worker
 * before every request has succeeded, so partial data is never passed off
 * as complete.
 */
#ifndef KPR_METRICS_H
#define KPR_METRICS_H

#include "http.h"
#include "worker.h"

typedef enum KprMeasure
{
	KPR_BYTES_IN,
	KPR_RECORDS_IN,
	KPR_BYTES_OUT,
	KPR_RECORDS_OUT,
	KPR_PEAK_BYTES_IN_PER_SEC,
	KPR_PEAK_BYTES_OUT_PER_SEC,
	KPR_MEASURE_COUNT
} KprMeasure;

/* The UTC days asked for: [first_day_ms, first_day_ms + days * 86400000). */
typedef struct KprMetricsWindow
{
	int64		first_day_ms;	/* Unix ms of the first day's midnight */
	int			days;
	int64		end_ms;			/* end of the last day, or now if sooner */
} KprMetricsWindow;

typedef struct KprTrafficTable KprTrafficTable;

/* The fetch_metrics request the sources serve: set once, by the task. */
extern void kpr_metrics_begin(const KprRequest *request);
extern const KprRequest *kpr_metrics_request(void);

extern KprTrafficTable *kpr_traffic_create(const KprMetricsWindow *window);
/* The source can report this measure: where it reported nothing, it is 0. */
extern void kpr_traffic_provides(KprTrafficTable *table, KprMeasure measure);
/* Store a value for the day holding time_ms (ignored outside the window). */
extern void kpr_traffic_set(KprTrafficTable *table, const char *topic,
							int64 time_ms, KprMeasure measure, double value);
/* Keep the larger of the stored value and this one. */
extern void kpr_traffic_max(KprTrafficTable *table, const char *topic,
							int64 time_ms, KprMeasure measure, double value);
/*
 * Send the table as rows: one per topic and day, for the cluster's topics
 * and every other selected topic the source reported, sorted by topic.
 */
extern void kpr_traffic_send_rows(KprTrafficTable *table, char **cluster_topics,
								  int cluster_topic_count);

/* Start the worker's HTTP client; it is freed on every exit path. */
extern void kpr_metrics_http_start(int max_in_flight);
/* Submit to that client; an interrupt or no memory ends the call. */
extern void kpr_metrics_http_submit(const KprHttpRequest *request);
extern KprHttpResult *kpr_metrics_http_next(void);
extern void kpr_metrics_http_done(KprHttpResult *result);
/* The server option or the user mapping option, or NULL. */
extern const char *kpr_metrics_option(const char *name);
/* metrics_url (else default_url, else NULL) without one trailing slash. */
extern char *kpr_metrics_base_url(const char *default_url);
/* A short excerpt of a response body for an errdetail (never credentials). */
extern char *kpr_metrics_body_excerpt(const KprHttpResult *result);
/* An error for a request that did not succeed; what names the request. */
extern void kpr_metrics_raise_http_error(const KprHttpResult *result,
										 const char *service, const char *what) pg_attribute_noreturn();

/* The sources. */
extern void kpr_confluent_fetch(const KprMetricsWindow *window, KprTrafficTable *table,
								const char *cluster_id);
extern void kpr_prometheus_fetch(const KprMetricsWindow *window, KprTrafficTable *table);

#endif							/* KPR_METRICS_H */
