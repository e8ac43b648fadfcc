// SPDX-License-Identifier: GPL-2.0-only
/* Helpers every sipwall command shares: privilege and pinned-map checks. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "loader/sipwall.h"

int sw_need_root(void)
{
	if (geteuid() != 0) {
		pr_err("must run as root (needs CAP_BPF, CAP_NET_ADMIN and bpffs access)");
		return -EPERM;
	}
	return 0;
}

int sw_open_maps_or_report(const char *pin_path, struct sw_maps *m)
{
	int err = sw_maps_open(pin_path, m);

	if (!err)
		return 0;
	if (err == -ENOENT)
		pr_err("no sipwall maps pinned under %s (run 'sipwall attach IFACE%s%s' first)",
		       pin_path, strcmp(pin_path, SW_PIN_ROOT_DEFAULT) ? " --pin-path " : "",
		       strcmp(pin_path, SW_PIN_ROOT_DEFAULT) ? pin_path : "");
	else if (err == -EPROTO)
		pr_err("the maps pinned under %s have the pinhole layout of an older sipwall "
		       "(schema 2 or before); this one uses schema %d: detach every interface and "
		       "remove the pin root, then attach again",
		       pin_path, SW_SCHEMA_VERSION);
	else if (err == -EPERM || err == -EACCES)
		pr_err("cannot open the maps pinned under %s: %s (must run as root)", pin_path,
		       strerror(-err));
	else
		pr_err("cannot open the maps pinned under %s: %s", pin_path, strerror(-err));
	return err;
}

const char *sw_mode_name(uint32_t mode)
{
	switch (mode) {
	case SW_MODE_NATIVE:
		return "native";
	case SW_MODE_GENERIC:
		return "generic";
	case SW_MODE_TC:
		return "tc";
	}
	return "?";
}
