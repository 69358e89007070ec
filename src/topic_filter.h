/*
 * topic_filter.h
 *		Which topics a call looks at: topic_filter patterns (comma-separated
 *		globs over topic names) and include_internal.
 */
#ifndef KPR_TOPIC_FILTER_H
#define KPR_TOPIC_FILTER_H

#include "worker.h"

/* Check a pattern list; "what" names it in the messages ("option ..."). */
extern void kpr_check_topic_patterns(const char *what, const char *value, int sqlstate);

/* The same for group_filter: group ids, a wider alphabet. */
extern void kpr_check_group_patterns(const char *what, const char *value, int sqlstate);

/* True when a name matches one of the comma-separated patterns. */
extern bool kpr_topic_matches(const char *patterns, const char *topic);

/*
 * Internal topics: Kafka's own (__consumer_offsets, __transaction_state) and,
 * by the common convention, other names starting with an underscore.
 */
extern bool kpr_topic_is_internal(const char *topic);

/*
 * Does the request's selection take this topic?  topic_filter and
 * include_internal come from its arguments, else from the server's options;
 * internal topics are left out unless include_internal is true.
 */
extern bool kpr_topic_selected(const KprRequest *request, const char *topic);

#endif							/* KPR_TOPIC_FILTER_H */
