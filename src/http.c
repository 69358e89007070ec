/*
 * http.c
 *		The HTTP engine behind the metrics sources: libcurl multi, bounded
 *		concurrency, retries with backoff, an overall deadline and interrupt
 *		checks, in plain C (see http.h for the contract).
 *
 * A request lives in one Transfer from kpr_http_submit() until its result
 * is handed out.  A Transfer is on exactly one of three lists:
 *	- pending: waiting to start, or waiting for a retry (not_before_ms);
 *	- active: added to the multi handle, on the wire;
 *	- done: finished; its libcurl handles are already freed and only the
 *	  result is left, for kpr_http_next_done() to return.
 *
 * The only wait is curl_multi_poll(), for at most WAIT_SLICE_MS, with a call
 * of the interrupted callback and a deadline check between two waits; sleeps
 * before retries are the same polls with no transfer to watch.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE				/* memmem */
#endif

#include "http.h"

#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#if LIBCURL_VERSION_NUM < 0x075500
#error "libcurl 7.85.0 or later is needed (CURLOPT_PROTOCOLS_STR)"
#endif

#define WAIT_SLICE_MS			100
#define MAX_HEADERS				100
#define MAX_HEADER_BYTES		(64 * 1024)
#define MAX_SECRETS				4
/* server-requested waits above this are nonsense, not a plan */
#define MAX_SENSIBLE_WAIT_SEC	86400

typedef struct Transfer
{
	struct Transfer *next;
	KprHttpClient *client;
	CURL	   *easy;
	struct curl_slist *header_list;
	char	   *url;
	char	   *body;			/* request body, kept for retries */
	bool		is_post;
	char	   *secrets[MAX_SECRETS];	/* removed from anything we report */
	int			secret_count;
	int64_t		not_before_ms;
	bool		deadline_bound; /* this attempt's timeout ends at the deadline */
	bool		too_large;
	/* the response being received */
	char	   *response;
	size_t		response_length;
	size_t		response_allocated;
	KprHttpHeader *headers;
	int			header_count;
	size_t		header_bytes;
	char		curl_error[CURL_ERROR_SIZE];
	KprHttpResult *result;
} Transfer;

typedef struct TransferList
{
	Transfer   *head;
	Transfer   *tail;
	int			count;
} TransferList;

struct KprHttpClient
{
	KprHttpOptions options;
	char	   *ca_file;
	char	   *user_agent;
	CURLM	   *multi;
	TransferList pending;
	TransferList active;
	TransferList done;
	bool		interrupted;
	uint64_t	random_state;
};

/* --- process-wide set-up ------------------------------------------------ */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_init_code = CURLE_FAILED_INIT;

static void
global_init(void)
{
	global_init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* --- small helpers ------------------------------------------------------ */

int64_t
kpr_http_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static char *
copy_string(const char *source)
{
	return source ? strdup(source) : NULL;
}

/* splitmix64; only for jitter */
static uint64_t
next_random(KprHttpClient *client)
{
	uint64_t	z = (client->random_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void
list_append(TransferList *list, Transfer *transfer)
{
	transfer->next = NULL;
	if (list->tail)
		list->tail->next = transfer;
	else
		list->head = transfer;
	list->tail = transfer;
	list->count++;
}

static void
list_remove(TransferList *list, Transfer *transfer)
{
	Transfer   *previous = NULL;

	for (Transfer *t = list->head; t != NULL; previous = t, t = t->next)
	{
		if (t != transfer)
			continue;
		if (previous)
			previous->next = t->next;
		else
			list->head = t->next;
		if (list->tail == t)
			list->tail = previous;
		list->count--;
		t->next = NULL;
		return;
	}
}

static char *
base64_encode(const char *data, size_t length)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char	   *out = malloc((length + 2) / 3 * 4 + 1);
	char	   *p = out;
	size_t		i;

	if (out == NULL)
		return NULL;
	for (i = 0; i + 2 < length; i += 3)
	{
		uint32_t	v = ((uint8_t) data[i] << 16) | ((uint8_t) data[i + 1] << 8) | (uint8_t) data[i + 2];

		*p++ = alphabet[(v >> 18) & 63];
		*p++ = alphabet[(v >> 12) & 63];
		*p++ = alphabet[(v >> 6) & 63];
		*p++ = alphabet[v & 63];
	}
	if (i < length)
	{
		uint32_t	v = (uint8_t) data[i] << 16;

		if (i + 1 < length)
			v |= (uint8_t) data[i + 1] << 8;
		*p++ = alphabet[(v >> 18) & 63];
		*p++ = alphabet[(v >> 12) & 63];
		*p++ = i + 1 < length ? alphabet[(v >> 6) & 63] : '=';
		*p++ = '=';
	}
	*p = '\0';
	return out;
}

/* Overwrite every occurrence of every secret in text[0..length) with '*'. */
static void
redact(const Transfer *transfer, char *text, size_t length)
{
	for (int s = 0; s < transfer->secret_count; s++)
	{
		const char *secret = transfer->secrets[s];
		size_t		secret_length = strlen(secret);
		char	   *at = text;

		if (secret_length == 0)
			continue;
		while ((size_t) (text + length - at) >= secret_length &&
			   (at = memmem(at, text + length - at, secret, secret_length)) != NULL)
		{
			memset(at, '*', secret_length);
			at += secret_length;
		}
	}
}

static bool
add_secret(Transfer *transfer, const char *secret)
{
	if (secret == NULL || secret[0] == '\0' || transfer->secret_count == MAX_SECRETS)
		return true;
	if ((transfer->secrets[transfer->secret_count] = strdup(secret)) == NULL)
		return false;
	transfer->secret_count++;
	return true;
}

static void
free_headers(KprHttpHeader *headers, int count)
{
	for (int i = 0; i < count; i++)
	{
		free(headers[i].name);
		free(headers[i].value);
	}
	free(headers);
}

/* --- libcurl callbacks ---------------------------------------------------- */

static size_t
on_body(char *data, size_t size, size_t count, void *arg)
{
	Transfer   *transfer = arg;
	size_t		length = size * count;
	size_t		limit = transfer->client->options.max_response_bytes;

	if (length > limit - transfer->response_length)
	{
		transfer->too_large = true;
		return 0;				/* libcurl ends the transfer: CURLE_WRITE_ERROR */
	}
	if (transfer->response_length + length + 1 > transfer->response_allocated)
	{
		size_t		wanted = transfer->response_allocated ? transfer->response_allocated : 4096;
		char	   *bigger;

		while (wanted < transfer->response_length + length + 1)
			wanted *= 2;
		if ((bigger = realloc(transfer->response, wanted)) == NULL)
			return 0;
		transfer->response = bigger;
		transfer->response_allocated = wanted;
	}
	memcpy(transfer->response + transfer->response_length, data, length);
	transfer->response_length += length;
	transfer->response[transfer->response_length] = '\0';
	return length;
}

/*
 * Keep the header lines of the last response only: a status line (after a
 * redirect, or a 100 Continue) starts the list afresh.  Lines over the
 * bounds are dropped, not fatal.
 */
static size_t
on_header(char *data, size_t size, size_t count, void *arg)
{
	Transfer   *transfer = arg;
	size_t		length = size * count;
	const char *colon;
	const char *value;
	const char *end = data + length;
	KprHttpHeader *grown;

	if (length >= 5 && strncmp(data, "HTTP/", 5) == 0)
	{
		free_headers(transfer->headers, transfer->header_count);
		transfer->headers = NULL;
		transfer->header_count = 0;
		transfer->header_bytes = 0;
		return length;
	}
	colon = memchr(data, ':', length);
	if (colon == NULL || colon == data ||
		transfer->header_count >= MAX_HEADERS ||
		transfer->header_bytes + length > MAX_HEADER_BYTES)
		return length;
	value = colon + 1;
	while (value < end && (*value == ' ' || *value == '\t'))
		value++;
	while (end > value && (end[-1] == '\r' || end[-1] == '\n' ||
						   end[-1] == ' ' || end[-1] == '\t'))
		end--;
	grown = realloc(transfer->headers, (transfer->header_count + 1) * sizeof(KprHttpHeader));
	if (grown == NULL)
		return length;
	transfer->headers = grown;
	grown[transfer->header_count].name = strndup(data, colon - data);
	grown[transfer->header_count].value = strndup(value, end - value);
	if (grown[transfer->header_count].name == NULL ||
		grown[transfer->header_count].value == NULL)
	{
		free(grown[transfer->header_count].name);
		free(grown[transfer->header_count].value);
		return length;
	}
	transfer->header_count++;
	transfer->header_bytes += length;
	return length;
}

/* --- client ---------------------------------------------------------------- */

KprHttpClient *
kpr_http_client_create(const KprHttpOptions *options)
{
	KprHttpClient *client;

	pthread_once(&global_once, global_init);
	if (global_init_code != CURLE_OK)
		return NULL;
	if ((client = calloc(1, sizeof(KprHttpClient))) == NULL)
		return NULL;
	if (options)
		client->options = *options;
#define DEFAULT(field, value) do { if (client->options.field <= 0) client->options.field = (value); } while (0)
	DEFAULT(max_in_flight, 4);
	DEFAULT(connect_timeout_ms, 10000);
	DEFAULT(request_timeout_ms, 30000);
	DEFAULT(max_attempts, 4);
	DEFAULT(backoff_base_ms, 500);
	DEFAULT(backoff_max_ms, 30000);
	DEFAULT(max_retry_wait_ms, 60000);
	DEFAULT(max_response_bytes, 16 * 1024 * 1024);
	DEFAULT(max_redirects, 5);
#undef DEFAULT
	if (options && options->max_redirects < 0)
		client->options.max_redirects = 0;
	client->ca_file = copy_string(client->options.ca_file);
	client->user_agent = copy_string(client->options.user_agent ?
									 client->options.user_agent :
									 "kafka_partition_recommender");
	client->options.ca_file = client->ca_file;
	client->options.user_agent = client->user_agent;
	client->random_state = (uint64_t) kpr_http_now_ms() * 1000003u ^ (uint64_t) getpid();
	client->multi = curl_multi_init();
	if (client->multi == NULL || client->user_agent == NULL ||
		(options && options->ca_file && client->ca_file == NULL))
	{
		kpr_http_client_destroy(client);
		return NULL;
	}
	return client;
}

void
kpr_http_set_deadline(KprHttpClient *client, int64_t deadline_ms)
{
	client->options.deadline_ms = deadline_ms;
}

bool
kpr_http_client_interrupted(const KprHttpClient *client)
{
	return client->interrupted;
}

const char *
kpr_http_status_name(KprHttpStatus status)
{
	switch (status)
	{
		case KPR_HTTP_OK:
			return "ok";
		case KPR_HTTP_HTTP_ERROR:
			return "http_error";
		case KPR_HTTP_TIMEOUT:
			return "timeout";
		case KPR_HTTP_DEADLINE:
			return "deadline";
		case KPR_HTTP_NO_TIME_TO_RETRY:
			return "no_time_to_retry";
		case KPR_HTTP_TOO_LARGE:
			return "too_large";
		case KPR_HTTP_CONNECT_FAILED:
			return "connect_failed";
		case KPR_HTTP_RESET:
			return "reset";
		case KPR_HTTP_PARTIAL:
			return "partial";
		case KPR_HTTP_TLS:
			return "tls";
		case KPR_HTTP_INVALID:
			return "invalid";
		case KPR_HTTP_FAILED:
			return "failed";
	}
	return "unknown";
}

/* --- a transfer's life ------------------------------------------------------ */

/*
 * Free everything of a finished transfer but its result, which gets the last
 * response (redacted unless it is a success: a 2xx body is data, not a
 * message).
 */
static void
release_transfer(Transfer *transfer)
{
	KprHttpResult *result = transfer->result;

	if (transfer->easy)
		curl_easy_cleanup(transfer->easy);
	curl_slist_free_all(transfer->header_list);
	free(transfer->url);
	free(transfer->body);
	if (result)
	{
		if (result->status != KPR_HTTP_OK)
		{
			if (transfer->response)
				redact(transfer, transfer->response, transfer->response_length);
			for (int i = 0; i < transfer->header_count; i++)
			{
				redact(transfer, transfer->headers[i].name, strlen(transfer->headers[i].name));
				redact(transfer, transfer->headers[i].value, strlen(transfer->headers[i].value));
			}
		}
		redact(transfer, result->error, strlen(result->error));
		result->body = transfer->response ? transfer->response : strdup("");
		result->body_length = transfer->response ? transfer->response_length : 0;
		result->headers = transfer->headers;
		result->header_count = transfer->header_count;
		transfer->response = NULL;
		transfer->headers = NULL;
		transfer->header_count = 0;
	}
	free(transfer->response);
	free_headers(transfer->headers, transfer->header_count);
	for (int s = 0; s < transfer->secret_count; s++)
	{
		explicit_bzero(transfer->secrets[s], strlen(transfer->secrets[s]));
		free(transfer->secrets[s]);
	}
	free(transfer);
}

static void
finish(KprHttpClient *client, Transfer *transfer, KprHttpStatus status,
	   const char *engine_error)
{
	transfer->result->status = status;
	if (engine_error && transfer->result->error[0] == '\0')
		snprintf(transfer->result->error, sizeof(transfer->result->error), "%s", engine_error);
	list_append(&client->done, transfer);
}

static void
finish_invalid(KprHttpClient *client, Transfer *transfer, const char *why)
{
	finish(client, transfer, KPR_HTTP_INVALID, why);
}

/* A request as libcurl options; false (and an INVALID result) if unusable. */
static bool
prepare_easy(KprHttpClient *client, Transfer *transfer, const KprHttpRequest *request)
{
	CURL	   *easy;
	CURLU	   *parsed;
	char	   *scheme = NULL;
	char	   *user = NULL;
	bool		https;
	bool		has_content_type = false;
	CURLUcode	url_code;

	/* the URL: http or https, and no credentials inside it */
	if (request->url == NULL || (parsed = curl_url()) == NULL)
	{
		finish_invalid(client, transfer, "no URL");
		return false;
	}
	url_code = curl_url_set(parsed, CURLUPART_URL, request->url, 0);
	if (url_code == CURLUE_OK)
		url_code = curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0);
	if (url_code == CURLUE_OK &&
		curl_url_get(parsed, CURLUPART_USER, &user, 0) == CURLUE_OK)
		url_code = CURLUE_BAD_USER;
	https = scheme && strcmp(scheme, "https") == 0;
	if (url_code == CURLUE_OK && !https && strcmp(scheme, "http") != 0)
		url_code = CURLUE_UNSUPPORTED_SCHEME;
	curl_free(scheme);
	curl_free(user);
	curl_url_cleanup(parsed);
	if (url_code == CURLUE_BAD_USER)
	{
		finish_invalid(client, transfer,
					   "the URL must not carry a user name or password; pass them as basic auth");
		return false;
	}
	if (url_code != CURLUE_OK)
	{
		snprintf(transfer->result->error, sizeof(transfer->result->error),
				 "unusable URL: %s (only http and https are allowed)",
				 curl_url_strerror(url_code));
		finish_invalid(client, transfer, NULL);
		return false;
	}

	/* method and body */
	if (request->method == NULL)
		transfer->is_post = request->body != NULL;
	else if (strcmp(request->method, "POST") == 0)
		transfer->is_post = true;
	else if (strcmp(request->method, "GET") != 0)
	{
		finish_invalid(client, transfer, "only GET and POST are supported");
		return false;
	}
	if (!transfer->is_post && request->body != NULL)
	{
		finish_invalid(client, transfer, "a GET request cannot have a body");
		return false;
	}

	/* extra headers: one line each, no line breaks; note credentials */
	for (int i = 0; i < request->header_count; i++)
	{
		const char *line = request->headers[i];
		const char *colon = line ? strchr(line, ':') : NULL;
		struct curl_slist *appended;

		if (colon == NULL || colon == line || strpbrk(line, "\r\n") != NULL)
		{
			snprintf(transfer->result->error, sizeof(transfer->result->error),
					 "extra header %d is not one \"Name: value\" line", i + 1);
			finish_invalid(client, transfer, NULL);
			return false;
		}
		if ((colon - line == 13 && strncasecmp(line, "Authorization", 13) == 0) ||
			(colon - line == 19 && strncasecmp(line, "Proxy-Authorization", 19) == 0))
		{
			const char *value = colon + 1;
			const char *token;

			while (*value == ' ' || *value == '\t')
				value++;
			token = strchr(value, ' ');
			if (!add_secret(transfer, value) ||
				(token && !add_secret(transfer, token + 1)))
				return false;
		}
		if (colon - line == 12 && strncasecmp(line, "Content-Type", 12) == 0)
			has_content_type = true;
		if ((appended = curl_slist_append(transfer->header_list, line)) == NULL)
			return false;
		transfer->header_list = appended;
	}
	if (transfer->is_post && request->body && !has_content_type)
	{
		struct curl_slist *appended = curl_slist_append(transfer->header_list,
														"Content-Type: application/json");

		if (appended == NULL)
			return false;
		transfer->header_list = appended;
	}
	{
		/* no "Expect: 100-continue" round trip before large bodies */
		struct curl_slist *appended = curl_slist_append(transfer->header_list, "Expect:");

		if (appended == NULL)
			return false;
		transfer->header_list = appended;
	}

	if ((transfer->url = strdup(request->url)) == NULL)
		return false;
	if (request->body)
	{
		if ((transfer->body = malloc(request->body_length + 1)) == NULL)
			return false;
		memcpy(transfer->body, request->body, request->body_length);
		transfer->body[request->body_length] = '\0';
	}
	if (request->password && request->password[0])
	{
		size_t		user_length = request->username ? strlen(request->username) : 0;
		size_t		pair_length = user_length + 1 + strlen(request->password);
		char	   *pair = malloc(pair_length + 1);
		char	   *encoded;

		if (pair == NULL)
			return false;
		snprintf(pair, pair_length + 1, "%s:%s",
				 request->username ? request->username : "", request->password);
		encoded = base64_encode(pair, pair_length);
		explicit_bzero(pair, pair_length);
		free(pair);
		if (encoded == NULL || !add_secret(transfer, request->password) ||
			!add_secret(transfer, encoded))
		{
			free(encoded);
			return false;
		}
		explicit_bzero(encoded, strlen(encoded));
		free(encoded);
	}

	if ((easy = transfer->easy = curl_easy_init()) == NULL)
		return false;
	if (curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_URL, transfer->url) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https") != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, client->options.max_redirects > 0 ? 1L : 0L) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_MAXREDIRS, (long) client->options.max_redirects) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_UNRESTRICTED_AUTH, 0L) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_VERBOSE, 0L) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->curl_error) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
		(client->ca_file &&
		 curl_easy_setopt(easy, CURLOPT_CAINFO, client->ca_file) != CURLE_OK) ||
		curl_easy_setopt(easy, CURLOPT_USERAGENT, client->user_agent) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE,
						 (curl_off_t) client->options.max_response_bytes) != CURLE_OK ||
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->header_list) != CURLE_OK ||
		/* aborting during name resolution must not wait for the resolver */
		curl_easy_setopt(easy, CURLOPT_QUICK_EXIT, 1L) != CURLE_OK)
		return false;
	if (transfer->is_post)
	{
		if (curl_easy_setopt(easy, CURLOPT_POST, 1L) != CURLE_OK ||
			curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
							 (curl_off_t) (request->body ? request->body_length : 0)) != CURLE_OK ||
			curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transfer->body ? transfer->body : "") != CURLE_OK)
			return false;
	}
	if (request->username || request->password)
	{
		if (curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC) != CURLE_OK ||
			curl_easy_setopt(easy, CURLOPT_USERNAME, request->username ? request->username : "") != CURLE_OK ||
			curl_easy_setopt(easy, CURLOPT_PASSWORD, request->password ? request->password : "") != CURLE_OK)
			return false;
	}
	return true;
}

bool
kpr_http_submit(KprHttpClient *client, const KprHttpRequest *request)
{
	Transfer   *transfer;

	if (client->interrupted)
		return false;
	if ((transfer = calloc(1, sizeof(Transfer))) == NULL)
		return false;
	transfer->client = client;
	if ((transfer->result = calloc(1, sizeof(KprHttpResult))) == NULL)
	{
		free(transfer);
		return false;
	}
	transfer->result->cookie = request->cookie;
	if (!prepare_easy(client, transfer, request))
	{
		/* an INVALID result is already on the done list */
		if (client->done.tail == transfer)
			return true;
		kpr_http_result_free(transfer->result);
		transfer->result = NULL;
		release_transfer(transfer);
		return false;
	}
	list_append(&client->pending, transfer);
	return true;
}

/* Begin an attempt: fresh response buffers, timeouts cut at the deadline. */
static bool
start_attempt(KprHttpClient *client, Transfer *transfer, int64_t now)
{
	long		request_timeout = client->options.request_timeout_ms;
	long		connect_timeout = client->options.connect_timeout_ms;
	int64_t		deadline = client->options.deadline_ms;

	free(transfer->response);
	transfer->response = NULL;
	transfer->response_length = transfer->response_allocated = 0;
	free_headers(transfer->headers, transfer->header_count);
	transfer->headers = NULL;
	transfer->header_count = 0;
	transfer->header_bytes = 0;
	transfer->too_large = false;
	transfer->curl_error[0] = '\0';
	transfer->deadline_bound = false;
	if (deadline > 0 && deadline - now <= request_timeout)
	{
		request_timeout = (long) (deadline - now);
		transfer->deadline_bound = true;
	}
	if (connect_timeout > request_timeout)
		connect_timeout = request_timeout;
	if (curl_easy_setopt(transfer->easy, CURLOPT_TIMEOUT_MS, request_timeout) != CURLE_OK ||
		curl_easy_setopt(transfer->easy, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout) != CURLE_OK ||
		curl_multi_add_handle(client->multi, transfer->easy) != CURLM_OK)
		return false;
	transfer->result->attempts++;
	list_append(&client->active, transfer);
	return true;
}

/* Start what is due, up to max_in_flight, in submission order. */
static void
start_due(KprHttpClient *client, int64_t now)
{
	Transfer   *transfer = client->pending.head;

	while (transfer != NULL && client->active.count < client->options.max_in_flight)
	{
		Transfer   *next = transfer->next;

		if (transfer->not_before_ms <= now)
		{
			list_remove(&client->pending, transfer);
			if (!start_attempt(client, transfer, now))
				finish(client, transfer, KPR_HTTP_FAILED, "could not start the transfer (out of memory?)");
		}
		transfer = next;
	}
}

/* Seconds, or an HTTP date; -1 if neither. */
static long
parse_retry_after(const char *value)
{
	char	   *end;
	long long	seconds;
	time_t		when;

	while (isspace((unsigned char) *value))
		value++;
	if (isdigit((unsigned char) *value))
	{
		seconds = strtoll(value, &end, 10);
		while (isspace((unsigned char) *end))
			end++;
		if (*end != '\0')
			return -1;
		return seconds > MAX_SENSIBLE_WAIT_SEC ? MAX_SENSIBLE_WAIT_SEC * 1000L : (long) seconds * 1000;
	}
	if ((when = curl_getdate(value, NULL)) == -1)
		return -1;
	seconds = (long long) when - (long long) time(NULL);
	if (seconds < 0)
		return 0;
	return seconds > MAX_SENSIBLE_WAIT_SEC ? MAX_SENSIBLE_WAIT_SEC * 1000L : (long) seconds * 1000;
}

/*
 * The largest rateLimit-reset (relative seconds) over every such header and
 * every comma-separated item; items that are not a number in 0..1 day are
 * ignored.  -1 if there is none.
 */
static long
parse_rate_limit_reset(const Transfer *transfer)
{
	long		largest = -1;

	for (int i = 0; i < transfer->header_count; i++)
	{
		const char *item = transfer->headers[i].value;

		if (strcasecmp(transfer->headers[i].name, "ratelimit-reset") != 0)
			continue;
		while (*item)
		{
			char	   *end;
			double		seconds;

			while (*item == ' ' || *item == '\t' || *item == ',')
				item++;
			if (*item == '\0')
				break;
			seconds = strtod(item, &end);
			if (end != item)
			{
				const char *after = end;

				while (*after == ' ' || *after == '\t')
					after++;
				if ((*after == ',' || *after == '\0') &&
					seconds >= 0 && seconds <= MAX_SENSIBLE_WAIT_SEC &&
					(long) (seconds * 1000) > largest)
					largest = (long) (seconds * 1000);
			}
			item = strchr(item, ',') ? strchr(item, ',') : item + strlen(item);
		}
	}
	return largest;
}

/* base * 2^(attempts-1), capped, then "equal jitter": half fixed, half random */
static long
backoff_ms(KprHttpClient *client, int attempts)
{
	long		delay = client->options.backoff_base_ms;

	for (int i = 1; i < attempts && delay < client->options.backoff_max_ms; i++)
		delay *= 2;
	if (delay > client->options.backoff_max_ms)
		delay = client->options.backoff_max_ms;
	return delay / 2 + (long) (next_random(client) % (uint64_t) (delay / 2 + 1));
}

/*
 * An attempt ended: classify it, then either put the transfer back on the
 * pending list for a retry or finish it.
 */
static void
attempt_ended(KprHttpClient *client, Transfer *transfer, CURLcode code)
{
	KprHttpResult *result = transfer->result;
	KprHttpStatus status;
	bool		retry = false;
	long		server_wait = -1;
	long		http_status = 0;
	long		connections = 0;
	int64_t		now = kpr_http_now_ms();

	curl_multi_remove_handle(client->multi, transfer->easy);
	list_remove(&client->active, transfer);
	curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &http_status);
	curl_easy_getinfo(transfer->easy, CURLINFO_NUM_CONNECTS, &connections);
	result->http_status = http_status;
	result->new_connections += connections;
	result->curl_code = code;
	result->error[0] = '\0';
	if (code != CURLE_OK)
		snprintf(result->error, sizeof(result->error), "%s",
				 transfer->curl_error[0] ? transfer->curl_error : curl_easy_strerror(code));

	switch (code)
	{
		case CURLE_OK:
			if (http_status >= 200 && http_status <= 299)
				status = KPR_HTTP_OK;
			else
			{
				status = KPR_HTTP_HTTP_ERROR;
				retry = http_status == 408 || http_status == 429 ||
					(http_status >= 500 && http_status != 501 && http_status != 505);
				if (http_status == 429 || http_status == 503)
				{
					const char *retry_after = NULL;

					for (int i = 0; i < transfer->header_count && !retry_after; i++)
						if (strcasecmp(transfer->headers[i].name, "retry-after") == 0)
							retry_after = transfer->headers[i].value;
					if (retry_after)
						server_wait = parse_retry_after(retry_after);
					if (server_wait < 0 && http_status == 429)
						server_wait = parse_rate_limit_reset(transfer);
				}
			}
			break;
		case CURLE_OPERATION_TIMEDOUT:
			status = transfer->deadline_bound ? KPR_HTTP_DEADLINE : KPR_HTTP_TIMEOUT;
			retry = status == KPR_HTTP_TIMEOUT;
			break;
		case CURLE_COULDNT_CONNECT:
			status = KPR_HTTP_CONNECT_FAILED;
			retry = true;
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
			status = KPR_HTTP_CONNECT_FAILED;
			break;
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			status = KPR_HTTP_RESET;
			retry = true;
			break;
		case CURLE_PARTIAL_FILE:
			status = KPR_HTTP_PARTIAL;
			retry = true;
			break;
		case CURLE_FILESIZE_EXCEEDED:
			status = KPR_HTTP_TOO_LARGE;
			break;
		case CURLE_WRITE_ERROR:
			status = transfer->too_large ? KPR_HTTP_TOO_LARGE : KPR_HTTP_FAILED;
			break;
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_CRL_BADFILE:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		case CURLE_SSL_INVALIDCERTSTATUS:
		case CURLE_SSL_ENGINE_NOTFOUND:
		case CURLE_SSL_ENGINE_SETFAILED:
		case CURLE_SSL_ENGINE_INITFAILED:
		case CURLE_USE_SSL_FAILED:
			status = KPR_HTTP_TLS;
			break;
		default:
			status = KPR_HTTP_FAILED;
			break;
	}
	if (status == KPR_HTTP_TOO_LARGE)
		snprintf(result->error, sizeof(result->error),
				 "response body larger than %zu bytes", client->options.max_response_bytes);

	if (retry && result->attempts < client->options.max_attempts)
	{
		long		wait = server_wait >= 0 ? server_wait : backoff_ms(client, result->attempts);
		int64_t		deadline = client->options.deadline_ms;

		if ((server_wait >= 0 && server_wait > client->options.max_retry_wait_ms) ||
			(deadline > 0 && now + wait >= deadline))
		{
			result->retry_wait_ms = wait;
			if (result->error[0] == '\0')
				snprintf(result->error, sizeof(result->error),
						 "HTTP status %ld; the retry was due in %ld ms, later than %s",
						 http_status, wait,
						 server_wait > client->options.max_retry_wait_ms ?
						 "the longest wait allowed" : "the deadline");
			finish(client, transfer, KPR_HTTP_NO_TIME_TO_RETRY, NULL);
			return;
		}
		transfer->not_before_ms = now + wait;
		list_append(&client->pending, transfer);
		return;
	}
	finish(client, transfer, status, NULL);
}

/* Abort every transfer in flight or waiting, as DEADLINE results. */
static void
expire_all(KprHttpClient *client)
{
	Transfer   *transfer;

	while ((transfer = client->active.head) != NULL)
	{
		curl_multi_remove_handle(client->multi, transfer->easy);
		list_remove(&client->active, transfer);
		finish(client, transfer, KPR_HTTP_DEADLINE, NULL);
		snprintf(transfer->result->error, sizeof(transfer->result->error),
				 "the deadline came during attempt %d", transfer->result->attempts);
	}
	while ((transfer = client->pending.head) != NULL)
	{
		list_remove(&client->pending, transfer);
		finish(client, transfer, KPR_HTTP_DEADLINE,
			   transfer->result->attempts == 0 ?
			   "the deadline came before the request could start" :
			   "the deadline came before the next attempt");
	}
}

/* Free every transfer on a list, results included. */
static void
discard_list(KprHttpClient *client, TransferList *list, bool in_multi)
{
	Transfer   *transfer;

	while ((transfer = list->head) != NULL)
	{
		list_remove(list, transfer);
		if (in_multi)
			curl_multi_remove_handle(client->multi, transfer->easy);
		kpr_http_result_free(transfer->result);
		transfer->result = NULL;
		release_transfer(transfer);
	}
}

/*
 * Let libcurl work.  Every signal is blocked meanwhile, so that a thread it
 * starts (the threaded resolver) inherits a full mask and never takes a
 * signal meant for the process's own handlers (PostgreSQL's die, latch).
 */
static void
perform(KprHttpClient *client)
{
	sigset_t	all;
	sigset_t	saved;
	int			running;
	int			queued;
	CURLMsg    *message;
	CURLMcode	multi_code;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	multi_code = curl_multi_perform(client->multi, &running);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);

	if (multi_code != CURLM_OK)
	{
		/* the multi handle itself failed (out of memory): end what it held */
		Transfer   *transfer;

		while ((transfer = client->active.head) != NULL)
		{
			curl_multi_remove_handle(client->multi, transfer->easy);
			list_remove(&client->active, transfer);
			snprintf(transfer->result->error, sizeof(transfer->result->error),
					 "libcurl: %s", curl_multi_strerror(multi_code));
			finish(client, transfer, KPR_HTTP_FAILED, NULL);
		}
		return;
	}

	while ((message = curl_multi_info_read(client->multi, &queued)) != NULL)
	{
		Transfer   *transfer = NULL;

		if (message->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **) &transfer);
		attempt_ended(client, transfer, message->data.result);
	}
}

/* How long the next poll may sleep: one slice at most, less if work is due. */
static int
poll_timeout_ms(KprHttpClient *client, int64_t now)
{
	long		timeout = WAIT_SLICE_MS;
	long		curl_timeout = -1;

	curl_multi_timeout(client->multi, &curl_timeout);
	if (client->active.count > 0 && curl_timeout >= 0 && curl_timeout < timeout)
		timeout = curl_timeout;
	if (client->active.count < client->options.max_in_flight)
		for (Transfer *t = client->pending.head; t != NULL; t = t->next)
			if (t->not_before_ms - now < timeout)
				timeout = (long) (t->not_before_ms - now);
	if (client->options.deadline_ms > 0 && client->options.deadline_ms - now < timeout)
		timeout = (long) (client->options.deadline_ms - now);
	return timeout < 0 ? 0 : (int) timeout;
}

KprHttpResult *
kpr_http_next_done(KprHttpClient *client)
{
	for (;;)
	{
		Transfer   *transfer;
		int64_t		now;

		if (client->interrupted)
			return NULL;
		if (client->options.interrupted &&
			client->options.interrupted(client->options.interrupted_arg))
		{
			client->interrupted = true;
			discard_list(client, &client->active, true);
			discard_list(client, &client->pending, false);
			discard_list(client, &client->done, false);
			return NULL;
		}
		if ((transfer = client->done.head) != NULL)
		{
			KprHttpResult *result = transfer->result;

			list_remove(&client->done, transfer);
			release_transfer(transfer);
			return result;
		}
		if (client->active.count == 0 && client->pending.count == 0)
			return NULL;

		now = kpr_http_now_ms();
		if (client->options.deadline_ms > 0 && now >= client->options.deadline_ms)
		{
			expire_all(client);
			continue;
		}
		start_due(client, now);
		perform(client);
		if (client->done.head == NULL)
			curl_multi_poll(client->multi, NULL, 0,
							poll_timeout_ms(client, kpr_http_now_ms()), NULL);
	}
}

const char *
kpr_http_result_header(const KprHttpResult *result, const char *name)
{
	for (int i = 0; i < result->header_count; i++)
		if (strcasecmp(result->headers[i].name, name) == 0)
			return result->headers[i].value;
	return NULL;
}

void
kpr_http_result_free(KprHttpResult *result)
{
	if (result == NULL)
		return;
	free(result->body);
	free_headers(result->headers, result->header_count);
	free(result);
}

void
kpr_http_client_destroy(KprHttpClient *client)
{
	if (client == NULL)
		return;
	discard_list(client, &client->active, true);
	discard_list(client, &client->pending, false);
	discard_list(client, &client->done, false);
	if (client->multi)
		curl_multi_cleanup(client->multi);
	free(client->ca_file);
	free(client->user_agent);
	free(client);
}
