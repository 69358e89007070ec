/*
 * prometheus_response.c
 *		Parsing a Prometheus server's answers (see prometheus_response.h):
 *		instant-query vectors and the storage retention.
 *
 * No PostgreSQL here: json-c and malloc only, every object freed before
 * returning.  The document is parsed in strict mode from the given length
 * (a NUL byte inside is an error, not an end), then checked completely
 * before the first callback, so a bad series at the end leaves nothing half
 * delivered.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "prometheus_response.h"

/* Retentions beyond this (about 10 000 years) are no limit at all. */
#define MAX_RETENTION_SECONDS	(INT64_C(10000) * 365 * 86400)

static void set_error(KprPromError *error, const char *format,...)
			__attribute__((format(printf, 2, 3)));

/*
 * Make a message safe to quote: control characters become spaces, and bytes
 * that are not valid UTF-8 (such as a sequence cut by a precision) '?'.
 */
static void
sanitize_text(char *text)
{
	unsigned char *c = (unsigned char *) text;

	while (*c)
	{
		int			length;

		if (*c < 0x80)
		{
			if (*c < 0x20 || *c == 0x7f)
				*c = ' ';
			c++;
			continue;
		}
		if (*c >= 0xc2 && *c <= 0xdf)
			length = 2;
		else if (*c >= 0xe0 && *c <= 0xef)
			length = 3;
		else if (*c >= 0xf0 && *c <= 0xf4)
			length = 4;
		else
			length = 0;
		for (int i = 1; i < length; i++)
			if ((c[i] & 0xc0) != 0x80)
				length = 0;		/* also stops at the NUL */
		/* no overlong forms, no surrogates, nothing above U+10FFFF */
		if ((c[0] == 0xe0 && length && c[1] < 0xa0) ||
			(c[0] == 0xed && length && c[1] > 0x9f) ||
			(c[0] == 0xf0 && length && c[1] < 0x90) ||
			(c[0] == 0xf4 && length && c[1] > 0x8f))
			length = 0;
		if (length == 0)
		{
			*c++ = '?';
			continue;
		}
		c += length;
	}
}

static void
set_error(KprPromError *error, const char *format,...)
{
	va_list		args;

	if (error == NULL)
		return;
	va_start(args, format);
	vsnprintf(error->message, sizeof(error->message), format, args);
	va_end(args);
	sanitize_text(error->message);
}

const char *
kpr_prom_outcome_name(KprPromOutcome outcome)
{
	switch (outcome)
	{
		case KPR_PROM_OK:
			return "ok";
		case KPR_PROM_NOT_JSON:
			return "not_json";
		case KPR_PROM_BAD_SHAPE:
			return "bad_shape";
		case KPR_PROM_API_ERROR:
			return "api_error";
		case KPR_PROM_MISSING_LABEL:
			return "missing_label";
		case KPR_PROM_BAD_VALUE:
			return "bad_value";
		case KPR_PROM_STOPPED:
			return "stopped";
	}
	return "unknown";
}

/*
 * One strict JSON document spanning the whole body (white space around it
 * allowed), or NULL with the error set.
 */
static json_object *
parse_document(const char *body, size_t length, KprPromError *error)
{
	json_tokener *tokener;
	json_object *document;
	enum json_tokener_error parse_error;
	size_t		end;

	if (body == NULL || length == 0)
	{
		set_error(error, "the answer is empty");
		return NULL;
	}
	if (length > INT_MAX)
	{
		set_error(error, "the answer is too large (%zu bytes)", length);
		return NULL;
	}
	if (memchr(body, '\0', length) != NULL)
	{
		set_error(error, "the answer contains a NUL byte");
		return NULL;
	}
	tokener = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (tokener == NULL)
	{
		set_error(error, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tokener, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	document = json_tokener_parse_ex(tokener, body, (int) length);
	parse_error = json_tokener_get_error(tokener);
	end = json_tokener_get_parse_end(tokener);
	if (document == NULL && parse_error == json_tokener_continue)
	{
		/*
		 * The body is all there is: a final NUL tells json-c so (a bare
		 * number needs it to end); anything still open is truncated.
		 */
		document = json_tokener_parse_ex(tokener, "", 1);
		if (document == NULL)
			parse_error = json_tokener_continue;
		end = length;
	}
	if (document == NULL)
	{
		if (parse_error == json_tokener_continue)
			set_error(error, "the answer ends inside a JSON document (%zu bytes)", length);
		else
			set_error(error, "the answer is not JSON: %s at byte %zu",
					  json_tokener_error_desc(parse_error), end);
	}
	else
	{
		while (end < length && isspace((unsigned char) body[end]))
			end++;
		if (end < length)
		{
			set_error(error, "the answer has more after its JSON document, at byte %zu", end);
			json_object_put(document);
			document = NULL;
		}
	}
	json_tokener_free(tokener);
	return document;
}

/* A member of an object, of the given type, or NULL. */
static json_object *
member(json_object *object, const char *key, json_type type)
{
	json_object *value;

	if (object == NULL || !json_object_is_type(object, json_type_object) ||
		!json_object_object_get_ex(object, key, &value) ||
		!json_object_is_type(value, type))
		return NULL;
	return value;
}

/* A string's text, if it holds no NUL byte; else NULL. */
static const char *
string_text(json_object *string)
{
	const char *text = json_object_get_string(string);
	int			length = json_object_get_string_len(string);

	if (text == NULL || length < 0 || strlen(text) != (size_t) length)
		return NULL;
	return text;
}

/*
 * The common envelope: "success" gives data, "error" fills error_type and
 * message.  KPR_PROM_OK with *data set, or the outcome.
 */
static KprPromOutcome
check_envelope(json_object *document, json_object **data, KprPromError *error)
{
	json_object *status = member(document, "status", json_type_string);
	const char *status_text = status ? string_text(status) : NULL;

	if (!json_object_is_type(document, json_type_object))
	{
		set_error(error, "the answer is not a JSON object");
		return KPR_PROM_BAD_SHAPE;
	}
	if (status_text == NULL)
	{
		set_error(error, "the answer has no \"status\"");
		return KPR_PROM_BAD_SHAPE;
	}
	if (strcmp(status_text, "error") == 0)
	{
		json_object *error_type = member(document, "errorType", json_type_string);
		json_object *message = member(document, "error", json_type_string);

		if (error != NULL)
		{
			snprintf(error->error_type, sizeof(error->error_type), "%s",
					 error_type && string_text(error_type) ? string_text(error_type) : "unknown");
			snprintf(error->message, sizeof(error->message), "%s",
					 message && string_text(message) ? string_text(message) : "(no error text)");
			sanitize_text(error->error_type);
			sanitize_text(error->message);
		}
		return KPR_PROM_API_ERROR;
	}
	if (strcmp(status_text, "success") != 0)
	{
		set_error(error, "the answer's \"status\" is neither \"success\" nor \"error\"");
		return KPR_PROM_BAD_SHAPE;
	}
	*data = member(document, "data", json_type_object);
	if (*data == NULL)
	{
		set_error(error, "the answer has no \"data\" object");
		return KPR_PROM_BAD_SHAPE;
	}
	return KPR_PROM_OK;
}

/*
 * A sample value string: a finite decimal number, or NaN (*is_nan).  Strict
 * about the form (what Go's strconv.FormatFloat writes, and plain integers):
 * no white space, no hexadecimal, no "inf"/"nan" spellings but Prometheus's.
 */
static bool
parse_sample_value(const char *text, double *value, bool *is_nan)
{
	char	   *end;

	*is_nan = false;
	if (strcmp(text, "NaN") == 0)
	{
		*is_nan = true;
		return true;
	}
	if (text[0] == '\0' || strspn(text, "0123456789+-.eE") != strlen(text))
		return false;
	errno = 0;
	*value = strtod(text, &end);
	/* underflow to 0 or a denormal is fine; overflow is not */
	return *end == '\0' && isfinite(*value) && !(errno == ERANGE && fabs(*value) > 1.0);
}

typedef struct Sample
{
	const char *label_value;	/* inside the document */
	const char *second_value;	/* the same, of the second label */
	double		value;
} Sample;

/* A label of a series: its non-empty text, or NULL with the error set. */
static const char *
series_label(json_object *metric, size_t i, const char *label, KprPromOutcome *outcome,
			 KprPromError *error)
{
	json_object *label_object = member(metric, label, json_type_string);
	const char *label_text;

	if (json_object_object_get_ex(metric, label, NULL) && label_object == NULL)
	{
		set_error(error, "series %zu of the result has a label \"%.100s\" that is not a string", i + 1, label);
		*outcome = KPR_PROM_BAD_SHAPE;
		return NULL;
	}
	label_text = label_object ? string_text(label_object) : NULL;
	if (label_text == NULL || label_text[0] == '\0')
	{
		set_error(error, "series %zu of the result, %.300s, has no label \"%.100s\"",
				  i + 1, json_object_to_json_string_ext(metric, JSON_C_TO_STRING_PLAIN), label);
		*outcome = KPR_PROM_MISSING_LABEL;
		return NULL;
	}
	return label_text;
}

/* Both parsers: second_label NULL calls callback, else pair_callback. */
static KprPromOutcome
parse_vector(const char *body, size_t length, const char *label, const char *second_label,
			 KprPromSampleCallback callback, KprPromPairCallback pair_callback, void *arg,
			 int *nan_count, KprPromError *error)
{
	json_object *document;
	json_object *data = NULL;
	json_object *result_type;
	json_object *result;
	const char *result_type_text;
	Sample	   *samples = NULL;
	size_t		sample_count = 0;
	size_t		series_count;
	int			nans = 0;
	KprPromOutcome outcome;

	if (error != NULL)
		error->error_type[0] = '\0';
	if (nan_count != NULL)
		*nan_count = 0;
	document = parse_document(body, length, error);
	if (document == NULL)
		return KPR_PROM_NOT_JSON;

	outcome = check_envelope(document, &data, error);
	if (outcome != KPR_PROM_OK)
		goto done;

	result_type = member(data, "resultType", json_type_string);
	result_type_text = result_type ? string_text(result_type) : NULL;
	result = member(data, "result", json_type_array);
	if (result_type_text == NULL || result == NULL)
	{
		set_error(error, "the answer's data has no \"resultType\" or no \"result\" array");
		outcome = KPR_PROM_BAD_SHAPE;
		goto done;
	}
	if (strcmp(result_type_text, "vector") != 0)
	{
		set_error(error, "the query returned a %.32s, not an instant vector", result_type_text);
		outcome = KPR_PROM_BAD_SHAPE;
		goto done;
	}

	series_count = json_object_array_length(result);
	if (series_count > 0)
	{
		samples = malloc(sizeof(Sample) * series_count);
		if (samples == NULL)
		{
			set_error(error, "out of memory");
			outcome = KPR_PROM_STOPPED;
			goto done;
		}
	}
	for (size_t i = 0; i < series_count; i++)
	{
		json_object *series = json_object_array_get_idx(result, i);
		json_object *metric = member(series, "metric", json_type_object);
		json_object *pair = member(series, "value", json_type_array);
		json_object *time_object;
		json_object *value_object;
		const char *label_text;
		const char *second_text = NULL;
		const char *value_text;
		double		value = 0;
		bool		is_nan;

		if (metric == NULL || pair == NULL || json_object_array_length(pair) != 2)
		{
			set_error(error, "series %zu of the result has no \"metric\" object or no [time, value] pair", i + 1);
			outcome = KPR_PROM_BAD_SHAPE;
			goto done;
		}
		time_object = json_object_array_get_idx(pair, 0);
		value_object = json_object_array_get_idx(pair, 1);
		if (!json_object_is_type(time_object, json_type_double) &&
			!json_object_is_type(time_object, json_type_int))
		{
			set_error(error, "series %zu of the result has a time that is not a number", i + 1);
			outcome = KPR_PROM_BAD_SHAPE;
			goto done;
		}
		if (!json_object_is_type(value_object, json_type_string) ||
			(value_text = string_text(value_object)) == NULL)
		{
			set_error(error, "series %zu of the result has a value that is not a string", i + 1);
			outcome = KPR_PROM_BAD_SHAPE;
			goto done;
		}
		label_text = series_label(metric, i, label, &outcome, error);
		if (label_text == NULL)
			goto done;
		if (second_label != NULL &&
			(second_text = series_label(metric, i, second_label, &outcome, error)) == NULL)
			goto done;
		if (!parse_sample_value(value_text, &value, &is_nan))
		{
			set_error(error, "series %zu of the result (%.100s \"%.260s\") has the value \"%.40s\", not a finite number",
					  i + 1, label, label_text, value_text);
			outcome = KPR_PROM_BAD_VALUE;
			goto done;
		}
		if (is_nan)
		{
			nans++;
			continue;
		}
		samples[sample_count].label_value = label_text;
		samples[sample_count].second_value = second_text;
		samples[sample_count].value = value;
		sample_count++;
	}

	/* all checked: deliver */
	for (size_t i = 0; i < sample_count; i++)
		if (second_label != NULL ?
			!pair_callback(samples[i].label_value, samples[i].second_value, samples[i].value, arg) :
			!callback(samples[i].label_value, samples[i].value, arg))
		{
			set_error(error, "stopped by the caller at series %zu", i + 1);
			outcome = KPR_PROM_STOPPED;
			goto done;
		}
	if (nan_count != NULL)
		*nan_count = nans;

done:
	free(samples);
	json_object_put(document);
	return outcome;
}

KprPromOutcome
kpr_prom_parse_vector(const char *body, size_t length, const char *label,
					  KprPromSampleCallback callback, void *arg,
					  int *nan_count, KprPromError *error)
{
	return parse_vector(body, length, label, NULL, callback, NULL, arg, nan_count, error);
}

KprPromOutcome
kpr_prom_parse_vector_pairs(const char *body, size_t length, const char *label,
							const char *second_label, KprPromPairCallback callback,
							void *arg, int *nan_count, KprPromError *error)
{
	return parse_vector(body, length, label, second_label, NULL, callback, arg,
						nan_count, error);
}

/*
 * A Prometheus duration (model.ParseDuration): [Ny][Nw][Nd][Nh][Nm][Ns][Nms],
 * at least one part, or "0".  False if the text is not one.
 */
static bool
parse_duration(const char *text, size_t length, int64_t *seconds)
{
	static const struct
	{
		const char *unit;
		int64_t		seconds;	/* ms: 0, added up apart */
	}			units[] = {
		{"y", 365 * 86400}, {"w", 7 * 86400}, {"d", 86400}, {"h", 3600},
		{"ms", 0}, {"m", 60}, {"s", 1},
	};
	/* order of the units in a duration: y w d h m s ms */
	static const int rank[] = {0, 1, 2, 3, 6, 4, 5};
	const char *c = text;
	const char *end = text + length;
	int64_t		total = 0;
	int64_t		milliseconds = 0;
	int			last_rank = -1;

	if (length == 1 && text[0] == '0')
	{
		*seconds = 0;
		return true;
	}
	if (length == 0)
		return false;
	while (c < end)
	{
		int64_t		number = 0;
		const char *digits = c;
		int			unit = -1;

		while (c < end && isdigit((unsigned char) *c))
		{
			if (number > (INT64_MAX - 9) / 10)
				return false;
			number = number * 10 + (*c - '0');
			c++;
		}
		if (c == digits)
			return false;
		for (int u = 0; u < (int) (sizeof(units) / sizeof(units[0])); u++)
		{
			size_t		unit_length = strlen(units[u].unit);

			/* "ms" comes before "m" in units[], so "5ms" is never 5 minutes */
			if ((size_t) (end - c) >= unit_length && strncmp(c, units[u].unit, unit_length) == 0)
			{
				unit = u;
				c += unit_length;
				break;
			}
		}
		if (unit < 0 || rank[unit] <= last_rank)
			return false;
		last_rank = rank[unit];
		if (units[unit].seconds == 0)
			milliseconds = number;	/* the last part: at most once */
		else
		{
			if (number > (INT64_MAX - total) / units[unit].seconds)
				total = INT64_MAX;
			else
				total += number * units[unit].seconds;
		}
	}
	/* "1500ms" is 1 second, "2000ms" 2: rounded down, not dropped */
	if (milliseconds / 1000 > INT64_MAX - total)
		total = INT64_MAX;
	else
		total += milliseconds / 1000;
	*seconds = total;
	return true;
}

/* A byte size as Prometheus prints one: digits, optional unit letters, B. */
static bool
is_byte_size(const char *text, size_t length)
{
	size_t		digits = 0;

	while (digits < length && (isdigit((unsigned char) text[digits]) || text[digits] == '.'))
		digits++;
	if (digits == 0 || length - digits > 3 || text[length - 1] != 'B')
		return false;
	for (size_t i = digits; i < length; i++)
		if (!isalpha((unsigned char) text[i]))
			return false;
	return true;
}

KprPromRetentionKind
kpr_prom_parse_retention(const char *text, int64_t *seconds)
{
	const char *part = text;
	bool		has_time = false;
	int64_t		time_seconds = 0;

	if (text == NULL)
		return KPR_PROM_RETENTION_UNKNOWN;
	/* "" is what Prometheus reports when it has no retention limit at all */
	if (text[strspn(text, " \t\r\n")] == '\0')
		return KPR_PROM_RETENTION_NO_TIME;
	for (;;)
	{
		const char *separator = strstr(part, " or ");
		size_t		length = separator ? (size_t) (separator - part) : strlen(part);
		int64_t		part_seconds;

		/* white space around a part does not matter */
		while (length > 0 && isspace((unsigned char) *part))
			part++, length--;
		while (length > 0 && isspace((unsigned char) part[length - 1]))
			length--;
		if (length == 0)
			return KPR_PROM_RETENTION_UNKNOWN;
		if (parse_duration(part, length, &part_seconds))
		{
			if (has_time)
				return KPR_PROM_RETENTION_UNKNOWN;
			has_time = true;
			time_seconds = part_seconds;
		}
		else if (!is_byte_size(part, length))
			return KPR_PROM_RETENTION_UNKNOWN;
		if (separator == NULL)
			break;
		part = separator + 4;
	}
	/* 0 is "no time limit" to Prometheus; so is anything absurdly long */
	if (!has_time || time_seconds == 0 || time_seconds > MAX_RETENTION_SECONDS)
		return KPR_PROM_RETENTION_NO_TIME;
	*seconds = time_seconds;
	return KPR_PROM_RETENTION_TIME;
}

KprPromOutcome
kpr_prom_parse_runtimeinfo(const char *body, size_t length,
						   KprPromRetentionKind *kind, int64_t *seconds,
						   char *retention_text, size_t retention_text_size,
						   KprPromError *error)
{
	json_object *document;
	json_object *data = NULL;
	json_object *retention;
	const char *text;
	KprPromOutcome outcome;

	if (error != NULL)
		error->error_type[0] = '\0';
	if (retention_text_size > 0)
		retention_text[0] = '\0';
	document = parse_document(body, length, error);
	if (document == NULL)
		return KPR_PROM_NOT_JSON;
	outcome = check_envelope(document, &data, error);
	if (outcome == KPR_PROM_OK)
	{
		retention = member(data, "storageRetention", json_type_string);
		text = retention ? string_text(retention) : NULL;
		if (text == NULL)
			*kind = KPR_PROM_RETENTION_UNKNOWN;
		else
		{
			*kind = kpr_prom_parse_retention(text, seconds);
			if (retention_text_size > 0)
			{
				snprintf(retention_text, retention_text_size, "%s", text);
				sanitize_text(retention_text);
			}
		}
	}
	json_object_put(document);
	return outcome;
}
