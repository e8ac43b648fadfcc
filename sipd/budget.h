/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What one source may hold: transactions in flight and pinholes of the calls
 * it started, counted per source prefix (IPv6 per /64 by default, so a host
 * cannot multiply its share by using the next address of its own subnet).
 * Entries exist only while something is counted: memory follows use and is
 * bounded by the tables whose entries are counted here.
 */
#ifndef SIPD_BUDGET_H
#define SIPD_BUDGET_H

#include <stdint.h>

struct sipd_src_use {
	uint8_t key[16]; /* source masked to the accounting prefix */
	uint32_t txns;	 /* transactions in flight (txn.c) */
	uint32_t pinholes;
	struct sipd_src_use *next;
};

struct sipd_budget;

struct sipd_budget *sipd_budget_new(void);
void sipd_budget_free(struct sipd_budget *b);
/* The entry of key (already masked), created when create; NULL when absent
 * (or out of memory). */
struct sipd_src_use *sipd_budget_get(struct sipd_budget *b, const uint8_t key[16], int create);
/* Free u when nothing is counted on it any more. */
void sipd_budget_release(struct sipd_budget *b, struct sipd_src_use *u);
/* Sources with something counted. */
unsigned int sipd_budget_sources(const struct sipd_budget *b);

/*
 * Bucket choice for tables whose keys a sender controls (Call-IDs, CSeqs,
 * branches, IPv6 sources): the key mixed with a secret drawn once per
 * process, so nobody can aim a flood of entries at one chain.
 */
uint64_t sipd_hash_seed(void);
static inline uint64_t sipd_bucket_mix(uint64_t x)
{
	x ^= sipd_hash_seed();
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

#endif /* SIPD_BUDGET_H */
