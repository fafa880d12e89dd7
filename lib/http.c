/*
 * http.c — the embedded HTTP server (floor 2): libmicrohttpd with a thread pool on epoll.
 *
 * The listening socket is made here rather than by libmicrohttpd, so that a port in use or
 * an address this host does not have is reported with its errno. The pool threads are
 * started with every signal blocked: the host's handlers run in the host's own threads.
 *
 * libmicrohttpd calls the access handler once when the headers are complete, once per piece
 * of body, and once more at the end. The body is gathered in a per-request buffer bounded by
 * max_body; the application is called only at the end, with the whole body.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "error.h"
#include "http.h"
#include "util.h"
#include "banned.h"

struct http_server {
	struct MHD_Daemon *d;
	http_options o;
	int listen_fd;
	int port;
	bool quiesced;
	atomic_uint in_flight;
};

/* One request's state, from its headers to its completion. */
typedef struct request_ctx {
	strbuf body;
	double started;
	bool refused;             /* a 408 or 413 is queued: the rest of the body is dropped */
} request_ctx;

static void log_line(void *cls, const char *fmt, va_list ap)
{
	http_server *s = cls;
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	/* Said for every connection a refusal here closes (MHD_NO): not news. */
	if (strstr(line, "Application reported internal error"))
		return;
	if (s->o.logger && n)
		s->o.logger(s->o.payload, line);
}

static enum MHD_Result queue(http_server *s, struct MHD_Connection *c, request_ctx *x, const char *path,
			     http_response *res)
{
	struct MHD_Response *r;
	enum MHD_Result ok;
	size_t len;
	char *buf = strbuf_detach(&res->body, &len);

	if (!buf)
		return MHD_NO;
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		return MHD_NO;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				    res->content_type ? res->content_type : "application/json") != MHD_YES ||
	    (res->allow && MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, res->allow) != MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ok = MHD_queue_response(c, (unsigned)res->status, r);
	MHD_destroy_response(r);
	if (s->o.on_done)
		s->o.on_done(s->o.payload, path, res->route, res->status, mlctl_monotonic() - x->started);
	return ok;
}

/*
 * While a body is arriving libmicrohttpd takes no response (MHD_queue_response() only works
 * once the headers are in or the whole body is): a refusal then is written to the socket
 * here, small enough to go out in one send, and the connection is closed.
 */
static enum MHD_Result refuse_midway(http_server *s, struct MHD_Connection *c, request_ctx *x, const char *path,
				     int status, const char *reason, const char *body)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	char head[160];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, reason, strlen(body));

	if (ci && n > 0 && (size_t)n < sizeof(head) && send(ci->connect_fd, head, (size_t)n, MSG_NOSIGNAL) == n)
		send(ci->connect_fd, body, strlen(body), MSG_NOSIGNAL);
	if (s->o.on_done)
		s->o.on_done(s->o.payload, path, -1, status, mlctl_monotonic() - x->started);
	return MHD_NO;
}

/* A response of this layer's own: {"error": msg}; midway: while the body is arriving. */
static enum MHD_Result refuse(http_server *s, struct MHD_Connection *c, request_ctx *x, const char *path,
			      int status, const char *msg, bool midway)
{
	http_response res = { status, MLCTL_STRBUF_INIT, NULL, NULL, -1 };
	enum MHD_Result ok;

	x->refused = true;
	if (strbuf_printf(&res.body, "{\"error\":\"%s\"}", msg)) {
		strbuf_release(&res.body);
		return MHD_NO;
	}
	if (midway) {
		ok = refuse_midway(s, c, x, path, status,
				   status == MHD_HTTP_REQUEST_TIMEOUT ? "Request Timeout" : "Content Too Large", res.body.buf);
		strbuf_release(&res.body);
		return ok;
	}
	return queue(s, c, x, path, &res);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *data, size_t *size, void **con_cls)
{
	http_server *s = cls;
	request_ctx *x = *con_cls;
	char msg[160];

	(void)version;
	if (!x) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		int64_t n;

		if (!(x = calloc(1, sizeof(*x))))
			return MHD_NO;
		x->started = mlctl_monotonic();
		*con_cls = x;
		atomic_fetch_add(&s->in_flight, 1);
		if (cl && mlctl_parse_int64(cl, 0, INT64_MAX, &n) && (uint64_t)n > s->o.max_body) {
			snprintf(msg, sizeof(msg), "the body of %lld bytes is over the limit of %zu bytes (--max-body)",
				 (long long)n, s->o.max_body);
			return refuse(s, c, x, url, MHD_HTTP_CONTENT_TOO_LARGE, msg, false);
		}
		return MHD_YES;
	}
	if (x->refused) {
		*size = 0;
		return MHD_YES;
	}
	if (*size) {
		if (mlctl_monotonic() - x->started > s->o.timeout) {
			*size = 0;
			snprintf(msg, sizeof(msg), "the body was not complete within %g seconds (--timeout)",
				 s->o.timeout);
			return refuse(s, c, x, url, MHD_HTTP_REQUEST_TIMEOUT, msg, true);
		}
		if (*size > s->o.max_body - x->body.len) {
			*size = 0;
			snprintf(msg, sizeof(msg), "the body is over the limit of %zu bytes (--max-body)", s->o.max_body);
			return refuse(s, c, x, url, MHD_HTTP_CONTENT_TOO_LARGE, msg, true);
		}
		if (strbuf_add(&x->body, data, *size))
			return MHD_NO;
		*size = 0;
		return MHD_YES;
	}
	{
		http_request req = { method, url, x->body.buf ? x->body.buf : "", x->body.len, x->started };
		http_response res = { 200, MLCTL_STRBUF_INIT, NULL, NULL, 0 };

		s->o.handler(s->o.payload, &req, &res);
		strbuf_release(&x->body);
		return queue(s, c, x, url, &res);
	}
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	http_server *s = cls;
	request_ctx *x = *con_cls;

	(void)c;
	(void)toe;
	if (!x)
		return;
	strbuf_release(&x->body);
	free(x);
	*con_cls = NULL;
	atomic_fetch_sub(&s->in_flight, 1);
}

/* The listening socket for host:port, with errno in the message when it cannot be had. */
static int listen_on(int *fd_out, int *family, const char *host, int port)
{
	struct addrinfo hints, *ai = NULL;
	char service[16];
	int fd, one = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(service, sizeof(service), "%d", port);
	if ((rc = getaddrinfo(host, service, &hints, &ai)) != 0)
		return mlctl_error_set(MLCTL_EUSAGE, "--host %s: %s", host, gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return mlctl_error_errno(MLCTL_EUNAVAIL, "cannot make a socket for %s", host);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
		int e = errno;

		close(fd);
		freeaddrinfo(ai);
		errno = e;
		return mlctl_error_errno(MLCTL_EUNAVAIL, "cannot listen on %s port %d", host, port);
	}
	*family = ai->ai_family;
	freeaddrinfo(ai);
	*fd_out = fd;
	return 0;
}

int http_start(http_server **out, const http_options *o)
{
	http_server *s;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_TURBO;
	sigset_t all, old;
	int family = AF_INET, ret;
	long cores;

	*out = NULL;
	if (!o->handler)
		return mlctl_error_set(MLCTL_EUSAGE, "http_start: no handler");
	if (o->port < 0 || o->port > 65535)
		return mlctl_error_set(MLCTL_EUSAGE, "--port %d: not a port (0 to 65535)", o->port);
	if (!(s = calloc(1, sizeof(*s))))
		return mlctl_error_oom();
	s->o = *o;
	s->listen_fd = -1;
	if (!s->o.host)
		s->o.host = "127.0.0.1";
	if (!s->o.max_body)
		s->o.max_body = (size_t)1 << 20;
	if (!s->o.max_connections)
		s->o.max_connections = 4096;
	if (!(s->o.timeout > 0))
		s->o.timeout = 10;
	if (s->o.threads <= 0) {
		cores = sysconf(_SC_NPROCESSORS_ONLN);
		s->o.threads = cores > 0 ? (int)cores : 1;
	}
	atomic_init(&s->in_flight, 0);
	if ((ret = listen_on(&s->listen_fd, &family, s->o.host, s->o.port))) {
		free(s);
		return ret;
	}
	s->o.host = NULL; /* borrowed: not kept */
	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (o->logger)
		flags |= MHD_USE_ERROR_LOG;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
				MHD_OPTION_EXTERNAL_LOGGER, log_line, s, /* first, or MHD prints */
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->o.threads,
				MHD_OPTION_CONNECTION_LIMIT, s->o.max_connections,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(s->o.timeout + 0.999),
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!s->d) {
		close(s->listen_fd);
		free(s);
		return mlctl_error_set(MLCTL_EUNAVAIL, "cannot start the HTTP server (libmicrohttpd refused its options)");
	}
	s->listen_fd = -1; /* libmicrohttpd's now: closed by MHD_stop_daemon(), or handed back by
			    * MHD_quiesce_daemon() */
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : o->port;
	*out = s;
	return 0;
}

int http_port(const http_server *s)
{
	return s->port;
}

unsigned http_in_flight(const http_server *s)
{
	return atomic_load(&((http_server *)s)->in_flight);
}

void http_quiesce(http_server *s)
{
	if (s && s->d && !s->quiesced) {
		MHD_socket fd = MHD_quiesce_daemon(s->d);

		s->listen_fd = fd == MHD_INVALID_SOCKET ? -1 : (int)fd;
		s->quiesced = true;
	}
}

bool http_drain(http_server *s, double seconds)
{
	double until = mlctl_monotonic() + seconds;
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	while (http_in_flight(s)) {
		if (mlctl_monotonic() >= until)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

void http_stop(http_server *s)
{
	if (!s)
		return;
	if (s->d)
		MHD_stop_daemon(s->d);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	free(s);
}
