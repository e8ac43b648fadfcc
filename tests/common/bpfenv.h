/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fixture shared by the cmocka tests that run sipd against REAL pinned
 * maps: the data path object loaded through its skeleton with a private pin
 * root (/sys/fs/bpf/PREFIX-PID-SEQ), its maps opened, a config parsed and
 * sipd started on them with its events written to memory. Torn down with
 * every pin removed. Needs root and BPF; tests skip otherwise (NEED_ENV).
 */
#ifndef SW_TESTS_BPFENV_H
#define SW_TESTS_BPFENV_H

#include <stdint.h>
#include <stdio.h>

#include "lib/swmap.h"
#include "sipd/config.h"
#include "sipd/events.h"
#include "sipd/sipd.h"

struct bpfenv {
	char root[128];
	struct sipwall *skel;
	struct sw_maps maps;
	struct sipd_config *cfg;
	struct sipd_events *ev;
	char *evbuf;
	size_t evlen;
	FILE *evf;
	struct sipd *d;
};

/* max_pinholes 0 keeps the object's sw_pinholes size. */
int bpfenv_up(struct bpfenv *e, const char *prefix, const char *json, unsigned int max_pinholes);
void bpfenv_down(struct bpfenv *e);

/* cmocka setup/teardown: *state is a started bpfenv, or NULL when this
 * host cannot run it (not root, no BPF), probed once per process. */
int bpfenv_setup(void **state, const char *prefix, const char *json);
int bpfenv_teardown(void **state);

/* The real XDP program's verdict on one UDP packet (BPF_PROG_TEST_RUN). */
int bpfenv_xdp(struct bpfenv *e, const char *src, uint16_t sport, const char *dst, uint16_t dport);

/* Entries in sw_pinholes (the test fails if they cannot be counted). */
unsigned int bpfenv_count(struct bpfenv *e);
/* The pinhole of addr:port: 0 or -ENOENT. */
int bpfenv_get(struct bpfenv *e, const char *addr, uint16_t port, struct sw_pinhole *v);
/* One parsed message through sipd's message path: the reason it got. */
struct sip_msg;
enum sw_sip_reason bpfenv_msg(struct bpfenv *e, const struct sip_msg *m, uint64_t now);

#define NEED_ENV(e)                                                       \
	do {                                                              \
		if (!(e)) {                                               \
			fprintf(stderr, "needs root and BPF: skipped\n"); \
			skip();                                           \
		}                                                         \
	} while (0)

#endif
