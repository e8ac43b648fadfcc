// SPDX-License-Identifier: GPL-2.0-only
/* The replicated record's codec (sipd/clrec.c): round trips, one spelling,
 * and every mutation of a good record refused or parsed back the same. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "common.h"
#include "lib/swmap.h"
#include "sipd/clrec.h"

static void ph_value(struct sw_pinhole_key *k, struct sw_pinhole *v)
{
	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	assert_int_equal(sw_addr_parse("10.201.2.2", k->addr), 0);
	k->port = htons(16000);
	k->proto = IPPROTO_UDP;
	assert_int_equal(sw_addr_parse("10.201.1.2", v->src[0].addr), 0);
	v->src[0].port = htons(6000);
	v->src[0].check = SW_CHECK_STRICT;
	v->src[0].flags = SW_SRC_ACTIVE;
	assert_int_equal(sw_addr_parse("2001:db8::7", v->src[2].addr), 0);
	v->src[2].check = SW_CHECK_ADDRESS;
	v->src[2].flags = SW_SRC_ACTIVE;
	v->call_hash = 0x0123456789abcdefULL;
	snprintf(v->call_id, sizeof(v->call_id), "a84b4c76e66710@pc33");
	v->kind = SW_KIND_RTCP;
	v->media = SW_MEDIA_AUDIO;
	v->media_idx = 1;
	v->side = 1;
	v->packets = 99; /* counters never travel */
}

static void stamp(struct clrec *r)
{
	snprintf(r->owner, sizeof(r->owner), "node-a");
	r->epoch = 1700000000000000ULL;
	r->seq = 42;
	r->ttl_ms = 3600000;
}

static void t_ph_round_trip(void **st)
{
	struct sw_pinhole_key k, k2;
	struct sw_pinhole v, v2;
	struct clrec r, back;
	char buf[CLREC_MAX_LEN + 1];
	int n;

	(void)st;
	ph_value(&k, &v);
	memset(&r, 0, sizeof(r));
	clrec_from_ph(&r, &k, &v);
	stamp(&r);
	n = clrec_format(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(clrec_parse(buf, (size_t)n, &back), CLREC_E_OK);
	assert_int_equal(back.type, CLREC_PH);
	assert_string_equal(back.owner, "node-a");
	assert_int_equal(back.seq, 42);
	assert_int_equal(back.nsrc, 2);
	assert_string_equal(back.call_id, "a84b4c76e66710@pc33");
	clrec_to_ph(&back, &k2, &v2, 5);
	assert_memory_equal(&k, &k2, sizeof(k));
	assert_memory_equal(v2.src[0].addr, v.src[0].addr, 16);
	assert_memory_equal(v2.src[1].addr, v.src[2].addr, 16); /* packed */
	assert_int_equal(v2.src[1].check, SW_CHECK_ADDRESS);
	assert_int_equal(v2.call_hash, v.call_hash);
	assert_int_equal(v2.kind, SW_KIND_RTCP);
	assert_int_equal(v2.media, SW_MEDIA_AUDIO);
	assert_int_equal(v2.side, 1);
	assert_int_equal(v2.packets, 0);
	assert_int_equal(v2.created_ns, 5);
}

static void t_close_and_ban(void **st)
{
	struct clrec r = {0}, back;
	char buf[CLREC_MAX_LEN + 1];
	int n;

	(void)st;
	r.type = CLREC_PH_CLOSE;
	stamp(&r);
	assert_int_equal(sw_addr_parse("2001:db8::1", r.addr), 0);
	r.port = 20000;
	r.call_hash = 7;
	snprintf(r.closer, sizeof(r.closer), "node-b");
	n = clrec_format(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(clrec_parse(buf, (size_t)n, &back), CLREC_E_OK);
	assert_string_equal(back.closer, "node-b");
	assert_int_equal(back.call_hash, 7);

	memset(&r, 0, sizeof(r));
	r.type = CLREC_BAN;
	stamp(&r);
	assert_int_equal(sw_addr_parse("198.51.100.0", r.addr), 0);
	r.plen = 96 + 24;
	r.reason = 1;
	n = clrec_format(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(clrec_parse(buf, (size_t)n, &back), CLREC_E_OK);
	assert_int_equal(back.plen, 120);
	/* host bits beyond the prefix: another spelling */
	r.addr[15] = 1;
	assert_int_equal(clrec_format(&r, buf, sizeof(buf)), -1);
}

static int P(const char *s)
{
	struct clrec r;

	return clrec_parse(s, strlen(s), &r);
}

#define K  "0000000000000000000000ff0ac90202.16000"
#define S0 "0000000000000000000000ff0ac90102.6000.0.1"

static void t_strict(void **st)
{
	(void)st;
	assert_int_equal(P("swc1 ph a 1 2 1000 " K " 0 1 0 0 0123456789abcdef 1 " S0 " -"),
			 CLREC_E_OK);
	assert_int_equal(P("swc2 ph a 1 2 1000 " K " 0 1 0 0 0123456789abcdef 1 " S0 " -"),
			 CLREC_E_VERSION);
	assert_int_equal(P("swc1 pin a 1 2 1000"), CLREC_E_TYPE);
	/* two spaces, trailing space, leading zero, upper-case hex, sign */
	assert_int_equal(P("swc1 ph a 1  2 1000 " K " 0 1 0 0 0123456789abcdef 1 " S0 " -"),
			 CLREC_E_FIELDS);
	assert_int_equal(P("swc1 ph a 1 2 1000 " K " 0 1 0 0 0123456789abcdef 1 " S0 " - "),
			 CLREC_E_FIELDS);
	assert_int_equal(P("swc1 ph a 01 2 1000 " K " 0 1 0 0 0123456789abcdef 1 " S0 " -"),
			 CLREC_E_FIELD);
	assert_int_equal(P("swc1 ph a 1 2 1000 " K " 0 1 0 0 0123456789ABCDEF 1 " S0 " -"),
			 CLREC_E_FIELD);
	assert_int_equal(P("swc1 ph a 1 +2 1000 " K " 0 1 0 0 0123456789abcdef 1 " S0 " -"),
			 CLREC_E_FIELD);
	/* ranges: ttl 0, kind manual, no sources, hash 0, inactive source */
	assert_int_equal(P("swc1 ph a 1 2 0 " K " 0 1 0 0 0123456789abcdef 1 " S0 " -"),
			 CLREC_E_RANGE);
	assert_int_equal(P("swc1 ph a 1 2 1000 " K " 3 1 0 0 0123456789abcdef 1 " S0 " -"),
			 CLREC_E_RANGE);
	assert_int_equal(P("swc1 ph a 1 2 1000 " K " 0 1 0 0 0123456789abcdef 0 -"), CLREC_E_RANGE);
	assert_int_equal(P("swc1 ph a 1 2 1000 " K " 0 1 0 0 0000000000000000 1 " S0 " -"),
			 CLREC_E_RANGE);
	assert_int_equal(P("swc1 ph a 1 2 1000 " K " 0 1 0 0 0123456789abcdef 1 "
			   "0000000000000000000000ff0ac90102.6000.0.0 -"),
			 CLREC_E_RANGE);
	/* source count disagrees with the sources */
	assert_int_equal(P("swc1 ph a 1 2 1000 " K " 0 1 0 0 0123456789abcdef 2 " S0 " -"),
			 CLREC_E_FIELDS);
	/* bad node id, control bytes, a non-printable Call-ID */
	assert_int_equal(P("swc1 ph a/b 1 2 1000 " K " 0 1 0 0 0123456789abcdef 1 " S0 " -"),
			 CLREC_E_FIELD);
	assert_int_equal(P("swc1 ph a 1 2 1000\t" K " 0 1 0 0 0123456789abcdef 1 " S0 " -"),
			 CLREC_E_FIELD);
	assert_int_equal(P("swc1 ph a 1 2 1000 " K " 0 1 0 0 0123456789abcdef 1 " S0 " 410a"),
			 CLREC_E_RANGE);
	assert_int_equal(P("swc1 phx a 1 2 1000 " K " 0123456789abcdef b"), CLREC_E_OK);
	assert_int_equal(P("swc1 phx a 1 2 1000 " K " 0123456789abcdef"), CLREC_E_FIELDS);
	assert_int_equal(P("swc1 ban a 1 2 1000 0000000000000000000000ffc6336400 120 1"),
			 CLREC_E_OK);
	assert_int_equal(P("swc1 ban a 1 2 1000 0000000000000000000000ffc6336400 24 1"),
			 CLREC_E_RANGE);
	assert_int_equal(P("swc1 ban a 1 2 1000 0000000000000000000000ffc6336400 120 99"),
			 CLREC_E_RANGE);
	assert_int_equal(P(""), CLREC_E_FIELDS);
	{
		char big[CLREC_MAX_LEN + 10];

		memset(big, 'a', sizeof(big));
		assert_int_equal(clrec_parse(big, sizeof(big), &(struct clrec){0}),
				 CLREC_E_TOO_LONG);
	}
}

/* Mutations of good records (byte flips, truncations, insertions): each is
 * refused with a named reason or parses to a record that formats back to
 * exactly the mutated text (one spelling). Never a crash (ASan run). */
static void t_mutations(void **st)
{
	const char *good[] = {
		"swc1 ph a 1 2 1000 " K " 0 1 0 0 0123456789abcdef 1 " S0 " 6162",
		"swc1 phx a 1 2 1000 " K " 0123456789abcdef b",
		"swc1 ban a 1 2 1000 0000000000000000000000ffc6336400 120 1",
	};
	const char alphabet[] = " .-0123456789abcdefAFz\t\x01\xff";
	unsigned int seed = 17, ok = 0, refused = 0;

	(void)st;
	for (unsigned int g = 0; g < 3; g++) {
		size_t n = strlen(good[g]);

		for (unsigned int it = 0; it < 20000; it++) {
			char m[CLREC_MAX_LEN + 4], out[CLREC_MAX_LEN + 4];
			size_t len = n, pos;
			struct clrec r;
			int e, w;

			memcpy(m, good[g], n);
			seed = seed * 1103515245u + 12345u;
			pos = (seed >> 8) % n;
			switch ((seed >> 4) % 3) {
			case 0:
				m[pos] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
				break;
			case 1:
				len = pos;
				break;
			default:
				memmove(m + pos + 1, m + pos, n - pos);
				m[pos] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
				len = n + 1;
			}
			e = clrec_parse(m, len, &r);
			assert_true(e >= 0 && e < CLREC_E_MAX);
			if (e) {
				refused++;
				continue;
			}
			ok++;
			w = clrec_format(&r, out, sizeof(out));
			assert_int_equal(w, (int)len);
			assert_memory_equal(out, m, len);
		}
	}
	assert_true(refused > ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_ph_round_trip),
		cmocka_unit_test(t_close_and_ban),
		cmocka_unit_test(t_strict),
		cmocka_unit_test(t_mutations),
	};

	return cmocka_run_group_tests_name("sipd-clrec", tests, NULL, NULL);
}
