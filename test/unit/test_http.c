/*
 * test_http.c
 *		Behaviour of src/http.c against http_fault_server.py.
 *
 * Usage: test_http PORT TLS_PORT CA_FILE
 * Prints one "ok"/"not ok" line per check (TAP-like) and exits 1 if any
 * check failed.  Timing bounds are generous: they check behaviour (a wait
 * happened, an abort was prompt), not speed.
 */
#define _GNU_SOURCE				/* memmem */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/http.h"
#include "tap.h"

#define PASSWORD	"s3cr3t-PaSsW0rd"
#define USERNAME	"api-key-1"
/* base64("api-key-1:s3cr3t-PaSsW0rd") */
#define PASSWORD_B64 "YXBpLWtleS0xOnMzY3IzdC1QYVNzVzByZA=="

static int	port;
static int	tls_port;
static const char *ca_file;


static char *
url(const char *path)
{
	static char buffer[8][256];
	static int	next;
	char	   *out = buffer[next++ % 8];

	snprintf(out, sizeof(buffer[0]), "http://127.0.0.1:%d%s", port, path);
	return out;
}

/* The password, or its basic-auth form, anywhere in what a caller could quote. */
static int
leaks_secret(const KprHttpResult *result)
{
	const char *texts[2] = {result->error, result->body};

	for (int i = 0; i < 2; i++)
		if (strstr(texts[i], PASSWORD) || strstr(texts[i], PASSWORD_B64))
			return 1;
	if (memmem(result->body, result->body_length, PASSWORD, strlen(PASSWORD)))
		return 1;
	for (int i = 0; i < result->header_count; i++)
		if (strstr(result->headers[i].value, PASSWORD) ||
			strstr(result->headers[i].value, PASSWORD_B64))
			return 1;
	return 0;
}

static void
describe(const char *name, const KprHttpResult *r, long elapsed)
{
	printf("# %s: status=%s http=%ld attempts=%d curl=%d wait=%ld conns=%ld %ld ms error=\"%s\"\n",
		   name, kpr_http_status_name(r->status), r->http_status, r->attempts,
		   r->curl_code, r->retry_wait_ms, r->new_connections, elapsed, r->error);
}

/* One request, alone on a fresh client; elapsed time in *elapsed. */
static KprHttpResult *
run_one(const KprHttpOptions *options, const char *method, const char *path,
		int with_credentials, long *elapsed)
{
	KprHttpClient *client = kpr_http_client_create(options);
	KprHttpRequest request = {0};
	KprHttpResult *result;
	int64_t		start = kpr_http_now_ms();

	request.method = method;
	request.url = path[0] == '/' ? url(path) : path;
	if (with_credentials)
	{
		request.username = USERNAME;
		request.password = PASSWORD;
	}
	if (client == NULL || !kpr_http_submit(client, &request))
	{
		fprintf(stderr, "cannot create a client or submit\n");
		exit(2);
	}
	result = kpr_http_next_done(client);
	*elapsed = (long) (kpr_http_now_ms() - start);
	if (result == NULL || kpr_http_next_done(client) != NULL)
	{
		fprintf(stderr, "expected exactly one result for %s\n", path);
		exit(2);
	}
	kpr_http_client_destroy(client);
	describe(path, result, *elapsed);
	check(!leaks_secret(result), "%s: no password in the result", path);
	return result;
}

static KprHttpOptions
quick_options(void)
{
	KprHttpOptions options = {0};

	options.max_attempts = 3;
	options.backoff_base_ms = 50;
	options.backoff_max_ms = 400;
	options.request_timeout_ms = 5000;
	options.connect_timeout_ms = 2000;
	return options;
}

static void
test_success(void)
{
	KprHttpOptions options = quick_options();
	KprHttpClient *client;
	KprHttpRequest request = {0};
	KprHttpResult *r;
	long		elapsed;
	const char *json = "{\"metric\":\"io.confluent.kafka.server/received_bytes\"}";
	const char *headers[] = {"X-Extra: 1", "Accept: application/json"};

	r = run_one(&options, NULL, "/ok", 1, &elapsed);
	check(r->status == KPR_HTTP_OK && r->http_status == 200 && r->attempts == 1,
		  "GET /ok: ok, 200, one attempt");
	check(r->body_length == 5 && strcmp(r->body, "hello") == 0, "GET /ok: body");
	check(kpr_http_result_header(r, "x-TEST") && strcmp(kpr_http_result_header(r, "x-test"), "yes") == 0,
		  "GET /ok: header found case-insensitively");
	kpr_http_result_free(r);

	client = kpr_http_client_create(&options);
	request.url = url("/echo");
	request.body = json;
	request.body_length = strlen(json);
	request.headers = headers;
	request.header_count = 2;
	kpr_http_submit(client, &request);
	r = kpr_http_next_done(client);
	describe("POST /echo", r, 0);
	check(r->status == KPR_HTTP_OK && strstr(r->body, "\"method\": \"POST\"") &&
		  strstr(r->body, "application/json") && strstr(r->body, "received_bytes"),
		  "POST /echo: JSON body sent with Content-Type application/json");
	kpr_http_result_free(r);
	kpr_http_client_destroy(client);

	r = run_one(&options, NULL, "/redirect", 0, &elapsed);
	check(r->status == KPR_HTTP_OK && strcmp(r->body, "hello") == 0, "redirect followed");
	kpr_http_result_free(r);

	r = run_one(&options, NULL, "/redirect-other-host", 1, &elapsed);
	check(r->status == KPR_HTTP_OK && strcmp(r->body, "none") == 0,
		  "redirect to another host: no credentials sent there");
	kpr_http_result_free(r);

	options.max_redirects = 3;
	r = run_one(&options, NULL, "/redirect-loop", 0, &elapsed);
	check(r->status == KPR_HTTP_FAILED && r->attempts == 1, "redirect loop: failed, not retried");
	kpr_http_result_free(r);
}

static void
test_rate_limits(void)
{
	KprHttpOptions options = quick_options();
	KprHttpResult *r;
	long		elapsed;

	r = run_one(&options, NULL, "/429-retry-after?key=a&s=1", 0, &elapsed);
	check(r->status == KPR_HTTP_OK && r->attempts == 2 && elapsed >= 950 && elapsed < 10000,
		  "429 Retry-After: 1 waited ~1 s, then ok (%ld ms)", elapsed);
	kpr_http_result_free(r);

	r = run_one(&options, NULL, "/429-date?key=a&s=2", 0, &elapsed);
	check(r->status == KPR_HTTP_OK && r->attempts == 2 && elapsed >= 900 && elapsed < 10000,
		  "429 Retry-After as HTTP date: waited 1-2 s, then ok (%ld ms)", elapsed);
	kpr_http_result_free(r);

	r = run_one(&options, NULL, "/429-ratelimit?key=a", 0, &elapsed);
	check(r->status == KPR_HTTP_OK && r->attempts == 2 && elapsed >= 1950 && elapsed < 10000,
		  "429 rateLimit-reset 1 / \"1, 2\" / junk: waited the largest, 2 s (%ld ms)", elapsed);
	kpr_http_result_free(r);

	r = run_one(&options, NULL, "/429-long", 0, &elapsed);
	check(r->status == KPR_HTTP_NO_TIME_TO_RETRY && r->attempts == 1 &&
		  r->http_status == 429 && r->retry_wait_ms == 3600000 && elapsed < 10000,
		  "429 Retry-After: 3600: fails at once, no_time_to_retry (%ld ms)", elapsed);
	kpr_http_result_free(r);
}

static void
test_server_errors(void)
{
	KprHttpOptions options = quick_options();
	KprHttpResult *r;
	long		elapsed;

	r = run_one(&options, NULL, "/500-then-200?key=a", 0, &elapsed);
	check(r->status == KPR_HTTP_OK && r->attempts == 2 && strcmp(r->body, "after 500") == 0,
		  "500 then 200: ok on the second attempt");
	kpr_http_result_free(r);

	r = run_one(&options, NULL, "/503", 0, &elapsed);
	check(r->status == KPR_HTTP_HTTP_ERROR && r->http_status == 503 && r->attempts == 3 &&
		  strstr(r->body, "reset reason: overflow") != NULL,
		  "503 plain text: http_error 503 after 3 attempts, body kept");
	/* backoff 50 then 100 ms, half of each at least */
	check(elapsed >= 75 && elapsed < 10000, "503: backed off between attempts (%ld ms)", elapsed);
	kpr_http_result_free(r);

	r = run_one(&options, NULL, "/401", 1, &elapsed);
	check(r->status == KPR_HTTP_HTTP_ERROR && r->http_status == 401 && r->attempts == 1,
		  "401: not retried");
	check(strstr(r->body, "Invalid credentials") != NULL && strstr(r->body, USERNAME ":") != NULL,
		  "401: body kept for quoting, with the echoed password blanked");
	kpr_http_result_free(r);

	r = run_one(&options, NULL, "/nothing-here", 0, &elapsed);
	check(r->status == KPR_HTTP_HTTP_ERROR && r->http_status == 404 && r->attempts == 1,
		  "404: not retried");
	kpr_http_result_free(r);
}

static void
test_transport_faults(void)
{
	KprHttpOptions options = quick_options();
	KprHttpResult *r;
	long		elapsed;
	char		refused[64];

	options.max_attempts = 2;
	options.request_timeout_ms = 300;
	r = run_one(&options, NULL, "/slow?ms=2000", 0, &elapsed);
	check(r->status == KPR_HTTP_TIMEOUT && r->attempts == 2 && elapsed >= 600 && elapsed < 3900,
		  "slow response: timeout after 2 attempts of 300 ms (%ld ms)", elapsed);
	kpr_http_result_free(r);

	options = quick_options();
	options.max_attempts = 2;
	r = run_one(&options, NULL, "/truncated", 0, &elapsed);
	check(r->status == KPR_HTTP_PARTIAL && r->attempts == 2 && r->curl_code == 18,
		  "truncated body: partial (CURLE_PARTIAL_FILE), retried");
	kpr_http_result_free(r);

	r = run_one(&options, NULL, "/reset", 0, &elapsed);
	check(r->status == KPR_HTTP_RESET && r->attempts == 2, "reset mid-body: reset, retried");
	kpr_http_result_free(r);

	options.max_response_bytes = 1024 * 1024;
	r = run_one(&options, NULL, "/big?bytes=2000000", 0, &elapsed);
	check(r->status == KPR_HTTP_TOO_LARGE && r->attempts == 1,
		  "oversized body (Content-Length): too_large, not retried");
	kpr_http_result_free(r);
	r = run_one(&options, NULL, "/big-chunked?bytes=2000000", 0, &elapsed);
	check(r->status == KPR_HTTP_TOO_LARGE && r->attempts == 1 && r->body_length <= 1024 * 1024,
		  "oversized body (chunked): too_large, body bounded");
	kpr_http_result_free(r);
	r = run_one(&options, NULL, "/big?bytes=1048576", 0, &elapsed);
	check(r->status == KPR_HTTP_OK && r->body_length == 1048576, "body of exactly the bound: ok");
	kpr_http_result_free(r);

	/* a port nobody listens on: the fault server's, plus one, is a guess; use port 1 */
	snprintf(refused, sizeof(refused), "http://127.0.0.1:1/ok");
	r = run_one(&options, NULL, refused, 0, &elapsed);
	check(r->status == KPR_HTTP_CONNECT_FAILED && r->attempts == 2,
		  "connection refused: connect_failed, retried");
	kpr_http_result_free(r);

	r = run_one(&options, NULL, "http://" USERNAME ":" PASSWORD "@127.0.0.1:1/ok", 0, &elapsed);
	check(r->status == KPR_HTTP_INVALID && r->attempts == 0, "credentials in the URL: invalid, never sent");
	kpr_http_result_free(r);
	r = run_one(&options, NULL, "ftp://127.0.0.1/x", 0, &elapsed);
	check(r->status == KPR_HTTP_INVALID && r->attempts == 0, "ftp URL: invalid");
	kpr_http_result_free(r);
	r = run_one(&options, "DELETE", "/ok", 0, &elapsed);
	check(r->status == KPR_HTTP_INVALID && r->attempts == 0, "DELETE: invalid");
	kpr_http_result_free(r);
}

static void
test_deadline(void)
{
	KprHttpOptions options = quick_options();
	KprHttpResult *r;
	long		elapsed;
	int64_t		returned;

	options.deadline_ms = kpr_http_now_ms() + 500;
	r = run_one(&options, NULL, "/slow?ms=3000", 0, &elapsed);
	/* measured from the deadline itself: run_one starts its clock later */
	returned = kpr_http_now_ms();
	check(r->status == KPR_HTTP_DEADLINE && r->attempts == 1 &&
		  returned >= options.deadline_ms - 50 && returned < options.deadline_ms + 2000,
		  "deadline in 500 ms, response in 3 s: deadline (%ld ms after it)",
		  (long) (returned - options.deadline_ms));
	kpr_http_result_free(r);

	options.deadline_ms = kpr_http_now_ms() - 1;
	r = run_one(&options, NULL, "/ok", 0, &elapsed);
	check(r->status == KPR_HTTP_DEADLINE && r->attempts == 0,
		  "deadline passed: nothing started");
	kpr_http_result_free(r);

	/* "at once": well before the deadline, which waiting would reach */
	options.deadline_ms = kpr_http_now_ms() + 5000;
	options.backoff_base_ms = 30000;
	options.backoff_max_ms = 30000;
	r = run_one(&options, NULL, "/503", 0, &elapsed);
	check(r->status == KPR_HTTP_NO_TIME_TO_RETRY && r->attempts == 1 && r->http_status == 503 &&
		  r->retry_wait_ms >= 15000 && elapsed < 4000,
		  "backoff longer than the time left: no_time_to_retry at once (%ld ms)", elapsed);
	kpr_http_result_free(r);

	options = quick_options();
	options.deadline_ms = kpr_http_now_ms() + 5000;
	r = run_one(&options, NULL, "/429-retry-after?key=b&s=20", 0, &elapsed);
	check(r->status == KPR_HTTP_NO_TIME_TO_RETRY && r->retry_wait_ms == 20000 && elapsed < 4000,
		  "Retry-After past the deadline: no_time_to_retry at once (%ld ms)", elapsed);
	kpr_http_result_free(r);
}

static int64_t interrupt_at;

static bool
interrupt_after(void *arg)
{
	int		   *calls = arg;

	(*calls)++;
	return kpr_http_now_ms() >= interrupt_at;
}

static void
test_interrupt(const char *path, const char *what)
{
	KprHttpOptions options = quick_options();
	KprHttpClient *client;
	KprHttpRequest request = {0};
	KprHttpResult *result;
	int			calls = 0;
	int64_t		returned;

	options.interrupted = interrupt_after;
	options.interrupted_arg = &calls;
	client = kpr_http_client_create(&options);
	request.url = url(path);
	kpr_http_submit(client, &request);
	interrupt_at = kpr_http_now_ms() + 300;
	result = kpr_http_next_done(client);
	returned = kpr_http_now_ms();
	check(result == NULL, "interrupt %s: next_done returns NULL", what);
	kpr_http_result_free(result);
	check(kpr_http_client_interrupted(client), "interrupt %s: client says interrupted", what);
	check(returned - interrupt_at >= 0 && returned - interrupt_at < 2000,
		  "interrupt %s: returned %ld ms after the flag", what, (long) (returned - interrupt_at));
	check(calls >= 3, "interrupt %s: callback polled between slices (%d calls)", what, calls);
	check(!kpr_http_submit(client, &request), "interrupt %s: no submit afterwards", what);
	kpr_http_client_destroy(client);
}

/* The most requests to /barrier?key=KEY the server had in at once. */
static long
barrier_peak(const char *key)
{
	KprHttpOptions options = quick_options();
	char		path[64];
	long		elapsed;
	long		peak;
	KprHttpResult *r;

	snprintf(path, sizeof(path), "/barrier-peak?key=%s", key);
	r = run_one(&options, NULL, path, 0, &elapsed);
	peak = r->status == KPR_HTTP_OK ? atol(r->body) : -1;
	kpr_http_result_free(r);
	return peak;
}

/*
 * Requests in flight at once, seen by the server rather than timed: its
 * /barrier answers only once N requests are in together (or 503 after 30 s),
 * and counts the most it had in at once.
 */
static void
test_concurrency(void)
{
	KprHttpOptions options = quick_options();
	KprHttpClient *client;
	KprHttpRequest request = {0};
	KprHttpResult *r;
	int			seen = 0;
	const int	n = 4;

	options.max_in_flight = n;
	options.request_timeout_ms = 60000;
	client = kpr_http_client_create(&options);
	request.url = url("/barrier?n=4&key=four");
	for (int i = 0; i < n; i++)
		kpr_http_submit(client, &request);
	while ((r = kpr_http_next_done(client)) != NULL)
	{
		seen += r->status == KPR_HTTP_OK;
		kpr_http_result_free(r);
	}
	kpr_http_client_destroy(client);
	check(seen == n, "%d requests at max_in_flight %d: all in flight together (%d answered)",
		  n, n, seen);

	options.max_in_flight = 2;
	client = kpr_http_client_create(&options);
	request.url = url("/barrier?n=2&key=two");
	seen = 0;
	for (int i = 0; i < n; i++)
		kpr_http_submit(client, &request);
	while ((r = kpr_http_next_done(client)) != NULL)
	{
		seen += r->status == KPR_HTTP_OK;
		kpr_http_result_free(r);
	}
	kpr_http_client_destroy(client);
	check(seen == n, "%d requests at max_in_flight 2: two pairs together (%d answered)", n, seen);
	check(barrier_peak("two") == 2, "max_in_flight 2: never more than 2 in flight (peak %ld)",
		  barrier_peak("two"));
}

/* Follow-ups submitted after a result while others are in flight; reuse. */
static void
test_follow_up(void)
{
	KprHttpOptions options = quick_options();
	KprHttpClient *client;
	KprHttpRequest request = {0};
	KprHttpResult *r;
	int			cookies[4] = {0, 1, 2, 3};
	int			seen[4] = {0};
	int			follow_ups = 0;
	long		connections = 0;

	options.max_in_flight = 2;
	client = kpr_http_client_create(&options);
	request.url = url("/ok");
	request.cookie = &cookies[0];
	kpr_http_submit(client, &request);
	request.url = url("/slow?ms=300");
	request.cookie = &cookies[1];
	kpr_http_submit(client, &request);
	while ((r = kpr_http_next_done(client)) != NULL)
	{
		int			which = *(int *) r->cookie;

		seen[which]++;
		connections += r->new_connections;
		if (which == 0 || which == 2)
		{
			/* the "next page" of the fast one, while the slow one runs */
			request.url = url("/ok");
			request.cookie = which == 0 ? &cookies[2] : &cookies[3];
			kpr_http_submit(client, &request);
			follow_ups++;
		}
		kpr_http_result_free(r);
	}
	kpr_http_client_destroy(client);
	check(seen[0] == 1 && seen[1] == 1 && seen[2] == 1 && seen[3] == 1 && follow_ups == 2,
		  "follow-up requests submitted between results all come back");
	check(connections <= 2, "4 requests, 2 in flight: %ld connections (reused)", connections);
}

/* Verification is on unless a CA file vouches for the peer; no downgrade. */
static void
test_tls(void)
{
	KprHttpOptions options = quick_options();
	KprHttpResult *r;
	long		elapsed;
	char		address[128];

	snprintf(address, sizeof(address), "https://127.0.0.1:%d/ok", tls_port);
	r = run_one(&options, NULL, address, 1, &elapsed);
	check(r->status == KPR_HTTP_TLS && r->attempts == 1,
		  "self-signed peer, no CA file: tls, not retried");
	kpr_http_result_free(r);

	options.ca_file = ca_file;
	r = run_one(&options, NULL, address, 1, &elapsed);
	check(r->status == KPR_HTTP_OK && strcmp(r->body, "hello") == 0, "self-signed peer, its CA file: ok");
	kpr_http_result_free(r);

	snprintf(address, sizeof(address), "https://localhost:%d/ok", tls_port);
	r = run_one(&options, NULL, address, 1, &elapsed);
	check(r->status == KPR_HTTP_TLS, "certificate for 127.0.0.1 reached as localhost: tls (host checked)");
	kpr_http_result_free(r);

	snprintf(address, sizeof(address), "https://127.0.0.1:%d/redirect-to-plain", tls_port);
	r = run_one(&options, NULL, address, 1, &elapsed);
	check(r->status == KPR_HTTP_FAILED && r->http_status == 302,
		  "https redirected to http: refused");
	kpr_http_result_free(r);
}

int
main(int argc, char **argv)
{
	if (argc != 4 || (port = atoi(argv[1])) <= 0 || (tls_port = atoi(argv[2])) <= 0)
	{
		fprintf(stderr, "usage: %s PORT TLS_PORT CA_FILE\n", argv[0]);
		return 2;
	}
	ca_file = argv[3];
	signal(SIGPIPE, SIG_IGN);
	test_success();
	test_rate_limits();
	test_server_errors();
	test_transport_faults();
	test_deadline();
	test_interrupt("/slow?ms=5000", "in flight");
	test_interrupt("/429-retry-after?key=c&s=10", "in a retry wait");
	test_concurrency();
	test_follow_up();
	test_tls();
	return tap_finish();
}
