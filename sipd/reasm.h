/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IP fragment reassembly for the sources that see fragments (replay always,
 * passive for IPv6 and for IPv4 without fanout defrag). IPv4 (RFC 791) and
 * IPv6 (RFC 8200, the Fragment header after any Hop-by-Hop, Routing or
 * Destination Options headers). A fragment that overlaps one already held with
 * different bytes drops its whole datagram (RFC 5722, and the same for IPv4
 * against teardrop-style tricks); the same bytes again are harmless.
 *
 * Memory and time are bounded: datagrams in flight, fragments per datagram,
 * 65,535 octets per datagram, and a timeout by the caller's clock (replay
 * passes capture time, passive monotonic time). When the table is full the
 * datagram started first is evicted. Every datagram (or lone fragment) given
 * up is counted under one named reason.
 */
#ifndef SIPD_REASM_H
#define SIPD_REASM_H

#include <stddef.h>
#include <stdint.h>

#define SIPD_REASM_DATAGRAMS_DEFAULT  64
#define SIPD_REASM_FRAGMENTS_DEFAULT  128
#define SIPD_REASM_TIMEOUT_NS_DEFAULT (30ULL * 1000000000ULL)

/*
 * Why a datagram (or a fragment that belongs to none) was given up:
 * timeout: not complete within the timeout; overlap: fragments overlap with
 * other bytes; too_big: longer than 65,535 octets; table_full: evicted for a
 * newer datagram; too_many_fragments: more fragments than allowed;
 * malformed: unreadable header, a non-last fragment not a multiple of 8
 * octets, or two ends that disagree.
 */
#define SIPD_REASM_DROPS(X)                         \
	X(TIMEOUT, "timeout")                       \
	X(OVERLAP, "overlap")                       \
	X(TOO_BIG, "too_big")                       \
	X(TABLE_FULL, "table_full")                 \
	X(TOO_MANY_FRAGMENTS, "too_many_fragments") \
	X(MALFORMED, "malformed")

enum sipd_reasm_drop {
#define SIPD_REASM_ENUM(id, name) SIPD_REASM_DROP_##id,
	SIPD_REASM_DROPS(SIPD_REASM_ENUM)
#undef SIPD_REASM_ENUM
		SIPD_REASM_DROP_MAX
};

const char *sipd_reasm_drop_name(enum sipd_reasm_drop d);

/* 0 in a field takes its default. */
struct sipd_reasm_limits {
	unsigned int max_datagrams; /* in flight at once */
	unsigned int max_fragments; /* per datagram, duplicates included */
	uint64_t timeout_ns;	    /* from a datagram's first fragment seen */
};

struct sipd_reasm_stats {
	uint64_t fragments;   /* offered */
	uint64_t reassembled; /* datagrams handed back whole */
	uint64_t dropped[SIPD_REASM_DROP_MAX];
	uint64_t in_flight; /* datagrams still waiting for fragments */
};

enum sipd_reasm_result {
	SIPD_REASM_HELD,    /* kept; the datagram is not complete yet */
	SIPD_REASM_DONE,    /* out->ip holds the whole datagram */
	SIPD_REASM_DROPPED, /* the fragment (and its datagram, if any) is gone, counted */
};

struct sipd_reasm_out {
	/* DONE: the reassembled datagram, IPv4 with MF and offset cleared,
	 * total length and checksum fixed; IPv6 without its Fragment header,
	 * next header and payload length fixed. Valid until the next call. */
	const uint8_t *ip;
	size_t len;
	/* The datagram's UDP ports (host order), once its first fragment is
	 * known to carry them; set for every result. */
	int udp_known;
	uint16_t sport, dport;
};

struct sipd_reasm;

/* NULL limits: all defaults. NULL when out of memory. */
struct sipd_reasm *sipd_reasm_new(const struct sipd_reasm_limits *l);
void sipd_reasm_free(struct sipd_reasm *r);

/*
 * Offer one IP datagram that is a fragment (IPv4 MF or offset, or an IPv6
 * Fragment header); len may include link-layer padding. Datagrams older than
 * the timeout are given up first. Returns an enum sipd_reasm_result (input
 * whose IP header cannot be read is DROPPED as malformed) or -ENOMEM. An
 * unfragmented datagram (or an IPv6 atomic fragment, RFC 6946) is handed
 * back at once, never mixed with the fragments held.
 */
int sipd_reasm_add(struct sipd_reasm *r, const uint8_t *ip, size_t len, uint64_t now_ns,
		   struct sipd_reasm_out *out);

/* Give up (as timeout) the datagrams older than the timeout at now_ns. */
void sipd_reasm_expire(struct sipd_reasm *r, uint64_t now_ns);

void sipd_reasm_get_stats(const struct sipd_reasm *r, struct sipd_reasm_stats *s);

#endif /* SIPD_REASM_H */
