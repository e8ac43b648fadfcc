// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dialog / offer-answer state machine and the pinhole plan it yields,
 * driven by hand-built messages (no maps: the plan is what would be written).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <netinet/in.h>

#include "msgs.h"
#include "sipd/cluster.h"
#include "sipd/config.h"
#include "sipd/dialog.h"
#include "sipd/pinhole.h"

#define CID   "call-1@test"
#define NOW   1000000000000ull
#define GRACE 2000000000ull

static struct sipd_config *g_cfg;
static struct sipd_call *g_call;
static const char *g_reason;

static unsigned int feed(const struct sip_msg *m)
{
	unsigned int f;

	g_reason = NULL;
	f = sipd_dialog_update(g_call, m, NOW, GRACE, &g_reason);
	/* an offer is also SIPD_DLG_OFFER (media.open_at_offer): asserted
	 * in test_security.c, masked here where only exchanges matter */
	return f & ~SIPD_DLG_OFFER;
}

/* Start a call with Alice's INVITE (SDP at port aport, 0 = no SDP). */
static void start(uint16_t aport)
{
	struct sip_msg m;

	t_req(&m, "INVITE", CID, 0, NULL, 1);
	if (aport)
		t_with_sdp(&m, ALICE, aport, SDP_SENDRECV);
	g_call = sipd_call_new(&m, SIPD_DIR_INBOUND, NOW);
	assert_non_null(g_call);
	assert_int_equal(feed(&m), 0);
}

static void plan(struct sipd_ph_plan *p)
{
	sipd_ph_plan(g_call, g_cfg, NOW, p);
}

/* The plan entry for dst addr:port, or NULL. */
static const struct sipd_ph *find(const struct sipd_ph_plan *p, const char *addr, uint16_t port)
{
	struct sw_pinhole_key k;
	uint8_t a[16];
	unsigned int i;

	t_addr(addr, a);
	sw_pinhole_key_init(&k, a, port);
	for (i = 0; i < p->n; i++)
		if (!memcmp(&p->ph[i].key, &k, sizeof(k)))
			return &p->ph[i];
	return NULL;
}

static void expect_src(const struct sipd_ph *ph, unsigned int i, const char *addr, uint16_t port,
		       uint8_t check)
{
	uint8_t a[16];

	assert_non_null(ph);
	t_addr(addr, a);
	assert_true(ph->val.src[i].flags & SW_SRC_ACTIVE);
	assert_memory_equal(ph->val.src[i].addr, a, 16);
	assert_int_equal(ntohs(ph->val.src[i].port), port);
	assert_int_equal(ph->val.src[i].check, check);
}

static void expect_nsrc(const struct sipd_ph *ph, unsigned int n)
{
	unsigned int i, got = 0;

	assert_non_null(ph);
	for (i = 0; i < SW_MAX_SOURCES; i++)
		got += !!(ph->val.src[i].flags & SW_SRC_ACTIVE);
	assert_int_equal(got, n);
}

static int setup(void **state)
{
	char err[256];

	(void)state;
	if (sipd_config_parse("{\"networks\": {\"peers\": ["
			      "{\"cidr\": \"203.0.113.0/24\", \"check\": \"address\"}]}}",
			      "t", &g_cfg, err, sizeof(err)))
		return -1;
	g_call = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sipd_call_free(g_call);
	sipd_config_free(g_cfg);
	return 0;
}

static void test_invite_200_ack(void **state)
{
	struct sipd_ph_plan p;
	struct sip_msg m;
	const struct sipd_ph *ph;

	(void)state;
	start(16000);
	t_resp(&m, 100, "INVITE", CID, 0, NULL, 1);
	m.to_tag[0] = '\0';
	assert_int_equal(feed(&m), 0);
	t_resp(&m, 180, "INVITE", CID, 0, BTAG, 1);
	assert_int_equal(feed(&m), 0);
	plan(&p);
	assert_int_equal(p.n, 0); /* no answer yet: nothing opens */
	t_resp(&m, 200, "INVITE", CID, 0, BTAG, 1);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(feed(&m), SIPD_DLG_MEDIA | SIPD_DLG_CONFIRMED);
	assert_true(g_call->confirmed);
	t_req(&m, "ACK", CID, 0, BTAG, 1);
	assert_int_equal(feed(&m), 0);

	plan(&p);
	assert_int_equal(p.n, 4);
	/* Bob's RTP and RTCP accept only Alice's RTP and RTCP ports. */
	ph = find(&p, BOB, 12000);
	expect_src(ph, 0, ALICE, 16000, SW_CHECK_STRICT);
	expect_nsrc(ph, 1);
	assert_int_equal(ph->val.kind, SW_KIND_RTP);
	assert_int_equal(ph->val.side, 1); /* answerer's media */
	{
		/* what the map gets names the call */
		struct sw_pinhole v;

		sipd_ph_to_map(&ph->val, g_call, &v);
		assert_int_equal(v.call_hash, sw_fnv1a64(CID, strlen(CID)));
		assert_string_equal(v.call_id, CID);
		assert_int_equal(v.kind, SW_KIND_RTP);
		assert_memory_equal(v.src, ph->val.src, sizeof(v.src));
	}
	ph = find(&p, BOB, 12001);
	expect_src(ph, 0, ALICE, 16001, SW_CHECK_STRICT);
	assert_int_equal(ph->val.kind, SW_KIND_RTCP);
	ph = find(&p, ALICE, 16000);
	expect_src(ph, 0, BOB, 12000, SW_CHECK_STRICT);
	assert_int_equal(ph->val.side, 0); /* offerer's media */
	ph = find(&p, ALICE, 16001);
	expect_src(ph, 0, BOB, 12001, SW_CHECK_STRICT);
	assert_int_equal(ph->val.created_ns, NOW);
}

static void test_offer_in_200_answer_in_ack(void **state)
{
	struct sipd_ph_plan p;
	struct sip_msg m;

	(void)state;
	start(0);
	t_resp(&m, 200, "INVITE", CID, 0, BTAG, 1);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(feed(&m), SIPD_DLG_CONFIRMED); /* an offer only */
	plan(&p);
	assert_int_equal(p.n, 0);
	t_req(&m, "ACK", CID, 0, BTAG, 1);
	t_with_sdp(&m, ALICE, 16000, SDP_SENDRECV);
	assert_int_equal(feed(&m), SIPD_DLG_MEDIA);
	plan(&p);
	assert_int_equal(p.n, 4);
	expect_src(find(&p, BOB, 12000), 0, ALICE, 16000, SW_CHECK_STRICT);
	assert_int_equal(find(&p, BOB, 12000)->val.side, 0); /* Bob offered */
	expect_src(find(&p, ALICE, 16000), 0, BOB, 12000, SW_CHECK_STRICT);
}

static void test_early_media_forking(void **state)
{
	struct sipd_ph_plan p;
	struct sip_msg m;
	const struct sipd_ph *ph;

	(void)state;
	start(16000);
	t_resp(&m, 183, "INVITE", CID, 0, BTAG, 1);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(feed(&m), SIPD_DLG_MEDIA);
	t_resp(&m, 183, "INVITE", CID, 0, BTAG2, 1);
	t_with_sdp(&m, BOB2, 12002, SDP_SENDRECV);
	assert_int_equal(feed(&m), SIPD_DLG_MEDIA);
	assert_int_equal(g_call->n_dlg, 2);
	plan(&p);
	/* Alice's RTP/RTCP accept both forks; each fork's accepts Alice. */
	ph = find(&p, ALICE, 16000);
	expect_nsrc(ph, 2);
	expect_src(ph, 0, BOB, 12000, SW_CHECK_STRICT);
	expect_src(ph, 1, BOB2, 12002, SW_CHECK_STRICT);
	expect_nsrc(find(&p, ALICE, 16001), 2);
	expect_src(find(&p, BOB2, 12002), 0, ALICE, 16000, SW_CHECK_STRICT);
	assert_int_equal(p.n, 6);
	/* The 183 repeated in the 200 changes nothing; the other fork ends. */
	t_resp(&m, 200, "INVITE", CID, 0, BTAG2, 1);
	t_with_sdp(&m, BOB2, 12002, SDP_SENDRECV);
	assert_int_equal(feed(&m), SIPD_DLG_MEDIA | SIPD_DLG_CONFIRMED);
	assert_int_equal(g_call->n_dlg, 1);
	plan(&p);
	assert_int_equal(p.n, 4);
	expect_nsrc(find(&p, ALICE, 16000), 1);
	expect_src(find(&p, ALICE, 16000), 0, BOB2, 12002, SW_CHECK_STRICT);
	assert_null(find(&p, BOB, 12000));
}

static void test_prack_update(void **state)
{
	struct sipd_ph_plan p;
	struct sip_msg m;

	(void)state;
	start(0);
	/* reliable 183 carries Bob's offer, the PRACK Alice's answer */
	t_resp(&m, 183, "INVITE", CID, 0, BTAG, 1);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(feed(&m), 0);
	t_req(&m, "PRACK", CID, 0, BTAG, 2);
	t_with_sdp(&m, ALICE, 16000, SDP_SENDRECV);
	assert_int_equal(feed(&m), SIPD_DLG_MEDIA);
	t_resp(&m, 200, "PRACK", CID, 0, BTAG, 2);
	assert_int_equal(feed(&m), 0);
	plan(&p);
	expect_src(find(&p, BOB, 12000), 0, ALICE, 16000, SW_CHECK_STRICT);
	/* UPDATE in the early dialog moves Alice to port 16010 */
	t_req(&m, "UPDATE", CID, 0, BTAG, 3);
	t_with_sdp(&m, ALICE, 16010, SDP_SENDRECV);
	assert_int_equal(feed(&m), 0); /* offer: nothing moves yet */
	plan(&p);
	assert_non_null(find(&p, ALICE, 16000));
	t_resp(&m, 200, "UPDATE", CID, 0, BTAG, 3);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(feed(&m), SIPD_DLG_MEDIA);
	plan(&p);
	assert_int_equal(p.n, 4);
	assert_null(find(&p, ALICE, 16000));
	expect_src(find(&p, ALICE, 16010), 0, BOB, 12000, SW_CHECK_STRICT);
	expect_src(find(&p, BOB, 12000), 0, ALICE, 16010, SW_CHECK_STRICT);
	/* 200 to the INVITE without SDP just confirms */
	t_resp(&m, 200, "INVITE", CID, 0, BTAG, 1);
	assert_int_equal(feed(&m), SIPD_DLG_CONFIRMED);
}

static void establish(void)
{
	struct sip_msg m;

	start(16000);
	t_resp(&m, 200, "INVITE", CID, 0, BTAG, 1);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(feed(&m), SIPD_DLG_MEDIA | SIPD_DLG_CONFIRMED);
	t_req(&m, "ACK", CID, 0, BTAG, 1);
	feed(&m);
}

static void test_reinvite_move(void **state)
{
	struct sipd_ph_plan p;
	struct sip_msg m;

	(void)state;
	establish();
	/* Bob re-INVITEs from a new port; Alice answers unchanged */
	t_req(&m, "INVITE", CID, 1, BTAG, 1);
	t_with_sdp(&m, BOB, 12020, SDP_SENDRECV);
	assert_int_equal(feed(&m), 0);
	t_resp(&m, 200, "INVITE", CID, 1, BTAG, 1);
	t_with_sdp(&m, ALICE, 16000, SDP_SENDRECV);
	assert_int_equal(feed(&m), SIPD_DLG_MEDIA);
	plan(&p);
	assert_int_equal(p.n, 4);
	assert_null(find(&p, BOB, 12000));
	expect_src(find(&p, BOB, 12020), 0, ALICE, 16000, SW_CHECK_STRICT);
	expect_src(find(&p, ALICE, 16000), 0, BOB, 12020, SW_CHECK_STRICT);
	/* a rejected re-offer (488) changes nothing, and the next exchange
	 * is not mistaken for its answer */
	t_req(&m, "INVITE", CID, 0, BTAG, 2);
	t_with_sdp(&m, ALICE, 16040, SDP_SENDRECV);
	feed(&m);
	t_resp(&m, 488, "INVITE", CID, 0, BTAG, 2);
	/* re-planned: what the offer opened (media.open_at_offer) goes */
	assert_int_equal(feed(&m), SIPD_DLG_MEDIA);
	assert_int_equal(g_call->dlg[0].pending, 0);
	plan(&p);
	assert_non_null(find(&p, ALICE, 16000));
	/* a session refresh with the same SDP moves nothing */
	t_req(&m, "UPDATE", CID, 0, BTAG, 3);
	t_with_sdp(&m, ALICE, 16000, SDP_SENDRECV);
	assert_int_equal(feed(&m), 0);
}

static void test_hold(void **state)
{
	struct sipd_ph_plan p;
	struct sip_msg m;

	(void)state;
	establish();
	/* Alice holds with a=sendonly; Bob answers recvonly: only Bob
	 * receives RTP (music on hold); RTCP stays both ways. */
	t_req(&m, "INVITE", CID, 0, BTAG, 2);
	t_with_sdp(&m, ALICE, 16000, SDP_SENDONLY);
	feed(&m);
	t_resp(&m, 200, "INVITE", CID, 0, BTAG, 2);
	t_with_sdp(&m, BOB, 12000, SDP_RECVONLY);
	assert_int_equal(feed(&m), SIPD_DLG_MEDIA);
	plan(&p);
	assert_int_equal(p.n, 3);
	assert_non_null(find(&p, BOB, 12000));
	assert_null(find(&p, ALICE, 16000));
	assert_non_null(find(&p, ALICE, 16001));
	assert_non_null(find(&p, BOB, 12001));
	/* a=inactive: RTCP only */
	t_req(&m, "INVITE", CID, 0, BTAG, 3);
	t_with_sdp(&m, ALICE, 16000, SDP_INACTIVE);
	feed(&m);
	t_resp(&m, 200, "INVITE", CID, 0, BTAG, 3);
	t_with_sdp(&m, BOB, 12000, SDP_INACTIVE);
	assert_int_equal(feed(&m), SIPD_DLG_MEDIA);
	plan(&p);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.ph[0].val.kind, SW_KIND_RTCP);
	assert_int_equal(p.ph[1].val.kind, SW_KIND_RTCP);
	/* c=0.0.0.0: no address to check against, nothing stays open */
	t_req(&m, "INVITE", CID, 0, BTAG, 4);
	t_with_sdp(&m, "0.0.0.0", 16000, SDP_SENDRECV);
	feed(&m);
	t_resp(&m, 200, "INVITE", CID, 0, BTAG, 4);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(feed(&m), SIPD_DLG_MEDIA);
	plan(&p);
	assert_int_equal(p.n, 0);
	/* resume */
	t_req(&m, "INVITE", CID, 0, BTAG, 5);
	t_with_sdp(&m, ALICE, 16000, SDP_SENDRECV);
	feed(&m);
	t_resp(&m, 200, "INVITE", CID, 0, BTAG, 5);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(feed(&m), SIPD_DLG_MEDIA);
	plan(&p);
	assert_int_equal(p.n, 4);
}

static void test_sdp_variants(void **state)
{
	struct sipd_ph_plan p;
	struct sip_msg m, a;

	(void)state;
	/* two m= lines: audio with rtcp-mux on both sides, video port 0 in
	 * the answer; a=rtcp on a third (image) line */
	t_req(&m, "INVITE", CID, 0, NULL, 1);
	t_with_sdp(&m, ALICE, 16000, SDP_SENDRECV);
	m.sdp.n_media = 3;
	m.sdp.media[0].rtcp_mux = 1;
	m.sdp.media[0].rtcp_port = 0;
	m.sdp.media[1] = m.sdp.media[0];
	m.sdp.media[1].port = 16100;
	m.sdp.media[1].rtcp_mux = 0;
	m.sdp.media[1].rtcp_port = 16101;
	m.sdp.media[2] = m.sdp.media[1];
	m.sdp.media[2].port = 16200;
	m.sdp.media[2].rtcp_port = 16299; /* a=rtcp:16299 */
	g_call = sipd_call_new(&m, SIPD_DIR_INBOUND, NOW);
	feed(&m);
	t_resp(&a, 200, "INVITE", CID, 0, BTAG, 1);
	t_with_sdp(&a, "203.0.113.7", 12000, SDP_SENDRECV);
	a.sdp.n_media = 3;
	a.sdp.media[0].rtcp_mux = 1;
	a.sdp.media[0].rtcp_port = 0;
	a.sdp.media[1] = a.sdp.media[0];
	a.sdp.media[1].port = 0; /* video rejected */
	a.sdp.media[2] = a.sdp.media[0];
	a.sdp.media[2].port = 12200;
	a.sdp.media[2].rtcp_mux = 0;
	a.sdp.media[2].rtcp_port = 12201;
	feed(&a);
	plan(&p);
	/* audio: one mux pinhole each way; video: none; image: RTP + RTCP */
	assert_int_equal(p.n, 6);
	assert_int_equal(find(&p, ALICE, 16000)->val.kind, SW_KIND_RTP_RTCP_MUX);
	assert_null(find(&p, ALICE, 16001));
	assert_null(find(&p, ALICE, 16100));
	assert_int_equal(find(&p, ALICE, 16299)->val.kind, SW_KIND_RTCP);
	assert_int_equal(find(&p, ALICE, 16299)->val.media_idx, 2);
	expect_src(find(&p, ALICE, 16299), 0, "203.0.113.7", 12201,
		   SW_CHECK_ADDRESS); /* peer network configured "address" */
	expect_src(find(&p, "203.0.113.7", 12201), 0, ALICE, 16299, SW_CHECK_STRICT);
	assert_int_equal(find(&p, "203.0.113.7", 12000)->val.kind, SW_KIND_RTP_RTCP_MUX);
}

static void test_cancel_486_bye(void **state)
{
	struct sip_msg m;

	(void)state;
	start(16000);
	t_req(&m, "CANCEL", CID, 0, NULL, 1);
	assert_int_equal(feed(&m), SIPD_DLG_END);
	assert_string_equal(g_reason, "cancel");
	sipd_call_free(g_call);

	start(16000);
	t_resp(&m, 180, "INVITE", CID, 0, BTAG, 1);
	feed(&m);
	t_resp(&m, 486, "INVITE", CID, 0, BTAG, 1);
	assert_int_equal(feed(&m), SIPD_DLG_END);
	assert_string_equal(g_reason, "rejected");
	assert_int_equal(g_call->status, 486);
	sipd_call_free(g_call);

	/* CANCEL after the 200 does nothing; BYE arms the grace timer */
	establish();
	t_req(&m, "CANCEL", CID, 0, NULL, 1);
	assert_int_equal(feed(&m), 0);
	t_req(&m, "BYE", CID, 1, BTAG, 1);
	assert_int_equal(feed(&m), SIPD_DLG_BYE);
	assert_int_equal(g_call->end_at_ns, NOW + GRACE);
	/* nothing reopens a call after its BYE */
	t_req(&m, "INVITE", CID, 0, BTAG, 9);
	t_with_sdp(&m, ALICE, 16050, SDP_SENDRECV);
	assert_int_equal(feed(&m), 0);
}

static void test_clone(void **state)
{
	struct sipd_call *c2;

	(void)state;
	establish();
	c2 = sipd_call_clone(g_call);
	assert_non_null(c2);
	assert_int_equal(c2->n_dlg, 1);
	assert_true(sipd_sdp_equal(c2->dlg[0].neg[0], g_call->dlg[0].neg[0]));
	/* a deep copy: the stored SDP is not shared */
	assert_ptr_not_equal(c2->dlg[0].neg[0], g_call->dlg[0].neg[0]);
	assert_ptr_not_equal(c2->dlg, g_call->dlg);
	sipd_call_free(c2);
}

/* Threads of this process allowed on CPU 0 alone. */
static int threads_on_cpu0(void)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[300], line[256];
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "Cpus_allowed_list:", 18)) {
				n += !strcmp(line + 18 + strspn(line + 18, " \t"), "0\n");
				break;
			}
		fclose(f);
	}
	closedir(d);
	return n;
}

/* cluster.cpu: the replication threads start on that CPU, or not at all
 * when sipd may not run there (Redis down is no error: they only retry). */
static void test_cluster_cpu(void **state)
{
	struct sw_maps maps = SW_MAPS_INIT;
	struct sipd_cluster *cl;
	struct sipd_config *c;
	char err[256] = "";
	int before;

	(void)state;
	assert_int_equal(sipd_config_parse("{\"cluster\": {\"enabled\": true, \"node_id\": \"t\", "
					   "\"redis\": \"127.0.0.1:1\", \"cpu\": 1023}}",
					   "t.json", &c, err, sizeof(err)),
			 0);
	cl = sipd_cluster_start(c, &maps, err, sizeof(err));
	assert_null(cl);
	assert_string_equal(err, "cluster.cpu: CPU 1023 is not one sipd may run on");
	before = threads_on_cpu0();
	c->cluster.cpu = 0;
	cl = sipd_cluster_start(c, &maps, err, sizeof(err));
	assert_non_null(cl);
	assert_int_equal(threads_on_cpu0(), before + 2); /* writer and reader */
	sipd_cluster_stop(cl);
	sipd_config_free(c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_invite_200_ack),
		T(test_offer_in_200_answer_in_ack),
		T(test_early_media_forking),
		T(test_prack_update),
		T(test_reinvite_move),
		T(test_hold),
		T(test_sdp_variants),
		T(test_cancel_486_bye),
		T(test_clone),
		cmocka_unit_test(test_cluster_cpu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
