/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replicated record (docs/ha.md): what one node tells the others about a
 * pinhole it opened, updated or closed, or a ban it added. A line of text,
 * versioned ("swc1"), parsed strictly: every field has one spelling, so a
 * record that does not parse is counted and skipped, never half-applied.
 *
 *   swc1 ph  OWNER EPOCH SEQ TTL_MS KEY KIND MEDIA MIDX SIDE HASH NSRC SRC... CALLID
 *   swc1 phx OWNER EPOCH SEQ TTL_MS KEY HASH CLOSER
 *   swc1 ban OWNER EPOCH SEQ TTL_MS ADDR PLEN REASON
 *
 * KEY = 32 hex digits of the destination address (v4-mapped) "." port;
 * SRC = 32 hex digits "." port "." check "." flags; HASH = 16 hex digits;
 * CALLID = hex of the (truncated) Call-ID, "-" when empty. Numbers are
 * decimal without leading zeros; hex is lower case.
 *
 * The conversion to and from the kernel's pinhole value is this module's
 * clrec_from_ph()/clrec_to_ph() pair, the one place that knows its layout.
 */
#ifndef SIPD_CLREC_H
#define SIPD_CLREC_H

#include <stddef.h>
#include <stdint.h>

#include "sipwall_maps.h"
#include "lib/swmap.h" /* struct sw_pinhole: the joined userspace view */

#define CLREC_MAX_LEN  1024 /* a longer record is refused */
#define CLREC_NODE_LEN 32   /* node ids: [A-Za-z0-9._-]{1,31} */
#define CLREC_KEY_LEN  40   /* KEY text with its NUL */

enum clrec_type {
	CLREC_PH = 1,	/* a pinhole open or update */
	CLREC_PH_CLOSE, /* a pinhole closed: a tombstone */
	CLREC_BAN,	/* a ban added */
};

struct clrec_src {
	uint8_t addr[16];
	uint16_t port; /* host order */
	uint8_t check, flags;
};

struct clrec {
	enum clrec_type type;
	char owner[CLREC_NODE_LEN];
	uint64_t epoch; /* the owner's start (Redis TIME, us): restarts order */
	uint64_t seq;	/* per owner process, only grows */
	uint64_t ttl_ms;
	/* CLREC_PH, CLREC_PH_CLOSE */
	uint8_t addr[16];
	uint16_t port; /* host order */
	uint64_t call_hash;
	/* CLREC_PH */
	uint8_t kind, media, media_idx, side;
	unsigned int nsrc;
	struct clrec_src src[SW_MAX_SOURCES];
	char call_id[SW_CALL_ID_LEN + 1];
	/* CLREC_PH_CLOSE: who closed it (the owner, or a node that took over) */
	char closer[CLREC_NODE_LEN];
	/* CLREC_BAN: addr (masked), prefix length (v4-mapped terms), reason */
	uint8_t plen;
	uint32_t reason;
};

/* Why a record was refused: named the same in counters, logs and tests. */
#define CLREC_ERRORS(X)                     \
	X(OK, "ok")                         \
	X(TOO_LONG, "record_too_long")      \
	X(VERSION, "record_bad_version")    \
	X(TYPE, "record_bad_type")          \
	X(FIELD, "record_bad_field")        \
	X(FIELDS, "record_bad_field_count") \
	X(RANGE, "record_out_of_range")
#define CLREC_X_ENUM(n, s) CLREC_E_##n,
enum clrec_err { CLREC_ERRORS(CLREC_X_ENUM) CLREC_E_MAX };
#undef CLREC_X_ENUM
const char *clrec_err_name(unsigned int e);

/* Parse len bytes (no NUL needed). 0 and *out filled, or an enum clrec_err;
 * what is out then is unspecified. */
int clrec_parse(const char *s, size_t len, struct clrec *out);
/* The text form; the record's length, or -1 if it does not fit or a field
 * is out of range (a record this writes always parses back). */
int clrec_format(const struct clrec *r, char *buf, size_t len);

/* Valid node id: 1..31 of [A-Za-z0-9._-]. */
int clrec_node_ok(const char *s);
/* The KEY text of a destination ("<32 hex>.<port>"); buf >= CLREC_KEY_LEN. */
void clrec_key_text(const uint8_t addr[16], uint16_t port, char *buf);

/* Kernel pinhole value <-> record: the one pair that knows the layout. */
void clrec_from_ph(struct clrec *r, const struct sw_pinhole_key *k, const struct sw_pinhole *v);
/* The value to write for a record received (counters zero, created now). */
void clrec_to_ph(const struct clrec *r, struct sw_pinhole_key *k, struct sw_pinhole *v,
		 uint64_t now_ns);

#endif /* SIPD_CLREC_H */
