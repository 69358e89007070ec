/*
 * confluent_response.h
 *		Parsing a Confluent Cloud Metrics API v2 query response (FLAT format).
 *
 * Plain C and json-c, no PostgreSQL calls, so that it can be fuzzed on its
 * own: whatever the bytes, the parser returns (an error text or success),
 * frees what it allocated, and calls the callback only for well-formed
 * points.
 */
#ifndef KPR_CONFLUENT_RESPONSE_H
#define KPR_CONFLUENT_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

/* One point: a bucket of one group (topic). */
typedef void (*KprConfluentPointFn) (const char *group, int64_t bucket_start_ms,
									 double value, void *arg);

/*
 * Parse body[0..length).  For each point of "data", call point_fn with the
 * value of its group_label key (e.g. "metric.topic"), its timestamp as Unix
 * milliseconds and its value.  *next_page_token gets a malloc'd copy of
 * meta.pagination.next_page_token, or NULL when this is the last page.
 *
 * Returns NULL on success, else a description of what is wrong (a static
 * string or one written into errbuf), and then calls point_fn for no point
 * at all: the whole page is validated before the first callback.
 */
extern const char *kpr_confluent_parse_response(const char *body, size_t length,
												const char *group_label,
												KprConfluentPointFn point_fn, void *arg,
												char **next_page_token,
												char *errbuf, size_t errbuf_size);

/* One point of a query grouped by topic and partition. */
typedef void (*KprConfluentPartitionPointFn) (const char *topic, int32_t partition,
											  int64_t bucket_start_ms, double value,
											  void *arg);

/*
 * The same for a query grouped by [topic_label, partition_label]
 * ("metric.topic", "metric.partition"): the partition label's value may be
 * a JSON integer or a string of decimal digits (the API's documents do not
 * say which it sends), 0 .. 2^31 - 1.
 */
extern const char *kpr_confluent_parse_partition_response(const char *body, size_t length,
														  const char *topic_label,
														  const char *partition_label,
														  KprConfluentPartitionPointFn point_fn,
														  void *arg, char **next_page_token,
														  char *errbuf, size_t errbuf_size);

/*
 * An RFC 3339 UTC time ("2024-05-01T00:00:00Z", "...:00.000Z", or with a
 * +hh:mm offset) as Unix milliseconds.  Returns 0 on success, -1 if text is
 * not such a time.
 */
extern int	kpr_parse_rfc3339_ms(const char *text, int64_t *ms);

#endif							/* KPR_CONFLUENT_RESPONSE_H */
