// SPDX-License-Identifier: GPL-2.0-only
/*
 * What `attach --forward` checks before it lets an interface forward media
 * in XDP (docs/forwarding.md): NAT rules in this network namespace, which
 * forwarded packets would bypass; forwarding interfaces of one pin root in
 * one namespace only (sw_fwd_devs is keyed by ifindex); and veth, whose
 * peer must have NAPI for redirected frames to arrive.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/if_ether.h>

#include "loader/sipwall.h"

#define SW_CAPTURE_MAX (1u << 20)

/*
 * Run argv with stdout into a malloc'd buffer (NUL-terminated, at most
 * SW_CAPTURE_MAX), stderr discarded. The exit status, or -ENOENT when the
 * program is not installed, another negative errno when it could not run.
 */
static int run_capture(char *const argv[], char **out)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int fds[2], st, devnull;
	pid_t pid;
	ssize_t n;

	*out = NULL;
	if (!buf)
		return -ENOMEM;
	if (pipe2(fds, O_CLOEXEC)) {
		free(buf);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		free(buf);
		return -errno;
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_WRONLY);
		dup2(fds[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		if (len + 1 >= cap && cap < SW_CAPTURE_MAX) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		if (len + 1 >= cap)
			break;
		n = read(fds[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	buf[len] = '\0';
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			free(buf);
			return -errno;
		}
	if (!WIFEXITED(st)) {
		free(buf);
		return -EINTR;
	}
	if (WEXITSTATUS(st) == 127) {
		free(buf);
		return -ENOENT;
	}
	*out = buf;
	return WEXITSTATUS(st);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/*
 * Rules in nft tables that hold a NAT base chain (`type nat`), user chains
 * of such tables included: that is where iptables-nft puts `-t nat` rules
 * too. Counted from `nft list ruleset`'s text: a rule is any line of a chain
 * body other than its `type ...` / `policy ...` line.
 */
static unsigned int nft_nat_rules(char *text)
{
	unsigned int total = 0, in_table = 0, rules = 0;
	int depth = 0, nat = 0, in_chain = 0;
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *l = trim(line);

		if (!*l || *l == '#')
			continue;
		if (!strncmp(l, "table ", 6) && depth == 0) {
			in_table = 1;
			rules = 0;
			nat = 0;
			depth = 1;
			continue;
		}
		if (!in_table)
			continue;
		if (!strcmp(l, "}")) {
			if (--depth == 1)
				in_chain = 0;
			if (depth == 0) {
				if (nat)
					total += rules;
				in_table = 0;
			}
			continue;
		}
		if (depth == 1 && !strncmp(l, "chain ", 6)) {
			in_chain = 1;
			depth = 2;
			continue;
		}
		/* sets, maps, flowtables, ...: not rules */
		if (l[strlen(l) - 1] == '{') {
			depth++;
			continue;
		}
		if (!in_chain || depth != 2)
			continue;
		if (!strncmp(l, "type ", 5)) {
			if (strstr(l, "type nat "))
				nat = 1;
			continue;
		}
		if (!strncmp(l, "policy ", 7))
			continue;
		rules++;
	}
	return total;
}

/* `-A` lines of one legacy xtables nat table, if the kernel has one here. */
static int legacy_nat_rules(const char *names_file, const char *bin, unsigned int *n)
{
	char *argv[] = {(char *)bin, "-w", "-t", "nat", "-S", NULL};
	char line[64], *out, *l, *save = NULL;
	int found = 0, rc;
	FILE *f = fopen(names_file, "r");

	*n = 0;
	if (!f)
		return 0; /* no legacy xtables in this kernel or namespace */
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(trim(line), "nat"))
			found = 1;
	}
	fclose(f);
	if (!found)
		return 0;
	rc = run_capture(argv, &out);
	if (rc)
		return rc < 0 ? rc : -EIO;
	for (l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (!strncmp(l, "-A ", 3))
			(*n)++;
	free(out);
	return 0;
}

/*
 * NAT rules in this network namespace, which media forwarded in XDP would
 * bypass. 0 none found, 1 some (reported; refused unless --forward-force),
 * -1 could not tell (reported as a warning).
 */
static int nat_check(const struct sw_args *a)
{
	char *argv[] = {"nft", "list", "ruleset", NULL};
	unsigned int nft = 0, l4 = 0, l6 = 0;
	int rc, r4, r6, unknown = 0;
	char *out;

	rc = run_capture(argv, &out);
	if (rc == 0) {
		nft = nft_nat_rules(out);
		free(out);
	} else {
		free(out);
		unknown = 1;
	}
	r4 = legacy_nat_rules("/proc/net/ip_tables_names", "iptables-legacy", &l4);
	r6 = legacy_nat_rules("/proc/net/ip6_tables_names", "ip6tables-legacy", &l6);
	if (r4 || r6)
		unknown = 1;
	if (nft + l4 + l6) {
		if (a->forward_force) {
			pr_info("--forward-force: %u nft and %u iptables-legacy NAT rule(s) in "
				"this "
				"network namespace are bypassed by media forwarded in XDP",
				nft, l4 + l6);
			return 0;
		}
		pr_err("--forward refused: this network namespace has %u nft and %u "
		       "iptables-legacy NAT rule(s); media forwarded in XDP bypasses netfilter "
		       "(NAT, conntrack, FORWARD and POSTROUTING rules), tc egress and qdiscs. "
		       "Use --forward-force if the media needs none of them (docs/forwarding.md)",
		       nft, l4 + l6);
		return 1;
	}
	if (unknown) {
		pr_info("--forward: could not list every NAT table of this network namespace "
			"(nft or iptables-legacy missing or failing); NAT rules there would be "
			"bypassed by forwarded media");
		return -1;
	}
	return 0;
}

/* Forwarding interfaces of this pin root in another network namespace:
 * sw_fwd_devs is keyed by ifindex, which names a device only within one. */
static int netns_check(const struct sw_args *a, const struct sw_netns *ns)
{
	struct sw_iface_key key, next;
	struct sw_iface_info info;
	void *prev = NULL;
	int fd = sw_pinned_fd(a->pin_path, SW_MAP_IFACES), err = 0;

	if (fd < 0)
		return 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &info) || !(info.flags & SW_IF_FORWARD))
			continue;
		if (sw_iface_in_netns(&info, ns) != 1) {
			pr_err("--forward refused: %s forwards under %s in another network "
			       "namespace (netns inode %u); the forwarding interfaces of one pin "
			       "path share one namespace: use another --pin-path here",
			       info.name, a->pin_path, info.netns_ino);
			err = -EXDEV;
			break;
		}
	}
	close(fd);
	return err;
}

static int iface_driver(const char *name, char *drv, size_t len)
{
	struct ethtool_drvinfo di = {.cmd = ETHTOOL_GDRVINFO};
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&di;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	else
		snprintf(drv, len, "%s", di.driver);
	close(fd);
	return err;
}

int sw_forward_check(const struct sw_args *a, const struct sw_netns *ns)
{
	char drv[32] = "";
	int err;

	if (a->mode == SW_CLI_MODE_TC) {
		pr_err("--forward needs XDP (native or generic): not with --mode tc");
		return -EINVAL;
	}
	err = netns_check(a, ns);
	if (err)
		return err;
	if (nat_check(a) == 1)
		return -EPERM;
	if (!iface_driver(a->iface, drv, sizeof(drv)) && !strcmp(drv, "veth"))
		pr_info("--forward: %s is a veth: media redirected out of it reaches its peer only "
			"if the peer has NAPI (an XDP program, e.g. sipwall or an XDP_PASS stub, "
			"or "
			"GRO on: ethtool -K PEER gro on); otherwise the kernel drops it "
			"(docs/forwarding.md)",
			a->iface);
	return 0;
}

/* ---- 802.1Q VLAN devices of a --forward interface (sw_fwd_vlans) ---- */

/* The attribute of type t among those from a to end, or NULL. */
static struct rtattr *rta_find(struct rtattr *a, int len, unsigned short t)
{
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if ((a->rta_type & NLA_TYPE_MASK) == t)
			return a;
	return NULL;
}

/* One RTM_NEWLINK: an 802.1Q VLAN device of this namespace on lower? */
static int vlan_of(struct nlmsghdr *h, int lower, struct sw_vlan_dev *v)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	struct rtattr *a = IFLA_RTA(ifi), *link, *info, *kind, *data, *id, *proto;

	if (len < 0 || rta_find(a, len, IFLA_LINK_NETNSID)) /* lower in another namespace */
		return 0;
	link = rta_find(a, len, IFLA_LINK);
	info = rta_find(a, len, IFLA_LINKINFO);
	if (!link || RTA_PAYLOAD(link) < 4 || *(__u32 *)RTA_DATA(link) != (__u32)lower || !info)
		return 0;
	kind = rta_find(RTA_DATA(info), (int)RTA_PAYLOAD(info), IFLA_INFO_KIND);
	data = rta_find(RTA_DATA(info), (int)RTA_PAYLOAD(info), IFLA_INFO_DATA);
	if (!kind || strncmp(RTA_DATA(kind), "vlan", RTA_PAYLOAD(kind)) || !data)
		return 0;
	id = rta_find(RTA_DATA(data), (int)RTA_PAYLOAD(data), IFLA_VLAN_ID);
	proto = rta_find(RTA_DATA(data), (int)RTA_PAYLOAD(data), IFLA_VLAN_PROTOCOL);
	if (!id || RTA_PAYLOAD(id) < 2)
		return 0;
	/* 802.1ad devices (QinQ service tags) stay with the stack. */
	if (proto && RTA_PAYLOAD(proto) >= 2 && *(__be16 *)RTA_DATA(proto) != htons(ETH_P_8021Q))
		return 0;
	v->ifindex = (__u32)ifi->ifi_index;
	v->vid = *(__u16 *)RTA_DATA(id);
	v->pad = 0;
	return v->vid >= 1 && v->vid <= 4094;
}

/*
 * The 802.1Q VLAN devices of this network namespace whose lower device is
 * lower (rtnetlink link dump): up to max of them into out. Their count, or
 * -errno.
 */
static int vlan_devs(int lower, struct sw_vlan_dev *out, int max)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {
		.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		      .nlmsg_type = RTM_GETLINK,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		      .nlmsg_seq = 1},
		.i = {.ifi_family = AF_UNSPEC},
	};
	static char buf[65536] __attribute__((aligned(4)));
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), n = 0, err = 0;

	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.h.nlmsg_len, 0) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0) {
			err = len < 0 ? -errno : -EIO;
			break;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				goto done;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				err = e->error ? e->error : -EIO;
				goto done;
			}
			if (h->nlmsg_type == RTM_NEWLINK && n < max && vlan_of(h, lower, &out[n]))
				n++;
		}
	}
done:
	close(fd);
	return err ? err : n;
}

/* Delete the entries of lower (its IN entries and the OUT entries of its
 * VLAN devices). */
static void fwd_vlans_clear(int fd, int lower)
{
	struct sw_vlan_key key, next, gone[SW_FWD_VLANS_MAX];
	struct sw_vlan_dev v;
	void *prev = NULL;
	unsigned int n = 0, i;

	while (n < SW_FWD_VLANS_MAX && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		if (key.dir == SW_VLAN_IN ? key.ifindex == (__u32)lower : v.ifindex == (__u32)lower)
			gone[n++] = key;
	}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &gone[i]);
}

/*
 * SW_CFG_FWD_VLANS on while sw_fwd_vlans holds any entry: XDP forwarding
 * looks a route's egress device up there only then.
 */
static int fwd_vlans_flag(const char *pin_path, int vfd)
{
	int fd = sw_pinned_fd(pin_path, SW_MAP_CONFIG);
	int empty = sw_map_empty(vfd, sizeof(struct sw_vlan_key)), err;

	if (fd < 0)
		return -errno;
	err = empty < 0 ? empty : sw_config_flag(fd, SW_CFG_FWD_VLANS, !empty);
	close(fd);
	return err;
}

int sw_fwd_vlans_sync(const char *pin_path, const char *iface, int lower, bool add)
{
	struct sw_vlan_dev devs[SW_FWD_VLANS_MAX / 2];
	int fd = sw_pinned_fd(pin_path, SW_MAP_FWD_VLANS), n = 0, i, err = 0;

	if (fd < 0)
		return errno == ENOENT && !add ? 0 : -errno; /* a pin root from before it */
	if (add) {
		n = vlan_devs(lower, devs, (int)(sizeof(devs) / sizeof(devs[0])));
		if (n < 0) {
			pr_err("cannot list the VLAN devices on %s: %s", iface, strerror(-n));
			close(fd);
			return n;
		}
	}
	/* What was recorded for lower goes first: devices may be gone, or
	 * their ifindexes now name others. */
	fwd_vlans_clear(fd, lower);
	for (i = 0; i < n && !err; i++) {
		struct sw_vlan_key in = {
			.ifindex = (__u32)lower, .vid = devs[i].vid, .dir = SW_VLAN_IN};
		struct sw_vlan_key out = {.ifindex = devs[i].ifindex, .dir = SW_VLAN_OUT};
		struct sw_vlan_dev lo = {.ifindex = (__u32)lower, .vid = devs[i].vid};

		if (bpf_map_update_elem(fd, &in, &devs[i], BPF_ANY) ||
		    bpf_map_update_elem(fd, &out, &lo, BPF_ANY))
			err = -errno;
	}
	if (err) {
		pr_err("cannot record the VLAN devices of %s in %s/%s: %s", iface, pin_path,
		       SW_MAP_FWD_VLANS, err == -E2BIG ? "sw_fwd_vlans is full" : strerror(-err));
		fwd_vlans_clear(fd, lower);
	}
	/* After the entries when they come, and after they went: the flag
	 * never hides a recorded device. */
	i = fwd_vlans_flag(pin_path, fd);
	if (i && !err) {
		pr_err("cannot update sw_config's SW_CFG_FWD_VLANS in %s: %s", pin_path,
		       strerror(-i));
		err = i;
	}
	close(fd);
	return err ? err : n;
}

int sw_fwd_vlans_list(const char *pin_path, int lower, __u16 *vids, int max)
{
	struct sw_vlan_key key, next;
	void *prev = NULL;
	int fd = sw_pinned_fd(pin_path, SW_MAP_FWD_VLANS), n = 0;

	if (fd < 0)
		return 0;
	/* The key holds the VID: no value to read. */
	while (n < max && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (key.dir == SW_VLAN_IN && key.ifindex == (__u32)lower)
			vids[n++] = key.vid;
	}
	close(fd);
	return n;
}
