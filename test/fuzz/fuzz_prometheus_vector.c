/*
 * fuzz_prometheus_vector.c
 *		Fuzz target: kpr_prom_parse_vector on any bytes.
 *
 * Invariants, besides no sanitizer report and no leak:
 *	- the outcome is one of the enum's, with a name;
 *	- on an outcome other than ok, the message (and on api_error the error
 *	  type) is NUL-terminated inside its field, valid UTF-8 without control
 *	  characters;
 *	- on an error other than stopped no sample was delivered; stopped
 *	  happens only when the callback said so, right after it did;
 *	- on ok, every series of the reference parse of "result" was either
 *	  delivered (in order, with all of its label, non-empty, and a finite
 *	  value) or counted as NaN;
 *	- the same input with error and nan_count NULL gives the same outcome.
 * The callback stops the parse at a sample chosen from the input's hash.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../src/prometheus_response.h"
#include "fuzz.h"

#define LABEL "topic"

const char *const fuzz_target_name = "prometheus_vector";
const char *const fuzz_dictionary[] = {
	"\"status\"", "\"success\"", "\"error\"", "\"errorType\"", "\"bad_data\"",
	"\"data\"", "\"resultType\"", "\"vector\"", "\"matrix\"", "\"scalar\"", "\"result\"",
	"\"metric\"", "\"value\"", "\"topic\"", "\"__name__\"", "\"warnings\"", "\"infos\"",
	"\"NaN\"", "\"+Inf\"", "\"-Inf\"", "\"1e308\"", "\"1e309\"", "\"4.9e-324\"",
	"\"1e-400\"", "\"0x10\"", "\" 1\"", "\"1.5.5\"", "\"--1\"", "\"\"", "1714521600.123",
	"{\"metric\":{\"topic\":\"t\"},\"value\":[1714521600,\"1\"]}", "\"t\\u0000x\"", NULL
};

typedef struct Delivered
{
	int			count;
	int			stop_at;		/* return false on this call (1-based); 0: never */
	bool		stopped;
	json_object *result;		/* the reference's result array, or NULL */
	size_t		next_series;	/* where the next delivered one should be */
} Delivered;

/* Is this series of the reference a NaN sample (which is skipped)? */
static bool
is_nan_series(json_object *series)
{
	json_object *pair;

	return json_object_object_get_ex(series, "value", &pair) &&
		strcmp(json_object_get_string(json_object_array_get_idx(pair, 1)), "NaN") == 0;
}

static bool
on_sample(const char *label_value, double value, void *arg)
{
	Delivered  *delivered = arg;
	json_object *series;
	json_object *metric;
	json_object *label;

	FUZZ_CHECK(!delivered->stopped);
	FUZZ_CHECK(label_value != NULL && label_value[0] != '\0');
	FUZZ_CHECK(isfinite(value));
	FUZZ_CHECK(delivered->result != NULL);
	while (delivered->next_series < json_object_array_length(delivered->result) &&
		   is_nan_series(json_object_array_get_idx(delivered->result, delivered->next_series)))
		delivered->next_series++;
	FUZZ_CHECK(delivered->next_series < json_object_array_length(delivered->result));
	series = json_object_array_get_idx(delivered->result, delivered->next_series++);
	FUZZ_CHECK(json_object_object_get_ex(series, "metric", &metric));
	FUZZ_CHECK(json_object_object_get_ex(metric, LABEL, &label));
	FUZZ_CHECK((size_t) json_object_get_string_len(label) == strlen(label_value));
	FUZZ_CHECK(strcmp(json_object_get_string(label), label_value) == 0);
	delivered->count++;
	if (delivered->count == delivered->stop_at)
	{
		delivered->stopped = true;
		return false;
	}
	return true;
}

static json_object *
reference_result(const uint8_t *data, size_t size, json_object **root)
{
	json_tokener *tokener = json_tokener_new();
	json_object *object;
	json_object *result = NULL;

	if (tokener == NULL)
		abort();
	json_tokener_set_flags(tokener, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	*root = json_tokener_parse_ex(tokener, (const char *) data, (int) size);
	if (*root == NULL && json_tokener_get_error(tokener) == json_tokener_continue)
		*root = json_tokener_parse_ex(tokener, "", 1);
	json_tokener_free(tokener);
	if (*root != NULL && json_object_object_get_ex(*root, "data", &object))
		json_object_object_get_ex(object, "result", &result);
	return result;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t	hash = fuzz_hash(data, size);
	json_object *root = NULL;
	Delivered	delivered = {0, 0, false, NULL, 0};
	Delivered	again = {0, 0, false, NULL, 0};
	KprPromError error;
	KprPromOutcome outcome;
	KprPromOutcome outcome_again;
	int			nan_count = -1;

	delivered.result = reference_result(data, size, &root);
	delivered.stop_at = hash % 4 == 0 ? (int) (1 + (hash >> 8) % 3) : 0;
	memset(&error, 'x', sizeof(error));
	outcome = kpr_prom_parse_vector((const char *) data, size, LABEL, on_sample,
									&delivered, &nan_count, &error);
	FUZZ_CHECK(strcmp(kpr_prom_outcome_name(outcome), "unknown") != 0);
	FUZZ_CHECK(nan_count >= 0);
	if (outcome != KPR_PROM_OK)
	{
		FUZZ_CHECK(fuzz_terminated(error.message, sizeof(error.message)));
		FUZZ_CHECK(fuzz_clean_text(error.message));
		FUZZ_CHECK(fuzz_terminated(error.error_type, sizeof(error.error_type)));
		FUZZ_CHECK(fuzz_clean_text(error.error_type));
		if (outcome != KPR_PROM_API_ERROR)
			FUZZ_CHECK(error.error_type[0] == '\0');
	}
	if (outcome == KPR_PROM_STOPPED)
		FUZZ_CHECK(delivered.stopped && delivered.count == delivered.stop_at);
	else
		FUZZ_CHECK(!delivered.stopped);
	if (outcome != KPR_PROM_OK && outcome != KPR_PROM_STOPPED)
		FUZZ_CHECK(delivered.count == 0);
	if (outcome == KPR_PROM_OK)
	{
		FUZZ_CHECK(delivered.result != NULL);
		FUZZ_CHECK((size_t) (delivered.count + nan_count) ==
				   json_object_array_length(delivered.result));
	}

	/* no error struct, no NaN count: the same answer */
	again.result = delivered.result;
	again.stop_at = delivered.stop_at;
	outcome_again = kpr_prom_parse_vector((const char *) data, size, LABEL, on_sample,
										  &again, NULL, NULL);
	FUZZ_CHECK(outcome_again == outcome);
	FUZZ_CHECK(again.count == delivered.count);

	json_object_put(root);
	return 0;
}
