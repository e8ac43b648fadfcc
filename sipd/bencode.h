/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small, strict bencode decoder and encoder for the rtpengine "ng" control
 * protocol (sipd/ng.h).
 *
 * Decoder: one buffer of at most SIPD_BENC_MAX_INPUT bytes holding exactly
 * one value becomes a tree of nodes taken from a fixed pool inside struct
 * sipd_benc (no allocation). Nesting is bounded (SIPD_BENC_MAX_DEPTH) and so
 * is the number of values (SIPD_BENC_MAX_NODES: every integer, string, list
 * and dictionary counts one; dictionary keys do not). Strict:
 *   integers   i-3e; no leading zero, no "-0", no empty digits, no value
 *              outside int64_t
 *   strings    4:spam; no leading zero in the length, the length bounded by
 *              the rest of the input
 *   lists      l...e
 *   dicts      d<string key><value>...e; keys are byte strings in ANY order
 *              (Kamailio and rtpengine do not sort them) but a key may appear
 *              only once
 *   anything after the top value is an error.
 * An error leaves a message naming the offset and the problem in b->err,
 * e.g. "offset 17: string length 999 past the end of the input (12 bytes
 * left)". Nodes point into the input buffer: it must outlive the tree.
 *
 * Encoder: appends to a caller's bounded buffer; an overflow is remembered
 * and nothing is written past the capacity. Keys are written in call order
 * (sipd_ng_reply sorts its keys before encoding).
 */
#ifndef SIPD_BENCODE_H
#define SIPD_BENCODE_H

#include <stddef.h>
#include <stdint.h>

#define SIPD_BENC_MAX_DEPTH 16
#define SIPD_BENC_MAX_NODES 1024
#define SIPD_BENC_MAX_INPUT 65535

enum sipd_benc_type {
	SIPD_BENC_INT = 1,
	SIPD_BENC_STR,
	SIPD_BENC_LIST,
	SIPD_BENC_DICT,
};

struct sipd_benc_node {
	enum sipd_benc_type type;
	uint32_t off;		      /* offset of the value in the input */
	const uint8_t *key;	      /* member of a dict: its key, else NULL */
	uint32_t klen;		      /* its length */
	const uint8_t *s;	      /* STR: the bytes (not NUL-terminated) */
	uint32_t len;		      /* STR: byte count; LIST, DICT: member count */
	int64_t i;		      /* INT */
	struct sipd_benc_node *first; /* LIST, DICT: first member, NULL if empty */
	struct sipd_benc_node *next;  /* next member of the same parent, NULL last */
};

struct sipd_benc {
	struct sipd_benc_node node[SIPD_BENC_MAX_NODES];
	unsigned int n; /* nodes used by the last decode */
	size_t err_off; /* where the error is (valid after a failed decode) */
	char err[160];	/* "offset N: ..." */
};

/* Decode in[0..len) as one value. The root node, or NULL with b->err set. */
const struct sipd_benc_node *sipd_benc_decode(struct sipd_benc *b, const void *in, size_t len);

/* "integer", "string", "list", "dictionary". */
const char *sipd_benc_type_name(enum sipd_benc_type t);

/* Member of dict d whose key is key[0..klen), or NULL (also if d is not a
 * dictionary). */
const struct sipd_benc_node *sipd_benc_dict_getn(const struct sipd_benc_node *d, const void *key,
						 size_t klen);
const struct sipd_benc_node *sipd_benc_dict_get(const struct sipd_benc_node *d, const char *key);
/* The bytes of a string node (and its length in *len), NULL if n is not a
 * string. */
const uint8_t *sipd_benc_str(const struct sipd_benc_node *n, size_t *len);
/* 1 if n is a string equal to s. */
int sipd_benc_str_eq(const struct sipd_benc_node *n, const char *s);

/* Members of a list or dictionary, in input order. */
#define SIPD_BENC_FOREACH(m, parent) for ((m) = (parent)->first; (m); (m) = (m)->next)

/* Encoder over buf[0..cap). */
struct sipd_benc_out {
	uint8_t *p;
	size_t cap, len;
	int overflow; /* something did not fit: len stopped growing */
};

void sipd_benc_out_init(struct sipd_benc_out *o, void *buf, size_t cap);
void sipd_benc_put_raw(struct sipd_benc_out *o, const void *p, size_t n); /* as is */
void sipd_benc_put_int(struct sipd_benc_out *o, int64_t v);
void sipd_benc_put_str(struct sipd_benc_out *o, const void *p, size_t n);
void sipd_benc_put_cstr(struct sipd_benc_out *o, const char *s);
void sipd_benc_put_list(struct sipd_benc_out *o); /* open a list */
void sipd_benc_put_dict(struct sipd_benc_out *o); /* open a dict: then key, value, ... */
void sipd_benc_put_end(struct sipd_benc_out *o);  /* close the innermost one */

#endif /* SIPD_BENCODE_H */
