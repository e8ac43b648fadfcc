#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install every Debian package sipwall builds, tests and demos with, and make
# sure bpffs is mounted. --if-missing: only touch apt when something is absent.
set -euo pipefail

PKGS=(
	build-essential make pkg-config clang llvm libelf-dev zlib1g-dev
	libbpf-dev libxdp-dev xdp-tools bpftool linux-libc-dev
	libosip2-dev libjson-c-dev libnetfilter-queue-dev libpcap-dev libcmocka-dev
	libclang-rt-14-dev
	sip-tester iproute2 iptables nftables conntrack ethtool tcpdump kmod procps psmisc util-linux
	python3-scapy
	qemu-system-x86 busybox-static cpio
	clang-format
	podman runc catatonit prometheus systemd man-db groff-base curl
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${1:-}" != "--if-missing" ] || [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: must run as root to install: ${missing[*]:-${PKGS[*]}}" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]:-all packages}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${PKGS[@]}"
fi

if [ "$(id -u)" -eq 0 ] && ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi
exit 0
