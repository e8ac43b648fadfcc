// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control API's command handler (docs/control.md): rtpengine ng
 * requests from a configured proxy (sipd/ng.c) turned into the same call,
 * offer/answer and pinhole work inline SIP does (sipd_control_* in core.c).
 * sipwall relays no media, so an offer or answer is answered with its SDP
 * unchanged; what only a relay can do (transcoding, SRTP/DTLS bridging,
 * another media address, recording, ICE candidates of its own) is refused
 * with an error-reason, and what would only reshape the SDP a relay writes
 * (replace, ICE=remove, codec strip/mask) is accepted with a warning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/swmap.h"
#include "sipd/config.h"
#include "sipd/control.h"
#include "sipd/ng.h"
#include "sipd/sipd.h"

#define CTL_MAX_PH   64
#define CTL_LIST_MAX 1000

struct sipd_control {
	struct sipd *d;
	struct sipd_ng *ng;
	uint64_t offers, answers, deletes, refused;
};

/* A copy of s as a C string (NUL inside or too long: -EINVAL). */
static int cstr(const struct sipd_ng_str *s, char *out, size_t len)
{
	if (s->len >= len || (s->len && memchr(s->p, 0, s->len)))
		return -EINVAL;
	if (s->len)
		memcpy(out, s->p, s->len);
	out[s->len] = 0;
	return 0;
}

static void addr16(const struct sockaddr_storage *ss, uint8_t out[16], uint16_t *port)
{
	static const uint8_t v4map[12] = {[10] = 0xff, [11] = 0xff};

	memset(out, 0, 16);
	*port = 0;
	if (ss && ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		memcpy(out, v4map, 12);
		memcpy(out + 12, &a->sin_addr, 4);
		*port = ntohs(a->sin_port);
	} else if (ss && ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		memcpy(out, &a->sin6_addr, 16);
		*port = ntohs(a->sin6_port);
	} else {
		/* a Unix socket: the controller is this host */
		memcpy(out, v4map, 12);
		out[12] = 127, out[15] = 1;
	}
}

static int do_sdp(struct sipd_control *ctl, const struct sipd_ng_req *q, struct sipd_ng_reply *r)
{
	char call_id[256], from_tag[256], to_tag[256] = "", branch[128] = "", why[200],
					  warn[CTL_WARN_LEN] = "", err[300];
	struct sipd_ctl_sdp x = {.answer = q->cmd == SIPD_NG_ANSWER};
	const char *no;
	uint16_t port;
	int ret;

	if (cstr(&q->call_id, call_id, sizeof(call_id)) ||
	    cstr(&q->from_tag, from_tag, sizeof(from_tag)) ||
	    cstr(&q->to_tag, to_tag, sizeof(to_tag)) ||
	    cstr(&q->via_branch, branch, sizeof(branch)))
		return sipd_ng_reply_error(r,
					   "call-id, a tag or via-branch too long or holds a NUL");
	no = sipd_ctl_screen(q, why, sizeof(why), warn);
	if (no) {
		ctl->refused++;
		return sipd_ng_reply_error(r, "%s", no);
	}
	x.call_id = call_id;
	x.from_tag = from_tag;
	x.to_tag = to_tag;
	x.via_branch = branch;
	x.sdp = (const char *)q->sdp.p;
	x.sdp_len = q->sdp.len;
	addr16(q->from, x.ctl, &port);
	if (q->received_from.af) {
		memcpy(x.sig, q->received_from.addr, 16);
		x.has_sig = 1;
	}
	ret = sipd_control_sdp(ctl->d, &x, sw_monotonic_ns(), err, sizeof(err));
	if (ret > 0) {
		warn[0] = 0;
		sipd_ctl_warn_add(warn, err);
		ret = 0;
	} else if (ret) {
		ctl->refused++;
		return sipd_ng_reply_error(r, "%s", err);
	}
	if (x.answer)
		ctl->answers++;
	else
		ctl->offers++;
	/* sipwall relays nothing: the SDP goes back as it came. */
	if (sipd_ng_reply_bytes(r, "sdp", q->sdp.p, q->sdp.len))
		return -ENOSPC;
	if (warn[0])
		sipd_ng_reply_warning(r, "%s", warn);
	return 0;
}

static int do_delete(struct sipd_control *ctl, const struct sipd_ng_req *q, struct sipd_ng_reply *r)
{
	char call_id[256];

	if (cstr(&q->call_id, call_id, sizeof(call_id)))
		return sipd_ng_reply_error(r, "call-id too long or holds a NUL");
	if (sipd_control_delete(ctl->d, call_id, sw_monotonic_ns()))
		return sipd_ng_reply_error(r, "Unknown call-id");
	ctl->deletes++;
	return 0;
}

static uint64_t unix_of(uint64_t mono_ns)
{
	uint64_t now = sw_monotonic_ns();
	time_t t = time(NULL);

	return (uint64_t)t - (now > mono_ns ? (now - mono_ns) / 1000000000ull : 0);
}

static void endpoint(struct sipd_ng_reply *r, const char *key, const uint8_t a[16], uint16_t port)
{
	char s[64];

	sw_addr_format(a, s, sizeof(s));
	sipd_ng_reply_open_dict(r, key);
	sipd_ng_reply_str(r, "family", sw_addr_is_v4(a) ? "IP4" : "IP6");
	sipd_ng_reply_str(r, "address", s);
	sipd_ng_reply_int(r, "port", port);
	sipd_ng_reply_close(r);
}

/* query: rtpengine's "created", "totals" (RTP/RTCP packets, bytes,
 * errors) and, sipwall's own, every pinhole with its counters. */
static int do_query(struct sipd_control *ctl, const struct sipd_ng_req *q, struct sipd_ng_reply *r)
{
	static struct sipd_ctl_ph ph[CTL_MAX_PH];
	struct sipd_ctl_call c;
	uint64_t tot[2][3] = {{0}};
	char call_id[256];

	if (cstr(&q->call_id, call_id, sizeof(call_id)))
		return sipd_ng_reply_error(r, "call-id too long or holds a NUL");
	if (sipd_control_call(ctl->d, call_id, &c, ph, CTL_MAX_PH))
		return sipd_ng_reply_error(r, "Unknown call-id");
	sipd_ng_reply_int(r, "created", (int64_t)unix_of(c.created_ns));
	sipd_ng_reply_str(r, "from", c.caller);
	sipd_ng_reply_str(r, "to", c.callee);
	sipd_ng_reply_str(r, "driven-by", c.control ? "control" : "inline SIP");
	sipd_ng_reply_str(r, "state", c.ending ? "ending" : c.answered ? "answered" : "offered");
	sipd_ng_reply_open_list(r, "pinholes");
	for (unsigned int i = 0; i < c.n_ph; i++) {
		const struct sw_pinhole *v = &ph[i].val;
		int rtcp = v->kind == SW_KIND_RTCP;

		tot[rtcp][0] += v->packets;
		tot[rtcp][1] += v->bytes;
		tot[rtcp][2] += v->drops;
		sipd_ng_reply_open_dict(r, NULL);
		endpoint(r, "destination", ph[i].key.addr, ntohs(ph[i].key.port));
		sipd_ng_reply_str(r, "kind", rtcp ? "RTCP" : "RTP");
		sipd_ng_reply_int(r, "media-index", v->media_idx);
		sipd_ng_reply_int(r, "packets", (int64_t)v->packets);
		sipd_ng_reply_int(r, "bytes", (int64_t)v->bytes);
		sipd_ng_reply_int(r, "errors", (int64_t)v->drops);
		sipd_ng_reply_open_list(r, "allowed-sources");
		for (unsigned int k = 0; k < SW_MAX_SOURCES; k++)
			if (v->src[k].flags & SW_SRC_ACTIVE)
				endpoint(r, NULL, v->src[k].addr, ntohs(v->src[k].port));
		sipd_ng_reply_close(r);
		sipd_ng_reply_close(r);
	}
	sipd_ng_reply_close(r);
	sipd_ng_reply_open_dict(r, "totals");
	for (int k = 0; k < 2; k++) {
		sipd_ng_reply_open_dict(r, k ? "RTCP" : "RTP");
		sipd_ng_reply_int(r, "packets", (int64_t)tot[k][0]);
		sipd_ng_reply_int(r, "bytes", (int64_t)tot[k][1]);
		sipd_ng_reply_int(r, "errors", (int64_t)tot[k][2]);
		sipd_ng_reply_close(r);
	}
	sipd_ng_reply_close(r);
	return 0;
}

static int do_list(struct sipd_control *ctl, const struct sipd_ng_req *q, struct sipd_ng_reply *r)
{
	static const char *ids[CTL_LIST_MAX];
	unsigned int max =
		q->limit > 0 && q->limit < CTL_LIST_MAX ? (unsigned int)q->limit : CTL_LIST_MAX;
	unsigned int n = sipd_control_list(ctl->d, ids, max);

	return sipd_ng_reply_strlist(r, "calls", ids, n);
}

static int do_statistics(struct sipd_control *ctl, struct sipd_ng_reply *r)
{
	struct sipd_stats st;

	sipd_get_stats(ctl->d, &st);
	sipd_ng_reply_open_dict(r, "statistics");
	sipd_ng_reply_open_dict(r, "currentstatistics");
	sipd_ng_reply_int(r, "sessionsown", (int64_t)st.calls_active);
	sipd_ng_reply_int(r, "sessionstotal", (int64_t)st.calls_active);
	sipd_ng_reply_int(r, "pinholes", (int64_t)st.pinholes_active);
	sipd_ng_reply_close(r);
	sipd_ng_reply_open_dict(r, "totalstatistics");
	sipd_ng_reply_int(r, "totalsessions", (int64_t)st.calls_started);
	sipd_ng_reply_int(r, "endedsessions", (int64_t)st.calls_ended);
	sipd_ng_reply_int(r, "pinholesopened", (int64_t)st.pinholes_opened);
	sipd_ng_reply_int(r, "pinholesclosed", (int64_t)st.pinholes_closed);
	sipd_ng_reply_int(r, "controloffers", (int64_t)ctl->offers);
	sipd_ng_reply_int(r, "controlanswers", (int64_t)ctl->answers);
	sipd_ng_reply_int(r, "controldeletes", (int64_t)ctl->deletes);
	sipd_ng_reply_int(r, "controlrefused", (int64_t)ctl->refused);
	sipd_ng_reply_close(r);
	sipd_ng_reply_close(r);
	return 0;
}

static int command(void *vctx, const struct sipd_ng_req *q, struct sipd_ng_reply *r)
{
	struct sipd_control *ctl = vctx;

	switch (q->cmd) {
	case SIPD_NG_OFFER:
	case SIPD_NG_ANSWER:
		return do_sdp(ctl, q, r);
	case SIPD_NG_DELETE:
		return do_delete(ctl, q, r);
	case SIPD_NG_QUERY:
		return do_query(ctl, q, r);
	case SIPD_NG_LIST:
		return do_list(ctl, q, r);
	case SIPD_NG_STATISTICS:
		return do_statistics(ctl, r);
	default:
		return sipd_ng_reply_error(r, "unknown command");
	}
}

struct sipd_control *sipd_control_open(struct sipd *d, const struct sipd_config *cfg,
				       int with_sockets, char *err, size_t errlen)
{
	struct sipd_control *ctl = calloc(1, sizeof(*ctl));
	const char *cidrs[SIPD_NG_MAX_CONTROLLERS];
	struct sipd_ng_handler h = {.command = command};
	struct sipd_ng_opts o = {0};

	if (!ctl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (unsigned int i = 0; i < cfg->control.n_controllers && i < SIPD_NG_MAX_CONTROLLERS; i++)
		cidrs[i] = cfg->control.controllers[i];
	ctl->d = d;
	h.ctx = ctl;
	if (with_sockets) {
		o.listen = cfg->control.listen;
		o.unix_path = cfg->control.unix_path;
	}
	o.allow_remote = cfg->control.allow_remote;
	o.controllers = cidrs;
	o.n_controllers = cfg->control.n_controllers;
	ctl->ng = sipd_ng_open(&o, &h, err, errlen);
	if (!ctl->ng) {
		free(ctl);
		return NULL;
	}
	return ctl;
}

void sipd_control_close(struct sipd_control *ctl)
{
	if (!ctl)
		return;
	sipd_ng_close(ctl->ng);
	free(ctl);
}

unsigned int sipd_control_fill(struct sipd_control *ctl, struct pollfd *p, unsigned int max)
{
	return ctl ? sipd_ng_fill(ctl->ng, p, max) : 0;
}

void sipd_control_service(struct sipd_control *ctl, const struct pollfd *p, unsigned int n)
{
	if (ctl)
		sipd_ng_service(ctl->ng, p, n);
}

int sipd_control_process(struct sipd_control *ctl, const uint8_t *in, size_t len,
			 const struct sockaddr_storage *from, uint8_t *out, size_t *outlen)
{
	return sipd_ng_process(ctl->ng, in, len, from, out, outlen);
}

void sipd_control_get_stats(const struct sipd_control *ctl, struct sipd_control_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!ctl)
		return;
	st->ng = *sipd_ng_stats(ctl->ng);
	st->offers = ctl->offers;
	st->answers = ctl->answers;
	st->deletes = ctl->deletes;
	st->refused = ctl->refused;
}
