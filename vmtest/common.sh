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

# vmt_pvh_image VMLINUZ: print an uncompressed vmlinux of VMLINUZ that qemu
# can boot directly through the kernel's PVH entry point (CONFIG_PVH, the
# Xen PHYS32_ENTRY ELF note), extracting it into the cache once. Under TCG
# this skips the emulated firmware and decompressor: ~7 s of every boot.
# Fails when the image holds no such kernel (the caller boots VMLINUZ).
vmt_pvh_image() {
	local img=$1 out tmp magic off cat
	out=$(basename "$img")
	out=$(vmt_cache_dir)/pvh/vmlinux-${out#vmlinuz-}-$(stat -c %s-%Y "$img")
	if [ -s "$out" ]; then
		echo "$out"
		return 0
	fi
	command -v readelf >/dev/null || return 1
	mkdir -p "$(dirname "$out")" || return 1
	tmp=$(mktemp "$out.XXXXXX") || return 1
	# The compressed payload starts at the first of these magics that
	# decompresses to an ELF (what the kernel's scripts/extract-vmlinux does).
	for magic in '\x28\xb5\x2f\xfd:zstd' '\xfd\x37\x7a\x58\x5a\x00:xz' '\x1f\x8b\x08:gzip'; do
		cat=${magic#*:}
		command -v "$cat" >/dev/null || continue
		for off in $(LC_ALL=C grep -obUaP "${magic%:*}" "$img" 2>/dev/null | cut -d: -f1 | head -n 4); do
			tail -c "+$((off + 1))" "$img" | "$cat" -dc >"$tmp" 2>/dev/null
			if readelf -h "$tmp" 2>/dev/null | grep -q 'Type:.*EXEC' &&
				readelf -n "$tmp" 2>/dev/null | grep -Eq '0x00000012|PHYS32_ENTRY'; then
				chmod 644 "$tmp" && mv "$tmp" "$out"
				echo "$out"
				return 0
			fi
		done
	done
	rm -f "$tmp"
	return 1
}
