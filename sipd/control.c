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
#define CTL_WARN_LEN 240

struct sipd_control {
	struct sipd *d;
	struct sipd_ng *ng;
	uint64_t offers, answers, deletes, refused;
};

static int is(const struct sipd_ng_str *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len == n && !strncasecmp((const char *)s->p, lit, n);
}

/* A copy of s as a C string (NUL inside or too long: -EINVAL). */
static int cstr(const struct sipd_ng_str *s, char *out, size_t len)
{
	if (s->len >= len || memchr(s->p, 0, s->len))
		return -EINVAL;
	memcpy(out, s->p, s->len);
	out[s->len] = 0;
	return 0;
}

/* Flags that change nothing a firewall does (rtpengine's meaning is about
 * how a relay learns or sends; sipwall's pinholes follow the SDP). */
static const char *const harmless_flags[] = {"trust-address",
					     "trust address",
					     "SIP-source-address",
					     "SIP source address",
					     "symmetric",
					     "asymmetric",
					     "unidirectional",
					     "strict-source",
					     "strict source",
					     "media-handover",
					     "media handover",
					     "port-latching",
					     "port latching",
					     "no-port-latching",
					     "loop-protect",
					     "loop protect",
					     "reset",
					     "all",
					     "original-sendrecv",
					     "symmetric-codecs",
					     "asymmetric-codecs",
					     "no-rtcp-attribute",
					     "full-rtcp-attribute",
					     "generate-mid",
					     "no-codec-renegotiation",
					     "pierce-NAT",
					     "fragment",
					     "pad-crypto",
					     "strip-extmap",
					     "early-media",
					     "directional",
					     NULL};

/* Flags only a relay can honour. */
static const char *const relay_flags[] = {
	"record-call", "record call", "always-transcode", "always transcode", "inject-DTMF",
	"detect-DTMF", "transcode",   "codec-transcode",  "generate-RTCP",    "SRTP",
	"DTLS",	       "ICE-force",   "ICE-force-relay",  "passthrough",      NULL};

static int in_list(const struct sipd_ng_str *s, const char *const *l)
{
	for (; *l; l++)
		if (is(s, *l))
			return 1;
	return 0;
}

static void warn_add(char *w, const char *what)
{
	size_t n = strlen(w);

	if (n + strlen(what) + 3 >= CTL_WARN_LEN)
		return;
	snprintf(w + n, CTL_WARN_LEN - n, "%s%s", n ? "; " : "", what);
}

/* The SDP's first m= transport (RTP/AVP, RTP/SAVP, UDP/TLS/RTP/SAVPF...). */
static int sdp_proto(const struct sipd_ng_str *sdp, char *out, size_t len)
{
	const char *p = (const char *)sdp->p, *end = p + sdp->len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;

		if (le - p > 2 && p[0] == 'm' && p[1] == '=') {
			const char *f = p + 2;
			int field = 0;

			while (f < le && field < 2) {
				if (*f == ' ')
					field++;
				f++;
			}
			if (field == 2) {
				size_t k = 0;

				while (f + k < le && f[k] != ' ' && f[k] != '\r' && k + 1 < len)
					k++;
				memcpy(out, f, k);
				out[k] = 0;
				return 0;
			}
		}
		p = eol ? eol + 1 : end;
	}
	return -ENOENT;
}

/*
 * What of the request sipwall cannot do: NULL, or the error-reason. Things a
 * relay would only write differently into the SDP go into warn.
 */
static const char *refuse(const struct sipd_ng_req *q, char *buf, size_t len, char *warn)
{
	char proto[40] = "";

	for (unsigned int i = 0; i < q->flags.n; i++) {
		const struct sipd_ng_str *f = &q->flags.v[i];

		if (in_list(f, relay_flags) ||
		    (f->len > 10 && !strncasecmp((const char *)f->p, "transcode-", 10)) ||
		    (f->len > 16 && !strncasecmp((const char *)f->p, "codec-transcode-", 16))) {
			snprintf(buf, len,
				 "flag \"%.*s\" needs a media relay; sipwall only opens pinholes "
				 "for the SDP as it is",
				 (int)(f->len > 60 ? 60 : f->len), (const char *)f->p);
			return buf;
		}
		if (!in_list(f, harmless_flags)) {
			char w[96];

			snprintf(w, sizeof(w), "flag \"%.*s\" ignored",
				 (int)(f->len > 60 ? 60 : f->len), (const char *)f->p);
			warn_add(warn, w);
		}
	}
	if (q->media_address.len) {
		snprintf(buf, len,
			 "media-address: sipwall relays no media, it has no address to "
			 "put in the SDP");
		return buf;
	}
	if (q->record_call.len && !is(&q->record_call, "no") && !is(&q->record_call, "off")) {
		snprintf(buf, len, "record-call: sipwall records no media");
		return buf;
	}
	if (q->dtls.len && !is(&q->dtls, "off") && !is(&q->dtls, "no") &&
	    !is(&q->dtls, "passive") && !is(&q->dtls, "active")) {
		snprintf(buf, len, "DTLS \"%.*s\": DTLS-SRTP bridging needs a media relay",
			 (int)(q->dtls.len > 40 ? 40 : q->dtls.len), (const char *)q->dtls.p);
		return buf;
	}
	for (unsigned int i = 0; i < q->sdes.n; i++)
		if (!is(&q->sdes.v[i], "off") && !is(&q->sdes.v[i], "no")) {
			snprintf(buf, len, "SDES: SRTP keys of its own need a media relay");
			return buf;
		}
	if (q->transport_protocol.len) {
		if (sdp_proto(&q->sdp, proto, sizeof(proto)) ||
		    q->transport_protocol.len != strlen(proto) ||
		    strncmp((const char *)q->transport_protocol.p, proto, strlen(proto))) {
			snprintf(buf, len,
				 "transport-protocol \"%.*s\" differs from the SDP's \"%s\": "
				 "RTP/SRTP bridging needs a media relay",
				 (int)(q->transport_protocol.len > 40 ? 40
								      : q->transport_protocol.len),
				 (const char *)q->transport_protocol.p, proto);
			return buf;
		}
	}
	if (q->ice.len && (is(&q->ice, "force") || is(&q->ice, "force-relay"))) {
		snprintf(buf, len, "ICE=%.*s: candidates of a relay need a media relay",
			 (int)q->ice.len, (const char *)q->ice.p);
		return buf;
	}
	if (q->codec) {
		const struct sipd_benc_node *t = sipd_benc_dict_get(q->codec, "transcode");

		if (t) {
			snprintf(buf, len, "codec transcode: transcoding needs a media relay");
			return buf;
		}
		warn_add(warn, "codec options ignored (the SDP is not changed)");
	}
	if (q->ice.len && !is(&q->ice, "default"))
		warn_add(warn, "ICE option ignored: the SDP keeps its candidates");
	if (q->replace.n)
		warn_add(warn, "replace ignored: the SDP is returned unchanged");
	return NULL;
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
	no = refuse(q, why, sizeof(why), warn);
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
		warn_add(warn, err);
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
