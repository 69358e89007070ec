/*
 * options.h
 *		Options of the kafka_partition_recommender foreign-data wrapper: the
 *		validator (options.c) and what the tasks ask of an option's name.
 */
#ifndef KPR_OPTIONS_H
#define KPR_OPTIONS_H

/*
 * True when an option holds a credential.  Secrets are accepted only in user
 * mappings and their values never appear in a message, a log line or a row.
 */
extern bool kpr_option_is_secret(const char *name);

/* Options of the extension itself, as opposed to librdkafka properties. */
extern bool kpr_option_is_own(const char *name);

#endif							/* KPR_OPTIONS_H */
