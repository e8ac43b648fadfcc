#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write a capture of one SIP call for `sipd replay` tests.

mkcapture.py OUT [--v6] [--link ether|raw] [--ng] [--big] [--bad] [--keepalives]
               [--declined] [--retag]
               [--frag [--reverse] [--ext] [--overlap]]

INVITE (outside -> inside, SDP), 200 OK (SDP), ACK, 20 RTP each way, 10
spoofed RTP from a third address to the callee's media port, BYE, 200 OK,
then 10 late RTP 3 s after the BYE (past sipd's BYE grace); --bad appends
an INVITE with a broken CSeq. --keepalives adds 10 keep-alive datagrams from
the phone (the UAC) to the callee's SIP port: 5 during the call (1 ms after
every 4th RTP pair) and 5 after it has ended (after the late RTP), 7 CRLFCRLF
(RFC 5626 3.5.1), a single CRLF, a lone NUL and a STUN Binding request, as
phones and SBCs send them.
--declined offers video too (m=video 12002) and the callee declines it with
"m=video 0 RTP/AVP", no format list (RFC 3264 6, as pjmedia writes it).
--retag: the callee's 200 OK to the BYE repeats its To tag
(";tag=b1;tag=b1", the copied To with the tag appended again). --big pads the
INVITE's SDP past 1500 bytes (still one datagram in the capture, as inline
mode sees it after defragmentation). --frag pads both SDP bodies and
splits the INVITE and its 200 OK into IP fragments (scapy fragment() /
fragment6(), MTU 1500), as a real network carries them: --reverse sends each
message's fragments last first, --ext (IPv6) puts Hop-by-Hop and Destination
Options headers before the Fragment header, --overlap appends a second
INVITE (another call) whose two fragments overlap with different bytes.
Timestamps are fixed, so the capture's clock is the test's clock.
"""
import argparse
import sys

from scapy.all import (Ether, IP, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, UDP, Raw, fragment, fragment6, wrpcap)
from scapy.utils import PcapNgWriter

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--v6", action="store_true")
p.add_argument("--link", choices=["ether", "raw"], default="ether")
p.add_argument("--ng", action="store_true")
p.add_argument("--big", action="store_true")
p.add_argument("--bad", action="store_true", help="add an INVITE whose CSeq is not a number")
p.add_argument("--frag", action="store_true", help="INVITE and 200 OK as IP fragments")
p.add_argument("--reverse", action="store_true", help="with --frag: last fragment first")
p.add_argument("--ext", action="store_true", help="with --frag --v6: extension headers")
p.add_argument("--overlap", action="store_true", help="add an INVITE in overlapping fragments")
p.add_argument("--keepalives", action="store_true", help="keep-alive pings from the phone")
p.add_argument("--declined", action="store_true", help="video offered, declined in the answer")
p.add_argument("--retag", action="store_true", help="200 OK to the BYE with its To tag twice")
a = p.parse_args()
a.big = a.big or a.frag

if a.v6:
    UAC, UAS, SPOOF, IPT = "fd00:201:1::2", "fd00:201:2::2", "fd00:201:3::2", "IP6"
else:
    UAC, UAS, SPOOF, IPT = "10.201.1.2", "10.201.2.2", "10.201.3.2", "IP4"
UAC_RTP, UAS_RTP = 12000, 16000
CID = "replay-1@sipwall-test"
host = (lambda h: "[%s]" % h) if a.v6 else (lambda h: h)


def sdp(who, addr, port):
    s = ("v=0\r\no=%s 1 1 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"
         "m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n") % (who, IPT, addr, IPT, addr, port)
    if a.declined:
        s += "m=video 12002 RTP/AVP 31\r\n" if who == "alice" else "m=video 0 RTP/AVP\r\n"
    if a.big and (who == "alice" or a.frag):
        s += "".join("a=x-sipwall-pad%03d:%s\r\n" % (i, "0123456789abcdef" * 3) for i in range(60))
    return s


def req(method, cseq, body="", to_tag="", cid=CID):
    h = ("%s sip:bob@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s-%d\r\n"
         "Max-Forwards: 70\r\nFrom: <sip:alice@%s>;tag=a1\r\nTo: <sip:bob@%s>%s\r\n"
         "Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:alice@%s:5060>\r\n") % (
        method, host(UAS), host(UAC), method.lower(), cseq, host(UAC), host(UAS),
        ";tag=b1" if to_tag else "", cid, cseq, method, host(UAC))
    if body:
        h += "Content-Type: application/sdp\r\n"
    return h + "Content-Length: %d\r\n\r\n%s" % (len(body), body)


def resp(code, text, method, cseq, branch, body="", retag=False):
    h = ("SIP/2.0 %d %s\r\nVia: SIP/2.0/UDP %s:5060;branch=%s\r\n"
         "From: <sip:alice@%s>;tag=a1\r\nTo: <sip:bob@%s>;tag=b1%s\r\nCall-ID: %s\r\n"
         "CSeq: %d %s\r\nContact: <sip:bob@%s:5060>\r\n") % (
        code, text, host(UAC), branch, host(UAC), host(UAS), ";tag=b1" if retag else "", CID,
        cseq, method, host(UAS))
    if body:
        h += "Content-Type: application/sdp\r\n"
    return h + "Content-Length: %d\r\n\r\n%s" % (len(body), body)


def link(p):
    if a.link == "ether":
        p = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / p
    return p


def pkt(src, dst, sport, dport, payload):
    l3 = IPv6(src=src, dst=dst) if a.v6 else IP(src=src, dst=dst)
    return link(l3 / UDP(sport=sport, dport=dport) / Raw(payload))


def frags(src, dst, payload, ident):
    """One SIP datagram (5060 -> 5060) as the fragments of a 1500-octet MTU."""
    if a.v6:
        l3 = IPv6(src=src, dst=dst)
        if a.ext:
            l3 = l3 / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt()
        fs = fragment6(l3 / IPv6ExtHdrFragment(id=ident) / UDP(sport=5060, dport=5060) /
                       Raw(payload), 1500)
    else:
        fs = fragment(IP(src=src, dst=dst, id=ident) / UDP(sport=5060, dport=5060) /
                      Raw(payload), fragsize=1480)
    assert len(fs) > 1, "not fragmented"
    return [link(f) for f in (fs[::-1] if a.reverse else fs)]


def overlapping(src, dst, payload, ident):
    """Two fragments of one datagram: [0, 1488) and [1480, end), the 8
    octets they share different in the second (an evasion attempt)."""
    u = bytes(UDP(sport=5060, dport=5060, len=8 + len(payload)) / Raw(payload))
    second = bytes(b ^ 0xff for b in u[1480:1488]) + u[1488:]
    if a.v6:
        mk = lambda off, m, data: (IPv6(src=src, dst=dst) /
                                   IPv6ExtHdrFragment(nh=17, offset=off // 8, m=m, id=ident) /
                                   Raw(data))
    else:
        mk = lambda off, m, data: IP(src=src, dst=dst, id=ident, proto=17,
                                     flags="MF" if m else 0, frag=off // 8) / Raw(data)
    return [link(mk(0, 1, u[:1488])), link(mk(1480, 0, second))]


rtp = bytes([0x80, 8]) + bytes(170)
t = 1700000000.0
out = []


def add(dt, p):
    global t
    t += dt
    p.time = t
    out.append(p)


def add_sip(dt, src, dst, payload, ident):
    """A SIP datagram, split into fragments 1 ms apart with --frag."""
    if not a.frag:
        add(dt, pkt(src, dst, 5060, 5060, payload))
        return
    for i, f in enumerate(frags(src, dst, payload, ident)):
        add(dt if i == 0 else 0.001, f)


add_sip(0, UAC, UAS, req("INVITE", 1, sdp("alice", UAC, UAC_RTP)).encode(), 0x101)
add_sip(0.05, UAS, UAC, resp(200, "OK", "INVITE", 1, "z9hG4bK-invite-1",
                             sdp("bob", UAS, UAS_RTP)).encode(), 0x102)
add(0.01, pkt(UAC, UAS, 5060, 5060, req("ACK", 1, to_tag=True).encode()))
KA2, STUN = b"\r\n\r\n", bytes.fromhex("000100002112a442") + b"sipwall-ka01"
KA_CALL = [KA2, KA2, STUN, KA2, KA2]              # during the call
KA_IDLE = [KA2, b"\r\n", b"\0", KA2, KA2]          # after it, while registered
for i in range(20):
    add(0.01, pkt(UAC, UAS, UAC_RTP, UAS_RTP, rtp))
    add(0.01, pkt(UAS, UAC, UAS_RTP, UAC_RTP, rtp))
    if a.keepalives and i % 4 == 0:
        add(0.001, pkt(UAC, UAS, 5060, 5060, KA_CALL[i // 4]))
for i in range(10):
    add(0.01, pkt(SPOOF, UAS, UAC_RTP, UAS_RTP, rtp))
add(0.5, pkt(UAC, UAS, 5060, 5060, req("BYE", 2, to_tag=True).encode()))
add(0.01, pkt(UAS, UAC, 5060, 5060, resp(200, "OK", "BYE", 2, "z9hG4bK-bye-2", retag=a.retag).encode()))
add(3.0, pkt(UAC, UAS, UAC_RTP, UAS_RTP, rtp))
for i in range(9):
    add(0.01, pkt(UAC, UAS, UAC_RTP, UAS_RTP, rtp))
if a.keepalives:
    for k in KA_IDLE:
        add(0.01, pkt(UAC, UAS, 5060, 5060, k))

if a.bad:
    add(0.01, pkt(UAC, UAS, 5060, 5060,
                  req("INVITE", 7, sdp("alice", UAC, 12100)).replace("CSeq: 7", "CSeq: x").encode()))

if a.overlap:
    inv = req("INVITE", 1, sdp("alice", UAC, 12200), cid="replay-overlap@sipwall-test").encode()
    assert len(inv) > 1600, "overlap INVITE too small"
    for f in overlapping(UAC, UAS, inv, 0x103):
        add(0.01, f)

if a.ng:
    w = PcapNgWriter(a.out)
    for p in out:
        w.write(p)
    w.close()
else:
    wrpcap(a.out, out)
sys.exit(0)
