// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness of sipd/reasm.c, which passive mode feeds with packets
 * off the wire. The input is a list of records; each becomes one IPv4 or
 * IPv6 fragment built from the record's fields (a few datagram ids, any
 * offset, length, MF bit and fill byte, an optional IPv6 extension header),
 * or, for a raw record, its bytes as they are. The small table (4 datagrams,
 * 8 fragments each) and a clock the records advance make eviction, the
 * fragment limit and the timeout reachable. Besides sanitizer reports it
 * checks what reasm.h promises of a reassembled datagram and its counters.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/reasm.h"

#define REQUIRE(x)               \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

#define MAX_DGRAMS 4
#define MAX_FRAGS  8

static uint8_t pkt[65535 + 512];

static size_t build(const uint8_t *rec, uint8_t *p)
{
	int v6 = rec[0] & 1, ext = rec[0] & 2, more = rec[0] & 4;
	uint32_t id = rec[1] & 3;
	uint32_t off = (uint32_t)(rec[2] | rec[3] << 8) & 0x1fff;  /* 8-octet units */
	size_t dlen = (size_t)(rec[4] | (rec[5] & 0x07) << 8) + 1; /* 1..2048 */
	size_t h;

	if (v6) {
		memset(p, 0, 40);
		p[0] = 0x60;
		p[6] = ext ? 60 : 44; /* Destination Options, then Fragment */
		p[7] = 64;
		p[8] = 0x20, p[9] = 0x01, p[10] = 0x0d, p[11] = 0xb8, p[23] = 1;
		p[24] = 0x20, p[25] = 0x01, p[26] = 0x0d, p[27] = 0xb8, p[39] = 2;
		h = 40;
		if (ext) {
			memset(p + h, 0, 8);
			p[h] = 44;
			h += 8;
		}
		p[h] = IPPROTO_UDP;
		p[h + 1] = 0;
		p[h + 2] = (uint8_t)((off << 3) >> 8);
		p[h + 3] = (uint8_t)(((off << 3) & 0xf8) | (more ? 1 : 0));
		p[h + 4] = 0, p[h + 5] = 0, p[h + 6] = 0, p[h + 7] = (uint8_t)(id + 1);
		h += 8;
		p[4] = (uint8_t)((h - 40 + dlen) >> 8);
		p[5] = (uint8_t)(h - 40 + dlen);
	} else {
		memset(p, 0, 20);
		p[0] = 0x45;
		p[2] = (uint8_t)((20 + dlen) >> 8);
		p[3] = (uint8_t)(20 + dlen);
		p[5] = (uint8_t)(id + 1);
		p[6] = (uint8_t)(((more ? 0x2000 : 0) | off) >> 8);
		p[7] = (uint8_t)off;
		p[8] = 64;
		p[9] = IPPROTO_UDP;
		p[12] = 10, p[15] = 1, p[16] = 10, p[19] = 2;
		h = 20;
	}
	memset(p + h, rec[6], dlen);
	if (off == 0 && dlen >= 8) { /* a UDP header in the first fragment */
		p[h] = 0x13, p[h + 1] = 0xc4, p[h + 2] = 0x13, p[h + 3] = 0xc4;
	}
	return h + dlen;
}

static void check_done(const struct sipd_reasm_out *o)
{
	REQUIRE(o->ip && o->len >= 20);
	if ((o->ip[0] >> 4) == 4) {
		size_t tot = (size_t)(o->ip[2] << 8 | o->ip[3]);

		REQUIRE(tot == o->len);
		REQUIRE(((o->ip[6] << 8 | o->ip[7]) & 0x3fff) == 0); /* no MF, offset 0 */
	} else {
		REQUIRE((o->ip[0] >> 4) == 6 && o->len >= 40);
		REQUIRE((size_t)(o->ip[4] << 8 | o->ip[5]) + 40 == o->len);
		REQUIRE(o->len <= 40 + 65535);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipd_reasm_limits lim = {.max_datagrams = MAX_DGRAMS,
					.max_fragments = MAX_FRAGS,
					.timeout_ns = 10ull * 1000000000};
	struct sipd_reasm *r = sipd_reasm_new(&lim);
	struct sipd_reasm_stats st;
	uint64_t now = 1000000000ull, offered = 0, done = 0;
	size_t i = 0;

	REQUIRE(r);
	while (i + 8 <= size) {
		const uint8_t *rec = data + i;
		struct sipd_reasm_out o;
		size_t len;
		int res;

		i += 8;
		now += (uint64_t)(rec[7] & 0x0f) * 1000000000ull; /* 0..15 s per record */
		if (rec[7] & 0x80) {
			/* raw: the next rec[6] bytes (or what is left) as they are */
			len = rec[6] < size - i ? rec[6] : size - i;
			memcpy(pkt, data + i, len);
			i += len;
		} else {
			len = build(rec, pkt);
		}
		res = sipd_reasm_add(r, pkt, len, now, &o);
		offered++;
		REQUIRE(res == SIPD_REASM_HELD || res == SIPD_REASM_DONE ||
			res == SIPD_REASM_DROPPED);
		if (res == SIPD_REASM_DONE) {
			check_done(&o);
			done++;
		}
		sipd_reasm_get_stats(r, &st);
		REQUIRE(st.in_flight <= MAX_DGRAMS);
	}
	sipd_reasm_expire(r, now + 3600ull * 1000000000);
	sipd_reasm_get_stats(r, &st);
	REQUIRE(st.in_flight == 0);
	REQUIRE(st.reassembled <= done);
	(void)offered;
	sipd_reasm_free(r);
	return 0;
}
