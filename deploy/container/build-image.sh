#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build sipwall's container image offline: a scratch root holding exactly the
# sipwall and sipd binaries, the BPF object, libxdp's dispatcher object, the
# example /etc/sipwall/sipd.json, the DaemonSet glue (sipwall-node, run by a
# static busybox sh), iptables (nft backend, for `sipd rules`) and the shared libraries ldd finds
# for them, imported with `podman import` (no registry, no base image).
#
# The tarball is reproducible (sorted, mtime 0, uid 0); its sha256 names the
# image (label org.sipwall.rootfs, with this script), so an unchanged tree is
# not imported again.
#
# usage: build-image.sh [--print-tag] BUILD_DIR VERSION
#   prints the image reference it built or found: localhost/sipwall:VERSION
set -euo pipefail

print_only=0
if [ "${1:-}" = --print-tag ]; then print_only=1; shift; fi
BUILD=${1:?usage: build-image.sh BUILD_DIR VERSION}
VERSION=${2:?usage: build-image.sh BUILD_DIR VERSION}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
IMAGE=localhost/sipwall:$VERSION
[ $print_only -eq 1 ] && { echo "$IMAGE"; exit 0; }
export CONTAINERS_CONF=${CONTAINERS_CONF:-$TOP/deploy/podman/containers.conf}

command -v podman >/dev/null || { echo "build-image: podman not installed (scripts/deps.sh)" >&2; exit 1; }
for f in "$BUILD/bin/sipwall" "$BUILD/bin/sipd" "$BUILD/obj/bpf/sipwall.bpf.o"; do
	[ -e "$f" ] || { echo "build-image: $f missing (make all)" >&2; exit 1; }
done

OUT=$BUILD/image
ROOT=$OUT/rootfs
rm -rf "$ROOT"
mkdir -p "$ROOT"/{usr/bin,usr/sbin,usr/lib/sipwall,etc/sipwall,tmp,run,proc,sys,dev}
chmod 1777 "$ROOT/tmp"
# Merged /usr like the host (Debian 12): /lib and /lib64 are links into /usr,
# so the loader path ldd prints (/lib64/ld-linux-x86-64.so.2) resolves.
for l in lib lib64 bin sbin; do
	if [ -L "/$l" ]; then
		mkdir -p "$ROOT/usr/$l"
		ln -s "usr/$l" "$ROOT/$l"
	fi
done

install -m 0755 "$BUILD/bin/sipwall" "$BUILD/bin/sipd" "$ROOT/usr/sbin/"
install -m 0644 "$BUILD/obj/bpf/sipwall.bpf.o" "$ROOT/usr/lib/sipwall/"
install -m 0644 "$TOP/etc/sipd.json" "$ROOT/etc/sipwall/sipd.json"
# The DaemonSet's attach/detach glue needs a shell, grep and awk: one static
# busybox (no other userland), linked only for the applets the script uses.
BB=$(command -v busybox || true)
if [ -z "$BB" ] || ! file -b "$BB" | grep -q 'statically linked'; then
	echo "build-image: a static busybox is needed (Debian busybox-static)" >&2
	exit 1
fi
install -m 0755 "$BB" "$ROOT/usr/bin/busybox"
for a in sh awk; do ln -s busybox "$ROOT/usr/bin/$a"; done
install -m 0755 "$TOP/deploy/container/sipwall-node" "$ROOT/usr/sbin/sipwall-node"

# iptables-nft: one multi-call binary; its match/target modules are dlopen()ed
# from the xtables directory, so ldd does not see them.
XT=$(readlink -f "$(command -v xtables-nft-multi || true)")
XTDIR=$(dirname "$(find /usr/lib /lib -maxdepth 3 -type f -name 'libxt_NFQUEUE.so' 2>/dev/null | head -n1)")
elves=("$ROOT/usr/sbin/sipwall" "$ROOT/usr/sbin/sipd")
if [ -x "$XT" ] && [ -d "$XTDIR" ]; then
	install -m 0755 "$XT" "$ROOT/usr/sbin/xtables-nft-multi"
	for n in iptables ip6tables iptables-save ip6tables-save iptables-restore ip6tables-restore; do
		ln -sf xtables-nft-multi "$ROOT/usr/sbin/$n"
	done
	mkdir -p "$ROOT$XTDIR"
	cp -a "$XTDIR"/libxt_*.so "$XTDIR"/libipt_*.so "$XTDIR"/libip6t_*.so "$ROOT$XTDIR/" 2>/dev/null || true
	elves+=("$ROOT/usr/sbin/xtables-nft-multi" "$ROOT$XTDIR"/*.so)
	mkdir -p "$ROOT/etc"
	# iptables resolves protocol names (-p udp) through /etc/protocols.
	[ -r /etc/protocols ] && install -m 0644 /etc/protocols "$ROOT/etc/protocols"
else
	echo "build-image: iptables-nft not found; the image cannot run 'sipd rules'" >&2
fi

# Every shared library (and the dynamic loader) at the path the host has it.
ldd "${elves[@]}" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }' |
	sort -u | while read -r lib; do
		real=$(readlink -f "$lib")
		mkdir -p "$ROOT$(dirname "$lib")"
		[ -e "$ROOT$lib" ] || cp -L "$real" "$ROOT$lib"
	done
# libxdp loads its multi-program dispatcher from an object file next to it.
DISP=$(find /usr/lib /lib -maxdepth 3 -path '*/bpf/xdp-dispatcher.o' 2>/dev/null | head -n1)
if [ -n "$DISP" ]; then
	mkdir -p "$ROOT$(dirname "$DISP")"
	install -m 0644 "$DISP" "$ROOT$DISP"
else
	echo "build-image: libxdp's xdp-dispatcher.o not found; XDP attach will fail" >&2
	exit 1
fi

TAR=$OUT/rootfs.tar
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$ROOT" -cf "$TAR" .
# The digest covers the import settings below too (this script).
SUM=$(cat "$TAR" "$0" | sha256sum | cut -c1-64)

have=$(podman image inspect --format '{{ index .Labels "org.sipwall.rootfs" }}' "$IMAGE" 2>/dev/null || true)
if [ "$have" = "$SUM" ]; then
	echo "build-image: $IMAGE is up to date (rootfs sha256 ${SUM:0:12})" >&2
	echo "$IMAGE"
	exit 0
fi
podman import \
	--change 'ENV PATH=/usr/sbin:/usr/bin' \
	--change 'ENTRYPOINT ["/usr/sbin/sipd"]' \
	--change 'CMD ["run", "-c", "/etc/sipwall/sipd.json"]' \
	--change "LABEL org.sipwall.rootfs=$SUM" \
	--change "LABEL org.opencontainers.image.version=$VERSION" \
	--change "LABEL org.opencontainers.image.title=sipwall" \
	--change "LABEL org.opencontainers.image.licenses=GPL-2.0-only" \
	--message "sipwall $VERSION (scratch rootfs)" \
	"$TAR" "$IMAGE" >/dev/null
echo "build-image: built $IMAGE ($(du -sh "$TAR" | cut -f1) rootfs, sha256 ${SUM:0:12})" >&2
echo "$IMAGE"
