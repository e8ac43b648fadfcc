#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The BTF of build/obj/bpf/sipwall.bpf.o must match maps-schema/sipwall_maps.h
# field by field (tests/btf/layout.c), and the check must fail on drift: a
# tiny object with drifted structs, and the real program built against a
# header whose sw_frag_val keeps its size but moves a field (invisible to
# the header's _Static_asserts).
. "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"

bin=build/bin/test-btf-layout obj=build/obj/bpf/sipwall.bpf.o
drift=build/obj/tests/btf/drift.bpf.o
if [ -w . ]; then
	make -s "$bin" "$obj" "$drift" >/dev/null || { fail "build"; finish; exit 1; }
fi
for f in "$bin" "$obj" "$drift"; do
	[ -e "$f" ] || { fail "$f missing"; finish; exit 1; }
done

out=$("$bin" "$obj")
rc=$?
printf '%s\n' "$out" | grep -v '^ok - '
expect_eq "layout check exit status" "$rc" 0
n=$(printf '%s\n' "$out" | grep -c '^ok - ')
check "layout check ran every struct and map ($n checks)" test "$n" -ge 100

out=$("$bin" "$drift")
rc=$?
expect_eq "drifted object rejected" "$rc" 1
check "drift names sw_pinhole_key.port" \
	grep -q '^FAIL - sw_pinhole_key.port: offset 18 size 2, header offset 16' <<<"$out"
check "drift names sw_stat size" grep -q '^FAIL - struct sw_stat: size 24, header 16' <<<"$out"

tmp=${SW_TEST_TMP:-$(mktemp -d)}
trap '[ -n "${SW_TEST_TMP:-}" ] || rm -rf "$tmp"' EXIT
mkdir -p "$tmp/maps-schema"
# sw_frag_val { seen_ns; verdict; pad[7] } -> { seen_ns; pad0; verdict; pad[6] }
awk '/__u8 verdict;.*first fragment passed/ { print "\t__u8 pad0;"; print; getline;
	sub(/pad\[7\]/, "pad[6]") } { print }' maps-schema/sipwall_maps.h >"$tmp/maps-schema/sipwall_maps.h"
if ! grep -q 'pad0;' "$tmp/maps-schema/sipwall_maps.h"; then
	fail "could not derive the drifted header (sw_frag_val changed?)"
elif ! command -v "${CLANG:-clang}" >/dev/null; then
	skip "clang not installed: same-size drift case"
elif "${CLANG:-clang}" -target bpf -O2 -g -I"$tmp/maps-schema" -I"/usr/include/$(uname -m)-linux-gnu" \
	-c bpf/sipwall.bpf.c -o "$tmp/moved.bpf.o"; then
	out=$("$bin" "$tmp/moved.bpf.o")
	rc=$?
	expect_eq "same-size drift rejected" "$rc" 1
	check "same-size drift names sw_frag_val.verdict" \
		grep -q '^FAIL - sw_frag_val.verdict: offset 9 size 1, header offset 8' <<<"$out"
else
	fail "build sipwall.bpf.c against the drifted header"
fi
finish
