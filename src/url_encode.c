/*
 * url_encode.c
 *		Percent-encoding for a URL's query string (see url_encode.h).
 *		PostgreSQL-free, so that it is unit-tested and fuzzed on its own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url_encode.h"

char *
kpr_url_encode(const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		length = strlen(text);
	char	   *encoded;
	char	   *out;

	if (length > (SIZE_MAX - 1) / 3)
		return NULL;
	encoded = malloc(length * 3 + 1);
	if (encoded == NULL)
		return NULL;
	out = encoded;
	for (const unsigned char *c = (const unsigned char *) text; *c != '\0'; c++)
	{
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_' || *c == '~')
			*out++ = (char) *c;
		else
		{
			*out++ = '%';
			*out++ = hex[*c >> 4];
			*out++ = hex[*c & 0xf];
		}
	}
	*out = '\0';
	return encoded;
}
