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
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

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
	char path[512];
	void *prev = NULL;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", a->pin_path, SW_MAP_IFACES);
	fd = bpf_obj_get(path);
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
