/*
 * test_confluent_response.c
 *		Unit tests of src/confluent_response.c: points grouped by topic and
 *		by topic and partition, with the partition label in both forms the
 *		API may send, and pages it must refuse whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/confluent_response.h"
#include "tap.h"

typedef struct Points
{
	int			count;
	char		text[1024];
} Points;

static void
topic_point(const char *topic, int64_t bucket_start_ms, double value, void *arg)
{
	Points	   *points = arg;
	size_t		used = strlen(points->text);

	snprintf(points->text + used, sizeof(points->text) - used, "%s@%lld=%.0f;", topic,
			 (long long) bucket_start_ms, value);
	points->count++;
}

static void
partition_point(const char *topic, int32_t partition, int64_t bucket_start_ms, double value,
				void *arg)
{
	Points	   *points = arg;
	size_t		used = strlen(points->text);

	snprintf(points->text + used, sizeof(points->text) - used, "%s/%d@%lld=%.0f;", topic,
			 partition, (long long) bucket_start_ms, value);
	points->count++;
}

/* Parse a page grouped by topic and partition; the error text or NULL. */
static const char *
parse_partitions(const char *body, Points *points, char **token)
{
	static char errbuf[256];

	memset(points, 0, sizeof(*points));
	return kpr_confluent_parse_partition_response(body, strlen(body), "metric.topic",
												  "metric.partition", partition_point, points,
												  token, errbuf, sizeof(errbuf));
}

static void
expect_refused(const char *name, const char *body)
{
	Points		points;
	char	   *token = NULL;
	const char *error = parse_partitions(body, &points, &token);

	check(error != NULL && points.count == 0 && token == NULL,
		  "%s: refused whole (%s)", name, error ? error : "accepted");
	free(token);
}

#define PAGE(points, meta) "{\"data\":[" points "],\"meta\":{\"pagination\":{\"page_size\":1000" meta "}}}"

int
main(void)
{
	Points		points;
	char	   *token = NULL;
	const char *error;
	char		errbuf[256];

	/* both label forms, numbers in both forms, a page token */
	error = parse_partitions(PAGE("{\"timestamp\":\"2026-12-01T00:00:00Z\",\"value\":8500,\"metric.topic\":\"clicks\",\"metric.partition\":\"0\"},"
								  "{\"timestamp\":\"2026-12-01T00:00:00.000Z\",\"value\":500.0,\"metric.topic\":\"clicks\",\"metric.partition\":3}",
								  ",\"next_page_token\":\"abc\""),
							 &points, &token);
	check(error == NULL && points.count == 2 &&
		  strcmp(points.text, "clicks/0@1796083200000=8500;clicks/3@1796083200000=500;") == 0 &&
		  token != NULL && strcmp(token, "abc") == 0,
		  "partition as a string and as an integer: %s", error ? error : points.text);
	free(token);
	token = NULL;

	error = parse_partitions(PAGE("{\"timestamp\":\"2026-12-01T00:00:00Z\",\"value\":1,\"metric.topic\":\"t\",\"metric.partition\":\"2147483647\"}", ""),
							 &points, &token);
	check(error == NULL && points.count == 1 && strstr(points.text, "t/2147483647@") != NULL,
		  "the largest partition id: %s", error ? error : points.text);

	expect_refused("no partition label",
				   PAGE("{\"timestamp\":\"2026-12-01T00:00:00Z\",\"value\":1,\"metric.topic\":\"t\",\"metric.partition\":\"1\"},"
						"{\"timestamp\":\"2026-12-01T00:00:00Z\",\"value\":1,\"metric.topic\":\"t\"}", ""));
	expect_refused("a negative partition",
				   PAGE("{\"timestamp\":\"2026-12-01T00:00:00Z\",\"value\":1,\"metric.topic\":\"t\",\"metric.partition\":-1}", ""));
	expect_refused("a partition past 2^31 - 1",
				   PAGE("{\"timestamp\":\"2026-12-01T00:00:00Z\",\"value\":1,\"metric.topic\":\"t\",\"metric.partition\":\"2147483648\"}", ""));
	expect_refused("a partition that is not digits",
				   PAGE("{\"timestamp\":\"2026-12-01T00:00:00Z\",\"value\":1,\"metric.topic\":\"t\",\"metric.partition\":\"1a\"}", ""));
	expect_refused("a fractional partition",
				   PAGE("{\"timestamp\":\"2026-12-01T00:00:00Z\",\"value\":1,\"metric.topic\":\"t\",\"metric.partition\":1.5}", ""));
	expect_refused("an empty partition",
				   PAGE("{\"timestamp\":\"2026-12-01T00:00:00Z\",\"value\":1,\"metric.topic\":\"t\",\"metric.partition\":\"\"}", ""));

	/* grouped by topic only, the partition label is not needed */
	memset(&points, 0, sizeof(points));
	{
		const char *body = PAGE("{\"timestamp\":\"2026-12-01T00:00:00Z\",\"value\":7,\"metric.topic\":\"t\"}", "");

		error = kpr_confluent_parse_response(body, strlen(body), "metric.topic", topic_point,
											 &points, &token, errbuf, sizeof(errbuf));
	}
	check(error == NULL && points.count == 1 && strcmp(points.text, "t@1796083200000=7;") == 0 &&
		  token == NULL, "grouped by topic: %s", error ? error : points.text);
	return tap_finish();
}
