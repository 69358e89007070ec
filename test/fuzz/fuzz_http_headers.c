/*
 * fuzz_http_headers.c
 *		Fuzz target: the response-header handling of src/http.c, which is
 *		static there; this file includes http.c to reach it, without
 *		changing it.  The input is a header block: each line goes to the
 *		header callback as libcurl would pass it, then the Retry-After and
 *		rateLimit-reset parsers read what was kept.
 *
 * Invariants, besides no sanitizer report and no leak:
 *	- at most MAX_HEADERS headers and MAX_HEADER_BYTES bytes are kept; a
 *	  status line ("HTTP/...") starts the list afresh;
 *	- a kept header has a non-empty name without ':' and a value without
 *	  leading blanks or trailing blanks and line ends;
 *	- every wait read from them is -1 (none) or 0 .. MAX_SENSIBLE_WAIT_SEC
 *	  seconds in milliseconds.
 */
#include "../../src/http.c"

#include "fuzz.h"

const char *const fuzz_target_name = "http_headers";
const char *const fuzz_dictionary[] = {
	"HTTP/1.1 429 Too Many Requests\r\n", "HTTP/2 200\r\n", "Retry-After: ", "retry-after:",
	"rateLimit-reset: ", "RateLimit-Reset:", "\r\n", "Sun, 06 Nov 1994 08:49:37 GMT",
	"Fri, 31 Dec 9999 23:59:59 GMT", "86400", "86401", "1.5", "-1", "1e400", "nan",
	"inf", "0x10", ", ", "99999999999999999999", NULL
};

static void
check_wait(long wait_ms)
{
	FUZZ_CHECK(wait_ms == -1 || (wait_ms >= 0 && wait_ms <= MAX_SENSIBLE_WAIT_SEC * 1000L));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Transfer	transfer;
	size_t		start = 0;

	memset(&transfer, 0, sizeof(transfer));
	while (start < size)
	{
		const uint8_t *newline = memchr(data + start, '\n', size - start);
		size_t		length = newline ? (size_t) (newline - (data + start)) + 1 : size - start;
		const uint8_t *nul = memchr(data + start, '\0', length);
		size_t		line_length = nul ? (size_t) (nul - (data + start)) : length;
		char	   *line = malloc(line_length + 1);

		FUZZ_CHECK(line != NULL);
		memcpy(line, data + start, line_length);
		if (line_length > 0)
		{
			FUZZ_CHECK(on_header(line, 1, line_length, &transfer) == line_length);
			if (line_length >= 5 && memcmp(line, "HTTP/", 5) == 0)
				FUZZ_CHECK(transfer.header_count == 0 && transfer.header_bytes == 0);
		}
		free(line);
		start += length;
	}
	FUZZ_CHECK(transfer.header_count >= 0 && transfer.header_count <= MAX_HEADERS);
	FUZZ_CHECK(transfer.header_bytes <= MAX_HEADER_BYTES);
	for (int i = 0; i < transfer.header_count; i++)
	{
		const char *name = transfer.headers[i].name;
		const char *value = transfer.headers[i].value;
		size_t		value_length = strlen(value);

		FUZZ_CHECK(name != NULL && value != NULL);
		FUZZ_CHECK(name[0] != '\0' && strchr(name, ':') == NULL);
		FUZZ_CHECK(value[0] != ' ' && value[0] != '\t');
		FUZZ_CHECK(value_length == 0 || strchr(" \t\r\n", value[value_length - 1]) == NULL);
		if (strcasecmp(name, "retry-after") == 0)
			check_wait(parse_retry_after(value));
	}
	check_wait(parse_rate_limit_reset(&transfer));
	free_headers(transfer.headers, transfer.header_count);
	return 0;
}
