// SPDX-License-Identifier: GPL-2.0-only
/*
 * Forwarded SIP transactions (txn.h): a chained hash for the lookup and one
 * list in insertion order for expiry and eviction-free bounds (a full table
 * refuses new entries; it never forgets a live one to make room).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/swmap.h"
#include "sipd/txn.h"

#define TXN_BUCKETS   65536
#define TXN_CHAIN_MAX 32 /* entries looked at per lookup, at most */
#define BUCKET(key)   (sipd_bucket_mix(key) % TXN_BUCKETS)

struct sipd_txn_table {
	struct sipd_txn *b[TXN_BUCKETS];
	struct sipd_txn *head, *tail; /* insertion order */
	struct sipd_budget *budget;
	struct sipd_txn_limits lim;
	uint64_t n;
	struct sipd_txn_stats st;
};

struct sipd_txn_table *sipd_txn_table_new(struct sipd_budget *b)
{
	struct sipd_txn_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->budget = b;
	t->lim.max = 65536;
	t->lim.per_source = 2000;
	t->lim.reserved_pct = 20;
	t->lim.timeout_ns = 32000000000ull;
	t->lim.early_ns = 180000000000ull;
	return t;
}

static void unlink_txn(struct sipd_txn_table *t, struct sipd_txn *x)
{
	struct sipd_txn **pp;

	for (pp = &t->b[BUCKET(x->key)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == x) {
			*pp = x->hnext;
			break;
		}
	}
	if (x->prev)
		x->prev->next = x->next;
	else
		t->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		t->tail = x->prev;
	if (x->use) {
		x->use->txns--;
		sipd_budget_release(t->budget, x->use);
	}
	t->n--;
	t->st.active = t->n;
	free(x);
}

void sipd_txn_table_free(struct sipd_txn_table *t)
{
	if (!t)
		return;
	while (t->head)
		unlink_txn(t, t->head);
	free(t);
}

void sipd_txn_set_limits(struct sipd_txn_table *t, const struct sipd_txn_limits *l)
{
	t->lim = *l;
}

static uint64_t str_hash(const char *s)
{
	return sw_fnv1a64(s, strlen(s));
}

static uint64_t key_of(uint64_t call, uint64_t method, uint64_t branch, uint32_t cseq)
{
	uint64_t k = call ^ (method * 0x9e3779b97f4a7c15ull) ^ (branch * 0xc2b2ae3d27d4eb4full);

	return k ^ ((uint64_t)cseq << 17) ^ cseq;
}

static int same_addr(const struct sip_addr *a, const struct sip_addr *b)
{
	return !memcmp(a->addr, b->addr, 16);
}

/* x is the transaction m names: Call-ID, CSeq, method and top Via branch. */
static int names(const struct sipd_txn *x, uint64_t key, const struct sip_msg *m, uint64_t mh,
		 uint64_t bh)
{
	return x->key == key && x->call_hash == m->call_hash && x->method_hash == mh &&
	       x->branch_hash == bh && x->cseq == m->cseq;
}

int sipd_txn_add(struct sipd_txn_table *t, const struct sip_msg *m, int party, int privileged,
		 const uint8_t src_key[16], uint64_t now_ns, struct sipd_txn **out)
{
	uint64_t mh = str_hash(m->method), bh = str_hash(m->via_branch);
	uint64_t key = key_of(m->call_hash, mh, bh, m->cseq);
	struct sipd_src_use *use = NULL;
	struct sipd_txn *x;
	unsigned int chain = 0;
	uint64_t cap;

	for (x = t->b[BUCKET(key)]; x; x = x->hnext, chain++) {
		if (names(x, key, m, mh, bh) && same_addr(&x->req_src, &m->src) &&
		    same_addr(&x->req_dst, &m->dst)) {
			/* A retransmission: the transaction lives on. */
			if (!x->responses)
				x->expires_ns = now_ns + t->lim.timeout_ns;
			*out = x;
			return 0;
		}
	}
	cap = privileged ? t->lim.max : (uint64_t)t->lim.max * (100 - t->lim.reserved_pct) / 100;
	/* A chain this long is an attack on the hash or an overfull table:
	 * every lookup stays bounded. */
	if (t->n >= cap && chain < TXN_CHAIN_MAX) {
		/* Room from the oldest unanswered request of an outside,
		 * untrusted source (a forged one never gets an answer). */
		unsigned int k = 0;

		for (x = t->head; x && k < 64; x = x->next, k++) {
			if (!x->privileged && !x->responses) {
				unlink_txn(t, x);
				t->st.evicted++;
				break;
			}
		}
	}
	if (t->n >= cap || chain >= TXN_CHAIN_MAX) {
		t->st.refused_full++;
		return -ENOSPC;
	}
	if (!privileged) {
		use = sipd_budget_get(t->budget, src_key, 1);
		if (!use)
			return -ENOMEM;
		if (use->txns >= t->lim.per_source) {
			t->st.refused_source++;
			return -EDQUOT;
		}
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		sipd_budget_release(t->budget, use);
		return -ENOMEM;
	}
	x->key = key;
	x->call_hash = m->call_hash;
	x->method_hash = mh;
	x->branch_hash = bh;
	x->cseq = m->cseq;
	x->is_invite = !strcmp(m->method, "INVITE");
	x->party = (uint8_t)party;
	x->privileged = (uint8_t) !!privileged;
	x->req_src = m->src;
	x->req_dst = m->dst;
	x->expires_ns = now_ns + t->lim.timeout_ns;
	x->use = use;
	if (use)
		use->txns++;
	x->hnext = t->b[BUCKET(key)];
	t->b[BUCKET(key)] = x;
	x->prev = t->tail;
	if (t->tail)
		t->tail->next = x;
	else
		t->head = x;
	t->tail = x;
	t->n++;
	t->st.active = t->n;
	t->st.recorded++;
	*out = x;
	return 0;
}

void sipd_txn_remove(struct sipd_txn_table *t, struct sipd_txn *x)
{
	if (x)
		unlink_txn(t, x);
}

struct sipd_txn *sipd_txn_match(struct sipd_txn_table *t, const struct sip_msg *m, uint64_t now_ns)
{
	uint64_t mh = str_hash(m->method), bh = str_hash(m->via_branch);
	uint64_t key = key_of(m->call_hash, mh, bh, m->cseq);
	struct sipd_txn *x;
	unsigned int chain = 0;

	for (x = t->b[BUCKET(key)]; x && chain < TXN_CHAIN_MAX; x = x->hnext, chain++) {
		if (!names(x, key, m, mh, bh) || !same_addr(&x->req_dst, &m->src))
			continue;
		if (now_ns >= x->expires_ns)
			break; /* expired, not yet swept */
		if (x->responses < 255)
			x->responses++;
		/* Answered: kept 32 s only to match retransmissions, no longer
		 * in flight, so its source's share is free again (a trunk at
		 * 200 calls/s holds ~13,000 answered ones). Only a response
		 * from where the request went gets here, so this needs the
		 * peer's help, and the table's total bound still holds. */
		if (m->status >= 200 && x->use) {
			x->use->txns--;
			sipd_budget_release(t->budget, x->use);
			x->use = NULL;
		}
		if (m->status >= 200 || !x->is_invite)
			x->expires_ns = now_ns + t->lim.timeout_ns;
		else
			x->expires_ns =
				now_ns + (t->lim.early_ns > t->lim.timeout_ns ? t->lim.early_ns
									      : t->lim.timeout_ns);
		t->st.matched++;
		return x;
	}
	t->st.unmatched++;
	return NULL;
}

void sipd_txn_expire(struct sipd_txn_table *t, uint64_t now_ns, unsigned int max_n)
{
	struct sipd_txn *x, *n;
	unsigned int seen = 0;

	for (x = t->head; x && (!max_n || seen < max_n); x = n, seen++) {
		n = x->next;
		if (now_ns >= x->expires_ns) {
			unlink_txn(t, x);
			t->st.expired++;
		}
	}
}

void sipd_txn_get_stats(const struct sipd_txn_table *t, struct sipd_txn_stats *out)
{
	*out = t->st;
}
