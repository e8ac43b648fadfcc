// SPDX-License-Identifier: GPL-2.0-only
/*
 * datagram -> struct sip_msg: limits and strict checks (validate.c), then
 * libosip2 parses Call-ID, CSeq and the top Via and must agree with them, and
 * the fields the later stages use are copied out as plain C strings, then the
 * SDP (sdp.c), from the body or from the application/sdp part of a multipart
 * body. Nothing here keeps libosip2 types past return.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>

#include "lib/swmap.h"
#include "sipmsg.h"
#include "validate.h"

void sip_limits_default(struct sip_limits *lim)
{
	lim->max_msg_len = SIP_MAX_MSG_LEN;
	lim->max_headers = SIP_MAX_HEADERS;
	lim->max_line_len = SIP_MAX_LINE_LEN;
	lim->max_via = SIP_MAX_VIA;
	lim->strict = 1;
	lim->allow_trailing = 1;
}

enum sip_keepalive sipmsg_keepalive(const uint8_t *p, size_t len)
{
	size_t i, off;

	if (len <= SIP_KEEPALIVE_MAX) {
		for (i = 0; i < len; i++)
			if (p[i] != '\r' && p[i] != '\n' && p[i] != ' ' && p[i] != '\t' && p[i])
				break;
		if (i == len)
			return SIP_KA_CRLF;
	}
	/* STUN header: type (00 + method/class bits), length, magic cookie,
	 * 96-bit transaction id; Binding is method 0x001 in any class */
	if (len < 20 || len > SIP_KEEPALIVE_STUN_MAX || (p[0] & 0xc0) ||
	    ((p[0] << 8 | p[1]) & 0x3eef) != 0x0001 || (size_t)(p[2] << 8 | p[3]) != len - 20 ||
	    (len & 3) || p[4] != 0x21 || p[5] != 0x12 || p[6] != 0xa4 || p[7] != 0x42)
		return SIP_KA_NONE;
	for (off = 20; off < len;) {
		size_t al;

		if (len - off < 4)
			return SIP_KA_NONE;
		al = (size_t)(p[off + 2] << 8 | p[off + 3]);
		al = (al + 3) & ~(size_t)3; /* values are padded to 4 octets */
		if (al > len - off - 4)
			return SIP_KA_NONE;
		off += 4 + al;
	}
	return SIP_KA_STUN;
}

const char *sipmsg_keepalive_name(enum sip_keepalive k)
{
	return k == SIP_KA_CRLF ? "crlf" : k == SIP_KA_STUN ? "stun" : "";
}

static pthread_once_t osip_once = PTHREAD_ONCE_INIT;

static void osip_trace_sink(const char *fi, int li, osip_trace_level_t level, const char *fmt,
			    va_list ap)
{
	(void)fi;
	(void)li;
	(void)level;
	(void)fmt;
	(void)ap;
}

static void osip_init_once(void)
{
	int l;

	parser_init();
	/* libosip2 traces parse errors to stderr by default; sipd reports its
	 * own reasons, so its trace goes nowhere */
	osip_trace_initialize_func(TRACE_LEVEL0, osip_trace_sink);
	for (l = TRACE_LEVEL0; l < END_TRACE_LEVEL; l++)
		osip_trace_disable_level(l);
}

void sipmsg_global_init(void)
{
	pthread_once(&osip_once, osip_init_once);
}

/* Per-thread scratch: the frame (header views + unfolded values) and the
 * NUL-terminated header value handed to a libosip2 parser. */
static __thread struct sip_frame tl_frame;
static __thread char tl_copy[SIP_MAX_MSG_LEN + 64];

static void copy_str(char *dst, size_t dlen, const char *src, size_t n)
{
	size_t i;

	if (!src)
		n = 0;
	if (n >= dlen)
		n = dlen - 1;
	for (i = 0; i < n; i++)
		dst[i] = src[i] ? src[i] : '?';
	dst[n] = 0;
}

static void header_names(const struct sip_frame *f, char *out, size_t olen)
{
	size_t o = 0;
	unsigned int i;

	for (i = 0; i < f->n_hdr; i++) {
		const struct sip_hdr *h = &f->hdr[i];
		char name[96];
		size_t nl, k, p;
		int dup = 0;

		/* A header sipd knows by id is a repeat unless it is the first
		 * of its id (one id, one long name); others compare names. */
		if (h->id != SIP_H_OTHER && f->first[h->id] != (int)i)
			continue;
		if (h->name) {
			nl = strlen(h->name);
			if (nl >= sizeof(name))
				nl = sizeof(name) - 1;
			memcpy(name, h->name, nl);
		} else {
			nl = h->raw_name_len < sizeof(name) - 1 ? h->raw_name_len
								: sizeof(name) - 1;
			for (k = 0; k < nl; k++) {
				char c = h->raw_name[k];

				name[k] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
			}
		}
		name[nl] = 0;
		for (p = 0; h->id == SIP_H_OTHER && p < o; p += strlen(out + p) + 1)
			if (!strcmp(out + p, name)) {
				dup = 1;
				break;
			}
		if (dup)
			continue;
		if (o + nl + 2 > olen)
			break;
		memcpy(out + o, name, nl + 1);
		o += nl + 1;
	}
	out[o] = 0; /* second NUL ends the list (first when empty) */
}

/* The first application/sdp part of a multipart body (RFC 2046), or NULL. */
static const char *multipart_sdp(const char *body, size_t len, const char *bd, size_t bdl,
				 size_t *plen)
{
	char delim[80];
	const char *p, *end = body + len;
	size_t dl;

	if (!bdl || bdl > 70)
		return NULL;
	delim[0] = delim[1] = '-';
	memcpy(delim + 2, bd, bdl);
	dl = bdl + 2;
	p = memmem(body, len, delim, dl);
	while (p && p + dl <= end) {
		const char *q = p + dl, *hdr_end, *part, *next, *h;
		char type[SIP_TOKEN_LEN] = "";

		if (q + 2 <= end && q[0] == '-' && q[1] == '-')
			return NULL; /* close delimiter */
		q = memchr(q, '\n', end - q);
		if (!q)
			return NULL;
		q++;
		/* part headers up to an empty line */
		hdr_end = NULL;
		for (h = q; h < end;) {
			const char *lf = memchr(h, '\n', end - h);
			size_t ll;

			if (!lf)
				return NULL;
			ll = lf - h;
			if (ll && h[ll - 1] == '\r')
				ll--;
			if (!ll) {
				hdr_end = lf + 1;
				break;
			}
			if (ll > 13 && !strncasecmp(h, "content-type:", 13)) {
				const char *v = h + 13, *b;
				size_t vl = ll - 13, bl;

				while (vl && (*v == ' ' || *v == '\t')) {
					v++;
					vl--;
				}
				if (sipv_content_type(v, vl, type, sizeof(type), &b, &bl, NULL))
					type[0] = 0;
			}
			h = lf + 1;
		}
		if (!hdr_end)
			return NULL;
		part = hdr_end;
		next = memmem(part, end - part, delim, dl);
		if (!next)
			return NULL;
		if (!strcmp(type, "application/sdp")) {
			const char *pe = next;

			/* the CRLF before the delimiter belongs to it */
			if (pe > part && pe[-1] == '\n')
				pe--;
			if (pe > part && pe[-1] == '\r')
				pe--;
			*plen = pe - part;
			return part;
		}
		p = next;
	}
	return NULL;
}

static int is_sip_scheme(const char *s)
{
	return !strcmp(s, "sip") || !strcmp(s, "sips");
}

/*
 * What libosip2 parses: the headers that identify the call and the
 * transaction, Call-ID, CSeq and the top Via, each value handed to its
 * libosip2 parser (osip_call_id_parse, osip_cseq_parse, osip_via_parse);
 * sipd takes the Call-ID and the top Via branch from those parses, and the
 * two parsers must agree on them and on the CSeq (osip_ids below).
 * validate.c has framed the message and checked the start line and the
 * grammar of every header already; its name-addr parser, which the strict
 * From/To checks need anyway, gives the tags, users and hosts of From and To
 * (the same values libosip2 gives: tests/unit/test_xparse.c compares both
 * parsers over the corpora). libosip2's message parser is not used: it would
 * parse the start line and headers validate.c has parsed already, and its
 * structures for them cost about two thirds of its parse time, which sipd
 * never read. Nor does its MIME parser run, which leaks on malformed
 * multipart bodies (found by tests/fuzz): sipd frames the body itself
 * (Content-Length checked in validate.c) and finds the SDP itself.
 *
 * Values go to libosip2 as validate.c unfolded and trimmed them, so both
 * parsers read the same text whatever line ends the datagram used (lax mode
 * accepts a bare LF, which libosip2's message parser read as part of the
 * line before: found by tests/fuzz). A NUL octet becomes '?' (libosip2 takes
 * C strings; validate.c has allowed it only inside quoted strings).
 */
static const char *osip_value(const char *s, size_t n)
{
	copy_str(tl_copy, sizeof(tl_copy), s, n);
	return tl_copy;
}

/*
 * libosip2's parse of the identity headers into out, each checked against
 * what validate.c read from the same value: a message on which the two
 * disagree about what identifies its call and transaction is one that two
 * implementations downstream could read differently too, so it is dropped.
 * 0 or -reason.
 */
static int osip_ids(const struct sip_frame *f, const struct sip_checked *c, struct sip_msg *out)
{
	const struct sip_hdr *h = &f->hdr[f->first[SIP_H_CALL_ID]];
	osip_call_id_t *cid = NULL;
	osip_cseq_t *cs = NULL;
	osip_via_t *via = NULL;
	osip_generic_param_t *br = NULL;
	char v[sizeof(out->call_id)];
	const char *what = "Call-ID", *differ = NULL;

	if (osip_call_id_init(&cid) || osip_call_id_parse(cid, osip_value(h->val, h->val_len)))
		goto out;
	if (cid->host)
		sip_join_at(out->call_id, sizeof(out->call_id), cid->number, cid->host);
	else
		sip_strlcpy(out->call_id, sizeof(out->call_id), cid->number);
	copy_str(v, sizeof(v), h->val, h->val_len);
	if (!out->call_id[0] || strcmp(v, out->call_id)) {
		differ = what;
		goto out;
	}
	what = "CSeq";
	h = &f->hdr[f->first[SIP_H_CSEQ]];
	if (osip_cseq_init(&cs) || osip_cseq_parse(cs, osip_value(h->val, h->val_len)) ||
	    !cs->number || !cs->method)
		goto out;
	if (strtoul(cs->number, NULL, 10) != c->cseq || strlen(cs->method) != c->cseq_method_len ||
	    memcmp(cs->method, c->cseq_method, c->cseq_method_len)) {
		differ = what;
		goto out;
	}
	what = "Via";
	if (osip_via_init(&via) || osip_via_parse(via, osip_value(c->via.top, c->via.top_len)))
		goto out;
	if (osip_via_param_get_byname(via, "branch", &br) == 0 && br)
		sip_strlcpy(out->via_branch, sizeof(out->via_branch), br->gvalue);
	copy_str(v, sizeof(out->via_branch), c->via.top_branch,
		 c->via.top_branch ? c->via.top_branch_len : 0);
	if (strcmp(v, out->via_branch))
		differ = "the top Via branch";
	else
		what = NULL;
out:
	if (differ)
		snprintf(out->err_detail, sizeof(out->err_detail),
			 "libosip2 and the strict checks read %s differently", differ);
	else if (what)
		snprintf(out->err_detail, sizeof(out->err_detail),
			 "libosip2 could not parse the %s header", what);
	osip_call_id_free(cid);
	osip_cseq_free(cs);
	osip_via_free(via);
	return differ || what ? -SW_SIP_R_PARSE_ERROR : 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A URI user part with %XX escapes decoded (RFC 3261 19.1.4: "%61lice" is
 * "alice"), as filters and whitelists compare it; NUL becomes '?'. */
static void copy_unescaped(char *dst, size_t dlen, const char *src, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < dlen; i++) {
		char c = src[i];

		if (c == '%' && i + 2 < n && hexval(src[i + 1]) >= 0 && hexval(src[i + 2]) >= 0) {
			c = (char)(hexval(src[i + 1]) << 4 | hexval(src[i + 2]));
			i += 2;
		}
		dst[o++] = c ? c : '?';
	}
	dst[o] = 0;
}

static void copy_nameaddr(const struct sip_nameaddr *na, char *tag, char *user, char *host,
			  char *scheme)
{
	copy_str(tag, SIP_TAG_LEN, na->tag, na->tag_len);
	copy_unescaped(user, SIP_TOKEN_LEN, na->uri.user, na->uri.user ? na->uri.user_len : 0);
	copy_str(host, SIP_TOKEN_LEN, na->uri.host, na->uri.host_len);
	sip_strlcpy(scheme, sizeof(((struct sip_msg *)0)->from_uri_scheme), na->uri.scheme);
}

static void extract(const struct sip_frame *f, const struct sip_start *st,
		    const struct sip_checked *c, const struct sip_uri_view *ruri,
		    struct sip_msg *out)
{
	const struct sip_hdr *ua;

	out->is_request = st->is_request;
	out->status = st->is_request ? 0 : st->status;
	copy_str(out->cseq_method, sizeof(out->cseq_method), c->cseq_method, c->cseq_method_len);
	if (st->is_request)
		copy_str(out->method, sizeof(out->method), st->method, st->method_len);
	else
		sip_strlcpy(out->method, sizeof(out->method), out->cseq_method);
	out->call_hash = sw_fnv1a64(out->call_id, strlen(out->call_id));
	copy_nameaddr(&c->from, out->from_tag, out->from_user, out->from_host,
		      out->from_uri_scheme);
	copy_nameaddr(&c->to, out->to_tag, out->to_user, out->to_host, out->to_uri_scheme);
	if (ruri && ruri->user)
		copy_unescaped(out->ruri_user, sizeof(out->ruri_user), ruri->user, ruri->user_len);
	ua = f->first[SIP_H_USER_AGENT] >= 0 ? &f->hdr[f->first[SIP_H_USER_AGENT]] : NULL;
	if (ua)
		copy_str(out->user_agent, sizeof(out->user_agent), ua->val, ua->val_len);
	sip_strlcpy(out->content_type, sizeof(out->content_type), c->content_type);
	out->cseq = c->cseq;
	out->max_forwards = c->max_forwards;
	out->via_count = (int)c->via.n;
	out->via_transport[0] = 0;
	if (c->via.top_transport && c->via.top_transport_len < sizeof(out->via_transport)) {
		for (size_t i = 0; i < c->via.top_transport_len; i++)
			out->via_transport[i] =
				(char)toupper((unsigned char)c->via.top_transport[i]);
		out->via_transport[c->via.top_transport_len] = 0;
	}
	header_names(f, out->header_names, sizeof(out->header_names));
}

int sipmsg_parse_datagram(const char *buf, size_t len, const struct sip_limits *lim,
			  struct sip_msg *out, size_t *consumed)
{
	struct sip_frame *f = &tl_frame;
	struct sip_limits deflim;
	struct sip_start st;
	struct sip_checked c;
	struct sip_addr src = out->src, dst = out->dst;
	struct sip_uri_view ruri;
	int r, is_sip = 0;

	sipmsg_global_init();
	memset(out, 0, sizeof(*out));
	out->src = src;
	out->dst = dst;
	out->max_forwards = -1;
	if (consumed)
		*consumed = len;
	if (!lim) {
		sip_limits_default(&deflim);
		lim = &deflim;
	}
	if (!buf) {
		snprintf(out->err_detail, sizeof(out->err_detail), "no data");
		return -SW_SIP_R_PARSE_ERROR;
	}

	r = sipv_frame(buf, len, lim, f, out->err_detail);
	if (r)
		return r;
	if (consumed)
		*consumed = f->consumed;
	out->trailing_len = f->trailing;
	out->body = f->body;
	out->body_len = f->body_len;
	r = sipv_start_line(f->start, f->start_len, lim->strict, &st, out->err_detail);
	if (r)
		return r;
	r = sipv_headers(f, &st, lim, &c, out->err_detail);
	if (r)
		return r;
	if (f->trailing && !lim->allow_trailing) {
		snprintf(out->err_detail, sizeof(out->err_detail),
			 "%zu octets after the message in one datagram", f->trailing);
		return -SW_SIP_R_TRAILING_DATA;
	}

	if (st.is_request) {
		sipv_uri(st.uri, st.uri_len, 0, &ruri, NULL);
		is_sip = is_sip_scheme(ruri.scheme);
	}
	r = osip_ids(f, &c, out);
	if (r)
		return r;
	extract(f, &st, &c, st.is_request && is_sip ? &ruri : NULL, out);

	if (out->body_len && !strcmp(out->content_type, "application/sdp")) {
		r = sdp_parse_detail(out->body, out->body_len, &out->sdp, out->err_detail);
		if (r)
			return r;
		out->has_sdp = 1;
	} else if (out->body_len && !strncmp(out->content_type, "multipart/", 10)) {
		const char *part;
		size_t plen = 0;

		part = multipart_sdp(out->body, out->body_len, c.boundary, c.boundary_len, &plen);
		if (part) {
			r = sdp_parse_detail(part, plen, &out->sdp, out->err_detail);
			if (r)
				return r;
			out->has_sdp = 1;
		}
	}
	return 0;
}
