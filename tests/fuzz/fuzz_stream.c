// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness of sipd/stream.c, which the inline path and the capture
 * sources feed with TCP segments off the wire. The input is a list of 8-octet
 * records; each is a segment of one of four connections (two plain, two on a
 * WebSocket port), either direction, a call to sipd_stream_reject() for the
 * last segment, or an expiry, and it advances a clock. A direction's bytes are
 * slices of a stream the harness writes as the segments reach into it, from
 * chunks the records pick: SIP messages with the right Content-Length or a
 * huge, negative, missing or doubled one, CRLF floods, long header blocks,
 * WebSocket handshakes and frames (masked or not, fragmented, pings, closes,
 * reserved bits, huge lengths) and raw input bytes. A segment sits at the
 * direction's cursor, behind it (retransmission, optionally with one octet
 * changed), past it (a hole) or anywhere, from ISNs that wrap 2^32. Small
 * limits make eviction, the byte bounds, gaps, idle expiry and resets
 * reachable. Besides sanitizer reports it checks what stream.h promises.
 *
 * The caller: a DECIDE segment is dropped (and sipd_stream_reject() called
 * at once) if it has a BAD item or the record says so, else accepted. Every
 * segment let through (PASS, accepted DECIDE) reaches a model of the TCP
 * receiver of its direction, which reassembles what it gets. Fail closed,
 * checked on it:
 *  - a byte it gets twice at the same sequence number is the same byte;
 *  - on the plain connections, its application stream is CR/LF runs and
 *    the accepted MSG items in order, and after them at most the start of
 *    a message no receiver could complete yet (a partial line, a start
 *    line and headers without the empty line, or a body shorter than its
 *    Content-Length);
 *  - a RESET's RST to the receiver carries the receiver's next expected.
 * A connection the receivers drop (a RESET, a RST at the exact sequence
 * number) is not checked any more; nor, after a tombstone was overwritten
 * (stream.h: such a connection is a plain pickup again), is any.
 *
 * Record: [0] op (bits 0-1 connection, bit 2 direction, bits 4-7 kind:
 *             14 expiry, 15 a segment without payload)
 *         [1] flags (bit 0 FIN, bit 1 SYN, bit 2 RST, bit 6 raw payload,
 *             bit 7 change one octet)
 *         [2] where (0-9 cursor, 10-11 back, 12-13 ahead, 14-15 anywhere:
 *             low nibble) and how far ([3])
 *         [4..5] length - 1 (11 bits), [6] chunk choice (bit 0 also: the
 *             caller drops a DECIDE), [7] clock step
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sipd/stream.h"

#define REQUIRE(x)               \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

#define SEC	  1000000000ULL
#define NCONN	  4
#define GEN_MAX	  (1 << 16)
#define MAX_CONNS 3
#define MAX_TOTAL 12000
#define MAX_MSG	  1024

struct gdir {
	uint8_t buf[GEN_MAX];
	uint32_t len;	 /* written so far */
	uint32_t cursor; /* next octet to send in order */
	unsigned int nth;
};

static struct gdir gen[NCONN][2];

/* The receiver of one direction. */
#define QMAX 8192
struct rcv {
	uint8_t buf[GEN_MAX], have[GEN_MAX];
	uint32_t nxt, app, hw; /* next expected, application read to, bytes touched */
	uint8_t fin;
	uint8_t q[GEN_MAX]; /* accepted items, in order */
	uint32_t qoff[QMAX], qlen[QMAX], qn, qhead, qbytes;
};

static struct rcv rcv[NCONN][2];
static uint8_t dead[NCONN];
static uint8_t segbuf[4096];

static const uint32_t isn[NCONN][2] = {
	{0xfffffe00u, 12345u},
	{0x7ffffff0u, 0xffffffc0u},
	{0xffffff80u, 1000u},
	{42u, 0x80000010u},
};

static int tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-.!%*_+`'~", c));
}

/* The harness's own reading of a start line: p[0..n) is the line with LF. */
static int is_start(const uint8_t *p, size_t n)
{
	size_t m = n - 1, i = 0, j;

	if (m && p[m - 1] == '\r')
		m--;
	if (m >= 12 && !strncasecmp((const char *)p, "SIP/2.0 ", 8))
		return p[8] >= '0' && p[8] <= '9' && p[9] >= '0' && p[9] <= '9' && p[10] >= '0' &&
		       p[10] <= '9' && p[11] == ' ';
	while (i < m && tchar(p[i]))
		i++;
	if (!i || i >= m || p[i] != ' ')
		return 0;
	j = ++i;
	while (i < m && p[i] > ' ' && p[i] != 0x7f)
		i++;
	if (i == j || i >= m || p[i] != ' ')
		return 0;
	return m - i - 1 == 7 && !strncasecmp((const char *)p + i + 1, "SIP/2.0", 7);
}

/* A MSG item: a start line, and (not WebSocket) exactly header block +
 * Content-Length octets. */
static void check_msg(const struct sipd_stream_item *it)
{
	const uint8_t *p = it->data, *q;
	size_t n = it->len, at, hdr = 0;
	long long cl = -1;

	REQUIRE(p && n > 0 && n <= MAX_MSG);
	q = memchr(p, '\n', n);
	REQUIRE(q && is_start(p, (size_t)(q - p) + 1));
	if (it->ws)
		return;
	at = (size_t)(q - p) + 1;
	while (at < n) {
		size_t e, m, i = 0;

		q = memchr(p + at, '\n', n - at);
		REQUIRE(q);
		e = (size_t)(q - p) + 1;
		m = e - at - 1;
		if (m && p[at + m - 1] == '\r')
			m--;
		if (!m) {
			hdr = e;
			break;
		}
		while (i < m && tchar(p[at + i]))
			i++;
		if ((i == 14 && !strncasecmp((const char *)p + at, "content-length", 14)) ||
		    (i == 1 && (p[at] | 0x20) == 'l')) {
			long long v = 0;

			while (i < m && (p[at + i] == ' ' || p[at + i] == '\t'))
				i++;
			if (i < m && p[at + i] == ':') {
				i++;
				while (i < m && (p[at + i] == ' ' || p[at + i] == '\t'))
					i++;
				while (i < m && p[at + i] >= '0' && p[at + i] <= '9' && v < 100000)
					v = v * 10 + (p[at + i++] - '0');
				REQUIRE(cl < 0 || cl == v);
				cl = v;
			}
		}
		at = e;
	}
	REQUIRE(hdr && cl >= 0);
	REQUIRE(n == hdr + (size_t)cl);
}

/* ---- the receivers ---- */

static void rcv_clear(struct rcv *r)
{
	memset(r->have, 0, r->hw);
	r->nxt = r->app = r->hw = 0;
	r->fin = 0;
	r->qn = r->qhead = r->qbytes = 0;
}

static void rcv_item(struct rcv *r, const uint8_t *p, size_t n)
{
	if (r->qn == QMAX || r->qbytes + n > GEN_MAX) {
		r->qn = QMAX + 1; /* more than the model keeps: stop checking */
		return;
	}
	memcpy(r->q + r->qbytes, p, n);
	r->qoff[r->qn] = r->qbytes;
	r->qlen[r->qn++] = (uint32_t)n;
	r->qbytes += (uint32_t)n;
}

/* What is left after the items: no receiver can complete it yet. */
static void tail_check(const uint8_t *t, size_t m)
{
	const uint8_t *q = memchr(t, '\n', m);
	size_t at, hdr = 0;
	long long cl = -1;

	if (!q)
		return;
	REQUIRE(is_start(t, (size_t)(q - t) + 1));
	at = (size_t)(q - t) + 1;
	while (at < m) {
		size_t e, n, i = 0;

		q = memchr(t + at, '\n', m - at);
		if (!q)
			return;
		e = (size_t)(q - t) + 1;
		n = e - at - 1;
		if (n && t[at + n - 1] == '\r')
			n--;
		if (!n) {
			hdr = e;
			break;
		}
		while (i < n && tchar(t[at + i]))
			i++;
		if ((i == 14 && !strncasecmp((const char *)t + at, "content-length", 14)) ||
		    (i == 1 && (t[at] | 0x20) == 'l')) {
			long long v = 0;

			while (i < n && (t[at + i] == ' ' || t[at + i] == '\t'))
				i++;
			if (i < n && t[at + i] == ':') {
				i++;
				while (i < n && (t[at + i] == ' ' || t[at + i] == '\t'))
					i++;
				while (i < n && t[at + i] >= '0' && t[at + i] <= '9' && v < 100000)
					v = v * 10 + (t[at + i++] - '0');
				cl = v;
			}
		}
		at = e;
	}
	if (!hdr)
		return;
	REQUIRE(cl >= 0);      /* a header block without it was BAD: dropped */
	REQUIRE(m < hdr + cl); /* else complete, yet never framed */
}

/* The application reads what is in order: items, keep-alives, a tail. */
static void app_check(struct rcv *r)
{
	if (r->qn > QMAX)
		return;
	for (;;) {
		uint32_t p = r->app, len, k;

		while (p < r->nxt && (r->buf[p] == '\r' || r->buf[p] == '\n'))
			p++;
		r->app = p;
		if (p == r->nxt)
			return;
		if (r->qhead == r->qn) {
			tail_check(r->buf + p, r->nxt - p);
			return;
		}
		len = r->qlen[r->qhead];
		k = r->nxt - p < len ? r->nxt - p : len;
		REQUIRE(!memcmp(r->buf + p, r->q + r->qoff[r->qhead], k));
		if (k < len)
			return;
		r->app += len;
		r->qhead++;
	}
}

/* The segment at offset off reached the receiver. */
static void deliver(struct rcv *r, uint32_t off, const uint8_t *p, uint32_t n, int plain)
{
	for (uint32_t i = 0; i < n && off + i < GEN_MAX; i++) {
		uint32_t o = off + i;

		if (o < r->nxt || r->have[o])
			REQUIRE(r->buf[o] == p[i]); /* overlaps never differ */
		r->buf[o] = p[i];
		r->have[o] = 1;
		if (o + 1 > r->hw)
			r->hw = o + 1;
	}
	while (r->nxt < GEN_MAX && r->have[r->nxt])
		r->nxt++;
	if (plain)
		app_check(r);
}

/* ---- the streams the segments are cut from ---- */

static void put(struct gdir *g, const void *p, size_t n)
{
	if (n > GEN_MAX - g->len)
		n = GEN_MAX - g->len;
	memcpy(g->buf + g->len, p, n);
	g->len += (uint32_t)n;
}

static void puts_(struct gdir *g, const char *s)
{
	put(g, s, strlen(s));
}

static void sip(struct gdir *g, uint8_t pick, const char *clhdr, int body)
{
	char m[1400];
	int n;

	n = snprintf(m, sizeof(m),
		     "%s sip:b@x SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK%u\r\n"
		     "Call-ID: %u\r\nCSeq: 1 %s\r\n%s\r\n",
		     pick & 1 ? "INVITE" : "OPTIONS", g->nth, g->nth,
		     pick & 1 ? "INVITE" : "OPTIONS", clhdr);
	put(g, m, (size_t)n);
	for (int i = 0; i < body; i++)
		put(g, "b", 1);
}

static void ws_frame(struct gdir *g, int client, int fin, int op, const uint8_t *p, size_t n,
		     int big)
{
	uint8_t h[14], key[4] = {0x12, 0x9a, (uint8_t)n, 0x5c};
	size_t hl = 2;

	h[0] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (big) {
		h[1] = 127;
		memset(h + 2, 0, 8);
		h[6] = 1; /* 2^32 */
		hl = 10;
	} else if (n < 126) {
		h[1] = (uint8_t)n;
	} else {
		h[1] = 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	}
	if (client) {
		h[1] |= 0x80;
		memcpy(h + hl, key, 4);
		hl += 4;
	}
	put(g, h, hl);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i] ^ (client ? key[i & 3] : 0);

		put(g, &c, 1);
	}
}

/* Write one chunk more of connection ci's direction di. */
static void more(int ci, int di, uint8_t pick, const uint8_t *raw, size_t rawlen)
{
	struct gdir *g = &gen[ci][di];
	char cl[96];
	int ws = ci >= 2, client = di == 0;

	g->nth++;
	if (ws && g->nth == 1) {
		if (client)
			puts_(g, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
				 "Connection: Upgrade\r\nSec-WebSocket-Protocol: sip\r\n\r\n");
		else if ((pick & 7) == 7)
			puts_(g, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
		else
			puts_(g, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
		return;
	}
	if (ws) {
		uint8_t m[600];
		struct gdir tmp;
		size_t n, a;

		tmp.len = 0;
		tmp.nth = g->nth;
		sip(&tmp, pick, "Content-Length: 0\r\n", 0);
		n = tmp.len;
		memcpy(m, tmp.buf, n);
		switch (pick >> 4) {
		case 0 ... 5:
			ws_frame(g, client, 1, 1 + (pick & 1), m, n, 0);
			break;
		case 6 ... 8: /* fragmented, a ping inside */
			a = n / 3;
			ws_frame(g, client, 0, 1, m, a, 0);
			ws_frame(g, client, 1, 9, (const uint8_t *)"p", 1, 0);
			ws_frame(g, client, 0, 0, m + a, a, 0);
			ws_frame(g, client, 1, 0, m + 2 * a, n - 2 * a, 0);
			break;
		case 9:
			ws_frame(g, client, 1, 1, (const uint8_t *)"\r\n\r\n", 4, 0);
			break;
		case 10:
			ws_frame(g, !client, 1, 1, m, n, 0); /* wrong masking */
			break;
		case 11:
			ws_frame(g, client, 1, 8, (const uint8_t *)"\x03\xe8", 2, 0);
			break;
		case 12:
			ws_frame(g, client, 1, 2, m, n, 1); /* 2^32 octets announced */
			break;
		case 13:
			ws_frame(g, client, 1, 1, raw, rawlen > 200 ? 200 : rawlen, 0);
			break;
		case 14:
			put(g, raw, rawlen > 64 ? 64 : rawlen);
			break;
		default:
			ws_frame(g, client, 1, 10, (const uint8_t *)"", 0, 0);
		}
		return;
	}
	switch (pick >> 4) {
	case 0 ... 5: {
		int b = pick & 0x3f;

		snprintf(cl, sizeof(cl), "%s: %d\r\n", pick & 0x40 ? "l" : "Content-Length", b);
		sip(g, pick, cl, b);
		break;
	}
	case 6:
		snprintf(cl, sizeof(cl), "Content-Length: 18446744073709551617%u\r\n", pick);
		sip(g, pick, cl, 10);
		break;
	case 7:
		sip(g, pick, "Content-Length: 4000\r\n", 4);
		break;
	case 8:
		sip(g, pick, "", 3); /* no Content-Length */
		break;
	case 9:
		sip(g, pick, "Content-Length: -3\r\n", 3);
		break;
	case 10:
		sip(g, pick, "Content-Length: 2\r\nl: 3\r\n", 3);
		break;
	case 11:
		for (int i = 0; i < (pick & 15) * 16 + 2; i++)
			puts_(g, i & 1 ? "\n" : "\r");
		break;
	case 12:
		for (int i = 0; i < 40; i++)
			puts_(g, "X-Long: 0123456789012345678901234567890123\r\n");
		break;
	case 13:
		puts_(g, "SIP/2.0 200 OK\r\nCall-ID: r\r\nl:0\r\n\r\n");
		break;
	case 14:
		put(g, raw, rawlen > 128 ? 128 : rawlen);
		break;
	default:
		snprintf(cl, sizeof(cl), "Content-Length : %d \r\n", pick & 7);
		sip(g, pick, cl, pick & 7);
	}
}

#ifdef STREAM_FUZZ_REPORT
/* -DSTREAM_FUZZ_REPORT: print the counters summed over the inputs run
 * (e.g. -runs=0 over a corpus), to see what the harness reaches. */
static struct sipd_stream_stats total;

static void report(void)
{
	fprintf(stderr,
		"segments %llu messages %llu bad %llu keepalives %llu retransmits %llu "
		"unverified %llu out_of_order %llu rejected %llu resets %llu ws %llu "
		"resync_octets %llu tombstones_lost %llu\n",
		(unsigned long long)total.segments, (unsigned long long)total.messages,
		(unsigned long long)total.bad, (unsigned long long)total.keepalives,
		(unsigned long long)total.retransmits, (unsigned long long)total.unverified,
		(unsigned long long)total.out_of_order, (unsigned long long)total.rejected,
		(unsigned long long)total.resets, (unsigned long long)total.ws_messages,
		(unsigned long long)total.resync_octets, (unsigned long long)total.tombstones_lost);
	for (int w = 1; w < SIPD_STREAM_DROP_MAX; w++)
		fprintf(stderr, "  dropped %d %llu\n", w, (unsigned long long)total.dropped[w]);
	for (int g = 0; g < SIPD_STREAM_GIVEUP_MAX; g++)
		fprintf(stderr, "  gave_up %s %llu\n", sipd_stream_giveup_name(g),
			(unsigned long long)total.gave_up[g]);
}

static void sum(const struct sipd_stream_stats *st)
{
	static int once;
	const uint64_t *a = (const uint64_t *)st;
	uint64_t *t = (uint64_t *)&total;

	if (!once++)
		atexit(report);
	for (size_t k = 0; k < sizeof(total) / sizeof(uint64_t); k++)
		t[k] += a[k];
}
#endif

static const uint64_t steps[16] = {
	0,   0,	      0,       0,	1000000,  10000000, 100000000, SEC,
	SEC, 2 * SEC, 5 * SEC, 9 * SEC, 11 * SEC, 30 * SEC, 61 * SEC,  0,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipd_stream_limits lim = {
		.max_conns = MAX_CONNS,
		.max_conn_bytes = 4096,
		.max_total_bytes = MAX_TOTAL,
		.idle_ns = 60 * SEC,
		.gap_ns = 10 * SEC,
		.max_msg_len = MAX_MSG,
		.keep_bytes = 512,
		.max_rejects = 2,
	};
	struct sipd_stream *s = sipd_stream_new(&lim);
	struct sipd_stream_stats st;
	uint64_t now = 1000 * SEC;
	uint64_t lost;
	size_t i = 0;

	REQUIRE(s);
	for (int c = 0; c < NCONN; c++) {
		for (int d = 0; d < 2; d++) {
			gen[c][d].len = gen[c][d].cursor = gen[c][d].nth = 0;
			rcv_clear(&rcv[c][d]);
		}
		dead[c] = 0;
	}
	lost = 0;
	while (i + 8 <= size) {
		const uint8_t *rec = data + i;
		int ci = rec[0] & 3, di = (rec[0] >> 2) & 1, kind = rec[0] >> 4;
		struct gdir *g = &gen[ci][di];
		struct sipd_tcp_seg seg = {0};
		struct sipd_stream_res res;
		uint32_t off, len = (uint32_t)(rec[4] | (rec[5] & 7) << 8) + 1;
		int where = rec[2] & 15;

		i += 8;
		now += steps[rec[7] & 15];
		if (kind == 14) {
			sipd_stream_expire(s, now);
			continue;
		}

		if (where < 10)
			off = g->cursor;
		else if (where < 12)
			off = g->cursor > (uint32_t)rec[3] * 8 ? g->cursor - (uint32_t)rec[3] * 8
							       : 0;
		else if (where < 14)
			off = g->cursor + (uint32_t)rec[3] * 8 + 1;
		else
			off = (uint32_t)rec[3] << 6;
		if (off >= GEN_MAX)
			off = GEN_MAX - 1;
		if (len > GEN_MAX - off)
			len = GEN_MAX - off;
		if (rec[1] & 0x40) {
			/* raw: the next len octets of the input as they are */
			if (len > size - i)
				len = (uint32_t)(size - i);
			memcpy(segbuf, data + i, len);
			i += len;
		} else {
			unsigned int k = 0;

			while (g->len < off + len && g->len < GEN_MAX)
				more(ci, di, (uint8_t)(rec[6] + 37 * k++), data + i, size - i);
			if (off + len > g->len)
				len = g->len > off ? g->len - off : 0;
			memcpy(segbuf, g->buf + off, len);
		}
		if ((rec[1] & 0x80) && len)
			segbuf[rec[3] % len] ^= 0x20;
		if ((rec[1] & 0x04) || kind == 15)
			len = 0;
		memset(seg.key.saddr, 0, 16);
		memset(seg.key.daddr, 0, 16);
		seg.key.saddr[15] = (uint8_t)(di ? 2 : 1);
		seg.key.daddr[15] = (uint8_t)(di ? 1 : 2);
		seg.key.sport = di ? (uint16_t)(ci >= 2 ? 443 : 5060) : (uint16_t)(40000 + ci);
		seg.key.dport = di ? (uint16_t)(40000 + ci) : (uint16_t)(ci >= 2 ? 443 : 5060);
		seg.seq = isn[ci][di] + off;
		seg.ack = isn[ci][!di] + gen[ci][!di].cursor;
		seg.flags = (uint8_t)(SIPD_TCP_ACK | (rec[1] & (SIPD_TCP_FIN | SIPD_TCP_RST)));
		if ((rec[1] & SIPD_TCP_SYN) && off == 0) {
			seg.flags |= SIPD_TCP_SYN;
			seg.seq--; /* the SYN occupies the octet before the data */
		}
		seg.ws = ci >= 2;
		seg.data = segbuf;
		seg.len = len;
		REQUIRE(sipd_stream_add(s, &seg, now, &res) == 0);
#ifdef STREAM_FUZZ_TRACE
		/* -DSTREAM_FUZZ_TRACE: each segment and its verdict */
		fprintf(stderr,
			"c%d d%d off %u len %u fl %02x v %d why %d items %u rnxt %u rst1 %u\n", ci,
			di, off, len, seg.flags, res.v, res.drop_why, res.n_items, rcv[ci][di].nxt,
			res.rst[1].seq - isn[ci][di]);
#endif
		REQUIRE(res.v <= SIPD_STREAM_RESET);
		if (res.v == SIPD_STREAM_DECIDE)
			REQUIRE(res.n_items > 0);
		else
			REQUIRE(res.n_items == 0);
		if (res.v == SIPD_STREAM_DROP)
			REQUIRE(res.drop_why > SIPD_STREAM_DROP_NONE &&
				res.drop_why < SIPD_STREAM_DROP_MAX);
		if (res.v == SIPD_STREAM_RESET) {
			struct rcv *r = &rcv[ci][di];

			REQUIRE(res.rst[1].key.sport == seg.key.sport);
			REQUIRE(res.rst[0].key.sport == seg.key.dport);
			/* to the receiver: exactly what it expects (if it got
			 * bytes from the start: a pickup cannot know) */
			if (!dead[ci] && r->nxt && !r->fin)
				REQUIRE(res.rst[1].seq == isn[ci][di] + r->nxt);
			dead[ci] = 1;
		}
		int bad = 0, pass = res.v == SIPD_STREAM_PASS;
		for (unsigned int k = 0; k < res.n_items; k++) {
			const struct sipd_stream_item *it = &res.items[k];

			REQUIRE(it->kind == SIPD_STREAM_MSG || it->kind == SIPD_STREAM_BAD);
			if (it->kind == SIPD_STREAM_MSG) {
				REQUIRE(it->ws == seg.ws);
				check_msg(it);
			} else {
				REQUIRE(it->reason > SW_SIP_R_ACCEPTED &&
					it->reason < SW_SIP_R_MAX);
				REQUIRE(memchr(it->detail, 0, sizeof(it->detail)) && it->detail[0]);
				bad = 1;
			}
		}
		if (res.v == SIPD_STREAM_DECIDE) {
			if (bad || (rec[6] & 1)) {
				sipd_stream_reject(s, &seg, now); /* the caller drops it */
			} else {
				pass = 1;
				for (unsigned int k = 0; k < res.n_items; k++)
					rcv_item(&rcv[ci][di], res.items[k].data, res.items[k].len);
			}
		}
		sipd_stream_get_stats(s, &st);
		if (st.tombstones_lost != lost) {
			lost = st.tombstones_lost;
			memset(dead, 1, sizeof(dead));
		}
		if (pass && !dead[ci]) {
			struct rcv *r = &rcv[ci][di];
			uint32_t doff = off; /* the payload's offset (a SYN's is 0) */

			if (seg.flags & SIPD_TCP_RST) {
				if (seg.seq == isn[ci][di] + r->nxt)
					dead[ci] = 1; /* the receiver takes it */
			} else {
				deliver(r, doff, segbuf, len, ci < 2);
				if ((seg.flags & SIPD_TCP_FIN) && doff + len == r->nxt)
					r->fin = 1;
			}
		}
		if (off + len > g->cursor && where < 10)
			g->cursor = off + len;
		sipd_stream_get_stats(s, &st);
		REQUIRE(st.bytes_held <= MAX_TOTAL);
		REQUIRE(st.conns <= MAX_CONNS);
	}
	sipd_stream_expire(s, now + 3600 * SEC);
	sipd_stream_get_stats(s, &st);
#ifdef STREAM_FUZZ_REPORT
	sum(&st);
#endif
	REQUIRE(st.conns == 0);
	REQUIRE(st.bytes_held == 0);
	sipd_stream_free(s);
	return 0;
}
