// SPDX-License-Identifier: GPL-2.0-only
/* cmocka unit tests for lib/addr.c: address/endpoint parsing and formatting. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/swmap.h"

static void roundtrip(const char *in, const char *want)
{
	uint8_t a[16];
	char buf[64];

	assert_int_equal(sw_addr_parse(in, a), 0);
	sw_addr_format(a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_addr_v4(void **state)
{
	static const uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
	uint8_t a[16];

	(void)state;
	assert_int_equal(sw_addr_parse("192.0.2.1", a), 0);
	assert_memory_equal(a, want, 16);
	assert_true(sw_addr_is_v4(a));
	roundtrip("10.0.0.255", "10.0.0.255");
	roundtrip("0.0.0.0", "0.0.0.0");
}

static void test_addr_v6(void **state)
{
	uint8_t a[16];

	(void)state;
	assert_int_equal(sw_addr_parse("2001:db8::1", a), 0);
	assert_false(sw_addr_is_v4(a));
	assert_int_equal(a[0], 0x20);
	assert_int_equal(a[15], 1);
	roundtrip("2001:DB8:0:0:0:0:0:1", "2001:db8::1");
	roundtrip("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"); /* RFC 5952 4.2.2 */
	roundtrip("2001:0:0:1:0:0:0:1", "2001:0:0:1::1");	   /* longest run */
	roundtrip("::1", "::1");
	roundtrip("::", "::");
	roundtrip("fd00::10", "fd00::10");
}

static void test_addr_v4mapped(void **state)
{
	uint8_t a[16], b[16];

	(void)state;
	/* Written as v4-mapped v6 it is the same key as the dotted quad. */
	assert_int_equal(sw_addr_parse("::ffff:192.0.2.7", a), 0);
	assert_int_equal(sw_addr_parse("192.0.2.7", b), 0);
	assert_memory_equal(a, b, 16);
	roundtrip("::ffff:192.0.2.7", "192.0.2.7");
	roundtrip("::ffff:c000:0207", "192.0.2.7");
}

static void test_addr_bad(void **state)
{
	static const char *const bad[] = {
		"",	     "1.2.3",	     "1.2.3.4.5",    "256.1.1.1",
		"1.2.3.4 ",  " 1.2.3.4",     "[::1]",	     "2001:db8::1::2",
		"::g",	     "fe80::1%eth0", "host.example", "1.2.3.4:80",
		"01.2.3.4x",
	};
	uint8_t a[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sw_addr_parse(bad[i], a) != -EINVAL)
			fail_msg("accepted bad address '%s'", bad[i]);
	}
	assert_int_equal(sw_addr_parse(NULL, a), -EINVAL);
}

static void endpoint(const char *in, int opt, const char *want_addr, uint16_t want_port)
{
	uint8_t a[16];
	uint16_t port = 0xdead;
	char buf[64];

	if (sw_endpoint_parse(in, a, &port, opt) != 0)
		fail_msg("rejected good endpoint '%s'", in);
	sw_addr_format(a, buf, sizeof(buf));
	assert_string_equal(buf, want_addr);
	assert_int_equal(port, want_port);
}

static void test_endpoint_good(void **state)
{
	(void)state;
	endpoint("192.0.2.1:4000", 0, "192.0.2.1", 4000);
	endpoint("[2001:db8::1]:4000", 0, "2001:db8::1", 4000);
	endpoint("[::ffff:10.1.2.3]:65535", 0, "10.1.2.3", 65535);
	endpoint("10.0.0.1:1", 0, "10.0.0.1", 1);
	/* Port optional: bare forms give port 0. */
	endpoint("192.0.2.1", 1, "192.0.2.1", 0);
	endpoint("[2001:db8::1]", 1, "2001:db8::1", 0);
	endpoint("2001:db8::1", 1, "2001:db8::1", 0);
	endpoint("192.0.2.1:5060", 1, "192.0.2.1", 5060);
}

static void test_endpoint_bad(void **state)
{
	static const struct {
		const char *s;
		int opt;
	} bad[] = {
		{"192.0.2.1", 0},	 /* port required */
		{"[2001:db8::1]", 0},	 /* port required */
		{"2001:db8::1", 0},	 /* bare v6 has no port */
		{"2001:db8::1:4000", 0}, /* ambiguous without brackets */
		{"192.0.2.1:0", 0},
		{"192.0.2.1:0", 1},
		{"192.0.2.1:65536", 0},
		{"192.0.2.1:123456", 0},
		{"192.0.2.1:", 1},
		{"192.0.2.1:-1", 0},
		{"192.0.2.1:80x", 0},
		{"192.0.2.1: 80", 0},
		{":80", 0},
		{"[192.0.2.1]:80", 0}, /* brackets are for v6 */
		{"[2001:db8::1", 1},
		{"[2001:db8::1]4000", 0},
		{"[2001:db8::1]:", 0},
		{"[]:80", 0},
		{"[::1]:80:90", 0},
		{"", 1},
		{"300.1.1.1:80", 0},
	};
	uint8_t a[16];
	uint16_t port;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sw_endpoint_parse(bad[i].s, a, &port, bad[i].opt) == 0)
			fail_msg("accepted bad endpoint '%s' (port_optional=%d)", bad[i].s,
				 bad[i].opt);
	}
}

static void test_format_short_buffer(void **state)
{
	uint8_t a[16];
	char buf[8];

	(void)state;
	assert_int_equal(sw_addr_parse("2001:db8::1234", a), 0);
	memset(buf, 'x', sizeof(buf));
	sw_addr_format(a, buf, sizeof(buf));
	assert_int_equal(buf[7], '\0');
	assert_string_equal(buf, "2001:db");
}

static void test_names(void **state)
{
	unsigned int c;

	(void)state;
	assert_string_equal(sw_reason_name(SW_R_PASSED_PINHOLE), "passed_pinhole");
	assert_string_equal(sw_reason_name(SW_R_DROPPED_BAD_SOURCE), "dropped_bad_source");
	assert_string_equal(sw_reason_name(SW_R_DROPPED_VLAN_DEPTH), "dropped_vlan_depth");
	assert_string_equal(sw_reason_name(SW_R_DROPPED_FRAG_HEADER_CHAIN),
			    "dropped_frag_header_chain");
	assert_string_equal(sw_reason_name(SW_R_MAX), "?");
	assert_string_equal(sw_sip_reason_name(SW_SIP_R_ACCEPTED), "accepted");
	assert_string_equal(sw_sip_reason_name(SW_SIP_R_MAX), "?");
	assert_int_equal(sw_check_parse("symmetric", &c), 0);
	assert_int_equal(c, SW_CHECK_SYMMETRIC);
	assert_string_equal(sw_check_name(SW_CHECK_ADDRESS), "address");
	assert_int_equal(sw_check_parse("Strict", &c), -EINVAL);
	assert_string_equal(sw_check_name(7), "?");
}

static void test_fnv(void **state)
{
	(void)state;
	/* Published FNV-1a 64 test vectors. */
	assert_true(sw_fnv1a64("", 0) == 0xcbf29ce484222325ULL);
	assert_true(sw_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
	assert_true(sw_fnv1a64("foobar", 6) == 0x85944171f73967e8ULL);
}

static void test_key_init(void **state)
{
	struct sw_pinhole_key k;
	uint8_t a[16];

	(void)state;
	assert_int_equal(sw_addr_parse("10.0.0.1", a), 0);
	memset(&k, 0xaa, sizeof(k));
	sw_pinhole_key_init(&k, a, 0x1234);
	assert_memory_equal(k.addr, a, 16);
	assert_int_equal(((uint8_t *)&k.port)[0], 0x12); /* network order */
	assert_int_equal(k.proto, 17);
	assert_int_equal(k.pad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_v4),
		cmocka_unit_test(test_addr_v6),
		cmocka_unit_test(test_addr_v4mapped),
		cmocka_unit_test(test_addr_bad),
		cmocka_unit_test(test_endpoint_good),
		cmocka_unit_test(test_endpoint_bad),
		cmocka_unit_test(test_format_short_buffer),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_fnv),
		cmocka_unit_test(test_key_init),
	};

	return cmocka_run_group_tests_name("lib-addr", tests, NULL, NULL);
}
