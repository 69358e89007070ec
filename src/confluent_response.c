/*
 * confluent_response.c
 *		Parsing a Confluent Cloud Metrics API v2 query response (FLAT format):
 *
 *		{"data": [{"timestamp": "2024-05-01T00:00:00Z", "value": 73400320,
 *				   "metric.topic": "orders"}, ...],
 *		 "meta": {"pagination": {"page_size": 1000, "next_page_token": "..."}}}
 *
 * The API promises that clients tolerate unknown and omitted properties, so
 * only the keys used are checked; points come in no particular order.
 * PostgreSQL-free (see the header).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "confluent_response.h"

static int64_t
days_from_civil(int64_t year, int month, int day)
{
	/* days since 1970-01-01 of a proleptic Gregorian date */
	int64_t		era;
	int64_t		year_of_era;
	int64_t		day_of_year;
	int64_t		day_of_era;

	year -= month <= 2;
	era = (year >= 0 ? year : year - 399) / 400;
	year_of_era = year - era * 400;
	day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
	return era * 146097 + day_of_era - 719468;
}

/* Reads exactly count digits at *text into *value; advances *text. */
static int
read_digits(const char **text, int count, int *value)
{
	*value = 0;
	for (int i = 0; i < count; i++)
	{
		if (!isdigit((unsigned char) (*text)[i]))
			return -1;
		*value = *value * 10 + ((*text)[i] - '0');
	}
	*text += count;
	return 0;
}

static int
expect_char(const char **text, char c)
{
	if (**text != c)
		return -1;
	(*text)++;
	return 0;
}

int
kpr_parse_rfc3339_ms(const char *text, int64_t *ms)
{
	static const int days_in_month[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			year,
				month,
				day,
				hour,
				minute,
				second;
	int			millis = 0;
	int64_t		offset_minutes = 0;

	if (read_digits(&text, 4, &year) || expect_char(&text, '-') ||
		read_digits(&text, 2, &month) || expect_char(&text, '-') ||
		read_digits(&text, 2, &day) || (*text != 'T' && *text != 't') ||
		(text++, read_digits(&text, 2, &hour)) || expect_char(&text, ':') ||
		read_digits(&text, 2, &minute) || expect_char(&text, ':') ||
		read_digits(&text, 2, &second))
		return -1;
	if (month < 1 || month > 12 || day < 1 || day > days_in_month[month - 1] ||
		hour > 23 || minute > 59 || second > 60)
		return -1;
	/* February 29 only in a leap year: 2024 and 2000, not 2023 or 2100 */
	if (month == 2 && day == 29 &&
		!(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
		return -1;
	if (*text == '.')
	{
		int			digits = 0;

		text++;
		while (isdigit((unsigned char) *text))
		{
			if (digits < 3)
				millis = millis * 10 + (*text - '0');
			digits++;
			text++;
		}
		if (digits == 0 || digits > 9)
			return -1;
		for (; digits < 3; digits++)
			millis *= 10;
	}
	if (*text == 'Z' || *text == 'z')
		text++;
	else if (*text == '+' || *text == '-')
	{
		int			sign = *text == '-' ? -1 : 1;
		int			offset_hour,
					offset_minute;

		text++;
		if (read_digits(&text, 2, &offset_hour) || expect_char(&text, ':') ||
			read_digits(&text, 2, &offset_minute) || offset_hour > 23 || offset_minute > 59)
			return -1;
		offset_minutes = sign * (offset_hour * 60 + offset_minute);
	}
	else
		return -1;
	if (*text != '\0')
		return -1;
	*ms = ((days_from_civil(year, month, day) * 24 + hour) * 60 + minute - offset_minutes) *
		INT64_C(60000) + second * INT64_C(1000) + millis;
	return 0;
}

/*
 * A JSON string's text, or NULL if it is no string or holds a NUL ("\u0000"):
 * read as a C string, such a text would be cut short (a topic "a\u0000b"
 * would pass for "a").
 */
static const char *
string_text(json_object *field)
{
	const char *text;

	if (!json_object_is_type(field, json_type_string))
		return NULL;
	text = json_object_get_string(field);
	if (strlen(text) != (size_t) json_object_get_string_len(field))
		return NULL;
	return text;
}

/* A partition id: a JSON integer or a string of 1..10 decimal digits. */
static bool
partition_id(json_object *field, int32_t *partition)
{
	int64_t		id = -1;

	if (json_object_is_type(field, json_type_int))
	{
		errno = 0;
		id = json_object_get_int64(field);
		if (errno != 0)
			return false;
	}
	else if (json_object_is_type(field, json_type_string))
	{
		const char *text = string_text(field);
		size_t		digits = text ? strlen(text) : 0;

		if (digits == 0 || digits > 10)
			return false;
		id = 0;
		for (size_t i = 0; i < digits; i++)
		{
			if (text[i] < '0' || text[i] > '9')
				return false;
			id = id * 10 + (text[i] - '0');
		}
	}
	if (id < 0 || id > INT32_MAX)
		return false;
	*partition = (int32_t) id;
	return true;
}

/*
 * Check one point; on success fill its fields (*partition only when a
 * partition_label is asked for).
 */
static const char *
check_point(json_object *point, const char *group_label, const char *partition_label,
			const char **group, int32_t *partition, int64_t *time_ms, double *value)
{
	json_object *field;

	if (!json_object_is_type(point, json_type_object))
		return "a point of \"data\" is not an object";
	if (!json_object_object_get_ex(point, "timestamp", &field) ||
		string_text(field) == NULL ||
		kpr_parse_rfc3339_ms(string_text(field), time_ms) != 0)
		return "a point has no valid \"timestamp\"";
	if (!json_object_object_get_ex(point, "value", &field) ||
		!(json_object_is_type(field, json_type_int) || json_object_is_type(field, json_type_double)))
		return "a point has no numeric \"value\"";
	*value = json_object_get_double(field);
	if (!isfinite(*value) || *value < 0)
		return "a point's \"value\" is negative or not finite";
	if (!json_object_object_get_ex(point, group_label, &field) ||
		!json_object_is_type(field, json_type_string))
		return "a point has no group label (the topic)";
	*group = string_text(field);
	if (*group == NULL)
		return "a point's group label (the topic) holds a NUL character";
	if (partition_label != NULL &&
		(!json_object_object_get_ex(point, partition_label, &field) ||
		 !partition_id(field, partition)))
		return "a point has no valid partition label (an id from 0 to 2147483647)";
	return NULL;
}

/* What a parse calls for each point: one of the two callbacks. */
typedef struct PointSink
{
	const char *partition_label;	/* NULL: grouped by topic only */
	KprConfluentPointFn topic_fn;
	KprConfluentPartitionPointFn partition_fn;
	void	   *arg;
} PointSink;

static const char *
parse_response(const char *body, size_t length, const char *group_label,
			   const PointSink *sink, char **next_page_token,
			   char *errbuf, size_t errbuf_size)
{
	json_tokener *tokener;
	json_object *root;
	json_object *data;
	json_object *meta;
	json_object *pagination;
	json_object *token;
	const char *error = NULL;
	size_t		count;

	*next_page_token = NULL;
	if (length > INT32_MAX)
		return "the response is too large to parse";
	tokener = json_tokener_new();
	if (tokener == NULL)
		return "out of memory";
	root = json_tokener_parse_ex(tokener, body, (int) length);
	if (root == NULL || json_tokener_get_error(tokener) != json_tokener_success ||
		json_tokener_get_parse_end(tokener) < length)
	{
		enum json_tokener_error parse_error = json_tokener_get_error(tokener);

		snprintf(errbuf, errbuf_size, "the response is not valid JSON (%s)",
				 parse_error == json_tokener_continue ? "it ends early" :
				 parse_error == json_tokener_success ? "text after the value" :
				 json_tokener_error_desc(parse_error));
		json_object_put(root);
		json_tokener_free(tokener);
		return errbuf;
	}
	json_tokener_free(tokener);

	if (!json_object_is_type(root, json_type_object) ||
		!json_object_object_get_ex(root, "data", &data) ||
		!json_object_is_type(data, json_type_array))
		error = "the response has no \"data\" array";

	/* validate the whole page before the first callback */
	count = error ? 0 : json_object_array_length(data);
	for (size_t i = 0; i < count && error == NULL; i++)
	{
		const char *group;
		int32_t		partition;
		int64_t		time_ms;
		double		value;

		error = check_point(json_object_array_get_idx(data, i), group_label,
							sink->partition_label, &group, &partition, &time_ms, &value);
	}
	if (error == NULL && json_object_object_get_ex(root, "meta", &meta) &&
		json_object_object_get_ex(meta, "pagination", &pagination) &&
		json_object_object_get_ex(pagination, "next_page_token", &token) &&
		!json_object_is_type(token, json_type_null))
	{
		if (!json_object_is_type(token, json_type_string))
			error = "\"next_page_token\" is not a string";
		else if (string_text(token) == NULL)
			error = "\"next_page_token\" holds a NUL character";
		else if (json_object_get_string_len(token) > 0)
		{
			*next_page_token = strdup(json_object_get_string(token));
			if (*next_page_token == NULL)
				error = "out of memory";
		}
	}
	for (size_t i = 0; i < count && error == NULL; i++)
	{
		const char *group;
		int32_t		partition = -1;
		int64_t		time_ms;
		double		value;

		check_point(json_object_array_get_idx(data, i), group_label, sink->partition_label,
					&group, &partition, &time_ms, &value);
		if (sink->partition_label != NULL)
			sink->partition_fn(group, partition, time_ms, value, sink->arg);
		else
			sink->topic_fn(group, time_ms, value, sink->arg);
	}
	if (error != NULL)
	{
		free(*next_page_token);
		*next_page_token = NULL;
	}
	json_object_put(root);
	return error;
}

const char *
kpr_confluent_parse_response(const char *body, size_t length, const char *group_label,
							 KprConfluentPointFn point_fn, void *arg,
							 char **next_page_token, char *errbuf, size_t errbuf_size)
{
	PointSink	sink = {NULL, point_fn, NULL, arg};

	return parse_response(body, length, group_label, &sink, next_page_token,
						  errbuf, errbuf_size);
}

const char *
kpr_confluent_parse_partition_response(const char *body, size_t length,
									   const char *topic_label, const char *partition_label,
									   KprConfluentPartitionPointFn point_fn, void *arg,
									   char **next_page_token, char *errbuf, size_t errbuf_size)
{
	PointSink	sink = {partition_label, NULL, point_fn, arg};

	return parse_response(body, length, topic_label, &sink, next_page_token,
						  errbuf, errbuf_size);
}
