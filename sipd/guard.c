// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd's DoS guard (guard.h): per-source counters in a fixed table, ban
 * triggers, message rate and dialog bounds.
 *
 * Trigger windows are fixed and start at a source's first event: the count
 * resets when window_s has passed since then. A ban resets the source's
 * counters, so the next ban needs N fresh events.
 */
#define _GNU_SOURCE /* FNM_CASEFOLD */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/swmap.h"
#include "sipd/guard.h"

#define NS	  1000000000ull
#define PROBE	  16	       /* slots looked at per key: bounds the cost */
#define TOKEN_ONE (1ull << 16) /* fixed point of the message bucket */

enum trig { T_MALFORMED, T_AUTH, T_NOTFOUND, T_MAX };

struct src {
	uint8_t key[16]; /* masked to the ban prefix */
	uint8_t used;
	uint32_t calls;	  /* live calls started by this source */
	uint64_t last_ns; /* last time anything touched the entry */
	uint64_t tokens;  /* message bucket, TOKEN_ONE per message */
	uint64_t tok_ns;
	uint64_t banned_until; /* sipd's clock; 0 = not banned */
	uint32_t cnt[T_MAX];
	uint64_t win_ns[T_MAX];
};

struct sipd_guard {
	const struct sipd_config *cfg;
	sipd_guard_ban_fn fn;
	void *ctx;
	struct src *tab;
	size_t size; /* power of two */
	uint32_t max_sources;
	struct sipd_guard_stats st;
};

/* The names libsw gives sw_bans (lib/dos.c): one list for sipd and sipwall. */
const char *sipd_ban_reason_name(unsigned int reason)
{
	return sw_ban_reason_name(reason);
}

static int alloc_table(struct sipd_guard *g, uint32_t max_sources)
{
	size_t size = 16;
	struct src *t;

	while (size < max_sources)
		size <<= 1;
	t = calloc(size, sizeof(*t));
	if (!t)
		return -ENOMEM;
	free(g->tab);
	g->tab = t;
	g->size = size;
	g->max_sources = max_sources;
	g->st.sources = 0;
	g->st.table_size = size;
	return 0;
}

struct sipd_guard *sipd_guard_new(const struct sipd_config *cfg, sipd_guard_ban_fn fn, void *ctx)
{
	struct sipd_guard *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->cfg = cfg;
	g->fn = fn;
	g->ctx = ctx;
	if (alloc_table(g, cfg->guard.max_sources)) {
		free(g);
		return NULL;
	}
	return g;
}

void sipd_guard_free(struct sipd_guard *g)
{
	if (!g)
		return;
	free(g->tab);
	free(g);
}

int sipd_guard_reconfig(struct sipd_guard *g, const struct sipd_config *cfg)
{
	int err = 0;

	if (cfg->guard.max_sources != g->max_sources)
		err = alloc_table(g, cfg->guard.max_sources);
	if (!err)
		g->cfg = cfg;
	return err;
}

static int in_list(const struct sipd_cidr *l, unsigned int n, const uint8_t addr[16])
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (sipd_cidr_match(&l[i], addr))
			return 1;
	return 0;
}

int sipd_guard_trusted(const struct sipd_config *cfg, const uint8_t addr[16])
{
	return in_list(cfg->guard.trusted, cfg->guard.n_trusted, addr);
}

uint8_t sipd_guard_mask(const struct sipd_config *cfg, const uint8_t src[16], uint8_t out[16])
{
	uint8_t plen =
		sw_addr_is_v4(src) ? 96 + cfg->guard.ban_prefix_v4 : cfg->guard.ban_prefix_v6;
	unsigned int i;

	memcpy(out, src, 16);
	for (i = plen; i < 128; i++)
		out[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
	return plen;
}

static int idle(const struct src *s, uint64_t now_ns)
{
	return !s->calls && (!s->banned_until || now_ns >= s->banned_until);
}

/*
 * The entry of src (masked), created if create. A new source takes a free
 * slot or the stalest idle one among PROBE slots; NULL when all of them hold
 * live calls or bans (the message then goes untracked, never unbounded).
 */
static struct src *lookup(struct sipd_guard *g, const uint8_t src[16], uint64_t now_ns, int create)
{
	uint8_t key[16];
	struct src *s, *victim = NULL;
	size_t h, i;

	sipd_guard_mask(g->cfg, src, key);
	h = (size_t)sw_fnv1a64(key, sizeof(key));
	for (i = 0; i < PROBE; i++) {
		s = &g->tab[(h + i) & (g->size - 1)];
		if (!s->used) {
			if (!victim || victim->used)
				victim = s;
			continue;
		}
		if (!memcmp(s->key, key, 16))
			return s;
		if (idle(s, now_ns) && (!victim || (victim->used && s->last_ns < victim->last_ns)))
			victim = s;
	}
	if (!create)
		return NULL;
	if (!victim) {
		g->st.untracked++;
		return NULL;
	}
	if (victim->used)
		g->st.evictions++;
	else
		g->st.sources++;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->key, key, 16);
	victim->used = 1;
	victim->last_ns = now_ns;
	return victim;
}

/* May this source be banned at all? */
static int bannable(const struct sipd_guard *g, const uint8_t addr[16])
{
	const struct sipd_config *c = g->cfg;

	if (!c->guard.enabled)
		return 0;
	if (!c->guard.ban_inside && sipd_config_is_inside(c, addr))
		return 0;
	return 1;
}

static void ban(struct sipd_guard *g, struct src *s, const uint8_t addr[16], uint16_t port,
		enum sw_ban_reason reason, uint64_t now_ns, const char *detail)
{
	const struct sipd_config *c = g->cfg;
	struct sipd_guard_ban b = {0};

	if (sipd_guard_trusted(c, addr)) {
		g->st.trusted_spared++;
		return;
	}
	b.plen = sipd_guard_mask(c, addr, b.addr);
	b.reason = reason;
	b.ttl_s = c->guard.ban_ttl_s;
	b.port = port;
	snprintf(b.detail, sizeof(b.detail), "%s", detail);
	g->st.bans[reason]++;
	if (s) {
		memset(s->cnt, 0, sizeof(s->cnt));
		s->banned_until = b.ttl_s ? now_ns + b.ttl_s * NS : UINT64_MAX;
	}
	if (g->fn && g->fn(g->ctx, &b, now_ns))
		g->st.ban_errors++;
}

/* One event of trigger t from addr; bans when the count is reached. */
static void count(struct sipd_guard *g, const uint8_t addr[16], uint16_t port, enum trig t,
		  uint64_t now_ns, const char *what)
{
	static const enum sw_ban_reason reasons[T_MAX] = {
		[T_MALFORMED] = SW_BAN_MALFORMED,
		[T_AUTH] = SW_BAN_AUTH_FAILURES,
		[T_NOTFOUND] = SW_BAN_NOT_FOUND,
	};
	const struct sipd_trigger *tr[T_MAX] = {
		[T_MALFORMED] = &g->cfg->guard.malformed,
		[T_AUTH] = &g->cfg->guard.auth_failures,
		[T_NOTFOUND] = &g->cfg->guard.not_found,
	};
	char detail[192];
	struct src *s;

	if (!tr[t]->count || !bannable(g, addr) || sipd_guard_trusted(g->cfg, addr))
		return;
	s = lookup(g, addr, now_ns, 1);
	if (!s)
		return;
	s->last_ns = now_ns;
	if (s->banned_until && now_ns < s->banned_until)
		return; /* already banned: nothing more to learn */
	if (!s->cnt[t] || now_ns < s->win_ns[t] || now_ns - s->win_ns[t] >= tr[t]->window_s * NS) {
		s->cnt[t] = 0;
		s->win_ns[t] = now_ns;
	}
	if (++s->cnt[t] < tr[t]->count)
		return;
	snprintf(detail, sizeof(detail), "%u %s within %u s (last: %s)", s->cnt[t],
		 t == T_MALFORMED ? "malformed messages"
		 : t == T_AUTH	  ? "authentication failures"
				  : "requests answered 404",
		 tr[t]->window_s, what);
	ban(g, s, addr, port, reasons[t], now_ns, detail);
}

enum sw_sip_reason sipd_guard_admit(struct sipd_guard *g, const uint8_t src[16], uint64_t now_ns,
				    char *detail, size_t len)
{
	const struct sipd_config *c = g->cfg;
	struct src *s;
	uint64_t cap, add;

	if (!c->guard.enabled || sipd_guard_trusted(c, src))
		return SW_SIP_R_ACCEPTED;
	s = lookup(g, src, now_ns, c->max_msg_rate != 0);
	if (!s)
		return SW_SIP_R_ACCEPTED;
	s->last_ns = now_ns;
	if (s->banned_until) {
		if (now_ns < s->banned_until) {
			snprintf(detail, len, "source banned by sipd");
			return SW_SIP_R_BANNED;
		}
		s->banned_until = 0;
	}
	if (!c->max_msg_rate)
		return SW_SIP_R_ACCEPTED;
	cap = (uint64_t)(c->max_msg_burst ? c->max_msg_burst : c->max_msg_rate) * TOKEN_ONE;
	if (!s->tok_ns || now_ns < s->tok_ns) {
		s->tokens = cap;
	} else {
		/* Whole elapsed seconds and the rest, without overflow. */
		uint64_t dt = now_ns - s->tok_ns;

		add = dt / NS * c->max_msg_rate * TOKEN_ONE +
		      dt % NS * c->max_msg_rate / (NS / TOKEN_ONE);
		s->tokens = s->tokens + add > cap || add > cap ? cap : s->tokens + add;
	}
	s->tok_ns = now_ns;
	if (s->tokens < TOKEN_ONE) {
		snprintf(detail, len, "more than %u messages/s (burst %u)", c->max_msg_rate,
			 c->max_msg_burst);
		return SW_SIP_R_RATE_LIMITED;
	}
	s->tokens -= TOKEN_ONE;
	return SW_SIP_R_ACCEPTED;
}

void sipd_guard_malformed(struct sipd_guard *g, const uint8_t src[16], uint16_t sport,
			  enum sw_sip_reason why, uint64_t now_ns)
{
	count(g, src, sport, T_MALFORMED, now_ns, sw_sip_reason_name(why));
}

static int is_auth_method(const char *m)
{
	return !strcmp(m, "REGISTER") || !strcmp(m, "INVITE");
}

enum sw_sip_reason sipd_guard_message(struct sipd_guard *g, const struct sip_msg *m,
				      uint64_t now_ns, char *detail, size_t len)
{
	const struct sipd_config *c = g->cfg;
	const struct sipd_globs *ua = &c->guard.scanner_ua;
	char what[64];
	enum trig t;
	unsigned int i;

	if (!c->guard.enabled)
		return SW_SIP_R_ACCEPTED;
	if (m->is_request) {
		if (!m->user_agent[0])
			return SW_SIP_R_ACCEPTED;
		for (i = 0; i < ua->n; i++) {
			if (fnmatch(ua->v[i], m->user_agent, FNM_CASEFOLD))
				continue;
			snprintf(detail, len, "User-Agent \"%.100s\" matches \"%.60s\"",
				 m->user_agent, ua->v[i]);
			if (bannable(g, m->src.addr))
				ban(g, lookup(g, m->src.addr, now_ns, 1), m->src.addr, m->src.port,
				    SW_BAN_SCANNER_UA, now_ns, detail);
			return SW_SIP_R_SCANNER;
		}
		return SW_SIP_R_ACCEPTED;
	}
	/* A response goes back to the requester: its destination. */
	if ((m->status == 401 || m->status == 407 || m->status == 403) && is_auth_method(m->method))
		t = T_AUTH;
	else if (m->status == 404)
		t = T_NOTFOUND;
	else
		return SW_SIP_R_ACCEPTED;
	snprintf(what, sizeof(what), "%d to %.40s", m->status, m->method);
	count(g, m->dst.addr, m->dst.port, t, now_ns, what);
	return SW_SIP_R_ACCEPTED;
}

enum sw_sip_reason sipd_guard_call_start(struct sipd_guard *g, const uint8_t src[16],
					 uint64_t now_ns, char *detail, size_t len)
{
	const struct sipd_config *c = g->cfg;
	struct src *s;

	if (!c->guard.enabled || sipd_guard_trusted(c, src))
		return SW_SIP_R_ACCEPTED;
	/* admit() usually created the entry already. */
	s = lookup(g, src, now_ns, 1);
	if (!s)
		return SW_SIP_R_ACCEPTED;
	s->last_ns = now_ns;
	if (s->calls >= c->max_calls_per_source) {
		snprintf(detail, len, "%u calls from this source (limits.max_calls_per_source)",
			 s->calls);
		return SW_SIP_R_DIALOG_LIMIT;
	}
	s->calls++;
	return SW_SIP_R_ACCEPTED;
}

void sipd_guard_call_end(struct sipd_guard *g, const uint8_t src[16])
{
	struct src *s = lookup(g, src, 0, 0);

	if (s && s->calls)
		s->calls--;
}

void sipd_guard_get_stats(const struct sipd_guard *g, struct sipd_guard_stats *out)
{
	*out = g->st;
}
