/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Offer/answer -> sw_pinhole entries -> map writes.
 *
 * sipd_ph_plan() computes the complete set of pinholes a call should have from
 * its completed exchanges (pure); sipd_ph_apply() turns the difference with
 * what the call has in the map into one batched write of new and changed
 * entries, then deletes what is gone (new before old: moved media never sees
 * a gap). A failed write is rolled back, so nothing half-applies.
 */
#ifndef SIPD_PINHOLE_H
#define SIPD_PINHOLE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/swmap.h"
#include "sipd/cluster.h"
#include "sipd/config.h"
#include "sipd/dialog.h"
#include "sipd/events.h"

#define SIPD_PLAN_MAX  64 /* pinholes per call */
#define SIPD_PORTS_MAX 4  /* m=audio P/N: at most this many RTP ports */

struct sipd_ph_plan {
	unsigned int n;
	struct sipd_ph ph[SIPD_PLAN_MAX];
	unsigned int dropped_sources;  /* forks beyond SW_MAX_SOURCES */
	unsigned int dropped_pinholes; /* beyond SIPD_PLAN_MAX */
	/* while planning: the config, and the datagram source of the SDP
	 * being planned from (vouched for or not) */
	const struct sipd_config *cfg;
	const uint8_t *cur_src;
	uint8_t cur_media; /* enum sw_media of the m= line being planned */
};

/* The map value of ph, owned by c; and back (the owner dropped). */
void sipd_ph_to_map(const struct sipd_ph_val *ph, const struct sipd_call *c, struct sw_pinhole *v);
void sipd_ph_from_map(struct sipd_ph_val *ph, const struct sw_pinhole *v);

void sipd_ph_plan(const struct sipd_call *c, const struct sipd_config *cfg, uint64_t now_ns,
		  struct sipd_ph_plan *out);

/* Which call owns which map key (all calls of one sipd), and which other
 * calls share it (SIPD_PH_SHARERS at most). */
#define SIPD_PH_SHARERS 4
struct sipd_ph_index;
struct sipd_ph_index *sipd_ph_index_new(void);
void sipd_ph_index_free(struct sipd_ph_index *x);
struct sipd_call *sipd_ph_index_get(const struct sipd_ph_index *x, const struct sw_pinhole_key *k);
/* Make owner the key's only claimant. */
int sipd_ph_index_add(struct sipd_ph_index *x, const struct sw_pinhole_key *k,
		      struct sipd_call *owner);
void sipd_ph_index_del(struct sipd_ph_index *x, const struct sw_pinhole_key *k);

struct sipd_ph_counters {
	uint64_t opened, updated, closed, map_errors;
	uint64_t shared;     /* claims joined to another call's entry */
	uint64_t taken_over; /* destinations moved from a live call (own word, same peer, dead) */
};

struct sipd_ph_ctx {
	const struct sw_maps *maps;
	struct sipd_ph_index *idx;
	struct sipd_events *ev;
	struct sipd_ph_counters *cnt;
	uint64_t takeover_idle_ns; /* an owner this quiet (SIP and media) is dead; 0 = never */
	struct sipd_cluster *cl;   /* replication (cluster.h); NULL = off */
};

/*
 * Make the map hold exactly plan for call c. why names the cause in events
 * ("answer", "reinvite", ...). A destination another live call owns is
 * shared when both want the same allowed sources, taken over when the SDP
 * naming it is the destination's own vouched-for word, comes from the same
 * vouched-for peer that named it in the owner, or the owner is dead (no SIP
 * and no media for takeover_idle_ns), and otherwise a conflict (-EEXIST), as
 * is a manual pinhole; one owned by a call in its BYE grace is taken over.
 * -E2BIG: map full. On any error nothing changed and detail says what
 * happened.
 */
int sipd_ph_apply(struct sipd_ph_ctx *x, struct sipd_call *c, const struct sipd_ph_plan *plan,
		  uint64_t now_ns, const char *why, char *detail, size_t len);

/* Read each pinhole's counters into c->ph[i].val, delete it, emit
 * pinhole_close; c->ph stays for the CDR (n_ph unchanged). */
void sipd_ph_close_all(struct sipd_ph_ctx *x, struct sipd_call *c, uint64_t now_ns,
		       const char *why);

/* Sum of packets and the latest last_seen_ns over the call's pinholes. */
int sipd_ph_activity(struct sipd_ph_ctx *x, const struct sipd_call *c, uint64_t *packets,
		     uint64_t *last_seen_ns);

const char *sipd_kind_name(unsigned int kind);

#endif /* SIPD_PINHOLE_H */
