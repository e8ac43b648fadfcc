// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rtpengine "ng" control protocol layer (see ng.h): cookie, bencode
 * dictionary, request checks, sorted replies, a retransmission cache keyed by
 * (cookie, source) and an access list, over non-blocking UDP and Unix
 * datagram sockets. Everything is bounded and allocated at open: a request
 * is decoded into the pool of one struct sipd_benc and answered from one
 * reply arena, both inside struct sipd_ng.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sipd/ng.h"

/* ---- replies ---------------------------------------------------------- */

enum { RI_STR = 1, RI_INT, RI_LIST, RI_DICT };
#define RNONE	    0xffffu
#define REPLY_ARENA (64u << 10)

struct ritem {
	uint8_t type;
	uint16_t parent, first, last, next;
	uint32_t koff, klen; /* key in the arena (dict members) */
	uint32_t voff, vlen; /* RI_STR: value in the arena */
	const char *lit;     /* RI_STR: a literal value instead */
	int64_t i;	     /* RI_INT */
};

struct sipd_ng_reply {
	struct ritem item[SIPD_NG_REPLY_MAX_ITEMS];
	unsigned int n;
	uint16_t cur; /* innermost open container */
	unsigned int depth;
	int failed; /* first failure (negative errno), 0 none */
	char failed_why[96];
	int is_error;
	char reason[256];
	size_t used;
	uint8_t arena[REPLY_ARENA];
};

static void reply_reset(struct sipd_ng_reply *r)
{
	r->n = 2;
	r->cur = 0;
	r->depth = 0;
	r->failed = 0;
	r->failed_why[0] = '\0';
	r->is_error = 0;
	r->reason[0] = '\0';
	r->used = 6;
	memcpy(r->arena, "result", 6);
	r->item[0] = (struct ritem){
		.type = RI_DICT, .parent = RNONE, .first = 1, .last = 1, .next = RNONE};
	r->item[1] = (struct ritem){.type = RI_STR,
				    .parent = 0,
				    .first = RNONE,
				    .last = RNONE,
				    .next = RNONE,
				    .koff = 0,
				    .klen = 6,
				    .lit = "ok"};
}

__attribute__((format(printf, 3, 4))) static int reply_fail(struct sipd_ng_reply *r, int err,
							    const char *fmt, ...)
{
	va_list ap;

	if (r->failed)
		return r->failed;
	r->failed = err;
	va_start(ap, fmt);
	vsnprintf(r->failed_why, sizeof(r->failed_why), fmt, ap);
	va_end(ap);
	return err;
}

static int arena_put(struct sipd_ng_reply *r, const void *p, size_t n, uint32_t *off)
{
	if (n > sizeof(r->arena) - r->used)
		return reply_fail(r, -ENOSPC, "more than %u bytes of reply text", REPLY_ARENA);
	if (n)
		memcpy(r->arena + r->used, p, n);
	*off = (uint32_t)r->used;
	r->used += n;
	return 0;
}

/* A new value under the open container: its index, or a negative errno. */
static int reply_add(struct sipd_ng_reply *r, const char *key, uint8_t type)
{
	struct ritem *parent, *it;
	size_t klen = key ? strlen(key) : 0;
	int err;

	if (r->failed)
		return r->failed;
	parent = &r->item[r->cur];
	if (parent->type == RI_DICT && !key)
		return reply_fail(r, -EINVAL, "value without a key in a dictionary");
	if (parent->type == RI_LIST && key)
		return reply_fail(r, -EINVAL, "key \"%.32s\" inside a list", key);
	if (r->cur == 0 && (!strcmp(key, "result") || !strcmp(key, "error-reason")))
		return reply_fail(r, -EINVAL, "key %s is the layer's", key);
	if (parent->type == RI_DICT)
		for (uint16_t k = parent->first; k != RNONE; k = r->item[k].next)
			if (r->item[k].klen == klen &&
			    !memcmp(r->arena + r->item[k].koff, key, klen))
				return reply_fail(r, -EEXIST, "duplicate key \"%.32s\"", key);
	if (r->n == SIPD_NG_REPLY_MAX_ITEMS)
		return reply_fail(r, -ENOSPC, "more than %d values", SIPD_NG_REPLY_MAX_ITEMS);
	it = &r->item[r->n];
	*it = (struct ritem){
		.type = type, .parent = r->cur, .first = RNONE, .last = RNONE, .next = RNONE};
	if (key) {
		err = arena_put(r, key, klen, &it->koff);
		if (err)
			return err;
		it->klen = (uint32_t)klen;
	}
	if (parent->last == RNONE)
		parent->first = (uint16_t)r->n;
	else
		r->item[parent->last].next = (uint16_t)r->n;
	parent->last = (uint16_t)r->n;
	return (int)r->n++;
}

int sipd_ng_reply_bytes(struct sipd_ng_reply *r, const char *key, const void *p, size_t len)
{
	int i = reply_add(r, key, RI_STR);

	if (i < 0)
		return i;
	if (arena_put(r, p, len, &r->item[i].voff))
		return r->failed;
	r->item[i].vlen = (uint32_t)len;
	return 0;
}

int sipd_ng_reply_str(struct sipd_ng_reply *r, const char *key, const char *val)
{
	if (!val)
		return reply_fail(r, -EINVAL, "NULL string value");
	return sipd_ng_reply_bytes(r, key, val, strlen(val));
}

int sipd_ng_reply_int(struct sipd_ng_reply *r, const char *key, int64_t v)
{
	int i = reply_add(r, key, RI_INT);

	if (i < 0)
		return i;
	r->item[i].i = v;
	return 0;
}

static int reply_open(struct sipd_ng_reply *r, const char *key, uint8_t type)
{
	int i;

	if (!r->failed && r->depth == SIPD_NG_REPLY_MAX_DEPTH)
		return reply_fail(r, -EINVAL, "nesting deeper than %d", SIPD_NG_REPLY_MAX_DEPTH);
	i = reply_add(r, key, type);
	if (i < 0)
		return i;
	r->cur = (uint16_t)i;
	r->depth++;
	return 0;
}

int sipd_ng_reply_open_dict(struct sipd_ng_reply *r, const char *key)
{
	return reply_open(r, key, RI_DICT);
}

int sipd_ng_reply_open_list(struct sipd_ng_reply *r, const char *key)
{
	return reply_open(r, key, RI_LIST);
}

int sipd_ng_reply_close(struct sipd_ng_reply *r)
{
	if (r->failed)
		return r->failed;
	if (!r->depth)
		return reply_fail(r, -EINVAL, "close without an open container");
	r->cur = r->item[r->cur].parent;
	r->depth--;
	return 0;
}

int sipd_ng_reply_strlist(struct sipd_ng_reply *r, const char *key, const char *const *v,
			  unsigned int n)
{
	int err = sipd_ng_reply_open_list(r, key);

	for (unsigned int i = 0; !err && i < n; i++)
		err = sipd_ng_reply_str(r, NULL, v[i]);
	return err ? err : sipd_ng_reply_close(r);
}

int sipd_ng_reply_error(struct sipd_ng_reply *r, const char *fmt, ...)
{
	va_list ap;

	if (r->is_error)
		return 0; /* the first reason stands */
	r->is_error = 1;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	return 0;
}

int sipd_ng_reply_warning(struct sipd_ng_reply *r, const char *fmt, ...)
{
	char text[256];
	uint16_t cur = r->cur;
	unsigned int depth = r->depth;
	va_list ap;
	int err;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r->cur = 0;
	r->depth = 0;
	err = sipd_ng_reply_str(r, "warning", text);
	r->cur = cur;
	r->depth = depth;
	return err;
}

static int key_cmp(const struct sipd_ng_reply *r, uint16_t a, uint16_t b)
{
	const struct ritem *x = &r->item[a], *y = &r->item[b];
	uint32_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(r->arena + x->koff, r->arena + y->koff, n);

	return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

static void encode_item(struct sipd_benc_out *o, const struct sipd_ng_reply *r, uint16_t idx)
{
	const struct ritem *it = &r->item[idx];
	uint16_t kids[SIPD_NG_REPLY_MAX_ITEMS];
	unsigned int n = 0;

	switch (it->type) {
	case RI_STR:
		if (it->lit)
			sipd_benc_put_cstr(o, it->lit);
		else
			sipd_benc_put_str(o, r->arena + it->voff, it->vlen);
		return;
	case RI_INT:
		sipd_benc_put_int(o, it->i);
		return;
	case RI_LIST:
		sipd_benc_put_list(o);
		for (uint16_t k = it->first; k != RNONE; k = r->item[k].next)
			encode_item(o, r, k);
		sipd_benc_put_end(o);
		return;
	}
	/* a dictionary, keys in byte order (insertion sort: few keys) */
	for (uint16_t k = it->first; k != RNONE; k = r->item[k].next) {
		unsigned int j = n++;

		while (j && key_cmp(r, kids[j - 1], k) > 0) {
			kids[j] = kids[j - 1];
			j--;
		}
		kids[j] = k;
	}
	sipd_benc_put_dict(o);
	for (unsigned int j = 0; j < n; j++) {
		sipd_benc_put_str(o, r->arena + r->item[kids[j]].koff, r->item[kids[j]].klen);
		encode_item(o, r, kids[j]);
	}
	sipd_benc_put_end(o);
}

static void encode_error(struct sipd_benc_out *o, const char *reason)
{
	sipd_benc_put_dict(o);
	sipd_benc_put_cstr(o, "error-reason");
	sipd_benc_put_cstr(o, reason);
	sipd_benc_put_cstr(o, "result");
	sipd_benc_put_cstr(o, "error");
	sipd_benc_put_end(o);
}

/* COOKIE SP dict into out[0..cap): the length, or -ENOSPC. */
static int encode_reply(const struct sipd_ng_reply *r, const struct sipd_ng_str *cookie,
			uint8_t *out, size_t cap)
{
	struct sipd_benc_out o;
	char why[sizeof(r->failed_why) + 24];

	sipd_benc_out_init(&o, out, cap);
	sipd_benc_put_raw(&o, cookie->p, cookie->len);
	sipd_benc_put_raw(&o, " ", 1);
	if (r->failed) {
		snprintf(why, sizeof(why), "reply not built: %s", r->failed_why);
		encode_error(&o, why);
	} else if (r->is_error) {
		encode_error(&o, r->reason);
	} else {
		encode_item(&o, r, 0);
	}
	return o.overflow ? -ENOSPC : (int)o.len;
}

/* ---- retransmission cache ------------------------------------------------ */

#define CKEY_MAX (1 + SIPD_NG_MAX_COOKIE + 1 + sizeof(((struct sockaddr_un *)0)->sun_path))

struct centry {
	uint64_t t;
	uint32_t hash;
	int32_t hnext;
	uint8_t klen;
	uint8_t key[CKEY_MAX];
	uint8_t *reply;
	uint32_t rlen;
};

struct cache {
	struct centry *e; /* ring, oldest at (head - count) */
	int32_t *bucket;
	unsigned int cap, nb, head, count;
	size_t bytes, max_bytes;
	uint64_t ttl;
};

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static struct centry *cache_find(struct cache *c, const uint8_t *key, size_t klen, uint32_t h)
{
	for (int32_t i = c->bucket[h & (c->nb - 1)]; i >= 0; i = c->e[i].hnext)
		if (c->e[i].hash == h && c->e[i].klen == klen && !memcmp(c->e[i].key, key, klen))
			return &c->e[i];
	return NULL;
}

static void cache_drop_oldest(struct cache *c)
{
	unsigned int idx = (c->head + c->cap - c->count) % c->cap;
	struct centry *e = &c->e[idx];
	int32_t *pp = &c->bucket[e->hash & (c->nb - 1)];

	while (*pp >= 0 && *pp != (int32_t)idx)
		pp = &c->e[*pp].hnext;
	if (*pp == (int32_t)idx)
		*pp = e->hnext;
	c->bytes -= e->rlen;
	free(e->reply);
	e->reply = NULL;
	c->count--;
}

static void cache_expire(struct cache *c, uint64_t now)
{
	while (c->count) {
		const struct centry *e = &c->e[(c->head + c->cap - c->count) % c->cap];

		if (now < e->t + c->ttl && now >= e->t)
			break;
		cache_drop_oldest(c);
	}
}

/* 1 if an entry had to go before its time. */
static unsigned int cache_put(struct cache *c, const uint8_t *key, size_t klen, uint32_t h,
			      const uint8_t *reply, size_t rlen, uint64_t now)
{
	unsigned int evicted = 0;
	struct centry *e;
	uint8_t *copy;

	if (rlen > c->max_bytes || !(copy = malloc(rlen)))
		return 0;
	memcpy(copy, reply, rlen);
	while (c->count && (c->count == c->cap || c->bytes + rlen > c->max_bytes)) {
		cache_drop_oldest(c);
		evicted++;
	}
	e = &c->e[c->head];
	e->t = now;
	e->hash = h;
	e->klen = (uint8_t)klen;
	memcpy(e->key, key, klen);
	e->reply = copy;
	e->rlen = (uint32_t)rlen;
	e->hnext = c->bucket[h & (c->nb - 1)];
	c->bucket[h & (c->nb - 1)] = (int32_t)c->head;
	c->head = (c->head + 1) % c->cap;
	c->count++;
	c->bytes += rlen;
	return evicted;
}

/* ---- addresses ------------------------------------------------------------- */

struct acl {
	uint8_t a[16];
	unsigned int plen; /* of 128: IPv4 is ::ffff:0:0/96 + its prefix */
};

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int is_loopback(const uint8_t a[16])
{
	static const uint8_t one[16] = {[15] = 1};

	return !memcmp(a, one, 16) || (!memcmp(a, v4mapped, 12) && a[12] == 127);
}

static int prefix_match(const uint8_t *a, const uint8_t *b, unsigned int plen)
{
	unsigned int full = plen / 8, bits = plen % 8;

	if (memcmp(a, b, full))
		return 0;
	return !bits || !((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - bits)));
}

/* "1.2.3.4" or "2001:db8::1" into the 16-byte form. */
static int addr_parse(const char *s, uint8_t a[16], int *af)
{
	struct in_addr v4;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		memcpy(a, v4mapped, 12);
		memcpy(a + 12, &v4, 4);
		*af = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*af = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static int cidr_parse(const char *s, int allow_remote, struct acl *out, char *err, size_t errlen)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long n;
	char *end;
	int af;

	if (!hl || hl >= sizeof(host)) {
		snprintf(err, errlen, "control: controller \"%.64s\" is not an address or CIDR", s);
		return -EINVAL;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (addr_parse(host, out->a, &af)) {
		snprintf(err, errlen, "control: controller \"%.64s\" is not an address or CIDR", s);
		return -EINVAL;
	}
	n = af == AF_INET ? 32 : 128;
	if (slash) {
		errno = 0;
		n = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || errno || slash[1] < '0' || slash[1] > '9' ||
		    n > (af == AF_INET ? 32u : 128u)) {
			snprintf(err, errlen, "control: controller \"%.64s\": bad prefix length",
				 s);
			return -EINVAL;
		}
	}
	out->plen = (unsigned int)n + (af == AF_INET ? 96 : 0);
	for (unsigned int b = out->plen; b < 128; b++)
		if (out->a[b / 8] & (0x80 >> (b % 8))) {
			snprintf(err, errlen,
				 "control: controller \"%.64s\" has bits set past its prefix", s);
			return -EINVAL;
		}
	if (!allow_remote &&
	    !((out->plen >= 104 && !memcmp(out->a, v4mapped, 12) && out->a[12] == 127) ||
	      (out->plen == 128 && is_loopback(out->a)))) {
		snprintf(err, errlen,
			 "control: controller \"%.64s\" is not loopback (set control.allow_remote "
			 "to admit it)",
			 s);
		return -EINVAL;
	}
	return 0;
}

/* "ADDR:PORT" or "[V6]:PORT"; port 0 = any. */
static int listen_parse(const char *s, int allow_remote, struct sockaddr_storage *ss, socklen_t *sl,
			char *err, size_t errlen)
{
	char host[64];
	const char *h = s, *colon;
	size_t hl;
	unsigned long port;
	char *end;
	uint8_t a[16];
	int af;

	if (*s == '[') {
		colon = strchr(s, ']');
		if (!colon || colon[1] != ':')
			goto bad;
		h = s + 1;
		hl = (size_t)(colon - h);
		colon++;
	} else {
		colon = strchr(s, ':');
		if (!colon || strrchr(s, ':') != colon)
			goto bad;
		hl = (size_t)(colon - s);
	}
	if (!hl || hl >= sizeof(host))
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port > 65535 || colon[1] < '0' || colon[1] > '9')
		goto bad;
	if (addr_parse(host, a, &af) || (af == AF_INET) != (*s != '['))
		goto bad;
	if (!allow_remote && !is_loopback(a)) {
		snprintf(err, errlen,
			 "control: listen \"%.64s\" is not a loopback address (set "
			 "control.allow_remote to expose it)",
			 s);
		return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, a + 12, 4);
		*sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		memcpy(&sin6->sin6_addr, a, 16);
		*sl = sizeof(*sin6);
	}
	return 0;
bad:
	snprintf(
		err, errlen,
		"control: listen \"%.64s\": want \"ADDR:PORT\" or \"[V6ADDR]:PORT\" (port 0-65535)",
		s);
	return -EINVAL;
}

/* The 16-byte address and the port of an inet source; -1 otherwise. */
static int src_addr(const struct sockaddr_storage *ss, uint8_t a[16], uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		memcpy(a, v4mapped, 12);
		memcpy(a + 12, &sin->sin_addr, 4);
		*port = sin->sin_port;
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		memcpy(a, &sin6->sin6_addr, 16);
		*port = sin6->sin6_port;
		return 0;
	}
	return -1;
}

/* ---- the instance ------------------------------------------------------------ */

struct sipd_ng {
	struct sipd_ng_handler h;
	int udp_fd, unix_fd;
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct acl acl[SIPD_NG_MAX_CONTROLLERS];
	unsigned int nacl;
	unsigned int burst;
	uint64_t (*now_ns)(void);
	struct sipd_ng_stats st;
	struct cache cache;
	uint8_t *rx, *tx; /* socket buffers */
	struct sipd_benc dec;
	struct sipd_ng_req req;
	struct sipd_ng_reply reply;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int authorised(const struct sipd_ng *ng, const struct sockaddr_storage *from)
{
	uint8_t a[16];
	uint16_t port;

	if (from->ss_family == AF_UNIX)
		return 1; /* the socket file's mode decides */
	if (src_addr(from, a, &port))
		return 0;
	for (unsigned int i = 0; i < ng->nacl; i++)
		if (prefix_match(a, ng->acl[i].a, ng->acl[i].plen))
			return 1;
	return 0;
}

/* ---- requests -------------------------------------------------------------- */

enum key {
	K_COMMAND,
	K_CALL_ID,
	K_FROM_TAG,
	K_TO_TAG,
	K_VIA_BRANCH,
	K_SDP,
	K_FLAGS,
	K_REPLACE,
	K_SUPPORTS,
	K_RTCP_MUX,
	K_SDES,
	K_DIRECTION,
	K_RECEIVED_FROM,
	K_MEDIA_ADDRESS,
	K_ICE,
	K_ADDRESS_FAMILY,
	K_TRANSPORT_PROTOCOL,
	K_DTLS,
	K_RECORD_CALL,
	K_CODEC,
	K_LIMIT,
	K_DELETE_DELAY,
	K_COUNT
};

static const char *const key_name[K_COUNT] = {
	[K_COMMAND] = "command",
	[K_CALL_ID] = "call-id",
	[K_FROM_TAG] = "from-tag",
	[K_TO_TAG] = "to-tag",
	[K_VIA_BRANCH] = "via-branch",
	[K_SDP] = "sdp",
	[K_FLAGS] = "flags",
	[K_REPLACE] = "replace",
	[K_SUPPORTS] = "supports",
	[K_RTCP_MUX] = "rtcp-mux",
	[K_SDES] = "SDES",
	[K_DIRECTION] = "direction",
	[K_RECEIVED_FROM] = "received-from",
	[K_MEDIA_ADDRESS] = "media-address",
	[K_ICE] = "ICE",
	[K_ADDRESS_FAMILY] = "address-family",
	[K_TRANSPORT_PROTOCOL] = "transport-protocol",
	[K_DTLS] = "DTLS",
	[K_RECORD_CALL] = "record-call",
	[K_CODEC] = "codec",
	[K_LIMIT] = "limit",
	[K_DELETE_DELAY] = "delete-delay",
};

static const char *const cmd_name[SIPD_NG_CMD_MAX] = {
	[SIPD_NG_PING] = "ping",
	[SIPD_NG_OFFER] = "offer",
	[SIPD_NG_ANSWER] = "answer",
	[SIPD_NG_DELETE] = "delete",
	[SIPD_NG_QUERY] = "query",
	[SIPD_NG_LIST] = "list",
	[SIPD_NG_STATISTICS] = "statistics",
};

const char *sipd_ng_cmd_name(enum sipd_ng_cmd c)
{
	return c > 0 && c < SIPD_NG_CMD_MAX ? cmd_name[c] : "?";
}

/* rtpengine's key spelling: '-' and ' ' are the same character. */
static int key_is(const uint8_t *k, size_t klen, const char *name)
{
	size_t i;

	for (i = 0; i < klen && name[i]; i++) {
		uint8_t a = k[i], b = (uint8_t)name[i];

		if (a != b && !((a == '-' || a == ' ') && (b == '-' || b == ' ')))
			return 0;
	}
	return i == klen && !name[i];
}

/* Up to 40 bytes of s, other than visible ASCII shown as '?', for messages. */
static const char *printable(const uint8_t *s, size_t n, char buf[48])
{
	size_t i;

	for (i = 0; i < n && i < 40; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' ? (char)s[i] : '?';
	if (n > 40)
		memcpy(buf + i, "...", 4);
	else
		buf[i] = '\0';
	return buf;
}

static const char *a_type(enum sipd_benc_type t)
{
	return t == SIPD_BENC_INT    ? "an integer"
	       : t == SIPD_BENC_STR  ? "a string"
	       : t == SIPD_BENC_LIST ? "a list"
				     : "a dictionary";
}

struct pctx {
	struct sipd_ng_reply *r;
	const char *key; /* canonical name of the key being read */
};

__attribute__((format(printf, 2, 3))) static int bad(struct pctx *c, const char *fmt, ...)
{
	char text[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sipd_ng_reply_error(c->r, "key %s: %s", c->key, text);
	return -1;
}

static int want_str(struct pctx *c, const struct sipd_benc_node *v, struct sipd_ng_str *out)
{
	if (v->type != SIPD_BENC_STR)
		return bad(c, "want a string, got %s", a_type(v->type));
	out->p = v->s ? v->s : (const uint8_t *)"";
	out->len = v->len;
	return 0;
}

static int want_list(struct pctx *c, const struct sipd_benc_node *v, struct sipd_ng_strlist *l,
		     int one_str_ok)
{
	const struct sipd_benc_node *m;

	l->present = 1;
	l->n = 0;
	if (one_str_ok && v->type == SIPD_BENC_STR)
		return want_str(c, v, &l->v[l->n++]);
	if (v->type != SIPD_BENC_LIST)
		return bad(c, "want a list of strings, got %s", a_type(v->type));
	SIPD_BENC_FOREACH(m, v)
	{
		if (m->type != SIPD_BENC_STR)
			return bad(c, "entry %u is %s, want a string", l->n + 1, a_type(m->type));
		if (l->n == SIPD_NG_MAX_LIST)
			return bad(c, "more than %d entries", SIPD_NG_MAX_LIST);
		want_str(c, m, &l->v[l->n++]);
	}
	return 0;
}

/* An integer, or a string of up to 18 decimal digits (either form is sent). */
static int want_int(struct pctx *c, const struct sipd_benc_node *v, int64_t *out)
{
	int64_t n = 0;

	if (v->type == SIPD_BENC_INT) {
		*out = v->i;
		return 0;
	}
	if (v->type != SIPD_BENC_STR || !v->len || v->len > 18)
		return bad(c, "want an integer");
	for (uint32_t i = 0; i < v->len; i++) {
		if (v->s[i] < '0' || v->s[i] > '9')
			return bad(c, "want an integer");
		n = n * 10 + (v->s[i] - '0');
	}
	*out = n;
	return 0;
}

static int want_addr(struct pctx *c, const struct sipd_ng_str *s, int want_af, uint8_t a[16],
		     int *af)
{
	char buf[64], pb[48];

	if (s->len >= sizeof(buf) || memchr(s->p, '\0', s->len))
		return bad(c, "\"%s\" is not an IP address", printable(s->p, s->len, pb));
	memcpy(buf, s->p, s->len);
	buf[s->len] = '\0';
	if (addr_parse(buf, a, af) || (want_af && *af != want_af))
		return bad(c, "\"%s\" is not an %s address", printable(s->p, s->len, pb),
			   want_af == AF_INET	 ? "IPv4"
			   : want_af == AF_INET6 ? "IPv6"
						 : "IP");
	return 0;
}

static int parse_member(struct pctx *c, enum key k, const struct sipd_benc_node *v,
			struct sipd_ng_req *q)
{
	const struct sipd_benc_node *m;
	struct sipd_ng_str s;
	uint8_t a[16];
	int af;

	switch (k) {
	case K_COMMAND:
		return want_str(c, v, &s); /* looked up by the caller */
	case K_CALL_ID:
		return want_str(c, v, &q->call_id);
	case K_FROM_TAG:
		return want_str(c, v, &q->from_tag);
	case K_TO_TAG:
		return want_str(c, v, &q->to_tag);
	case K_VIA_BRANCH:
		return want_str(c, v, &q->via_branch);
	case K_SDP:
		return want_str(c, v, &q->sdp);
	case K_FLAGS:
		return want_list(c, v, &q->flags, 0);
	case K_REPLACE:
		return want_list(c, v, &q->replace, 0);
	case K_SUPPORTS:
		return want_list(c, v, &q->supports, 0);
	case K_RTCP_MUX:
		return want_list(c, v, &q->rtcp_mux, 1);
	case K_SDES:
		return want_list(c, v, &q->sdes, 1);
	case K_DIRECTION:
		if (v->type != SIPD_BENC_LIST || v->len != 2 || v->first->type != SIPD_BENC_STR ||
		    v->first->next->type != SIPD_BENC_STR)
			return bad(c, "want a list of 2 strings");
		want_str(c, v->first, &q->direction[0]);
		want_str(c, v->first->next, &q->direction[1]);
		q->has_direction = 1;
		return 0;
	case K_RECEIVED_FROM:
		if (v->type != SIPD_BENC_LIST || v->len != 2 || v->first->type != SIPD_BENC_STR ||
		    v->first->next->type != SIPD_BENC_STR)
			return bad(c, "want a list of 2 strings (\"IP4\" or \"IP6\", address)");
		m = v->first;
		want_str(c, m, &q->received_from.family);
		want_str(c, m->next, &q->received_from.address);
		if (sipd_benc_str_eq(m, "IP4"))
			af = AF_INET;
		else if (sipd_benc_str_eq(m, "IP6"))
			af = AF_INET6;
		else
			return bad(c, "address family is neither IP4 nor IP6");
		if (want_addr(c, &q->received_from.address, af, q->received_from.addr, &af))
			return -1;
		q->received_from.af = af;
		return 0;
	case K_MEDIA_ADDRESS:
		if (want_str(c, v, &q->media_address))
			return -1;
		return want_addr(c, &q->media_address, 0, a, &af);
	case K_ICE:
		return want_str(c, v, &q->ice);
	case K_ADDRESS_FAMILY:
		if (want_str(c, v, &q->address_family))
			return -1;
		if (!sipd_benc_str_eq(v, "IP4") && !sipd_benc_str_eq(v, "IP6"))
			return bad(c, "want IP4 or IP6");
		return 0;
	case K_TRANSPORT_PROTOCOL:
		return want_str(c, v, &q->transport_protocol);
	case K_DTLS:
		return want_str(c, v, &q->dtls);
	case K_RECORD_CALL:
		return want_str(c, v, &q->record_call);
	case K_CODEC:
		if (v->type != SIPD_BENC_DICT)
			return bad(c, "want a dictionary, got %s", a_type(v->type));
		q->codec = v;
		return 0;
	case K_LIMIT:
		if (want_int(c, v, &q->limit))
			return -1;
		return q->limit > 0 ? 0 : bad(c, "must be more than 0");
	case K_DELETE_DELAY:
		if (want_int(c, v, &q->delete_delay))
			return -1;
		return q->delete_delay >= 0 ? 0 : bad(c, "must not be negative");
	case K_COUNT:
		break;
	}
	return 0;
}

enum { P_OK, P_BAD, P_UNKNOWN };

static int need(struct sipd_ng_reply *r, const struct sipd_ng_str *s, const char *name)
{
	if (!s->p) {
		sipd_ng_reply_error(r, "missing key %s", name);
		return -1;
	}
	if (!s->len) {
		sipd_ng_reply_error(r, "empty %s", name);
		return -1;
	}
	return 0;
}

static int parse_req(const struct sipd_benc_node *dict, struct sipd_ng_req *q,
		     struct sipd_ng_reply *r)
{
	const struct sipd_benc_node *m, *cmd = NULL;
	uint32_t seen = 0;
	struct pctx c = {.r = r};
	char pb[48];
	int ok;

	SIPD_BENC_FOREACH(m, dict)
	{
		enum key k;

		for (k = 0; k < K_COUNT; k++)
			if (key_is(m->key, m->klen, key_name[k]))
				break;
		if (k == K_COUNT) {
			if (q->n_other == SIPD_NG_MAX_OTHER) {
				sipd_ng_reply_error(r, "more than %d unrecognised keys",
						    SIPD_NG_MAX_OTHER);
				return P_BAD;
			}
			q->other[q->n_other].key = (struct sipd_ng_str){m->key, m->klen};
			q->other[q->n_other++].val = m;
			continue;
		}
		if (seen & (1u << k)) {
			sipd_ng_reply_error(r, "duplicate key %s", key_name[k]);
			return P_BAD;
		}
		seen |= 1u << k;
		c.key = key_name[k];
		if (parse_member(&c, k, m, q))
			return P_BAD;
		if (k == K_COMMAND)
			cmd = m;
	}
	if (!cmd) {
		sipd_ng_reply_error(r, "missing key command");
		return P_BAD;
	}
	for (q->cmd = 1; q->cmd < SIPD_NG_CMD_MAX; q->cmd++)
		if (sipd_benc_str_eq(cmd, cmd_name[q->cmd]))
			break;
	if (q->cmd == SIPD_NG_CMD_MAX) {
		q->cmd = 0;
		sipd_ng_reply_error(r, "unknown command \"%s\"", printable(cmd->s, cmd->len, pb));
		return P_UNKNOWN;
	}
	switch (q->cmd) {
	case SIPD_NG_OFFER:
	case SIPD_NG_ANSWER:
		ok = !need(r, &q->call_id, "call-id") && !need(r, &q->from_tag, "from-tag") &&
		     (q->cmd == SIPD_NG_OFFER || !need(r, &q->to_tag, "to-tag")) &&
		     !need(r, &q->sdp, "sdp");
		break;
	case SIPD_NG_DELETE:
		ok = !need(r, &q->call_id, "call-id") && !need(r, &q->from_tag, "from-tag");
		break;
	case SIPD_NG_QUERY:
		ok = !need(r, &q->call_id, "call-id");
		break;
	default:
		ok = 1;
	}
	return ok ? P_OK : P_BAD;
}

/* ---- processing ------------------------------------------------------------ */

static size_t cache_key(uint8_t *key, const struct sipd_ng_str *cookie,
			const struct sockaddr_storage *from)
{
	size_t n = 0;
	uint8_t a[16];
	uint16_t port;

	key[n++] = (uint8_t)cookie->len;
	memcpy(key + n, cookie->p, cookie->len);
	n += cookie->len;
	if (!src_addr(from, a, &port)) {
		key[n++] = 'I';
		memcpy(key + n, a, 16);
		memcpy(key + n + 16, &port, 2);
		return n + 18;
	}
	key[n++] = 'U';
	memcpy(key + n, ((const struct sockaddr_un *)from)->sun_path,
	       sizeof(((struct sockaddr_un *)0)->sun_path));
	return n + sizeof(((struct sockaddr_un *)0)->sun_path);
}

static void answer(struct sipd_ng *ng, const uint8_t *body, size_t blen, size_t total)
{
	struct sipd_ng_reply *r = &ng->reply;
	struct sipd_ng_req *q = &ng->req;
	const struct sipd_benc_node *root;
	int rc;

	if (total > SIPD_NG_MAX_DGRAM) {
		ng->st.err_too_large++;
		sipd_ng_reply_error(r, "request of %zu bytes or more, the limit is %d", total,
				    SIPD_NG_MAX_DGRAM);
		return;
	}
	root = sipd_benc_decode(&ng->dec, body, blen);
	if (!root) {
		ng->st.err_decode++;
		sipd_ng_reply_error(r, "bad bencode: %s", ng->dec.err);
		return;
	}
	if (root->type != SIPD_BENC_DICT) {
		ng->st.err_decode++;
		sipd_ng_reply_error(r, "the message is %s, want a dictionary", a_type(root->type));
		return;
	}
	q->dict = root;
	switch (parse_req(root, q, r)) {
	case P_BAD:
		ng->st.err_request++;
		return;
	case P_UNKNOWN:
		ng->st.err_unknown_command++;
		return;
	}
	ng->st.commands[q->cmd]++;
	if (q->cmd == SIPD_NG_PING) {
		r->item[1].lit = "pong";
		return;
	}
	if (!ng->h.command) {
		ng->st.err_handler++;
		sipd_ng_reply_error(r, "command %s not implemented", cmd_name[q->cmd]);
		return;
	}
	ng->st.handler_calls++;
	rc = ng->h.command(ng->h.ctx, q, r);
	if (rc < 0 && !r->is_error)
		sipd_ng_reply_error(r, "internal error: %s", strerror(-rc));
	if (r->failed)
		ng->st.err_reply++;
	else if (r->is_error)
		ng->st.err_handler++;
}

int sipd_ng_process(struct sipd_ng *ng, const uint8_t *in, size_t len,
		    const struct sockaddr_storage *from, uint8_t *out, size_t *outlen)
{
	uint8_t key[CKEY_MAX];
	struct sipd_ng_str cookie;
	const uint8_t *sp;
	size_t cap, klen;
	uint32_t h;
	uint64_t now;
	struct centry *e;
	int n;

	if (!ng || !from || !out || !outlen || (!in && len))
		return -EINVAL;
	cap = *outlen;
	*outlen = 0;
	ng->st.received++;
	if (!authorised(ng, from)) {
		ng->st.dropped_unauthorised++;
		return 0;
	}
	sp = len ? memchr(in, ' ', len < SIPD_NG_MAX_COOKIE + 1 ? len : SIPD_NG_MAX_COOKIE + 1)
		 : NULL;
	if (!sp || sp == in) {
		ng->st.dropped_bad_cookie++;
		return 0;
	}
	for (const uint8_t *p = in; p < sp; p++)
		if (*p < 0x21 || *p > 0x7e) {
			ng->st.dropped_bad_cookie++;
			return 0;
		}
	cookie = (struct sipd_ng_str){in, (size_t)(sp - in)};
	now = ng->now_ns();
	cache_expire(&ng->cache, now);
	klen = cache_key(key, &cookie, from);
	h = fnv1a(key, klen);
	e = cache_find(&ng->cache, key, klen, h);
	if (e) {
		if (e->rlen > cap)
			return -ENOSPC;
		memcpy(out, e->reply, e->rlen);
		*outlen = e->rlen;
		ng->st.cache_hits++;
		ng->st.replied++;
		return 1;
	}

	memset(&ng->req, 0, sizeof(ng->req));
	ng->req.delete_delay = -1;
	ng->req.cookie = cookie;
	ng->req.from = from;
	reply_reset(&ng->reply);
	answer(ng, sp + 1, len - cookie.len - 1, len);
	n = encode_reply(&ng->reply, &cookie, out, cap);
	if (n < 0) {
		ng->st.err_reply++;
		reply_reset(&ng->reply);
		sipd_ng_reply_error(&ng->reply, "reply larger than %zu bytes", cap);
		n = encode_reply(&ng->reply, &cookie, out, cap);
		if (n < 0)
			return -ENOSPC;
	}
	ng->st.cache_evicted += cache_put(&ng->cache, key, klen, h, out, (size_t)n, now);
	ng->st.cache_entries = ng->cache.count;
	ng->st.replied++;
	*outlen = (size_t)n;
	return 1;
}

/* ---- sockets ----------------------------------------------------------------- */

static int open_udp(struct sipd_ng *ng, const struct sipd_ng_opts *o, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;

	if (listen_parse(o->listen, o->allow_remote, &ss, &sl, err, errlen))
		return -1;
	ng->udp_fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ng->udp_fd < 0) {
		snprintf(err, errlen, "control: socket: %s", strerror(errno));
		return -1;
	}
	if (ss.ss_family == AF_INET6)
		setsockopt(ng->udp_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(ng->udp_fd, (struct sockaddr *)&ss, sl) < 0) {
		snprintf(err, errlen, "control: cannot listen on %.64s: %s", o->listen,
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int open_unix(struct sipd_ng *ng, const struct sipd_ng_opts *o, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t pl = strlen(o->unix_path);
	mode_t mode = o->unix_mode ? (mode_t)o->unix_mode : 0660, old;
	struct stat st;
	int rc;

	if (pl >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control: unix path longer than %zu bytes",
			 sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, o->unix_path, pl);
	if (!lstat(o->unix_path, &st)) {
		/* a socket left by an earlier run goes; anything else stays */
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "control: %.100s exists and is not a socket",
				 o->unix_path);
			return -1;
		}
		unlink(o->unix_path);
	}
	ng->unix_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ng->unix_fd < 0) {
		snprintf(err, errlen, "control: socket: %s", strerror(errno));
		return -1;
	}
	/* never more open than 0600 between bind and chmod */
	old = umask(0177);
	rc = bind(ng->unix_fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc < 0) {
		snprintf(err, errlen, "control: cannot bind %.100s: %s", o->unix_path,
			 strerror(errno));
		return -1;
	}
	memcpy(ng->unix_path, o->unix_path, pl + 1);
	if (chmod(o->unix_path, mode) < 0) {
		snprintf(err, errlen, "control: chmod %.100s: %s", o->unix_path, strerror(errno));
		return -1;
	}
	return 0;
}

struct sipd_ng *sipd_ng_open(const struct sipd_ng_opts *o, const struct sipd_ng_handler *h,
			     char *err, size_t errlen)
{
	static const struct sipd_ng_opts defaults;
	struct sipd_ng *ng = calloc(1, sizeof(*ng));
	unsigned int cap;

	if (!o)
		o = &defaults;
	if (!ng) {
		snprintf(err, errlen, "control: out of memory");
		return NULL;
	}
	ng->udp_fd = ng->unix_fd = -1;
	if (h)
		ng->h = *h;
	ng->now_ns = o->now_ns ? o->now_ns : mono_ns;
	ng->burst = o->burst ? o->burst : SIPD_NG_BURST_DEFAULT;
	if (o->n_controllers > SIPD_NG_MAX_CONTROLLERS) {
		snprintf(err, errlen, "control: more than %d controllers", SIPD_NG_MAX_CONTROLLERS);
		goto fail;
	}
	for (unsigned int i = 0; i < o->n_controllers; i++)
		if (!o->controllers[i] ||
		    cidr_parse(o->controllers[i], o->allow_remote, &ng->acl[i], err, errlen))
			goto fail;
	ng->nacl = o->n_controllers;
	if (!ng->nacl) {
		cidr_parse("127.0.0.0/8", 0, &ng->acl[0], err, errlen);
		cidr_parse("::1", 0, &ng->acl[1], err, errlen);
		ng->nacl = 2;
	}
	cap = o->cache_max ? o->cache_max : SIPD_NG_CACHE_MAX_DEFAULT;
	if (cap > (1u << 20)) {
		snprintf(err, errlen, "control: cache of more than %u entries", 1u << 20);
		goto fail;
	}
	ng->cache.cap = cap;
	for (ng->cache.nb = 1; ng->cache.nb < 2 * cap;)
		ng->cache.nb <<= 1;
	ng->cache.ttl =
		(uint64_t)(o->cache_ttl_ms ? o->cache_ttl_ms : SIPD_NG_CACHE_TTL_MS_DEFAULT) *
		1000000ULL;
	ng->cache.max_bytes = o->cache_bytes ? o->cache_bytes : SIPD_NG_CACHE_BYTES_DEFAULT;
	ng->cache.e = calloc(cap, sizeof(*ng->cache.e));
	ng->cache.bucket = malloc(ng->cache.nb * sizeof(*ng->cache.bucket));
	if (!ng->cache.e || !ng->cache.bucket) {
		snprintf(err, errlen, "control: out of memory");
		goto fail;
	}
	memset(ng->cache.bucket, 0xff, ng->cache.nb * sizeof(*ng->cache.bucket));
	if (o->listen && *o->listen && open_udp(ng, o, err, errlen))
		goto fail;
	if (o->unix_path && *o->unix_path && open_unix(ng, o, err, errlen))
		goto fail;
	if (ng->udp_fd >= 0 || ng->unix_fd >= 0) {
		ng->rx = malloc(SIPD_NG_MAX_DGRAM + 1);
		ng->tx = malloc(SIPD_NG_MAX_DGRAM);
		if (!ng->rx || !ng->tx) {
			snprintf(err, errlen, "control: out of memory");
			goto fail;
		}
	}
	return ng;
fail:
	sipd_ng_close(ng);
	return NULL;
}

void sipd_ng_close(struct sipd_ng *ng)
{
	if (!ng)
		return;
	if (ng->udp_fd >= 0)
		close(ng->udp_fd);
	if (ng->unix_fd >= 0)
		close(ng->unix_fd);
	if (ng->unix_path[0])
		unlink(ng->unix_path);
	if (ng->cache.e)
		while (ng->cache.count)
			cache_drop_oldest(&ng->cache);
	free(ng->cache.e);
	free(ng->cache.bucket);
	free(ng->rx);
	free(ng->tx);
	free(ng);
}

unsigned int sipd_ng_fill(struct sipd_ng *ng, struct pollfd *p, unsigned int max)
{
	unsigned int n = 0;

	if (!ng)
		return 0;
	if (ng->udp_fd >= 0 && n < max)
		p[n++] = (struct pollfd){.fd = ng->udp_fd, .events = POLLIN};
	if (ng->unix_fd >= 0 && n < max)
		p[n++] = (struct pollfd){.fd = ng->unix_fd, .events = POLLIN};
	return n;
}

static void drain(struct sipd_ng *ng, int fd)
{
	for (unsigned int i = 0; i < ng->burst; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		size_t olen = SIPD_NG_MAX_DGRAM;
		ssize_t r;

		memset(&from, 0, sizeof(from));
		r = recvfrom(fd, ng->rx, SIPD_NG_MAX_DGRAM + 1, MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &fl);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				ng->st.recv_errors++;
			return;
		}
		if (fd == ng->unix_fd && fl <= offsetof(struct sockaddr_un, sun_path)) {
			ng->st.received++;
			ng->st.dropped_unaddressable++;
			continue;
		}
		/* longer than the buffer: processed as SIPD_NG_MAX_DGRAM + 1 bytes,
		 * which the size check refuses (with the cookie it carries) */
		if (r > SIPD_NG_MAX_DGRAM + 1)
			r = SIPD_NG_MAX_DGRAM + 1;
		if (sipd_ng_process(ng, ng->rx, (size_t)r, &from, ng->tx, &olen) == 1 &&
		    sendto(fd, ng->tx, olen, MSG_DONTWAIT, (struct sockaddr *)&from, fl) < 0)
			ng->st.send_errors++;
	}
}

void sipd_ng_service(struct sipd_ng *ng, const struct pollfd *p, unsigned int n)
{
	if (!ng)
		return;
	for (unsigned int k = 0; k < n; k++) {
		if (!(p[k].revents & (POLLIN | POLLERR)))
			continue;
		if (p[k].fd >= 0 && (p[k].fd == ng->udp_fd || p[k].fd == ng->unix_fd))
			drain(ng, p[k].fd);
	}
	cache_expire(&ng->cache, ng->now_ns());
	ng->st.cache_entries = ng->cache.count;
}

const struct sipd_ng_stats *sipd_ng_stats(const struct sipd_ng *ng)
{
	return &ng->st;
}

uint16_t sipd_ng_udp_port(const struct sipd_ng *ng)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	uint8_t a[16];
	uint16_t port;

	if (!ng || ng->udp_fd < 0 || getsockname(ng->udp_fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    src_addr(&ss, a, &port))
		return 0;
	return ntohs(port);
}
