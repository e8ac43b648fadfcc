// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd/stream.c: SIP over TCP and WebSocket. Messages are built whole, cut
 * into segments the way TCP may cut them (one octet at a time, out of order,
 * retransmitted, across the wrap of the sequence space), offered from both
 * sides of a connection and compared octet for octet with the original;
 * every way of giving up is counted by name.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sipd/stream.h"

#define SEC  1000000000ULL
#define CISN 1000u  /* client's first data byte */
#define SISN 70000u /* server's */
#define C2S  0
#define S2C  1
#define ACK  SIPD_TCP_ACK

static struct sipd_stream_limits L;
static struct sipd_stream *S;
static struct sipd_stream_res R;
static struct sipd_tcp_seg G;
static uint64_t NOW;
static int WS;
static uint16_t CPORT = 40000;

static int setup_with(void)
{
	S = sipd_stream_new(&L);
	NOW = 100 * SEC;
	WS = 0;
	CPORT = 40000;
	return S ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	memset(&L, 0, sizeof(L));
	L.max_conns = 16;
	L.max_conn_bytes = 16384;
	L.max_total_bytes = 1 << 20;
	L.idle_ns = 60 * SEC;
	L.gap_ns = 10 * SEC;
	L.max_msg_len = 4096;
	L.keep_bytes = 2048;
	L.max_rejects = 3;
	return setup_with();
}

static int teardown(void **state)
{
	(void)state;
	sipd_stream_free(S);
	S = NULL;
	return 0;
}

static void key(struct sipd_stream_key *k, int dir, uint16_t cport)
{
	uint8_t a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
	uint8_t b[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};

	memcpy(dir == C2S ? k->saddr : k->daddr, a, 16);
	memcpy(dir == C2S ? k->daddr : k->saddr, b, 16);
	k->sport = dir == C2S ? cport : 5060;
	k->dport = dir == C2S ? 5060 : cport;
}

/* One segment of direction dir; returns the verdict. */
static int seg(int dir, uint32_t seq, const void *data, size_t len, uint8_t flags)
{
	memset(&G, 0, sizeof(G));
	key(&G.key, dir, CPORT);
	G.seq = seq;
	G.ack = dir == C2S ? SISN : CISN;
	G.flags = flags;
	G.ws = (uint8_t)WS;
	G.data = data;
	G.len = len;
	assert_int_equal(sipd_stream_add(S, &G, NOW, &R), 0);
	if (R.v != SIPD_STREAM_DECIDE)
		assert_int_equal(R.n_items, 0);
	else
		assert_true(R.n_items > 0);
	return R.v;
}

/* The SYN (C2S) or SYN-ACK (S2C) before the direction's first data byte:
 * its base is known, its first bytes may come in any pieces. */
static void syn(int dir)
{
	assert_int_equal(seg(dir, (dir == C2S ? CISN : SISN) - 1, NULL, 0,
			     dir == C2S ? SIPD_TCP_SYN : SIPD_TCP_SYN | ACK),
			 SIPD_STREAM_PASS);
}

static int cs(uint32_t off, const char *str)
{
	return seg(C2S, CISN + off, str, strlen(str), ACK);
}

static struct sipd_stream_stats stats(void)
{
	struct sipd_stream_stats st;

	sipd_stream_get_stats(S, &st);
	return st;
}

static void assert_msg(unsigned int i, const char *want)
{
	assert_true(i < R.n_items);
	assert_int_equal(R.items[i].kind, SIPD_STREAM_MSG);
	assert_int_equal(R.items[i].len, strlen(want));
	assert_memory_equal(R.items[i].data, want, strlen(want));
}

static void assert_bad(unsigned int i, enum sw_sip_reason r, const char *detail_part)
{
	assert_true(i < R.n_items);
	assert_int_equal(R.items[i].kind, SIPD_STREAM_BAD);
	assert_int_equal(R.items[i].reason, r);
	if (detail_part && !strstr(R.items[i].detail, detail_part))
		fail_msg("detail \"%s\" lacks \"%s\"", R.items[i].detail, detail_part);
}

static char M1[512], M2[512], M3[512];

/* A request with a body of blen octets (and its Content-Length). */
static const char *mk(char *buf, const char *method, int n, size_t blen)
{
	char body[256];

	memset(body, 'v', blen);
	body[blen] = 0;
	if (blen >= 2) {
		body[blen - 2] = '\r';
		body[blen - 1] = '\n';
	}
	snprintf(buf, 512,
		 "%s sip:bob@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/TCP 10.0.0.1:40000;branch=z9hG4bK%d\r\n"
		 "Call-ID: %d@a\r\n"
		 "CSeq: %d %s\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 method, n, n, n, method, blen, body);
	return buf;
}

static void mk3(void)
{
	mk(M1, "INVITE", 1, 40);
	mk(M2, "OPTIONS", 2, 0);
	mk(M3, "MESSAGE", 3, 12);
}

static void test_one_segment(void **state)
{
	(void)state;
	mk3();
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	assert_int_equal(R.n_items, 1);
	assert_msg(0, M1);
	assert_int_equal(R.items[0].ws, 0);
	assert_int_equal(stats().messages, 1);
	assert_int_equal(stats().segments, 1);
	assert_int_equal(stats().conns, 1);
	assert_int_equal(stats().resync_octets, 0);
	/* a response the other way */
	const char *resp = "SIP/2.0 200 OK\r\nCall-ID: 1@a\r\nl: 0\r\n\r\n";
	assert_int_equal(seg(S2C, SISN, resp, strlen(resp), ACK), SIPD_STREAM_DECIDE);
	assert_msg(0, resp);
	assert_int_equal(stats().conns, 1);
}

static void test_byte_by_byte(void **state)
{
	size_t n;

	(void)state;
	mk3();
	n = strlen(M1);
	syn(C2S);
	for (size_t i = 0; i + 1 < n; i++)
		assert_int_equal(seg(C2S, CISN + (uint32_t)i, M1 + i, 1, ACK), SIPD_STREAM_PASS);
	assert_int_equal(seg(C2S, CISN + (uint32_t)n - 1, M1 + n - 1, 1, ACK), SIPD_STREAM_DECIDE);
	assert_int_equal(R.n_items, 1);
	assert_msg(0, M1);
	assert_int_equal(stats().out_of_order, 0);
}

static void test_several(void **state)
{
	char all[2048];
	size_t l1, l2, l3;

	(void)state;
	mk3();
	l1 = strlen(M1), l2 = strlen(M2), l3 = strlen(M3);
	snprintf(all, sizeof(all), "%s%s%s", M1, M2, M3);
	assert_int_equal(seg(C2S, CISN, all, l1 + l2 + 20, ACK), SIPD_STREAM_DECIDE);
	assert_int_equal(R.n_items, 2);
	assert_msg(0, M1);
	assert_msg(1, M2);
	assert_int_equal(
		seg(C2S, CISN + (uint32_t)(l1 + l2 + 20), all + l1 + l2 + 20, l3 - 20, ACK),
		SIPD_STREAM_DECIDE);
	assert_int_equal(R.n_items, 1);
	assert_msg(0, M3);
}

static void test_keepalive(void **state)
{
	char all[2048];

	(void)state;
	mk3();
	assert_int_equal(cs(0, "\r\n\r\n"), SIPD_STREAM_PASS);
	assert_int_equal(R.keepalives, 1);
	snprintf(all, sizeof(all), "%s\r\n%s\r\n\r\n", M1, M2);
	assert_int_equal(cs(4, all), SIPD_STREAM_DECIDE);
	assert_int_equal(R.n_items, 2);
	assert_msg(0, M1);
	assert_msg(1, M2);
	assert_int_equal(R.keepalives, 2);
	assert_int_equal(stats().keepalives, 3);
	assert_int_equal(stats().resync_octets, 0);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_UNFRAMED], 0);
}

static void test_out_of_order(void **state)
{
	size_t n;

	(void)state;
	mk3();
	n = strlen(M1);
	assert_int_equal(cs(0, "OPTIONS sip:a SIP/2.0\r\nl:0\r\n\r\n"), SIPD_STREAM_DECIDE);
	/* M1 in three pieces: last, middle, first */
	assert_int_equal(seg(C2S, CISN + 30 + 100, M1 + 100, n - 100, ACK), SIPD_STREAM_PASS);
	assert_int_equal(seg(C2S, CISN + 30 + 50, M1 + 50, 50, ACK), SIPD_STREAM_PASS);
	assert_int_equal(stats().out_of_order, 2);
	assert_true(stats().bytes_held >= n - 50);
	assert_int_equal(seg(C2S, CISN + 30, M1, 50, ACK), SIPD_STREAM_DECIDE);
	assert_int_equal(R.n_items, 1);
	assert_msg(0, M1);
}

static void test_retransmit_same(void **state)
{
	(void)state;
	mk3();
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	assert_int_equal(cs(0, M1), SIPD_STREAM_PASS);
	assert_int_equal(stats().retransmits, 1);
	assert_int_equal(stats().messages, 1);
	/* a part of it, too */
	assert_int_equal(seg(C2S, CISN + 10, M1 + 10, 20, ACK), SIPD_STREAM_PASS);
	assert_int_equal(stats().retransmits, 2);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_OVERLAP], 0);
}

static void test_retransmit_different(void **state)
{
	char evil[512];

	(void)state;
	mk3();
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	strcpy(evil, M1);
	evil[1] = 'X'; /* IXVITE */
	assert_int_equal(cs(0, evil), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_OVERLAP);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_OVERLAP], 1);
	/* old bytes with new ones after: still dropped whole */
	char both[1024];
	snprintf(both, sizeof(both), "%s%s", evil, M2);
	assert_int_equal(cs(0, both), SIPD_STREAM_DROP);
	assert_int_equal(stats().messages, 1);
	/* the same with the right old bytes: the new message is taken */
	snprintf(both, sizeof(both), "%s%s", M1, M2);
	assert_int_equal(cs(0, both), SIPD_STREAM_DECIDE);
	assert_int_equal(R.n_items, 1);
	assert_msg(0, M2);
}

static void test_overlap_ooo(void **state)
{
	char evil[512];
	size_t n;

	(void)state;
	mk3();
	n = strlen(M1);
	syn(C2S);
	assert_int_equal(seg(C2S, CISN + 60, M1 + 60, n - 60, ACK), SIPD_STREAM_PASS);
	strcpy(evil, M1);
	evil[70] ^= 1;
	/* the hole's bytes and other bytes where 60.. is held */
	assert_int_equal(seg(C2S, CISN, evil, 80, ACK), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_OVERLAP);
	/* nothing of it was taken: the right bytes complete the message */
	assert_int_equal(seg(C2S, CISN, M1, 60, ACK), SIPD_STREAM_DECIDE);
	assert_msg(0, M1);
}

static void test_unverified(void **state)
{
	char big[4096];
	size_t at = 0;

	(void)state;
	mk3();
	/* more than keep_bytes (2048) of messages */
	while (at + strlen(M1) < sizeof(big) - 1) {
		memcpy(big + at, M1, strlen(M1));
		at += strlen(M1);
	}
	assert_int_equal(seg(C2S, CISN, big, at, ACK), SIPD_STREAM_DECIDE);
	/* the first octets are out of the window: they cannot be compared,
	 * so they do not pass (an insertion would hide there) */
	assert_int_equal(seg(C2S, CISN, "XXXX", 4, ACK), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_UNVERIFIED);
	assert_int_equal(seg(C2S, CISN, big, 4, ACK), SIPD_STREAM_DROP);
	assert_int_equal(stats().unverified, 2);
	assert_int_equal(stats().dropped[SIPD_STREAM_DROP_UNVERIFIED], 2);
	/* old and new together: dropped whole, nothing of it taken */
	char mix[1024];
	memcpy(mix, big + at - 2100, 100);
	memcpy(mix + 100, M2, strlen(M2));
	assert_int_equal(seg(C2S, CISN + (uint32_t)at - 2100, mix, 100 + strlen(M2), ACK),
			 SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_UNVERIFIED);
	/* the 100 octets before `at' are kept: they must match */
	memset(mix, 'Y', 100);
	memcpy(mix + 100, M2, strlen(M2));
	assert_int_equal(seg(C2S, CISN + (uint32_t)at - 100, mix, 100 + strlen(M2), ACK),
			 SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_OVERLAP);
	memcpy(mix, big + at - 100, 100);
	assert_int_equal(seg(C2S, CISN + (uint32_t)at - 100, mix, 100 + strlen(M2), ACK),
			 SIPD_STREAM_DECIDE);
	assert_msg(0, M2);
}

static void test_keep_default(void **state)
{
	(void)state;
	/* a normal TCP window of retransmissions is still compared */
	assert_int_equal(SIPD_STREAM_KEEP_BYTES_DEFAULT, 32768);
}

static void bad_cl(const char *hdr, enum sw_sip_reason r, const char *detail)
{
	char m[1024];
	int n;

	mk3();
	n = snprintf(m, sizeof(m),
		     "INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: x\r\n%s\r\n\r\nbody\r\n%s",
		     hdr, M2);
	assert_int_equal(seg(C2S, CISN, m, (size_t)n, ACK), SIPD_STREAM_DECIDE);
	/* where the next message starts is unknown: no guess after it */
	assert_int_equal(R.n_items, 1);
	assert_bad(0, r, detail);
	assert_int_equal(stats().bad, 1);
	assert_int_equal(stats().resync_octets, 0);
	/* the direction is rejected by the module itself */
	assert_int_equal(cs((uint32_t)n, M3), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	assert_int_equal(stats().messages, 0);
}

static void test_cl_missing(void **state)
{
	(void)state;
	bad_cl("Max-Forwards: 70", SW_SIP_R_BAD_CONTENT_LENGTH, "no Content-Length on a stream");
}

static void test_cl_too_big(void **state)
{
	(void)state;
	bad_cl("Content-Length: 5000", SW_SIP_R_TOO_LARGE, "exceed");
}

static void test_cl_not_number(void **state)
{
	(void)state;
	bad_cl("content-length : 12a", SW_SIP_R_BAD_CONTENT_LENGTH, "not a number");
}

static void test_cl_negative(void **state)
{
	(void)state;
	bad_cl("l: -4", SW_SIP_R_BAD_CONTENT_LENGTH, "negative");
}

static void test_cl_overflow(void **state)
{
	(void)state;
	/* 2^64 + 4: wraps to 4 if read carelessly */
	bad_cl("Content-Length: 18446744073709551620", SW_SIP_R_TOO_LARGE, "Content-Length");
}

static void test_cl_duplicate(void **state)
{
	(void)state;
	bad_cl("Content-Length: 4\r\nl: 5", SW_SIP_R_BAD_CONTENT_LENGTH, "differ");
}

static void test_cl_duplicate_same(void **state)
{
	const char *m = "OPTIONS sip:a SIP/2.0\r\nContent-Length: 4\r\nL:4\r\n\r\nbody";

	(void)state;
	assert_int_equal(cs(0, m), SIPD_STREAM_DECIDE);
	assert_msg(0, m);
}

static void test_header_too_big(void **state)
{
	char m[6000];
	size_t n;

	(void)state;
	mk3();
	n = (size_t)snprintf(m, sizeof(m), "INVITE sip:a SIP/2.0\r\n");
	while (n < 4200)
		n += (size_t)snprintf(m + n, sizeof(m) - n, "X-Pad: %s\r\n",
				      "0123456789012345678901234567890123456789");
	assert_int_equal(seg(C2S, CISN, m, n, ACK), SIPD_STREAM_DECIDE);
	assert_int_equal(R.n_items, 1);
	assert_bad(0, SW_SIP_R_TOO_LARGE, "header block");
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_TOO_BIG], 1);
	/* the rest is never read: rejected */
	assert_int_equal(seg(C2S, CISN + (uint32_t)n, "X-Pad: 1\r\n\r\n", 12, ACK),
			 SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	assert_true(stats().bytes_held <= 2 * L.max_conn_bytes);
}

static void test_header_too_big_start_lines(void **state)
{
	static char m[7000];
	size_t n = 0;

	(void)state;
	/* a block of start lines only, longer than max_msg_len: one BAD, the
	 * lines inside it are not tried again (that would read the block
	 * once per line) */
	while (n < 6600)
		n += (size_t)snprintf(m + n, sizeof(m) - n, "INVITE sip:a SIP/2.0\r\n");
	assert_int_equal(seg(C2S, CISN, m, n, ACK), SIPD_STREAM_DECIDE);
	assert_int_equal(R.n_items, 1);
	assert_bad(0, SW_SIP_R_TOO_LARGE, "header block");
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_TOO_BIG], 1);
}

static void test_pickup(void **state)
{
	const char *tail = "z9hG4bK77\r\nCSeq: 5 INVITE\r\nContent-Length: 4\r\n\r\nab\r\n";

	(void)state;
	mk3();
	/* a restarted sipd sees the middle of a message first: the receiver
	 * holds its start, so nothing after may pass */
	assert_int_equal(cs(0, tail), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_UNFRAMED);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_UNFRAMED], 1);
	/* a message after it: never reached by a guess */
	assert_int_equal(cs((uint32_t)strlen(tail), M1), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	assert_int_equal(stats().messages, 0);
	assert_int_equal(stats().resync_octets, 0);
	/* the same mid-message bytes again: tried anew max_rejects (3) times
	 * all told, then the connection is reset */
	assert_int_equal(cs(0, tail), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_UNFRAMED);
	assert_int_equal(cs(0, tail), SIPD_STREAM_DROP);
	assert_int_equal(cs(0, tail), SIPD_STREAM_RESET);
	assert_int_equal(R.rst[1].seq, CISN);
}

static void test_pickup_at_boundary(void **state)
{
	(void)state;
	mk3();
	/* picked up between messages: keep-alives, then a start line */
	assert_int_equal(cs(0, "\r\n\r\n"), SIPD_STREAM_PASS);
	assert_int_equal(cs(4, M1), SIPD_STREAM_DECIDE);
	assert_msg(0, M1);
	/* a pickup in a start line cut short: no boundary is known */
	CPORT++;
	assert_int_equal(cs(0, "INVITE sip:bob@exa"), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_UNFRAMED);
	/* the sender sends it again whole: framed anew */
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	assert_msg(0, M1);
}

static void test_pickup_out_of_order(void **state)
{
	size_t n;

	(void)state;
	mk3();
	n = strlen(M1);
	/* the first segment seen is the second half; the first half comes
	 * after it, with a lower sequence number: the direction starts again
	 * there (what was held of the dropped one let go: it did not pass),
	 * and the second half, sent again, completes the message */
	assert_int_equal(seg(C2S, CISN + 70, M1 + 70, n - 70, ACK), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_UNFRAMED);
	NOW += SEC;
	assert_int_equal(seg(C2S, CISN, M1, 70, ACK), SIPD_STREAM_PASS);
	assert_int_equal(seg(C2S, CISN + 70, M1 + 70, n - 70, ACK), SIPD_STREAM_DECIDE);
	assert_int_equal(R.n_items, 1);
	assert_msg(0, M1);
	assert_int_equal(seg(C2S, CISN + 70, M1 + 70, n - 70, ACK), SIPD_STREAM_PASS);
	assert_int_equal(stats().retransmits, 1);
	assert_int_equal(stats().resync_octets, 0);
	/* the same, the message dropped: the reset's RST to the receiver is
	 * after what passed (the first half) */
	CPORT++;
	assert_int_equal(seg(C2S, CISN + 70, M1 + 70, n - 70, ACK), SIPD_STREAM_DROP);
	assert_int_equal(seg(C2S, CISN, M1, 70, ACK), SIPD_STREAM_PASS);
	assert_int_equal(seg(C2S, CISN + 70, M1 + 70, n - 70, ACK), SIPD_STREAM_DECIDE);
	sipd_stream_reject(S, &G, NOW);
	/* (the start again counted as one of max_rejects) */
	assert_int_equal(seg(C2S, CISN + 70, M1 + 70, n - 70, ACK), SIPD_STREAM_DROP);
	assert_int_equal(seg(C2S, CISN + 70, M1 + 70, n - 70, ACK), SIPD_STREAM_DROP);
	assert_int_equal(seg(C2S, CISN + 70, M1 + 70, n - 70, ACK), SIPD_STREAM_RESET);
	assert_int_equal(R.rst[1].seq, CISN + 70);
}

static void test_gap(void **state)
{
	size_t l1, l2, l3;

	(void)state;
	mk3();
	l1 = strlen(M1), l2 = strlen(M2), l3 = strlen(M3);
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	/* M2 is lost for good; M3 comes after the hole (held: passes) */
	assert_int_equal(cs((uint32_t)(l1 + l2), M3), SIPD_STREAM_PASS);
	assert_int_equal(stats().out_of_order, 1);
	NOW += 5 * SEC;
	sipd_stream_expire(S, NOW);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_GAP], 0);
	NOW += 6 * SEC;
	/* the hole is too old: M3 passed, so the direction is rejected from
	 * the hole on, never resynchronised past it */
	assert_int_equal(cs((uint32_t)(l1 + l2 + l3), M1), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_GAP], 1);
	/* M2, late: the hole's bytes never pass unframed */
	assert_int_equal(cs((uint32_t)l1, M2), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	assert_int_equal(cs((uint32_t)l1, M2), SIPD_STREAM_DROP);
	assert_int_equal(cs((uint32_t)l1, M2), SIPD_STREAM_RESET);
	assert_int_equal(R.rst[1].seq, CISN + l1);
	assert_int_equal(stats().messages, 1);
}

static void test_gap_by_expire(void **state)
{
	size_t l1, l2;

	(void)state;
	mk3();
	l1 = strlen(M1), l2 = strlen(M2);
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	assert_int_equal(cs((uint32_t)(l1 + 10), M2 + 10), SIPD_STREAM_PASS);
	assert_int_equal(cs((uint32_t)(l1 + l2), M3), SIPD_STREAM_PASS);
	assert_true(stats().bytes_held > 0);
	NOW += 11 * SEC;
	sipd_stream_expire(S, NOW);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_GAP], 1);
	/* the out-of-order bytes are let go, the direction rejected from the
	 * hole: the filler and anything after are dropped */
	assert_int_equal(cs((uint32_t)l1, M2), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	assert_int_equal(cs((uint32_t)(l1 + l2 + strlen(M3)), M1), SIPD_STREAM_DROP);
	/* M1 again, before the hole: still compared and passed */
	assert_int_equal(cs(0, M1), SIPD_STREAM_PASS);
	assert_int_equal(stats().retransmits, 1);
	assert_int_equal(stats().resync_octets, 0);
}

static void test_reject(void **state)
{
	size_t l1, l2;
	struct sipd_tcp_seg rej;

	(void)state;
	mk3();
	l1 = strlen(M1), l2 = strlen(M2);
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	assert_int_equal(cs((uint32_t)l1, M2), SIPD_STREAM_DECIDE);
	rej = G;
	sipd_stream_reject(S, &rej, NOW);
	/* M2 again (TCP retransmits it): dropped */
	assert_int_equal(cs((uint32_t)l1, M2), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	/* M1 again: wholly before the rejected octet, passes */
	assert_int_equal(cs(0, M1), SIPD_STREAM_PASS);
	/* a later segment: dropped too */
	assert_int_equal(cs((uint32_t)(l1 + l2), M3), SIPD_STREAM_DROP);
	assert_int_equal(cs((uint32_t)l1, M2), SIPD_STREAM_DROP);
	assert_int_equal(stats().rejected, 3);
	/* the other side is not rejected */
	const char *resp = "SIP/2.0 100 Trying\r\nl: 0\r\n\r\n";
	assert_int_equal(seg(S2C, SISN, resp, strlen(resp), ACK), SIPD_STREAM_DECIDE);
	/* max_rejects (3) drops had: the fourth resets */
	assert_int_equal(cs((uint32_t)l1, M2), SIPD_STREAM_RESET);
	assert_int_equal(stats().resets, 1);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_RESET], 1);
	/* to the sender: from the receiver, at what the sender expects next */
	assert_memory_equal(R.rst[0].key.saddr, G.key.daddr, 16);
	assert_memory_equal(R.rst[0].key.daddr, G.key.saddr, 16);
	assert_int_equal(R.rst[0].key.sport, G.key.dport);
	assert_int_equal(R.rst[0].key.dport, G.key.sport);
	/* the client got the 100 Trying (its segments' ack is older): what
	 * it expects next is after it */
	assert_int_equal(R.rst[0].seq, SISN + strlen(resp));
	/* to the receiver: its next expected is the rejected octet */
	assert_memory_equal(&R.rst[1].key, &G.key, sizeof(G.key));
	assert_int_equal(R.rst[1].seq, CISN + l1);
	/* killed: both sides dropped until idle */
	assert_int_equal(seg(S2C, SISN, resp, strlen(resp), ACK), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	assert_int_equal(cs(0, M1), SIPD_STREAM_DROP);
	assert_int_equal(stats().rejected, 5);
	/* a segment far from where the connection was: a new connection on
	 * the same ports (inline, no SYN is seen) */
	assert_int_equal(seg(C2S, 9000000, M1, strlen(M1), ACK), SIPD_STREAM_DECIDE);
	CPORT++;
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	rej = G;
	sipd_stream_reject(S, &rej, NOW);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cs(0, M1), SIPD_STREAM_DROP);
	assert_int_equal(cs(0, M1), SIPD_STREAM_RESET);
	/* idle, the killed connection is forgotten into a tombstone: its own
	 * stragglers still dropped, until idle again */
	NOW += 61 * SEC;
	sipd_stream_expire(S, NOW);
	assert_int_equal(stats().conns, 0);
	assert_int_equal(stats().tombstones, 2); /* and the other one, at a boundary */
	assert_int_equal(cs(0, M1), SIPD_STREAM_DROP);
	NOW += 61 * SEC;
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	assert_int_equal(stats().tombstones, 1); /* the boundary one */
}

static void test_syn_restart(void **state)
{
	(void)state;
	mk3();
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	assert_int_equal(seg(C2S, CISN + 1000, M2, 10, ACK), SIPD_STREAM_PASS); /* a hole */
	/* a SYN with another ISN while bytes are held (the endpoint answers
	 * it with a challenge ACK): state kept */
	assert_int_equal(seg(C2S, 5000000, NULL, 0, SIPD_TCP_SYN), SIPD_STREAM_PASS);
	assert_int_equal(stats().conns, 1);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_CLOSED], 0);
	assert_int_equal(seg(C2S, CISN + 1000, M2, 10, ACK), SIPD_STREAM_PASS);
	assert_int_equal(stats().retransmits, 1);
	/* a SYN with payload inside the connection: dropped, state kept */
	assert_int_equal(seg(C2S, 5000000, M2, strlen(M2), SIPD_TCP_SYN), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_SYN);
	assert_int_equal(stats().conns, 1);
	/* at a message boundary both ways, a SYN near where the connection is
	 * could set the base behind its receiver: ignored */
	CPORT++;
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	assert_int_equal(seg(C2S, CISN + 10, NULL, 0, SIPD_TCP_SYN), SIPD_STREAM_PASS);
	assert_int_equal(cs((uint32_t)strlen(M1), M2), SIPD_STREAM_DECIDE);
	/* one far from it (further than any window): port reuse, anew */
	assert_int_equal(seg(C2S, 0x40000000, NULL, 0, SIPD_TCP_SYN), SIPD_STREAM_PASS);
	assert_int_equal(stats().conns, 2);
	assert_int_equal(seg(C2S, 0x40000001, M2, 20, ACK), SIPD_STREAM_PASS);
	assert_int_equal(seg(C2S, 0x40000015, M2 + 20, strlen(M2) - 20, ACK), SIPD_STREAM_DECIDE);
	assert_msg(0, M2);
	/* the same SYN again is a retransmission */
	assert_int_equal(seg(C2S, 0x40000000, NULL, 0, SIPD_TCP_SYN), SIPD_STREAM_PASS);
	assert_int_equal(cs((uint32_t)strlen(M1), M3), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_UNVERIFIED);
	assert_int_equal(stats().resync_octets, 0);
}

static void test_rst(void **state)
{
	(void)state;
	mk3();
	assert_int_equal(seg(C2S, CISN, M1, 50, ACK), SIPD_STREAM_PASS);
	assert_int_equal(stats().conns, 1);
	/* not the next sequence number either side expects: ignored */
	assert_int_equal(seg(S2C, SISN + 7, NULL, 0, SIPD_TCP_RST), SIPD_STREAM_PASS);
	assert_int_equal(seg(C2S, CISN + 49, NULL, 0, SIPD_TCP_RST), SIPD_STREAM_PASS);
	assert_int_equal(stats().conns, 1);
	/* the server never sent payload: what the client acknowledged */
	assert_int_equal(seg(S2C, SISN, NULL, 0, SIPD_TCP_RST), SIPD_STREAM_PASS);
	assert_int_equal(stats().conns, 0);
	assert_int_equal(stats().bytes_held, 0);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_CLOSED], 1);
	/* the receiver of the reset may still hold half a message (the RST
	 * matched what its peer acknowledged, not what it sent itself): the
	 * rest of it is reset, not picked up */
	assert_int_equal(stats().tombstones, 1);
	assert_int_equal(seg(C2S, CISN + 50, M1 + 50, strlen(M1) - 50, ACK), SIPD_STREAM_RESET);
	/* a new connection on the ports is far from it */
	assert_int_equal(seg(C2S, 0x40000000, M1, strlen(M1), ACK), SIPD_STREAM_DECIDE);
	/* the client's exact next octet */
	CPORT++;
	assert_int_equal(seg(C2S, CISN, M1, 50, ACK), SIPD_STREAM_PASS);
	assert_int_equal(seg(C2S, CISN + 50, NULL, 0, SIPD_TCP_RST), SIPD_STREAM_PASS);
	assert_int_equal(stats().conns, 1);
}

static void test_fin(void **state)
{
	(void)state;
	mk3();
	assert_int_equal(seg(C2S, CISN, M1, strlen(M1), ACK | SIPD_TCP_FIN), SIPD_STREAM_DECIDE);
	assert_msg(0, M1);
	assert_int_equal(stats().conns, 1);
	/* nothing after the FIN is taken, nor passed */
	assert_int_equal(seg(C2S, CISN + (uint32_t)strlen(M1) + 1, M2, strlen(M2), ACK),
			 SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_AFTER_FIN);
	assert_int_equal(seg(C2S, CISN + (uint32_t)strlen(M1), M2, strlen(M2), ACK),
			 SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	/* a FIN not at the contiguous end is not recorded */
	assert_int_equal(seg(S2C, SISN, "SIP/2.0 100 Trying\r\nl: 0\r\n\r\n", 28, ACK),
			 SIPD_STREAM_DECIDE);
	assert_int_equal(seg(S2C, SISN + 33, NULL, 0, ACK | SIPD_TCP_FIN), SIPD_STREAM_PASS);
	assert_int_equal(stats().conns, 1);
	assert_int_equal(seg(S2C, SISN + 28, NULL, 0, ACK | SIPD_TCP_FIN), SIPD_STREAM_PASS);
	/* closed both ways, but the client's direction is rejected: a
	 * tombstone keeps dropping it */
	assert_int_equal(stats().conns, 0);
	assert_int_equal(stats().bytes_held, 0);
	assert_int_equal(stats().tombstones, 1);
	assert_int_equal(seg(C2S, CISN + (uint32_t)strlen(M1), M2, strlen(M2), ACK),
			 SIPD_STREAM_RESET);
	/* a clean close leaves where it ended: data after the FINs is still
	 * dropped (a FIN the receiver discarded), a new connection is not */
	CPORT++;
	assert_int_equal(seg(C2S, CISN, M1, strlen(M1), ACK | SIPD_TCP_FIN), SIPD_STREAM_DECIDE);
	assert_int_equal(seg(S2C, SISN, NULL, 0, ACK | SIPD_TCP_FIN), SIPD_STREAM_PASS);
	assert_int_equal(stats().conns, 0);
	assert_int_equal(stats().tombstones, 2);
	assert_int_equal(cs((uint32_t)strlen(M1), M2), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_AFTER_FIN);
	CPORT++;
	assert_int_equal(seg(C2S, CISN, M1, strlen(M1), ACK | SIPD_TCP_FIN), SIPD_STREAM_DECIDE);
	assert_int_equal(seg(S2C, SISN, NULL, 0, ACK | SIPD_TCP_FIN), SIPD_STREAM_PASS);
	assert_int_equal(seg(C2S, 0x40000000, M2, strlen(M2), ACK), SIPD_STREAM_DECIDE);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_CLOSED], 0);
}

static void test_fin_decide_rejected(void **state)
{
	(void)state;
	mk3();
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	assert_int_equal(seg(S2C, SISN, NULL, 0, ACK | SIPD_TCP_FIN), SIPD_STREAM_PASS);
	/* the last message with the last FIN: the caller drops it, so the
	 * connection is not over (nor forgotten before the verdict) */
	assert_int_equal(seg(C2S, CISN + (uint32_t)strlen(M1), M2, strlen(M2), ACK | SIPD_TCP_FIN),
			 SIPD_STREAM_DECIDE);
	assert_int_equal(stats().conns, 1);
	sipd_stream_reject(S, &G, NOW);
	assert_int_equal(seg(C2S, CISN + (uint32_t)strlen(M1), M2, strlen(M2), ACK | SIPD_TCP_FIN),
			 SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	for (int i = 0; i < 2; i++)
		seg(C2S, CISN + (uint32_t)strlen(M1), M2, strlen(M2), ACK | SIPD_TCP_FIN);
	assert_int_equal(seg(C2S, CISN + (uint32_t)strlen(M1), M2, strlen(M2), ACK | SIPD_TCP_FIN),
			 SIPD_STREAM_RESET);
	assert_int_equal(R.rst[1].seq, CISN + strlen(M1));
}

static void test_buffer_full_dir(void **state)
{
	static char far[2048];

	(void)state;
	mk3();
	memset(far, 'x', sizeof(far));
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	assert_int_equal(seg(C2S, CISN + 3000, far, 1000, ACK), SIPD_STREAM_PASS);
	/* beyond max_conn_bytes (16384) from the kept window: cannot be
	 * held, so it does not pass (TCP sends it again); nothing given up */
	assert_int_equal(seg(C2S, CISN + 17000, far, 1000, ACK), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_NO_ROOM);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_BUFFER_FULL], 1);
	assert_true(stats().bytes_held <= 2 * L.max_conn_bytes);
	/* the held bytes are kept: the hole's filler frames what it completes */
	assert_int_equal(cs((uint32_t)strlen(M1), M2), SIPD_STREAM_DECIDE);
	assert_msg(0, M2);
	assert_int_equal(seg(C2S, CISN + 3000, far, 1000, ACK), SIPD_STREAM_PASS);
	assert_int_equal(stats().retransmits, 1);
}

static void test_buffer_full_total(void **state)
{
	static char blob[3000];
	uint32_t h = (uint32_t)strlen("INVITE sip:a SIP/2.0\r\n");

	(void)state;
	teardown(NULL);
	L.max_total_bytes = 8192;
	setup_with();
	memset(blob, 'x', sizeof(blob));
	/* connections hold out-of-order bytes (after a hole, counted as
	 * held; the buffer's capacity is counted): the third passes the total */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(cs(0, "INVITE sip:a SIP/2.0\r\n"), SIPD_STREAM_PASS);
		assert_int_equal(seg(C2S, CISN + h + 100, blob, 3000, ACK),
				 i < 2 ? SIPD_STREAM_PASS : SIPD_STREAM_DROP);
		assert_true(stats().bytes_held <= L.max_total_bytes);
		CPORT++;
	}
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_NO_ROOM);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_BUFFER_FULL], 1);
	assert_int_equal(stats().conns, 3);
	/* in-order bytes of a new connection take the room of the least
	 * recently used: that one was mid-message, so it is rejected */
	static char big[1600];
	int bl =
		snprintf(big, sizeof(big), "OPTIONS sip:a SIP/2.0\r\nContent-Length: 1500\r\n\r\n");
	memset(big + bl, 'b', 1500);
	assert_int_equal(seg(C2S, CISN, big, (size_t)bl + 1500, ACK), SIPD_STREAM_DECIDE);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_BUFFER_FULL], 2);
	assert_true(stats().bytes_held <= L.max_total_bytes);
	CPORT = 40000;
	assert_int_equal(seg(C2S, CISN + h, "X: y\r\n", 6, ACK), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
}

static void test_table_full(void **state)
{
	(void)state;
	teardown(NULL);
	L.max_conns = 2;
	setup_with();
	mk3();
	/* three connections with half a message each */
	for (int i = 0; i < 3; i++) {
		CPORT = (uint16_t)(40000 + i);
		assert_int_equal(seg(C2S, CISN, M1, 50, ACK), SIPD_STREAM_PASS);
		NOW += SEC;
	}
	assert_int_equal(stats().conns, 2);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_TABLE_FULL], 1);
	assert_int_equal(stats().tombstones, 1);
	/* the first (least recently used) was evicted mid-message: its rest
	 * would complete a message nobody framed; it is reset instead */
	CPORT = 40000;
	assert_int_equal(seg(C2S, CISN + 50, M1 + 50, strlen(M1) - 50, ACK), SIPD_STREAM_RESET);
	assert_int_equal(R.rst[1].seq, CISN + 50);
	assert_int_equal(R.rst[0].seq, SISN);
	assert_int_equal(seg(C2S, CISN + 50, M1 + 50, strlen(M1) - 50, ACK), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	/* a start line does not revive it either */
	assert_int_equal(cs((uint32_t)strlen(M1), M2), SIPD_STREAM_DROP);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_TABLE_FULL], 1);
	/* the third completes */
	CPORT = 40002;
	assert_int_equal(seg(C2S, CISN + 50, M1 + 50, strlen(M1) - 50, ACK), SIPD_STREAM_DECIDE);
	assert_msg(0, M1);
	assert_int_equal(stats().conns, 2);
	/* after the reset, a SYN near the old connection changes nothing; a
	 * far one on the evicted one's ports is a new connection */
	CPORT = 40000;
	assert_int_equal(seg(C2S, CISN + 40, NULL, 0, SIPD_TCP_SYN), SIPD_STREAM_PASS);
	assert_int_equal(cs((uint32_t)strlen(M1), M2), SIPD_STREAM_DROP);
	assert_int_equal(seg(C2S, 0x3fffffff, NULL, 0, SIPD_TCP_SYN), SIPD_STREAM_PASS);
	/* (its entry took 40001's, which was mid-message: a tombstone too) */
	assert_int_equal(stats().tombstones, 1);
	assert_int_equal(seg(C2S, 0x40000000, M2, strlen(M2), ACK), SIPD_STREAM_DECIDE);
	CPORT = 40001;
	assert_int_equal(seg(C2S, CISN + 50, M1 + 50, strlen(M1) - 50, ACK), SIPD_STREAM_RESET);
}

static void test_table_full_at_boundary(void **state)
{
	char evil[1024];
	uint32_t l1;
	int n;

	(void)state;
	teardown(NULL);
	L.max_conns = 2;
	setup_with();
	mk3();
	l1 = (uint32_t)strlen(M1);
	/* evicted between messages: where it was is kept */
	for (int i = 0; i < 3; i++) {
		CPORT = (uint16_t)(40000 + i);
		assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	}
	assert_int_equal(stats().tombstones, 1);
	/* a segment that begins before where the receiver is cannot be the
	 * start of a pickup: the receiver would read from the boundary (an
	 * INVITE) what sipd would frame as a header line of an OPTIONS */
	CPORT = 40000;
	n = snprintf(evil, sizeof(evil), "OPTIONS sip:x SIP/2.0\r\nX-A: %.*s%s", (int)(40 - 28),
		     "aaaaaaaaaaaaaaaaaaaaa", M2);
	assert_int_equal(n, 40 + (int)strlen(M2));
	assert_int_equal(cs(l1 - 40, evil), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_UNVERIFIED);
	/* the connection goes on at its boundary, as it was */
	assert_int_equal(cs(l1, M2), SIPD_STREAM_DECIDE);
	assert_msg(0, M2);
	/* bytes after a hole there are held, as before the eviction */
	CPORT = 40001;
	assert_int_equal(cs(l1 + 10, M2 + 10), SIPD_STREAM_PASS);
	assert_int_equal(stats().out_of_order, 1);
	assert_int_equal(cs(l1, M2), SIPD_STREAM_DECIDE);
	assert_msg(0, M2);
}

static void test_idle(void **state)
{
	(void)state;
	mk3();
	assert_int_equal(seg(C2S, CISN, M1, 50, ACK), SIPD_STREAM_PASS);
	CPORT++;
	assert_int_equal(cs(0, M2), SIPD_STREAM_DECIDE);
	NOW += 59 * SEC;
	sipd_stream_expire(S, NOW);
	assert_int_equal(stats().conns, 2);
	NOW += 2 * SEC;
	sipd_stream_expire(S, NOW);
	assert_int_equal(stats().conns, 0);
	assert_int_equal(stats().bytes_held, 0);
	/* counted only for the one that lost bytes */
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_IDLE], 1);
}

static void test_wrap(void **state)
{
	uint32_t isn = 0xffffff80u;
	size_t n;

	(void)state;
	mk3();
	n = strlen(M1);
	/* the message crosses 2^32, pieces out of order */
	assert_int_equal(seg(C2S, isn, M1, 60, ACK), SIPD_STREAM_PASS);
	assert_int_equal(seg(C2S, isn + 120, M1 + 120, n - 120, ACK), SIPD_STREAM_PASS);
	assert_true(isn + 120 + (uint32_t)(n - 120) < isn); /* it wraps */
	assert_int_equal(seg(C2S, isn + 60, M1 + 60, 60, ACK), SIPD_STREAM_DECIDE);
	assert_msg(0, M1);
	assert_int_equal(seg(C2S, isn + (uint32_t)n, M2, strlen(M2), ACK), SIPD_STREAM_DECIDE);
	assert_msg(0, M2);
	/* a retransmission from before the wrap is recognised */
	assert_int_equal(seg(C2S, isn + 10, M1 + 10, 50, ACK), SIPD_STREAM_PASS);
	assert_int_equal(stats().retransmits, 1);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_BUFFER_FULL], 0);
}

/* ---- WebSocket ---- */

static const char *WS_GET = "GET /sip HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\n"
			    "Connection: Upgrade\r\nSec-WebSocket-Protocol: sip\r\n\r\n";
static const char *WS_101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			    "Connection: Upgrade\r\nSec-WebSocket-Protocol: sip\r\n\r\n";
static uint32_t COFF, SOFF; /* next octet of each direction */

/* A frame: fin, opcode, payload, masked or not; returns its length. */
static size_t frame(uint8_t *f, int fin, int op, const void *p, size_t n, int masked)
{
	static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
	size_t h = 2;

	f[0] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (n < 126) {
		f[1] = (uint8_t)n;
	} else {
		f[1] = 126;
		f[2] = (uint8_t)(n >> 8);
		f[3] = (uint8_t)n;
		h = 4;
	}
	if (masked) {
		f[1] |= 0x80;
		memcpy(f + h, key, 4);
		h += 4;
	}
	for (size_t i = 0; i < n; i++)
		f[h + i] = ((const uint8_t *)p)[i] ^ (masked ? key[i & 3] : 0);
	return h + n;
}

static int ws_send(int dir, const void *p, size_t n)
{
	uint32_t *off = dir == C2S ? &COFF : &SOFF;
	int v = seg(dir, (dir == C2S ? CISN : SISN) + *off, p, n, ACK);

	*off += (uint32_t)n;
	return v;
}

static void ws_open(void)
{
	WS = 1;
	COFF = SOFF = 0;
	assert_int_equal(ws_send(C2S, WS_GET, strlen(WS_GET)), SIPD_STREAM_PASS);
	assert_int_equal(ws_send(S2C, WS_101, strlen(WS_101)), SIPD_STREAM_PASS);
}

static const char *WS_SIP = "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;"
			    "branch=z9hG4bK1\r\nCall-ID: w@a\r\nCSeq: 1 REGISTER\r\n\r\n";

static void test_ws_masked_client(void **state)
{
	uint8_t f[1024];
	size_t n;

	(void)state;
	ws_open();
	n = frame(f, 1, 1, WS_SIP, strlen(WS_SIP), 1);
	assert_int_equal(ws_send(C2S, f, n), SIPD_STREAM_DECIDE);
	assert_int_equal(R.n_items, 1);
	assert_msg(0, WS_SIP);
	assert_int_equal(R.items[0].ws, 1);
	assert_int_equal(stats().ws_messages, 1);
}

static void test_ws_server(void **state)
{
	const char *resp = "SIP/2.0 200 OK\r\nCall-ID: w@a\r\n\r\n";
	uint8_t f[1024];
	size_t n;

	(void)state;
	ws_open();
	n = frame(f, 1, 2, resp, strlen(resp), 0);
	assert_int_equal(ws_send(S2C, f, n), SIPD_STREAM_DECIDE);
	assert_msg(0, resp);
	assert_int_equal(R.items[0].ws, 1);
	/* a masked frame from the server breaks RFC 6455 */
	n = frame(f, 1, 2, resp, strlen(resp), 1);
	assert_int_equal(ws_send(S2C, f, n), SIPD_STREAM_DECIDE);
	assert_bad(0, SW_SIP_R_BAD_PACKET, "server");
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_WS_PROTOCOL], 1);
}

static void test_ws_fragmented(void **state)
{
	uint8_t all[2048];
	size_t n = 0, len = strlen(WS_SIP), a = 40, b = 70;
	static const char ping[] = "hi";

	(void)state;
	ws_open();
	n += frame(all + n, 0, 1, WS_SIP, a, 1);
	n += frame(all + n, 1, 9, ping, 2, 1); /* a ping between fragments */
	n += frame(all + n, 0, 0, WS_SIP + a, b - a, 1);
	n += frame(all + n, 1, 0, WS_SIP + b, len - b, 1);
	/* over many segments of 1 to 3 octets */
	for (size_t i = 0; i < n;) {
		size_t k = 1 + i % 3;

		if (i + k > n)
			k = n - i;
		int v = ws_send(C2S, all + i, k);
		i += k;
		assert_int_equal(v, i == n ? SIPD_STREAM_DECIDE : SIPD_STREAM_PASS);
	}
	assert_int_equal(R.n_items, 1);
	assert_msg(0, WS_SIP);
	assert_int_equal(R.items[0].ws, 1);
	/* a CRLF message is a keep-alive */
	n = frame(all, 1, 1, "\r\n\r\n", 4, 1);
	assert_int_equal(ws_send(C2S, all, n), SIPD_STREAM_PASS);
	assert_int_equal(R.keepalives, 1);
}

static void test_ws_unmasked_client(void **state)
{
	uint8_t f[1024];
	size_t n;

	(void)state;
	ws_open();
	n = frame(f, 1, 1, WS_SIP, strlen(WS_SIP), 0);
	assert_int_equal(ws_send(C2S, f, n), SIPD_STREAM_DECIDE);
	assert_int_equal(R.n_items, 1);
	assert_bad(0, SW_SIP_R_BAD_PACKET, "unmasked");
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_WS_PROTOCOL], 1);
	assert_int_equal(stats().messages, 0);
}

static void test_ws_bad_frames(void **state)
{
	uint8_t f[1024];
	size_t n;

	(void)state;
	ws_open();
	n = frame(f, 1, 1, WS_SIP, strlen(WS_SIP), 1);
	f[0] |= 0x40; /* RSV1 */
	assert_int_equal(ws_send(C2S, f, n), SIPD_STREAM_DECIDE);
	assert_bad(0, SW_SIP_R_BAD_PACKET, "reserved");
	/* the server: a fragmented ping */
	n = frame(f, 0, 9, "x", 1, 0);
	assert_int_equal(ws_send(S2C, f, n), SIPD_STREAM_DECIDE);
	assert_bad(0, SW_SIP_R_BAD_PACKET, "control");
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_WS_PROTOCOL], 2);
}

static void test_ws_close(void **state)
{
	uint8_t f[1024];
	size_t n;

	(void)state;
	ws_open();
	n = frame(f, 1, 8, "\x03\xe8", 2, 1);
	assert_int_equal(ws_send(C2S, f, n), SIPD_STREAM_PASS);
	/* nothing may follow the close: dropped, the direction rejected */
	n = frame(f, 1, 1, WS_SIP, strlen(WS_SIP), 1);
	assert_int_equal(ws_send(C2S, f, n), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_UNFRAMED);
	COFF -= (uint32_t)n;
	assert_int_equal(ws_send(C2S, f, n), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	assert_int_equal(stats().messages, 0);
	assert_int_equal(stats().bad, 0);
	/* the server's side still reads its frames */
	n = frame(f, 1, 1, "SIP/2.0 200 OK\r\n\r\n", 18, 0);
	assert_int_equal(ws_send(S2C, f, n), SIPD_STREAM_DECIDE);
}

static void test_ws_not_101(void **state)
{
	const char *r401 = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n"
			   "Content-Length: 5\r\n\r\nnope\n";
	uint8_t f[1024];
	size_t n;

	(void)state;
	WS = 1;
	COFF = SOFF = 0;
	assert_int_equal(ws_send(C2S, WS_GET, strlen(WS_GET)), SIPD_STREAM_PASS);
	/* a 401 and its body, in two pieces */
	assert_int_equal(ws_send(S2C, r401, strlen(r401) - 3), SIPD_STREAM_PASS);
	assert_int_equal(ws_send(S2C, r401 + strlen(r401) - 3, 3), SIPD_STREAM_PASS);
	/* no upgrade: what follows is HTTP again, frames are not passed */
	n = frame(f, 1, 1, WS_SIP, strlen(WS_SIP), 1);
	assert_int_equal(ws_send(S2C, "<html>...</html>", 16), SIPD_STREAM_DECIDE);
	assert_bad(0, SW_SIP_R_BAD_PACKET, "handshake");
	assert_int_equal(ws_send(C2S, f, n), SIPD_STREAM_DECIDE);
	assert_bad(0, SW_SIP_R_BAD_PACKET, "handshake");
	/* the usual case: the GET again with credentials, then the 101 */
	CPORT++;
	COFF = SOFF = 0;
	assert_int_equal(ws_send(C2S, WS_GET, strlen(WS_GET)), SIPD_STREAM_PASS);
	assert_int_equal(ws_send(S2C, r401, strlen(r401)), SIPD_STREAM_PASS);
	assert_int_equal(ws_send(C2S, WS_GET, strlen(WS_GET)), SIPD_STREAM_PASS);
	assert_int_equal(ws_send(S2C, WS_101, strlen(WS_101)), SIPD_STREAM_PASS);
	assert_int_equal(ws_send(C2S, f, n), SIPD_STREAM_DECIDE);
	assert_msg(0, WS_SIP);
	/* a body without Content-Length cannot be followed */
	CPORT++;
	COFF = SOFF = 0;
	assert_int_equal(ws_send(C2S, WS_GET, strlen(WS_GET)), SIPD_STREAM_PASS);
	assert_int_equal(ws_send(S2C, "HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n", 48),
			 SIPD_STREAM_DECIDE);
	assert_bad(0, SW_SIP_R_BAD_PACKET, "Transfer-Encoding");
}

static void test_ws_no_handshake(void **state)
{
	uint8_t f[1024];
	size_t n;

	(void)state;
	WS = 1;
	COFF = 0;
	n = frame(f, 1, 1, WS_SIP, strlen(WS_SIP), 1);
	/* picked up: frames could be the middle of anything */
	assert_int_equal(ws_send(C2S, f, n), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_UNFRAMED);
	/* seen from the SYN: a handshake was due */
	CPORT++;
	COFF = 0;
	syn(C2S);
	assert_int_equal(ws_send(C2S, f, n), SIPD_STREAM_DECIDE);
	assert_bad(0, SW_SIP_R_BAD_PACKET, "handshake");
}

/* ---- regressions: bytes that reached the receiver unframed (review PoCs) ---- */

static const char *PB = "Via: SIP/2.0/TCP 1.2.3.4;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n"
			"To: <sip:b@x>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
			"Content-Length: 0\r\n\r\n";
static const char *PA = "INVITE sip:evil@x SIP/2.0\r\n";

/* poc.c 1: a fresh direction whose start line comes last, one octet short */
static void test_poc_fresh_start_line_last(void **state)
{
	uint32_t la = (uint32_t)strlen(PA);

	(void)state;
	assert_int_not_equal(cs(la, PB), SIPD_STREAM_PASS);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_UNFRAMED);
	/* (tried anew from there: a start line cut short) */
	assert_int_not_equal(seg(C2S, CISN, PA, la - 1, ACK), SIPD_STREAM_PASS);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_UNFRAMED);
	assert_int_not_equal(seg(C2S, CISN + la - 1, "\n", 1, ACK), SIPD_STREAM_PASS);
	assert_int_equal(stats().messages, 0);
	/* the whole start line, as the sender sends it again: held, then the
	 * rest sent again completes it */
	CPORT++;
	assert_int_equal(cs(la, PB), SIPD_STREAM_DROP);
	assert_int_equal(seg(C2S, CISN, PA, la, ACK), SIPD_STREAM_PASS);
	assert_int_equal(cs(la, PB), SIPD_STREAM_DECIDE);
	assert_int_equal(R.items[0].len, la + strlen(PB));
}

static uint32_t poc_established(void)
{
	char ok[512];

	snprintf(ok, sizeof(ok), "OPTIONS sip:x SIP/2.0\r\n%s", PB);
	assert_int_equal(cs(0, ok), SIPD_STREAM_DECIDE);
	return (uint32_t)strlen(ok);
}

/* poc.c 2: more out-of-order ranges than are held; then the hole filler */
static void test_poc_ooo_overflow(void **state)
{
	uint32_t s2, la = (uint32_t)strlen(PA), lb = (uint32_t)strlen(PB);
	int passed_unheld = 0;

	(void)state;
	s2 = poc_established();
	assert_int_equal(cs(s2 + la, PB), SIPD_STREAM_PASS); /* held */
	for (uint32_t i = 0; i < 33; i++) {
		int v = cs(s2 + la + lb + 2 + 2 * i, "x");

		if (i == 32 && v == SIPD_STREAM_PASS)
			passed_unheld = 1;
	}
	assert_false(passed_unheld);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_NO_ROOM);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_BUFFER_FULL], 2); /* 33rd, 34th range */
	/* the hole filler completes the INVITE held after it: its verdict */
	assert_int_equal(cs(s2, PA), SIPD_STREAM_DECIDE);
	assert_int_equal(R.items[0].kind, SIPD_STREAM_MSG);
	assert_int_equal(R.items[0].len, la + lb);
}

/* poc.c 3: the hole stays open past gap_ns; the filler comes after */
static void test_poc_gap_expiry(void **state)
{
	uint32_t s2, la = (uint32_t)strlen(PA), lb = (uint32_t)strlen(PB);

	(void)state;
	s2 = poc_established();
	assert_int_equal(cs(s2 + la, PB), SIPD_STREAM_PASS);
	NOW += 11 * SEC;
	assert_int_not_equal(cs(s2 + la + lb, "\r\n"), SIPD_STREAM_PASS);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	assert_int_not_equal(cs(s2, PA), SIPD_STREAM_PASS);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	assert_int_equal(stats().gave_up[SIPD_STREAM_GIVEUP_GAP], 1);
	assert_int_equal(stats().messages, 1);
}

/* poc2.c: lines at a message boundary that are almost start lines */
static void test_poc_strict_start_line(void **state)
{
	static const char *const lines[] = {
		"SIP/2.0 200\r\n",
		"INVITE sip:x SIP/2.0 \r\n",
		"INVITE\tsip:x\tSIP/2.0\r\n",
		"INVITE  sip:x SIP/2.0\r\n",
		" INVITE sip:x SIP/2.0\r\n",
	};
	char m[512];

	(void)state;
	for (unsigned int k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
		uint32_t at;

		CPORT = (uint16_t)(41000 + k);
		at = poc_established();
		snprintf(m, sizeof(m), "%s%s", lines[k], PB);
		assert_int_equal(cs(at, m), SIPD_STREAM_DECIDE);
		assert_int_equal(R.n_items, 1);
		assert_int_equal(R.items[0].kind, SIPD_STREAM_BAD);
		assert_int_equal(R.items[0].reason, SW_SIP_R_BAD_START_LINE);
		assert_true(R.items[0].detail[0] != 0);
		/* rejected by the module: nothing after it passes */
		assert_int_equal(cs(at + (uint32_t)strlen(m), "\r\n"), SIPD_STREAM_DROP);
	}
	assert_int_equal(stats().resync_octets, 0);
}

static void test_start_line_details(void **state)
{
	static const struct {
		const char *line, *why;
	} t[] = {
		{"SIP/2.0 200\r\n", "reason phrase"},
		{"INVITE sip:x SIP/2.0 \r\n", "trailing"},
		{"INVITE\tsip:x SIP/2.0\r\n", "tab"},
		{"INVITE  sip:x SIP/2.0\r\n", "two spaces"},
		{" INVITE sip:x SIP/2.0\r\n", "white space"},
		{"Via: SIP/2.0/TCP h\r\n", "not a SIP start line"},
		{"INVITE sip:x SIP/3.0\r\n", "version"},
		{"SIP/2.0 20x OK\r\n", "three-digit"},
	};
	char m[512];

	(void)state;
	for (unsigned int k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		CPORT = (uint16_t)(42000 + k);
		syn(C2S);
		snprintf(m, sizeof(m), "%s%s", t[k].line, PB);
		assert_int_equal(cs(0, m), SIPD_STREAM_DECIDE);
		assert_bad(0, SW_SIP_R_BAD_START_LINE, t[k].why);
	}
	/* RFC 3261 25.1: the Reason-Phrase may be empty (SP before it kept) */
	CPORT++;
	snprintf(m, sizeof(m), "SIP/2.0 200 \r\n%s", PB);
	assert_int_equal(cs(0, m), SIPD_STREAM_DECIDE);
	assert_msg(0, m);
	/* a partial start line at a known boundary is held (it completes
	 * nothing), one longer than the message limit is not */
	CPORT++;
	syn(C2S);
	static char longl[4200];
	memset(longl, 'A', sizeof(longl));
	assert_int_equal(seg(C2S, CISN, longl, 100, ACK), SIPD_STREAM_PASS);
	assert_int_equal(seg(C2S, CISN + 100, longl, 4100, ACK), SIPD_STREAM_DECIDE);
	assert_bad(0, SW_SIP_R_TOO_LARGE, "start line");
}

/* poc3.c: a RST with a sequence number the endpoint ignores, and a SYN
 * with payload inside the connection, must not wipe a rejection */
static void test_poc_rst_syn_keep_state(void **state)
{
	static const char *M = "INVITE sip:evil@x SIP/2.0\r\nVia: SIP/2.0/TCP 1.2.3.4;"
			       "branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n";
	struct sipd_tcp_seg rej;

	(void)state;
	assert_int_equal(cs(0, M), SIPD_STREAM_DECIDE);
	rej = G;
	sipd_stream_reject(S, &rej, NOW);
	assert_int_equal(cs(0, M), SIPD_STREAM_DROP);
	assert_int_equal(seg(C2S, 5000000, NULL, 0, SIPD_TCP_RST), SIPD_STREAM_PASS);
	assert_int_not_equal(cs(0, M), SIPD_STREAM_PASS);
	assert_int_not_equal(cs(0, M), SIPD_STREAM_DECIDE);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
	assert_int_not_equal(seg(C2S, 123, "x", 1, SIPD_TCP_SYN), SIPD_STREAM_PASS);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_SYN);
	assert_int_not_equal(cs(0, M), SIPD_STREAM_PASS);
	assert_int_not_equal(cs(0, M), SIPD_STREAM_DECIDE);
	assert_int_equal(stats().conns, 1);
}

/* poc4.c: the total byte bound is reached; a new connection's message */
static void test_poc_total_full_new_conn(void **state)
{
	static const char *M = "INVITE sip:evil@x SIP/2.0\r\nVia: SIP/2.0/TCP 1.2.3.4;"
			       "branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n";
	static char pad[1000];

	(void)state;
	teardown(NULL);
	L.max_total_bytes = 32768;
	setup_with();
	memset(pad, 'a', sizeof(pad));
	memcpy(pad, "X-Pad: ", 7);
	pad[998] = '\r';
	pad[999] = '\n';
	/* unfinished header blocks until the bound is reached */
	for (int c = 0; c < 14 && stats().bytes_held < L.max_total_bytes; c++) {
		CPORT = (uint16_t)(30000 + c);
		assert_int_equal(cs(0, "OPTIONS sip:x SIP/2.0\r\n"), SIPD_STREAM_PASS);
		for (uint32_t i = 0; i < 3; i++)
			seg(C2S, CISN + 23 + 1000 * i, pad, sizeof(pad), ACK);
	}
	CPORT = 40000;
	/* framed (an older connection's bytes taken for it), or dropped */
	assert_int_not_equal(cs(0, M), SIPD_STREAM_PASS);
	if (R.v == SIPD_STREAM_DECIDE)
		assert_msg(0, M);
	else
		assert_int_equal(R.drop_why, SIPD_STREAM_DROP_NO_ROOM);
	assert_true(stats().bytes_held <= L.max_total_bytes);
	assert_int_equal(stats().resync_octets, 0);
	/* the one robbed was mid-message: its next bytes are rejected */
	CPORT = 30000;
	assert_int_equal(seg(C2S, CISN + 3023, "\r\n", 2, ACK), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
}

/* poc5.c: a pure FIN the receiver may discard (PAWS), then data at its seq */
static void test_poc_data_after_fin(void **state)
{
	static const char *M = "INVITE sip:evil@x SIP/2.0\r\nVia: SIP/2.0/TCP 1.2.3.4;"
			       "branch=z9hG4bK2\r\nContent-Length: 0\r\n\r\n";
	uint32_t at;

	(void)state;
	at = poc_established();
	assert_int_equal(seg(C2S, CISN + at, NULL, 0, ACK | SIPD_TCP_FIN), SIPD_STREAM_PASS);
	assert_int_not_equal(cs(at, M), SIPD_STREAM_PASS);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_AFTER_FIN);
	assert_int_equal(cs(at, M), SIPD_STREAM_DROP);
	assert_int_equal(R.drop_why, SIPD_STREAM_DROP_REJECTED);
}

/* L1: the RSTs' sequence numbers */
static void test_reset_seqs(void **state)
{
	const char *resp = "SIP/2.0 100 Trying\r\nl: 0\r\n\r\n";
	char both[1024];
	size_t l1, l2;

	(void)state;
	mk3();
	l1 = strlen(M1), l2 = strlen(M2);
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	assert_int_equal(seg(S2C, SISN, resp, strlen(resp), ACK), SIPD_STREAM_DECIDE);
	/* M2 in a segment that begins with M1's last 10 octets again */
	snprintf(both, sizeof(both), "%s%s", M1 + l1 - 10, M2);
	assert_int_equal(cs((uint32_t)l1 - 10, both), SIPD_STREAM_DECIDE);
	assert_msg(0, M2);
	sipd_stream_reject(S, &G, NOW);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cs((uint32_t)l1 - 10, both), SIPD_STREAM_DROP);
	/* without ACK: its ack field means nothing */
	assert_int_equal(seg(C2S, CISN + (uint32_t)l1 - 10, both, 10 + l2, 0), SIPD_STREAM_RESET);
	/* the receiver has M1 whole: it expects the octet after it */
	assert_int_equal(R.rst[1].seq, CISN + l1);
	/* the client has the 100 Trying */
	assert_int_equal(R.rst[0].seq, SISN + strlen(resp));
}

/* M5: the buffers' capacity is what is counted */
static void test_memory_capacity(void **state)
{
	(void)state;
	mk3();
	assert_int_equal(cs(0, "INVITE sip:a SIP/2.0\r\n"), SIPD_STREAM_PASS);
	assert_int_equal(stats().bytes_held, 1024); /* the smallest buffer */
	CPORT++;
	assert_int_equal(cs(0, M1), SIPD_STREAM_DECIDE);
	assert_int_equal(stats().bytes_held, 2048); /* M1 is kept to compare */
	/* many connections cannot pass the total bound in memory */
	teardown(NULL);
	L.max_total_bytes = 10000;
	setup_with();
	for (int i = 0; i < 14; i++) {
		CPORT = (uint16_t)(43000 + i);
		seg(C2S, CISN, "INVITE sip:a SIP/2.0\r\n", 22, ACK);
		assert_true(stats().bytes_held <= L.max_total_bytes);
	}
	/* near the bound, buffers are allocated to the size needed */
	assert_true(stats().bytes_held > 9 * 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_by_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_several, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmit_same, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmit_different, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_ooo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unverified, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cl_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cl_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cl_not_number, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cl_negative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cl_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cl_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cl_duplicate_same, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_too_big_start_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pickup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pickup_at_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pickup_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_by_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fin_decide_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_full_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_full_total, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full_at_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ws_masked_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ws_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ws_fragmented, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ws_unmasked_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ws_bad_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ws_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ws_not_101, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ws_no_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poc_fresh_start_line_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poc_ooo_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poc_gap_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poc_strict_start_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_line_details, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poc_rst_syn_keep_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poc_total_full_new_conn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poc_data_after_fin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_seqs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_capacity, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
