// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness over sipd's whole message path: datagram -> limits ->
 * framing -> strict checks -> libosip2 -> field extraction -> SDP, in strict
 * and lax mode, plus the SDP parser on the raw input. Besides crashes and
 * sanitizer reports it checks the contract of sipmsg_parse_datagram, and that
 * no keep-alive (sipmsg_keepalive) parses as a SIP message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/sdp.h"
#include "sipd/sipmsg.h"

#define REQUIRE(x)               \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

static void check_str(const char *s, size_t cap)
{
	REQUIRE(memchr(s, 0, cap) != NULL);
}

static void one(const char *buf, size_t len, int strict, int trailing)
{
	static struct sip_msg m;
	struct sip_limits lim;
	size_t used = 0;
	int r;

	sip_limits_default(&lim);
	lim.strict = strict;
	lim.allow_trailing = trailing;
	r = sipmsg_parse_datagram(buf, len, &lim, &m, &used);
	REQUIRE(r <= 0 && -r < SW_SIP_R_MAX);
	check_str(m.err_detail, sizeof(m.err_detail));
	if (r) {
		REQUIRE(m.err_detail[0] != 0);
		return;
	}
	REQUIRE(m.err_detail[0] == 0);
	REQUIRE(used <= len);
	REQUIRE(m.body >= buf && m.body + m.body_len <= buf + used);
	REQUIRE(m.trailing_len <= len - used);
	REQUIRE(m.is_request ? m.status == 0 : (m.status >= 100 && m.status <= 699));
	REQUIRE(m.cseq < (1u << 31));
	REQUIRE(m.max_forwards >= -1 && m.max_forwards <= 255);
	REQUIRE(m.via_count >= 1);
	REQUIRE(!m.is_request || (uint32_t)m.via_count <= lim.max_via);
	REQUIRE(m.call_id[0] != 0);
	check_str(m.method, sizeof(m.method));
	check_str(m.call_id, sizeof(m.call_id));
	check_str(m.from_tag, sizeof(m.from_tag));
	check_str(m.to_tag, sizeof(m.to_tag));
	check_str(m.from_user, sizeof(m.from_user));
	check_str(m.to_host, sizeof(m.to_host));
	check_str(m.user_agent, sizeof(m.user_agent));
	check_str(m.content_type, sizeof(m.content_type));
	check_str(m.via_branch, sizeof(m.via_branch));
	REQUIRE(m.header_names[sizeof(m.header_names) - 1] == 0);
	if (m.has_sdp) {
		int i;

		REQUIRE(m.sdp.n_media >= 0 && m.sdp.n_media <= SDP_MAX_MEDIA);
		for (i = 0; i < m.sdp.n_media; i++) {
			const struct sdp_media *md = &m.sdp.media[i];

			REQUIRE(md->port_count >= 1);
			REQUIRE(md->dir >= SDP_SENDRECV && md->dir <= SDP_INACTIVE);
			REQUIRE(!md->rtcp_mux || md->rtcp_port == 0);
			check_str(md->type, sizeof(md->type));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sdp_session s;
	const char *buf = (const char *)data;

	one(buf, size, 1, 1);
	one(buf, size, 0, 0);
	/* what sipd passes unparsed as a keep-alive is never a SIP message */
	if (sipmsg_keepalive(data, size) != SIP_KA_NONE) {
		static struct sip_msg m;
		struct sip_limits lim;
		int strict;

		for (strict = 0; strict < 2; strict++) {
			sip_limits_default(&lim);
			lim.strict = strict;
			REQUIRE(sipmsg_parse_datagram(buf, size, &lim, &m, NULL) != 0);
		}
	}
	if (sdp_parse(buf, size, &s) == 0)
		REQUIRE(s.n_media >= 0 && s.n_media <= SDP_MAX_MEDIA);
	return 0;
}
