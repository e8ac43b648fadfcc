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
	kamailio kamailio-tls-modules rtpengine-daemon openssl stunnel4
	redis-server redis-sentinel redis-tools libhiredis-dev
)

# Debian's sip-tester is built without OpenSSL (no -t l1): the Kamailio TLS
# lab puts SIPp's TCP through stunnel, which speaks the TLS on the wire.
# Packages whose install would start a system service. The tests start these
# daemons themselves, inside their own namespaces; a system copy would hold
# their ports on the host, so it is never started, and disabled.
SERVICES=(kamailio rtpengine-daemon stunnel4 redis-server redis-sentinel)

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
	# policy-rc.d exit 101: invoke-rc.d / deb-systemd-invoke start nothing
	# during the install. Only ours is removed afterwards.
	own_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\n# sipwall scripts/deps.sh: no service starts during the install\nexit 101\n' \
			>/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		own_policy=1
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get install -y -q --no-install-recommends "${PKGS[@]}"
	if [ -n "$own_policy" ]; then
		rm -f /usr/sbin/policy-rc.d
		trap - EXIT
	fi
fi

# Whatever started them anyway (an earlier install without the policy):
# stop and disable the system services, so only the tests run these daemons.
if [ "$(id -u)" -eq 0 ]; then
	for svc in "${SERVICES[@]}"; do
		if command -v systemctl >/dev/null; then
			systemctl stop "$svc" >/dev/null 2>&1 || true
			systemctl disable "$svc" >/dev/null 2>&1 || true
		fi
		if [ -x "/etc/init.d/$svc" ] && [ ! -d /run/systemd/system ]; then
			"/etc/init.d/$svc" stop >/dev/null 2>&1 || true
		fi
	done
fi

if [ "$(id -u)" -eq 0 ] && ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi
exit 0
