/*
 * fuzz_prometheus_retention.c
 *		Fuzz target: kpr_prom_parse_retention on any text.
 *
 * Invariant, besides no sanitizer report: the kind and seconds are those
 * of a reference written another way (POSIX regular expressions for a
 * duration and a byte size, 128-bit arithmetic), following the header's
 * contract: parts separated by " or ", white space around a part ignored;
 * at most one duration (y w d h m s ms, each at most once, largest first,
 * or "0"), the rest byte sizes; the time rounded down to a second; zero,
 * none, or beyond 10 000 years is no time limit; *seconds untouched unless
 * the kind is a time.
 */
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/prometheus_response.h"
#include "fuzz.h"

#define MAX_RETENTION_SECONDS	(INT64_C(10000) * 365 * 86400)
#define UNSET					INT64_C(-424242)

const char *const fuzz_target_name = "prometheus_retention";
const char *const fuzz_dictionary[] = {
	"y", "w", "d", "h", "m", "s", "ms", "B", "KiB", "MiB", "GiB", "TiB", "KB", "GB",
	" or ", "or", "15d", "10GiB", "1y2w", "0", "0s", "100y", "10000y", "9999y",
	"1h30m", "500ms", "2000ms", "1.5GB", "9223372036854775807", "922337203685477580",
	" ", "\t", "\n", NULL
};

typedef enum
{
	PART_DURATION,
	PART_SIZE,
	PART_NEITHER,
	PART_UNSURE					/* a number so large the parsers may differ */
} PartKind;

static regex_t duration_pattern;
static regex_t size_pattern;

static void
compile_patterns(void)
{
	static bool compiled = false;

	if (compiled)
		return;
	if (regcomp(&duration_pattern,
				"^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?"
				"(([0-9]+)s)?(([0-9]+)ms)?$", REG_EXTENDED) != 0 ||
		regcomp(&size_pattern, "^[0-9.]+[A-Za-z]{0,2}B$", REG_EXTENDED) != 0)
		abort();
	compiled = true;
}

/* A part (trimmed, NUL-terminated): what it is, and a duration's seconds */
static PartKind
classify(const char *part, __int128 *seconds)
{
	static const int64_t unit_seconds[] = {365 * 86400, 7 * 86400, 86400, 3600, 60, 1};
	regmatch_t	match[15];
	__int128	total = 0;
	__int128	millis;

	if (strcmp(part, "0") == 0)
	{
		*seconds = 0;
		return PART_DURATION;
	}
	if (part[0] == '\0' || regexec(&duration_pattern, part, 15, match, 0) != 0)
		return regexec(&size_pattern, part, 0, NULL, 0) == 0 ? PART_SIZE : PART_NEITHER;
	/* groups 2, 4, ... 14 hold the numbers of y w d h m s ms */
	for (int unit = 0; unit < 7; unit++)
	{
		const regmatch_t *number = &match[2 + 2 * unit];
		__int128	value = 0;

		if (number->rm_so < 0)
			continue;
		if (number->rm_eo - number->rm_so > 18)
			return PART_UNSURE;
		for (regoff_t i = number->rm_so; i < number->rm_eo; i++)
			value = value * 10 + (part[i] - '0');
		if (unit < 6)
			total += value * unit_seconds[unit];
		else
		{
			millis = value;
			total += millis / 1000;
		}
	}
	*seconds = total;
	return PART_DURATION;
}

static KprPromRetentionKind
reference_retention(const char *text, int64_t *seconds)
{
	const char *part = text;
	bool		has_time = false;
	__int128	time_seconds = 0;

	if (text[strspn(text, " \t\r\n")] == '\0')
		return KPR_PROM_RETENTION_NO_TIME;
	for (;;)
	{
		const char *separator = strstr(part, " or ");
		size_t		length = separator ? (size_t) (separator - part) : strlen(part);
		char	   *trimmed;
		size_t		start = 0;
		__int128	part_seconds = 0;
		PartKind	kind;

		while (start < length && isspace((unsigned char) part[start]))
			start++;
		while (length > start && isspace((unsigned char) part[length - 1]))
			length--;
		trimmed = strndup(part + start, length - start);
		if (trimmed == NULL)
			abort();
		kind = classify(trimmed, &part_seconds);
		free(trimmed);
		if (kind == PART_UNSURE)
			return (KprPromRetentionKind) -1;
		if (kind == PART_NEITHER || (kind == PART_DURATION && has_time))
			return KPR_PROM_RETENTION_UNKNOWN;
		if (kind == PART_DURATION)
		{
			has_time = true;
			time_seconds = part_seconds;
		}
		if (separator == NULL)
			break;
		part = separator + 4;
	}
	if (!has_time || time_seconds == 0 || time_seconds > MAX_RETENTION_SECONDS)
		return KPR_PROM_RETENTION_NO_TIME;
	*seconds = (int64_t) time_seconds;
	return KPR_PROM_RETENTION_TIME;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = fuzz_text(data, size);
	int64_t		seconds = UNSET;
	int64_t		reference_seconds = UNSET;
	KprPromRetentionKind kind;
	KprPromRetentionKind reference;

	compile_patterns();
	kind = kpr_prom_parse_retention(text, &seconds);
	FUZZ_CHECK(kind == KPR_PROM_RETENTION_TIME || kind == KPR_PROM_RETENTION_NO_TIME ||
			   kind == KPR_PROM_RETENTION_UNKNOWN);
	if (kind == KPR_PROM_RETENTION_TIME)
		FUZZ_CHECK(seconds >= 1 && seconds <= MAX_RETENTION_SECONDS);
	else
		FUZZ_CHECK(seconds == UNSET);
	reference = reference_retention(text, &reference_seconds);
	if (reference != (KprPromRetentionKind) -1)
	{
		FUZZ_CHECK(kind == reference);
		FUZZ_CHECK(seconds == reference_seconds);
	}
	FUZZ_CHECK(kpr_prom_parse_retention(NULL, &seconds) == KPR_PROM_RETENTION_UNKNOWN);
	free(text);
	return 0;
}
