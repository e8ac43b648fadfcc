// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd/reasm.c: IPv4 and IPv6 datagrams are built whole, split here the way
 * a router splits them, offered in various orders and compared octet for
 * octet with the original; every way of giving up is counted by name.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "sipd/reasm.h"

#define SEC   1000000000ULL
#define BIG   70000
#define SPORT 5060
#define DPORT 5062

static uint8_t whole[BIG], frag[BIG];

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void csum4(uint8_t *ip)
{
	uint32_t s = 0;

	ip[10] = ip[11] = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	put16(ip + 10, (uint16_t)~s);
}

static void udp(uint8_t *u, size_t plen, uint8_t seed)
{
	put16(u, SPORT);
	put16(u + 2, DPORT);
	put16(u + 4, (uint16_t)(8 + plen));
	u[6] = u[7] = 0;
	for (size_t i = 0; i < plen; i++)
		u[8 + i] = (uint8_t)(i * 7 + seed);
}

/* IPv4 10.0.0.1 -> 10.0.0.2, UDP with plen payload octets. */
static size_t mk4(size_t plen, uint8_t seed)
{
	static const uint8_t h[20] = {0x45, 0, 0,  0, 0, 0, 0,	0, 64, IPPROTO_UDP,
				      0,    0, 10, 0, 0, 1, 10, 0, 0,  2};

	memcpy(whole, h, 20);
	put16(whole + 2, (uint16_t)(20 + 8 + plen));
	csum4(whole);
	udp(whole + 20, plen, seed);
	return 20 + 8 + plen;
}

/* Fragment of whole: data octets [off, off+n) after the header, id id. */
static size_t frag4(uint16_t id, size_t off, size_t n, int more)
{
	memcpy(frag, whole, 20);
	put16(frag + 2, (uint16_t)(20 + n));
	put16(frag + 4, id);
	put16(frag + 6, (uint16_t)((more ? 0x2000 : 0) | off / 8));
	csum4(frag);
	memcpy(frag + 20, whole + 20 + off, n);
	return 20 + n;
}

/* IPv6 fd00::1 -> fd00::2 with, when ext, a Hop-by-Hop and a Destination
 * Options header (8 octets each) before UDP; returns the length, *unfrag
 * the unfragmentable part (fixed header and those extension headers). */
static size_t mk6(size_t plen, int ext, size_t *unfrag)
{
	static const uint8_t h[40] = {[0] = 0x60, [6] = IPPROTO_UDP, [7] = 64, [8] = 0xfd,
				      [23] = 1,	  [24] = 0xfd,	     [39] = 2};
	size_t off = 40;

	memcpy(whole, h, 40);
	if (ext) {
		whole[6] = IPPROTO_HOPOPTS;
		memcpy(whole + 40, "\x3c\x00\x01\x04\x00\x00\x00\x00", 8); /* -> DSTOPTS, PadN */
		memcpy(whole + 48, "\x11\x00\x01\x04\x00\x00\x00\x00", 8); /* -> UDP, PadN */
		off = 56;
	}
	*unfrag = off;
	udp(whole + off, plen, 3);
	put16(whole + 4, (uint16_t)(off - 40 + 8 + plen));
	return off + 8 + plen;
}

/* Fragment of whole (unfrag octets kept in front): the octet that named the
 * upper layer now names the Fragment header. */
static size_t frag6(size_t unfrag, uint32_t id, size_t off, size_t n, int more)
{
	size_t nh_at = unfrag == 40 ? 6 : unfrag - 8;
	uint8_t *fh = frag + unfrag;

	memcpy(frag, whole, unfrag);
	frag[nh_at] = IPPROTO_FRAGMENT;
	put16(frag + 4, (uint16_t)(unfrag - 40 + 8 + n));
	fh[0] = whole[nh_at];
	fh[1] = 0;
	put16(fh + 2, (uint16_t)(off | (more ? 1 : 0)));
	fh[4] = id >> 24;
	fh[5] = (id >> 16) & 0xff;
	fh[6] = (id >> 8) & 0xff;
	fh[7] = id & 0xff;
	memcpy(fh + 8, whole + unfrag + off, n);
	return unfrag + 8 + n;
}

static struct sipd_reasm *R;
static struct sipd_reasm_out O;

static int setup(void **state)
{
	(void)state;
	R = sipd_reasm_new(NULL);
	return R ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	sipd_reasm_free(R);
	R = NULL;
	return 0;
}

/* A table with other limits than the defaults. */
static void limit(const struct sipd_reasm_limits *l)
{
	sipd_reasm_free(R);
	R = sipd_reasm_new(l);
	assert_non_null(R);
}

static int add(size_t len, uint64_t now)
{
	return sipd_reasm_add(R, frag, len, now, &O);
}

static struct sipd_reasm_stats stats(void)
{
	struct sipd_reasm_stats s;

	sipd_reasm_get_stats(R, &s);
	return s;
}

static void assert_whole(size_t len)
{
	assert_int_equal(O.len, len);
	assert_memory_equal(O.ip, whole, len);
	assert_true(O.udp_known);
	assert_int_equal(O.sport, SPORT);
	assert_int_equal(O.dport, DPORT);
}

/* 3000 octets of UDP data in IPv4 fragments of 1480: 0, 1480, 2960. */
static const size_t OFF4[] = {0, 1480, 2960};
#define LEN4 3008 /* UDP header + 3000 */

static size_t piece4(unsigned int i, uint16_t id)
{
	size_t end = i == 2 ? LEN4 : OFF4[i] + 1480;

	return frag4(id, OFF4[i], end - OFF4[i], i < 2);
}

static void test_v4_in_order(void **state)
{
	size_t len = mk4(3000, 1);

	(void)state;
	assert_int_equal(add(piece4(0, 7), SEC), SIPD_REASM_HELD);
	assert_true(O.udp_known); /* the first fragment names the ports */
	assert_int_equal(O.dport, DPORT);
	assert_int_equal(add(piece4(1, 7), SEC), SIPD_REASM_HELD);
	assert_int_equal(stats().in_flight, 1);
	assert_int_equal(add(piece4(2, 7), SEC), SIPD_REASM_DONE);
	/* header fixed (MF/offset cleared, length, checksum): the original */
	put16(whole + 4, 7);
	csum4(whole);
	assert_whole(len);
	assert_int_equal(stats().reassembled, 1);
	assert_int_equal(stats().fragments, 3);
	assert_int_equal(stats().in_flight, 0);
}

static void test_v4_reverse(void **state)
{
	size_t len = mk4(3000, 2);

	(void)state;
	assert_int_equal(add(piece4(2, 8), SEC), SIPD_REASM_HELD);
	assert_false(O.udp_known); /* no first fragment yet */
	assert_int_equal(add(piece4(1, 8), SEC), SIPD_REASM_HELD);
	assert_int_equal(add(piece4(0, 8), SEC), SIPD_REASM_DONE);
	put16(whole + 4, 8);
	csum4(whole);
	assert_whole(len);
}

static void test_duplicate(void **state)
{
	size_t len = mk4(3000, 3);

	(void)state;
	assert_int_equal(add(piece4(1, 9), SEC), SIPD_REASM_HELD);
	assert_int_equal(add(piece4(0, 9), SEC), SIPD_REASM_HELD);
	assert_int_equal(add(piece4(1, 9), SEC), SIPD_REASM_HELD);
	assert_int_equal(add(piece4(0, 9), SEC), SIPD_REASM_HELD);
	assert_int_equal(add(piece4(2, 9), SEC), SIPD_REASM_DONE);
	put16(whole + 4, 9);
	csum4(whole);
	assert_whole(len);
	for (unsigned int i = 0; i < SIPD_REASM_DROP_MAX; i++)
		assert_int_equal(stats().dropped[i], 0);
}

/* [0, 1488) then [1480, 3008): 8 octets seen twice. */
static void test_overlap_same_bytes(void **state)
{
	size_t len = mk4(3000, 4);

	(void)state;
	assert_int_equal(add(frag4(10, 0, 1488, 1), SEC), SIPD_REASM_HELD);
	assert_int_equal(add(frag4(10, 1480, LEN4 - 1480, 0), SEC), SIPD_REASM_DONE);
	put16(whole + 4, 10);
	csum4(whole);
	assert_whole(len);
	assert_int_equal(stats().dropped[SIPD_REASM_DROP_OVERLAP], 0);
}

static void test_overlap_other_bytes(void **state)
{
	size_t n;

	(void)state;
	mk4(3000, 5);
	assert_int_equal(add(frag4(11, 0, 1488, 1), SEC), SIPD_REASM_HELD);
	n = frag4(11, 1480, LEN4 - 1480, 0);
	frag[20 + 3] ^= 0xff; /* inside the overlap: octet 1483 differs */
	assert_int_equal(add(n, SEC), SIPD_REASM_DROPPED);
	assert_true(O.udp_known); /* what the datagram was is still said */
	assert_int_equal(stats().dropped[SIPD_REASM_DROP_OVERLAP], 1);
	assert_int_equal(stats().in_flight, 0);
	assert_int_equal(stats().reassembled, 0);
	/* teardrop: the second fragment inside the first, other bytes */
	mk4(3000, 6);
	assert_int_equal(add(frag4(12, 0, 1480, 1), SEC), SIPD_REASM_HELD);
	n = frag4(12, 8, 16, 1);
	frag[20] ^= 1;
	assert_int_equal(add(n, SEC), SIPD_REASM_DROPPED);
	assert_int_equal(stats().dropped[SIPD_REASM_DROP_OVERLAP], 2);
}

static void test_timeout(void **state)
{
	(void)state;
	mk4(3000, 7);
	assert_int_equal(add(piece4(0, 13), SEC), SIPD_REASM_HELD);
	assert_int_equal(add(piece4(1, 13), 2 * SEC), SIPD_REASM_HELD);
	/* the last fragment never comes; a capture clock stepping back
	 * expires nothing */
	sipd_reasm_expire(R, 0);
	sipd_reasm_expire(R, SEC + SIPD_REASM_TIMEOUT_NS_DEFAULT - 1);
	assert_int_equal(stats().in_flight, 1);
	sipd_reasm_expire(R, SEC + SIPD_REASM_TIMEOUT_NS_DEFAULT);
	assert_int_equal(stats().dropped[SIPD_REASM_DROP_TIMEOUT], 1);
	assert_int_equal(stats().in_flight, 0);
	/* a late last fragment starts afresh, alone */
	assert_int_equal(add(piece4(2, 13), 40 * SEC), SIPD_REASM_HELD);
	/* and add() expires by itself too */
	assert_int_equal(add(piece4(0, 14), 71 * SEC), SIPD_REASM_HELD);
	assert_int_equal(stats().dropped[SIPD_REASM_DROP_TIMEOUT], 2);
	assert_int_equal(stats().reassembled, 0);
}

static void test_too_big(void **state)
{
	(void)state;
	mk4(3000, 8);
	assert_int_equal(add(piece4(0, 15), SEC), SIPD_REASM_HELD);
	/* offset 65512 + 40 octets: past 65,535 with its header */
	assert_int_equal(add(frag4(15, 65512, 40, 0), SEC), SIPD_REASM_DROPPED);
	assert_int_equal(stats().dropped[SIPD_REASM_DROP_TOO_BIG], 1);
	assert_int_equal(stats().in_flight, 0);
	/* the largest a 20-octet header allows still fits */
	assert_int_equal(add(frag4(16, 65496, 19, 0), SEC), SIPD_REASM_HELD);
	assert_int_equal(stats().dropped[SIPD_REASM_DROP_TOO_BIG], 1);
}

static void test_malformed(void **state)
{
	size_t n;

	(void)state;
	mk4(3000, 9);
	/* a non-last fragment of 1481 octets cannot be placed: dropped
	 * alone, the datagram still completes */
	assert_int_equal(add(frag4(17, 0, 1481, 1), SEC), SIPD_REASM_DROPPED);
	assert_int_equal(stats().dropped[SIPD_REASM_DROP_MALFORMED], 1);
	assert_int_equal(add(piece4(0, 17), SEC), SIPD_REASM_HELD);
	/* two last fragments that disagree on the end */
	assert_int_equal(add(frag4(17, 2960, 48, 0), SEC), SIPD_REASM_HELD);
	assert_int_equal(add(frag4(17, 2960, 40, 0), SEC), SIPD_REASM_DROPPED);
	assert_int_equal(stats().dropped[SIPD_REASM_DROP_MALFORMED], 2);
	assert_int_equal(stats().in_flight, 0);
	/* a header that cannot be read */
	n = frag4(18, 0, 8, 1);
	frag[0] = 0x4f;
	assert_int_equal(sipd_reasm_add(R, frag, 20, SEC, &O), SIPD_REASM_DROPPED);
	assert_int_equal(sipd_reasm_add(R, frag, 0, SEC, &O), SIPD_REASM_DROPPED);
	frag[0] = 0x45;
	assert_int_equal(sipd_reasm_add(R, frag, n - 1, SEC, &O), SIPD_REASM_DROPPED);
	assert_int_equal(stats().dropped[SIPD_REASM_DROP_MALFORMED], 5);
	assert_int_equal(stats().reassembled, 0);
}

static void test_table_full(void **state)
{
	struct sipd_reasm_limits l = {.max_datagrams = 2};

	(void)state;
	limit(&l);
	mk4(3000, 10);
	assert_int_equal(add(piece4(0, 21), SEC), SIPD_REASM_HELD);
	assert_int_equal(add(piece4(0, 22), SEC), SIPD_REASM_HELD);
	assert_int_equal(add(piece4(1, 21), 2 * SEC), SIPD_REASM_HELD);
	/* a third datagram evicts the one started first (21), even though
	 * it was touched last */
	assert_int_equal(add(piece4(0, 23), 3 * SEC), SIPD_REASM_HELD);
	assert_int_equal(stats().dropped[SIPD_REASM_DROP_TABLE_FULL], 1);
	assert_int_equal(stats().in_flight, 2);
	assert_int_equal(add(piece4(1, 22), 3 * SEC), SIPD_REASM_HELD);
	assert_int_equal(add(piece4(2, 22), 3 * SEC), SIPD_REASM_DONE);
	/* 21's last fragment finds 21 gone: it starts a datagram of its own */
	assert_int_equal(add(piece4(2, 21), 3 * SEC), SIPD_REASM_HELD);
	assert_int_equal(stats().reassembled, 1);
	assert_int_equal(stats().in_flight, 2);
}

static void test_too_many_fragments(void **state)
{
	struct sipd_reasm_limits l = {.max_fragments = 4};

	(void)state;
	limit(&l);
	mk4(3000, 11);
	for (int i = 0; i < 4; i++)
		assert_int_equal(add(frag4(24, (size_t)i * 8, 8, 1), SEC), SIPD_REASM_HELD);
	assert_int_equal(add(frag4(24, 32, 8, 1), SEC), SIPD_REASM_DROPPED);
	assert_int_equal(stats().dropped[SIPD_REASM_DROP_TOO_MANY_FRAGMENTS], 1);
	assert_int_equal(stats().in_flight, 0);
}

/* 2000 octets of UDP data in IPv6 fragments of 1232 (RFC 8200 minimum MTU). */
static void v6_pieces(int ext, int reverse)
{
	size_t unfrag, len = mk6(2000, ext, &unfrag);
	size_t n0, n1;

	/* the fragmentable part is UDP header + 2000 = 2008 octets */
	if (!reverse) {
		n0 = frag6(unfrag, 0xabcd0001, 0, 1232, 1);
		assert_int_equal(add(n0, SEC), SIPD_REASM_HELD);
		assert_true(O.udp_known);
		n1 = frag6(unfrag, 0xabcd0001, 1232, 2008 - 1232, 0);
		assert_int_equal(add(n1, SEC), SIPD_REASM_DONE);
	} else {
		n1 = frag6(unfrag, 0xabcd0001, 1232, 2008 - 1232, 0);
		assert_int_equal(add(n1, SEC), SIPD_REASM_HELD);
		n0 = frag6(unfrag, 0xabcd0001, 0, 1232, 1);
		assert_int_equal(add(n0, SEC), SIPD_REASM_DONE);
	}
	assert_whole(len);
}

static void test_v6(void **state)
{
	(void)state;
	v6_pieces(0, 0);
	v6_pieces(0, 1);
	assert_int_equal(stats().reassembled, 2);
}

static void test_v6_ext_headers(void **state)
{
	(void)state;
	v6_pieces(1, 0);
	assert_int_equal(O.ip[6], IPPROTO_HOPOPTS);
	assert_int_equal(O.ip[48], IPPROTO_UDP); /* Destination Options -> UDP again */
	v6_pieces(1, 1);
	assert_int_equal(stats().reassembled, 2);
}

static void test_v6_overlap(void **state)
{
	size_t unfrag, n;

	(void)state;
	mk6(2000, 0, &unfrag);
	assert_int_equal(add(frag6(unfrag, 5, 0, 1240, 1), SEC), SIPD_REASM_HELD);
	n = frag6(unfrag, 5, 1232, 2008 - 1232, 0);
	frag[unfrag + 8] ^= 0x55;
	assert_int_equal(add(n, SEC), SIPD_REASM_DROPPED);
	assert_int_equal(stats().dropped[SIPD_REASM_DROP_OVERLAP], 1);
	/* an IPv4 datagram with the same addresses' id is another key */
	mk4(3000, 12);
	assert_int_equal(add(piece4(0, 5), SEC), SIPD_REASM_HELD);
	assert_int_equal(stats().in_flight, 1);
}

static void test_v6_too_big(void **state)
{
	size_t unfrag;

	(void)state;
	mk6(2000, 1, &unfrag); /* 16 octets of extension headers count */
	assert_int_equal(add(frag6(unfrag, 6, 65512, 16, 0), SEC), SIPD_REASM_DROPPED);
	assert_int_equal(stats().dropped[SIPD_REASM_DROP_TOO_BIG], 1);
	mk6(2000, 0, &unfrag);
	assert_int_equal(add(frag6(unfrag, 6, 65512, 16, 0), SEC), SIPD_REASM_HELD);
}

/* Offset 0 without M: a whole datagram (RFC 6946), never mixed with the
 * fragments held under the same id. */
static void test_v6_atomic(void **state)
{
	size_t unfrag, len;

	(void)state;
	len = mk6(100, 1, &unfrag);
	assert_int_equal(add(frag6(unfrag, 7, 8, 8, 1), SEC), SIPD_REASM_HELD);
	assert_int_equal(add(frag6(unfrag, 7, 0, 108, 0), SEC), SIPD_REASM_DONE);
	assert_whole(len);
	assert_int_equal(stats().in_flight, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v4_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v4_reverse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_same_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_other_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6_ext_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6_atomic, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
