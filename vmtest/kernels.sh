#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Fetch Debian kernels into the vmtest cache, the way a distribution user would
# get them: the meta package names the real image package, which is downloaded
# (apt-get download), unpacked (dpkg-deb -x) and given a module index (depmod -b).
#
#   vmtest/kernels.sh fetch [NAME...]   download 6.1 and 6.12 (or the NAMEs)
#   vmtest/kernels.sh path NAME         print the unpacked tree of NAME
#   vmtest/kernels.sh image NAME        print NAME's vmlinuz
#   vmtest/kernels.sh list              NAME, kernel release and path of each cached kernel
#
# Layout: CACHE/trees/PKG_VERSION/{boot,lib/modules/KREL} and CACHE/NAME -> trees/...
set -euo pipefail
. "$(dirname "$0")/common.sh"

CACHE=$(vmt_cache_dir)

usage() {
	sed -n '3,12s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# Prints the versioned image package a meta package depends on.
resolve_pkg() {
	local meta=$1 dep
	dep=$(apt-cache depends --no-recommends --no-suggests "$meta" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	if [ -z "$dep" ] && [ "$(id -u)" -eq 0 ]; then
		vmt_log "apt-cache knows no $meta; running apt-get update"
		apt-get update -q >&2 || true
		dep=$(apt-cache depends --no-recommends --no-suggests "$meta" 2>/dev/null |
			awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	fi
	[ -n "$dep" ] || { vmt_log "cannot resolve $meta to a kernel image package (apt lists missing?)"; return 1; }
	echo "$dep"
}

fetch_one() {
	local name=$1 meta pkg ver tree tmp deb krel
	meta=$(vmt_meta_pkg "$name") || vmt_die "unknown kernel '$name' (known: $VMT_KNOWN_KERNELS)"
	pkg=$(resolve_pkg "$meta") || return 1
	ver=$(apt-cache policy "$pkg" | awk '$1 == "Candidate:" { print $2 }')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || { vmt_log "no candidate version for $pkg"; return 1; }
	tree="trees/${pkg}_${ver}"
	if [ -f "$CACHE/$tree/.complete" ]; then
		ln -sfn "$tree" "$CACHE/$name"
		vmt_log "$name: $pkg $ver already cached"
		return 0
	fi
	vmt_log "$name: fetching $pkg $ver"
	mkdir -p "$CACHE/trees"
	tmp=$(mktemp -d "$CACHE/trees/.fetch.XXXXXX")
	# apt's sandbox user cannot write into a root-owned mktemp dir; say so explicitly.
	if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >&2); then
		rm -rf "$tmp"
		vmt_log "$name: apt-get download $pkg=$ver failed"
		return 1
	fi
	deb=$(ls "$tmp"/*.deb)
	mkdir "$tmp/root"
	dpkg-deb -x "$deb" "$tmp/root"
	rm -f "$deb"
	krel=$(ls "$tmp/root/lib/modules" | head -n 1)
	[ -n "$krel" ] && ls "$tmp/root/boot/vmlinuz-$krel" >/dev/null ||
		{ rm -rf "$tmp"; vmt_log "$name: $pkg has no vmlinuz/modules for one release"; return 1; }
	# Newer Debian kernels ship xz-compressed modules; unpack them once so that
	# busybox insmod in the initramfs and any kmod build can load them.
	find "$tmp/root/lib/modules/$krel" -name '*.ko.xz' -exec xz -d {} +
	find "$tmp/root/lib/modules/$krel" -name '*.ko.zst' -exec zstd -q --rm -d {} + 2>/dev/null || true
	depmod -b "$tmp/root" "$krel"
	echo "$krel" >"$tmp/root/.krel"
	touch "$tmp/root/.complete"
	rm -rf "${CACHE:?}/$tree"
	mv "$tmp/root" "$CACHE/$tree"
	rmdir "$tmp"
	ln -sfn "$tree" "$CACHE/$name"
	vmt_log "$name: cached $krel in $CACHE/$tree"
}

tree_of() {
	local t="$CACHE/$1"
	[ -f "$t/.complete" ] || return 1
	readlink -f "$t"
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
case "$cmd" in
fetch)
	[ $# -gt 0 ] || set -- $VMT_KNOWN_KERNELS
	rc=0
	for n in "$@"; do fetch_one "$n" || rc=1; done
	exit $rc
	;;
path)
	[ $# -eq 1 ] || usage
	tree_of "$1" || { vmt_log "kernel '$1' is not cached; run: vmtest/kernels.sh fetch $1"; exit 1; }
	;;
image)
	[ $# -eq 1 ] || usage
	t=$(tree_of "$1") || { vmt_log "kernel '$1' is not cached; run: vmtest/kernels.sh fetch $1"; exit 1; }
	echo "$t/boot/vmlinuz-$(cat "$t/.krel")"
	;;
list)
	for n in $VMT_KNOWN_KERNELS; do
		if t=$(tree_of "$n"); then
			printf '%s\t%s\t%s\n' "$n" "$(cat "$t/.krel")" "$t"
		else
			printf '%s\t-\tnot cached\n' "$n"
		fi
	done
	;;
*) usage ;;
esac
