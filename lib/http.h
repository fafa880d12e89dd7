/*
 * http.h — an embedded HTTP/1.1 server (floor 2) on libmicrohttpd: a pool of threads on
 * epoll, keep-alive, bounded bodies and request times, JSON errors for what the server
 * refuses itself. The application sees one call per complete request, in a pool thread,
 * and fills a response; it never sees a partial body.
 *
 * What is refused before the application sees it:
 *   - a body over max_body: 413, at once when Content-Length says so (the body is not read),
 *     or when a chunked body grows past it;
 *   - a body not complete within timeout seconds of the request's headers: 408;
 *   - an idle keep-alive connection is closed after timeout seconds; connections beyond
 *     max_connections are refused by the kernel's backlog, then closed.
 * libmicrohttpd itself answers malformed request lines and oversized headers (400, 431).
 */
#ifndef MLCTL_HTTP_H
#define MLCTL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct http_server http_server;

typedef struct http_request {
	const char *method;       /* "GET", "POST", ... */
	const char *path;         /* the URL path, without the query */
	const char *body;         /* the whole body, NUL-terminated (body[body_len] == 0) */
	size_t body_len;
	double started;           /* mlctl_monotonic() when the headers were complete */
} http_request;

typedef struct http_response {
	int status;               /* default 200 */
	strbuf body;              /* the body; released by the server */
	const char *content_type; /* default "application/json" */
	const char *allow;        /* an Allow header (405), or NULL */
	int route;                /* the application's route number, for on_done (default 0) */
} http_response;

/* Called for each complete request in a pool thread; fills res. Must be thread-safe. */
typedef void (*http_handler)(void *payload, const http_request *req, http_response *res);
/* Called after each response is queued (also for the 408 and 413 this layer sends itself,
 * with route -1): the path, the status and the seconds from the headers to the response. */
typedef void (*http_done)(void *payload, const char *path, int route, int status, double seconds);
/* libmicrohttpd's own diagnostics, one line each. */
typedef void (*http_logger)(void *payload, const char *line);

typedef struct http_options {
	const char *host;          /* address to bind: default "127.0.0.1"; "0.0.0.0", "::" */
	int port;                  /* 0: a free port (http_port() says which) */
	int threads;               /* pool threads; 0: one per core */
	size_t max_body;           /* 0: 1 MiB */
	unsigned max_connections;  /* 0: 4096 */
	double timeout;            /* seconds; 0: 10 */
	http_handler handler;
	http_done on_done;         /* may be NULL */
	http_logger logger;        /* may be NULL */
	void *payload;
} http_options;
#define HTTP_OPTIONS_INIT { NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }

/* Bind and start serving. MLCTL_EUNAVAIL naming host:port when the address cannot be bound
 * (in use, not an address of this host), MLCTL_EUSAGE for a host that is not an address.
 * *out is the caller's (http_stop()). */
int http_start(http_server **out, const http_options *o);

/* The port bound. */
int http_port(const http_server *s);

/* Requests being handled or whose response is being sent. */
unsigned http_in_flight(const http_server *s);

/* Stop accepting connections; requests in flight go on. */
void http_quiesce(http_server *s);

/* Wait up to seconds for the requests in flight to finish (after http_quiesce()); true when
 * none is left. */
bool http_drain(http_server *s, double seconds);

/* Close every connection, stop the threads and free s. NULL is fine. */
void http_stop(http_server *s);

#endif
