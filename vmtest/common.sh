# SPDX-License-Identifier: GPL-2.0-only
# Shared by vmtest/*.sh: where the kernel cache lives and how kernels are named.

# The cache holds downloaded kernel packages, their extracted trees and the
# KVM probe answer; it is never inside the git tree.
vmt_cache_dir() {
	if [ -n "${SW_VMTEST_CACHE:-}" ]; then
		echo "$SW_VMTEST_CACHE"
	elif [ -n "${XDG_CACHE_HOME:-}" ]; then
		echo "$XDG_CACHE_HOME/sipwall-vmtest"
	elif [ -w /var/cache ]; then
		echo /var/cache/sipwall-vmtest
	else
		echo "$HOME/.cache/sipwall-vmtest"
	fi
}

# Debian meta package that points at the current build of each kernel line.
vmt_meta_pkg() {
	case "$1" in
	6.1) echo linux-image-amd64 ;;
	6.12) echo linux-image-6.12-amd64 ;;
	*) return 1 ;;
	esac
}

VMT_KNOWN_KERNELS="6.1 6.12"

vmt_die() { echo "vmtest: $*" >&2; exit 2; }
vmt_log() { echo "vmtest: $*" >&2; }
