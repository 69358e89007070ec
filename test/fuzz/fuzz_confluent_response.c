/*
 * fuzz_confluent_response.c
 *		Fuzz target: kpr_confluent_parse_response on any bytes.
 *
 * Invariants, besides no sanitizer report and no leak:
 *	- an error is a non-empty text (NUL-terminated inside errbuf when it is
 *	  errbuf); then no point was delivered and no page token is returned;
 *	- on success, a page token is NULL or a non-empty string that is all of
 *	  meta.pagination.next_page_token;
 *	- on success, the points delivered are exactly the elements of "data",
 *	  in order, each with all of its group label, its value (finite, >= 0)
 *	  and its timestamp as a strict RFC 3339 reference parser reads it;
 *	- a small errbuf gives the same outcome, truncated.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../src/confluent_response.h"
#include "fuzz.h"

#define GROUP_LABEL "metric.topic"

const char *const fuzz_target_name = "confluent_response";
const char *const fuzz_dictionary[] = {
	"\"data\"", "\"meta\"", "\"pagination\"", "\"next_page_token\"", "\"page_size\"",
	"\"timestamp\"", "\"value\"", "\"metric.topic\"", "\"2024-05-01T00:00:00Z\"",
	"\"2024-05-01T00:00:00.000Z\"", "\"2024-02-29T23:59:60+01:00\"", "\"2023-02-29T00:00:00Z\"",
	"\"9999-12-31T23:59:59.999999999-23:59\"", "\"0000-01-01T00:00:00Z\"",
	"{\"timestamp\":\"2024-05-01T00:00:00Z\",\"value\":1,\"metric.topic\":\"t\"}",
	"\"errors\"", "\"status\"", "\"detail\"", "\"orders\\u0000evil\"", NULL
};

typedef struct Delivered
{
	int			count;
	json_object *data;			/* the reference's "data", or NULL */
} Delivered;

static void
on_point(const char *group, int64_t bucket_start_ms, double value, void *arg)
{
	Delivered  *delivered = arg;
	json_object *point;
	json_object *field;
	int64_t		reference_ms;

	FUZZ_CHECK(group != NULL);
	FUZZ_CHECK(isfinite(value) && value >= 0);
	/* the reference parse found the same array, with this element */
	FUZZ_CHECK(delivered->data != NULL);
	FUZZ_CHECK((size_t) delivered->count < json_object_array_length(delivered->data));
	point = json_object_array_get_idx(delivered->data, delivered->count);
	FUZZ_CHECK(json_object_object_get_ex(point, GROUP_LABEL, &field));
	/* all of the group, not a part cut at a NUL inside */
	FUZZ_CHECK((size_t) json_object_get_string_len(field) == strlen(group));
	FUZZ_CHECK(strcmp(json_object_get_string(field), group) == 0);
	FUZZ_CHECK(json_object_object_get_ex(point, "value", &field));
	FUZZ_CHECK(json_object_get_double(field) == value);
	FUZZ_CHECK(json_object_object_get_ex(point, "timestamp", &field));
	FUZZ_CHECK((size_t) json_object_get_string_len(field) == strlen(json_object_get_string(field)));
	FUZZ_CHECK(fuzz_reference_rfc3339_ms(json_object_get_string(field), &reference_ms) == 0);
	FUZZ_CHECK(reference_ms == bucket_start_ms);
	delivered->count++;
}

/* The document as the parser should read it: the same json-c settings. */
static json_object *
reference_parse(const uint8_t *data, size_t size)
{
	json_tokener *tokener = json_tokener_new();
	json_object *root;

	if (tokener == NULL)
		abort();
	root = json_tokener_parse_ex(tokener, (const char *) data, (int) size);
	if (root != NULL && (json_tokener_get_error(tokener) != json_tokener_success ||
						 json_tokener_get_parse_end(tokener) < size))
	{
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tokener);
	return root;
}

typedef struct PartitionCount
{
	int			count;
	bool		valid;			/* every partition handed over was in range */
} PartitionCount;

static void
on_partition_point(const char *group, int32_t partition, int64_t bucket_start_ms,
				   double value, void *arg)
{
	PartitionCount *partitions = arg;

	partitions->count++;
	/* the values were checked by the topic parse already */
	(void) bucket_start_ms;
	(void) value;
	if (partition < 0 || group == NULL)
		partitions->valid = false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *root = reference_parse(data, size);
	json_object *reference_data = NULL;
	json_object *reference_token = NULL;
	Delivered	delivered = {0, NULL};
	char		errbuf[256];
	char		small_errbuf[24];
	char	   *token = (char *) "unset";
	char	   *small_token = (char *) "unset";
	const char *error;
	const char *small_error;
	int			first_count;

	if (root != NULL && json_object_object_get_ex(root, "data", &reference_data) &&
		json_object_is_type(reference_data, json_type_array))
		delivered.data = reference_data;
	if (root != NULL)
	{
		json_object *meta;
		json_object *pagination;

		if (json_object_object_get_ex(root, "meta", &meta) &&
			json_object_object_get_ex(meta, "pagination", &pagination))
			json_object_object_get_ex(pagination, "next_page_token", &reference_token);
	}

	memset(errbuf, 'x', sizeof(errbuf));
	error = kpr_confluent_parse_response((const char *) data, size, GROUP_LABEL,
										 on_point, &delivered, &token,
										 errbuf, sizeof(errbuf));
	first_count = delivered.count;
	if (error != NULL)
	{
		if (error == errbuf)
			FUZZ_CHECK(fuzz_terminated(errbuf, sizeof(errbuf)));
		FUZZ_CHECK(error[0] != '\0');
		FUZZ_CHECK(delivered.count == 0);
		FUZZ_CHECK(token == NULL);
	}
	else
	{
		FUZZ_CHECK(delivered.data != NULL);
		FUZZ_CHECK((size_t) delivered.count == json_object_array_length(delivered.data));
		if (token != NULL)
		{
			FUZZ_CHECK(token[0] != '\0');
			FUZZ_CHECK(reference_token != NULL);
			FUZZ_CHECK((size_t) json_object_get_string_len(reference_token) == strlen(token));
			FUZZ_CHECK(strcmp(json_object_get_string(reference_token), token) == 0);
		}
		else
			FUZZ_CHECK(reference_token == NULL ||
					   json_object_is_type(reference_token, json_type_null) ||
					   (json_object_is_type(reference_token, json_type_string) &&
						json_object_get_string_len(reference_token) == 0));
	}

	/* the same again with a small errbuf: same outcome, same points */
	delivered.count = 0;
	memset(small_errbuf, 'x', sizeof(small_errbuf));
	small_error = kpr_confluent_parse_response((const char *) data, size, GROUP_LABEL,
											   on_point, &delivered, &small_token,
											   small_errbuf, sizeof(small_errbuf));
	FUZZ_CHECK((error == NULL) == (small_error == NULL));
	FUZZ_CHECK(delivered.count == first_count);
	if (small_error == small_errbuf)
		FUZZ_CHECK(fuzz_terminated(small_errbuf, sizeof(small_errbuf)));
	FUZZ_CHECK((token == NULL) == (small_token == NULL));
	if (token != NULL)
		FUZZ_CHECK(strcmp(token, small_token) == 0);

	/*
	 * Grouped by partition too: stricter, so what it accepts the topic
	 * parse accepted, with the same points and the same token.
	 */
	{
		PartitionCount partitions = {0, true};
		char	   *partition_token = (char *) "unset";
		const char *partition_error;

		partition_error = kpr_confluent_parse_partition_response((const char *) data, size,
																 GROUP_LABEL, "metric.partition",
																 on_partition_point, &partitions,
																 &partition_token, errbuf, sizeof(errbuf));
		if (partition_error != NULL)
		{
			FUZZ_CHECK(partitions.count == 0);
			FUZZ_CHECK(partition_token == NULL);
		}
		else
		{
			FUZZ_CHECK(error == NULL);
			FUZZ_CHECK(partitions.count == first_count);
			FUZZ_CHECK(partitions.valid);
			FUZZ_CHECK((token == NULL) == (partition_token == NULL));
			if (token != NULL)
				FUZZ_CHECK(strcmp(token, partition_token) == 0);
		}
		free(partition_token);
	}

	free(token);
	free(small_token);
	json_object_put(root);
	return 0;
}
