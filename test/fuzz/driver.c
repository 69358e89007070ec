/*
 * driver.c
 *		A plain main() for the fuzz targets, so that fuzzing needs gcc only:
 *		a seeded, deterministic, coverage-guided mutation loop.
 *
 *	fuzz_<target> --corpus DIR [--seconds N] [--iterations N] [--seed N]
 *				  [--max-len N] [--crash-dir DIR]
 *	fuzz_<target> FILE...				run each file once (reproduce a crash)
 *
 * Every input of the loop comes from the seed: the same seed, corpus and
 * --iterations give the same inputs in the same order (a --seconds bound
 * only decides how many of them run).  Mutations: bit flips, interesting
 * bytes, byte insertion and deletion, range duplication, truncation,
 * splices of two corpus inputs, dictionary tokens, and JSON-aware ones: a
 * number becomes a string or an odd number, a string becomes a number, an
 * object, null or a dictionary string, a value is wrapped in an array or an
 * object (once, or deeper than json-c's limit), duplicated in its array, or
 * replaced by a value of another corpus input.
 *
 * Coverage: the parsers and the target are built with gcc's
 * -fsanitize-coverage=trace-pc, whose callback below hashes (previous
 * block, block) pairs into an AFL-style map of hit-count classes; an input
 * that lights a new class joins the in-memory corpus.  Positions are taken
 * relative to this program's own code, so address-space randomization does
 * not change the run.
 *
 * Findings: a sanitizer report or an abort (a broken invariant) writes the
 * input to CRASH_DIR/crash-<target>-<hash> and prints that path; under
 * AddressSanitizer, an input after which more heap stays allocated than
 * before, three times in a row, is a leak and saved the same way; an input
 * that runs for more than 10 seconds is a hang.  The last line is
 *	fuzz-result: target=T iterations=N seconds=S execs_per_sec=E corpus=C
 *				 coverage=K crashes=X seed=D
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
/* libasan's interface (gcc installs no header for these two) */
extern void __sanitizer_set_death_callback(void (*callback) (void));
extern size_t __sanitizer_get_current_allocated_bytes(void);
#else
#define FUZZ_ASAN 0
#endif

#define MAP_SIZE		65536
#define MAX_CORPUS		8192
#define HANG_SECONDS	10

typedef struct Input
{
	uint8_t    *data;
	size_t		size;
} Input;

/* --- coverage -------------------------------------------------------------- */

static uint8_t coverage_map[MAP_SIZE];
static uint8_t seen_classes[MAP_SIZE];
static uintptr_t previous_block;

void		__sanitizer_cov_trace_pc(void);

void
__sanitizer_cov_trace_pc(void)
{
	uintptr_t	block = (uintptr_t) __builtin_return_address(0) - (uintptr_t) &__sanitizer_cov_trace_pc;

	block = (block ^ (block >> 15)) * 0x9E3779B1u;
	coverage_map[(block ^ previous_block) % MAP_SIZE]++;
	previous_block = block >> 1;
}

static uint8_t
hit_class(uint8_t hits)
{
	if (hits == 0)
		return 0;
	if (hits <= 3)
		return hits == 3 ? 4 : hits;
	if (hits <= 7)
		return 8;
	if (hits <= 15)
		return 16;
	if (hits <= 31)
		return 32;
	if (hits <= 127)
		return 64;
	return 128;
}

/* Fold the run's map into what was seen; true if it added a class. */
static bool
coverage_grew(void)
{
	bool		grew = false;

	for (size_t i = 0; i < MAP_SIZE; i++)
	{
		uint8_t		class;
		uint64_t	word;

		/* most of the map is zero: skip it eight bytes at a time */
		if (i % 8 == 0)
		{
			memcpy(&word, coverage_map + i, sizeof(word));
			if (word == 0)
			{
				i += 7;
				continue;
			}
		}
		if (coverage_map[i] == 0)
			continue;
		class = hit_class(coverage_map[i]);
		if ((seen_classes[i] | class) != seen_classes[i])
		{
			seen_classes[i] |= class;
			grew = true;
		}
	}
	return grew;
}

static size_t
coverage_count(void)
{
	size_t		count = 0;

	for (size_t i = 0; i < MAP_SIZE; i++)
		count += seen_classes[i] != 0;
	return count;
}

/* --- findings -------------------------------------------------------------- */

static const uint8_t *volatile current_data;
static volatile size_t current_size;
static char crash_dir[4096] = ".";
static volatile sig_atomic_t reported;
static volatile unsigned long long iteration;
static const char *reproducing;	/* the file run, when reproducing */

/* async-signal-safe: write(2) only */
static void
say(const char *text)
{
	ssize_t		ignored = write(STDERR_FILENO, text, strlen(text));

	(void) ignored;
}

static void
hex64(uint64_t value, char *out)
{
	for (int i = 15; i >= 0; i--, value >>= 4)
		out[i] = "0123456789abcdef"[value & 15];
	out[16] = '\0';
}

/* Save the current input and print where: safe in a signal handler. */
static void
save_current_input(const char *why)
{
	char		path[4096 + 128];
	char		hash[17];
	int			fd;

	if (reported || current_data == NULL)
		return;
	reported = 1;
	if (reproducing != NULL)
	{
		/* the input is a file already */
		say("fuzz-crash: target=");
		say(fuzz_target_name);
		say(" kind=");
		say(why);
		say(" input=");
		say(reproducing);
		say("\n");
		return;
	}
	hex64(fuzz_hash(current_data, current_size), hash);
	path[0] = '\0';
	strcat(path, crash_dir);
	strcat(path, "/crash-");
	strcat(path, fuzz_target_name);
	strcat(path, "-");
	strcat(path, hash);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0)
	{
		ssize_t		ignored = write(fd, (const void *) current_data, current_size);

		(void) ignored;
		close(fd);
	}
	say("fuzz-crash: target=");
	say(fuzz_target_name);
	say(" kind=");
	say(why);
	say(" input=");
	say(fd >= 0 ? path : "(could not write the input file)");
	say("\n");
}

static void
on_sanitizer_death(void)
{
	save_current_input("sanitizer");
}

static void
on_fatal_signal(int signal_number)
{
	save_current_input(signal_number == SIGABRT ? "abort" : "signal");
	signal(signal_number, SIG_DFL);
	raise(signal_number);
}

/* SIGALRM once a second: an input that runs too long is a hang */
static void
on_watchdog(int signal_number)
{
	static unsigned long long last_iteration = ~0ULL;
	static int	still;

	(void) signal_number;
	if (iteration != last_iteration)
	{
		last_iteration = iteration;
		still = 0;
		return;
	}
	if (++still < HANG_SECONDS)
		return;
	save_current_input("hang");
	_exit(1);
}

static void
install_handlers(void)
{
#if FUZZ_ASAN
	/* the sanitizers own SIGSEGV and friends; they call this before dying */
	__sanitizer_set_death_callback(on_sanitizer_death);
#else
	signal(SIGSEGV, on_fatal_signal);
	signal(SIGBUS, on_fatal_signal);
	signal(SIGFPE, on_fatal_signal);
	signal(SIGILL, on_fatal_signal);
#endif
	signal(SIGABRT, on_fatal_signal);
}

static void
start_watchdog(void)
{
	struct itimerval every_second = {{1, 0}, {1, 0}};
	struct sigaction action;

	memset(&action, 0, sizeof(action));
	action.sa_handler = on_watchdog;
	action.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &action, NULL);
	setitimer(ITIMER_REAL, &every_second, NULL);
}

/* --- random ---------------------------------------------------------------- */

static uint64_t random_state;

static uint64_t
next_random(void)
{
	uint64_t	z = (random_state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* 0 .. bound-1; bound > 0 */
static size_t
below(size_t bound)
{
	return (size_t) (next_random() % bound);
}

/* --- corpus ---------------------------------------------------------------- */

static Input corpus[MAX_CORPUS];
static size_t corpus_count;

static bool
read_file(const char *path, Input *input, size_t max_size)
{
	FILE	   *file = fopen(path, "rb");
	struct stat status;
	uint8_t    *data;
	size_t		size;

	if (file == NULL)
		return false;
	if (fstat(fileno(file), &status) == 0 && (size_t) status.st_size < max_size)
		max_size = (size_t) status.st_size;
	data = malloc(max_size + 1);
	if (data == NULL)
		abort();
	size = fread(data, 1, max_size, file);
	fclose(file);
	input->data = data;
	input->size = size;
	return true;
}

static void
add_to_corpus(const uint8_t *data, size_t size)
{
	Input	   *input;

	if (corpus_count >= MAX_CORPUS)
		return;
	input = &corpus[corpus_count++];
	input->data = malloc(size + 1);
	if (input->data == NULL)
		abort();
	memcpy(input->data, data, size);
	input->size = size;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The seed files, sorted by name so that the run does not depend on readdir */
static void
load_corpus(const char *directory, size_t max_size)
{
	DIR		   *dir = opendir(directory);
	struct dirent *entry;
	char	  **names = NULL;
	size_t		name_count = 0;

	if (dir == NULL)
	{
		fprintf(stderr, "fuzz: cannot open the corpus %s: %s\n", directory, strerror(errno));
		exit(2);
	}
	while ((entry = readdir(dir)) != NULL)
	{
		if (entry->d_name[0] == '.')
			continue;
		names = realloc(names, (name_count + 1) * sizeof(char *));
		if (names == NULL || (names[name_count] = strdup(entry->d_name)) == NULL)
			abort();
		name_count++;
	}
	closedir(dir);
	qsort(names, name_count, sizeof(char *), compare_names);
	for (size_t i = 0; i < name_count; i++)
	{
		char		path[8192];
		Input		input;

		snprintf(path, sizeof(path), "%s/%s", directory, names[i]);
		if (read_file(path, &input, max_size))
		{
			add_to_corpus(input.data, input.size);
			free(input.data);
		}
		free(names[i]);
	}
	free(names);
}

/* --- mutations ------------------------------------------------------------- */

static const char *const json_tokens[] = {
	"null", "true", "false", "0", "-0", "1", "-1", "1e309", "-1e309", "1e-400",
	"9223372036854775807", "9223372036854775808", "-9223372036854775809",
	"18446744073709551616", "0.1", "1.5e3", "NaN", "Infinity", "-Infinity",
	"\"\"", "\"\\u0000\"", "\"a\\u0000b\"", "\"\\ud800\"", "\"\\udc00\\ud800\"",
	"\"\xc3\x28\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\\n\\t\\\"\"",
	"[]", "{}", "[[]]", "{\"\":{}}", ",", ":", "\"", "{", "}", "[", "]", "\\",
	"\\u", "\\uZZZZ", " ", "\n", "\r\n", "\t", "/*", "//", "'", NULL
};

static const uint8_t interesting_bytes[] = {
	0x00, 0x01, 0x7f, 0x80, 0xc0, 0xff, '"', '\\', '{', '}', '[', ']', ',', ':',
	'0', '9', '-', '+', '.', 'e', 'E', ' ', '\n', 'T', 'Z', 'a', '$', '`', '\'',
};

/* A random token of the target's dictionary or of JSON's */
static const char *
random_token(void)
{
	size_t		target_count = 0;
	size_t		json_count = 0;

	while (fuzz_dictionary[target_count] != NULL)
		target_count++;
	while (json_tokens[json_count] != NULL)
		json_count++;
	if (target_count > 0 && below(2) == 0)
		return fuzz_dictionary[below(target_count)];
	return json_tokens[below(json_count)];
}

/* Replace data[at .. at+remove) by insert[0 .. insert_size), within max. */
static void
replace_range(uint8_t *data, size_t *size, size_t max, size_t at, size_t remove,
			  const uint8_t *insert, size_t insert_size)
{
	size_t		tail;

	if (at > *size)
		at = *size;
	if (remove > *size - at)
		remove = *size - at;
	tail = *size - at - remove;
	if (*size - remove + insert_size > max)
		return;
	memmove(data + at + insert_size, data + at + remove, tail);
	if (insert_size > 0)
		memmove(data + at, insert, insert_size);
	*size = *size - remove + insert_size;
}

/* The end of the JSON value that starts at data[at], or 0 if none does. */
static size_t
value_end(const uint8_t *data, size_t size, size_t at)
{
	int			depth = 0;
	size_t		i = at;

	if (at >= size)
		return 0;
	if (data[at] != '{' && data[at] != '[' && data[at] != '"')
	{
		/* a number or a literal */
		while (i < size && (strchr("+-.eE", data[i]) != NULL ||
							(data[i] >= '0' && data[i] <= '9') ||
							(data[i] >= 'a' && data[i] <= 'z') ||
							(data[i] >= 'A' && data[i] <= 'Z')) && data[i] != '\0')
			i++;
		return i > at ? i : 0;
	}
	for (; i < size; i++)
	{
		if (data[i] == '"')
		{
			for (i++; i < size && data[i] != '"'; i++)
				if (data[i] == '\\')
					i++;
			if (i >= size)
				return 0;
			if (depth == 0)
				return i + 1;
		}
		else if (data[i] == '{' || data[i] == '[')
			depth++;
		else if (data[i] == '}' || data[i] == ']')
		{
			if (--depth == 0)
				return i + 1;
		}
	}
	return 0;
}

/* A random position where a value of the given kind starts, or size if none. */
static size_t
find_value(const uint8_t *data, size_t size, const char *kinds)
{
	size_t		start;

	if (size == 0)
		return 0;
	start = below(size);
	for (size_t n = 0; n < size; n++)
	{
		size_t		i = (start + n) % size;
		bool		is_start;

		if (strchr(kinds, 'n') && ((data[i] >= '0' && data[i] <= '9') || data[i] == '-'))
			is_start = i == 0 || strchr(":,[ ", data[i - 1]) != NULL;
		else if (strchr(kinds, 's') && data[i] == '"')
			is_start = i == 0 || strchr(":,[{ ", data[i - 1]) != NULL;
		else if (strchr(kinds, 'c') && (data[i] == '{' || data[i] == '['))
			is_start = true;
		else
			is_start = false;
		if (is_start && value_end(data, size, i) > i)
			return i;
	}
	return size;
}

static void
mutate_once(uint8_t *data, size_t *size, size_t max)
{
	size_t		at = *size > 0 ? below(*size) : 0;

	switch (below(16))
	{
		case 0:					/* flip a bit */
			if (*size > 0)
				data[at] ^= (uint8_t) (1u << below(8));
			break;
		case 1:					/* an interesting byte */
			if (*size > 0)
				data[at] = interesting_bytes[below(sizeof(interesting_bytes))];
			break;
		case 2:					/* insert random bytes */
			{
				uint8_t		bytes[4];
				size_t		count = 1 + below(4);

				for (size_t i = 0; i < count; i++)
					bytes[i] = (uint8_t) next_random();
				replace_range(data, size, max, *size > 0 ? below(*size + 1) : 0, 0, bytes, count);
			}
			break;
		case 3:					/* delete a range */
			if (*size > 0)
			{
				size_t		length = 1 + below(below(2) && *size - at > 8 ? 8 : *size - at);

				replace_range(data, size, max, at, length, NULL, 0);
			}
			break;
		case 4:					/* duplicate a range somewhere else */
			if (*size > 0)
			{
				size_t		length = 1 + below(*size - at < 64 ? *size - at : 64);
				uint8_t		copy[64];

				memcpy(copy, data + at, length);
				replace_range(data, size, max, below(*size + 1), 0, copy, length);
			}
			break;
		case 5:					/* truncate */
			if (*size > 0)
				*size = below(*size);
			break;
		case 6:					/* splice: our head, another input's tail */
			{
				const Input *other = &corpus[below(corpus_count)];
				size_t		from = other->size > 0 ? below(other->size) : 0;
				size_t		length = other->size - from;

				if (at + length > max)
					length = max - at;
				memcpy(data + at, other->data + from, length);
				*size = at + length;
			}
			break;
		case 7:					/* insert a dictionary token */
		case 8:
			{
				const char *token = random_token();

				replace_range(data, size, max, *size > 0 ? below(*size + 1) : 0,
							  below(4) == 0 && *size > 0 ? 1 : 0,
							  (const uint8_t *) token, strlen(token));
			}
			break;
		case 9:					/* a number becomes a string or another number */
			{
				static const char *const numbers[] = {
					"\"1\"", "\"73400320\"", "-1", "1e309", "0.000001", "1e-400",
					"12345678901234567890", "-0.0", "1E2", "true", "null", "[1]",
				};
				const char *number = numbers[below(sizeof(numbers) / sizeof(numbers[0]))];
				size_t		start = find_value(data, *size, "n");

				if (start < *size)
					replace_range(data, size, max, start, value_end(data, *size, start) - start,
								  (const uint8_t *) number, strlen(number));
			}
			break;
		case 10:				/* a string becomes a number, a container, null... */
			{
				size_t		start = find_value(data, *size, "s");
				const char *replacement = random_token();

				if (start < *size)
					replace_range(data, size, max, start, value_end(data, *size, start) - start,
								  (const uint8_t *) replacement, strlen(replacement));
			}
			break;
		case 11:				/* wrap a value in an array or an object, maybe deep */
			{
				size_t		start = find_value(data, *size, "nsc");
				size_t		end;
				size_t		depth = below(4) == 0 ? 30 + below(8) : 1;
				bool		as_object = below(2) == 0;
				uint8_t		open[8 * 40];
				uint8_t		close[40];

				if (start >= *size)
					break;
				end = value_end(data, *size, start);
				for (size_t i = 0; i < depth; i++)
				{
					if (as_object)
						memcpy(open + 5 * i, "{\"a\":", 5);
					else
						open[i] = '[';
					close[i] = as_object ? '}' : ']';
				}
				if (*size + depth * (as_object ? 6 : 2) > max)
					break;
				replace_range(data, size, max, end, 0, close, depth);
				replace_range(data, size, max, start, 0, open, depth * (as_object ? 5 : 1));
			}
			break;
		case 12:				/* repeat a value in its array */
			{
				size_t		start = find_value(data, *size, "nsc");
				size_t		end;
				uint8_t		copy[1024];
				size_t		times = 1 + below(below(4) == 0 ? 50 : 3);

				if (start >= *size || start == 0 || data[start - 1] == ':')
					break;
				end = value_end(data, *size, start);
				if (end - start + 1 > sizeof(copy))
					break;
				copy[0] = ',';
				memcpy(copy + 1, data + start, end - start);
				for (size_t i = 0; i < times; i++)
					replace_range(data, size, max, end, 0, copy, end - start + 1);
			}
			break;
		case 13:				/* a value from another input */
			{
				const Input *other = &corpus[below(corpus_count)];
				size_t		from = find_value(other->data, other->size, "nsc");
				size_t		start = find_value(data, *size, "nsc");

				if (from >= other->size || start >= *size)
					break;
				replace_range(data, size, max, start, value_end(data, *size, start) - start,
							  other->data + from, value_end(other->data, other->size, from) - from);
			}
			break;
		case 14:				/* an arithmetic change to a byte */
			if (*size > 0)
				data[at] = (uint8_t) (data[at] + (int) below(35) - 17);
			break;
		case 15:				/* overwrite with a dictionary token */
			{
				const char *token = random_token();
				size_t		length = strlen(token);

				if (*size >= length && *size > 0)
					memcpy(data + below(*size - length + 1), token, length);
			}
			break;
	}
}

/* --- running --------------------------------------------------------------- */

static void
run_input(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so that ASan sees any overread */
	uint8_t    *copy = malloc(size > 0 ? size : 1);

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	current_data = copy;
	current_size = size;
	previous_block = 0;
	LLVMFuzzerTestOneInput(copy, size);
	current_data = NULL;
	free(copy);
}

#if FUZZ_ASAN
/* More heap after an input than before, three times in a row: a leak. */
static bool
leaks(const uint8_t *data, size_t size)
{
	for (int attempt = 0; attempt < 3; attempt++)
	{
		size_t		before = __sanitizer_get_current_allocated_bytes();

		run_input(data, size);
		if (__sanitizer_get_current_allocated_bytes() <= before)
			return false;
	}
	return true;
}
#endif

static double
now_seconds(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec + now.tv_nsec / 1e9;
}

static void
usage(const char *program)
{
	fprintf(stderr,
			"usage: %s --corpus DIR [--seconds N] [--iterations N] [--seed N]\n"
			"          [--max-len N] [--crash-dir DIR]\n"
			"       %s FILE...   (run each file once)\n", program, program);
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *corpus_dir = NULL;
	double		seconds = 10;
	unsigned long long max_iterations = 0;	/* 0: no bound */
	unsigned long long seed = 1;
	size_t		max_len = 8192;
	int			first_file = argc;
	uint8_t    *buffer;
	double		started;
	double		elapsed;
	unsigned long long leaks_found = 0;
	size_t		seed_count;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--corpus") == 0 && i + 1 < argc)
			corpus_dir = argv[++i];
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc)
			max_iterations = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--max-len") == 0 && i + 1 < argc)
			max_len = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--crash-dir") == 0 && i + 1 < argc)
			snprintf(crash_dir, sizeof(crash_dir), "%s", argv[++i]);
		else if (argv[i][0] == '-')
			usage(argv[0]);
		else
		{
			first_file = i;
			break;
		}
	}
	install_handlers();

	/* reproduce: each file once, reported by name */
	if (corpus_dir == NULL)
	{
		if (first_file == argc)
			usage(argv[0]);
		start_watchdog();
		for (int i = first_file; i < argc; i++)
		{
			Input		input;

			if (!read_file(argv[i], &input, (size_t) 1 << 30))
			{
				fprintf(stderr, "fuzz: cannot read %s\n", argv[i]);
				return 2;
			}
			fprintf(stderr, "fuzz: %s: running %s (%zu bytes)\n", fuzz_target_name, argv[i], input.size);
			reproducing = argv[i];
			run_input(input.data, input.size);
			free(input.data);
		}
		fprintf(stderr, "fuzz: %s: no finding\n", fuzz_target_name);
		return 0;
	}

	random_state = seed;
	load_corpus(corpus_dir, max_len);
	seed_count = corpus_count;
	if (corpus_count == 0)
		add_to_corpus((const uint8_t *) "", 0);
	buffer = malloc(max_len + 1);
	if (buffer == NULL)
		abort();

	start_watchdog();
	/* the seeds first, so that every later input is compared with them */
	started = now_seconds();
	for (size_t i = 0; i < seed_count; i++)
	{
		memset(coverage_map, 0, sizeof(coverage_map));
		run_input(corpus[i].data, corpus[i].size);
		coverage_grew();
		iteration++;
	}
	for (;;)
	{
		const Input *parent;
		size_t		size;
		int			mutations;
		size_t		allocated_before = 0;

		if (max_iterations > 0 && iteration >= max_iterations)
			break;
		/* the clock every 64 inputs: cheap, and a bound within milliseconds */
		if (seconds > 0 && (iteration & 63) == 0 && now_seconds() - started >= seconds)
			break;
		parent = &corpus[below(corpus_count)];
		size = parent->size;
		memcpy(buffer, parent->data, size);
		mutations = 1 + (int) below(below(2) ? 2 : 8);
		for (int m = 0; m < mutations; m++)
			mutate_once(buffer, &size, max_len);

		memset(coverage_map, 0, sizeof(coverage_map));
#if FUZZ_ASAN
		allocated_before = __sanitizer_get_current_allocated_bytes();
#endif
		run_input(buffer, size);
		iteration++;
		if (coverage_grew())
			add_to_corpus(buffer, size);
#if FUZZ_ASAN
		if (__sanitizer_get_current_allocated_bytes() > allocated_before &&
			leaks(buffer, size))
		{
			current_data = buffer;
			current_size = size;
			save_current_input("leak");
			current_data = NULL;
			leaks_found++;
			break;
		}
#else
		(void) allocated_before;
#endif
	}
	elapsed = now_seconds() - started;
	printf("fuzz-result: target=%s iterations=%llu seconds=%.1f execs_per_sec=%.0f "
		   "corpus=%zu seeds=%zu coverage=%zu crashes=%llu seed=%llu\n",
		   fuzz_target_name, iteration, elapsed, elapsed > 0 ? iteration / elapsed : 0.0,
		   corpus_count, seed_count, coverage_count(), leaks_found, seed);
	fflush(stdout);
	for (size_t i = 0; i < corpus_count; i++)
		free(corpus[i].data);
	free(buffer);
	return leaks_found > 0 ? 1 : 0;
}
