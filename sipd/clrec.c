// SPDX-License-Identifier: GPL-2.0-only
/* The replicated record's codec (clrec.h): strict text, one spelling. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "sipd/clrec.h"

#define CLREC_X_STR(n, s) s,
static const char *const err_names[] = {CLREC_ERRORS(CLREC_X_STR)};
#undef CLREC_X_STR

const char *clrec_err_name(unsigned int e)
{
	return e < CLREC_E_MAX ? err_names[e] : "?";
}

int clrec_node_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= CLREC_NODE_LEN)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static const char hexd[] = "0123456789abcdef";

static void hex_put(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexd[b[i] >> 4];
		out[2 * i + 1] = hexd[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case is another spelling: refused */
}

/* Exactly 2n lower-case hex digits. */
static int hex_get(const char *s, size_t slen, uint8_t *out, size_t n)
{
	if (slen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int h = hexv(s[2 * i]), l = hexv(s[2 * i + 1]);

		if (h < 0 || l < 0)
			return -1;
		out[i] = (uint8_t)(h << 4 | l);
	}
	return 0;
}

/* Decimal, no sign, no leading zero, <= max. */
static int dec_get(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!n || n > 20 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

void clrec_key_text(const uint8_t addr[16], uint16_t port, char *buf)
{
	hex_put(buf, addr, 16);
	snprintf(buf + 32, CLREC_KEY_LEN - 32, ".%u", port);
}

/* "HEX32.PORT" (a destination or a source without its modes). */
static int ep_get(const char *s, size_t n, uint8_t addr[16], uint16_t *port, const char **rest,
		  size_t *rest_n)
{
	const char *dot;
	uint64_t v;
	size_t pn;

	if (n < 34 || s[32] != '.' || hex_get(s, 32, addr, 16))
		return -1;
	dot = memchr(s + 33, '.', n - 33);
	pn = dot ? (size_t)(dot - (s + 33)) : n - 33;
	if (dec_get(s + 33, pn, 65535, &v))
		return -1;
	*port = (uint16_t)v;
	if (rest) {
		*rest = dot ? dot + 1 : NULL;
		*rest_n = dot ? n - 33 - pn - 1 : 0;
	} else if (dot) {
		return -1;
	}
	return 0;
}

#define MAX_TOK (13 + SW_MAX_SOURCES + 1)

struct toks {
	const char *t[MAX_TOK];
	size_t n[MAX_TOK];
	unsigned int count;
};

/* Single spaces between tokens, none at either end. */
static int split(const char *s, size_t len, struct toks *k)
{
	size_t i = 0;

	k->count = 0;
	while (i < len) {
		size_t j = i;

		while (j < len && s[j] != ' ')
			j++;
		if (j == i || k->count == MAX_TOK)
			return -1;
		k->t[k->count] = s + i;
		k->n[k->count++] = j - i;
		if (j == len)
			break;
		i = j + 1;
		if (i == len)
			return -1; /* trailing space */
	}
	return k->count ? 0 : -1;
}

static int tok_is(const struct toks *k, unsigned int i, const char *w)
{
	return k->n[i] == strlen(w) && !memcmp(k->t[i], w, k->n[i]);
}

static int node_get(const struct toks *k, unsigned int i, char out[CLREC_NODE_LEN])
{
	if (k->n[i] >= CLREC_NODE_LEN)
		return -1;
	memcpy(out, k->t[i], k->n[i]);
	out[k->n[i]] = '\0';
	return clrec_node_ok(out) ? 0 : -1;
}

static int u_get(const struct toks *k, unsigned int i, uint64_t max, uint64_t *out)
{
	return dec_get(k->t[i], k->n[i], max, out);
}

#define TTL_MAX_MS (8ULL * 24 * 3600 * 1000) /* a week and a day */

int clrec_parse(const char *s, size_t len, struct clrec *r)
{
	struct toks k;
	uint64_t v;
	unsigned int i;

	if (len > CLREC_MAX_LEN)
		return CLREC_E_TOO_LONG;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 && s[i] != ' ')
			return CLREC_E_FIELD; /* control bytes, NUL, tabs */
	if (split(s, len, &k) || k.count < 2)
		return CLREC_E_FIELDS;
	if (!tok_is(&k, 0, "swc1"))
		return CLREC_E_VERSION;
	memset(r, 0, sizeof(*r));
	if (tok_is(&k, 1, "ph"))
		r->type = CLREC_PH;
	else if (tok_is(&k, 1, "phx"))
		r->type = CLREC_PH_CLOSE;
	else if (tok_is(&k, 1, "ban"))
		r->type = CLREC_BAN;
	else
		return CLREC_E_TYPE;
	if (k.count < 7)
		return CLREC_E_FIELDS;
	if (node_get(&k, 2, r->owner) || u_get(&k, 3, UINT64_MAX, &r->epoch) ||
	    u_get(&k, 4, UINT64_MAX, &r->seq))
		return CLREC_E_FIELD;
	if (u_get(&k, 5, UINT64_MAX, &v))
		return CLREC_E_FIELD;
	if (!v || v > TTL_MAX_MS)
		return CLREC_E_RANGE;
	r->ttl_ms = v;

	if (r->type == CLREC_BAN) {
		if (k.count != 9)
			return CLREC_E_FIELDS;
		if (hex_get(k.t[6], k.n[6], r->addr, 16) || u_get(&k, 7, 255, &v))
			return CLREC_E_FIELD;
		if (v < 1 || v > 128 ||
		    (!memcmp(r->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) ? v < 96 : 0))
			return CLREC_E_RANGE;
		r->plen = (uint8_t)v;
		if (u_get(&k, 8, UINT32_MAX, &v))
			return CLREC_E_FIELD;
		if (v >= SW_BAN_MAX)
			return CLREC_E_RANGE;
		r->reason = (uint32_t)v;
		{
			uint8_t m[16];

			memcpy(m, r->addr, 16);
			for (i = r->plen; i < 128; i++)
				m[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
			if (memcmp(m, r->addr, 16))
				return CLREC_E_RANGE; /* host bits: another spelling */
		}
		return CLREC_E_OK;
	}

	if (ep_get(k.t[6], k.n[6], r->addr, &r->port, NULL, NULL))
		return CLREC_E_FIELD;
	if (!r->port)
		return CLREC_E_RANGE;
	if (r->type == CLREC_PH_CLOSE) {
		if (k.count != 9)
			return CLREC_E_FIELDS;
		if (hex_get(k.t[7], k.n[7], (uint8_t *)&v, 8))
			return CLREC_E_FIELD;
		r->call_hash = be64toh(v);
		if (node_get(&k, 8, r->closer))
			return CLREC_E_FIELD;
		return r->call_hash ? CLREC_E_OK : CLREC_E_RANGE;
	}

	/* CLREC_PH */
	if (k.count < 13)
		return CLREC_E_FIELDS;
	{
		uint64_t kind, media, midx, side, nsrc;

		if (u_get(&k, 7, 255, &kind) || u_get(&k, 8, 255, &media) ||
		    u_get(&k, 9, 255, &midx) || u_get(&k, 10, 255, &side))
			return CLREC_E_FIELD;
		if (kind > SW_KIND_RTP_RTCP_MUX || media > SW_MEDIA_OTHER || side > 1)
			return CLREC_E_RANGE;
		r->kind = (uint8_t)kind;
		r->media = (uint8_t)media;
		r->media_idx = (uint8_t)midx;
		r->side = (uint8_t)side;
		if (hex_get(k.t[11], k.n[11], (uint8_t *)&v, 8))
			return CLREC_E_FIELD;
		r->call_hash = be64toh(v);
		if (!r->call_hash)
			return CLREC_E_RANGE; /* manual pinholes are never replicated */
		if (u_get(&k, 12, 255, &nsrc))
			return CLREC_E_FIELD;
		if (!nsrc || nsrc > SW_MAX_SOURCES)
			return CLREC_E_RANGE;
		if (k.count != 13 + nsrc + 1)
			return CLREC_E_FIELDS;
		r->nsrc = (unsigned int)nsrc;
	}
	for (i = 0; i < r->nsrc; i++) {
		struct clrec_src *x = &r->src[i];
		const char *rest, *dot;
		size_t rn;
		uint64_t check, flags;

		if (ep_get(k.t[13 + i], k.n[13 + i], x->addr, &x->port, &rest, &rn) || !rest)
			return CLREC_E_FIELD;
		dot = memchr(rest, '.', rn);
		if (!dot || dec_get(rest, (size_t)(dot - rest), 255, &check) ||
		    dec_get(dot + 1, rn - (size_t)(dot - rest) - 1, 255, &flags))
			return CLREC_E_FIELD;
		if (check > SW_CHECK_SYMMETRIC ||
		    (flags & ~(uint64_t)(SW_SRC_ACTIVE | SW_SRC_LEARNED)) ||
		    !(flags & SW_SRC_ACTIVE))
			return CLREC_E_RANGE;
		x->check = (uint8_t)check;
		x->flags = (uint8_t)flags;
	}
	i = 13 + r->nsrc;
	if (tok_is(&k, i, "-"))
		return CLREC_E_OK;
	if (k.n[i] % 2 || k.n[i] > 2 * SW_CALL_ID_LEN ||
	    hex_get(k.t[i], k.n[i], (uint8_t *)r->call_id, k.n[i] / 2))
		return CLREC_E_FIELD;
	for (size_t j = 0; j < k.n[i] / 2; j++)
		if ((unsigned char)r->call_id[j] < 0x21 || (unsigned char)r->call_id[j] > 0x7e)
			return CLREC_E_RANGE; /* a Call-ID is printable words */
	return CLREC_E_OK;
}

int clrec_format(const struct clrec *r, char *buf, size_t len)
{
	static const char *const names[] = {
		[CLREC_PH] = "ph", [CLREC_PH_CLOSE] = "phx", [CLREC_BAN] = "ban"};
	char key[CLREC_KEY_LEN], h[2 * 16 + 1];
	size_t o;
	int n;

	if (r->type < CLREC_PH || r->type > CLREC_BAN || !clrec_node_ok(r->owner) || !r->ttl_ms ||
	    r->ttl_ms > TTL_MAX_MS)
		return -1;
	n = snprintf(buf, len, "swc1 %s %s %llu %llu %llu ", names[r->type], r->owner,
		     (unsigned long long)r->epoch, (unsigned long long)r->seq,
		     (unsigned long long)r->ttl_ms);
	if (n < 0 || (size_t)n >= len)
		return -1;
	o = (size_t)n;
	if (r->type == CLREC_BAN) {
		hex_put(h, r->addr, 16);
		n = snprintf(buf + o, len - o, "%s %u %u", h, r->plen, r->reason);
	} else {
		uint64_t be = htobe64(r->call_hash);

		clrec_key_text(r->addr, r->port, key);
		hex_put(h, (const uint8_t *)&be, 8);
		if (r->type == CLREC_PH_CLOSE) {
			if (!clrec_node_ok(r->closer))
				return -1;
			n = snprintf(buf + o, len - o, "%s %s %s", key, h, r->closer);
		} else {
			n = snprintf(buf + o, len - o, "%s %u %u %u %u %s %u", key, r->kind,
				     r->media, r->media_idx, r->side, h, r->nsrc);
			for (unsigned int i = 0; n >= 0 && (size_t)n < len - o && i < r->nsrc;
			     i++) {
				char sk[CLREC_KEY_LEN];
				size_t m = o + (size_t)n;
				int w;

				clrec_key_text(r->src[i].addr, r->src[i].port, sk);
				w = snprintf(buf + m, len - m, " %s.%u.%u", sk, r->src[i].check,
					     r->src[i].flags);
				n = w < 0 ? -1 : n + w;
			}
			if (n >= 0 && (size_t)n < len - o) {
				size_t m = o + (size_t)n, cl = strnlen(r->call_id, SW_CALL_ID_LEN);

				if (m + 2 + 2 * cl >= len)
					return -1;
				buf[m++] = ' ';
				if (!cl) {
					buf[m++] = '-';
					buf[m] = '\0';
				} else {
					hex_put(buf + m, (const uint8_t *)r->call_id, cl);
					m += 2 * cl;
				}
				n = (int)(m - o);
			}
		}
	}
	if (n < 0 || (size_t)n >= len - o || o + (size_t)n > CLREC_MAX_LEN)
		return -1;
	{
		struct clrec back;

		/* What this writes must parse back: a bad field fails here,
		 * at the writer, not at every reader. */
		if (clrec_parse(buf, o + (size_t)n, &back))
			return -1;
	}
	return (int)(o + (size_t)n);
}

void clrec_from_ph(struct clrec *r, const struct sw_pinhole_key *k, const struct sw_pinhole *v)
{
	unsigned int i;

	r->type = CLREC_PH;
	memcpy(r->addr, k->addr, 16);
	r->port = ntohs(k->port);
	r->call_hash = v->call_hash;
	r->kind = v->kind;
	r->media = v->media;
	r->media_idx = v->media_idx;
	r->side = v->side;
	r->nsrc = 0;
	for (i = 0; i < SW_MAX_SOURCES; i++) {
		struct clrec_src *x = &r->src[r->nsrc];

		if (!(v->src[i].flags & SW_SRC_ACTIVE))
			continue;
		memcpy(x->addr, v->src[i].addr, 16);
		x->port = ntohs(v->src[i].port);
		x->check = v->src[i].check;
		x->flags = v->src[i].flags & (SW_SRC_ACTIVE | SW_SRC_LEARNED);
		r->nsrc++;
	}
	memset(r->call_id, 0, sizeof(r->call_id));
	memcpy(r->call_id, v->call_id, SW_CALL_ID_LEN);
	/* Only printable bytes travel (a Call-ID is words). */
	for (i = 0; i < SW_CALL_ID_LEN && r->call_id[i]; i++)
		if ((unsigned char)r->call_id[i] < 0x21 || (unsigned char)r->call_id[i] > 0x7e) {
			r->call_id[i] = '\0';
			break;
		}
}

void clrec_to_ph(const struct clrec *r, struct sw_pinhole_key *k, struct sw_pinhole *v,
		 uint64_t now_ns)
{
	unsigned int i;

	memset(k, 0, sizeof(*k));
	memcpy(k->addr, r->addr, 16);
	k->port = htons(r->port);
	k->proto = IPPROTO_UDP;
	memset(v, 0, sizeof(*v));
	for (i = 0; i < r->nsrc && i < SW_MAX_SOURCES; i++) {
		memcpy(v->src[i].addr, r->src[i].addr, 16);
		v->src[i].port = htons(r->src[i].port);
		v->src[i].check = r->src[i].check;
		v->src[i].flags = r->src[i].flags;
	}
	v->created_ns = now_ns;
	v->call_hash = r->call_hash;
	memcpy(v->call_id, r->call_id, strnlen(r->call_id, SW_CALL_ID_LEN));
	v->kind = r->kind;
	v->media_idx = r->media_idx;
	v->side = r->side;
	v->media = r->media;
}
