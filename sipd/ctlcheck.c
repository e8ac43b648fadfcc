// SPDX-License-Identifier: GPL-2.0-only
/*
 * What of an ng offer or answer sipwall cannot do (control.h): flags and keys
 * only a media relay can honour are refused, those that only reshape the SDP
 * a relay would write are warned about. Pure: no sipd state, so the fuzzer
 * runs it on every request it makes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sipd/bencode.h"
#include "sipd/control.h"
#include "sipd/ng.h"

static int is(const struct sipd_ng_str *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len == n && !strncasecmp((const char *)s->p, lit, n);
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

void sipd_ctl_warn_add(char *w, const char *what)
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
const char *sipd_ctl_screen(const struct sipd_ng_req *q, char *buf, size_t len, char *warn)
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
			sipd_ctl_warn_add(warn, w);
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
		sipd_ctl_warn_add(warn, "codec options ignored (the SDP is not changed)");
	}
	if (q->ice.len && !is(&q->ice, "default"))
		sipd_ctl_warn_add(warn, "ICE option ignored: the SDP keeps its candidates");
	if (q->replace.n)
		sipd_ctl_warn_add(warn, "replace ignored: the SDP is returned unchanged");
	return NULL;
}
