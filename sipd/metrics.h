/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus text exposition (format 0.0.4) served by sipd on a loopback
 * address when sipd.json has "metrics": {"listen": ...}. Single-threaded: the
 * live source loop polls the listening socket and the open connections next
 * to its own descriptors (struct sipd_aux), so a scrape sees the daemon state
 * between two packets and never races it. Connections are non-blocking and
 * bounded in number, size and time: a slow client cannot stall the packet
 * path.
 *
 *   GET /metrics   the metrics (also "/")
 *   GET /healthz   200 while the loop runs (liveness)
 *   GET /readyz    200 when the pinned maps are open and an interface is
 *                  attached, else 503 (readiness)
 */
#ifndef SIPD_METRICS_H
#define SIPD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <poll.h>

#include "sipd.h"

#define SIPD_METRICS_MAX_CONN 8
/* Descriptors sipd_metrics_fill() may add: listener + connections. */
#define SIPD_METRICS_MAX_POLLFD (1 + SIPD_METRICS_MAX_CONN)

#ifndef SIPWALL_VERSION
#define SIPWALL_VERSION "0.1.0"
#endif

struct sipd_metrics;

struct sipd_metrics_opts {
	const char *listen;	 /* "127.0.0.1:9870", "[::1]:9870" */
	int allow_remote;	 /* accept a non-loopback address */
	const char *pin_root;	 /* maps read at each scrape */
	uint16_t queue, nqueues; /* NFQUEUE numbers to report; nqueues 0 = none */
	const char *mode;	 /* "inline" or "passive" (sipd_info label) */
};

/* Bind and listen. NULL with err filled (address in use, not loopback...). */
struct sipd_metrics *sipd_metrics_open(const struct sipd_metrics_opts *o, struct sipd *d, char *err,
				       size_t errlen);
/* Export the control listener's counters too (NULL: none). */
struct sipd_control;
void sipd_metrics_set_control(struct sipd_metrics *m, const struct sipd_control *ctl);
void sipd_metrics_close(struct sipd_metrics *m);

/* Count one datagram that went through sipd_handle_packet (by method, kind
 * and verdict; the start line and CSeq are read from the payload). */
void sipd_metrics_observe(struct sipd_metrics *m, const uint8_t *ip, size_t len,
			  enum sipd_verdict v);

/* Poll integration: fill up to max pollfds, then service them after poll. */
unsigned int sipd_metrics_fill(struct sipd_metrics *m, struct pollfd *p, unsigned int max);
void sipd_metrics_service(struct sipd_metrics *m, const struct pollfd *p, unsigned int n);

/* The exposition text as a scrape gets it (malloc'd, NUL-terminated);
 * tests and `sipd` debugging. NULL on allocation failure. */
char *sipd_metrics_render(struct sipd_metrics *m, size_t *len);

#endif /* SIPD_METRICS_H */
