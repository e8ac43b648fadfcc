#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# PID 1 of a vmtest guest, run by busybox sh. vmtest/run.sh copies it into the
# initramfs as /init together with busybox and the kernel's own modules for
# virtio, 9p and overlayfs.
#
# Stage 1 (initramfs): load those modules, mount the host's / (9p tag swroot)
# read-only at /newroot and the results share (tag swresult) under /run, then
# switch_root into stage 2.
# Stage 2 (host root): writable tmpfs/overlays where programs expect to write,
# bpffs/tracefs/cgroup2/debugfs, the host directories those hide (result/shares),
# a modprobe forwarder into the cached kernel's
# module tree; run the command the host wrote to result/cmd, write its exit
# status to result/status and power off. No status file means the guest died.
#
# Kernel command line: swvm.mods=DIR (tree holding lib/modules/KREL),
# swvm.probe=1 (only print the KVM probe marker and power off).

BB=/bin/busybox
VMT=/run/vmtest

param() {
	for a in $(cat /proc/cmdline); do
		case "$a" in "$1="*) echo "${a#*=}"; return 0 ;; esac
	done
	return 1
}

die() {
	echo "vmtest-guest: $*" >/dev/console
	$BB sync
	$BB poweroff -f
	exit 1
}

stage1() {
	export PATH=/bin
	/bin/busybox --install -s /bin
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
	if [ "$(param swvm.probe)" = 1 ]; then
		echo "SWVM-PROBE-OK" >/dev/console
		poweroff -f
	fi
	# Modules listed in load order by the host (dependencies first).
	while read -r ko; do
		[ -n "$ko" ] || continue
		insmod "/modules/$ko" || die "insmod $ko failed"
	done </modules/order
	mkdir -p /newroot
	mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose swroot /newroot ||
		die "cannot mount the host root over 9p"
	mount -t tmpfs -o mode=0755 tmpfs /newroot/run || die "cannot mount tmpfs on /run"
	mkdir -p /newroot$VMT/result
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 swresult /newroot$VMT/result ||
		die "cannot mount the results share"
	cp /bin/busybox /newroot$VMT/busybox
	cp /init /newroot$VMT/init
	mount --move /dev /newroot/dev
	mount --move /proc /newroot/proc
	mount --move /sys /newroot/sys
	exec switch_root /newroot $VMT/busybox sh $VMT/init stage2
	die "switch_root failed"
}

# ovl DIR: copy-on-write DIR over the read-only host copy.
ovl() {
	$BB mkdir -p "$VMT/ovl/$1/upper" "$VMT/ovl/$1/work"
	$BB mount -t overlay -o "lowerdir=$2,upperdir=$VMT/ovl/$1/upper,workdir=$VMT/ovl/$1/work" \
		overlay "$2" || die "cannot put an overlay on $2"
}

stage2() {
	BB=$VMT/busybox
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	$BB stty -onlcr </dev/console 2>/dev/null
	$BB mount -t tmpfs -o mode=1777 tmpfs /tmp
	for d in /etc /var /root; do ovl "${d#/}" "$d"; done
	$BB mkdir -p /dev/pts /dev/shm
	# devtmpfs lacks these; bash process substitution needs /dev/fd.
	$BB ln -sfn /proc/self/fd /dev/fd
	$BB ln -sfn /proc/self/fd/0 /dev/stdin
	$BB ln -sfn /proc/self/fd/1 /dev/stdout
	$BB ln -sfn /proc/self/fd/2 /dev/stderr
	$BB mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
	$BB mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	$BB mount -t bpf bpf /sys/fs/bpf || die "cannot mount bpffs"
	$BB mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	$BB mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	$BB mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
	$BB hostname vmtest
	$BB ip link set lo up

	# Host directories the tmpfs mounts above hide (a checkout under /tmp):
	# result/shares names a read-only 9p share for each ("TAG PATH"),
	# mounted at its own path when the root share does not show it here.
	while read -r tag path; do
		[ -n "$tag" ] && [ -n "$path" ] || continue
		[ ! -e "$path" ] || continue
		$BB mkdir -p "$path" &&
			$BB mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose \
				"$tag" "$path" || die "cannot mount the host's $path (9p tag $tag)"
	done <$VMT/result/shares

	# The guest kernel's modules live in the host's cache, not in /lib/modules:
	# point the kernel's usermode modprobe and any explicit modprobe there.
	krel=$($BB uname -r)
	mods=$(param swvm.mods)
	$BB mkdir -p $VMT/bin
	if [ -n "$mods" ] && [ -d "$mods/lib/modules/$krel" ]; then
		if [ -x /sbin/modprobe ] && /sbin/modprobe --help 2>&1 | $BB grep -q -- --dirname; then
			printf '#!/bin/sh\nexec /sbin/modprobe -d %s "$@"\n' "$mods" >$VMT/bin/modprobe
		else
			printf '#!/bin/sh\nexec %s chroot %s %s modprobe "$@"\n' "$BB" "$mods" "$BB" >$VMT/bin/modprobe
		fi
		$BB chmod 755 $VMT/bin/modprobe
		echo $VMT/bin/modprobe >/proc/sys/kernel/modprobe
		# Where the host has /lib/modules, also make the plain path work.
		if [ -d /lib/modules ]; then
			$BB mount -t tmpfs -o mode=0755 tmpfs /lib/modules &&
				$BB mkdir -p "/lib/modules/$krel" &&
				$BB mount --bind "$mods/lib/modules/$krel" "/lib/modules/$krel"
		fi
	fi

	$BB cut -d' ' -f1 /proc/uptime >$VMT/result/boot-seconds
	# The host wrote result/env (exports) and result/cmd (cd + the command).
	sh=/bin/bash
	[ -x $sh ] || sh="$BB sh"
	(
		. $VMT/result/env
		export PATH="$VMT/bin:$PATH"
		exec $sh $VMT/result/cmd
	) </dev/null >/dev/console 2>&1
	rc=$?
	$BB cut -d' ' -f1 /proc/uptime >$VMT/result/end-seconds
	echo "$rc" >$VMT/result/status
	$BB sync
	$BB umount $VMT/result 2>/dev/null
	$BB poweroff -f
}

case "${1:-stage1}" in
stage1) stage1 ;;
stage2) stage2 ;;
esac
die "unexpected end of init"
