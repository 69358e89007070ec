# PGXS build for the kafka_partition_recommender extension.
#
#   make && make install            build and install into the PostgreSQL found by pg_config
#   make installcheck               run the fast pg_regress suite against a running server
#   make installcheck REGRESS="$$(make -s print-integration)"
#                                   the integration suite (needs the real broker's
#                                   KPR_BROKER_* environment, see scripts/test.sh)
#   scripts/test.sh [--fast]        everything from a fresh Debian machine (see README.md)

EXTENSION = kafka_partition_recommender
MODULE_big = kafka_partition_recommender
OBJS = src/kpr.o src/options.o src/topic_filter.o src/functions.o src/tasks.o src/worker.o \
	src/kafka.o src/kafka_threads.o src/kafka_offsets.o src/kafka_ranges.o src/list_topics.o src/consumer_groups.o src/cluster_info.o src/sample.o src/sample_plan.o src/sample_estimate.o src/sample_order.o \
	src/fetch_metrics.o src/fetch_partition_metrics.o src/partition_traffic.o src/metrics_prometheus_partitions.o \
	src/metrics.o src/http.o src/confluent_response.o src/metrics_confluent.o \
	src/prometheus_response.o src/prometheus_promql.o src/metrics_prometheus.o \
	src/run_log.o src/record_run.o src/kpr_time.o src/url_encode.o src/trend.o src/trend_fit.o src/partition_counts.o
DATA = sql/kafka_partition_recommender--0.1.0.sql sql/kafka_partition_recommender--0.1.0--0.1.1.sql \
	sql/kafka_partition_recommender--0.1.1--0.1.2.sql sql/kafka_partition_recommender--0.1.2--0.1.3.sql \
	sql/kafka_partition_recommender--0.1.3--0.1.4.sql sql/kafka_partition_recommender--0.1.4--0.1.5.sql \
	sql/kafka_partition_recommender--0.1.5--0.1.6.sql
PGFILEDESC = "kafka_partition_recommender - Kafka partition counts from measured traffic"

REGRESS = install helpers secrets_watch fdw_validator model planning limits changes settings privileges \
	kafka_list_topics kafka_sample_topics kafka_faults metrics_confluent metrics_prometheus metrics_partitions collect cron \
	collect_interrupted \
	secrets upgrade workers_left
REGRESS_OPTS = --inputdir=test --outputdir=test
# against the real Kafka broker of test/fixtures/kafka_broker
INTEGRATION = integration_broker integration_prometheus integration_consumer_groups integration_changes

EXTRA_CLEAN = test/results test/regression.diffs test/regression.out

# Third-party libraries: flags come from pkg-config only, never hard-coded paths.
PKG_CONFIG ?= pkg-config
KPR_LIBS = rdkafka libcurl json-c
ifneq ($(shell $(PKG_CONFIG) --exists $(KPR_LIBS) && echo ok),ok)
$(error pkg-config cannot find one of: $(KPR_LIBS). Install librdkafka-dev, libcurl4-openssl-dev and libjson-c-dev (scripts/install-deps.sh does))
endif
PG_CPPFLAGS = $(shell $(PKG_CONFIG) --cflags $(KPR_LIBS))
SHLIB_LINK = $(shell $(PKG_CONFIG) --libs $(KPR_LIBS))

# -Wextra, minus the two warnings PostgreSQL's own headers and fmgr macros trip.
PG_CFLAGS = -Wextra -Wno-unused-parameter -Wno-missing-field-initializers

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track header dependencies; a changed struct must rebuild all.
$(OBJS): $(wildcard src/*.h)

.PHONY: print-integration
print-integration:
	@echo $(INTEGRATION)
