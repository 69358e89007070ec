/*
 * http.h
 *		A small HTTP engine on libcurl's multi interface, for the metrics
 *		sources (Confluent Metrics API, Prometheus) that run in a worker.
 *
 * The engine is plain C: it allocates with malloc and never calls
 * PostgreSQL, so it can be tested and fuzzed on its own (test/unit).  The
 * caller turns its results into ereport and runs CHECK_FOR_INTERRUPTS after
 * the engine has given up because the interrupted callback said so.
 *
 * Use:
 *		client = kpr_http_client_create(&options);
 *		kpr_http_submit(client, &request);			(as many as wanted)
 *		while ((result = kpr_http_next_done(client)) != NULL)
 *		{
 *			... use result; kpr_http_submit() follow-ups if needed ...
 *			kpr_http_result_free(result);
 *		}
 *		interrupted = kpr_http_client_interrupted(client);
 *		kpr_http_client_destroy(client);
 *		if (interrupted) CHECK_FOR_INTERRUPTS();
 *
 * The caller must make sure kpr_http_client_destroy() runs on every path,
 * an ERROR included (PG_FINALLY, or a memory-context reset callback).  A
 * client belongs to one thread.  The interrupted callback only reads flags
 * (InterruptPending, and PostmasterIsAlive() if wanted): it must not
 * ereport or CHECK_FOR_INTERRUPTS, since a longjmp out of the engine would
 * skip its clean-up.
 *
 * Retries (each request is treated as idempotent: the metrics queries are
 * reads, POST included), up to max_attempts attempts in all:
 *	- 429: after Retry-After (seconds or an HTTP date), else after the
 *	  largest rateLimit-reset value (relative seconds; every such header and
 *	  every item of a comma list), else after the backoff;
 *	- 503: after Retry-After if there is one, else the backoff;
 *	- 408, other 5xx but 501 and 505, connection refused, reset or closed
 *	  early, truncated body, attempt timeout: after the backoff,
 *	  backoff_base_ms * 2^(attempt-1) capped at backoff_max_ms, of which a
 *	  random half is dropped ("equal jitter");
 *	- nothing else: 4xx, TLS, unresolved host, too large, too many redirects.
 * A retry whose wait would end at or after the deadline, or a server's wait
 * longer than max_retry_wait_ms, ends the request at once with
 * KPR_HTTP_NO_TIME_TO_RETRY; the last attempt's http_status and error stay.
 *
 * What the engine guarantees:
 *	- no wait is longer than 100 ms between two calls of the interrupted
 *	  callback; once it returns true, every transfer is aborted and freed and
 *	  kpr_http_next_done() returns NULL;
 *	- nothing starts at or after the deadline, and what is in flight then
 *	  ends with KPR_HTTP_DEADLINE; no retry wait runs past the deadline;
 *	- TLS peer and host verification are always on; only http and https are
 *	  allowed, for redirects too (and only https after an https start);
 *	- credentials go only through CURLOPT_USERNAME/PASSWORD, never into a
 *	  URL; libcurl keeps them from other hosts after a redirect, and the
 *	  engine removes the password and the Authorization value from every
 *	  error text and from the body and headers of every non-ok result;
 *	- every libcurl handle, header list and buffer is freed on every path.
 *
 * libcurl's global set-up runs once per process, on the first client
 * created, under pthread_once; it is never undone (the process exits
 * instead), so it must not run in the postmaster: never create a client in
 * _PG_init.
 */
#ifndef KPR_HTTP_H
#define KPR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum KprHttpStatus
{
	KPR_HTTP_OK = 0,			/* 2xx response, body complete */
	KPR_HTTP_HTTP_ERROR,		/* a final non-2xx response: see http_status */
	KPR_HTTP_TIMEOUT,			/* the last attempt hit the connect or
								 * request timeout */
	KPR_HTTP_DEADLINE,			/* the overall deadline came first */
	KPR_HTTP_NO_TIME_TO_RETRY,	/* a retry was due, but its wait (retry_wait_ms)
								 * would pass the deadline or max_retry_wait_ms */
	KPR_HTTP_TOO_LARGE,			/* body longer than max_response_bytes */
	KPR_HTTP_CONNECT_FAILED,	/* host not resolved, or connection refused */
	KPR_HTTP_RESET,				/* connection reset or closed, no full reply */
	KPR_HTTP_PARTIAL,			/* body shorter than its Content-Length */
	KPR_HTTP_TLS,				/* TLS handshake or certificate check failed */
	KPR_HTTP_INVALID,			/* the request itself is unusable (URL, scheme,
								 * header); never sent */
	KPR_HTTP_FAILED				/* anything else libcurl reported (too many
								 * redirects, out of memory, ...) */
} KprHttpStatus;

/* Options of a client; a field left 0 (or NULL) takes its default. */
typedef struct KprHttpOptions
{
	int			max_in_flight;		/* concurrent transfers; default 4 */
	long		connect_timeout_ms; /* per attempt; default 10000 */
	long		request_timeout_ms; /* per attempt, whole transfer; default 30000 */
	int			max_attempts;		/* first try included; default 4 */
	long		backoff_base_ms;	/* first backoff; default 500 */
	long		backoff_max_ms;		/* backoff cap; default 30000 */
	long		max_retry_wait_ms;	/* longest wait a server may ask for
									 * (Retry-After); default 60000 */
	size_t		max_response_bytes; /* body bound; default 16 MB */
	int			max_redirects;		/* default 5; negative = do not follow */
	const char *ca_file;		/* PEM bundle to verify peers with; NULL =
								 * the system's */
	const char *user_agent;		/* NULL = "kafka_partition_recommender" */
	int64_t		deadline_ms;	/* on kpr_http_now_ms()'s clock; 0 = none */
	bool		(*interrupted) (void *arg); /* NULL = never */
	void	   *interrupted_arg;
} KprHttpOptions;

typedef struct KprHttpRequest
{
	const char *method;			/* "GET" or "POST"; NULL = POST if body, else
								 * GET */
	const char *url;			/* http:// or https://, no user:password@ */
	const char *body;			/* POST body, or NULL */
	size_t		body_length;
	const char *const *headers; /* "Name: value" lines; a POST with a body and
								 * no Content-Type gets application/json */
	int			header_count;
	const char *username;		/* basic auth, or NULL */
	const char *password;
	void	   *cookie;			/* handed back in the result */
} KprHttpRequest;

typedef struct KprHttpHeader
{
	char	   *name;
	char	   *value;
} KprHttpHeader;

typedef struct KprHttpResult
{
	void	   *cookie;
	KprHttpStatus status;
	long		http_status;	/* of the last response, 0 if none */
	int			attempts;		/* attempts started */
	int			curl_code;		/* CURLcode of the last attempt */
	long		retry_wait_ms;	/* NO_TIME_TO_RETRY: the wait that was due */
	long		new_connections;	/* connections opened, all attempts */
	char		error[256];		/* last libcurl or engine error text; "" after
								 * a complete HTTP response of any status */
	char	   *body;			/* last response body, NUL-terminated, never
								 * NULL; at most max_response_bytes */
	size_t		body_length;
	KprHttpHeader *headers;		/* last response's headers, in order */
	int			header_count;
} KprHttpResult;

typedef struct KprHttpClient KprHttpClient;

/* Now, in milliseconds, on the monotonic clock that deadline_ms uses. */
extern int64_t kpr_http_now_ms(void);

/* NULL options = all defaults.  NULL if out of memory. */
extern KprHttpClient *kpr_http_client_create(const KprHttpOptions *options);

/*
 * Move the overall deadline (0 = none).  An earlier deadline applies to the
 * transfers in flight at once; a later one from their next attempt.
 */
extern void kpr_http_set_deadline(KprHttpClient *client, int64_t deadline_ms);

/*
 * Queue a request; everything in it is copied.  A request that cannot be
 * sent ends as a KPR_HTTP_INVALID result.  False only when out of memory or
 * after an interrupt.
 */
extern bool kpr_http_submit(KprHttpClient *client, const KprHttpRequest *request);

/*
 * Run transfers until one request is finished (retries included) and return
 * it.  NULL when no request remains, or when interrupted.
 */
extern KprHttpResult *kpr_http_next_done(KprHttpClient *client);

/* Whether the interrupted callback stopped the client (sticky). */
extern bool kpr_http_client_interrupted(const KprHttpClient *client);

/* First header of that name (case-insensitive) in a result, or NULL. */
extern const char *kpr_http_result_header(const KprHttpResult *result,
										  const char *name);

extern void kpr_http_result_free(KprHttpResult *result);

/* Abort whatever is left and free everything; NULL is allowed. */
extern void kpr_http_client_destroy(KprHttpClient *client);

/* "ok", "http_error", "timeout", ... for messages. */
extern const char *kpr_http_status_name(KprHttpStatus status);

#endif							/* KPR_HTTP_H */
