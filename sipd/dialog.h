/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Calls, their dialogs and offer/answer state. Pure state: no maps, no
 * events, no clock but the now_ns passed in, so the state machine is tested
 * with hand-built messages. A call is everything sharing one Call-ID; its
 * dialogs are told apart by the callee's tag (forked early dialogs).
 */
#ifndef SIPD_DIALOG_H
#define SIPD_DIALOG_H

#include <stdint.h>

#include "lib/swmap.h"
#include "sipwall_maps.h"
#include "sipd/budget.h"
#include "sipd/sipmsg.h"

#define SIPD_MAX_DIALOGS 8 /* early dialogs (forks) tracked per call */

enum sipd_party {
	SIPD_CALLER = 0, /* From of the initial INVITE */
	SIPD_CALLEE = 1,
};

struct sipd_dialog {
	char *tag; /* the callee's tag, a heap string (sipd_call_str) */
	/* Last completed offer/answer: each party's SDP. */
	struct sdp_session *neg[2];	 /* [enum sipd_party], sdp_dup copies (have_neg) */
	struct sdp_session *pending_sdp; /* sdp_dup copy while pending */
	/* sw_fnv1a64 of the method of the transaction that carried the
	 * answer / the pending offer: matched with its CSeq number. */
	uint64_t ans_method;
	uint64_t pending_method;
	uint32_t ans_cseq; /* transaction that carried the answer */
	uint32_t pending_cseq;
	uint8_t confirmed; /* a 2xx to the initial INVITE came */
	uint8_t have_neg;
	uint8_t neg_offerer; /* party whose SDP was the offer */
	/* Who gave each party's SDP: the datagram source, and whether that
	 * source is vouched for (a response matching a forwarded request, or
	 * a request from the inside): only such SDP may take a destination
	 * over from another call (pinhole.c). */
	uint8_t neg_auth[2];
	/* An offer waiting for its answer. */
	uint8_t pending;
	uint8_t pending_party;
	uint8_t pending_auth;
	uint8_t pending_inside; /* the offer came from an inside source */
	uint8_t neg_src[2][16];
	uint8_t ans_from[16];	/* source of the answer of the last exchange */
	uint8_t pending_to[16]; /* where the offer went: the answer must come from there */
	uint8_t pending_src[16];
};

/* What a call keeps of one of its pinholes: the map value without the
 * owner (the call itself names it), as last written; counters are the
 * final ones once the pinhole is closed. sipd_ph_to_map / _from_map
 * (pinhole.h) convert. */
struct sipd_ph_val {
	struct sw_source src[SW_MAX_SOURCES];
	uint64_t packets, bytes;
	uint64_t created_ns;
	uint32_t drops; /* the map counts them in 32 bits */
	uint8_t kind;
	uint8_t media_idx;
	uint8_t side;
	uint8_t media;
};

/* One pinhole the call owns in the map. */
struct sipd_ph {
	struct sw_pinhole_key key;
	/* The SDP naming this destination came from the destination's own
	 * address, in a message whose source is vouched for (a UA speaking
	 * for itself): it may take the destination over from another live
	 * call (pinhole.c, docs/security.md). */
	uint8_t self_named;
	/* Another call owns the map entry; this call shares it (same
	 * allowed sources: a B2BUA's two legs after direct media). */
	uint8_t shared;
	uint8_t named_auth; /* named_by is vouched for */
	uint8_t dst_inside; /* the destination is in networks.inside */
	struct sipd_ph_val val;
	uint8_t named_by[16];  /* source of the SDP that named the destination */
	uint8_t sent_by[16];   /* the same, vouched for or not */
	uint64_t base_packets; /* a shared entry's counters when this call joined */
	uint64_t base_bytes;
};

struct sipd_call {
	uint64_t hash; /* sw_fnv1a64(call_id) */
	/* Heap strings sized to their content (sipd_call_str), never NULL
	 * in a call from sipd_call_new/_adopted/_clone. */
	char *call_id;		    /* adopted calls: the truncated map copy */
	char *caller_tag;	    /* at most SIP_TAG_LEN - 1 bytes */
	char *caller;		    /* user@host of From, at most SIPD_PARTY_LEN - 1 */
	char *callee;		    /* user@host of To */
	struct sip_addr caller_sig; /* where the initial INVITE came from */
	struct sip_addr callee_sig; /* where the initial INVITE went */
	int have_callee_sig;
	/* Sides (networks.inside) of the two parties' signalling: roles are
	 * bound to these, not to what From/To tags claim. */
	uint8_t caller_inside, callee_inside;
	uint8_t midcall;    /* created by an in-dialog offer of a call sipd did not know */
	uint8_t answered;   /* a response matched one of its requests (call_start sent) */
	uint8_t privileged; /* started from inside or guard.trusted: may use the reserve */
	uint8_t cur_auth;   /* the message being handled has a vouched-for source */
	uint8_t cur_refused;
	uint8_t cur_inside;
	/* the message being handled came from the inside */ /* its SDP's m= lines refused (sdp_session.refused) */
	uint32_t charged;	  /* pinholes counted against its source's budget */
	struct sipd_src_use *use; /* that budget (unprivileged calls), or NULL */
	unsigned int direction;	  /* SIPD_DIR_* of the initial INVITE */
	uint32_t invite_cseq;
	uint64_t invite_branch; /* sw_fnv1a64 of its top Via branch (CANCEL names it) */
	int has_init_offer;
	struct sdp_session *init_offer; /* SDP of the initial INVITE (has_init_offer) */
	int confirmed, adopted;
	int status; /* final status of the initial INVITE */
	uint64_t start_ns, confirm_ns, last_sip_ns;
	uint64_t end_at_ns; /* BYE seen: close at this time */
	unsigned int n_dlg, dlg_cap;
	struct sipd_dialog *dlg; /* dlg_cap slots, grown up to SIPD_MAX_DIALOGS */
	unsigned int n_ph;
	struct sipd_ph *ph; /* pinholes in the map */
	/* media activity (idle timeout), in the now_ns clock */
	uint64_t media_pkts, last_media_ns, next_idle_ns;
	/* counters of pinholes already closed (moved media), for the CDR */
	uint64_t closed_pkts, closed_bytes;
	struct sipd_call *next; /* hash chain */
	/* unanswered calls of outside, untrusted callers, oldest first: the
	 * first to go when their share of the table is full */
	struct sipd_call *wait_prev, *wait_next;
	uint8_t waiting;
	/* Driven by a controller (the ng control API, control.c): its SDP
	 * comes from the proxy, not from SIP sipd reads; inline SIP of the
	 * call is recorded (transactions) but changes nothing. */
	uint8_t control;
	uint32_t ctl_cseq; /* the controller's last offer (the synthetic CSeq) */
};

/* What a message did to its call (dialog_update flags). */
#define SIPD_DLG_MEDIA	   (1u << 0) /* negotiated media changed: re-plan */
#define SIPD_DLG_END	   (1u << 1) /* the call ends now (*reason) */
#define SIPD_DLG_CONFIRMED (1u << 2) /* first 2xx to the initial INVITE */
#define SIPD_DLG_BYE	   (1u << 3) /* BYE: end_at_ns set */
#define SIPD_DLG_UNMATCHED (1u << 4) /* an answer not from where its offer went: ignored */
#define SIPD_DLG_IGNORED   (1u << 5) /* not the party or dialog it claims: changed nothing */
#define SIPD_DLG_OFFER	   (1u << 6) /* a new offer is pending (media.open_at_offer) */

/* A request that creates a call: INVITE without To tag. */
int sipd_is_initial_invite(const struct sip_msg *m);

#define SIPD_PARTY_LEN (2 * SIP_TOKEN_LEN + 2)

/* *dst = a heap copy of s cut to max - 1 bytes (the old one freed); -1
 * and *dst unchanged when out of memory. */
int sipd_call_str(char **dst, const char *s, size_t max);

struct sipd_call *sipd_call_new(const struct sip_msg *m, unsigned int dir, uint64_t now_ns);
/* An empty record for pinholes found in the map on start. */
struct sipd_call *sipd_call_adopted(uint64_t hash, const char *call_id, uint64_t created_ns);
struct sipd_call *sipd_call_clone(const struct sipd_call *c);
/* Frees what c owns (strings, SDP copies, dialogs, pinhole records) and
 * leaves it empty; c itself stays. */
void sipd_call_clear(struct sipd_call *c);
void sipd_call_free(struct sipd_call *c);

/*
 * Feed one accepted message of call c. bye_grace_ns: how long pinholes stay
 * after a BYE. Returns SIPD_DLG_* flags; with SIPD_DLG_END, *reason says why
 * ("cancel", "rejected").
 */
unsigned int sipd_dialog_update(struct sipd_call *c, const struct sip_msg *m, uint64_t now_ns,
				uint64_t bye_grace_ns, const char **reason);

int sipd_sdp_equal(const struct sdp_session *a, const struct sdp_session *b);

#endif /* SIPD_DIALOG_H */
