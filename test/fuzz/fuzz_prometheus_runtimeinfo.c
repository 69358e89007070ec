/*
 * fuzz_prometheus_runtimeinfo.c
 *		Fuzz target: kpr_prom_parse_runtimeinfo on any bytes.
 *
 * Invariants, besides no sanitizer report and no leak:
 *	- the outcome is ok, not_json, bad_shape or api_error (nothing here can
 *	  stop, and there are no samples);
 *	- an error's message and type are NUL-terminated, clean UTF-8;
 *	- on ok, the kind is one of the enum's; a time retention is 1 second to
 *	  10 000 years, and *seconds is left alone otherwise; the kind is what
 *	  kpr_prom_parse_retention says of the reference's storageRetention;
 *	- the retention text is NUL-terminated inside its buffer (of a size
 *	  chosen from the input's hash, down to 1 byte) and clean UTF-8.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../src/prometheus_response.h"
#include "fuzz.h"

#define MAX_RETENTION_SECONDS	(INT64_C(10000) * 365 * 86400)
#define UNSET					INT64_C(-424242)

const char *const fuzz_target_name = "prometheus_runtimeinfo";
const char *const fuzz_dictionary[] = {
	"\"status\"", "\"success\"", "\"error\"", "\"data\"", "\"storageRetention\"",
	"\"15d\"", "\"10GiB\"", "\"15d or 10GiB\"", "\"1y2w\"", "\"0s\"", "\"100y\"",
	"\"1h30m\"", "\"500ms\"", "\"2000ms\"", "\" or \"", "\"\\u00e9\"", "\"\\u0000\"",
	"\"startTime\"", "\"CWD\"", "\"goroutineCount\"", NULL
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t text_sizes[] = {64, 1, 5, 256};
	uint64_t	hash = fuzz_hash(data, size);
	size_t		text_size = text_sizes[hash % 4];
	char		retention_text[256];
	KprPromRetentionKind kind = (KprPromRetentionKind) -1;
	int64_t		seconds = UNSET;
	KprPromError error;
	KprPromOutcome outcome;

	memset(&error, 'x', sizeof(error));
	memset(retention_text, 'x', sizeof(retention_text));
	outcome = kpr_prom_parse_runtimeinfo((const char *) data, size, &kind, &seconds,
										 retention_text, text_size, &error);
	FUZZ_CHECK(outcome == KPR_PROM_OK || outcome == KPR_PROM_NOT_JSON ||
			   outcome == KPR_PROM_BAD_SHAPE || outcome == KPR_PROM_API_ERROR);
	FUZZ_CHECK(fuzz_terminated(retention_text, text_size));
	FUZZ_CHECK(fuzz_clean_text(retention_text));
	if (outcome != KPR_PROM_OK)
	{
		FUZZ_CHECK(fuzz_terminated(error.message, sizeof(error.message)));
		FUZZ_CHECK(fuzz_clean_text(error.message));
		FUZZ_CHECK(fuzz_terminated(error.error_type, sizeof(error.error_type)));
		FUZZ_CHECK(fuzz_clean_text(error.error_type));
		FUZZ_CHECK(retention_text[0] == '\0');
		FUZZ_CHECK(seconds == UNSET);
	}
	else
	{
		char	   *text = fuzz_text(data, size);
		json_object *root = json_tokener_parse(text);
		json_object *object;
		json_object *retention = NULL;
		int64_t		reference_seconds = UNSET;
		KprPromRetentionKind reference_kind = KPR_PROM_RETENTION_UNKNOWN;

		FUZZ_CHECK(kind == KPR_PROM_RETENTION_TIME || kind == KPR_PROM_RETENTION_NO_TIME ||
				   kind == KPR_PROM_RETENTION_UNKNOWN);
		if (kind == KPR_PROM_RETENTION_TIME)
			FUZZ_CHECK(seconds >= 1 && seconds <= MAX_RETENTION_SECONDS);
		else
			FUZZ_CHECK(seconds == UNSET);
		/* the body has no NUL (the parser refuses one), so this is all of it */
		if (root != NULL && json_object_object_get_ex(root, "data", &object))
			json_object_object_get_ex(object, "storageRetention", &retention);
		if (retention != NULL && json_object_is_type(retention, json_type_string) &&
			(size_t) json_object_get_string_len(retention) == strlen(json_object_get_string(retention)))
			reference_kind = kpr_prom_parse_retention(json_object_get_string(retention),
													  &reference_seconds);
		FUZZ_CHECK(kind == reference_kind);
		FUZZ_CHECK(seconds == reference_seconds);
		json_object_put(root);
		free(text);
	}
	return 0;
}
