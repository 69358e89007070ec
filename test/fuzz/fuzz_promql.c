/*
 * fuzz_promql.c
 *		Fuzz target: the PromQL option checks and builders on any text (what
 *		a user may write in a server option).
 *
 * Invariants, besides no sanitizer report and no leak:
 *	- kpr_promql_check_label accepts exactly [a-zA-Z_][a-zA-Z0-9_]*;
 *	- a check's answer is NULL or a non-empty text;
 *	- kpr_promql_selector gives NULL exactly for an invalid metric; else a
 *	  text that starts with the metric's name, ends with topic!=""}, and is
 *	  itself a valid metric option (so the selector of a selector works);
 *	- the total and peak queries hold the selector and the label;
 *	- kpr_promql_expand_window replaces every "$window", left to right,
 *	  and nothing else (compared with a reference replacement);
 *	- kpr_url_encode writes only unreserved characters and %XX, and
 *	  decodes back to the text;
 *	- kpr_promql_range writes a number of seconds that reads back.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/prometheus_promql.h"
#include "../../src/url_encode.h"
#include "fuzz.h"

const char *const fuzz_target_name = "promql";
const char *const fuzz_dictionary[] = {
	"kafka_server_brokertopicmetrics_bytesin_total", "{", "}", "=", "!=", "=~", "!~",
	"\"", "'", "`", "\\", ",", "job=\"kafka\"", "topic", "__name__", "$window", "$",
	"[$window]", "sum(", ")", "\n", " ", "\t", ":", "_", NULL
};

static bool
is_label_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		(!first && c >= '0' && c <= '9');
}

static bool
reference_label_valid(const char *text)
{
	if (text[0] == '\0')
		return false;
	for (const char *c = text; *c; c++)
		if (!is_label_char(*c, c == text))
			return false;
	return true;
}

static bool
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		c == '-' || c == '.' || c == '_' || c == '~';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
check_url_encode(const char *text)
{
	char	   *encoded = kpr_url_encode(text);
	const char *in;
	const char *expected = text;

	FUZZ_CHECK(encoded != NULL);
	for (in = encoded; *in; expected++)
	{
		if (*in == '%')
		{
			FUZZ_CHECK(hex_value(in[1]) >= 0 && hex_value(in[2]) >= 0);
			FUZZ_CHECK(*expected == (char) (hex_value(in[1]) * 16 + hex_value(in[2])));
			FUZZ_CHECK(!unreserved((unsigned char) *expected));
			in += 3;
		}
		else
		{
			FUZZ_CHECK(unreserved((unsigned char) *in));
			FUZZ_CHECK(*expected == *in);
			in++;
		}
	}
	FUZZ_CHECK(*expected == '\0');
	free(encoded);
}

static void
check_expand_window(const char *query, const char *range)
{
	char	   *expanded = kpr_promql_expand_window(query, range);
	size_t		placeholder = strlen(KPR_PROMQL_WINDOW);
	size_t		capacity = strlen(query) * (strlen(range) + 1) + 1;
	char	   *reference = malloc(capacity);
	size_t		out = 0;

	FUZZ_CHECK(expanded != NULL && reference != NULL);
	for (const char *c = query; *c;)
	{
		if (strncmp(c, KPR_PROMQL_WINDOW, placeholder) == 0)
		{
			memcpy(reference + out, range, strlen(range));
			out += strlen(range);
			c += placeholder;
		}
		else
			reference[out++] = *c++;
	}
	reference[out] = '\0';
	FUZZ_CHECK(strcmp(expanded, reference) == 0);
	free(reference);
	free(expanded);
}

static void
check_selector(const char *metric, const char *label)
{
	const char *problem = kpr_promql_check_metric(metric);
	char	   *selector = kpr_promql_selector(metric, label);
	char		suffix[160];
	size_t		name_length = strspn(metric,
									 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");

	FUZZ_CHECK(problem == NULL || problem[0] != '\0');
	FUZZ_CHECK((problem == NULL) == (selector != NULL));
	if (selector == NULL)
		return;
	FUZZ_CHECK(name_length > 0 && strncmp(selector, metric, name_length) == 0);
	snprintf(suffix, sizeof(suffix), "%s!=\"\"}", label);
	FUZZ_CHECK(strlen(selector) > strlen(suffix) &&
			   strcmp(selector + strlen(selector) - strlen(suffix), suffix) == 0);
	FUZZ_CHECK(kpr_promql_check_metric(selector) == NULL);
	{
		char	   *total = kpr_promql_total(selector, label, "1d");
		char	   *peak = kpr_promql_peak(selector, label, "86399s");
		char	   *twice = kpr_promql_selector(selector, label);

		FUZZ_CHECK(total != NULL && strstr(total, selector) != NULL);
		FUZZ_CHECK(peak != NULL && strstr(peak, selector) != NULL);
		FUZZ_CHECK(twice != NULL && kpr_promql_check_metric(twice) == NULL);
		free(total);
		free(peak);
		free(twice);
	}
	free(selector);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = fuzz_text(data, size);
	const char *label_problem = kpr_promql_check_label(text);
	int64_t		seconds = 0;
	char		range[24];
	char	   *end;

	FUZZ_CHECK(label_problem == NULL || label_problem[0] != '\0');
	FUZZ_CHECK((label_problem == NULL) == reference_label_valid(text));

	check_selector(text, "topic");
	if (label_problem == NULL && strlen(text) < 100)
		check_selector("kafka_x_total{job=\"kafka\"}", text);
	check_expand_window(text, "86399s");
	check_expand_window(text, KPR_PROMQL_WINDOW);
	check_url_encode(text);

	memcpy(&seconds, data, size < sizeof(seconds) ? size : sizeof(seconds));
	kpr_promql_range(seconds, range, sizeof(range));
	FUZZ_CHECK(fuzz_terminated(range, sizeof(range)));
	if (seconds == 86400)
		FUZZ_CHECK(strcmp(range, "1d") == 0);
	else
	{
		FUZZ_CHECK(strtoll(range, &end, 10) == seconds);
		FUZZ_CHECK(strcmp(end, "s") == 0);
	}
	free(text);
	return 0;
}
