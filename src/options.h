/*
 * options.h
 *		Options of the kafka_partition_recommender foreign-data wrapper.
 */
#ifndef KPR_OPTIONS_H
#define KPR_OPTIONS_H

/* The values metrics_source accepts, in the order the documentation lists them. */
#define KPR_METRICS_SOURCES "confluent, prometheus, sampling, none"

/*
 * True when an option holds a credential.  Secrets are accepted only in user
 * mappings and their values never appear in a message, a log line or a row.
 */
extern bool kpr_option_is_secret(const char *name);

/* Options of the extension itself, as opposed to librdkafka properties. */
extern bool kpr_option_is_own(const char *name);

/* topic_filter: check a pattern list; does a topic match it? */
extern void kpr_check_topic_patterns(const char *what, const char *value, int sqlstate);
extern bool kpr_topic_matches(const char *patterns, const char *topic);

/* Fill a request with a server's options and the caller's user mapping. */
struct KprRequest;
extern void kpr_resolve_server(const char *server_name, struct KprRequest *request);

#endif							/* KPR_OPTIONS_H */
