/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hand-built parsed messages for the call-logic tests: what
 * sipmsg_parse_datagram() would hand to the filters and the dialog layer.
 * Alice (caller) is outside at 198.51.100.10, Bob (callee) inside at 10.1.0.5.
 */
#ifndef SW_TESTS_MSGS_H
#define SW_TESTS_MSGS_H

#include <stdio.h>
#include <string.h>

#include "lib/swmap.h"
#include "sipd/sipmsg.h"

#define ALICE "198.51.100.10"
#define BOB   "10.1.0.5"
#define BOB2  "10.1.0.6"
#define ATAG  "a-tag-1"
#define BTAG  "b-tag-1"
#define BTAG2 "b-tag-2"

static inline void t_addr(const char *s, uint8_t out[16])
{
	if (sw_addr_parse(s, out))
		fprintf(stderr, "bad test address %s\n", s);
}

/* One m=audio line; rtcp port+1 unless set later; dir given. */
static inline void t_sdp(struct sdp_session *s, const char *addr, uint16_t port, enum sdp_dir dir)
{
	struct sdp_media *m = &s->media[0];

	memset(s, 0, sizeof(*s));
	s->n_media = 1;
	snprintf(m->type, sizeof(m->type), "audio");
	t_addr(addr, m->addr);
	m->addr_is_v4 = sw_addr_is_v4(m->addr);
	m->hold_addr = !strcmp(addr, "0.0.0.0") || !strcmp(addr, "::");
	m->port = port;
	m->port_count = 1;
	m->rtcp_port = port ? (uint16_t)(port + 1) : 0;
	memcpy(m->rtcp_addr, m->addr, 16);
	m->dir = dir;
}

static inline void t_base(struct sip_msg *m, const char *call_id, const char *ftag,
			  const char *ttag, uint32_t cseq, const char *method)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->method, sizeof(m->method), "%s", method);
	snprintf(m->cseq_method, sizeof(m->cseq_method), "%s", method);
	snprintf(m->call_id, sizeof(m->call_id), "%s", call_id);
	m->call_hash = sw_fnv1a64(call_id, strlen(call_id));
	snprintf(m->from_tag, sizeof(m->from_tag), "%s", ftag);
	snprintf(m->to_tag, sizeof(m->to_tag), "%s", ttag ? ttag : "");
	m->cseq = cseq;
	m->max_forwards = 70;
	m->via_count = 1;
	/* header_names: NUL-separated, double NUL at the end */
	memcpy(m->header_names, "via\0from\0to\0call-id\0cseq\0\0", 27);
}

/* Request sent by Alice (from = alice) or Bob (from = bob). */
static inline void t_req(struct sip_msg *m, const char *method, const char *call_id, int from_bob,
			 const char *btag, uint32_t cseq)
{
	if (from_bob) {
		t_base(m, call_id, btag, ATAG, cseq, method);
		snprintf(m->from_user, sizeof(m->from_user), "bob");
		snprintf(m->from_host, sizeof(m->from_host), "inside.example");
		snprintf(m->to_user, sizeof(m->to_user), "alice");
		snprintf(m->to_host, sizeof(m->to_host), "outside.example");
		t_addr(BOB, m->src.addr);
		t_addr(ALICE, m->dst.addr);
	} else {
		t_base(m, call_id, ATAG, btag, cseq, method);
		snprintf(m->from_user, sizeof(m->from_user), "alice");
		snprintf(m->from_host, sizeof(m->from_host), "outside.example");
		snprintf(m->to_user, sizeof(m->to_user), "bob");
		snprintf(m->to_host, sizeof(m->to_host), "inside.example");
		t_addr(ALICE, m->src.addr);
		t_addr(BOB, m->dst.addr);
	}
	m->is_request = 1;
	m->src.port = m->dst.port = 5060;
}

/* Response to a request of Alice (to_alice = 0: Bob answers) or of Bob. */
static inline void t_resp(struct sip_msg *m, int status, const char *method, const char *call_id,
			  int to_bob_request, const char *btag, uint32_t cseq)
{
	t_req(m, method, call_id, to_bob_request, btag, cseq);
	m->is_request = 0;
	m->status = status;
	/* a response travels back: swap the datagram's ends */
	{
		struct sip_addr t = m->src;

		m->src = m->dst;
		m->dst = t;
	}
}

static inline void t_with_sdp(struct sip_msg *m, const char *addr, uint16_t port, enum sdp_dir dir)
{
	m->has_sdp = 1;
	snprintf(m->content_type, sizeof(m->content_type), "application/sdp");
	t_sdp(&m->sdp, addr, port, dir);
}

#endif /* SW_TESTS_MSGS_H */
