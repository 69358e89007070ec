/*
 * prometheus_promql.h
 *		The PromQL text the Prometheus source sends, and the checks of the
 *		server options it is built from (metric selectors, the topic label).
 *
 * Plain C, no PostgreSQL, so that both the validator (options.c) and the
 * source (metrics_prometheus.c) use one implementation and the unit test
 * (test/unit/test_prometheus_response.c) can check the exact strings.
 * Functions returning char * return malloc'd text, NULL when out of memory.
 */
#ifndef KPR_PROMETHEUS_PROMQL_H
#define KPR_PROMETHEUS_PROMQL_H

#include <stddef.h>
#include <stdint.h>

/* The default metric names: the JMX exporter's kafka-2_0_0.yml rules. */
#define KPR_PROMQL_DEFAULT_BYTES_IN		"kafka_server_brokertopicmetrics_bytesin_total"
#define KPR_PROMQL_DEFAULT_BYTES_OUT	"kafka_server_brokertopicmetrics_bytesout_total"
#define KPR_PROMQL_DEFAULT_RECORDS_IN	"kafka_server_brokertopicmetrics_messagesin_total"
#define KPR_PROMQL_DEFAULT_TOPIC_LABEL	"topic"

/* The placeholder of a query option that the day's range replaces. */
#define KPR_PROMQL_WINDOW				"$window"

/*
 * A metric option: a metric name [a-zA-Z_:][a-zA-Z0-9_:]*, optionally
 * followed by label matchers {label op "value", ...} (op =, !=, =~, !~;
 * values quoted with ", ' or `, as PromQL has them) that end the text.  NULL
 * if valid, else what is wrong (a static text).
 */
extern const char *kpr_promql_check_metric(const char *text);

/* A label name [a-zA-Z_][a-zA-Z0-9_]*: NULL if valid, else what is wrong. */
extern const char *kpr_promql_check_label(const char *text);

/*
 * The selector of a valid metric option with label!="" added to its
 * matchers: kafka_x_total -> kafka_x_total{topic!=""},
 * m{a="b"} -> m{a="b",topic!=""}.  NULL also if metric is not valid.
 */
extern char *kpr_promql_selector(const char *metric, const char *label);

/*
 * A range of that many seconds as PromQL writes it: "1d" for 86400, else
 * "<seconds>s".  The buffer needs 24 bytes.
 */
extern void kpr_promql_range(int64_t seconds, char *buffer, size_t size);

/* sum by (label) (increase(selector[range])) */
extern char *kpr_promql_total(const char *selector, const char *label, const char *range);

/*
 * max_over_time(sum by (label) (rate(selector[5m]))[subquery_range:5m]):
 * the peak 5-minute rate of the day.  subquery_range is one second less
 * than the day's range ("86399s" for a whole day), so that the subquery's
 * steps are exactly the 5-minute marks inside the day.
 */
extern char *kpr_promql_peak(const char *selector, const char *label, const char *subquery_range);

/* A query option with every "$window" replaced by range. */
extern char *kpr_promql_expand_window(const char *query, const char *range);

#endif							/* KPR_PROMETHEUS_PROMQL_H */
