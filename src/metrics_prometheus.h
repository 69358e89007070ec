/*
 * metrics_prometheus.h
 *		What the Prometheus source's two fetchers share: the per-topic one
 *		(metrics_prometheus.c) and the per-partition one
 *		(metrics_prometheus_partitions.c).
 */
#ifndef KPR_METRICS_PROMETHEUS_H
#define KPR_METRICS_PROMETHEUS_H

#include "metrics.h"

/* The server's metrics_url without a trailing slash. */
extern char *kpr_prometheus_base_url(void);
/* Submit a GET of url, with the user mapping's credentials if any. */
extern void kpr_prometheus_submit(const char *url, void *cookie);
/* A malloc'd text (prometheus_promql.c, url_encode.c) as a palloc'd one; NULL (their out of memory) raises it. */
extern char *kpr_prometheus_take_text(char *text);
/* Refuse a window older than the server's storage retention. */
extern void kpr_prometheus_check_retention(const char *base, const KprMetricsWindow *window);

#endif							/* KPR_METRICS_PROMETHEUS_H */
