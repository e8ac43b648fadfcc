/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control API (docs/control.md): sipd's handler of rtpengine ng
 * requests (control.c) on the listener of ng.c. Offers and answers go
 * through sipd's message path (sipd_control_sdp), delete ends a call with
 * the BYE grace, query/list/statistics read sipd's state.
 */
#ifndef SIPD_CONTROL_H
#define SIPD_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <sys/socket.h>

#include "sipd/ng.h"

struct sipd;
struct sipd_config;
struct sipd_control;

/* with_sockets 0: no socket, sipd_control_process only (tests, benches). */
struct sipd_control *sipd_control_open(struct sipd *d, const struct sipd_config *cfg,
				       int with_sockets, char *err, size_t errlen);
void sipd_control_close(struct sipd_control *ctl);
unsigned int sipd_control_fill(struct sipd_control *ctl, struct pollfd *p, unsigned int max);
void sipd_control_service(struct sipd_control *ctl, const struct pollfd *p, unsigned int n);
int sipd_control_process(struct sipd_control *ctl, const uint8_t *in, size_t len,
			 const struct sockaddr_storage *from, uint8_t *out, size_t *outlen);

/* The warning buffer of sipd_ctl_screen (and a reply's "warning"). */
#define CTL_WARN_LEN 240
/* NULL when sipwall can honour the offer/answer q, else the error-reason
 * (written into buf); reshaping flags append to warn (CTL_WARN_LEN, ""
 * to begin with). ctlcheck.c, pure. */
const char *sipd_ctl_screen(const struct sipd_ng_req *q, char *buf, size_t len, char *warn);
/* Append "; what" (or "what") to warn, within CTL_WARN_LEN. */
void sipd_ctl_warn_add(char *w, const char *what);

struct sipd_control_stats {
	struct sipd_ng_stats ng;
	uint64_t offers, answers, deletes; /* done */
	uint64_t refused;		   /* offers/answers refused (error replies) */
};
void sipd_control_get_stats(const struct sipd_control *ctl, struct sipd_control_stats *st);

#endif /* SIPD_CONTROL_H */
