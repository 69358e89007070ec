/*
 * tap.c
 *		The TAP output the standalone unit tests share (see tap.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "tap.h"

static int	checks;
static int	failures;

void
check(int condition, const char *format,...)
{
	va_list		args;

	checks++;
	if (!condition)
		failures++;
	printf("%s %d - ", condition ? "ok" : "not ok", checks);
	va_start(args, format);
	vprintf(format, args);
	va_end(args);
	printf("\n");
	fflush(stdout);
}

int
tap_finish(void)
{
	printf("1..%d\n# %d checks, %d failed\n", checks, checks, failures);
	return failures ? 1 : 0;
}
