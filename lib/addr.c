// SPDX-License-Identifier: GPL-2.0-only
/*
 * Address and endpoint text <-> the 16-byte form every sipwall map uses
 * (IPv4 stored IPv4-mapped), and the small helpers that go with it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/swmap.h"

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int sw_addr_is_v4(const uint8_t a[16])
{
	return memcmp(a, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0;
}

int sw_addr_parse(const char *s, uint8_t out[16])
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!s || !*s)
		return -EINVAL;
	/* inet_pton never accepts surrounding blanks, brackets or zone ids. */
	if (inet_pton(AF_INET, s, &a4) == 1) {
		memcpy(out, v4mapped_prefix, sizeof(v4mapped_prefix));
		memcpy(out + 12, &a4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		memcpy(out, &a6, 16);
		return 0;
	}
	return -EINVAL;
}

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	const char *p;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return -ERANGE;
	*port = (uint16_t)v;
	return 0;
}

int sw_endpoint_parse(const char *s, uint8_t addr[16], uint16_t *port, int port_optional)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *port_s = NULL;
	size_t hlen;
	uint8_t a[16];
	uint16_t p = 0;
	int err;

	if (!s || !*s)
		return -EINVAL;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end)
			return -EINVAL;
		hlen = (size_t)(end - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		/* Brackets are for IPv6 only. */
		if (!strchr(host, ':'))
			return -EINVAL;
		if (end[1] == ':')
			port_s = end + 2;
		else if (end[1] != '\0')
			return -EINVAL;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':')) {
			/* Several colons: a bare IPv6 address, no port. */
			hlen = strlen(s);
			if (hlen >= sizeof(host))
				return -EINVAL;
			memcpy(host, s, hlen + 1);
		} else {
			hlen = colon ? (size_t)(colon - s) : strlen(s);
			if (hlen == 0 || hlen >= sizeof(host))
				return -EINVAL;
			memcpy(host, s, hlen);
			host[hlen] = '\0';
			if (colon)
				port_s = colon + 1;
		}
	}

	err = sw_addr_parse(host, a);
	if (err)
		return err;
	if (port_s) {
		err = parse_port(port_s, &p);
		if (err)
			return err;
	} else if (!port_optional) {
		return -EINVAL;
	}
	memcpy(addr, a, 16);
	*port = p;
	return 0;
}

void sw_addr_format(const uint8_t a[16], char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	if (!buf || !len)
		return;
	if (sw_addr_is_v4(a)) {
		snprintf(buf, len, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
		return;
	}
	/* glibc's inet_ntop follows RFC 5952: lower case, longest zero run
	 * compressed, a single zero field not. */
	if (!inet_ntop(AF_INET6, a, tmp, sizeof(tmp)))
		tmp[0] = '\0';
	snprintf(buf, len, "%s", tmp);
}

uint64_t sw_fnv1a64(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t sw_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static const char *const reason_names[] = {
#define SW_X_STR(name, str) [SW_R_##name] = str,
	SW_REASONS(SW_X_STR)
#undef SW_X_STR
};

static const char *const sip_reason_names[] = {
#define SW_X_STR(name, str) [SW_SIP_R_##name] = str,
	SW_SIP_REASONS(SW_X_STR)
#undef SW_X_STR
};

static const char *const check_names[] = {
	[SW_CHECK_STRICT] = "strict",
	[SW_CHECK_ADDRESS] = "address",
	[SW_CHECK_SYMMETRIC] = "symmetric",
};

const char *sw_reason_name(unsigned int reason)
{
	return reason < SW_R_MAX ? reason_names[reason] : "?";
}

const char *sw_sip_reason_name(unsigned int reason)
{
	return reason < SW_SIP_R_MAX ? sip_reason_names[reason] : "?";
}

const char *sw_check_name(unsigned int check)
{
	if (check >= sizeof(check_names) / sizeof(check_names[0]))
		return "?";
	return check_names[check];
}

int sw_check_parse(const char *s, unsigned int *check)
{
	unsigned int i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < sizeof(check_names) / sizeof(check_names[0]); i++) {
		if (strcmp(s, check_names[i]) == 0) {
			*check = i;
			return 0;
		}
	}
	return -EINVAL;
}

int sw_sipd_status_path(const char *pin_root, char *buf, size_t len)
{
	const char *dir = getenv("SIPWALL_RUN_DIR");
	int n;

	if (!dir || !dir[0])
		dir = SW_RUN_DIR_DEFAULT;
	n = snprintf(buf, len, "%s/sipd-%016llx.json", dir,
		     (unsigned long long)sw_fnv1a64(pin_root, strlen(pin_root)));
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
