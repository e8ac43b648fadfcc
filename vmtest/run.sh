#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run a command as root inside a guest booted from another kernel, with the
# host's root filesystem shared read-only, like virtme-ng's `vng --run`.
#
#   vmtest/run.sh [-k KERNEL] [-m MEM] [-p CPUS] [-t SECS] [-o DIR] [-a ARGS] -- COMMAND...
#
#   -k KERNEL  a vmlinuz path, a cached name (6.1, 6.12; fetched on first use)
#              or "host" (the running kernel's /boot/vmlinuz); default: host
#   -m MEM     guest memory (qemu -m syntax), default 1G
#   -p CPUS    guest CPUs, default 2
#   -t SECS    whole-run timeout, default 900
#   -o DIR     copy the guest's result share (logs/, status, timings) to DIR
#   -a ARGS    more kernel command line (e.g. rdinit=/none makes it panic)
#
# Exit status: COMMAND's. 124 on timeout; 125 when the guest gave no status
# (panic, crash, failed boot) or vmtest itself failed; the console tail is shown.
# Environment: SW_VMTEST_BACKEND=qemu|vng (default: vng when installed),
# SW_VMTEST_ACCEL=kvm|tcg (default: probed once, cached), SW_VMTEST_CACHE,
# SW_VMTEST_PVH=0 (boot the compressed vmlinuz, not the PVH vmlinux).
# In the guest, SW_TEST_LOGDIR points into the result share, the host's SW_*
# and CI variables and PATH are kept, and the working directory is the host's.
# The checkout, the working directory and the kernel's module tree are seen at
# their host paths even under /tmp or /run, which the guest covers with tmpfs.
set -euo pipefail
VMT_DIR=$(cd "$(dirname "$0")" && pwd)
. "$VMT_DIR/common.sh"

kernel=host mem=1G cpus=2 tmo=900 outdir= kargs=
usage() { sed -n '3,24s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while getopts "k:m:p:t:o:a:h" opt; do
	case "$opt" in
	k) kernel=$OPTARG ;;
	m) mem=$OPTARG ;;
	p) cpus=$OPTARG ;;
	t) tmo=$OPTARG ;;
	o) outdir=$OPTARG ;;
	a) kargs=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" != "--" ] || shift
[ $# -gt 0 ] || { echo "vmtest: no COMMAND given" >&2; usage; }
[[ "$cpus" =~ ^[1-9][0-9]*$ ]] || vmt_die "-p wants a CPU count, got '$cpus'"
[[ "$tmo" =~ ^[1-9][0-9]*$ ]] || vmt_die "-t wants seconds, got '$tmo'"
[[ "$mem" =~ ^[1-9][0-9]*[MGmg]?$ ]] || vmt_die "-m wants a size like 1G or 768M, got '$mem'"

CACHE=$(vmt_cache_dir)

# Resolve KERNEL to an image, its release and a tree holding lib/modules/KREL.
kimg= krel= ktree=
case "$kernel" in
host)
	krel=$(uname -r)
	kimg=/boot/vmlinuz-$krel
	[ -r "$kimg" ] || vmt_die "no image of the running kernel at $kimg (use -k 6.1, -k 6.12 or -k PATH)"
	ktree=/
	;;
*/*)
	kimg=$(readlink -f "$kernel")
	[ -r "$kimg" ] || vmt_die "kernel image '$kernel' not readable"
	krel=$(basename "$kimg")
	krel=${krel#vmlinuz-}
	ktree=$(dirname "$(dirname "$kimg")")
	[ -d "$ktree/lib/modules/$krel" ] || ktree=/
	;;
*)
	vmt_meta_pkg "$kernel" >/dev/null || vmt_die "unknown kernel '$kernel' (a path, host, or one of: $VMT_KNOWN_KERNELS)"
	if ! ktree=$("$VMT_DIR/kernels.sh" path "$kernel" 2>/dev/null); then
		"$VMT_DIR/kernels.sh" fetch "$kernel" >&2 || vmt_die "cannot fetch kernel $kernel"
		ktree=$("$VMT_DIR/kernels.sh" path "$kernel")
	fi
	krel=$(cat "$ktree/.krel")
	kimg=$ktree/boot/vmlinuz-$krel
	;;
esac
moddir=$ktree/lib/modules/$krel
[ -d "$moddir" ] || moddir=
# What qemu boots: the same kernel, uncompressed, through its PVH entry
# point when it has one (no emulated firmware and decompressor under TCG).
bootimg=$kimg
if [ "${SW_VMTEST_PVH:-1}" != 0 ] && pvh=$(vmt_pvh_image "$kimg"); then
	bootimg=$pvh
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sw-vmtest.XXXXXX")
qpid=
cleanup() {
	[ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Module paths (relative to moddir) needed to mount the root, dependencies first.
# Built-in ones (modules.builtin) need nothing.
boot_modules() {
	local want="virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
		netfs fscache 9pnet 9pnet_virtio 9p overlay"
	[ -n "$moddir" ] || return 0
	awk -v want="$want" '
		function base(p) { sub(/.*\//, "", p); sub(/\.ko.*$/, "", p); gsub(/-/, "_", p); return p }
		function visit(m,   n, i, d) {
			if (m in seen) return
			seen[m] = 1
			n = split(deps[m], d, " ")
			for (i = 1; i <= n; i++) visit(d[i])
			print m
		}
		FILENAME ~ /modules\.dep$/ {
			m = $1; sub(/:$/, "", m)
			byname[base(m)] = m
			$1 = ""; deps[m] = $0
			next
		}
		END {
			n = split(want, w, /[ \t\n]+/)
			for (i = 1; i <= n; i++) if (w[i] != "" && (w[i] in byname)) visit(byname[w[i]])
		}' "$moddir/modules.dep"
}

# build_initramfs OUT [probe]
build_initramfs() {
	local out=$1 root=$work/initramfs m
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,newroot,modules}
	cp "$(command -v busybox)" "$root/bin/busybox"
	! readelf -l "$root/bin/busybox" 2>/dev/null | grep -q 'program interpreter' ||
		vmt_die "busybox is dynamically linked; install busybox-static"
	cp "$VMT_DIR/guest-init.sh" "$root/init"
	chmod 755 "$root/init"
	sed -i '1s|.*|#!/bin/busybox sh|' "$root/init"
	: >"$root/modules/order"
	if [ "${2:-}" != probe ]; then
		for m in $(boot_modules); do
			cp "$moddir/$m" "$root/modules/"
			basename "$m" >>"$root/modules/order"
		done
	fi
	(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$out"
}

qemu_base() {
	local accel=$1
	QEMU=(qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot
		-machine pc -m "$mem" -smp "$cpus" -kernel "$bootimg")
	if [ "$accel" = kvm ]; then
		QEMU+=(-accel kvm -cpu host)
	else
		QEMU+=(-accel tcg -cpu max)
	fi
}

# Is KVM usable? /dev/kvm can exist where nested virtualization is too slow
# to boot anything, so boot a kernel that only prints a marker, once, and cache
# the answer per host kernel.
probe_accel() {
	local f=$CACHE/accel-$(uname -r) a=tcg
	if [ -n "${SW_VMTEST_ACCEL:-}" ]; then
		echo "$SW_VMTEST_ACCEL"
		return
	fi
	if [ -s "$f" ]; then
		cat "$f"
		return
	fi
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		build_initramfs "$work/probe.cpio" probe
		qemu_base kvm
		if timeout -k 2 20 "${QEMU[@]}" -initrd "$work/probe.cpio" -serial stdio \
			-append "console=ttyS0 panic=-1 quiet swvm.probe=1" </dev/null 2>&1 |
			grep -q SWVM-PROBE-OK; then
			a=kvm
		fi
		vmt_log "KVM probe: $a (cached in $f)"
	fi
	mkdir -p "$CACHE" && echo "$a" >"$f"
	echo "$a"
}

backend=${SW_VMTEST_BACKEND:-}
if [ -z "$backend" ]; then
	if command -v vng >/dev/null; then backend=vng; else backend=qemu; fi
fi
res=$work/result
mkdir -p "$res/logs"
chmod 777 "$res" "$res/logs"
# Where the guest sees the result share: vng maps --rwdir at the host's path.
gres=/run/vmtest/result
[ "$backend" != vng ] || gres=$res

# Host directories the guest needs at their own paths: the checkout this
# vmtest/ belongs to, the working directory and the guest kernel's module
# tree. The root share shows them, except where the guest mounts its own
# tmpfs (/tmp, /run, /dev/shm): a clone under /tmp would be an empty
# directory there. So each is also a read-only share of its own, listed in
# result/shares ("TAG PATH"), which the guest mounts at PATH when its root
# does not show PATH. Nested directories share once, at the outermost.
shares=()
add_share() {
	local d s keep=()
	d=$(cd "$1" 2>/dev/null && pwd) || return 0
	[ "$d" != / ] || return 0
	case "$d" in *$'\n'*) vmt_die "cannot share '$d' with the guest: its path holds a newline" ;; esac
	for s in "${shares[@]}"; do
		case "$d/" in "$s"/*) return 0 ;; esac
		case "$s/" in "$d"/*) ;; *) keep+=("$s") ;; esac
	done
	shares=("${keep[@]}" "$d")
}
add_share "$VMT_DIR/.."
add_share "$PWD"
[ "$ktree" = / ] || add_share "$ktree"
: >"$res/shares"
for i in "${!shares[@]}"; do
	printf 'swdir%d %s\n' "$i" "${shares[$i]}" >>"$res/shares"
done

# The command, exactly as given, in the host's working directory.
{
	printf 'cd %q || { echo "vmtest: the guest cannot enter %q"; exit 125; }\n' "$PWD" "$PWD"
	# A scratch directory named by the host (SW_TEST_TMP) starts empty.
	printf '[ -z "${SW_TEST_TMP:-}" ] || mkdir -p "$SW_TEST_TMP" || exit 125\n'
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} >"$res/cmd"
{
	printf 'export PATH=%q\n' "$PATH"
	printf 'export HOME=/root USER=root LOGNAME=root TERM=dumb SW_VMTEST_GUEST=%q\n' "$kernel"
	while IFS='=' read -r name _; do
		case "$name" in
		SW_TEST_LOGDIR | SW_VMTEST_*) ;;
		SW_* | CI) printf 'export %s=%q\n' "$name" "${!name}" ;;
		esac
	done < <(env)
	printf 'export SW_TEST_LOGDIR=%q SW_VMTEST_RESULT=%q\n' "$gres/logs" "$gres"
} >"$res/env"

accel=$(probe_accel)
start=$(date +%s.%N)
bootkind=bzImage
[ "$bootimg" = "$kimg" ] || bootkind=PVH
[ "$backend" = qemu ] || bootkind=$backend
vmt_log "kernel $krel ($kernel), backend $backend, accel $accel, ${cpus} CPUs, $mem, $bootkind boot"

rc=0
case "$backend" in
vng)
	# virtme-ng does all of the above itself and carries the exit status back.
	vargs=(--run "$kimg" --user root --cpus "$cpus" --memory "$mem" --rwdir "$res")
	for d in "${shares[@]}"; do vargs+=(--rodir "$d=$d"); done
	[ "$accel" = kvm ] || vargs+=(--disable-kvm)
	[ -z "$kargs" ] || vargs+=(--append "$kargs")
	timeout -k 10 "$tmo" vng "${vargs[@]}" -- \
		bash -c ". $res/env && exec bash $res/cmd" </dev/null &
	qpid=$!
	wait "$qpid" || rc=$?
	qpid=
	[ $rc -eq 124 ] || echo "$rc" >"$res/status"
	;;
qemu)
	command -v qemu-system-x86_64 >/dev/null || vmt_die "qemu-system-x86_64 not installed (scripts/deps.sh)"
	build_initramfs "$work/initramfs.cpio"
	qemu_base "$accel"
	for i in "${!shares[@]}"; do
		# qemu's option syntax doubles a comma in a value
		QEMU+=(-virtfs "local,path=${shares[$i]//,/,,},mount_tag=swdir$i,security_model=none,readonly=on,multidevs=remap")
	done
	QEMU+=(-initrd "$work/initramfs.cpio"
		-chardev "stdio,id=con,signal=off,logfile=$work/console.log"
		-serial chardev:con
		-virtfs "local,path=/,mount_tag=swroot,security_model=none,readonly=on,multidevs=remap"
		-virtfs "local,path=$res,mount_tag=swresult,security_model=none"
		-device virtio-rng-pci
		-append "console=ttyS0 panic=-1 quiet swvm.mods=$ktree${kargs:+ $kargs}")
	# qemu makes its stdio non-blocking: give it a pipe of its own so the
	# caller's (maybe shared) stdout is left alone. Run it in the background
	# so that a signal to us stops it at once (see cleanup).
	mkfifo "$work/console.fifo"
	cat "$work/console.fifo" &
	timeout -k 10 "$tmo" "${QEMU[@]}" </dev/null >"$work/console.fifo" 2>&1 &
	qpid=$!
	wait "$qpid" || rc=$?
	qpid=
	wait
	;;
*) vmt_die "unknown backend '$backend' (qemu or vng)" ;;
esac

secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
if [ -n "$outdir" ]; then
	mkdir -p "$outdir"
	cp -r "$res/." "$outdir/"
fi
if [ $rc -eq 124 ]; then
	vmt_log "timeout after ${tmo}s (kernel $krel); console tail:"
	tail -n 40 "$work/console.log" 2>/dev/null >&2 || true
	exit 124
fi
if [ ! -s "$res/status" ]; then
	vmt_log "the guest gave no exit status (panic, crash or failed boot; qemu rc=$rc); console tail:"
	tail -n 40 "$work/console.log" 2>/dev/null >&2 || true
	exit 125
fi
status=$(cat "$res/status")
boot=$(cat "$res/boot-seconds" 2>/dev/null || echo '?')
vmt_log "kernel $krel: exit $status, guest boot ${boot}s, total ${secs}s"
exit "$status"
