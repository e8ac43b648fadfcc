// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP resets for rejected SIP streams (tcprst.h). RFC 793 3.4 and RFC 5961
 * 3.2: a RST whose sequence number is exactly the receiver's next expected
 * one resets the connection at once; stream.c knows that number for both
 * ends (the sender's ack, the rejected segment's seq).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "sipd/tcprst.h"

static const uint8_t v4map[12] = {[10] = 0xff, [11] = 0xff};

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

size_t sipd_tcp_build_rst(const struct sipd_stream_rst *r, uint8_t *b)
{
	int v4 = !memcmp(r->key.saddr, v4map, 12) && !memcmp(r->key.daddr, v4map, 12);
	size_t ih = v4 ? 20 : 40;
	uint8_t *t = b + ih;
	uint32_t s;
	uint16_t c;

	memset(b, 0, ih + 20);
	if (v4) {
		b[0] = 0x45;
		b[3] = 40;
		b[6] = 0x40; /* DF */
		b[8] = 64;
		b[9] = IPPROTO_TCP;
		memcpy(b + 12, r->key.saddr + 12, 4);
		memcpy(b + 16, r->key.daddr + 12, 4);
		c = fold(sum16(0, b, 20));
		b[10] = (uint8_t)(c >> 8);
		b[11] = (uint8_t)c;
	} else {
		b[0] = 0x60;
		b[5] = 20;
		b[6] = IPPROTO_TCP;
		b[7] = 64;
		memcpy(b + 8, r->key.saddr, 16);
		memcpy(b + 24, r->key.daddr, 16);
	}
	t[0] = (uint8_t)(r->key.sport >> 8);
	t[1] = (uint8_t)r->key.sport;
	t[2] = (uint8_t)(r->key.dport >> 8);
	t[3] = (uint8_t)r->key.dport;
	t[4] = (uint8_t)(r->seq >> 24);
	t[5] = (uint8_t)(r->seq >> 16);
	t[6] = (uint8_t)(r->seq >> 8);
	t[7] = (uint8_t)r->seq;
	t[12] = 5 << 4;
	t[13] = 0x04; /* RST */
	s = v4 ? sum16(0, b + 12, 8) : sum16(0, b + 8, 32);
	s += IPPROTO_TCP + 20;
	s = sum16(s, t, 20);
	c = fold(s);
	t[16] = (uint8_t)(c >> 8);
	t[17] = (uint8_t)c;
	return ih + 20;
}

int sipd_tcp_send_rst(const struct sipd_stream_rst *r)
{
	static int fd4 = -1, fd6 = -1, reported;
	int v4 = !memcmp(r->key.saddr, v4map, 12);
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	uint8_t b[64];
	size_t n = sipd_tcp_build_rst(r, b);
	int *fd = v4 ? &fd4 : &fd6, err;

	if (*fd < 0) {
		*fd = socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		if (*fd < 0)
			goto fail;
	}
	if (v4) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, r->key.daddr + 12, 4);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, r->key.daddr, 16);
		sl = sizeof(*a);
	}
	if (sendto(*fd, b, n, 0, (struct sockaddr *)&ss, sl) == (ssize_t)n)
		return 0;
fail:
	err = -errno;
	if (reported != err) {
		fprintf(stderr, "sipd: sending a TCP reset: %s\n", strerror(-err));
		reported = err;
	}
	return err;
}
