#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `sipd check` over the RFC 4475 and RFC 5118 torture messages in
# ../shared/corpora: every valid message accepted, every invalid one dropped
# (strict mode), with the reason printed. Files whose bytes the corpus README
# flags are judged as it says (see docs/sip-validation.md).
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP" || exit 1

C=$SW_SHARED/corpora
if [ ! -f "$C/rfc4475/MANIFEST.tsv" ] || [ ! -f "$C/rfc5118/MANIFEST.tsv" ]; then
	echo "skip: no SIP corpora at $C (../shared/corpora absent)"
	exit 77
fi
make -s build/bin/sipd || { fail "build sipd"; finish; exit 1; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# verdict and reason of the first message of FILE (extra args go to check)
judge() {
	local f=$1; shift
	build/bin/sipd check "$@" "$f" | head -n 1 |
		sed -n 's/.*"verdict":"\([^"]*\)","reason":"\([^"]*\)","detail":"\(.*\)","method".*/\1 \2 \3/p'
}

declare -A want_count=([rfc4475:valid]=27 [rfc4475:invalid]=22 [rfc5118:valid]=11 [rfc5118:invalid]=1)
for set in rfc4475 rfc5118; do
	declare -A seen=([valid]=0 [invalid]=0)
	while IFS=$'\t' read -r section name file title expected rest; do
		[ "$section" = section ] && continue
		path=$C/$file
		if [ ! -f "$path" ]; then
			fail "$set $name: $file missing"
			continue
		fi
		seen[$expected]=$((seen[$expected] + 1))
		read -r verdict reason detail < <(judge "$path")
		case "$set:$name" in
		rfc5118:ipv6-in-sdp)
			# corpus README: Content-Length 268 for a 251-octet body is
			# discarded over UDP (RFC 3261 18.3); judge the variant
			expect_eq "$set $name: Content-Length past the body" \
				"$verdict $reason" "drop sip_body_truncated"
			read -r verdict reason detail < <(judge "$C/rfc5118/variants/ipv6-in-sdp.ersip-head-CL241")
			name="$name (variant CL241)"
			;;
		esac
		if [ "$expected" = valid ]; then
			expect_eq "$set $name: accepted" "$verdict" accept
			[ "$verdict" = accept ] || echo "    $reason: $detail"
		else
			if [ "$verdict" = drop ]; then
				ok "$set $name: dropped ($reason: $detail)"
			else
				fail "$set $name: accepted, must be dropped"
			fi
		fi
	done <"$C/$set/MANIFEST.tsv"
	expect_eq "$set: valid messages in the manifest" "${seen[valid]}" "${want_count[$set:valid]}"
	expect_eq "$set: invalid messages in the manifest" "${seen[invalid]}" "${want_count[$set:invalid]}"
	unset seen
done

# Specific reasons where the RFC names the defect.
reason_of() { judge "$C/$1" | cut -d' ' -f2; }
expect_eq "badvers reason" "$(reason_of rfc4475/invalid/badvers.dat)" sip_bad_version
expect_eq "bigcode reason" "$(reason_of rfc4475/invalid/bigcode.dat)" sip_bad_status
expect_eq "scalar02 reason" "$(reason_of rfc4475/invalid/scalar02.dat)" sip_bad_cseq
expect_eq "mismatch01 reason" "$(reason_of rfc4475/invalid/mismatch01.dat)" sip_cseq_method_mismatch
expect_eq "clerr reason" "$(reason_of rfc4475/invalid/clerr.dat)" sip_body_truncated
expect_eq "ncl reason" "$(reason_of rfc4475/invalid/ncl.dat)" sip_bad_content_length
expect_eq "mcl01 reason" "$(reason_of rfc4475/invalid/mcl01.dat)" sip_bad_content_length
expect_eq "multi01 reason" "$(reason_of rfc4475/invalid/multi01.dat)" sip_duplicate_header
expect_eq "insuf reason" "$(reason_of rfc4475/invalid/insuf.dat)" sip_missing_header
expect_eq "baddn (terminated variant) reason" \
	"$(reason_of rfc4475/variants/baddn.with-final-crlf.dat)" sip_bad_from_to
expect_eq "ipv6-bad reason" "$(reason_of rfc5118/invalid/ipv6-bad)" sip_bad_uri

# dblreq: first message judged, the second reported and not parsed
build/bin/sipd check "$C/rfc4475/valid/dblreq.dat" >"$out"
expect_eq "dblreq: two lines" "$(wc -l <"$out")" 2
check "dblreq: REGISTER accepted" grep -q '"verdict":"accept".*"method":"REGISTER"' "$out"
check "dblreq: trailing INVITE ignored" grep -q '"index":1,"verdict":"ignore","reason":"sip_trailing_data"' "$out"
expect_eq "dblreq with --no-trailing" "$(judge "$C/rfc4475/valid/dblreq.dat" --no-trailing | cut -d' ' -f1-2)" \
	"drop sip_trailing_data"

# SDP read from the torture messages
build/bin/sipd check "$C/rfc5118/valid/mult-ip-in-sdp" >"$out"
check "mult-ip-in-sdp: audio on IPv4" grep -q '"type":"audio","addr":"192.0.2.1","port":22334' "$out"
check "mult-ip-in-sdp: video on IPv6" grep -q '"type":"video","addr":"2001:db8::1","port":6024' "$out"
build/bin/sipd check "$C/rfc5118/valid/ipv4-mapped-ipv6" >"$out"
check "ipv4-mapped-ipv6: mapped media address" grep -q '"addr":"192.0.2.2","port":6000' "$out"
build/bin/sipd check "$C/rfc4475/valid/wsinv.dat" >"$out"
check "wsinv: c= 192.0.2.4" grep -q '"addr":"192.0.2.4","port":49217' "$out"

# lax mode accepts some of what RFC 4475 allows liberally
expect_eq "baddate --lax" "$(judge "$C/rfc4475/invalid/baddate.dat" --lax | cut -d' ' -f1)" accept
expect_eq "escruri --lax" "$(judge "$C/rfc4475/invalid/escruri.dat" --lax | cut -d' ' -f1)" accept

finish
