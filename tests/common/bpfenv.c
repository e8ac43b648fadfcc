// SPDX-License-Identifier: GPL-2.0-only
/* See bpfenv.h. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "pktbuild.h"
#include "sipwall.skel.h"
#include "tests/common/bpfenv.h"

static void unpin(const char *root)
{
	static const char *const names[] = {SW_MAP_PINHOLES, SW_MAP_STATS,   SW_MAP_FRAGS,
					    SW_MAP_CONFIG,   SW_MAP_IFACES,  SW_MAP_BANS,
					    SW_MAP_FLOOD,    SW_MAP_TRUSTED, SW_MAP_FWD_DEVS,
					    SW_MAP_PH_SRCS,  SW_MAP_CALLS,   SW_MAP_FWD_VLANS};
	char p[256];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, names[i]);
		unlink(p);
	}
	rmdir(root);
}

int bpfenv_up(struct bpfenv *e, const char *prefix, const char *json, unsigned int max_pinholes)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	static int seq;
	char err[512];

	memset(e, 0, sizeof(*e));
	e->maps = (struct sw_maps)SW_MAPS_INIT;
	snprintf(e->root, sizeof(e->root), "/sys/fs/bpf/%s-%d-%d", prefix, (int)getpid(), seq++);
	if (mkdir(e->root, 0700) && errno != EEXIST)
		return -errno;
	opts.pin_root_path = e->root;
	e->skel = sipwall__open_opts(&opts);
	if (!e->skel)
		return -errno;
	if (max_pinholes)
		bpf_map__set_max_entries(e->skel->maps.sw_pinholes, max_pinholes);
	if (max_pinholes)
		bpf_map__set_max_entries(e->skel->maps.sw_calls, max_pinholes);
	if (sipwall__load(e->skel))
		return -1;
	if (sw_maps_open(e->root, &e->maps))
		return -1;
	if (sipd_config_parse(json, "t", &e->cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	e->evf = open_memstream(&e->evbuf, &e->evlen);
	e->ev = sipd_events_open_stream(e->evf);
	e->d = sipd_new(e->cfg, e->root, e->ev, err, sizeof(err));
	if (!e->d) {
		fprintf(stderr, "sipd_new: %s\n", err);
		return -1;
	}
	return 0;
}

void bpfenv_down(struct bpfenv *e)
{
	sipd_free(e->d);
	sipd_events_close(e->ev);
	if (e->evf)
		fclose(e->evf);
	if (getenv("SW_TEST_EVENTS") && e->evbuf)
		fputs(e->evbuf, stderr);
	free(e->evbuf);
	sipd_config_free(e->cfg);
	sw_maps_close(&e->maps);
	if (e->skel)
		sipwall__destroy(e->skel);
	unpin(e->root);
}

int bpfenv_setup(void **state, const char *prefix, const char *json)
{
	static int can_run = -1;
	struct bpfenv *e = calloc(1, sizeof(*e));

	if (can_run == -1) {
		can_run = geteuid() == 0;
		if (can_run) {
			struct bpfenv probe;

			libbpf_set_print(NULL);
			can_run = bpfenv_up(&probe, prefix, json, 0) == 0;
			bpfenv_down(&probe);
		}
	}
	if (!can_run || bpfenv_up(e, prefix, json, 0)) {
		free(e);
		*state = NULL;
		return 0;
	}
	*state = e;
	return 0;
}

int bpfenv_teardown(void **state)
{
	if (*state) {
		bpfenv_down(*state);
		free(*state);
	}
	return 0;
}

int bpfenv_xdp(struct bpfenv *e, const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct pb_spec s = {.src = src,
			    .dst = dst,
			    .sport = sport,
			    .dport = dport,
			    .payload = 160,
			    .v6 = strchr(src, ':') != NULL};
	struct pb_pkt p;
	LIBBPF_OPTS(bpf_test_run_opts, o);

	assert_int_equal(pb_build(&s, &p), 0);
	o.data_in = p.b;
	o.data_size_in = (uint32_t)p.len;
	o.repeat = 1;
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(e->skel->progs.sipwall_xdp), &o),
			 0);
	return (int)o.retval;
}

unsigned int bpfenv_count(struct bpfenv *e)
{
	unsigned int n = 0;

	assert_int_equal(sw_pinhole_count(&e->maps, &n), 0);
	return n;
}

int bpfenv_get(struct bpfenv *e, const char *addr, uint16_t port, struct sw_pinhole *v)
{
	struct sw_pinhole_key k;
	uint8_t a[16];

	assert_int_equal(sw_addr_parse(addr, a), 0);
	sw_pinhole_key_init(&k, a, port);
	return sw_pinhole_get(&e->maps, &k, v);
}

enum sw_sip_reason bpfenv_msg(struct bpfenv *e, const struct sip_msg *m, uint64_t now)
{
	enum sw_sip_reason why;

	sipd_handle_msg(e->d, m, now, &why);
	return why;
}
