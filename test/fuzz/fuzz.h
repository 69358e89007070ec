/*
 * fuzz.h
 *		What every fuzz target of test/fuzz shares: the libFuzzer entry
 *		point it defines, its name and mutation dictionary for the plain
 *		driver (driver.c), and the invariant checks and reference helpers of
 *		fuzz_support.c.
 *
 * A target is built twice: with driver.c (gcc, a seeded mutation loop; what
 * run.sh uses) and, when clang is there, with -fsanitize=fuzzer.  Either
 * way a broken invariant aborts with the expression, file and line, and
 * the driver saves the input that did it.
 */
#ifndef KPR_FUZZ_H
#define KPR_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Defined by each target. */
extern int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern const char *const fuzz_target_name;
extern const char *const fuzz_dictionary[];	/* NULL-terminated */

/* Report a broken invariant and abort. */
extern void fuzz_fail(const char *what, const char *file, int line)
			__attribute__((noreturn));

#define FUZZ_CHECK(condition) \
	do { \
		if (!(condition)) \
			fuzz_fail(#condition, __FILE__, __LINE__); \
	} while (0)

/* data as a malloc'd C string, cut at its first NUL byte (never NULL). */
extern char *fuzz_text(const uint8_t *data, size_t size);

/* text holds a NUL within size bytes. */
extern bool fuzz_terminated(const char *text, size_t size);

/* text is valid UTF-8 with no control characters (a sanitized message). */
extern bool fuzz_clean_text(const char *text);

/*
 * A strict RFC 3339 time (leap years, fraction of 1-9 digits, Z or +hh:mm)
 * as Unix milliseconds, computed another way than the parser (regex and
 * timegm); -1 if text is not one.
 */
extern int	fuzz_reference_rfc3339_ms(const char *text, int64_t *ms);

/* FNV-1a, for choices a target derives from its input. */
extern uint64_t fuzz_hash(const uint8_t *data, size_t size);

#endif							/* KPR_FUZZ_H */
