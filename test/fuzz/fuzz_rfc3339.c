/*
 * fuzz_rfc3339.c
 *		Fuzz target: kpr_parse_rfc3339_ms on any text.
 *
 * Invariant, besides no sanitizer report: it accepts exactly what a strict
 * reference parser (a POSIX regex, the Gregorian calendar's month lengths,
 * timegm; fuzz_support.c) accepts, with the same milliseconds, and leaves
 * *ms alone when it refuses.
 */
#include <stdlib.h>

#include "../../src/confluent_response.h"
#include "fuzz.h"

const char *const fuzz_target_name = "rfc3339";
const char *const fuzz_dictionary[] = {
	"2024-05-01T00:00:00Z", "2024-05-01T00:00:00.000Z", "2024-02-29T23:59:60+01:00",
	"2023-02-29", "2100-02-29", "2000-02-29", "T", "t", "Z", "z", "+23:59", "-00:00",
	"+24:00", ".123456789", ".1234567890", ".", ":60", ":61", "-13-", "-00-", "-31T",
	"0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", NULL
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = fuzz_text(data, size);
	int64_t		ms = INT64_MIN;
	int64_t		reference_ms = 0;
	int			result = kpr_parse_rfc3339_ms(text, &ms);
	int			reference = fuzz_reference_rfc3339_ms(text, &reference_ms);

	FUZZ_CHECK(result == 0 || result == -1);
	FUZZ_CHECK(result == reference);
	if (result == 0)
		FUZZ_CHECK(ms == reference_ms);
	else
		FUZZ_CHECK(ms == INT64_MIN);
	free(text);
	return 0;
}
