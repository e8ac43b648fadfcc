// SPDX-License-Identifier: GPL-2.0-only
/*
 * SDP (RFC 4566) media extraction for pinhole planning: c= (session and
 * media level, IN IP4 / IN IP6), m= ports and port counts, a=rtcp (RFC 3605),
 * a=rtcp-mux (RFC 5761), direction attributes, hold. Strict: a line that is
 * not "x=value", a malformed c= or m=, or a media stream without an address
 * is an error; pinholes are never planned from a guess.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sipwall_maps.h"
#include "sdp.h"

static int bad(char *det, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(char *det, const char *fmt, ...)
{
	va_list ap;

	if (det) {
		va_start(ap, fmt);
		vsnprintf(det, SDP_DET, fmt, ap);
		va_end(ap);
	}
	return -SW_SIP_R_BAD_SDP;
}

const char *sdp_dir_name(enum sdp_dir d)
{
	switch (d) {
	case SDP_SENDRECV:
		return "sendrecv";
	case SDP_SENDONLY:
		return "sendonly";
	case SDP_RECVONLY:
		return "recvonly";
	case SDP_INACTIVE:
		return "inactive";
	}
	return "?";
}

/* Split v on single SPs into at most max fields; returns the count, or -1 on
 * an empty field (doubled, leading or trailing SP). */
static int fields(const char *v, size_t n, const char **f, size_t *fl, int max)
{
	size_t i = 0;
	int k = 0;

	if (!n)
		return 0;
	for (;;) {
		size_t b = i;

		while (i < n && v[i] != ' ')
			i++;
		if (i == b)
			return -1;
		if (k < max) {
			f[k] = v + b;
			fl[k] = i - b;
		}
		k++;
		if (i == n)
			return k;
		i++;
		if (i == n)
			return -1;
	}
}

/* The first max fields of v as fields() splits them, whatever follows the
 * last of them (after one SP); the count found, or -1 on an empty field. */
static int head_fields(const char *v, size_t n, const char **f, size_t *fl, int max)
{
	size_t i = 0;
	int k = 0;

	while (k < max && i < n) {
		size_t b = i;

		while (i < n && v[i] != ' ')
			i++;
		if (i == b)
			return -1;
		f[k] = v + b;
		fl[k++] = i - b;
		if (i < n)
			i++;
	}
	return k;
}

static int num(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (!n)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

static int is_token_str(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c && strchr("-.!%*_+`'~", c))))
			return 0;
	}
	return 1;
}

/* "IN IP4 a.b.c.d[/ttl[/n]]" or "IN IP6 addr[/n]" (also the tail of a=rtcp). */
static int conn_addr(const char **f, size_t *fl, uint8_t addr[16], int *v4, int *hold, int *mapped,
		     const char *what, char *det)
{
	char a[64];
	size_t al = fl[2];
	const char *slash = memchr(f[2], '/', fl[2]);

	if (fl[0] != 2 || memcmp(f[0], "IN", 2))
		return bad(det, "%s: network type is not IN", what);
	if (slash)
		al = slash - f[2];
	if (!al || al >= sizeof(a))
		return bad(det, "%s: bad address", what);
	memcpy(a, f[2], al);
	a[al] = 0;
	memset(addr, 0, 16);
	*mapped = 0;
	if (fl[1] == 3 && !memcmp(f[1], "IP4", 3)) {
		if (inet_pton(AF_INET, a, addr + 12) != 1)
			return bad(det, "%s: '%s' is not an IPv4 address", what, a);
		addr[10] = addr[11] = 0xff;
		*v4 = 1;
		*hold = !memcmp(addr + 12, "\0\0\0\0", 4);
	} else if (fl[1] == 3 && !memcmp(f[1], "IP6", 3)) {
		static const uint8_t zero[16];

		if (inet_pton(AF_INET6, a, addr) != 1)
			return bad(det, "%s: '%s' is not an IPv6 address", what, a);
		/* ::ffff:a.b.c.d (RFC 5118 4.9) is IPv4 media on the wire */
		*v4 = !memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		*mapped = *v4;
		*hold = !memcmp(addr, zero, 16) || (*v4 && !memcmp(addr + 12, "\0\0\0\0", 4));
	} else {
		return bad(det, "%s: address type is not IP4 or IP6", what);
	}
	return 0;
}

struct level {
	int has_c, c_v4, c_hold, c_mapped;
	uint8_t c[16];
	int dir;       /* -1 = none */
	int rtcp_port; /* -1 = none */
	int rtcp_has_addr, rtcp_v4, rtcp_hold, rtcp_mapped;
	uint8_t rtcp_addr[16];
	int mux;
	uint8_t n_cand;
	struct sdp_cand cand[SDP_MAX_CAND];
};

/* a=candidate:foundation component transport priority address port typ
 * type ...: kept when UDP with an IP address (RFC 8839 5.1). */
static void candidate(struct level *lv, const char *v, size_t vl)
{
	const char *f[8];
	size_t fl[8];
	unsigned long comp, port;
	char a[64];
	struct sdp_cand *c;
	int nf = fields(v, vl, f, fl, 8);

	if (nf < 8 || lv->n_cand >= SDP_MAX_CAND || fl[4] >= sizeof(a) ||
	    num(f[1], fl[1], 256, &comp) || (comp != 1 && comp != 2) || fl[2] != 3 ||
	    strncasecmp(f[2], "UDP", 3) || num(f[5], fl[5], 65535, &port) || !port || fl[6] != 3 ||
	    memcmp(f[6], "typ", 3))
		return;
	memcpy(a, f[4], fl[4]);
	a[fl[4]] = 0;
	c = &lv->cand[lv->n_cand];
	memset(c->addr, 0, 16);
	if (inet_pton(AF_INET, a, c->addr + 12) == 1)
		c->addr[10] = c->addr[11] = 0xff;
	else if (inet_pton(AF_INET6, a, c->addr) != 1)
		return; /* an FQDN or mDNS name: no address to allow */
	c->port = (uint16_t)port;
	c->comp = (uint8_t)comp;
	lv->n_cand++;
}

static int resolve(struct sdp_session *out, const struct level *sess, const struct level *lv,
		   char *det)
{
	int i;

	for (i = 0; i < out->n_media; i++) {
		struct sdp_media *m = &out->media[i];
		const struct level *c = lv[i].has_c ? &lv[i] : sess;

		if (c->has_c) {
			memcpy(m->addr, c->c, 16);
			m->addr_is_v4 = c->c_v4;
			m->addr_v6_mapped = (uint8_t)c->c_mapped;
			m->hold_addr = c->c_hold;
		} else if (m->port) {
			return bad(det, "m=%s (media %d) has no c= at either level", m->type,
				   i + 1);
		}
		m->rtcp_mux = lv[i].mux;
		m->n_cand = lv[i].n_cand;
		memcpy(m->cand, lv[i].cand, sizeof(m->cand));
		if (!m->port || m->rtcp_mux)
			m->rtcp_port = 0;
		else if (lv[i].rtcp_port >= 0)
			m->rtcp_port = (uint16_t)lv[i].rtcp_port;
		else
			m->rtcp_port = m->port + 1;
		if (lv[i].rtcp_has_addr) {
			memcpy(m->rtcp_addr, lv[i].rtcp_addr, 16);
			m->rtcp_v6_mapped = (uint8_t)lv[i].rtcp_mapped;
		} else {
			memcpy(m->rtcp_addr, m->addr, 16);
		}
		if (lv[i].dir >= 0)
			m->dir = (enum sdp_dir)lv[i].dir;
		else if (sess->dir >= 0)
			m->dir = (enum sdp_dir)sess->dir;
		else
			m->dir = SDP_SENDRECV;
	}
	return 0;
}

int sdp_parse_detail(const char *body, size_t len, struct sdp_session *out, char *det)
{
	struct level sess, lv[SDP_MAX_MEDIA], *cur = &sess;
	size_t p = 0, line_no = 0;
	int have_o = 0, i;

	memset(out, 0, sizeof(*out));
	memset(&sess, 0, sizeof(sess));
	sess.dir = -1;
	sess.rtcp_port = -1;
	if (det)
		det[0] = 0;

	while (p < len) {
		const char *l = body + p, *lf, *v, *f[8];
		size_t ll, vl, fl[8], k;
		int nf;

		lf = memchr(l, '\n', len - p);
		ll = lf ? (size_t)(lf - l) : len - p;
		p += lf ? ll + 1 : ll;
		if (ll && l[ll - 1] == '\r')
			ll--;
		line_no++;
		if (!ll) {
			/* only blank lines may follow a blank line */
			for (k = p; k < len; k++)
				if (body[k] != '\r' && body[k] != '\n')
					return bad(det, "empty line %zu", line_no);
			break;
		}
		if (ll < 2 || l[0] < 'a' || l[0] > 'z' || l[1] != '=')
			return bad(det, "line %zu is not type=value", line_no);
		v = l + 2;
		vl = ll - 2;
		for (k = 0; k < vl; k++) {
			unsigned char c = v[k];

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return bad(det, "control octet 0x%02x in line %zu", c, line_no);
		}
		if (line_no == 1) {
			if (l[0] != 'v' || vl != 1 || v[0] != '0')
				return bad(det, "first line is not v=0");
			continue;
		}
		switch (l[0]) {
		case 'v':
			return bad(det, "second v= line (%zu)", line_no);
		case 'o':
			if (cur != &sess || have_o)
				return bad(det, "o= line %zu out of place", line_no);
			if (fields(v, vl, f, fl, 8) != 6)
				return bad(det, "o= line needs 6 fields");
			have_o = 1;
			break;
		case 'c': {
			int v4, hold, mapped;

			if (cur->has_c)
				return bad(det, "two c= lines at one level (line %zu)", line_no);
			if (fields(v, vl, f, fl, 8) != 3)
				return bad(det, "c= line %zu needs 3 fields", line_no);
			i = conn_addr(f, fl, cur->c, &v4, &hold, &mapped, "c=", det);
			if (i)
				return i;
			cur->has_c = 1;
			cur->c_v4 = v4;
			cur->c_mapped = mapped;
			cur->c_hold = hold;
			break;
		}
		case 'm': {
			struct sdp_media *m;
			unsigned long port, cnt = 1;
			const char *sl;
			size_t pl;

			if (out->n_media >= SDP_MAX_MEDIA)
				return bad(det, "more than %d m= lines", SDP_MAX_MEDIA);
			/* RFC 3264 6: a stream is declined with port 0, and the
			 * answers that do so (pjmedia's "m=video 0 RTP/AVP")
			 * may list no format: a port-0 line needs media, port
			 * and proto only, and what follows them is not read
			 * (nothing is planned from it). A live stream keeps
			 * the full m= grammar. */
			nf = fields(v, vl, f, fl, 8);
			if (nf < 4 && head_fields(v, vl, f, fl, 3) != 3)
				return bad(det, "m= line %zu needs media, port, proto and a format",
					   line_no);
			if (!is_token_str(f[0], fl[0]))
				return bad(det, "m= media type is not a token");
			sl = memchr(f[1], '/', fl[1]);
			pl = sl ? (size_t)(sl - f[1]) : fl[1];
			if (num(f[1], pl, 65535, &port))
				return bad(det, "m= port '%.*s' is not 0..65535",
					   (int)(fl[1] < 16 ? fl[1] : 16), f[1]);
			if (sl && (num(sl + 1, fl[1] - pl - 1, 65535, &cnt) || !cnt))
				return bad(det, "m= port count is not a number >= 1");
			if (nf < 4 && port)
				return bad(det, "m= line %zu needs media, port, proto and a format",
					   line_no);
			if (port && port + 2 * (cnt - 1) + 1 > 65535)
				return bad(det, "m= ports %lu/%lu run past 65535", port, cnt);
			m = &out->media[out->n_media];
			cur = &lv[out->n_media++];
			memset(cur, 0, sizeof(*cur));
			cur->dir = -1;
			cur->rtcp_port = -1;
			k = fl[0] < sizeof(m->type) - 1 ? fl[0] : sizeof(m->type) - 1;
			memcpy(m->type, f[0], k);
			m->port = (uint16_t)port;
			m->port_count = (uint16_t)cnt;
			break;
		}
		case 'a': {
			const char *colon = memchr(v, ':', vl);
			size_t nl = colon ? (size_t)(colon - v) : vl;
			int d = -1;

			if (!is_token_str(v, nl))
				return bad(det, "a= line %zu: attribute name is not a token",
					   line_no);
			if (nl == 8 && !memcmp(v, "sendrecv", 8))
				d = SDP_SENDRECV;
			else if (nl == 8 && !memcmp(v, "sendonly", 8))
				d = SDP_SENDONLY;
			else if (nl == 8 && !memcmp(v, "recvonly", 8))
				d = SDP_RECVONLY;
			else if (nl == 8 && !memcmp(v, "inactive", 8))
				d = SDP_INACTIVE;
			if (d >= 0) {
				if (colon)
					return bad(det, "a=%.*s takes no value", (int)nl, v);
				if (cur->dir >= 0)
					return bad(
						det,
						"two direction attributes at one level (line %zu)",
						line_no);
				cur->dir = d;
			} else if (nl == 9 && !memcmp(v, "candidate", 9) && colon && cur != &sess) {
				candidate(cur, colon + 1, vl - nl - 1);
			} else if (nl == 8 && !memcmp(v, "rtcp-mux", 8)) {
				if (colon)
					return bad(det, "a=rtcp-mux takes no value");
				cur->mux = 1;
			} else if (nl == 4 && !memcmp(v, "rtcp", 4)) {
				unsigned long rp;

				if (!colon)
					return bad(det, "a=rtcp without a port");
				nf = fields(colon + 1, vl - nl - 1, f, fl, 8);
				if ((nf != 1 && nf != 4) || num(f[0], fl[0], 65535, &rp) || !rp)
					return bad(det, "a=rtcp: is not 'port [IN IP4|IP6 addr]'");
				if (cur->rtcp_port >= 0)
					return bad(det, "two a=rtcp lines at one level");
				cur->rtcp_port = (int)rp;
				if (nf == 4) {
					i = conn_addr(f + 1, fl + 1, cur->rtcp_addr, &cur->rtcp_v4,
						      &cur->rtcp_hold, &cur->rtcp_mapped, "a=rtcp",
						      det);
					if (i)
						return i;
					cur->rtcp_has_addr = 1;
				}
			}
			break;
		}
		default:
			/* s= i= u= e= p= b= t= r= z= k=: not needed for pinholes */
			break;
		}
	}
	if (!have_o)
		return bad(det, "no o= line");
	return resolve(out, &sess, lv, det);
}

int sdp_parse(const char *body, size_t len, struct sdp_session *out)
{
	return sdp_parse_detail(body, len, out, NULL);
}

struct sdp_session *sdp_dup(const struct sdp_session *s, uint8_t refused)
{
	int n = s->n_media < 0 ? 0 : s->n_media > SDP_MAX_MEDIA ? SDP_MAX_MEDIA : s->n_media;
	size_t len = offsetof(struct sdp_session, media) + (size_t)n * sizeof(s->media[0]);
	/* whole struct alignment units: the last line may end inside the
	 * struct's tail padding */
	size_t alloc =
		(len + _Alignof(struct sdp_session) - 1) & ~(_Alignof(struct sdp_session) - 1);
	struct sdp_session *d = malloc(alloc);

	if (!d)
		return NULL;
	memcpy(d, s, len);
	d->n_media = n;
	d->refused = refused;
	return d;
}
