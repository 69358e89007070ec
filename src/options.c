/*
 * options.c
 *		Validator of the kafka_partition_recommender foreign-data wrapper.
 *
 * A foreign server of this wrapper describes one Kafka cluster and where its
 * traffic figures come from; a user mapping holds one role's credentials for
 * it.  Options are of two kinds:
 *
 *	 - the extension's own (bootstrap_servers, metrics_source, ...), whose
 *	   values are checked here;
 *	 - any librdkafka client property ("security.protocol", "sasl.username",
 *	   ...), whose name and value librdkafka itself checks, on a throwaway
 *	   configuration object that is freed on every path.
 *
 * Secrets are accepted only in user mappings, which roles other than their
 * owner and superusers cannot read.  No message raised here contains the value
 * of a secret option.
 */
#include "postgres.h"

#include <ctype.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>

#include "access/reloptions.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/varlena.h"

#include "metrics_sources.h"
#include "options.h"
#include "prometheus_promql.h"
#include "topic_filter.h"

/* Where an option may be set: on the server, in a user mapping, or both. */
#define KPR_ON_SERVER		(1 << 0)
#define KPR_ON_USER_MAPPING	(1 << 1)

typedef enum KprValueKind
{
	KPR_VALUE_WORD,				/* non-empty, no white space */
	KPR_VALUE_SECRET,			/* non-empty; never echoed */
	KPR_VALUE_BOOL,
	KPR_VALUE_METRICS_SOURCE,
	KPR_VALUE_URL,
	KPR_VALUE_BOOTSTRAP,
	KPR_VALUE_TOPIC_PATTERNS,
	KPR_VALUE_SERVER_FILE,		/* a path the server reads: superusers only */
	KPR_VALUE_PROMQL_METRIC,	/* metric name, optionally {label matchers} */
	KPR_VALUE_PROMQL_LABEL,		/* a Prometheus label name */
	KPR_VALUE_PROMQL_QUERY,		/* free PromQL text, not blank */
	KPR_VALUE_COUNT				/* a whole number, 0 or more */
} KprValueKind;

typedef struct KprOwnOption
{
	const char *name;
	int			allowed_on;
	KprValueKind kind;
} KprOwnOption;

static const KprOwnOption own_options[] = {
	{"bootstrap_servers", KPR_ON_SERVER, KPR_VALUE_BOOTSTRAP},
	{"metrics_source", KPR_ON_SERVER, KPR_VALUE_METRICS_SOURCE},
	{"metrics_url", KPR_ON_SERVER, KPR_VALUE_URL},
	{"cluster_id", KPR_ON_SERVER, KPR_VALUE_WORD},

	/*
	 * What the cluster runs on, for the limits of kpr.platform_limits that
	 * kpr.recommended_partitions warns about: a platform (confluent_cloud,
	 * aws_msk, apache_kafka, or one of the user's own rows) and its tier
	 * (the cluster type, or the broker size).  Any word: users add platforms.
	 */
	{"platform", KPR_ON_SERVER, KPR_VALUE_WORD},
	{"platform_tier", KPR_ON_SERVER, KPR_VALUE_WORD},
	{"metrics_ca_file", KPR_ON_SERVER, KPR_VALUE_SERVER_FILE},
	{"topic_filter", KPR_ON_SERVER, KPR_VALUE_TOPIC_PATTERNS},
	{"include_internal", KPR_ON_SERVER, KPR_VALUE_BOOL},

	/*
	 * Partition detail (kpr.fetch_partition_metrics, which kpr.collect calls
	 * for a metrics source): off with partition_detail 'false'; limited to
	 * the topics whose busiest day of the window reached
	 * partition_detail_min_records records with that option (0: every topic).
	 */
	{"partition_detail", KPR_ON_SERVER, KPR_VALUE_BOOL},
	{"partition_detail_min_records", KPR_ON_SERVER, KPR_VALUE_COUNT},

	/*
	 * The Prometheus source (metrics_prometheus.c).  Each day is queried at
	 * the midnight that ends it (for today: now) and every answer must hold
	 * one series per topic, labelled with topic_label (default "topic").
	 *
	 * *_metric: the counter of that measure, summed over brokers per topic:
	 * a metric name, optionally with label matchers that pick one cluster or
	 * one request kind, e.g. for Redpanda bytes_in_metric
	 * 'redpanda_kafka_request_bytes_total{redpanda_request="produce",redpanda_namespace="kafka"}'.
	 * The source adds topic_label!="" to the matchers.  Defaults: the JMX
	 * exporter's kafka_server_brokertopicmetrics_{bytesin,bytesout,messagesin}_total;
	 * records out has none (Kafka has no such meter), so it is NULL unless
	 * records_out_metric or records_out_query is set.
	 *
	 * *_query: a whole PromQL expression instead, which wins over the metric
	 * option.  "$window" in it becomes the day's range: "1d", or "<n>s" for
	 * today so far; in the peak queries it is one second less ("86399s"), so
	 * that a subquery [$window:5m] holds exactly the day's 5-minute windows.
	 */
	{"bytes_in_metric", KPR_ON_SERVER, KPR_VALUE_PROMQL_METRIC},
	{"bytes_out_metric", KPR_ON_SERVER, KPR_VALUE_PROMQL_METRIC},
	{"records_in_metric", KPR_ON_SERVER, KPR_VALUE_PROMQL_METRIC},
	{"records_out_metric", KPR_ON_SERVER, KPR_VALUE_PROMQL_METRIC},
	{"topic_label", KPR_ON_SERVER, KPR_VALUE_PROMQL_LABEL},

	/*
	 * Per partition: the log-end offset gauge (default the JMX exporter's
	 * kafka_log_log_logendoffset; kafka_exporter's
	 * kafka_topic_partition_current_offset; Redpanda's
	 * redpanda_kafka_max_offset{redpanda_namespace="kafka"}) and the label
	 * holding the partition id (default "partition").  Replicas each report
	 * it: the source takes the largest per partition, never the sum.
	 */
	{"partition_offset_metric", KPR_ON_SERVER, KPR_VALUE_PROMQL_METRIC},
	{"partition_label", KPR_ON_SERVER, KPR_VALUE_PROMQL_LABEL},
	{"bytes_in_query", KPR_ON_SERVER, KPR_VALUE_PROMQL_QUERY},
	{"bytes_out_query", KPR_ON_SERVER, KPR_VALUE_PROMQL_QUERY},
	{"records_in_query", KPR_ON_SERVER, KPR_VALUE_PROMQL_QUERY},
	{"records_out_query", KPR_ON_SERVER, KPR_VALUE_PROMQL_QUERY},
	{"peak_bytes_in_query", KPR_ON_SERVER, KPR_VALUE_PROMQL_QUERY},
	{"peak_bytes_out_query", KPR_ON_SERVER, KPR_VALUE_PROMQL_QUERY},

	{"metrics_api_key", KPR_ON_USER_MAPPING, KPR_VALUE_WORD},
	{"metrics_api_secret", KPR_ON_USER_MAPPING, KPR_VALUE_SECRET},
};

/*
 * librdkafka properties a user may not set at all, each with the reason shown
 * in the error.  plugin.library.paths must be refused before librdkafka sees
 * it: rd_kafka_conf_set() dlopen()s the named library immediately.
 */
typedef struct KprRefusedProperty
{
	const char *name;
	const char *hint;
} KprRefusedProperty;

static const KprRefusedProperty refused_properties[] = {
	{"bootstrap.servers", "Use the option \"bootstrap_servers\" instead."},
	{"metadata.broker.list", "Use the option \"bootstrap_servers\" instead."},
	{"group.id", "The extension never joins a consumer group; it sets this property itself."},
	{"enable.auto.commit", "The extension never commits offsets; it sets this property itself."},
	{"enable.auto.offset.store", "The extension never commits offsets; it sets this property itself."},
	{"enable.partition.eof", "The extension sets this property itself."},
	{"log.queue", "The extension routes librdkafka's log itself."},
	{"plugin.library.paths", "Loading code into the database server is not allowed."},
	{"interceptors", "Loading code into the database server is not allowed."},
};

/*
 * librdkafka properties that make the database server's operating-system
 * account read a file or run a command; only superusers may set them.
 * Properties named "*.location" are in this class too.
 */
static const char *const superuser_properties[] = {
	"sasl.kerberos.kinit.cmd",
	"sasl.kerberos.keytab",
	"ssl.providers",
	"ssl.ca.certificate.stores",
};

static const char *const metrics_sources[] = KPR_METRICS_SOURCE_VALUES;

PG_FUNCTION_INFO_V1(kafka_partition_recommender_fdw_validator);

static void validate_options(List *options, int context);
static void check_own_value(const KprOwnOption *option, const char *value);
static void check_librdkafka_properties(List *properties, int context);
static void check_property_policy(const char *name, int context);
static void check_server_completeness(List *options);
static const KprOwnOption *find_own_option(const char *name);
static const char *closest_own_option(const char *name, int context);
static char *own_option_names(int context);
static bool needs_superuser(const char *name);
static char *trim_in_place(char *text);
static bool has_suffix(const char *string, const char *suffix);

bool
kpr_option_is_secret(const char *name)
{
	return strstr(name, "password") != NULL ||
		strstr(name, "secret") != NULL ||
		strcmp(name, "ssl.key.pem") == 0 ||
		strcmp(name, "ssl_key") == 0 ||
		strcmp(name, "sasl.oauthbearer.config") == 0;
}

/* Strip leading and trailing white space; returns the new start. */
static char *
trim_in_place(char *text)
{
	char	   *end;

	while (isspace((unsigned char) *text))
		text++;
	end = text + strlen(text);
	while (end > text && isspace((unsigned char) end[-1]))
		*--end = '\0';
	return text;
}

bool
kpr_option_is_own(const char *name)
{
	return find_own_option(name) != NULL;
}

/*
 * The validator: called by CREATE/ALTER of the wrapper, a server, a user
 * mapping or a foreign table, with the complete resulting option list.
 */
Datum
kafka_partition_recommender_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);

	switch (catalog)
	{
		case ForeignServerRelationId:
			validate_options(options, KPR_ON_SERVER);
			check_server_completeness(options);
			break;
		case UserMappingRelationId:
			validate_options(options, KPR_ON_USER_MAPPING);
			break;
		case ForeignDataWrapperRelationId:
			if (options != NIL)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 errmsg("the foreign-data wrapper kafka_partition_recommender takes no options"),
						 errhint("Set options on a server (CREATE SERVER ... OPTIONS) or in a user mapping.")));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("kafka_partition_recommender does not provide foreign tables"),
					 errhint("Query the functions and views of schema kpr, such as kpr.recommended_partitions.")));
	}

	PG_RETURN_VOID();
}

static void
validate_options(List *options, int context)
{
	List	   *librdkafka_properties = NIL;
	ListCell   *cell;

	foreach(cell, options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);
		const KprOwnOption *own = find_own_option(def->defname);

		if (context == KPR_ON_SERVER && kpr_option_is_secret(def->defname))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("option \"%s\" is a secret and cannot be set on a server",
							def->defname),
					 errdetail("Server options can be read by every role that may use the server."),
					 errhint("Remove it from the server and set it in a user mapping: CREATE USER MAPPING FOR CURRENT_USER SERVER ... OPTIONS (\"%s\" '...').",
							 def->defname)));

		if (own == NULL)
		{
			librdkafka_properties = lappend(librdkafka_properties, def);
			continue;
		}

		if ((own->allowed_on & context) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("option \"%s\" cannot be set %s", own->name,
							context == KPR_ON_SERVER ? "on a server" : "in a user mapping"),
					 own->allowed_on == KPR_ON_SERVER ?
					 errhint("Set it on the server: ALTER SERVER ... OPTIONS (ADD %s '...').", own->name) :
					 errhint("Set it in a user mapping: CREATE USER MAPPING FOR CURRENT_USER SERVER ... OPTIONS (%s '...').", own->name)));

		check_own_value(own, defGetString(def));
	}

	check_librdkafka_properties(librdkafka_properties, context);
}

static void
check_own_value(const KprOwnOption *option, const char *value)
{
	const char *c;

	switch (option->kind)
	{
		case KPR_VALUE_SECRET:
			if (value[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("option \"%s\" must not be empty", option->name)));
			break;

		case KPR_VALUE_WORD:
			if (value[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("option \"%s\" must not be empty", option->name)));
			for (c = value; *c; c++)
				if (isspace((unsigned char) *c))
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"", option->name, value),
							 errdetail("The value must not contain white space.")));
			break;

		case KPR_VALUE_SERVER_FILE:
			if (!superuser())
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("only superusers may set option \"%s\"", option->name),
						 errdetail("It makes the database server's operating-system account read a file.")));
			if (!is_absolute_path(value))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("option \"%s\" must be an absolute path", option->name)));
			break;

		case KPR_VALUE_BOOL:
			{
				bool		unused;

				if (!parse_bool(value, &unused))
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"", option->name, value),
							 errhint("Use a boolean: true or false.")));
				break;
			}

		case KPR_VALUE_METRICS_SOURCE:
			for (size_t i = 0; i < lengthof(metrics_sources); i++)
				if (strcmp(value, metrics_sources[i]) == 0)
					return;
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value for option \"%s\": \"%s\"", option->name, value),
					 errhint("Valid values are: %s.", KPR_METRICS_SOURCE_LIST)));
			break;

		case KPR_VALUE_URL:
			{
				const char *authority;
				size_t		authority_length;

				if (pg_strncasecmp(value, "http://", 7) == 0)
					authority = value + 7;
				else if (pg_strncasecmp(value, "https://", 8) == 0)
					authority = value + 8;
				else
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": it must start with https:// or http://",
									option->name)));
				authority_length = strcspn(authority, "/?#");

				/*
				 * Credentials embedded in a URL would be readable by every
				 * role that may use the server; say so without echoing them.
				 */
				if (memchr(authority, '@', authority_length) != NULL)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("option \"%s\" must not contain credentials", option->name),
							 errhint("Put them in a user mapping as \"metrics_api_key\" and \"metrics_api_secret\".")));
				if (authority_length == 0)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"", option->name, value),
							 errdetail("The URL names no host.")));
				for (c = value; *c; c++)
					if (isspace((unsigned char) *c))
						ereport(ERROR,
								(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
								 errmsg("invalid value for option \"%s\": \"%s\"", option->name, value),
								 errdetail("A URL must not contain white space.")));
				break;
			}

		case KPR_VALUE_BOOTSTRAP:
			{
				/* host[:port] entries, comma-separated, as librdkafka takes them */
				char	   *copy = pstrdup(value);
				char	   *entry;
				char	   *saveptr = NULL;
				int			entries = 0;

				for (entry = strtok_r(copy, ",", &saveptr); entry != NULL;
					 entry = strtok_r(NULL, ",", &saveptr))
				{
					char	   *host_end;
					char	   *port;

					entry = trim_in_place(entry);
					/* a bracketed IPv6 address holds colons of its own */
					host_end = (entry[0] == '[') ? strchr(entry, ']') : entry;
					port = host_end ? strrchr(host_end, ':') : NULL;
					if (entry[0] == '\0' || entry[0] == ':' || host_end == NULL ||
						strpbrk(entry, " \t\n\r") != NULL)
						ereport(ERROR,
								(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
								 errmsg("invalid value for option \"%s\": \"%s\"", option->name, value),
								 errhint("Give a comma-separated list of host:port pairs, for example 'broker1:9092,broker2:9092'.")));
					if (port != NULL)
					{
						char	   *port_end;
						long		port_number = strtol(port + 1, &port_end, 10);

						if (port[1] == '\0' || *port_end != '\0' ||
							port_number < 1 || port_number > 65535)
							ereport(ERROR,
									(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
									 errmsg("invalid port in option \"%s\": \"%s\"", option->name, entry),
									 errhint("A port is a number from 1 to 65535.")));
					}
					entries++;
				}
				if (entries == 0)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("option \"%s\" must name at least one broker", option->name),
							 errhint("Give a comma-separated list of host:port pairs, for example 'broker1:9092,broker2:9092'.")));
				pfree(copy);
				break;
			}

		case KPR_VALUE_TOPIC_PATTERNS:
			kpr_check_topic_patterns(psprintf("option \"%s\"", option->name), value,
									 ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE);
			break;

		case KPR_VALUE_PROMQL_METRIC:
			{
				const char *problem = kpr_promql_check_metric(value);

				if (problem != NULL)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"", option->name, value),
							 errdetail("As a Prometheus metric selector, %s.", problem),
							 strcmp(option->name, "partition_offset_metric") == 0 ?
							 errhint("Give the gauge of each partition's log-end offset, optionally with label matchers, for example 'kafka_topic_partition_current_offset' or 'redpanda_kafka_max_offset{redpanda_namespace=\"kafka\"}'.") :
							 errhint("Give a metric name, optionally with label matchers, for example 'redpanda_kafka_request_bytes_total{redpanda_request=\"produce\"}'; for any other PromQL, use the option \"%.*s_query\".",
									 (int) (strlen(option->name) - strlen("_metric")), option->name)));
				break;
			}

		case KPR_VALUE_PROMQL_LABEL:
			{
				const char *problem = kpr_promql_check_label(value);

				if (problem != NULL)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"", option->name, value),
							 errdetail("As a Prometheus label name, %s.", problem),
							 strcmp(option->name, "partition_label") == 0 ?
							 errhint("Name the label that holds the partition id, for example 'partition' (JMX exporter, kafka_exporter) or 'redpanda_partition' (Redpanda).") :
							 errhint("Name the label that holds the topic, for example 'topic' (JMX exporter) or 'redpanda_topic' (Redpanda).")));
				break;
			}

		case KPR_VALUE_PROMQL_QUERY:
			for (c = value; *c; c++)
				if (!isspace((unsigned char) *c))
					break;
			if (*c == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("option \"%s\" must not be empty", option->name),
						 errhint("Give a PromQL expression returning one series per topic, evaluated at the end of each day; \"$window\" stands for the day's range.")));
			break;

		case KPR_VALUE_COUNT:
			{
				char	   *end;
				long long	count;

				errno = 0;
				count = strtoll(value, &end, 10);
				if (errno != 0 || end == value || *end != '\0' || count < 0 ||
					!isdigit((unsigned char) value[0]))
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"", option->name, value),
							 errhint("Use a whole number, 0 or more.")));
				break;
			}
	}
}

/*
 * Names that are not the extension's own are librdkafka properties.  Policy
 * checks come first (they may refuse a name before librdkafka acts on it),
 * then librdkafka validates name and value.  The configuration object is
 * malloc'd by librdkafka, so it is freed in PG_FINALLY whatever is raised.
 */
static void
check_librdkafka_properties(List *properties, int context)
{
	rd_kafka_conf_t *volatile conf = NULL;
	ListCell   *cell;

	if (properties == NIL)
		return;

	foreach(cell, properties)
		check_property_policy(lfirst_node(DefElem, cell)->defname, context);

	PG_TRY();
	{
		conf = rd_kafka_conf_new();
		foreach(cell, properties)
		{
			DefElem    *def = lfirst_node(DefElem, cell);
			char		errstr[512];
			rd_kafka_conf_res_t result;

			errstr[0] = '\0';
			result = rd_kafka_conf_set(conf, def->defname, defGetString(def),
									   errstr, sizeof(errstr));
			if (result == RD_KAFKA_CONF_UNKNOWN)
			{
				const char *suggestion = closest_own_option(def->defname, context);

				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 errmsg("invalid option \"%s\"", def->defname),
						 suggestion ?
						 errhint("Perhaps you meant the option \"%s\".", suggestion) :
						 errhint("Valid options %s are: %s, and any librdkafka configuration property (see librdkafka's CONFIGURATION.md).",
								 context == KPR_ON_SERVER ? "on a server" : "in a user mapping",
								 own_option_names(context))));
			}
			else if (result != RD_KAFKA_CONF_OK)
			{
				/* librdkafka's message quotes the value: keep it only for non-secrets */
				if (kpr_option_is_secret(def->defname))
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\"", def->defname)));
				else
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\"", def->defname),
							 errdetail("librdkafka: %s", errstr)));
			}
		}
	}
	PG_FINALLY();
	{
		if (conf != NULL)
			rd_kafka_conf_destroy(conf);
	}
	PG_END_TRY();
}

static void
check_property_policy(const char *name, int context)
{
	for (size_t i = 0; i < lengthof(refused_properties); i++)
		if (strcmp(name, refused_properties[i].name) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("librdkafka property \"%s\" cannot be set", name),
					 errhint("%s", refused_properties[i].hint)));

	if (needs_superuser(name) && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only superusers may set librdkafka property \"%s\"", name),
				 errdetail("It makes the database server's operating-system account read a file or run a command."),
				 errhint("Give certificates and keys inline with \"ssl.ca.pem\", \"ssl.certificate.pem\" and \"ssl.key.pem\", or ask a superuser to set it.")));
}

/* A server needs brokers, and a Prometheus source needs an address. */
static void
check_server_completeness(List *options)
{
	bool		has_bootstrap = false;
	bool		has_url = false;
	const char *source = NULL;
	ListCell   *cell;

	foreach(cell, options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);

		if (strcmp(def->defname, "bootstrap_servers") == 0)
			has_bootstrap = true;
		else if (strcmp(def->defname, "metrics_url") == 0)
			has_url = true;
		else if (strcmp(def->defname, "metrics_source") == 0)
			source = defGetString(def);
	}

	if (!has_bootstrap)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("a kafka_partition_recommender server needs the option \"bootstrap_servers\""),
				 errhint("Add it, for example OPTIONS (bootstrap_servers 'broker1:9092').")));
	if (source != NULL && strcmp(source, KPR_SOURCE_PROMETHEUS) == 0 && !has_url)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("metrics_source \"prometheus\" needs the option \"metrics_url\""),
				 errhint("Set it to the Prometheus server's base URL, for example 'http://prometheus:9090'.")));
}

static const KprOwnOption *
find_own_option(const char *name)
{
	for (size_t i = 0; i < lengthof(own_options); i++)
		if (strcmp(name, own_options[i].name) == 0)
			return &own_options[i];
	return NULL;
}

/* The extension's own option nearest to a misspelt name, if one is close. */
static const char *
closest_own_option(const char *name, int context)
{
	const char *best = NULL;
	int			best_distance = 4;	/* more edits than this is no suggestion */
	int			name_length = strlen(name);

	for (size_t i = 0; i < lengthof(own_options); i++)
	{
		const char *candidate = own_options[i].name;
		int			distance;

		if ((own_options[i].allowed_on & context) == 0)
			continue;
		distance = varstr_levenshtein_less_equal(name, name_length,
												 candidate, strlen(candidate),
												 1, 1, 1, best_distance, true);
		if (distance < best_distance)
		{
			best = candidate;
			best_distance = distance;
		}
	}
	return best;
}

static char *
own_option_names(int context)
{
	StringInfoData names;

	initStringInfo(&names);
	for (size_t i = 0; i < lengthof(own_options); i++)
		if (own_options[i].allowed_on & context)
			appendStringInfo(&names, "%s%s", names.len ? ", " : "", own_options[i].name);
	return names.data;
}

static bool
needs_superuser(const char *name)
{
	if (has_suffix(name, ".location"))
		return true;
	for (size_t i = 0; i < lengthof(superuser_properties); i++)
		if (strcmp(name, superuser_properties[i]) == 0)
			return true;
	return false;
}

static bool
has_suffix(const char *string, const char *suffix)
{
	size_t		string_length = strlen(string);
	size_t		suffix_length = strlen(suffix);

	return string_length >= suffix_length &&
		strcmp(string + string_length - suffix_length, suffix) == 0;
}
