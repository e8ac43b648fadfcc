#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write a capture of one SIP call for `sipd replay` tests.

mkcapture.py OUT [--v6] [--link ether|raw] [--ng] [--big] [--bad] [--keepalives]
               [--declined] [--retag]
               [--frag [--reverse] [--ext] [--overlap]]
               [--encap KIND[,KIND...]] [--outer6] [--bad-encap]
               [--tcp [--segment N] [--retrans] [--reorder] [--wrap]] [--tls]

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
--encap wraps every packet (every fragment with --frag) as a tap on a
mirror port, a tunnel or a DSL uplink sees it, innermost first:
ipip (IP in IPv4: protocol 4, or 41 with --v6), ip6ip6 (IP in IPv6: 41, or
4 without --v6, as DS-Lite), ip6in4 (= ipip with --v6), gre (GRE, no
options), gre-key (GRE with checksum, key and sequence number), gretap
(GRE 0x6558, an Ethernet frame), erspan2 (GRE with sequence, ERSPAN type II,
a mirrored Ethernet frame with an 802.1Q tag), erspan3 (ERSPAN type III with
its platform subheader), pppoe (PPPoE session, PPP IPv4/IPv6) and qinq
(802.1ad + 802.1Q tags), vlan3 (0x9100 + 802.1ad + 802.1Q). GRE, gretap and
ERSPAN tunnels are IPv4 unless --outer6. --bad-encap appends five frames
that cannot be decoded: GRE cut inside its key, ERSPAN II and III headers
cut short, a GRE version 1 and a PPPoE length past the frame.
--tcp carries the SIP over one TCP connection (the UAC's port 40000 to the
UAS's 5060, Via SIP/2.0/TCP): the handshake before the INVITE, each message
from its sender in one segment (or --segment N octets each), a pure ACK
from the receiver after each message, FIN both ways after the BYE's 200 OK.
--retrans sends each message's last segment twice (identical), --reorder
swaps each message's first two segments (needs --segment smaller than the
message), --wrap starts the UAC's sequence numbers 300 octets before 2^32 so
the INVITE wraps. The media is UDP as without --tcp. --tls adds, before
the call, a TLS connection's handshake from the UAC (port 40001) to the
UAS's 5061 and its first (ClientHello-sized) segment: what sipd counts as
uninspectable.
Timestamps are fixed, so the capture's clock is the test's clock.
"""
import argparse
import sys

from scapy.all import (Ether, IP, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, TCP, UDP, Raw, fragment, fragment6, wrpcap)
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III, ERSPAN_PlatformSpecific
from scapy.layers.l2 import GRE, Dot1AD, Dot1Q
from scapy.layers.ppp import PPP, PPPoE
from scapy.utils import PcapNgWriter

ENCAPS = ["ipip", "ip6ip6", "ip6in4", "gre", "gre-key", "gretap", "erspan2", "erspan3",
          "pppoe", "qinq", "vlan3"]

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
p.add_argument("--encap", default="", help="wrap every packet: KIND[,KIND...], innermost first")
p.add_argument("--outer6", action="store_true", help="GRE/gretap/ERSPAN over IPv6")
p.add_argument("--bad-encap", action="store_true", help="add five undecodable encapsulated frames")
p.add_argument("--tcp", action="store_true", help="SIP over one TCP connection")
p.add_argument("--segment", type=int, default=0, help="with --tcp: N-octet segments")
p.add_argument("--retrans", action="store_true", help="with --tcp: last segments twice")
p.add_argument("--reorder", action="store_true", help="with --tcp: first two segments swapped")
p.add_argument("--wrap", action="store_true", help="with --tcp: sequence numbers wrap")
p.add_argument("--tls", action="store_true", help="a TLS connection to 5061 first")
a = p.parse_args()
if (a.segment or a.retrans or a.reorder or a.wrap) and not a.tcp:
    p.error("--segment, --retrans, --reorder and --wrap need --tcp")
if a.tcp and (a.frag or a.keepalives or a.bad or a.overlap):
    p.error("--tcp: not with --frag, --keepalives, --bad or --overlap")
a.big = a.big or a.frag
a.encap = [e for e in a.encap.split(",") if e]
for e in a.encap:
    if e not in ENCAPS:
        p.error("--encap: unknown %r (one of %s)" % (e, ", ".join(ENCAPS)))
if "ip6in4" in a.encap:
    a.v6 = True

if a.v6:
    UAC, UAS, SPOOF, IPT = "fd00:201:1::2", "fd00:201:2::2", "fd00:201:3::2", "IP6"
else:
    UAC, UAS, SPOOF, IPT = "10.201.1.2", "10.201.2.2", "10.201.3.2", "IP4"
UAC_RTP, UAS_RTP = 12000, 16000
CID = "replay-1@sipwall-test"
VIA = "TCP" if a.tcp else "UDP"
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
    h = ("%s sip:bob@%s SIP/2.0\r\nVia: SIP/2.0/%s %s:5060;branch=z9hG4bK-%s-%d\r\n"
         "Max-Forwards: 70\r\nFrom: <sip:alice@%s>;tag=a1\r\nTo: <sip:bob@%s>%s\r\n"
         "Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:alice@%s:5060>\r\n") % (
        method, host(UAS), VIA, host(UAC), method.lower(), cseq, host(UAC), host(UAS),
        ";tag=b1" if to_tag else "", cid, cseq, method, host(UAC))
    if body:
        h += "Content-Type: application/sdp\r\n"
    return h + "Content-Length: %d\r\n\r\n%s" % (len(body), body)


def resp(code, text, method, cseq, branch, body="", retag=False):
    h = ("SIP/2.0 %d %s\r\nVia: SIP/2.0/%s %s:5060;branch=%s\r\n"
         "From: <sip:alice@%s>;tag=a1\r\nTo: <sip:bob@%s>;tag=b1%s\r\nCall-ID: %s\r\n"
         "CSeq: %d %s\r\nContact: <sip:bob@%s:5060>\r\n") % (
        code, text, VIA, host(UAC), branch, host(UAC), host(UAS), ";tag=b1" if retag else "", CID,
        cseq, method, host(UAS))
    if body:
        h += "Content-Type: application/sdp\r\n"
    return h + "Content-Length: %d\r\n\r\n%s" % (len(body), body)


ETH = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
TUN4 = ("192.0.2.1", "192.0.2.2")  # tunnel endpoints (the mirror's, the ISP's)
TUN6 = ("2001:db8:5::1", "2001:db8:5::2")
seq = [0]


def outer(v6, proto, payload):
    """An outer IP datagram of the tunnel carrying payload."""
    if v6:
        return IPv6(src=TUN6[0], dst=TUN6[1], nh=proto) / payload
    return IP(src=TUN4[0], dst=TUN4[1], proto=proto) / payload


def wrap(kind, p, is_eth):
    """Wrap p (an IP datagram, or an Ethernet frame when is_eth) once;
    returns (packet, is_eth)."""
    seq[0] += 1
    inner_v6 = not is_eth and isinstance(p, IPv6)
    if kind in ("ipip", "ip6in4", "ip6ip6"):
        assert not is_eth, "%s carries IP, not Ethernet" % kind
        return outer(kind == "ip6ip6", 41 if inner_v6 else 4, p), False
    if kind in ("gre", "gre-key"):
        assert not is_eth, "%s carries IP here, not Ethernet (use gretap)" % kind
        g = GRE(proto=0x86dd if inner_v6 else 0x0800)
        if kind == "gre-key":
            g = GRE(proto=g.proto, chksum_present=1, key_present=1, seqnum_present=1,
                    key=0x5eed, sequence_number=seq[0])
        return outer(a.outer6, 47, g / p), False
    if kind in ("gretap", "erspan2", "erspan3"):
        if not is_eth:
            tag = Dot1Q(vlan=42) if kind == "erspan2" else None
            e = Ether(**ETH)
            p = e / tag / p if tag is not None else e / p
        if kind == "gretap":
            g = GRE(proto=0x6558, key_present=1, key=7) / p
        elif kind == "erspan2":
            g = GRE(proto=0x88be, seqnum_present=1, sequence_number=seq[0]) / \
                ERSPAN_II(ver=1, session_id=17, index=3) / p
        else:
            g = GRE(proto=0x22eb, seqnum_present=1, sequence_number=seq[0]) / \
                ERSPAN_III(ver=2, session_id=17, timestamp=seq[0], o=1) / \
                ERSPAN_PlatformSpecific(platf_id=3) / p
        return outer(a.outer6, 47, g), False
    if kind == "pppoe":
        assert not is_eth, "pppoe carries IP"
        return Ether(**ETH, type=0x8864) / PPPoE(sessionid=0x1234) / \
            PPP(proto=0x0057 if inner_v6 else 0x0021) / p, True
    if kind in ("qinq", "vlan3"):
        assert not is_eth, "%s tags an IP datagram's frame" % kind
        t = Dot1AD(vlan=100) / Dot1Q(vlan=200) / p
        if kind == "vlan3":
            return Ether(**ETH, type=0x9100) / Dot1Q(vlan=300, type=0x88a8) / t, True
        return Ether(**ETH) / t, True
    raise ValueError(kind)


def link(p):
    is_eth = False
    for kind in a.encap:
        p, is_eth = wrap(kind, p, is_eth)
    if is_eth:
        assert a.link == "ether", "an Ethernet encapsulation needs --link ether"
        return p
    if a.link == "ether":
        p = Ether(**ETH) / p
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


class Conn:
    """The call's TCP connection, UAC (40000) -> UAS (5060): each end's next
    sequence number."""
    PORT = {UAC: 40000, UAS: 5060}

    def __init__(self):
        self.nxt = {UAC: 2 ** 32 - 300 if a.wrap else 1000000, UAS: 7000000}

    def seg(self, src, dst, flags, data=b"", seq=None):
        l3 = IPv6(src=src, dst=dst) if a.v6 else IP(src=src, dst=dst)
        t = TCP(sport=self.PORT[src], dport=self.PORT[dst], flags=flags, window=65535,
                seq=(self.nxt[src] if seq is None else seq) % 2 ** 32,
                ack=self.nxt[dst] % 2 ** 32 if "A" in flags else 0)
        return link(l3 / t / Raw(data) if data else l3 / t)

    def handshake(self, dt):
        add(dt, self.seg(UAC, UAS, "S"))
        self.nxt[UAC] += 1
        add(0.0005, self.seg(UAS, UAC, "SA"))
        self.nxt[UAS] += 1
        add(0.0005, self.seg(UAC, UAS, "A"))

    def message(self, dt, src, dst, payload):
        """payload in segments (1 ms apart), then the receiver's ACK."""
        n = a.segment or len(payload)
        segs = [(self.nxt[src] + o, payload[o:o + n]) for o in range(0, len(payload), n)]
        order = list(range(len(segs)))
        if a.reorder and len(segs) > 1:
            order[0], order[1] = 1, 0
        if a.retrans:
            order.append(len(segs) - 1)
        for i, k in enumerate(order):
            sq, data = segs[k]
            add(dt if i == 0 else 0.001, self.seg(src, dst, "PA" if k == len(segs) - 1 else "A",
                                                   data, seq=sq))
        self.nxt[src] += len(payload)
        add(0.0005, self.seg(dst, src, "A"))

    def close(self, dt):
        add(dt, self.seg(UAC, UAS, "FA"))
        self.nxt[UAC] += 1
        add(0.0005, self.seg(UAS, UAC, "FA"))
        self.nxt[UAS] += 1
        add(0.0005, self.seg(UAC, UAS, "A"))


conn = Conn() if a.tcp else None


def add_sip(dt, src, dst, payload, ident):
    """A SIP datagram, split into fragments 1 ms apart with --frag; a message
    on the connection with --tcp."""
    if conn:
        conn.message(dt, src, dst, payload)
        return
    if not a.frag:
        add(dt, pkt(src, dst, 5060, 5060, payload))
        return
    for i, f in enumerate(frags(src, dst, payload, ident)):
        add(dt if i == 0 else 0.001, f)


def add_msg(dt, src, dst, payload):
    """A small SIP message: one datagram (never fragmented), or on the
    connection with --tcp."""
    if conn:
        conn.message(dt, src, dst, payload)
    else:
        add(dt, pkt(src, dst, 5060, 5060, payload))


if a.tls:
    l3 = (lambda s, d: IPv6(src=s, dst=d)) if a.v6 else (lambda s, d: IP(src=s, dst=d))
    add(0, link(l3(UAC, UAS) / TCP(sport=40001, dport=5061, flags="S", seq=500)))
    add(0.0005, link(l3(UAS, UAC) / TCP(sport=5061, dport=40001, flags="SA", seq=900, ack=501)))
    add(0.0005, link(l3(UAC, UAS) / TCP(sport=40001, dport=5061, flags="A", seq=501, ack=901)))
    add(0.0005, link(l3(UAC, UAS) / TCP(sport=40001, dport=5061, flags="PA", seq=501, ack=901) /
                     Raw(bytes.fromhex("160301") + bytes(200))))
if conn:
    conn.handshake(0.001 if a.tls else 0)
add_sip(0.001 if conn else 0, UAC, UAS, req("INVITE", 1, sdp("alice", UAC, UAC_RTP)).encode(), 0x101)
add_sip(0.05, UAS, UAC, resp(200, "OK", "INVITE", 1, "z9hG4bK-invite-1",
                             sdp("bob", UAS, UAS_RTP)).encode(), 0x102)
add_msg(0.01, UAC, UAS, req("ACK", 1, to_tag=True).encode())
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
add_msg(0.5, UAC, UAS, req("BYE", 2, to_tag=True).encode())
add_msg(0.01, UAS, UAC, resp(200, "OK", "BYE", 2, "z9hG4bK-bye-2", retag=a.retag).encode())
if conn:
    conn.close(0.01)
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

if a.bad_encap:
    # Five frames no decoder can read, each one reason: a GRE header cut
    # inside its key, ERSPAN II cut inside its 8 octets, ERSPAN III whose
    # platform subheader is missing, a GRE version 1 (PPTP) and a PPPoE
    # session whose length runs past the frame.
    inner = IP(src="10.201.1.2", dst="10.201.2.2") / UDP(sport=UAC_RTP, dport=UAS_RTP) / Raw(rtp)
    g = bytes(GRE(proto=0x0800, key_present=1, seqnum_present=1, key=1, sequence_number=1))
    add(0.01, Ether(**ETH) / IP(src=TUN4[0], dst=TUN4[1], proto=47) / Raw(g[:6]))
    e2 = bytes(GRE(proto=0x88be, seqnum_present=1, sequence_number=1) / ERSPAN_II(ver=1))
    add(0.01, Ether(**ETH) / IP(src=TUN4[0], dst=TUN4[1], proto=47) / Raw(e2[:8 + 5]))
    e3 = bytes(GRE(proto=0x22eb, seqnum_present=1, sequence_number=1) / ERSPAN_III(o=1) /
               Ether(**ETH))
    add(0.01, Ether(**ETH) / IP(src=TUN4[0], dst=TUN4[1], proto=47) / Raw(e3[:8 + 12 + 14]))
    add(0.01, Ether(**ETH) / IP(src=TUN4[0], dst=TUN4[1], proto=47) /
        GRE(proto=0x880b, version=1, key_present=1, key=1) / Raw(b"\xff\x03\x00\x21"))
    add(0.01, Ether(**ETH, type=0x8864) /
        Raw(bytes(PPPoE(sessionid=1, len=1400) / PPP(proto=0x0021)) + bytes(inner)[:40]))

if a.ng:
    w = PcapNgWriter(a.out)
    # scapy's pcapng writer always declares Ethernet: raw IP is LINKTYPE_RAW.
    if a.link == "raw" and not any(isinstance(p, Ether) for p in out):
        w.linktype = 101
    for p in out:
        w.write(p)
    w.close()
else:
    wrpcap(a.out, out)
sys.exit(0)
