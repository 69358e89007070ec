/*
 * fuzz_support.c
 *		Invariant failure, text checks and the reference RFC 3339 parser
 *		that the fuzz targets share (see fuzz.h).
 */
#define _GNU_SOURCE				/* timegm */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"

void
fuzz_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "fuzz: %s: invariant broken at %s:%d: %s\n",
			fuzz_target_name, file, line, what);
	abort();
}

char *
fuzz_text(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t		length = nul ? (size_t) (nul - data) : size;
	char	   *text = malloc(length + 1);

	if (text == NULL)
		abort();
	memcpy(text, data, length);
	text[length] = '\0';
	return text;
}

bool
fuzz_terminated(const char *text, size_t size)
{
	return memchr(text, '\0', size) != NULL;
}

bool
fuzz_clean_text(const char *text)
{
	const unsigned char *c = (const unsigned char *) text;

	while (*c)
	{
		uint32_t	code;
		int			length;

		if (*c < 0x20 || *c == 0x7f)
			return false;
		if (*c < 0x80)
		{
			c++;
			continue;
		}
		if ((*c & 0xe0) == 0xc0)
			length = 2, code = *c & 0x1f;
		else if ((*c & 0xf0) == 0xe0)
			length = 3, code = *c & 0x0f;
		else if ((*c & 0xf8) == 0xf0)
			length = 4, code = *c & 0x07;
		else
			return false;
		for (int i = 1; i < length; i++)
		{
			if ((c[i] & 0xc0) != 0x80)
				return false;
			code = (code << 6) | (c[i] & 0x3f);
		}
		/* shortest form only, no surrogates, nothing above U+10FFFF */
		if ((length == 2 && code < 0x80) || (length == 3 && code < 0x800) ||
			(length == 4 && code < 0x10000) || code > 0x10ffff ||
			(code >= 0xd800 && code <= 0xdfff))
			return false;
		c += length;
	}
	return true;
}

static int
number_at(const char *text, const regmatch_t *match)
{
	int			value = 0;

	for (regoff_t i = match->rm_so; i < match->rm_eo; i++)
		value = value * 10 + (text[i] - '0');
	return value;
}

int
fuzz_reference_rfc3339_ms(const char *text, int64_t *ms)
{
	static regex_t pattern;
	static bool compiled = false;
	regmatch_t	match[11];
	struct tm	tm;
	int			year,
				month,
				day,
				hour,
				minute,
				second,
				millis = 0;
	int			month_days;
	int64_t		offset_minutes = 0;
	time_t		seconds;

	if (!compiled)
	{
		if (regcomp(&pattern,
					"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
					"(\\.[0-9]{1,9})?([Zz]|[-+]([0-9]{2}):([0-9]{2}))$",
					REG_EXTENDED) != 0)
			abort();
		compiled = true;
	}
	if (regexec(&pattern, text, 11, match, 0) != 0)
		return -1;
	year = number_at(text, &match[1]);
	month = number_at(text, &match[2]);
	day = number_at(text, &match[3]);
	hour = number_at(text, &match[4]);
	minute = number_at(text, &match[5]);
	second = number_at(text, &match[6]);
	if (month < 1 || month > 12)
		return -1;
	month_days = month == 2 ?
		((year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28) :
		(month == 4 || month == 6 || month == 9 || month == 11) ? 30 : 31;
	/* 60: a leap second, which Unix time folds into the next minute */
	if (day < 1 || day > month_days || hour > 23 || minute > 59 || second > 60)
		return -1;
	if (match[7].rm_so >= 0)
	{
		/* the first three digits after the point, padded */
		for (int i = 1; i <= 3; i++)
		{
			regoff_t	at = match[7].rm_so + i;

			millis = millis * 10 + (at < match[7].rm_eo ? text[at] - '0' : 0);
		}
	}
	if (match[9].rm_so >= 0)
	{
		int			offset_hour = number_at(text, &match[9]);
		int			offset_minute = number_at(text, &match[10]);

		if (offset_hour > 23 || offset_minute > 59)
			return -1;
		offset_minutes = offset_hour * 60 + offset_minute;
		if (text[match[8].rm_so] == '-')
			offset_minutes = -offset_minutes;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	seconds = timegm(&tm);
	*ms = ((int64_t) seconds - offset_minutes * 60) * 1000 + millis;
	return 0;
}

uint64_t
fuzz_hash(const uint8_t *data, size_t size)
{
	uint64_t	hash = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < size; i++)
	{
		hash ^= data[i];
		hash *= UINT64_C(1099511628211);
	}
	return hash;
}
