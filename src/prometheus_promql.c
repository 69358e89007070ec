/*
 * prometheus_promql.c
 *		PromQL text of the Prometheus source and the checks of the options
 *		it is built from (see prometheus_promql.h).  No PostgreSQL here.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prometheus_promql.h"

#define IS_ALPHA(c)		(((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_DIGIT(c)		((c) >= '0' && (c) <= '9')
#define IS_SPACE(c)		((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')

/* What a scan of a metric option found. */
typedef struct MetricScan
{
	const char *problem;		/* NULL: valid */
	size_t		close_brace;	/* offset of '}', or of the end without braces */
	bool		has_braces;
	bool		needs_comma;	/* a matcher precedes '}' with no ',' after it */
} MetricScan;

static const char *
skip_space(const char *c)
{
	while (IS_SPACE(*c))
		c++;
	return c;
}

/* A PromQL string literal at c: the character after it, or NULL. */
static const char *
skip_string(const char *c)
{
	char		quote = *c++;

	if (quote != '"' && quote != '\'' && quote != '`')
		return NULL;
	for (; *c != '\0'; c++)
	{
		if (*c == quote)
			return c + 1;
		if (quote != '`' && *c == '\n')
			return NULL;
		if (quote != '`' && *c == '\\')
		{
			c++;
			if (*c == '\0')
				return NULL;
		}
	}
	return NULL;
}

static MetricScan
scan_metric(const char *text)
{
	MetricScan	scan = {NULL, 0, false, false};
	const char *c = text;

	if (!(IS_ALPHA(*c) || *c == '_' || *c == ':'))
	{
		scan.problem = *c == '\0' ? "it is empty" :
			"a metric name starts with a letter, '_' or ':'";
		return scan;
	}
	while (IS_ALPHA(*c) || IS_DIGIT(*c) || *c == '_' || *c == ':')
		c++;
	if (*c == '\0')
	{
		scan.close_brace = c - text;
		return scan;
	}
	if (*c != '{')
	{
		scan.problem = "a metric name holds only letters, digits, '_' and ':', and may be followed by label matchers in braces";
		return scan;
	}
	scan.has_braces = true;
	c = skip_space(c + 1);
	while (*c != '}')
	{
		if (!(IS_ALPHA(*c) || *c == '_'))
		{
			scan.problem = *c == '\0' ? "the label matchers have no closing '}'" :
				"a label matcher starts with a label name: label=\"value\", label!=\"value\", label=~\"regex\" or label!~\"regex\"";
			return scan;
		}
		while (IS_ALPHA(*c) || IS_DIGIT(*c) || *c == '_')
			c++;
		c = skip_space(c);
		if (c[0] == '=' && c[1] == '~')
			c += 2;
		else if (c[0] == '!' && (c[1] == '=' || c[1] == '~'))
			c += 2;
		else if (c[0] == '=')
			c += 1;
		else
		{
			scan.problem = "a label matcher's operator is one of =, !=, =~ and !~";
			return scan;
		}
		c = skip_space(c);
		c = skip_string(c);
		if (c == NULL)
		{
			scan.problem = "a label matcher's value is a quoted string (\"...\", '...' or `...`), closed on the same line";
			return scan;
		}
		c = skip_space(c);
		scan.needs_comma = true;
		if (*c == ',')
		{
			scan.needs_comma = false;
			c = skip_space(c + 1);
		}
		else if (*c != '}')
		{
			scan.problem = *c == '\0' ? "the label matchers have no closing '}'" :
				"label matchers are separated by commas";
			return scan;
		}
	}
	scan.close_brace = c - text;
	if (c[1] != '\0')
		scan.problem = "the label matchers' '}' must end the value (give a whole query in a *_query option instead)";
	return scan;
}

const char *
kpr_promql_check_metric(const char *text)
{
	return scan_metric(text).problem;
}

const char *
kpr_promql_check_label(const char *text)
{
	const char *c = text;

	if (*c == '\0')
		return "it is empty";
	if (!(IS_ALPHA(*c) || *c == '_'))
		return "a label name starts with a letter or '_'";
	for (; *c != '\0'; c++)
		if (!(IS_ALPHA(*c) || IS_DIGIT(*c) || *c == '_'))
			return "a label name holds only letters, digits and '_'";
	return NULL;
}

/* malloc'd printf; NULL if out of memory. */
static char *
format_text(const char *format,...) __attribute__((format(printf, 1, 2)));

static char *
format_text(const char *format,...)
{
	va_list		args;
	int			length;
	char	   *text;

	va_start(args, format);
	length = vsnprintf(NULL, 0, format, args);
	va_end(args);
	if (length < 0)
		return NULL;
	text = malloc((size_t) length + 1);
	if (text == NULL)
		return NULL;
	va_start(args, format);
	vsnprintf(text, (size_t) length + 1, format, args);
	va_end(args);
	return text;
}

char *
kpr_promql_selector(const char *metric, const char *label)
{
	MetricScan	scan = scan_metric(metric);

	if (scan.problem != NULL || kpr_promql_check_label(label) != NULL)
		return NULL;
	if (!scan.has_braces)
		return format_text("%s{%s!=\"\"}", metric, label);
	return format_text("%.*s%s%s!=\"\"}", (int) scan.close_brace, metric,
					   scan.needs_comma ? "," : "", label);
}

void
kpr_promql_range(int64_t seconds, char *buffer, size_t size)
{
	if (seconds == 86400)
		snprintf(buffer, size, "1d");
	else
		snprintf(buffer, size, "%" PRId64 "s", seconds);
}

char *
kpr_promql_total(const char *selector, const char *label, const char *range)
{
	return format_text("sum by (%s) (increase(%s[%s]))", label, selector, range);
}

char *
kpr_promql_peak(const char *selector, const char *label, const char *subquery_range)
{
	return format_text("max_over_time(sum by (%s) (rate(%s[5m]))[%s:5m])",
					   label, selector, subquery_range);
}

char *
kpr_promql_expand_window(const char *query, const char *range)
{
	size_t		placeholder_length = strlen(KPR_PROMQL_WINDOW);
	size_t		range_length = strlen(range);
	size_t		count = 0;
	size_t		length;
	const char *found;
	char	   *text;
	char	   *out;

	for (found = strstr(query, KPR_PROMQL_WINDOW); found != NULL;
		 found = strstr(found + placeholder_length, KPR_PROMQL_WINDOW))
		count++;
	length = strlen(query) + count * range_length;	/* >= the result's */
	text = malloc(length + 1);
	if (text == NULL)
		return NULL;
	out = text;
	while ((found = strstr(query, KPR_PROMQL_WINDOW)) != NULL)
	{
		memcpy(out, query, found - query);
		out += found - query;
		memcpy(out, range, range_length);
		out += range_length;
		query = found + placeholder_length;
	}
	strcpy(out, query);
	return text;
}
