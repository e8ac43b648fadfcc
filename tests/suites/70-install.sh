#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make install / uninstall into a DESTDIR: the tree, units with the real
# paths, man pages that render, configuration never overwritten or removed
# once edited, nothing left behind.
set -u
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"

for b in build/bin/sipd build/bin/sipwall build/obj/bpf/sipwall.bpf.o; do
	[ -e "$b" ] || { echo "skip: $b not built (make)"; exit 77; }
done
T=$(mktemp -d "${SW_TEST_TMP:-/tmp}/sw-install.XXXXXX")
trap 'rm -rf "$T"' EXIT
D=$T/root

tree() { (cd "$D" && find . \( -type f -o -type l \) | sort); }

check "make install PREFIX=/usr DESTDIR" make -s --no-print-directory install PREFIX=/usr DESTDIR="$D" >"$T/log" 2>&1
cat >"$T/want" <<'LIST'
./etc/sipwall/sipd.json
./etc/sipwall/sipwall.env
./usr/lib/sipwall/sipwall.bpf.o
./usr/lib/systemd/system/sipd.service
./usr/lib/systemd/system/sipwall@.service
./usr/sbin/sipd
./usr/sbin/sipwall
./usr/share/doc/sipwall/sipd.json.example
./usr/share/doc/sipwall/sipwall.env.example
./usr/share/man/man5/sipd.json.5
./usr/share/man/man8/sipd.8
./usr/share/man/man8/sipwall.8
LIST
expect_eq "installed tree is exactly the expected files" "$(tree)" "$(cat "$T/want")"
expect_eq "binaries executable" "$(stat -c %a "$D/usr/sbin/sipd" "$D/usr/sbin/sipwall" | sort -u)" 755
check "installed sipwall runs" "$D/usr/sbin/sipwall" --help >/dev/null
check "installed sipd runs" "$D/usr/sbin/sipd" --help >/dev/null
check "installed config is valid" "$D/usr/sbin/sipd" --check-config "$D/etc/sipwall/sipd.json" >/dev/null
check "BPF object is an eBPF ELF" sh -c "file -b '$D/usr/lib/sipwall/sipwall.bpf.o' | grep -q 'eBPF'"
expect_eq "no @PLACEHOLDER@ left in units" "$(grep -c '@[A-Z]*@' "$D"/usr/lib/systemd/system/* | awk -F: '{ s += $2 } END { print s }')" 0
expect_eq "sipd.service runs /usr/sbin/sipd with /etc/sipwall/sipd.json" \
	"$(grep '^ExecStart=' "$D/usr/lib/systemd/system/sipd.service")" \
	"ExecStart=/usr/sbin/sipd run -c /etc/sipwall/sipd.json"
expect_eq "sipwall@.service attaches %i" \
	"$(grep '^ExecStart=' "$D/usr/lib/systemd/system/sipwall@.service")" \
	'ExecStart=/usr/sbin/sipwall attach %i $SIPWALL_ATTACH_OPTS'

if command -v man >/dev/null && command -v groff >/dev/null; then
	for m in man8/sipwall.8 man8/sipd.8 man5/sipd.json.5; do
		w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$D/usr/share/man/$m" 2>&1 >/dev/null)
		expect_eq "man page $m renders without warnings" "$w" ""
		check "man page $m has NAME and SEE ALSO" sh -c \
			"LC_ALL=C.UTF-8 MANWIDTH=80 man -l '$D/usr/share/man/$m' 2>/dev/null | grep -q '^NAME' &&
			 LC_ALL=C.UTF-8 MANWIDTH=80 man -l '$D/usr/share/man/$m' 2>/dev/null | grep -q '^SEE ALSO'"
	done
else
	skip "man pages render: man/groff not installed"
fi

# An edited config survives a reinstall and an uninstall.
echo '{ "default_action": "drop" }' >"$D/etc/sipwall/sipd.json"
make -s --no-print-directory install PREFIX=/usr DESTDIR="$D" >"$T/log2" 2>&1
check "reinstall keeps the edited sipd.json" grep -q '"drop"' "$D/etc/sipwall/sipd.json"
check "reinstall says so" grep -q "keeping existing .*/etc/sipwall/sipd.json" "$T/log2"
check "make uninstall" make -s --no-print-directory uninstall PREFIX=/usr DESTDIR="$D" >"$T/log3" 2>&1
expect_eq "uninstall leaves only the edited config" "$(tree)" "./etc/sipwall/sipd.json"
rm -f "$D/etc/sipwall/sipd.json"
expect_eq "no empty directories left but the prefix skeleton" \
	"$(find "$D" -depth -type d -empty | sed "s|^$D||" | grep -v -E '^(/usr/share/doc|/usr/lib/systemd/system|/usr/lib/systemd|/usr/lib|/usr/sbin|/usr/share/man/man[58]|/usr/share/man|/usr/share|/usr|/etc/sipwall|/etc|)$')" ""

# Another prefix: the units follow it.
D=$T/local
check "make install PREFIX=/usr/local" make -s --no-print-directory install PREFIX=/usr/local DESTDIR="$D" >"$T/log4" 2>&1
expect_eq "units name /usr/local/sbin" \
	"$(grep -h '^ExecStart=' "$D"/usr/local/lib/systemd/system/*.service | awk '{ print $1 }' | sort -u | tr '\n' ' ')" \
	"ExecStart=/usr/local/sbin/sipd ExecStart=/usr/local/sbin/sipwall "
check "unmodified config removed by uninstall" sh -c \
	"make -s --no-print-directory uninstall PREFIX=/usr/local DESTDIR='$D' >/dev/null 2>&1 && [ ! -e '$D/etc/sipwall/sipd.json' ]"
expect_eq "nothing left under /usr/local but directories" "$(cd "$D" && find . -type f | wc -l)" 0

finish
