/*
 * topic_filter.c
 *		topic_filter patterns and include_internal (see topic_filter.h).
 */
#include "postgres.h"

#include <ctype.h>
#include <fnmatch.h>

#include "utils/builtins.h"

#include "topic_filter.h"

/*
 * Comma-separated patterns over names, with the wildcards '*' (any run) and
 * '?' (one).  Topic patterns hold only Kafka's topic characters; group ids
 * may hold nearly anything, so group patterns refuse only what fnmatch would
 * read as more than a plain glob ('[' and '\\').  "what" names the option or
 * argument in the messages.
 */
static void
check_patterns(const char *what, const char *value, int sqlstate, bool topic_names)
{
	const char *start = value;

	for (;;)
	{
		size_t		length = strcspn(start, ",");
		bool		blank = true;

		for (const char *c = start; c < start + length; c++)
		{
			if (isspace((unsigned char) *c))
				continue;
			blank = false;
			if (topic_names && !isalnum((unsigned char) *c) && strchr("._-*?", *c) == NULL)
				ereport(ERROR,
						(errcode(sqlstate),
						 errmsg("invalid character \"%c\" in %s", *c, what),
						 errdetail("Topic names consist of letters, digits, '.', '_' and '-'; patterns may add the wildcards '*' and '?'.")));
			if (!topic_names && (*c == '[' || *c == '\\'))
				ereport(ERROR,
						(errcode(sqlstate),
						 errmsg("invalid character \"%c\" in %s", *c, what),
						 errdetail("Patterns are plain globs: '*' matches any run of characters and '?' one; ',' separates patterns.")));
		}
		if (blank)
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("%s contains an empty pattern", what),
					 topic_names ?
					 errhint("Give a comma-separated list of topic name patterns, for example 'orders.*,payments'.") :
					 errhint("Give a comma-separated list of group id patterns, for example 'billing-*,audit'.")));
		if (start[length] == '\0')
			break;
		start += length + 1;
	}
}

void
kpr_check_topic_patterns(const char *what, const char *value, int sqlstate)
{
	check_patterns(what, value, sqlstate, true);
}

void
kpr_check_group_patterns(const char *what, const char *value, int sqlstate)
{
	check_patterns(what, value, sqlstate, false);
}

bool
kpr_topic_matches(const char *patterns, const char *topic)
{
	const char *start = patterns;

	for (;;)
	{
		size_t		length = strcspn(start, ",");
		const char *first = start;
		char	   *pattern;
		bool		matched;

		/* white space around a pattern is not part of it */
		while (length > 0 && isspace((unsigned char) first[0]))
			first++, length--;
		while (length > 0 && isspace((unsigned char) first[length - 1]))
			length--;
		pattern = pnstrdup(first, length);
		/* the patterns hold no '[' or '\\' (checked above): plain globbing */
		matched = fnmatch(pattern, topic, 0) == 0;
		pfree(pattern);
		if (matched)
			return true;
		start += strcspn(start, ",");
		if (*start == '\0')
			return false;
		start++;
	}
}

/*
 * Internal topics: Kafka's own (__consumer_offsets, __transaction_state) and,
 * by the common convention, other names starting with an underscore
 * (_schemas, _confluent-*).
 */
bool
kpr_topic_is_internal(const char *topic)
{
	return topic[0] == '_';
}

/* A function argument where the call gave one, else the server's option. */
static const char *
argument_or_option(const KprRequest *request, const char *name)
{
	const char *value = kpr_request_argument(request, name);

	return value ? value : kpr_request_option(request, name);
}

bool
kpr_topic_selected(const KprRequest *request, const char *topic)
{
	const char *filter = argument_or_option(request, "topic_filter");
	const char *include_value = argument_or_option(request, "include_internal");
	bool		include_internal = false;

	if (include_value != NULL)
		(void) parse_bool(include_value, &include_internal);
	if (!include_internal && kpr_topic_is_internal(topic))
		return false;
	return filter == NULL || kpr_topic_matches(filter, topic);
}
