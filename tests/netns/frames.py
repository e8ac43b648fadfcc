#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Hand-built Ethernet frames for the data-path attack tests (scapy).

  frames.py --iface IF --dst-mac MAC --src IP --dst IP --sport N --dport N
            [--tags N] [--vid N] [--tpid 0x8100] [--outer-tpid 0x88a8]
            [--proto udp|udplite] [--count N]

Sends --count copies of one frame on IF (a packet socket: no routing, no
neighbour lookup, the frame leaves exactly as built): --tags VLAN tags, the
outermost with --outer-tpid (default --tpid), all with VID --vid, around
IPv4 or IPv6 (by --dst) UDP or UDP-Lite (RFC 3828: UDP's header, the
checksum covering the whole datagram) with a fixed payload. Run it with
/usr/bin/python3 (scapy is a Debian package) inside the sending namespace.
"""
import argparse
import ipaddress
import struct
import sys

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw
from scapy.sendrecv import sendp
from scapy.utils import checksum

PAYLOAD = b"sipwall-netns-test" + b"\0" * 22
IPPROTO_UDPLITE = 136


def udplite(src, dst, sport, dport):
    """UDP-Lite header + payload, checksum over the whole datagram."""
    hdr = struct.pack("!HHHH", sport, dport, 0, 0)
    seg = hdr + PAYLOAD
    if src.version == 4:
        pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, IPPROTO_UDPLITE, len(seg))
    else:
        pseudo = src.packed + dst.packed + struct.pack("!I3xB", len(seg), IPPROTO_UDPLITE)
    c = checksum(pseudo + seg) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, 0, c) + PAYLOAD


def frame(a):
    src, dst = ipaddress.ip_address(a.src), ipaddress.ip_address(a.dst)
    if src.version != dst.version:
        raise SystemExit("frames.py: --src and --dst families differ")
    if a.proto == "udp":
        l4 = UDP(sport=a.sport, dport=a.dport) / Raw(PAYLOAD)
        proto = 17
    else:
        l4 = Raw(udplite(src, dst, a.sport, a.dport))
        proto = IPPROTO_UDPLITE
    if dst.version == 4:
        l3, etype = IP(src=a.src, dst=a.dst, proto=proto, ttl=64) / l4, 0x0800
    else:
        l3, etype = IPv6(src=a.src, dst=a.dst, nh=proto, hlim=64) / l4, 0x86DD
    tpids = [a.outer_tpid if i == 0 and a.outer_tpid else a.tpid for i in range(a.tags)]
    pkt = l3
    # Innermost tag first; each tag's type field names what follows it.
    for i in reversed(range(a.tags)):
        pkt = Dot1Q(vlan=a.vid, type=etype) / pkt
        etype = tpids[i]
    return Ether(dst=a.dst_mac, type=etype) / pkt


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iface", required=True)
    p.add_argument("--dst-mac", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--dport", type=int, required=True)
    p.add_argument("--tags", type=int, default=0)
    p.add_argument("--vid", type=int, default=0)
    p.add_argument("--tpid", type=lambda s: int(s, 0), default=0x8100)
    p.add_argument("--outer-tpid", type=lambda s: int(s, 0), default=0)
    p.add_argument("--proto", choices=("udp", "udplite"), default="udp")
    p.add_argument("--count", type=int, default=1)
    a = p.parse_args()
    if not 0 <= a.tags <= 16 or not 0 <= a.vid <= 4095 or not 1 <= a.count <= 1000:
        raise SystemExit("frames.py: --tags 0..16, --vid 0..4095, --count 1..1000")
    sendp(frame(a), iface=a.iface, count=a.count, verbose=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
