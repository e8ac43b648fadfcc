// SPDX-License-Identifier: GPL-2.0-only
/*
 * attach / detach: load the data path from the skeleton, reuse the maps
 * pinned under the pin root (pinholes survive), attach XDP through libxdp or
 * TC ingress, plus the TC egress learner; record it all in sw_ifaces and
 * sw_config. Any failure rolls back what this run did.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "sipwall.skel.h"
#include "loader/sipwall.h"

#define SW_MAX_DIR_DEPTH 8

/* Pin root handling: must be on bpffs; created on demand, removed again if
 * this run created it and fails. The directory itself is the lock. */
struct pin_root {
	char created[SW_MAX_DIR_DEPTH][PATH_MAX];
	int ncreated;
	int lock_fd;
};

static int is_bpffs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st))
		return -errno;
	return st.f_type == BPF_FS_MAGIC;
}

static int pin_root_prepare(const char *path, struct pin_root *pr, bool create)
{
	char todo[SW_MAX_DIR_DEPTH][PATH_MAX];
	char cur[PATH_MAX];
	int n = 0, ret;
	char *slash;

	pr->ncreated = 0;
	pr->lock_fd = -1;
	snprintf(cur, sizeof(cur), "%s", path);
	while (access(cur, F_OK)) {
		if (!create) {
			pr_err("pin path %s does not exist", path);
			return -ENOENT;
		}
		if (n == SW_MAX_DIR_DEPTH) {
			pr_err("pin path %s: too many missing directories", path);
			return -EINVAL;
		}
		snprintf(todo[n++], PATH_MAX, "%s", cur);
		slash = strrchr(cur, '/');
		if (!slash || slash == cur) {
			pr_err("pin path %s is not on a bpf filesystem", path);
			return -EINVAL;
		}
		*slash = '\0';
	}
	ret = is_bpffs(cur);
	if (ret <= 0) {
		if (ret < 0)
			pr_err("pin path %s: %s", cur, strerror(-ret));
		else
			pr_err("pin path %s is not on a bpf filesystem (mount -t bpf bpf "
			       "/sys/fs/bpf)",
			       path);
		return ret < 0 ? ret : -EINVAL;
	}
	while (n > 0) {
		n--;
		if (mkdir(todo[n], 0700) && errno != EEXIST) {
			ret = -errno;
			pr_err("cannot create pin path %s: %s", todo[n], strerror(-ret));
			return ret;
		}
		snprintf(pr->created[pr->ncreated++], PATH_MAX, "%s", todo[n]);
	}
	pr->lock_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pr->lock_fd < 0) {
		ret = -errno;
		pr_err("pin path %s: %s", path, strerror(-ret));
		return ret;
	}
	if (flock(pr->lock_fd, LOCK_EX)) {
		ret = -errno;
		pr_err("cannot lock pin path %s: %s", path, strerror(-ret));
		return ret;
	}
	return 0;
}

static void pin_root_release(struct pin_root *pr, bool failed)
{
	if (pr->lock_fd >= 0)
		close(pr->lock_fd); /* drops the flock */
	pr->lock_fd = -1;
	if (!failed)
		return;
	while (pr->ncreated > 0)
		rmdir(pr->created[--pr->ncreated]);
}

static __u32 tc_query(int ifindex, enum bpf_tc_attach_point ap);

/* Our clsact filters, identified by handle and priority. */
static void tc_hook_init(struct bpf_tc_hook *h, int ifindex, enum bpf_tc_attach_point ap)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = ap;
}

static void tc_opts_init(struct bpf_tc_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->handle = SW_TC_HANDLE;
	o->priority = SW_TC_PRIO;
}

/* prog id of our filter at that hook, 0 if none. */
uint32_t sw_tc_prog_id(int ifindex, bool ingress)
{
	return tc_query(ifindex, ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
}

static __u32 tc_query(int ifindex, enum bpf_tc_attach_point ap)
{
	struct bpf_tc_hook h;
	struct bpf_tc_opts o;

	tc_hook_init(&h, ifindex, ap);
	tc_opts_init(&o);
	if (bpf_tc_query(&h, &o))
		return 0;
	return o.prog_id;
}

static int tc_attach(int ifindex, enum bpf_tc_attach_point ap, int prog_fd, __u32 *prog_id)
{
	struct bpf_tc_hook h;
	struct bpf_tc_opts o;
	int err;

	tc_hook_init(&h, ifindex, ap);
	err = bpf_tc_hook_create(&h);
	if (err && err != -EEXIST)
		return err;
	tc_opts_init(&o);
	o.prog_fd = prog_fd;
	err = bpf_tc_attach(&h, &o);
	if (err)
		return err;
	*prog_id = o.prog_id;
	return 0;
}

/* Detach our filter only if it still runs the program we recorded. The
 * clsact qdisc stays: other filters may share it. */
static int tc_detach(int ifindex, enum bpf_tc_attach_point ap, __u32 prog_id)
{
	struct bpf_tc_hook h;
	struct bpf_tc_opts o;
	__u32 cur = tc_query(ifindex, ap);

	if (!cur)
		return -ENOENT;
	if (prog_id && cur != prog_id)
		return -ESTALE;
	tc_hook_init(&h, ifindex, ap);
	tc_opts_init(&o);
	return bpf_tc_detach(&h, &o);
}

static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/*
 * What runs in XDP on ifindex: *found is want_id if that program is attached
 * there, or (want_id 0) the id of any sipwall_xdp program (from any pin
 * root); 0 if none. Returns 0 or a negative errno: an interface without XDP
 * is verified through netlink, which needs no capability, but looking into
 * what is attached means BPF_PROG_GET_FD_BY_ID, which needs CAP_SYS_ADMIN
 * (-EPERM without it). Callers must not take "unknown" for "gone".
 */
static int xdp_lookup(int ifindex, __u32 want_id, __u32 *found, bool *legacy)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int err;

	*found = 0;
	if (legacy)
		*legacy = true;
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	if (!q.prog_id && !q.drv_prog_id && !q.skb_prog_id && !q.hw_prog_id)
		return 0;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = libxdp_get_error(mp);
	if (err)
		return err;
	if (!mp)
		return -ENOENT;
	if (legacy)
		*legacy = xdp_multiprog__is_legacy(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && (want_id ? xdp_program__id(p) == want_id
				  : !strcmp(xdp_program__name(p), "sipwall_xdp")))
			*found = xdp_program__id(p);
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
			if (want_id ? xdp_program__id(p) == want_id
				    : !strcmp(xdp_program__name(p), "sipwall_xdp"))
				*found = xdp_program__id(p);
	}
	xdp_multiprog__close(mp);
	return 0;
}

int sw_xdp_lookup(int ifindex, __u32 prog_id, __u32 *found, bool *legacy)
{
	return xdp_lookup(ifindex, prog_id, found, legacy);
}

/* Is the enforcement program of info (and its egress learner) still on its
 * interface, which must be in this namespace? 1 yes, 0 verified not, -errno. */
static int iface_live(const struct sw_iface_info *info)
{
	__u32 found;
	int err;

	if (info->mode == SW_MODE_TC) {
		if (sw_tc_prog_id((int)info->ifindex, true) != info->prog_id)
			return 0;
	} else {
		err = xdp_lookup((int)info->ifindex, info->prog_id, &found, NULL);
		if (err)
			return err;
		if (!found)
			return 0;
	}
	if ((info->flags & SW_IF_EGRESS) &&
	    sw_tc_prog_id((int)info->ifindex, false) != info->egress_prog_id)
		return 0;
	return 1;
}

/* Does prog_id still exist anywhere? 1 yes, 0 no, -EPERM without CAP_SYS_ADMIN. */
static int prog_exists(__u32 prog_id)
{
	int fd = bpf_prog_get_fd_by_id(prog_id);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == ENOENT ? 0 : -errno;
}

static void report_no_sys_admin(const char *iface, const char *what, int err)
{
	if (err == -EPERM || err == -EACCES)
		pr_err("cannot %s on %s: %s (needs CAP_SYS_ADMIN to look BPF programs up by "
		       "id); nothing changed",
		       what, iface, strerror(-err));
	else
		pr_err("cannot %s on %s: %s; nothing changed", what, iface, strerror(-err));
}

/*
 * The record for (this namespace, ifindex). Failing that, a record carried
 * over from a schema 1 pin root (netns 0) with the same ifindex and name
 * counts as ours if its program verifiably runs on this ifindex here.
 * 0 found (*key is where it lives), -ENOENT none, other -errno.
 */
static int iface_find(int fd, const struct sw_netns *ns, __u32 ifindex, const char *name,
		      struct sw_iface_key *key, struct sw_iface_info *info)
{
	int live;

	sw_iface_key_init(key, sw_netns_id(ns), ifindex);
	if (bpf_map_lookup_elem(fd, key, info) == 0)
		return 0;
	if (errno != ENOENT)
		return -errno;
	sw_iface_key_init(key, 0, ifindex);
	if (bpf_map_lookup_elem(fd, key, info))
		return errno == ENOENT ? -ENOENT : -errno;
	if (strncmp(info->name, name, sizeof(info->name)))
		return -ENOENT;
	live = iface_live(info);
	return live > 0 ? 0 : live == 0 ? -ENOENT : live;
}

/* Records named name: the one in this namespace, and in others. */
struct by_name_ctx {
	const char *name;
	const struct sw_netns *ns;
	struct sw_iface_info here, other;
	bool found_here, found_other;
};

static int by_name_cb(const struct sw_iface_info *info, void *vctx)
{
	struct by_name_ctx *c = vctx;

	if (strncmp(info->name, c->name, sizeof(info->name)))
		return 0;
	if (sw_iface_in_netns(info, c->ns) == 1) {
		c->here = *info;
		c->found_here = true;
	} else {
		c->other = *info;
		c->found_other = true;
	}
	return 0;
}

static void report_other_ns(const char *iface, const char *pin_path, const struct sw_iface_info *o)
{
	if (o->netns_ino)
		pr_err("%s is not attached in this network namespace; the %s attached under %s "
		       "is in another one (netns inode %u): run the command there",
		       iface, o->name, pin_path, o->netns_ino);
	else
		pr_err("%s is not attached in this network namespace; a %s recorded under %s "
		       "by an older sipwall runs in another one: run the command there",
		       iface, o->name, pin_path);
}

int sw_pinned_fd(const char *root, const char *name)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", root, name);

	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return bpf_obj_get(path);
}

/* sw_pinholes holds max pinholes, preallocated or not (bpf/sipwall.bpf.c);
 * sw_calls as many owners (a call has at least one pinhole); sw_ph_srcs a
 * fraction (extra sources of forks). The other two stay on demand: a
 * preallocated sw_calls would cost a full element per pinhole, not per call. */
static int size_pinhole_maps(struct sipwall *skel, __u32 max, bool prealloc)
{
	__u32 extra = max / SW_PH_SRCS_DIV;

	if (extra < SW_PH_SRCS_MIN)
		extra = SW_PH_SRCS_MIN;
	return bpf_map__set_map_flags(skel->maps.sw_pinholes,
				      prealloc ? 0 : BPF_F_NO_PREALLOC) ?:
	       bpf_map__set_max_entries(skel->maps.sw_pinholes, max) ?:
	       bpf_map__set_max_entries(skel->maps.sw_calls, max) ?:
	       bpf_map__set_max_entries(skel->maps.sw_ph_srcs, extra);
}

/*
 * A pin root of schema 2 or before holds 184-byte pinholes in one map: this
 * object cannot reuse it, and converting live pinholes under a running data
 * path is not worth the risk. Refuse with what to do.
 */
static int pinholes_layout_check(const char *pin_path)
{
	int fd = sw_pinned_fd(pin_path, SW_MAP_PINHOLES), err;

	if (fd < 0)
		return 0;
	err = sw_pinholes_layout(fd);
	close(fd);
	if (err == -EPROTO)
		pr_err("%s/%s has the pinhole layout of an older sipwall (schema 2 or before: one "
		       "184-byte value per pinhole); this one uses schema %d (sw_pinholes, "
		       "sw_ph_srcs, sw_calls). Detach every interface (sipwall detach IFACE) and "
		       "remove the pin root (rm -r %s) to start afresh",
		       pin_path, SW_MAP_PINHOLES, SW_SCHEMA_VERSION, pin_path);
	else if (err)
		pr_err("cannot inspect %s/%s: %s", pin_path, SW_MAP_PINHOLES, strerror(-err));
	return err;
}

/*
 * What is already pinned decides the map size and media range unless the
 * command line names them; a command line that contradicts the pinned
 * state is refused (the pinned maps cannot be resized or re-ranged in place).
 */
static int resolve_config(const struct sw_args *a, uint16_t *lo, uint16_t *hi, uint32_t *max,
			  bool *prealloc)
{
	struct sw_config cfg = {};
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi), zero = 0;
	bool have_cfg = false;
	int fd, err = 0;

	*lo = a->media_set ? a->media_lo : SW_MEDIA_LO_DEFAULT;
	*hi = a->media_set ? a->media_hi : SW_MEDIA_HI_DEFAULT;
	*max = a->max_set ? a->max_pinholes : SW_MAX_PINHOLES_DEFAULT;
	*prealloc = a->prealloc;

	fd = sw_pinned_fd(a->pin_path, SW_MAP_PINHOLES);
	if (fd >= 0) {
		err = bpf_obj_get_info_by_fd(fd, &mi, &len) ? -errno : 0;
		close(fd);
		if (err) {
			pr_err("cannot inspect %s/%s: %s", a->pin_path, SW_MAP_PINHOLES,
			       strerror(-err));
			return err;
		}
		if (a->max_set && mi.max_entries != a->max_pinholes) {
			pr_err("--max-pinholes %u differs from the pinned %s/%s (%u entries); "
			       "detach every interface and remove the pinned maps to resize",
			       a->max_pinholes, a->pin_path, SW_MAP_PINHOLES, mi.max_entries);
			return -EINVAL;
		}
		*max = mi.max_entries;
		/* Without --prealloc the pinned map's choice stands, as its size
		 * does; --prealloc on an on-demand map would need a new map. */
		if (a->prealloc && (mi.map_flags & BPF_F_NO_PREALLOC)) {
			pr_err("--prealloc: the pinned %s/%s allocates on demand; detach every "
			       "interface and remove the pinned maps to preallocate",
			       a->pin_path, SW_MAP_PINHOLES);
			return -EINVAL;
		}
		*prealloc = !(mi.map_flags & BPF_F_NO_PREALLOC);
	}

	fd = sw_pinned_fd(a->pin_path, SW_MAP_CONFIG);
	if (fd >= 0) {
		have_cfg = bpf_map_lookup_elem(fd, &zero, &cfg) == 0 && cfg.media_lo;
		close(fd);
	}
	if (have_cfg) {
		if (a->media_set && (cfg.media_lo != a->media_lo || cfg.media_hi != a->media_hi)) {
			pr_err("--media-ports %u-%u differs from the range pinned under %s "
			       "(%u-%u) that other interfaces and sipd use",
			       a->media_lo, a->media_hi, a->pin_path, cfg.media_lo, cfg.media_hi);
			return -EINVAL;
		}
		*lo = cfg.media_lo;
		*hi = cfg.media_hi;
	}
	return 0;
}

/* Every pinned map of the object, whatever bpf/ adds: which ones this run
 * creates (and so must unpin if it fails). */
#define SW_MAX_OBJ_MAPS 32

static void report_load_error(const char *what, int err)
{
	if (err == -EPERM || err == -EACCES)
		pr_err("%s: %s (BPF not permitted: needs root with CAP_BPF/CAP_SYS_ADMIN; "
		       "-v shows libbpf's log)",
		       what, strerror(-err));
	else if (err == -EINVAL)
		pr_err("%s: %s (an incompatible map pinned under the pin path, or the "
		       "verifier refused the program; -v shows libbpf's log)",
		       what, strerror(-err));
	else
		pr_err("%s: %s (-v shows libbpf's log)", what, strerror(-err));
}

/*
 * Is iface already attached under this pin root in this namespace? 0 no;
 * 1 yes, live, with the settings asked for, and --if-not-attached (said so);
 * otherwise a reported error. The media range and map size were compared by
 * resolve_config.
 */
static int check_attached(const struct sw_args *a, const struct sw_netns *ns, __u32 ifindex)
{
	struct sw_iface_info info;
	struct sw_iface_key key;
	bool same_mode, want_eg = !a->no_egress;
	int fd, err, live;

	fd = sw_pinned_fd(a->pin_path, SW_MAP_IFACES);
	if (fd < 0)
		return 0;
	err = iface_find(fd, ns, ifindex, a->iface, &key, &info);
	if (!err && !key.netns) {
		/* A schema 1 record verified to run here: it is ours now. */
		struct sw_iface_key k;

		info.netns_cookie = ns->cookie;
		info.netns_ino = ns->ino;
		sw_iface_key_of(&info, &k);
		if (bpf_map_update_elem(fd, &k, &info, BPF_NOEXIST) == 0)
			bpf_map_delete_elem(fd, &key);
	}
	close(fd);
	if (err == -ENOENT)
		return 0;
	if (err) {
		report_no_sys_admin(a->iface, "check the recorded attachment", err);
		return err;
	}
	if (!a->if_not_attached) {
		pr_err("%s is already attached (mode %s, program id %u) under %s; detach it first",
		       a->iface, sw_mode_name(info.mode), info.prog_id, a->pin_path);
		return -EEXIST;
	}
	switch (a->mode) {
	case SW_CLI_MODE_NATIVE:
		same_mode = info.mode == SW_MODE_NATIVE;
		break;
	case SW_CLI_MODE_GENERIC:
		same_mode = info.mode == SW_MODE_GENERIC;
		break;
	case SW_CLI_MODE_TC:
		same_mode = info.mode == SW_MODE_TC;
		break;
	default:
		same_mode = info.mode != SW_MODE_TC;
	}
	if (!same_mode || want_eg != !!(info.flags & SW_IF_EGRESS) ||
	    a->forward != !!(info.flags & SW_IF_FORWARD)) {
		pr_err("%s is already attached under %s with other settings (mode %s, egress "
		       "learner %s, forwarding %s); detach it first to change them",
		       a->iface, a->pin_path, sw_mode_name(info.mode),
		       info.flags & SW_IF_EGRESS ? "on" : "off",
		       info.flags & SW_IF_FORWARD ? "on" : "off");
		return -EEXIST;
	}
	live = iface_live(&info);
	if (live < 0) {
		report_no_sys_admin(a->iface, "check the recorded attachment", live);
		return live;
	}
	if (!live) {
		pr_err("%s is recorded under %s (program id %u) but that program is no longer "
		       "attached; run 'sipwall detach %s' first",
		       a->iface, a->pin_path, info.prog_id, a->iface);
		return -ESTALE;
	}
	printf("sipwall: %s is already attached under %s (%s, program id %u); nothing to do\n",
	       a->iface, a->pin_path, sw_mode_name(info.mode), info.prog_id);
	return 1;
}

/*
 * A pin root written by schema 1 keys sw_ifaces by ifindex alone. Replace
 * that map by one of the current layout, carrying its records over: a
 * record whose interface (same ifindex and name) runs its program in this
 * namespace is stamped with this namespace; any other keeps netns 0 and is
 * claimed by whoever later finds it attached in theirs. Runs under the pin
 * root lock; on failure the old map is pinned back and nothing changed.
 */
static int ifaces_upgrade(const char *pin_path, const struct sw_netns *ns)
{
	struct sw_iface_info recs[64];
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi), key, next, max = 0;
	bool prealloc = false;
	struct sipwall *skel = NULL;
	struct bpf_program *prog;
	char path[PATH_MAX];
	unsigned int n = 0, mine = 0, i;
	void *prev = NULL;
	int fd, pfd, err;

	snprintf(path, sizeof(path), "%s/%s", pin_path, SW_MAP_IFACES);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0; /* nothing pinned yet: attach creates it */
	if (bpf_obj_get_info_by_fd(fd, &mi, &len)) {
		err = -errno;
		pr_err("cannot inspect %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	if (mi.key_size == sizeof(struct sw_iface_key)) {
		close(fd);
		return 0;
	}
	if (mi.key_size != sizeof(__u32) || mi.value_size > sizeof(struct sw_iface_info)) {
		pr_err("%s has an unknown layout (key %u bytes, value %u bytes)", path, mi.key_size,
		       mi.value_size);
		close(fd);
		return -EPROTO;
	}
	while (bpf_map_get_next_key(fd, prev, &next) == 0 && n < 64) {
		key = next;
		prev = &key;
		memset(&recs[n], 0, sizeof(recs[n]));
		if (bpf_map_lookup_elem(fd, &key, &recs[n]))
			continue;
		{
			char name[IF_NAMESIZE];
			struct sw_iface_info *r = &recs[n];

			r->netns_cookie = r->netns_ino = r->pad = 0;
			if (if_indextoname(r->ifindex, name) &&
			    !strncmp(name, r->name, sizeof(r->name)) && iface_live(r) > 0) {
				r->netns_cookie = ns->cookie;
				r->netns_ino = ns->ino;
				mine++;
			}
		}
		n++;
	}

	pfd = sw_pinned_fd(pin_path, SW_MAP_PINHOLES);
	if (pfd >= 0) {
		struct bpf_map_info pi = {};
		__u32 plen = sizeof(pi);

		if (!bpf_obj_get_info_by_fd(pfd, &pi, &plen)) {
			max = pi.max_entries;
			prealloc = !(pi.map_flags & BPF_F_NO_PREALLOC);
		}
		close(pfd);
	}
	if (unlink(path)) {
		err = -errno;
		pr_err("cannot replace %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	{
		LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin_path);

		skel = sipwall__open_opts(&oo);
		err = skel ? 0 : -errno;
	}
	/* Maps only: the pinned ones are reused, sw_ifaces is created. */
	if (!err) {
		bpf_object__for_each_program(prog, skel->obj)
			bpf_program__set_autoload(prog, false);
		if (max)
			err = size_pinhole_maps(skel, max, prealloc);
	}
	if (!err)
		err = sw_reuse_fwd_devs(skel->maps.sw_fwd_devs, pin_path);
	if (!err)
		err = sipwall__load(skel);
	for (i = 0; !err && i < n; i++) {
		struct sw_iface_key k;

		sw_iface_key_of(&recs[i], &k);
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.sw_ifaces), &k, &recs[i], BPF_ANY))
			err = -errno;
	}
	if (err) {
		report_load_error("cannot upgrade sw_ifaces to the current layout", err);
		unlink(path);
		if (bpf_obj_pin(fd, path))
			pr_err("cannot pin the old %s back: %s", path, strerror(errno));
	} else {
		/* sw_ifaces's layout since schema 2 */
		printf("sipwall: upgraded %s to schema 2 (keyed by network namespace and "
		       "ifindex): %u record(s), %u verified in this network namespace\n",
		       path, n, mine);
	}
	sipwall__destroy(skel);
	close(fd);
	return err;
}

int do_attach(const struct sw_args *a)
{
	bool want_xdp = a->mode != SW_CLI_MODE_TC, want_eg = !a->no_egress;
	bool pinned_before[SW_MAX_OBJ_MAPS] = {false}, xdp_attached = false, iface_written = false;
	bool tc_in_attached = false, tc_eg_attached = false, legacy = true, fwd_written = false;
	bool vlans_written = false;
	int nvlans = 0;
	enum xdp_attach_mode xmode = XDP_MODE_UNSPEC;
	struct sw_iface_info info = {};
	struct sw_iface_key ikey;
	struct sw_netns ns;
	struct sw_config cfg = {};
	struct xdp_program *xprog = NULL;
	struct sipwall *skel = NULL;
	struct bpf_map *map;
	struct pin_root pr = {.lock_fd = -1};
	uint16_t lo, hi;
	uint32_t max;
	bool prealloc;
	__u32 zero = 0, id;
	int ifindex, err;
	size_t i;

	if (sw_need_root())
		return SW_EXIT_FAIL;
	if (strlen(a->iface) >= IFNAMSIZ) {
		pr_err("interface name '%s' is too long", a->iface);
		return SW_EXIT_FAIL;
	}
	ifindex = (int)if_nametoindex(a->iface);
	if (!ifindex) {
		pr_err("unknown interface '%s'", a->iface);
		return SW_EXIT_FAIL;
	}
	err = sw_netns_self(&ns);
	if (err) {
		pr_err("cannot identify this network namespace: %s", strerror(-err));
		return SW_EXIT_FAIL;
	}

	err = pin_root_prepare(a->pin_path, &pr, true);
	if (err)
		goto out;
	err = pinholes_layout_check(a->pin_path);
	if (err)
		goto out;
	err = ifaces_upgrade(a->pin_path, &ns);
	if (err)
		goto out;
	err = resolve_config(a, &lo, &hi, &max, &prealloc);
	if (err)
		goto out;
	err = check_attached(a, &ns, (__u32)ifindex);
	if (err == 1) { /* --if-not-attached and it is */
		err = 0;
		/* VLAN devices added since: recorded now. */
		if (a->forward) {
			nvlans = sw_fwd_vlans_sync(a->pin_path, a->iface, ifindex, true);
			if (nvlans < 0)
				err = nvlans;
			else
				printf("sipwall: %s: %d 802.1Q VLAN device%s recorded for "
				       "forwarding\n",
				       a->iface, nvlans, nvlans == 1 ? "" : "s");
		}
		goto out;
	}
	if (err)
		goto out;
	if (a->forward) {
		err = sw_forward_check(a, &ns);
		if (err)
			goto out;
	}

	err = xdp_lookup(ifindex, 0, &id, NULL);
	if (err) {
		report_no_sys_admin(a->iface, "look up the XDP programs", err);
		goto out;
	}
	if (id) {
		pr_err("%s already runs sipwall_xdp (program id %u), attached under another pin "
		       "path?",
		       a->iface, id);
		err = -EEXIST;
		goto out;
	}
	if ((id = tc_query(ifindex, BPF_TC_INGRESS)) ||
	    (want_eg && (id = tc_query(ifindex, BPF_TC_EGRESS)))) {
		pr_err("%s already has a sipwall TC filter (handle 0x%x, program id %u), attached "
		       "under another pin path?",
		       a->iface, SW_TC_HANDLE, id);
		err = -EEXIST;
		goto out;
	}

	{
		LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = a->pin_path);

		skel = sipwall__open_opts(&oo);
		if (!skel) {
			err = -errno;
			report_load_error("cannot open the BPF object", err);
			goto out;
		}
	}
	i = 0;
	bpf_object__for_each_map(map, skel->obj)
	{
		const char *pp = bpf_map__pin_path(map);

		if (i < SW_MAX_OBJ_MAPS)
			pinned_before[i++] = !pp || access(pp, F_OK) == 0;
	}
	skel->rodata->media_lo = lo;
	skel->rodata->media_hi = hi;
	skel->rodata->fwd_enabled = a->forward;
	err = size_pinhole_maps(skel, max, prealloc);
	if (err) {
		report_load_error("cannot size sw_pinholes, sw_ph_srcs and sw_calls", err);
		goto out;
	}
	err = sw_reuse_fwd_devs(skel->maps.sw_fwd_devs, a->pin_path);
	if (err) {
		report_load_error("cannot reuse the pinned sw_fwd_devs", err);
		goto out;
	}
	bpf_program__set_autoload(skel->progs.sipwall_xdp, want_xdp);
	bpf_program__set_autoload(skel->progs.sipwall_tc_in, !want_xdp);
	bpf_program__set_autoload(skel->progs.sipwall_tc_eg, want_eg);

	if (want_xdp) {
		DECLARE_LIBXDP_OPTS(xdp_program_opts, xo, .obj = skel->obj,
				    .prog_name = "sipwall_xdp");

		xmode = a->mode == SW_CLI_MODE_NATIVE	 ? XDP_MODE_NATIVE
			: a->mode == SW_CLI_MODE_GENERIC ? XDP_MODE_SKB
							 : XDP_MODE_UNSPEC;
		xprog = xdp_program__create(&xo);
		err = libxdp_get_error(xprog);
		if (err) {
			xprog = NULL;
			report_load_error("cannot create the XDP program", err);
			goto out;
		}
		/* Loads the whole object (maps pinned/reused, TC learner too). */
		err = xdp_program__attach(xprog, ifindex, xmode, 0);
		if (err) {
			char buf[256];

			libxdp_strerror(err, buf, sizeof(buf));
			if (err == -EOPNOTSUPP && xmode == XDP_MODE_NATIVE)
				pr_err("cannot attach XDP in native mode to %s: %s (the driver has "
				       "no native XDP; try --mode generic or tc)",
				       a->iface, buf);
			else if (err == -EEXIST || err == -EBUSY)
				pr_err("cannot attach XDP to %s: %s (another XDP program is "
				       "attached outside libxdp's dispatcher, or in another mode)",
				       a->iface, buf);
			else
				pr_err("cannot attach XDP to %s: %s (-v shows libbpf's log)",
				       a->iface, buf);
			goto out;
		}
		xdp_attached = true;
		info.prog_id = xdp_program__id(xprog);
		info.priority = xdp_program__run_prio(xprog);
		{
			struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);

			if (!libxdp_get_error(mp) && mp) {
				legacy = xdp_multiprog__is_legacy(mp);
				info.mode = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB
						    ? SW_MODE_GENERIC
						    : SW_MODE_NATIVE;
				xdp_multiprog__close(mp);
			} else {
				info.mode =
					xmode == XDP_MODE_SKB ? SW_MODE_GENERIC : SW_MODE_NATIVE;
			}
		}
		if (!legacy)
			info.flags |= SW_IF_DISPATCHER;
	} else {
		err = sipwall__load(skel);
		if (err) {
			report_load_error("cannot load the BPF object", err);
			goto out;
		}
		err = tc_attach(ifindex, BPF_TC_INGRESS, bpf_program__fd(skel->progs.sipwall_tc_in),
				&info.prog_id);
		if (err) {
			pr_err("cannot attach TC ingress to %s: %s", a->iface, strerror(-err));
			goto out;
		}
		tc_in_attached = true;
		info.mode = SW_MODE_TC;
	}

	if (want_eg) {
		err = tc_attach(ifindex, BPF_TC_EGRESS, bpf_program__fd(skel->progs.sipwall_tc_eg),
				&info.egress_prog_id);
		if (err) {
			pr_err("cannot attach the TC egress learner to %s: %s", a->iface,
			       strerror(-err));
			goto out;
		}
		tc_eg_attached = true;
		info.flags |= SW_IF_EGRESS;
	}
	if (a->forward)
		info.flags |= SW_IF_FORWARD;
	if (!info.prog_id)
		info.prog_id = prog_id_of(bpf_program__fd(want_xdp ? skel->progs.sipwall_xdp
								   : skel->progs.sipwall_tc_in));

	/* Read-modify-write: the signalling ports, flood settings and ban
	 * prefixes (sipwall flood set, sipd) survive a re-attach; a pin root
	 * without them gets the defaults. Bans pinned before stay enforced. */
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.sw_config), &zero, &cfg))
		memset(&cfg, 0, sizeof(cfg));
	if (!cfg.flood_prefix_v4 && !cfg.ban_prefix_v4)
		sw_config_dos_defaults(&cfg);
	{
		struct sw_ban_key bk;

		if (bpf_map_get_next_key(bpf_map__fd(skel->maps.sw_bans), NULL, &bk) == 0)
			cfg.flags |= SW_CFG_BANS_ACTIVE;
	}
	cfg.media_lo = lo;
	cfg.media_hi = hi;
	cfg.max_pinholes = max;
	if (a->dscp_set) { /* pin-path wide, like the media range */
		cfg.flags &= ~SW_CFG_DSCP;
		if (a->dscp_on) {
			cfg.flags |= SW_CFG_DSCP;
			cfg.dscp_audio = a->dscp_audio;
			cfg.dscp_video = a->dscp_video;
		}
	}
	cfg.version = SW_SCHEMA_VERSION;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.sw_config), &zero, &cfg, BPF_ANY)) {
		err = -errno;
		pr_err("cannot write sw_config: %s", strerror(-err));
		goto out;
	}
	info.ifindex = (__u32)ifindex;
	info.attached_ns = sw_monotonic_ns();
	info.netns_cookie = ns.cookie;
	info.netns_ino = ns.ino;
	snprintf(info.name, sizeof(info.name), "%s", a->iface);
	sw_iface_key_of(&info, &ikey);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.sw_ifaces), &ikey, &info, BPF_NOEXIST)) {
		err = -errno;
		pr_err("cannot record %s in sw_ifaces: %s", a->iface,
		       err == -E2BIG ? "sw_ifaces is full" : strerror(-err));
		goto out;
	}
	iface_written = true;
	if (a->forward) {
		struct sw_fwd_dev fd = {.ifindex = (__u32)ifindex};
		__u32 k = (__u32)ifindex;

		/* Its VLAN devices, while nothing can be sent here yet. */
		nvlans = sw_fwd_vlans_sync(a->pin_path, a->iface, ifindex, true);
		if (nvlans < 0) {
			err = nvlans;
			goto out;
		}
		vlans_written = true;
		/* Last: from here on other --forward interfaces send here. */
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.sw_fwd_devs), &k, &fd, BPF_ANY)) {
			err = -errno;
			pr_err("cannot add %s to sw_fwd_devs: %s", a->iface, strerror(-err));
			goto out;
		}
		fwd_written = true;
	}

	printf("sipwall: attached to %s (ifindex %d): %s, %s, program id %u", a->iface, ifindex,
	       sw_mode_name(info.mode),
	       info.mode == SW_MODE_TC ? "tc clsact ingress"
	       : legacy		       ? "single program (dispatcher unavailable)"
				       : "libxdp dispatcher",
	       info.prog_id);
	if (info.egress_prog_id)
		printf(", egress learner id %u", info.egress_prog_id);
	if (a->forward)
		printf(", forwarding in XDP (%d 802.1Q VLAN device%s)", nvlans,
		       nvlans == 1 ? "" : "s");
	printf("; media ports %u-%u, pinholes max %u, maps under %s\n", lo, hi, max, a->pin_path);
	err = 0;

out:
	if (err) {
		/* Undo in reverse order; the kernel objects die with their last reference. */
		if (fwd_written) {
			__u32 k = (__u32)ifindex;

			bpf_map_delete_elem(bpf_map__fd(skel->maps.sw_fwd_devs), &k);
		}
		if (vlans_written)
			sw_fwd_vlans_sync(a->pin_path, a->iface, ifindex, false);
		if (iface_written)
			bpf_map_delete_elem(bpf_map__fd(skel->maps.sw_ifaces), &ikey);
		if (tc_eg_attached)
			tc_detach(ifindex, BPF_TC_EGRESS, info.egress_prog_id);
		if (tc_in_attached)
			tc_detach(ifindex, BPF_TC_INGRESS, info.prog_id);
		if (xdp_attached)
			xdp_program__detach(xprog, ifindex, xmode, 0);
		if (skel) {
			i = 0;
			bpf_object__for_each_map(map, skel->obj)
			{
				if (i < SW_MAX_OBJ_MAPS && !pinned_before[i++])
					bpf_map__unpin(map, NULL);
			}
		}
	}
	xdp_program__close(xprog);
	sipwall__destroy(skel);
	pin_root_release(&pr, err != 0);
	return err ? SW_EXIT_FAIL : SW_EXIT_OK;
}

int do_detach(const struct sw_args *a)
{
	struct pin_root pr = {.lock_fd = -1};
	struct sw_iface_info info;
	struct sw_iface_key key;
	struct sw_maps m = SW_MAPS_INIT;
	struct sw_netns ns;
	struct by_name_ctx bn = {.name = a->iface, .ns = &ns};
	__u32 ifindex;
	int err, eg_err = 0, ret = SW_EXIT_FAIL;

	if (sw_need_root())
		return SW_EXIT_FAIL;
	err = sw_netns_self(&ns);
	if (err) {
		pr_err("cannot identify this network namespace: %s", strerror(-err));
		return SW_EXIT_FAIL;
	}
	if (sw_open_maps_or_report(a->pin_path, &m))
		return SW_EXIT_FAIL;
	sw_maps_close(&m);
	if (pin_root_prepare(a->pin_path, &pr, false))
		goto out;
	if (ifaces_upgrade(a->pin_path, &ns) || sw_open_maps_or_report(a->pin_path, &m))
		goto out;
	err = sw_iface_foreach(&m, by_name_cb, &bn);
	if (err) {
		pr_err("cannot read sw_ifaces: %s", strerror(-err));
		goto out;
	}

	ifindex = if_nametoindex(a->iface);
	if (!ifindex) {
		char now[IF_NAMESIZE];
		int exists;

		if (!bn.found_here) {
			if (bn.found_other)
				report_other_ns(a->iface, a->pin_path, &bn.other);
			else
				pr_err("unknown interface '%s'", a->iface);
			goto out;
		}
		/* Recorded here, gone from here: deleted, renamed or moved. */
		if (if_indextoname(bn.here.ifindex, now)) {
			pr_err("%s (ifindex %u) is now called %s: detach %s", a->iface,
			       bn.here.ifindex, now, now);
			goto out;
		}
		exists = prog_exists(bn.here.prog_id);
		if (exists < 0) {
			report_no_sys_admin(a->iface, "verify that the program is gone", exists);
			goto out;
		}
		if (exists) {
			pr_err("%s no longer exists here but its program id %u still runs (the "
			       "interface moved to another network namespace?); record kept",
			       a->iface, bn.here.prog_id);
			goto out;
		}
		sw_iface_key_of(&bn.here, &key);
		if (bpf_map_delete_elem(m.ifaces, &key)) {
			pr_err("cannot delete the record of %s: %s", a->iface, strerror(errno));
			goto out;
		}
		printf("sipwall: %s no longer exists; removed its record (ifindex %u)\n", a->iface,
		       bn.here.ifindex);
		ret = SW_EXIT_OK;
		goto out;
	}
	err = iface_find(m.ifaces, &ns, ifindex, a->iface, &key, &info);
	if (err) {
		if (err != -ENOENT)
			report_no_sys_admin(a->iface, "check the recorded attachment", err);
		else if (bn.found_other && !bn.found_here)
			report_other_ns(a->iface, a->pin_path, &bn.other);
		else
			pr_err("%s is not attached (under %s)", a->iface, a->pin_path);
		goto out;
	}

	if (info.flags & SW_IF_FORWARD) {
		/* First: other forwarding interfaces stop sending here. */
		int fd = sw_pinned_fd(a->pin_path, SW_MAP_FWD_DEVS);

		if (fd >= 0) {
			if (bpf_map_delete_elem(fd, &ifindex) && errno != ENOENT) {
				pr_err("cannot remove %s from sw_fwd_devs: %s", a->iface,
				       strerror(errno));
				close(fd);
				goto out;
			}
			close(fd);
		}
		/* Then its VLAN devices' entries (nothing sends through them). */
		sw_fwd_vlans_sync(a->pin_path, a->iface, (int)ifindex, false);
	}
	if (info.mode == SW_MODE_TC) {
		err = tc_detach((int)ifindex, BPF_TC_INGRESS, info.prog_id);
		if (err == -ENOENT || err == -ESTALE)
			pr_info("%s: TC ingress filter %s; leaving it", a->iface,
				err == -ENOENT ? "already gone" : "runs another program");
		else if (err) {
			pr_err("cannot detach TC ingress from %s: %s", a->iface, strerror(-err));
			goto out;
		}
	} else {
		struct xdp_program *p;
		__u32 found;

		/* Only a verified absence lets the record go: without
		 * CAP_SYS_ADMIN nothing can be verified, so nothing changes. */
		err = xdp_lookup((int)ifindex, info.prog_id, &found, NULL);
		if (err) {
			report_no_sys_admin(a->iface, "look up the XDP programs", err);
			goto out;
		}
		if (!found) {
			pr_info("%s: XDP program id %u is no longer attached", a->iface,
				info.prog_id);
		} else {
			p = xdp_program__from_id(info.prog_id);
			err = libxdp_get_error(p);
			if (err) {
				report_no_sys_admin(a->iface, "open XDP program by id", err);
				goto out;
			}
			err = xdp_program__detach(
				p, (int)ifindex,
				info.mode == SW_MODE_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE, 0);
			xdp_program__close(p);
			if (err) {
				char buf[256];

				libxdp_strerror(err, buf, sizeof(buf));
				pr_err("cannot detach XDP from %s: %s", a->iface, buf);
				goto out;
			}
		}
	}
	if (info.flags & SW_IF_EGRESS) {
		eg_err = tc_detach((int)ifindex, BPF_TC_EGRESS, info.egress_prog_id);
		if (eg_err == -ENOENT || eg_err == -ESTALE) {
			pr_info("%s: TC egress filter %s; leaving it", a->iface,
				eg_err == -ENOENT ? "already gone" : "runs another program");
			eg_err = 0;
		} else if (eg_err) {
			pr_err("cannot detach the TC egress learner from %s: %s (the enforcement "
			       "program is detached)",
			       a->iface, strerror(-eg_err));
		}
	}
	bpf_map_delete_elem(m.ifaces, &key);
	if (eg_err)
		goto out;
	printf("sipwall: detached from %s; maps and pinholes stay pinned under %s\n", a->iface,
	       a->pin_path);
	ret = SW_EXIT_OK;
out:
	pin_root_release(&pr, false);
	sw_maps_close(&m);
	return ret;
}
