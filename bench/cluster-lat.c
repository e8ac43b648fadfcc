// SPDX-License-Identifier: GPL-2.0-only
/*
 * cluster-lat: replication through Redis between two nodes in one process
 * (docs/ha.md). Node A and node B each have the data path object loaded
 * with a private pin root and a cluster (sipd/cluster.c) on its maps. A
 * holds 10^5 live pinholes (replicated to B first), then opens and closes
 * calls (2 pinholes each) at a fixed rate; for each call the time from A's
 * map write to the moment B's map holds the pinhole is measured (B's map
 * polled every 20 us). Then a third node C joins and resyncs the snapshot:
 * its data path is loaded first (as `sipwall attach` does before a node's
 * sipd starts; the load is timed apart), then the time from its cluster's
 * start until its map holds every live pinhole.
 *
 * Usage: cluster-lat -R HOST:PORT [-l live] [-r calls/s] [-s seconds]  (root)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/swmap.h"
#include "sipd/cluster.h"
#include "sipd/config.h"
#include "sipwall.skel.h"

struct node {
	char root[128];
	struct sipwall *skel;
	struct sw_maps maps;
	struct sipd_config *cfg;
	struct sipd_cluster *cl;
};

/* The node's data path: the object loaded on a private pin root (what
 * `sipwall attach` does on a real node before its sipd starts). */
static int node_load(struct node *n, const char *id, unsigned int max)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);

	n->maps = (struct sw_maps)SW_MAPS_INIT;
	snprintf(n->root, sizeof(n->root), "/sys/fs/bpf/sipwall-clbench-%d-%s", (int)getpid(), id);
	if (mkdir(n->root, 0700))
		return -errno;
	oo.pin_root_path = n->root;
	n->skel = sipwall__open_opts(&oo);
	if (!n->skel)
		return -errno;
	bpf_map__set_max_entries(n->skel->maps.sw_pinholes, max);
	if (sipwall__load(n->skel))
		return -errno;
	if (sw_maps_open(n->root, &n->maps))
		return -ENOENT;
	return 0;
}

/* The node's sipd joins: its cluster threads on the loaded maps. */
static int node_join(struct node *n, const char *id, const char *redis)
{
	char json[512], err[512];

	snprintf(json, sizeof(json),
		 "{\"cluster\": {\"enabled\": true, \"node_id\": \"%s\", \"redis\": \"%s\", "
		 "\"key_prefix\": \"clbench%d:\", \"queue_len\": 262144}}",
		 id, redis, (int)getpid());
	if (sipd_config_parse(json, "cluster-lat", &n->cfg, err, sizeof(err))) {
		fprintf(stderr, "cluster-lat: %s\n", err);
		return -EINVAL;
	}
	n->cl = sipd_cluster_start(n->cfg, &n->maps, err, sizeof(err));
	if (!n->cl) {
		fprintf(stderr, "cluster-lat: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

static int node_up(struct node *n, const char *id, const char *redis, unsigned int max)
{
	int err = node_load(n, id, max);

	return err ? err : node_join(n, id, redis);
}

/* Every pin under our private root, then the root. */
static void unpin(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;
	char p[300];

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", root, e->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	rmdir(root);
}

static void node_down(struct node *n)
{
	if (!n->root[0])
		return;
	sipd_cluster_stop(n->cl);
	sipd_config_free(n->cfg);
	sw_maps_close(&n->maps);
	sipwall__destroy(n->skel);
	if (n->root[0])
		unpin(n->root);
}

/* Pinhole i: 10.1.(i>>8).(i&255):(10000 + side), from 10.2.x.y:12000. */
static void mk(uint32_t i, int side, struct sw_pinhole_key *k, struct sw_pinhole *v)
{
	uint8_t a[16] = {0};
	char cid[32];

	a[10] = a[11] = 0xff;
	a[12] = 10;
	a[13] = (uint8_t)(1 + (i >> 16));
	a[14] = (uint8_t)(i >> 8);
	a[15] = (uint8_t)i;
	sw_pinhole_key_init(k, a, (uint16_t)(10000 + side));
	memset(v, 0, sizeof(*v));
	memcpy(v->src[0].addr, a, 16);
	v->src[0].addr[13] = (uint8_t)(100 + (i >> 16));
	v->src[0].port = htons(12000);
	v->src[0].flags = SW_SRC_ACTIVE;
	snprintf(cid, sizeof(cid), "bench-%u@clbench", i);
	v->call_hash = sw_fnv1a64(cid, strlen(cid));
	memcpy(v->call_id, cid, strlen(cid));
	v->created_ns = sw_monotonic_ns();
}

static void open_call(struct node *n, uint32_t i)
{
	for (int s = 0; s < 2; s++) {
		struct sw_pinhole_key k;
		struct sw_pinhole v;

		mk(i, s, &k, &v);
		sw_pinhole_put(&n->maps, &k, &v, BPF_ANY);
		sipd_cluster_ph_put(n->cl, &k, &v);
	}
}

static void close_call(struct node *n, uint32_t i)
{
	for (int s = 0; s < 2; s++) {
		struct sw_pinhole_key k;
		struct sw_pinhole v;

		mk(i, s, &k, &v);
		sw_pinhole_del(&n->maps, &k);
		sipd_cluster_ph_del(n->cl, &k, v.call_hash);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void sleep_us(unsigned int us)
{
	struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

/* Wait until the node's map holds want pinholes (bounded); ms taken or -1. */
static long wait_count(struct node *n, unsigned int want, unsigned int max_s)
{
	uint64_t t0 = sw_monotonic_ns();
	unsigned int c = 0;

	while (sw_monotonic_ns() - t0 < (uint64_t)max_s * 1000000000ULL) {
		if (!sw_pinhole_count(&n->maps, &c) && c >= want)
			return (long)((sw_monotonic_ns() - t0) / 1000000);
		sleep_us(1000);
	}
	fprintf(stderr, "cluster-lat: %s holds %u of %u pinholes after %u s\n", n->root, c, want,
		max_s);
	return -1;
}

/*
 * Wait until a joining node's map holds want pinholes; ms since t0 or -1.
 * A count of a full map walks all its buckets (tens of ms of kernel time
 * on 2 CPUs), so counting every millisecond while the node resyncs would
 * take a CPU from it: the map is counted once the node's resync says it is
 * done (an atomic read), then every millisecond until it holds them all.
 * The time is taken after the count that finds them all.
 */
static long wait_resync(struct node *n, unsigned int want, unsigned int max_s, uint64_t t0)
{
	struct sipd_cluster_stats st;
	unsigned int c = 0;

	while (sw_monotonic_ns() - t0 < (uint64_t)max_s * 1000000000ULL) {
		sipd_cluster_get_stats(n->cl, &st);
		if (st.c[SIPD_CL_resyncs] && !sw_pinhole_count(&n->maps, &c) && c >= want)
			return (long)((sw_monotonic_ns() - t0) / 1000000);
		sleep_us(1000);
	}
	fprintf(stderr, "cluster-lat: %s holds %u of %u pinholes after %u s\n", n->root, c, want,
		max_s);
	return -1;
}

int main(int argc, char **argv)
{
	unsigned int live = 100000, rate = 200, secs = 10, ncalls, i, nlat = 0;
	struct node a = {0}, b = {0}, c = {0};
	const char *redis = NULL;
	uint64_t *lat = NULL;
	long ms;
	int opt, rc = 1;

	while ((opt = getopt(argc, argv, "R:l:r:s:")) != -1) {
		switch (opt) {
		case 'R':
			redis = optarg;
			break;
		case 'l':
			live = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rate = strtoul(optarg, NULL, 10);
			break;
		case 's':
			secs = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: cluster-lat -R HOST:PORT [-l live] [-r calls/s] "
					"[-s secs]\n");
			return 2;
		}
	}
	if (!redis || live < 2 || live > 200000 || rate < 1 || rate > 5000 || secs < 1 ||
	    secs > 120) {
		fprintf(stderr, "cluster-lat: -R needed; -l 2..200000, -r 1..5000, -s 1..120\n");
		return 2;
	}
	libbpf_set_print(NULL);
	ncalls = rate * secs;
	lat = calloc(ncalls, sizeof(*lat));
	if (!lat || node_up(&a, "a", redis, 524288) || node_up(&b, "b", redis, 524288)) {
		fprintf(stderr, "cluster-lat: nodes up failed (root, bpffs, Redis at %s?)\n",
			redis);
		goto out;
	}
	/* live/2 calls of 2 pinholes, in bursts the queue holds */
	for (i = 0; i < live / 2; i++) {
		open_call(&a, i);
		if (i % 20000 == 19999)
			sleep_us(50000);
	}
	ms = wait_count(&b, live, 60);
	if (ms < 0)
		goto out;
	printf("preload: %u pinholes on A replicated to B in %ld ms\n", live, ms);

	/* churn: call i opens, call i - live/2 closes, at rate calls/s */
	{
		uint64_t period = 1000000000ULL / rate, next = sw_monotonic_ns();

		for (i = 0; i < ncalls; i++) {
			uint32_t id = live / 2 + i;
			struct sw_pinhole_key k;
			struct sw_pinhole v, got;
			uint64_t t0;

			while (sw_monotonic_ns() < next)
				sleep_us(50);
			next += period;
			close_call(&a, id - live / 2);
			mk(id, 0, &k, &v);
			t0 = sw_monotonic_ns();
			open_call(&a, id);
			while (sw_pinhole_get(&b.maps, &k, &got)) {
				if (sw_monotonic_ns() - t0 > 2000000000ULL)
					break;
				sleep_us(20);
			}
			lat[nlat++] = sw_monotonic_ns() - t0;
		}
	}
	qsort(lat, nlat, sizeof(*lat), cmp_u64);
	printf("propagation A map write -> B map write, %u calls at %u calls/s over %u live "
	       "pinholes: p50 %.2f ms, p99 %.2f ms, p999 %.2f ms, max %.2f ms\n",
	       nlat, rate, live, lat[nlat / 2] / 1e6, lat[nlat * 99 / 100] / 1e6,
	       lat[nlat * 999 / 1000] / 1e6, lat[nlat - 1] / 1e6);
	/* B must converge on A's live set, closes included */
	sleep_us(500000);
	{
		unsigned int ca = 0, cb = 0;

		sw_pinhole_count(&a.maps, &ca);
		sw_pinhole_count(&b.maps, &cb);
		printf("after the churn: A %u pinholes, B %u\n", ca, cb);
	}
	/* a joining node: its data path loaded (as attached before its sipd
	 * starts), then its sipd's cluster joins and resyncs the snapshot */
	{
		uint64_t t0 = sw_monotonic_ns(), load_ns;
		struct sipd_cluster_stats st;

		struct sw_pinhole_key lk, ck;
		struct sw_pinhole lv, got;
		unsigned int cc = 0, ca = 0;
		int kept, gone;

		if (node_load(&c, "c", 524288))
			goto out;
		load_ns = sw_monotonic_ns() - t0;
		/* A local call of C's own holds one of A's live destinations
		 * (the last call opened): the resync must leave it alone. */
		mk(live / 2 + ncalls - 1, 0, &lk, &lv);
		lv.src[0].port = htons(12999);
		lv.call_hash ^= 1;
		if (sw_pinhole_put(&c.maps, &lk, &lv, BPF_NOEXIST))
			goto out;
		t0 = sw_monotonic_ns();
		if (node_join(&c, "c", redis))
			goto out;
		ms = wait_resync(&c, live, 60, t0);
		if (ms < 0)
			goto out;
		sipd_cluster_get_stats(c.cl, &st);
		printf("resync of a joining node: %u pinholes in its map after %ld ms from its "
		       "cluster's start (snapshot %llu records in %llu ms; its data path's load "
		       "before that %.0f ms)\n",
		       live, ms, (unsigned long long)st.last_resync_records,
		       (unsigned long long)st.last_resync_ms, load_ns / 1e6);
		/* C converged on A's live set: the closed calls' tombstones
		 * opened nothing, the local call kept its destination. */
		mk(0, 0, &ck, &got);
		gone = sw_pinhole_get(&c.maps, &ck, &got) == -ENOENT;
		kept = !sw_pinhole_get(&c.maps, &lk, &got) && got.call_hash == lv.call_hash &&
		       got.src[0].port == lv.src[0].port;
		sw_pinhole_count(&a.maps, &ca);
		sw_pinhole_count(&c.maps, &cc);
		printf("joining node: %u pinholes (A %u), a closed call's destination %s, the "
		       "local "
		       "call's destination %s (conflicts %llu)\n",
		       cc, ca, gone ? "absent" : "PRESENT", kept ? "kept" : "OVERWRITTEN",
		       (unsigned long long)st.c[SIPD_CL_conflicts]);
		if (cc != ca || !gone || !kept || !st.c[SIPD_CL_conflicts])
			goto out;
	}
	rc = 0;
out:
	node_down(&c);
	node_down(&b);
	node_down(&a);
	free(lat);
	return rc;
}
