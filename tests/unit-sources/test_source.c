// SPDX-License-Identifier: GPL-2.0-only
/* sipd/source.c: SIP port lists and the UDP view every source relies on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sipd/source.h"

static void test_ports(void **state)
{
	struct sipd_ports p;

	(void)state;
	assert_int_equal(sipd_ports_parse("5060", &p), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.port[0], 5060);
	assert_int_equal(sipd_ports_parse("5060,5080,5060", &p), 0);
	assert_int_equal(p.n, 2);
	assert_true(sipd_ports_has(&p, 5080));
	assert_false(sipd_ports_has(&p, 5061));
	assert_int_equal(sipd_ports_parse("", &p), -EINVAL);
	assert_int_equal(sipd_ports_parse("0", &p), -EINVAL);
	assert_int_equal(sipd_ports_parse("65536", &p), -EINVAL);
	assert_int_equal(sipd_ports_parse("5060,", &p), -EINVAL);
	assert_int_equal(sipd_ports_parse("5060,,5061", &p), -EINVAL);
	assert_int_equal(sipd_ports_parse("50x0", &p), -EINVAL);
	assert_int_equal(sipd_ports_parse("-1", &p), -EINVAL);
	assert_int_equal(sipd_ports_parse("1,2,3,4,5,6,7,8,9", &p), -E2BIG);
}

/* IPv4 header (20 bytes) + UDP 5060 -> 5060 + payload "SIP" + 2 pad bytes. */
static size_t v4(uint8_t *b, uint8_t proto, uint16_t frag)
{
	static const uint8_t h[] = {0x45, 0, 0,	 31, 0, 1, 0,  0, 64, 17,
				    0,	  0, 10, 0,  0, 1, 10, 0, 0,  2};

	memcpy(b, h, 20);
	b[9] = proto;
	b[6] = frag >> 8;
	b[7] = frag & 0xff;
	memcpy(b + 20, "\x13\xc4\x13\xc4\x00\x0b\x00\x00SIP", 11);
	b[31] = b[32] = 0xee; /* link-layer padding after tot_len */
	return 33;
}

static void test_view_v4(void **state)
{
	struct sipd_udp_view v;
	uint8_t b[64];
	size_t n;

	(void)state;
	n = v4(b, 17, 0);
	assert_int_equal(sipd_udp_view(b, n, &v), 0);
	assert_int_equal(v.sport, 5060);
	assert_int_equal(v.dport, 5060);
	assert_int_equal(v.ip_len, 31); /* padding dropped */
	assert_int_equal(v.payload_len, 3);
	assert_memory_equal(v.payload, "SIP", 3);
	assert_false(v.is_fragment);
	assert_int_equal(v.saddr[10], 0xff); /* v4-mapped */
	assert_int_equal(v.saddr[15], 1);
	assert_int_equal(v.daddr[15], 2);

	n = v4(b, 17, 0x2000); /* MF, offset 0: first fragment */
	assert_int_equal(sipd_udp_view(b, n, &v), 0);
	assert_true(v.is_fragment);
	assert_true(v.first_fragment);
	assert_int_equal(v.dport, 5060);

	n = v4(b, 17, 0x0010); /* later fragment: no UDP header */
	assert_int_equal(sipd_udp_view(b, n, &v), 0);
	assert_true(v.is_fragment);
	assert_false(v.first_fragment);
	assert_int_equal(v.dport, 0);

	n = v4(b, 6, 0);
	assert_int_equal(sipd_udp_view(b, n, &v), -ENOENT);
	n = v4(b, 17, 0);
	assert_int_equal(sipd_udp_view(b, 25, &v), -EINVAL); /* shorter than tot_len */
	b[0] = 0x44;					     /* IHL 16 */
	assert_int_equal(sipd_udp_view(b, n, &v), -EINVAL);
	b[0] = 0x75;
	assert_int_equal(sipd_udp_view(b, n, &v), -EINVAL);
	assert_int_equal(sipd_udp_view(b, 0, &v), -EINVAL);
}

/* IPv6 with one extension header of type ext (-1 = none) before UDP. */
static size_t v6(uint8_t *b, int ext, uint16_t fragoff)
{
	size_t off = 40, plen;

	memset(b, 0, 40);
	b[0] = 0x60;
	b[8] = 0xfd;
	b[23] = 1;
	b[24] = 0xfd;
	b[39] = 2;
	if (ext >= 0) {
		b[6] = ext;
		memset(b + off, 0, 8);
		b[off] = 17;
		if (ext == 44) {
			b[off + 2] = fragoff >> 8;
			b[off + 3] = fragoff & 0xff;
		}
		off += 8;
	} else {
		b[6] = 17;
	}
	memcpy(b + off, "\x13\xc4\x27\x10\x00\x0b\x00\x00RTP", 11);
	plen = off + 11 - 40;
	b[4] = plen >> 8;
	b[5] = plen & 0xff;
	return off + 11;
}

static void test_view_v6(void **state)
{
	struct sipd_udp_view v;
	uint8_t b[96];
	size_t n;

	(void)state;
	n = v6(b, -1, 0);
	assert_int_equal(sipd_udp_view(b, n, &v), 0);
	assert_true(v.is_v6);
	assert_int_equal(v.dport, 10000);
	assert_memory_equal(v.payload, "RTP", 3);
	assert_int_equal(v.saddr[0], 0xfd);

	n = v6(b, 0, 0); /* hop-by-hop options */
	assert_int_equal(sipd_udp_view(b, n, &v), 0);
	assert_int_equal(v.sport, 5060);
	n = v6(b, 60, 0); /* destination options */
	assert_int_equal(sipd_udp_view(b, n, &v), 0);
	assert_int_equal(v.sport, 5060);

	n = v6(b, 44, 0x0001); /* fragment header, offset 0, M=1 */
	assert_int_equal(sipd_udp_view(b, n, &v), 0);
	assert_true(v.is_fragment);
	assert_true(v.first_fragment);
	assert_int_equal(v.dport, 10000);

	n = v6(b, 44, 0x0100); /* offset 32: later fragment */
	assert_int_equal(sipd_udp_view(b, n, &v), 0);
	assert_true(v.is_fragment);
	assert_false(v.first_fragment);

	n = v6(b, -1, 0);
	b[6] = 58; /* ICMPv6 */
	assert_int_equal(sipd_udp_view(b, n, &v), -ENOENT);
	n = v6(b, -1, 0);
	assert_int_equal(sipd_udp_view(b, 39, &v), -EINVAL);
	assert_int_equal(sipd_udp_view(b, n - 1, &v), -EINVAL); /* payload length lies */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_view_v4),
		cmocka_unit_test(test_view_v6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
