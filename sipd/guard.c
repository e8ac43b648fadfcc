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
#include "sipd/budget.h"
#include "sipd/guard.h"

#define NS	   1000000000ull
#define PROBE	   16		/* slots looked at per key: bounds the cost */
#define TOKEN_ONE  (1ull << 16) /* fixed point of the message bucket */
#define RECHECK_NS (NS / 2)	/* sipd's ban looked up in sw_bans at most this often */

enum trig { T_MALFORMED, T_AUTH, T_NOTFOUND, T_MAX };

struct src {
	uint8_t key[16]; /* masked to the source prefix (limits.source_prefix_*) */
	uint8_t used;
	uint32_t calls;	  /* live calls started by this source */
	uint32_t parties; /* live answered calls it is the callee of */
	uint64_t last_ns; /* last time anything touched the entry */
	uint64_t tokens;  /* message bucket, TOKEN_ONE per message */
	uint64_t tok_ns;
	uint64_t banned_until; /* sipd's clock; 0 = not banned */
	uint64_t check_ns;     /* next look at sw_bans for that ban */
	uint8_t ban_key[16];   /* what is banned: a source masked to the ban prefix */
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
	sipd_guard_check_fn check;
	sipd_guard_refused_fn refused;
	uint64_t ban_tokens, ban_tok_ns; /* ban rate bucket, TOKEN_ONE per ban */
	uint32_t ban_entries, ban_capacity;
	struct sipd_guard_stats st;
};

const char *sipd_ban_refusal_name(unsigned int why)
{
	static const char *const names[SIPD_BAN_REFUSAL_MAX] = {
		[SIPD_BAN_SPARED] = "valuable_source",
		[SIPD_BAN_RATE] = "rate",
		[SIPD_BAN_HEADROOM] = "headroom",
	};

	return why < SIPD_BAN_REFUSAL_MAX ? names[why] : "?";
}

void sipd_guard_set_hooks(struct sipd_guard *g, sipd_guard_check_fn check,
			  sipd_guard_refused_fn refused)
{
	g->check = check;
	g->refused = refused;
}

void sipd_guard_set_ban_fill(struct sipd_guard *g, uint32_t entries, uint32_t capacity)
{
	g->ban_entries = entries;
	g->ban_capacity = capacity;
}

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

static uint8_t mask_to(const uint8_t src[16], uint8_t v4, uint8_t v6, uint8_t out[16])
{
	uint8_t plen = sw_addr_is_v4(src) ? 96 + v4 : v6;

	memcpy(out, src, 16);
	sw_addr_mask(out, plen);
	return plen;
}

uint8_t sipd_guard_mask(const struct sipd_config *cfg, const uint8_t src[16], uint8_t out[16])
{
	return mask_to(src, cfg->guard.ban_prefix_v4, cfg->guard.ban_prefix_v6, out);
}

uint8_t sipd_guard_source_key(const struct sipd_config *cfg, const uint8_t src[16], uint8_t out[16])
{
	return mask_to(src, cfg->source_prefix_v4, cfg->source_prefix_v6, out);
}

/* Do a/alen and b/blen (v4-mapped terms) share an address? */
static int nets_overlap(const uint8_t a[16], unsigned int alen, const uint8_t b[16],
			unsigned int blen)
{
	uint8_t x[16], y[16];
	unsigned int n = alen < blen ? alen : blen;

	memcpy(x, a, 16);
	memcpy(y, b, 16);
	sw_addr_mask(x, n);
	sw_addr_mask(y, n);
	return !memcmp(x, y, 16);
}

static int idle(const struct src *s, uint64_t now_ns)
{
	return !s->calls && !s->parties && (!s->banned_until || now_ns >= s->banned_until);
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

	sipd_guard_source_key(g->cfg, src, key);
	h = (size_t)sipd_bucket_mix(sw_fnv1a64(key, sizeof(key)));
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

/*
 * Would banning b cut off something valuable? A source with live calls in
 * the banned network (s is the source's own entry; a ban prefix shorter than
 * the source prefix covers other entries too, looked up in the table), or
 * a networks.peers network that overlaps it.
 */
static int valuable(const struct sipd_guard *g, const struct src *s, const struct sipd_guard_ban *b)
{
	const struct sipd_config *c = g->cfg;
	uint8_t key[16];
	unsigned int i;
	size_t k;

	if (s && (s->calls || s->parties))
		return 1;
	for (i = 0; i < c->n_peers; i++)
		if (nets_overlap(c->peers[i].net.addr, c->peers[i].net.plen, b->addr, b->plen))
			return 1;
	if (b->plen >= sipd_guard_source_key(c, b->src, key))
		return 0;
	/* Only with a ban prefix wider than the source prefix (not the
	 * default); bans are rate limited, so this walk is too. */
	for (k = 0; k < g->size; k++)
		if (g->tab[k].used && (g->tab[k].calls || g->tab[k].parties) &&
		    nets_overlap(g->tab[k].key, 128, b->addr, b->plen))
			return 1;
	return 0;
}

/* One ban out of the guard.max_bans_per_s bucket; 0 when it is empty. */
static int ban_token(struct sipd_guard *g, uint64_t now_ns)
{
	const struct sipd_guard_cfg *c = &g->cfg->guard;
	uint64_t cap = (uint64_t)c->max_bans_burst * TOKEN_ONE, dt, add;

	if (!c->max_bans_per_s)
		return 1;
	if (!g->ban_tok_ns || now_ns < g->ban_tok_ns) {
		g->ban_tokens = cap;
	} else {
		dt = now_ns - g->ban_tok_ns;
		add = dt / NS * c->max_bans_per_s * TOKEN_ONE +
		      dt % NS * c->max_bans_per_s / (NS / TOKEN_ONE);
		g->ban_tokens = add > cap || g->ban_tokens + add > cap ? cap : g->ban_tokens + add;
	}
	g->ban_tok_ns = now_ns;
	if (g->ban_tokens < TOKEN_ONE)
		return 0;
	g->ban_tokens -= TOKEN_ONE;
	return 1;
}

/* sw_bans holds more than it may for automatic bans. */
static int map_too_full(const struct sipd_guard *g)
{
	uint64_t cap = g->ban_capacity;

	return cap && g->ban_entries >= cap - cap * g->cfg->guard.ban_map_headroom / 100;
}

static void refuse(struct sipd_guard *g, const struct sipd_guard_ban *b, enum sipd_ban_refusal why,
		   uint64_t now_ns)
{
	g->st.refused[why]++;
	if (g->refused)
		g->refused(g->ctx, b, why, now_ns);
}

static void ban(struct sipd_guard *g, struct src *s, const uint8_t addr[16], uint16_t port,
		enum sw_ban_reason reason, uint64_t now_ns, const char *detail)
{
	const struct sipd_config *c = g->cfg;
	struct sipd_guard_ban b = {0};
	unsigned int i;

	b.plen = sipd_guard_mask(c, addr, b.addr);
	memcpy(b.src, addr, 16);
	for (i = 0; i < c->guard.n_trusted; i++) {
		if (nets_overlap(c->guard.trusted[i].addr, c->guard.trusted[i].plen, b.addr,
				 b.plen)) {
			g->st.trusted_spared++;
			return;
		}
	}
	b.reason = reason;
	b.ttl_s = c->guard.ban_ttl_s;
	b.port = port;
	snprintf(b.detail, sizeof(b.detail), "%s", detail);
	if (s)
		memset(s->cnt, 0, sizeof(s->cnt));
	if (valuable(g, s, &b)) {
		refuse(g, &b, SIPD_BAN_SPARED, now_ns);
		return;
	}
	if (map_too_full(g)) {
		refuse(g, &b, SIPD_BAN_HEADROOM, now_ns);
		return;
	}
	if (!ban_token(g, now_ns)) {
		refuse(g, &b, SIPD_BAN_RATE, now_ns);
		return;
	}
	g->st.bans[reason]++;
	if (s) {
		s->banned_until = b.ttl_s ? now_ns + b.ttl_s * NS : UINT64_MAX;
		s->check_ns = now_ns + RECHECK_NS;
		memcpy(s->ban_key, b.addr, 16);
	}
	if (g->fn && g->fn(g->ctx, &b, now_ns))
		g->st.ban_errors++;
	else if (g->ban_entries < UINT32_MAX)
		g->ban_entries++;
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

/*
 * Does sipd's own ban in s cover src now? The ban map decides once the ban
 * is RECHECK_NS old: gone there (sipwall ban del, or never written) lifts it
 * here too. One lookup per banned entry per RECHECK_NS at most.
 */
static int banned(struct sipd_guard *g, struct src *s, const uint8_t src[16], uint64_t now_ns)
{
	uint8_t k[16];
	int r;

	if (now_ns >= s->banned_until) {
		s->banned_until = 0;
		return 0;
	}
	sipd_guard_mask(g->cfg, src, k);
	if (memcmp(k, s->ban_key, 16))
		return 0; /* another address of the entry's source prefix */
	if (!g->check || now_ns < s->check_ns)
		return 1;
	s->check_ns = now_ns + RECHECK_NS;
	g->st.ban_checks++;
	r = g->check(g->ctx, src);
	if (r)
		return 1; /* banned, or the map cannot tell */
	s->banned_until = 0;
	g->st.bans_lifted++;
	return 0;
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
	if (s->banned_until && banned(g, s, src, now_ns)) {
		snprintf(detail, len, "source banned by sipd");
		return SW_SIP_R_BANNED;
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

void sipd_guard_party(struct sipd_guard *g, const uint8_t addr[16], int delta, uint64_t now_ns)
{
	struct src *s = lookup(g, addr, now_ns, delta > 0);

	if (!s)
		return;
	if (delta > 0) {
		s->parties++;
		s->last_ns = now_ns;
	} else if (s->parties) {
		s->parties--;
	}
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
