/*
 * test_prometheus_response.c
 *		Behaviour of src/prometheus_response.c (answers of Prometheus's HTTP
 *		API) and src/prometheus_promql.c (the PromQL text sent, option checks).
 *
 * No server needed.  Prints one "ok"/"not ok" line per check (TAP-like) and
 * exits 1 if any check failed.  run.sh runs it under ASan/UBSan; every input
 * is copied into a buffer of exactly its length, so a read past the end is
 * caught.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/prometheus_promql.h"
#include "../../src/prometheus_response.h"
#include "../../src/url_encode.h"
#include "tap.h"



/* What the callback saw. */
typedef struct Collected
{
	int			count;
	char		labels[16][64];
	double		values[16];
	int			stop_after;		/* return false at this call (1-based); 0 never */
} Collected;

static bool
collect(const char *label_value, double value, void *arg)
{
	Collected  *collected = arg;

	if (collected->count < 16)
	{
		snprintf(collected->labels[collected->count], 64, "%s", label_value);
		collected->values[collected->count] = value;
	}
	collected->count++;
	return collected->stop_after == 0 || collected->count < collected->stop_after;
}

/* Parse text (exact length, heap copy) with label "topic". */
static KprPromOutcome
parse(const char *text, Collected *collected, int *nans, KprPromError *error)
{
	size_t		length = strlen(text);
	char	   *copy = malloc(length ? length : 1);
	KprPromOutcome outcome;

	memcpy(copy, text, length);
	memset(collected, 0, sizeof(*collected));
	memset(error, 0, sizeof(*error));
	outcome = kpr_prom_parse_vector(copy, length, "topic", collect, collected, nans, error);
	free(copy);
	return outcome;
}

static void
expect_outcome(const char *name, const char *text, KprPromOutcome expected, const char *message_part)
{
	Collected	collected;
	KprPromError error;
	KprPromOutcome outcome = parse(text, &collected, NULL, &error);

	check(outcome == expected && collected.count == 0 &&
		  (message_part == NULL || strstr(error.message, message_part) != NULL),
		  "%s: %s (want %s), \"%s\"", name, kpr_prom_outcome_name(outcome),
		  kpr_prom_outcome_name(expected), error.message);
}

#define VECTOR(items) "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[" items "]}}"

static void
test_vectors(void)
{
	Collected	collected;
	KprPromError error;
	KprPromOutcome outcome;
	int			nans = -1;

	/* as Prometheus 2.42 answered on the fixture */
	outcome = parse(VECTOR("{\"metric\":{\"topic\":\"clicks\"},\"value\":[1795046400,\"3769200000\"]},"
						   "{\"metric\":{\"topic\":\"orders\"},\"value\":[1795046400,\"324000000\"]},"
						   "{\"metric\":{\"topic\":\"payments\"},\"value\":[1795046400,\"32400000\"]}"),
					&collected, &nans, &error);
	check(outcome == KPR_PROM_OK && collected.count == 3 && nans == 0 &&
		  strcmp(collected.labels[0], "clicks") == 0 && collected.values[0] == 3769200000.0 &&
		  strcmp(collected.labels[2], "payments") == 0 && collected.values[2] == 32400000.0,
		  "three series, in order, exact values");

	outcome = parse(VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1795046400.123,\"2.6700000000000004\"]}"),
					&collected, &nans, &error);
	check(outcome == KPR_PROM_OK && collected.count == 1 && collected.values[0] == 2.6700000000000004,
		  "float time, fractional value keeps every digit");

	outcome = parse(VECTOR(""), &collected, &nans, &error);
	check(outcome == KPR_PROM_OK && collected.count == 0, "empty result: ok, no callback");

	outcome = parse("  \n" VECTOR("{\"metric\":{\"topic\":\"a\",\"job\":\"kafka\",\"instance\":\"b:1\"},\"value\":[1,\"0\"]}") "\n\t ",
					&collected, &nans, &error);
	check(outcome == KPR_PROM_OK && collected.count == 1 && collected.values[0] == 0,
		  "white space around the document, other labels, \"0\"");

	outcome = parse("{\"status\":\"success\",\"warnings\":[\"w\"],\"infos\":[\"PromQL info: metric might not be a counter\"],"
					"\"data\":{\"result\":[{\"value\":[1,\"5\"],\"metric\":{\"topic\":\"x\"}}],\"resultType\":\"vector\",\"extra\":1}}",
					&collected, &nans, &error);
	check(outcome == KPR_PROM_OK && collected.count == 1 && collected.values[0] == 5,
		  "warnings, infos and other keys ignored, any key order");

	outcome = parse(VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"1000000000000000000000\"]}"),
					&collected, &nans, &error);
	check(outcome == KPR_PROM_OK && collected.values[0] == 1e21, "large value without exponent");

	outcome = parse(VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"1.5e+06\"]}"),
					&collected, &nans, &error);
	check(outcome == KPR_PROM_OK && collected.values[0] == 1.5e6, "value with exponent");

	outcome = parse(VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"NaN\"]},"
						   "{\"metric\":{\"topic\":\"b\"},\"value\":[1,\"7\"]}"),
					&collected, &nans, &error);
	check(outcome == KPR_PROM_OK && collected.count == 1 && nans == 1 &&
		  strcmp(collected.labels[0], "b") == 0,
		  "NaN: series skipped and counted");

	outcome = parse(VECTOR("{\"metric\":{\"topic\":\"caf\\u00e9.\\u65e5\"},\"value\":[1,\"1\"]}"),
					&collected, &nans, &error);
	check(outcome == KPR_PROM_OK && strcmp(collected.labels[0], "caf\xc3\xa9.\xe6\x97\xa5") == 0,
		  "unicode escapes in a label value");

	outcome = parse(VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"1\"]},"
						   "{\"metric\":{\"topic\":\"b\"},\"value\":[1,\"2\"]},"
						   "{\"metric\":{\"topic\":\"c\"},\"value\":[1,\"3\"]}"),
					&collected, &nans, &error);
	check(outcome == KPR_PROM_OK && collected.count == 3, "stop_after 0 reads all");
	{
		size_t		length = strlen(VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"1\"]},"
										   "{\"metric\":{\"topic\":\"b\"},\"value\":[1,\"2\"]}"));

		memset(&collected, 0, sizeof(collected));
		collected.stop_after = 1;
		outcome = kpr_prom_parse_vector(VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"1\"]},"
											   "{\"metric\":{\"topic\":\"b\"},\"value\":[1,\"2\"]}"),
										length, "topic", collect, &collected, NULL, &error);
		check(outcome == KPR_PROM_STOPPED && collected.count == 1, "callback returning false stops");

		/* another label asked for */
		memset(&collected, 0, sizeof(collected));
		outcome = kpr_prom_parse_vector(VECTOR("{\"metric\":{\"redpanda_topic\":\"orders\",\"topic\":\"x\"},\"value\":[1,\"4\"]}"),
										strlen(VECTOR("{\"metric\":{\"redpanda_topic\":\"orders\",\"topic\":\"x\"},\"value\":[1,\"4\"]}")),
										"redpanda_topic", collect, &collected, NULL, NULL);
		check(outcome == KPR_PROM_OK && strcmp(collected.labels[0], "orders") == 0,
			  "label redpanda_topic read, NULL error and nan_count allowed");
	}
}

static void
test_errors(void)
{
	Collected	collected;
	KprPromError error;
	KprPromOutcome outcome;

	outcome = parse("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid parameter \\\"query\\\": 1:1: parse error: no expression found in input\"}",
					&collected, NULL, &error);
	check(outcome == KPR_PROM_API_ERROR && strcmp(error.error_type, "bad_data") == 0 &&
		  strcmp(error.message, "invalid parameter \"query\": 1:1: parse error: no expression found in input") == 0,
		  "status error: errorType and error (%s: %s)", error.error_type, error.message);
	outcome = parse("{\"status\":\"error\",\"errorType\":\"execution\",\"error\":\"vector cannot contain metrics with the same labelset\"}",
					&collected, NULL, &error);
	check(outcome == KPR_PROM_API_ERROR && strcmp(error.error_type, "execution") == 0, "422 execution body");
	outcome = parse("{\"status\":\"error\"}", &collected, NULL, &error);
	check(outcome == KPR_PROM_API_ERROR && strcmp(error.error_type, "unknown") == 0,
		  "status error without details (%s: %s)", error.error_type, error.message);
	outcome = parse("{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"line\\nbreak\\u0000nul\"}",
					&collected, NULL, &error);
	check(outcome == KPR_PROM_API_ERROR && strchr(error.message, '\n') == NULL,
		  "control characters in an error text are blanked (\"%s\")", error.message);

	expect_outcome("empty body", "", KPR_PROM_NOT_JSON, "empty");
	expect_outcome("plain text 404", "404 page not found", KPR_PROM_NOT_JSON, "not JSON");
	expect_outcome("truncated", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"topic\":\"a\"}",
				   KPR_PROM_NOT_JSON, "ends inside");
	expect_outcome("truncated in a string", "{\"status\":\"succ", KPR_PROM_NOT_JSON, NULL);
	expect_outcome("trailing garbage", VECTOR("") "x", KPR_PROM_NOT_JSON, NULL);
	expect_outcome("two documents", VECTOR("") VECTOR(""), KPR_PROM_NOT_JSON, NULL);
	expect_outcome("single quotes (not strict JSON)", "{'status':'success'}", KPR_PROM_NOT_JSON, NULL);
	expect_outcome("trailing comma (not strict JSON)", "{\"status\":\"success\",}", KPR_PROM_NOT_JSON, NULL);
	expect_outcome("invalid UTF-8", "{\"status\":\"\xff\xfe\"}", KPR_PROM_NOT_JSON, NULL);
	{
		/* a NUL byte inside the given length */
		static const char with_nul[] = "{\"status\":\"success\"}\0{}";
		KprPromError nul_error;

		memset(&collected, 0, sizeof(collected));
		outcome = kpr_prom_parse_vector(with_nul, sizeof(with_nul) - 1, "topic", collect, &collected, NULL, &nul_error);
		check(outcome == KPR_PROM_NOT_JSON && collected.count == 0, "NUL byte inside the body");
	}
	{
		/* deeper than json-c's limit of 32 */
		char		deep[200];

		memset(deep, '[', 100);
		memset(deep + 100, ']', 100);
		outcome = kpr_prom_parse_vector(deep, sizeof(deep), "topic", collect, &collected, NULL, &error);
		check(outcome == KPR_PROM_NOT_JSON, "nesting 100 deep refused (%s)", error.message);
	}
	outcome = kpr_prom_parse_vector(NULL, 0, "topic", collect, &collected, NULL, &error);
	check(outcome == KPR_PROM_NOT_JSON, "NULL body");

	expect_outcome("array document", "[]", KPR_PROM_BAD_SHAPE, "not a JSON object");
	expect_outcome("number document", "42", KPR_PROM_BAD_SHAPE, NULL);
	expect_outcome("no status", "{\"data\":{}}", KPR_PROM_BAD_SHAPE, "status");
	expect_outcome("status not a string", "{\"status\":1}", KPR_PROM_BAD_SHAPE, "status");
	expect_outcome("other status", "{\"status\":\"pending\",\"data\":{}}", KPR_PROM_BAD_SHAPE, "neither");
	expect_outcome("no data", "{\"status\":\"success\"}", KPR_PROM_BAD_SHAPE, "data");
	expect_outcome("data is an array", "{\"status\":\"success\",\"data\":[]}", KPR_PROM_BAD_SHAPE, "data");
	expect_outcome("no result", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\"}}", KPR_PROM_BAD_SHAPE, "result");
	expect_outcome("result is an object", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":{}}}", KPR_PROM_BAD_SHAPE, NULL);
	expect_outcome("matrix", "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}", KPR_PROM_BAD_SHAPE, "matrix");
	expect_outcome("scalar", "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"2\"]}}", KPR_PROM_BAD_SHAPE, "scalar");
	expect_outcome("series not an object", VECTOR("1"), KPR_PROM_BAD_SHAPE, "series 1");
	expect_outcome("no metric", VECTOR("{\"value\":[1,\"1\"]}"), KPR_PROM_BAD_SHAPE, "metric");
	expect_outcome("no value", VECTOR("{\"metric\":{\"topic\":\"a\"}}"), KPR_PROM_BAD_SHAPE, NULL);
	expect_outcome("matrix-style values", VECTOR("{\"metric\":{\"topic\":\"a\"},\"values\":[[1,\"1\"]]}"), KPR_PROM_BAD_SHAPE, NULL);
	expect_outcome("value of one element", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1]}"), KPR_PROM_BAD_SHAPE, NULL);
	expect_outcome("value of three elements", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"1\",2]}"), KPR_PROM_BAD_SHAPE, NULL);
	expect_outcome("value as a number", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,1]}"), KPR_PROM_BAD_SHAPE, "not a string");
	expect_outcome("time as a string", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[\"1\",\"1\"]}"), KPR_PROM_BAD_SHAPE, "time");
	expect_outcome("label not a string", VECTOR("{\"metric\":{\"topic\":7},\"value\":[1,\"1\"]}"), KPR_PROM_BAD_SHAPE, "not a string");
	expect_outcome("label null", VECTOR("{\"metric\":{\"topic\":null},\"value\":[1,\"1\"]}"), KPR_PROM_BAD_SHAPE, NULL);
	expect_outcome("value with a NUL", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"1\\u00002\"]}"), KPR_PROM_BAD_SHAPE, NULL);
	expect_outcome("label with a NUL", VECTOR("{\"metric\":{\"topic\":\"a\\u0000b\"},\"value\":[1,\"1\"]}"), KPR_PROM_MISSING_LABEL, NULL);

	expect_outcome("missing label (broker-wide total)", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"1\"]},{\"metric\":{},\"value\":[1,\"1103075\"]}"),
				   KPR_PROM_MISSING_LABEL, "series 2 of the result, {}, has no label \"topic\"");
	expect_outcome("empty label value", VECTOR("{\"metric\":{\"topic\":\"\"},\"value\":[1,\"1\"]}"), KPR_PROM_MISSING_LABEL, NULL);
	expect_outcome("other label only", VECTOR("{\"metric\":{\"redpanda_topic\":\"a\"},\"value\":[1,\"1\"]}"), KPR_PROM_MISSING_LABEL, "redpanda_topic");

	expect_outcome("+Inf", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"+Inf\"]}"), KPR_PROM_BAD_VALUE, "+Inf");
	expect_outcome("-Inf", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"-Inf\"]}"), KPR_PROM_BAD_VALUE, NULL);
	expect_outcome("inf", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"inf\"]}"), KPR_PROM_BAD_VALUE, NULL);
	expect_outcome("nan lower case", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"nan\"]}"), KPR_PROM_BAD_VALUE, NULL);
	expect_outcome("overflow", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"1e999\"]}"), KPR_PROM_BAD_VALUE, NULL);
	expect_outcome("empty value", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"\"]}"), KPR_PROM_BAD_VALUE, NULL);
	expect_outcome("hex value", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"0x10\"]}"), KPR_PROM_BAD_VALUE, NULL);
	expect_outcome("space in value", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\" 1\"]}"), KPR_PROM_BAD_VALUE, NULL);
	expect_outcome("word value", VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"12abc\"]}"), KPR_PROM_BAD_VALUE, NULL);
	expect_outcome("bad value after good ones: nothing delivered",
				   VECTOR("{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"1\"]},{\"metric\":{\"topic\":\"b\"},\"value\":[1,\"+Inf\"]}"),
				   KPR_PROM_BAD_VALUE, "series 2");
	{
		/* a long label value in a message is cut on a character boundary */
		char		text[2048];
		char		label[700];

		for (int i = 0; i + 2 < (int) sizeof(label); i += 2)
			memcpy(label + i, "\xc3\xa9", 2);
		label[sizeof(label) - 2] = '\0';
		snprintf(text, sizeof(text), VECTOR("{\"metric\":{\"topic\":\"%s\"},\"value\":[1,\"+Inf\"]}"), label);
		outcome = parse(text, &collected, NULL, &error);
		check(outcome == KPR_PROM_BAD_VALUE && strchr(error.message, '?') == NULL,
			  "long UTF-8 label cut at a character boundary in the message");
	}
}

static void
test_retention(void)
{
	static const struct
	{
		const char *text;
		KprPromRetentionKind kind;
		int64_t		seconds;
	}			cases[] = {
		{"15d", KPR_PROM_RETENTION_TIME, 15 * 86400},
		{"100y", KPR_PROM_RETENTION_TIME, INT64_C(100) * 365 * 86400},
		{"1y2w", KPR_PROM_RETENTION_TIME, (365 + 14) * 86400},
		{"2w3d4h5m6s7ms", KPR_PROM_RETENTION_TIME, 17 * 86400 + 4 * 3600 + 5 * 60 + 6},
		{"90m", KPR_PROM_RETENTION_TIME, 5400},
		{"2000ms", KPR_PROM_RETENTION_TIME, 2},
		{"1h2500ms", KPR_PROM_RETENTION_TIME, 3602},
		{"999ms", KPR_PROM_RETENTION_NO_TIME, 0},
		{"15d or 10GiB", KPR_PROM_RETENTION_TIME, 15 * 86400},
		{"10GiB or 15d", KPR_PROM_RETENTION_TIME, 15 * 86400},
		{"10GiB", KPR_PROM_RETENTION_NO_TIME, 0},
		{"512MB", KPR_PROM_RETENTION_NO_TIME, 0},
		{"", KPR_PROM_RETENTION_NO_TIME, 0},
		{"0s", KPR_PROM_RETENTION_NO_TIME, 0},
		{"99999999y", KPR_PROM_RETENTION_NO_TIME, 0},
		{"99999999999999999999y", KPR_PROM_RETENTION_UNKNOWN, 0},
		{"15", KPR_PROM_RETENTION_UNKNOWN, 0},
		{"d", KPR_PROM_RETENTION_UNKNOWN, 0},
		{"2d1w", KPR_PROM_RETENTION_UNKNOWN, 0},
		{"1d1d", KPR_PROM_RETENTION_UNKNOWN, 0},
		{"15 days", KPR_PROM_RETENTION_UNKNOWN, 0},
		{"15d or 20d", KPR_PROM_RETENTION_UNKNOWN, 0},
		{"15d or ", KPR_PROM_RETENTION_UNKNOWN, 0},
		{"-1d", KPR_PROM_RETENTION_UNKNOWN, 0},
	};
	KprPromRetentionKind kind;
	int64_t		seconds;
	char		text[64];
	KprPromError error;
	KprPromOutcome outcome;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		seconds = -1;
		kind = kpr_prom_parse_retention(cases[i].text, &seconds);
		check(kind == cases[i].kind && (kind != KPR_PROM_RETENTION_TIME || seconds == cases[i].seconds),
			  "retention \"%s\": kind %d seconds %lld", cases[i].text, (int) kind, (long long) seconds);
	}

#define RUNTIMEINFO(retention) "{\"status\":\"success\",\"data\":{\"startTime\":\"2026-11-23T10:00:00Z\",\"CWD\":\"/\"," \
	"\"reloadConfigSuccess\":true,\"lastConfigTime\":\"2026-11-23T10:00:00Z\",\"corruptionCount\":0," \
	"\"goroutineCount\":30,\"GOMAXPROCS\":2,\"GOGC\":\"\",\"GODEBUG\":\"\",\"storageRetention\":" retention "}}"
	outcome = kpr_prom_parse_runtimeinfo(RUNTIMEINFO("\"15d\""), strlen(RUNTIMEINFO("\"15d\"")),
										 &kind, &seconds, text, sizeof(text), &error);
	check(outcome == KPR_PROM_OK && kind == KPR_PROM_RETENTION_TIME && seconds == 15 * 86400 &&
		  strcmp(text, "15d") == 0, "runtimeinfo 15d");
	outcome = kpr_prom_parse_runtimeinfo(RUNTIMEINFO("\"100y\""), strlen(RUNTIMEINFO("\"100y\"")),
										 &kind, &seconds, text, 3, &error);
	check(outcome == KPR_PROM_OK && kind == KPR_PROM_RETENTION_TIME && strcmp(text, "10") == 0,
		  "runtimeinfo 100y, text truncated to its buffer");
	outcome = kpr_prom_parse_runtimeinfo(RUNTIMEINFO("7"), strlen(RUNTIMEINFO("7")),
										 &kind, &seconds, text, sizeof(text), &error);
	check(outcome == KPR_PROM_OK && kind == KPR_PROM_RETENTION_UNKNOWN, "runtimeinfo retention not a string");
	outcome = kpr_prom_parse_runtimeinfo("{\"status\":\"success\",\"data\":{}}", strlen("{\"status\":\"success\",\"data\":{}}"),
										 &kind, &seconds, text, sizeof(text), &error);
	check(outcome == KPR_PROM_OK && kind == KPR_PROM_RETENTION_UNKNOWN, "runtimeinfo without storageRetention");
	outcome = kpr_prom_parse_runtimeinfo("404 page not found", 18, &kind, &seconds, text, sizeof(text), &error);
	check(outcome == KPR_PROM_NOT_JSON, "runtimeinfo plain text");
	outcome = kpr_prom_parse_runtimeinfo("{\"status\":\"error\",\"errorType\":\"unavailable\",\"error\":\"x\"}",
										 strlen("{\"status\":\"error\",\"errorType\":\"unavailable\",\"error\":\"x\"}"),
										 &kind, &seconds, text, sizeof(text), &error);
	check(outcome == KPR_PROM_API_ERROR && strcmp(error.error_type, "unavailable") == 0, "runtimeinfo error status");
}

static void
check_string(const char *name, char *got, const char *want)
{
	check(got != NULL && strcmp(got, want) == 0, "%s: %s", name, got ? got : "(null)");
	free(got);
}

static void
test_promql(void)
{
	static const char *const good_metrics[] = {
		"kafka_server_brokertopicmetrics_bytesin_total",
		"a", "_x", ":rec:rule", "m{}", "m{ }",
		"redpanda_kafka_request_bytes_total{redpanda_request=\"produce\",redpanda_namespace=\"kafka\"}",
		"m{a=\"b\",}", "m{ a = \"b\" , c !~ 'x.*' }", "m{a=~`\\d+}`}", "m{a=\"q\\\"}\"}",
		"kafka_server_BrokerTopicMetrics_Count{name=\"BytesInPerSec\"}",
	};
	static const char *const bad_metrics[] = {
		"", "1m", "m x", " m", "m ", "m{", "m{a}", "m{a=b}", "m{a=\"b\"", "m{a=\"b\"}x",
		"m{a=\"b\" c=\"d\"}", "m{a==\"b\"}", "m{1a=\"b\"}", "m{a=\"b}", "m{,}", "m-x",
		"sum(m)", "m[5m]", "m{a=\"b\\\"}", "m{a=\"line\nbreak\"}", "m{}{}",
	};
	char		range[24];

	for (size_t i = 0; i < sizeof(good_metrics) / sizeof(good_metrics[0]); i++)
		check(kpr_promql_check_metric(good_metrics[i]) == NULL, "metric accepted: %s", good_metrics[i]);
	for (size_t i = 0; i < sizeof(bad_metrics) / sizeof(bad_metrics[0]); i++)
	{
		const char *problem = kpr_promql_check_metric(bad_metrics[i]);

		check(problem != NULL, "metric refused: bad_metrics[%zu] (%s)", i, problem ? problem : "accepted");
	}
	check(kpr_promql_check_label("topic") == NULL && kpr_promql_check_label("redpanda_topic") == NULL &&
		  kpr_promql_check_label("_t1") == NULL, "labels accepted");
	check(kpr_promql_check_label("") != NULL && kpr_promql_check_label("1t") != NULL &&
		  kpr_promql_check_label("a:b") != NULL && kpr_promql_check_label("topic name") != NULL &&
		  kpr_promql_check_label("a-b") != NULL, "labels refused");

	check_string("selector, name only",
				 kpr_promql_selector(KPR_PROMQL_DEFAULT_BYTES_IN, "topic"),
				 "kafka_server_brokertopicmetrics_bytesin_total{topic!=\"\"}");
	check_string("selector with matchers",
				 kpr_promql_selector("redpanda_kafka_request_bytes_total{redpanda_request=\"produce\",redpanda_namespace=\"kafka\"}", "redpanda_topic"),
				 "redpanda_kafka_request_bytes_total{redpanda_request=\"produce\",redpanda_namespace=\"kafka\",redpanda_topic!=\"\"}");
	check_string("selector with a trailing comma", kpr_promql_selector("m{a=\"b\", }", "t"), "m{a=\"b\", t!=\"\"}");
	check_string("selector with empty braces", kpr_promql_selector("m{ }", "t"), "m{ t!=\"\"}");
	check_string("selector with a brace in a value", kpr_promql_selector("m{a=`}`}", "t"), "m{a=`}`,t!=\"\"}");
	check(kpr_promql_selector("m{", "t") == NULL && kpr_promql_selector("m", "1t") == NULL,
		  "selector of an invalid option is NULL");

	kpr_promql_range(86400, range, sizeof(range));
	check(strcmp(range, "1d") == 0, "range of a day: %s", range);
	kpr_promql_range(86399, range, sizeof(range));
	check(strcmp(range, "86399s") == 0, "range 86399: %s", range);
	kpr_promql_range(3600, range, sizeof(range));
	check(strcmp(range, "3600s") == 0, "range 3600: %s", range);

	check_string("daily total (the verified form)",
				 kpr_promql_total("kafka_server_brokertopicmetrics_bytesin_total{topic!=\"\"}", "topic", "1d"),
				 "sum by (topic) (increase(kafka_server_brokertopicmetrics_bytesin_total{topic!=\"\"}[1d]))");
	check_string("daily peak (the verified form)",
				 kpr_promql_peak("kafka_server_brokertopicmetrics_bytesin_total{topic!=\"\"}", "topic", "86399s"),
				 "max_over_time(sum by (topic) (rate(kafka_server_brokertopicmetrics_bytesin_total{topic!=\"\"}[5m]))[86399s:5m])");

	check_string("$window replaced everywhere",
				 kpr_promql_expand_window("sum by (t) (increase(a[$window])) + sum by (t) (increase(b[$window]))", "3600s"),
				 "sum by (t) (increase(a[3600s])) + sum by (t) (increase(b[3600s]))");
	check_string("no $window", kpr_promql_expand_window("up", "1d"), "up");
	check_string("$window at both ends", kpr_promql_expand_window("$window$window", "1d"), "1d1d");
	check_string("$windo is no placeholder", kpr_promql_expand_window("$windo[$window]", "86399s"), "$windo[86399s]");

	check_string("url encoding",
				 kpr_url_encode("sum by (topic) (increase(m{topic!=\"\"}[1d]))"),
				 "sum%20by%20%28topic%29%20%28increase%28m%7Btopic%21%3D%22%22%7D%5B1d%5D%29%29");
	check_string("url encoding of + & = # % and UTF-8", kpr_url_encode("a+b&c=d#e%f\xc3\xa9~._-"),
				 "a%2Bb%26c%3Dd%23e%25f%C3%A9~._-");
}

/* The two-label parser (partition offsets): what it hands over. */
typedef struct Pairs
{
	int			count;
	char		text[512];
} Pairs;

static bool
collect_pair(const char *topic, const char *partition, double value, void *arg)
{
	Pairs	   *pairs = arg;
	size_t		used = strlen(pairs->text);

	snprintf(pairs->text + used, sizeof(pairs->text) - used, "%s/%s=%.0f;", topic, partition, value);
	pairs->count++;
	return true;
}

static KprPromOutcome
parse_pairs(const char *text, Pairs *pairs, KprPromError *error)
{
	memset(pairs, 0, sizeof(*pairs));
	memset(error, 0, sizeof(*error));
	return kpr_prom_parse_vector_pairs(text, strlen(text), "topic", "partition",
									   collect_pair, pairs, NULL, error);
}

static void
test_pairs(void)
{
	Pairs		pairs;
	KprPromError error;
	KprPromOutcome outcome;

	outcome = parse_pairs(VECTOR("{\"metric\":{\"topic\":\"clicks\",\"partition\":\"0\"},\"value\":[1,\"8500\"]},"
								 "{\"metric\":{\"partition\":\"3\",\"topic\":\"clicks\",\"instance\":\"b:1\"},\"value\":[1,\"500\"]}"),
						  &pairs, &error);
	check(outcome == KPR_PROM_OK && pairs.count == 2 &&
		  strcmp(pairs.text, "clicks/0=8500;clicks/3=500;") == 0,
		  "pairs: both labels handed over, in order: %s", pairs.text);

	outcome = parse_pairs(VECTOR("{\"metric\":{\"topic\":\"a\",\"partition\":\"0\"},\"value\":[1,\"1\"]},"
								 "{\"metric\":{\"topic\":\"a\"},\"value\":[1,\"2\"]}"),
						  &pairs, &error);
	check(outcome == KPR_PROM_MISSING_LABEL && pairs.count == 0 &&
		  strstr(error.message, "has no label \"partition\"") != NULL,
		  "pairs: a series without the second label: %s, no callback at all (\"%s\")",
		  kpr_prom_outcome_name(outcome), error.message);

	outcome = parse_pairs(VECTOR("{\"metric\":{\"topic\":\"a\",\"partition\":7},\"value\":[1,\"1\"]}"),
						  &pairs, &error);
	check(outcome == KPR_PROM_BAD_SHAPE && pairs.count == 0,
		  "pairs: a label that is not a string: %s", kpr_prom_outcome_name(outcome));

	outcome = parse_pairs(VECTOR("{\"metric\":{\"topic\":\"a\",\"partition\":\"\"},\"value\":[1,\"1\"]}"),
						  &pairs, &error);
	check(outcome == KPR_PROM_MISSING_LABEL, "pairs: an empty second label: %s",
		  kpr_prom_outcome_name(outcome));
}

int
main(void)
{
	test_vectors();
	test_pairs();
	test_errors();
	test_retention();
	test_promql();
	return tap_finish();
}
