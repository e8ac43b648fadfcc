/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Media extracted from an SDP body: what pinhole planning needs, nothing more.
 */
#ifndef SIPD_SDP_H
#define SIPD_SDP_H

#include <stddef.h>
#include <stdint.h>

#define SDP_MAX_MEDIA 8
#define SDP_MAX_CAND  3

enum sdp_dir {
	SDP_SENDRECV = 0,
	SDP_SENDONLY,
	SDP_RECVONLY,
	SDP_INACTIVE,
};

struct sdp_media {
	char type[16];	       /* audio, video, ... */
	uint8_t addr[16];      /* effective c= (media-level, else session), v4-mapped */
	uint8_t rtcp_addr[16]; /* a=rtcp: address when given, else addr */
	uint16_t port;	       /* m= port; 0 = stream off */
	uint16_t port_count;   /* m=audio 49170/2 -> 2; default 1 */
	uint16_t rtcp_port;    /* a=rtcp: port, else port+1; 0 with rtcp-mux */
	/* Bytes, not ints: a call keeps a copy of each m= line it negotiated
	 * (sdp_dup), so its size is memory per live call. */
	uint8_t addr_is_v4;
	uint8_t addr_v6_mapped; /* written IN IP6 ::ffff:a.b.c.d (refused as media) */
	uint8_t rtcp_v6_mapped; /* the same for the a=rtcp address */
	uint8_t hold_addr;	/* c= was 0.0.0.0 or :: (RFC 2543 hold) */
	uint8_t rtcp_mux;	/* a=rtcp-mux */
	uint8_t dir;		/* enum sdp_dir: media-level attribute, else session-level */
	/* ICE (RFC 8839 5.1): the first SDP_MAX_CAND UDP candidates of
	 * components 1 (RTP) and 2 (RTCP) with an IP address (host, srflx,
	 * relay: where this party may send from). Unreadable candidate lines
	 * are skipped, not errors: they are an extra, not the stream. */
	uint8_t n_cand;
	struct sdp_cand {
		uint8_t addr[16]; /* v4-mapped for IPv4 */
		uint16_t port;
		uint8_t comp; /* 1 RTP, 2 RTCP */
	} cand[SDP_MAX_CAND];
};

struct sdp_session {
	int n_media;
	/* Bit i: m= line i names an address sipd refused (addrcheck.h): it
	 * gets no pinhole in either direction. Set by sipd, not the parser. */
	uint8_t refused;
	/* Last: a stored copy (sdp_dup) holds only the first n_media. */
	struct sdp_media media[SDP_MAX_MEDIA];
};

/*
 * A heap copy of s holding only its n_media m= lines (what a call keeps per
 * offer and answer: one audio line is ~150 bytes, not the parser's full
 * SDP_MAX_MEDIA), with refused set; NULL when out of memory. Read it as any
 * session, never past media[n_media - 1], and never copy it by value.
 */
struct sdp_session *sdp_dup(const struct sdp_session *s, uint8_t refused);

/*
 * Parse an SDP body. Returns 0 on success, or a negative SIP drop reason
 * (-SW_SIP_R_...) naming what was wrong.
 */
int sdp_parse(const char *body, size_t len, struct sdp_session *out);

/* Same, and det (SDP_DET octets, may be NULL) says what was wrong. */
#define SDP_DET 128
int sdp_parse_detail(const char *body, size_t len, struct sdp_session *out, char *det);

/* "sendrecv", "sendonly", "recvonly", "inactive". */
const char *sdp_dir_name(enum sdp_dir d);

#endif /* SIPD_SDP_H */
