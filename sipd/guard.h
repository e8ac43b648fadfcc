/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sipd's DoS guard: who is hostile, and how much one source may cost.
 *
 * Ban triggers (each with an enum sw_ban_reason): a scanner User-Agent on a
 * request, N malformed messages from one source within T seconds, N 401/407/
 * 403 answers to one source's REGISTER/INVITE within T, N 404 answers to one
 * source within T (user enumeration). A ban is handed to the ban callback,
 * which writes the pinned sw_bans map (core.c), so the XDP program drops the
 * source before the kernel stack sees it.
 *
 * Bounds: a token bucket of messages processed per source, dialogs per
 * source. Trusted networks (guard.trusted) are never banned and not bounded
 * per source; inside networks are never banned unless guard.ban_inside.
 *
 * UDP sources are forged at will, so what a trigger claims never bans a
 * valuable source: one with live calls, or in a networks.peers network (the
 * message is still dropped; ban_spared counts it). Automatic bans are rate
 * limited (guard.max_bans_per_s/_burst) and stop while sw_bans is fuller than
 * 100 - guard.ban_map_headroom percent, so a manual ban always fits. A ban
 * sipd remembers is checked against sw_bans (the one truth, through the
 * check hook) before sipd drops on it: `sipwall ban del` lifts it in sipd too.
 *
 * Per-source state lives in one table allocated up front (guard.max_sources
 * entries, open addressing, bounded probing): a flood of new sources evicts
 * the stalest idle entry and never grows memory. Pure logic: no maps, no
 * events, no clock but the now_ns passed in.
 */
#ifndef SIPD_GUARD_H
#define SIPD_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "sipwall_maps.h"
#include "sipd/config.h"
#include "sipd/sipmsg.h"

struct sipd_guard;

/* What the guard asks the daemon to ban. */
struct sipd_guard_ban {
	uint8_t addr[16]; /* source masked to plen (v4-mapped) */
	uint8_t plen;	  /* in v4-mapped terms (96 + v4 prefix) */
	enum sw_ban_reason reason;
	uint32_t ttl_s;	  /* 0 = never expires */
	uint16_t port;	  /* the offending message's source port */
	char detail[192]; /* what triggered it, for the event log */
	uint8_t src[16];  /* the source itself, unmasked (v4-mapped) */
};

/* Why a trigger that fired did not ban. */
enum sipd_ban_refusal {
	SIPD_BAN_SPARED,   /* live calls, or a networks.peers network */
	SIPD_BAN_RATE,	   /* past guard.max_bans_per_s */
	SIPD_BAN_HEADROOM, /* sw_bans fuller than allowed (guard.ban_map_headroom) */
	SIPD_BAN_REFUSAL_MAX,
};
const char *sipd_ban_refusal_name(unsigned int why); /* "?" if out of range */

/* Returns 0 or -errno (the ban is remembered in sipd either way, until the
 * check hook says the map does not hold it). */
typedef int (*sipd_guard_ban_fn)(void *ctx, const struct sipd_guard_ban *b, uint64_t now_ns);
/* Does the ban map hold an unexpired ban covering src? 1 yes, 0 no,
 * negative errno: cannot tell (sipd's own memory decides). */
typedef int (*sipd_guard_check_fn)(void *ctx, const uint8_t src[16]);
/* A trigger fired and no ban was written (the message is still dropped or
 * counted as before). */
typedef void (*sipd_guard_refused_fn)(void *ctx, const struct sipd_guard_ban *b,
				      enum sipd_ban_refusal why, uint64_t now_ns);

struct sipd_guard_stats {
	uint64_t bans[SW_BAN_MAX];		/* bans asked for, by reason */
	uint64_t ban_errors;			/* ban callback failed */
	uint64_t trusted_spared;		/* a trigger fired for a trusted source */
	uint64_t refused[SIPD_BAN_REFUSAL_MAX]; /* a trigger fired, no ban: why */
	uint64_t ban_checks;			/* sipd's ban checked against the map */
	uint64_t bans_lifted;			/* ... and found gone (ban del) */
	uint64_t sources;			/* entries in use now */
	uint64_t evictions;			/* idle entries reused for new sources */
	uint64_t untracked;			/* table full around a key: not tracked */
	uint64_t table_size;			/* entries allocated */
};

/* NULL on out of memory. cfg is read at each call (the caller owns it and
 * calls sipd_guard_reconfig after replacing it). */
struct sipd_guard *sipd_guard_new(const struct sipd_config *cfg, sipd_guard_ban_fn fn, void *ctx);
void sipd_guard_free(struct sipd_guard *g);
/* New config: counters and bans stay; a new max_sources reallocates the
 * table (per-source state is then forgotten). -ENOMEM keeps the old table. */
int sipd_guard_reconfig(struct sipd_guard *g, const struct sipd_config *cfg);

/* The daemon's hooks to the ban map; either may be NULL. ctx is the ban
 * callback's. */
void sipd_guard_set_hooks(struct sipd_guard *g, sipd_guard_check_fn check,
			  sipd_guard_refused_fn refused);
/* Entries in sw_bans (as the daemon last counted them) and its capacity;
 * capacity 0 = unknown (no headroom check). Successful bans add one. */
void sipd_guard_set_ban_fill(struct sipd_guard *g, uint32_t entries, uint32_t capacity);

/* Trusted: never banned, not bounded per source. */
int sipd_guard_trusted(const struct sipd_config *cfg, const uint8_t addr[16]);

/*
 * Before parsing a datagram from src: SW_SIP_R_ACCEPTED to go on, or the
 * reason to drop it with (sip_banned while sipd's own ban runs,
 * sip_rate_limited past limits.max_msg_rate). detail says why.
 */
enum sw_sip_reason sipd_guard_admit(struct sipd_guard *g, const uint8_t src[16], uint64_t now_ns,
				    char *detail, size_t len);

/* A datagram from src:sport failed parsing or validation (why). */
void sipd_guard_malformed(struct sipd_guard *g, const uint8_t src[16], uint16_t sport,
			  enum sw_sip_reason why, uint64_t now_ns);

/*
 * A parsed message. Requests with a scanner User-Agent ban their source and
 * return sip_scanner (drop it). 401/407/403 answers to REGISTER/INVITE and
 * 404 answers count against the response's destination (the requester).
 */
enum sw_sip_reason sipd_guard_message(struct sipd_guard *g, const struct sip_msg *m,
				      uint64_t now_ns, char *detail, size_t len);

/* A new call from src: sip_dialog_limit past limits.max_calls_per_source,
 * else counted until sipd_guard_call_end. */
enum sw_sip_reason sipd_guard_call_start(struct sipd_guard *g, const uint8_t src[16],
					 uint64_t now_ns, char *detail, size_t len);
void sipd_guard_call_end(struct sipd_guard *g, const uint8_t src[16]);
/* addr became (delta 1) or stopped being (-1) the answering party of a live
 * call: like a caller, it is never banned on one spoofable datagram. */
void sipd_guard_party(struct sipd_guard *g, const uint8_t addr[16], int delta, uint64_t now_ns);

void sipd_guard_get_stats(const struct sipd_guard *g, struct sipd_guard_stats *out);

/* src masked to the ban prefix of its family (32 -> 128 for v4-mapped). */
uint8_t sipd_guard_mask(const struct sipd_config *cfg, const uint8_t src[16], uint8_t out[16]);
/* src masked to the per-source accounting prefix (limits.source_prefix_v4/
 * _v6: the key of the guard's table, message rate and calls per source);
 * returns the prefix length in v4-mapped terms. For counting other
 * per-source things the same way. */
uint8_t sipd_guard_source_key(const struct sipd_config *cfg, const uint8_t src[16],
			      uint8_t out[16]);

const char *sipd_ban_reason_name(unsigned int reason); /* "?" if out of range */

#endif /* SIPD_GUARD_H */
