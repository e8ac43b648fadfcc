// SPDX-License-Identifier: GPL-2.0-only
/* Per-source use (budget.h): a chained hash of the sources holding something. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "lib/swmap.h"
#include "sipd/budget.h"

#define BUDGET_BUCKETS 16384

struct sipd_budget {
	struct sipd_src_use *b[BUDGET_BUCKETS];
	unsigned int n;
};

uint64_t sipd_hash_seed(void)
{
	static uint64_t seed;
	static int have;

	if (!have) {
		if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
			struct timespec ts;

			/* No entropy yet (early boot): weaker, never fatal. */
			clock_gettime(CLOCK_MONOTONIC, &ts);
			seed = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
		}
		have = 1;
	}
	return seed;
}

struct sipd_budget *sipd_budget_new(void)
{
	return calloc(1, sizeof(struct sipd_budget));
}

void sipd_budget_free(struct sipd_budget *b)
{
	struct sipd_src_use *u, *n;
	unsigned int i;

	if (!b)
		return;
	for (i = 0; i < BUDGET_BUCKETS; i++)
		for (u = b->b[i]; u; u = n) {
			n = u->next;
			free(u);
		}
	free(b);
}

static unsigned int bucket_of(const uint8_t key[16])
{
	return (unsigned int)(sipd_bucket_mix(sw_fnv1a64(key, 16)) % BUDGET_BUCKETS);
}

struct sipd_src_use *sipd_budget_get(struct sipd_budget *b, const uint8_t key[16], int create)
{
	unsigned int h = bucket_of(key);
	struct sipd_src_use *u;

	for (u = b->b[h]; u; u = u->next)
		if (!memcmp(u->key, key, 16))
			return u;
	if (!create)
		return NULL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	memcpy(u->key, key, 16);
	u->next = b->b[h];
	b->b[h] = u;
	b->n++;
	return u;
}

void sipd_budget_release(struct sipd_budget *b, struct sipd_src_use *u)
{
	struct sipd_src_use **pp;

	if (!u || u->txns || u->pinholes)
		return;
	for (pp = &b->b[bucket_of(u->key)]; *pp; pp = &(*pp)->next) {
		if (*pp == u) {
			*pp = u->next;
			b->n--;
			free(u);
			return;
		}
	}
}

unsigned int sipd_budget_sources(const struct sipd_budget *b)
{
	return b->n;
}
