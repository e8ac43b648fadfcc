/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SIP transactions sipd forwarded (RFC 3261 17): the only thing a response
 * is believed against. A request that sipd lets through is recorded with the
 * top Via branch it carried, its CSeq and method, where it came from and
 * where it went; a response counts only if it names the same transaction and
 * comes from the address the request went to. An outside party never sees
 * the branch of a request it did not send, so it cannot forge the answer.
 *
 * Entries expire on SIP's own timers: 64*T1 = 32 s after the request for
 * non-INVITE (Timer F) and an unanswered INVITE (Timer B), the early-dialog
 * timeout after a provisional response (Timer C), and 32 s after a final one
 * (2xx retransmissions). Bounded in total and per source prefix (the latter
 * counts requests still waiting for their final response); part of the
 * table is kept for requests from inside or guard.trusted sources.
 */
#ifndef SIPD_TXN_H
#define SIPD_TXN_H

#include <stdint.h>

#include "sipd/budget.h"
#include "sipd/sipmsg.h"

struct sipd_txn {
	uint64_t key;
	uint64_t call_hash, method_hash, branch_hash;
	uint32_t cseq;
	uint8_t is_invite;
	uint8_t party;	    /* enum sipd_party of the request's sender (calls) */
	uint8_t privileged; /* from inside or guard.trusted: may use the reserve */
	uint8_t responses;  /* a response matched (saturating) */
	struct sip_addr req_src, req_dst;
	uint64_t expires_ns;
	struct sipd_src_use *use; /* per-source budget charged, or NULL */
	struct sipd_txn *hnext;	  /* hash chain */
	struct sipd_txn *prev, *next;
};

struct sipd_txn_limits {
	uint32_t max;	       /* entries in all */
	uint32_t per_source;   /* per source prefix (not privileged sources) */
	uint32_t reserved_pct; /* share of max only privileged requests may use */
	uint64_t timeout_ns;   /* 64*T1 */
	uint64_t early_ns;     /* after a provisional response to an INVITE */
};

struct sipd_txn_stats {
	uint64_t active, recorded, matched, unmatched, expired;
	uint64_t refused_full, refused_source;
	uint64_t evicted; /* unanswered outside requests forgotten to make room */
};

struct sipd_txn_table;

struct sipd_txn_table *sipd_txn_table_new(struct sipd_budget *b);
void sipd_txn_table_free(struct sipd_txn_table *t);
void sipd_txn_set_limits(struct sipd_txn_table *t, const struct sipd_txn_limits *l);

/*
 * A request sipd is about to let through (not ACK: it has no response).
 * src_key: its source masked for the budget. A retransmission refreshes its
 * entry. 0, -ENOSPC (the table's share for this source class is full),
 * -EDQUOT (this source's share is full) or -ENOMEM; *out = the entry.
 */
int sipd_txn_add(struct sipd_txn_table *t, const struct sip_msg *m, int party, int privileged,
		 const uint8_t src_key[16], uint64_t now_ns, struct sipd_txn **out);
/* Undo sipd_txn_add for a request that was dropped after all. */
void sipd_txn_remove(struct sipd_txn_table *t, struct sipd_txn *x);
/* The transaction a response belongs to: same Call-ID, CSeq, method and top
 * Via branch, from the address the request went to. NULL if none; a match
 * moves the entry's expiry along (provisional / final). */
struct sipd_txn *sipd_txn_match(struct sipd_txn_table *t, const struct sip_msg *m, uint64_t now_ns);
/* Drop expired entries (at most max_n; 0 = all). */
void sipd_txn_expire(struct sipd_txn_table *t, uint64_t now_ns, unsigned int max_n);
void sipd_txn_get_stats(const struct sipd_txn_table *t, struct sipd_txn_stats *out);

#endif /* SIPD_TXN_H */
