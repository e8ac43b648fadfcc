#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Attack helpers for tests/suites/62-security.sh (stdlib only; run in a lab
namespace with nsenter). Every packet is built here (IP + UDP + SIP) and sent
on a raw socket, so the source may be forged and the UDP checksum broken;
every loop is bounded by --count and --seconds.

  attack.py exchange --src A --dst B --offer-c A --answer-c I --answer-port P
          [--method UPDATE|INVITE] [--answer-src X] [--answer-dst Y]
          [--answer-dport N] [--offer-port N] [--mlines N] [--port-count N]
          [--bad-checksum] [--no-answer] [--srcs A,B,...] [--count N]
          [--rate PPS] [--seconds S] [--tag T] [--spread] [--answer-cs A,B]
      An offer (UPDATE with invented tags, or INVITE) from --src:5060 to
      --dst:5060 whose SDP says c=--offer-c m=audio --offer-port, then, unless
      --no-answer, the attacker's own "200 OK" to it (same Call-ID, CSeq,
      tags, Via branch) from --answer-src (default --src; anything else is a
      forged source) to --answer-dst (default --dst) whose SDP says
      c=--answer-c m=audio --answer-port. --mlines/--port-count give every
      SDP that many m= lines of "m=audio P/N" (pinholes per exchange:
      mlines * port-count * 2 kinds * 2 sides). --count exchanges, each
      with a new Call-ID; --srcs rotates the offer's source over a list.
      --spread gives exchange i its own media ports (offer port + 32 i,
      answer port + 32 (i mod 300)) and rotates the answer's c= over
      --answer-cs, so no two exchanges name the same pinhole.
      Prints "sent N exchanges (M datagrams) in S s".
  attack.py response --src A --dst T --status 403 [--count N] [--via-mac MAC
          --ifname IF] [--rate PPS]
      N responses (CSeq INVITE) to invented Call-IDs. With --via-mac the
      frame goes on IF to that MAC (a hairpin through the firewall toward an
      outside --dst, as an attacker on the firewall's outside link can).
  attack.py request --src A --dst B --method OPTIONS [--dport N]
          [--user-agent UA] [--count N]
      Out-of-dialog requests from A:5060 (A may be forged).
  attack.py drops EVENTS [--from-byte N]
      "REASON COUNT" per message_drop (and media_refused) reason in a sipd events file (from
      byte N on).
  attack.py metrics URL
      "REASON COUNT" per sipd_sip_drops_total{reason} (and sipd_media_refused_total) of sipd's /metrics.
  attack.py opened EVENTS [--from-byte N]
      "ADDR PORT CALL_ID" for each pinhole_open/pinhole_update event (ADDR
      normalised: v4-mapped IPv6 printed as IPv4).
  attack.py pinhole-owner JSON ADDR PORT
      The call_id of the pinhole ADDR:PORT in "sipwall pinhole list --json"
      output (file JSON), or "none".
"""
import argparse
import ipaddress
import json
import os
import random
import re
import socket
import struct
import sys
import time
import urllib.request


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_udp(src, dst, sport, dport, payload, bad_checksum=False):
    """One IPv4 or IPv6 datagram carrying UDP (headers built here)."""
    src, dst = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if src.version != dst.version:
        raise SystemExit("attack.py: %s and %s are not the same family" % (src, dst))
    ulen = 8 + len(payload)
    if src.version == 4:
        pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, 17, ulen)
    else:
        pseudo = src.packed + dst.packed + struct.pack("!IxxxB", ulen, 17)
    c = csum(pseudo + struct.pack("!HHHH", sport, dport, ulen, 0) + payload) or 0xFFFF
    if bad_checksum:
        c ^= 0x5A5A  # wrong, never 0 (0 means "no checksum" in IPv4)
        c = c or 0x1234
    udp = struct.pack("!HHHH", sport, dport, ulen, c) + payload
    if src.version == 4:
        ident = random.getrandbits(16)
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, ident, 0, 64, 17, 0,
                          src.packed, dst.packed)
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    else:
        hdr = struct.pack("!IHBB16s16s", 6 << 28, ulen, 17, 64, src.packed, dst.packed)
    return hdr + udp


class Sender:
    """Raw IP sockets (IP_HDRINCL / IPPROTO_RAW), or one AF_PACKET socket for
    frames to a given next-hop MAC. Paced to --rate, bounded by --seconds."""

    def __init__(self, rate=0, seconds=10.0, via_mac=None, ifname=None):
        self.rate, self.deadline = rate, time.time() + seconds
        self.n, self.t0 = 0, time.time()
        self.socks = {}
        self.l2 = None
        if via_mac:
            if not ifname:
                raise SystemExit("attack.py: --via-mac needs --ifname")
            self.l2 = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            self.l2.bind((ifname, 0))
            # the interface's own MAC (not /sys: nsenter keeps the host's)
            self.own_mac = self.l2.getsockname()[4][:6]
            self.mac = bytes.fromhex(via_mac.replace(":", ""))

    def expired(self):
        return time.time() > self.deadline

    def send(self, pkt):
        if self.rate:
            due = self.t0 + self.n / float(self.rate)
            d = due - time.time()
            if d > 0:
                time.sleep(d)
        v6 = (pkt[0] >> 4) == 6
        if self.l2:
            etype = 0x86DD if v6 else 0x0800
            self.l2.send(self.mac + self.own_mac + struct.pack("!H", etype) + pkt)
        else:
            fam = socket.AF_INET6 if v6 else socket.AF_INET
            s = self.socks.get(fam)
            if s is None:
                s = self.socks[fam] = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_RAW)
            dst = socket.inet_ntop(fam, pkt[24:40] if v6 else pkt[16:20])
            try:
                s.sendto(pkt, (dst, 0))
            except OSError as e:
                # ENOBUFS and the like under a flood: counted, not fatal
                print("# send: %s" % e, file=sys.stderr)
                return
        self.n += 1


def h(a):
    return "[%s]" % a if ":" in a else a


def ipver(a):
    return "IP6" if ":" in a else "IP4"


def sdp(c, port, mlines=1, port_count=1, rtcp=None):
    o = ("v=0\r\no=x %d 1 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"
         % (random.getrandbits(30), ipver(c), c, ipver(c), c))
    for i in range(mlines):
        p = port + i * 2 * port_count
        o += "m=audio %d%s RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n" % (
            p, "/%d" % port_count if port_count > 1 else "")
        if rtcp:
            o += "a=rtcp:%s\r\n" % rtcp
    return o


def request(method, src, dst, call_id, from_tag, to_tag, branch, cseq, body="",
            ua=None, ruri_user="bob"):
    hdrs = [
        "%s sip:%s@%s SIP/2.0" % (method, ruri_user, h(dst)),
        "Via: SIP/2.0/UDP %s:5060;branch=%s" % (h(src), branch),
        "Max-Forwards: 70",
        "From: <sip:mallory@%s>;tag=%s" % (h(src), from_tag),
        "To: <sip:%s@%s>%s" % (ruri_user, h(dst), ";tag=" + to_tag if to_tag else ""),
        "Call-ID: %s" % call_id,
        "CSeq: %d %s" % (cseq, method),
        "Contact: <sip:mallory@%s:5060>" % h(src),
    ]
    if ua:
        hdrs.append("User-Agent: %s" % ua)
    if body:
        hdrs.append("Content-Type: application/sdp")
    hdrs.append("Content-Length: %d" % len(body))
    return ("\r\n".join(hdrs) + "\r\n\r\n" + body).encode()


def response(status, reason, via_host, dst_user_host, call_id, from_tag, to_tag, branch,
             cseq, method, contact_host, body=""):
    hdrs = [
        "SIP/2.0 %d %s" % (status, reason),
        "Via: SIP/2.0/UDP %s:5060;branch=%s" % (h(via_host), branch),
        "From: <sip:mallory@%s>;tag=%s" % (h(via_host), from_tag),
        "To: <sip:bob@%s>;tag=%s" % (h(dst_user_host), to_tag),
        "Call-ID: %s" % call_id,
        "CSeq: %d %s" % (cseq, method),
        "Contact: <sip:bob@%s:5060>" % h(contact_host),
    ]
    if body:
        hdrs.append("Content-Type: application/sdp")
    hdrs.append("Content-Length: %d" % len(body))
    return ("\r\n".join(hdrs) + "\r\n\r\n" + body).encode()


def rid(bits=48):
    return "%x" % random.getrandbits(bits)


def cmd_exchange(a):
    if a.count < 1 or a.count > 20000:
        raise SystemExit("attack.py: --count must be 1..20000")
    srcs = a.srcs.split(",") if a.srcs else [a.src]
    tx = Sender(a.rate, a.seconds)
    done = 0
    for i in range(a.count):
        if tx.expired():
            break
        src = srcs[i % len(srcs)]
        ans_src = a.answer_src or src
        ans_dst = a.answer_dst or a.dst
        call_id = "%s-%d-%s@attacker" % (a.tag, i, rid())
        ftag, branch, cseq = rid(32), "z9hG4bK" + rid(), random.randint(1, 9999)
        ttag = rid(32) if a.method == "UPDATE" else None
        oport, aport, ac = a.offer_port, a.answer_port, a.answer_c
        if a.spread:
            oport = a.offer_port + (32 * i) % 60000
            aport = a.answer_port + 32 * (i % 300)
            if a.answer_cs:
                cs = a.answer_cs.split(",")
                ac = cs[(i // 300) % len(cs)]
        offer = sdp(a.offer_c or src, oport, a.mlines, a.port_count)
        tx.send(ip_udp(src, a.dst, 5060, 5060,
                       request(a.method, src, a.dst, call_id, ftag, ttag, branch, cseq, offer),
                       a.bad_checksum))
        if not a.no_answer:
            ans = sdp(ac, aport, a.mlines, a.port_count)
            tx.send(ip_udp(ans_src, ans_dst, 5060, a.answer_dport,
                           response(200, "OK", src, a.dst, call_id, ftag, ttag or rid(32),
                                    branch, cseq, a.method, ans_src, ans),
                           a.bad_checksum))
        done += 1
    print("sent %d exchanges (%d datagrams) in %.2f s" % (done, tx.n, time.time() - tx.t0))


def cmd_response(a):
    if a.count < 1 or a.count > 10000:
        raise SystemExit("attack.py: --count must be 1..10000")
    tx = Sender(a.rate, a.seconds, a.via_mac, a.ifname)
    reasons = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 407: "Proxy Auth"}
    for i in range(a.count):
        if tx.expired():
            break
        call_id = "%s-%d-%s@attacker" % (a.tag, i, rid())
        tx.send(ip_udp(a.src, a.dst, 5060, 5060,
                       response(a.status, reasons.get(a.status, "X"), a.dst, a.src, call_id,
                                rid(32), rid(32), "z9hG4bK" + rid(), 1, "INVITE", a.src)))
    print("sent %d responses in %.2f s" % (tx.n, time.time() - tx.t0))


def cmd_request(a):
    if a.count < 1 or a.count > 10000:
        raise SystemExit("attack.py: --count must be 1..10000")
    tx = Sender(a.rate, a.seconds)
    for i in range(a.count):
        if tx.expired():
            break
        call_id = "%s-%d-%s@attacker" % (a.tag, i, rid())
        tx.send(ip_udp(a.src, a.dst, 5060, a.dport,
                       request(a.method, a.src, a.dst, call_id, rid(32), None,
                               "z9hG4bK" + rid(), 1, "", a.user_agent)))
    print("sent %d requests in %.2f s" % (tx.n, time.time() - tx.t0))


def cmd_drops(a):
    counts = {}
    with open(a.events, "rb") as f:
        f.seek(a.from_byte)
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            # a refused stream (media_refused) is named like a drop
            if e.get("event") in ("message_drop", "media_refused"):
                r = e.get("reason", "?")
                counts[r] = counts.get(r, 0) + 1
            elif e.get("event") == "drop_summary":
                for r, n in (e.get("by_reason") or {}).items():
                    counts[r] = counts.get(r, 0) + int(n)
    for r in sorted(counts):
        print("%s %d" % (r, counts[r]))


def cmd_metrics(a):
    try:
        body = urllib.request.urlopen(a.url, timeout=3).read().decode()
    except OSError as e:
        print("# metrics: %s" % e, file=sys.stderr)
        return 1
    for m in re.finditer(r'^sipd_(?:sip_drops|media_refused)_total\{reason="([^"]+)"\} (\d+)$',
                         body, re.M):
        print("%s %s" % (m.group(1), m.group(2)))
    return 0


def norm_addr(s):
    d = ipaddress.ip_address(s.strip("[]"))
    if d.version == 6 and d.ipv4_mapped:
        d = d.ipv4_mapped
    return str(d)


def cmd_opened(a):
    with open(a.events, "rb") as f:
        f.seek(a.from_byte)
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event") not in ("pinhole_open", "pinhole_update"):
                continue
            addr, _, port = e.get("dst", "").rpartition(":")
            try:
                print("%s %s %s" % (norm_addr(addr), port, e.get("call_id", "?")))
            except ValueError:
                print("%s %s %s" % (addr, port, e.get("call_id", "?")))


def cmd_pinhole_owner(a):
    with open(a.json) as f:
        phs = json.load(f)
    want = ipaddress.ip_address(a.addr)
    for p in phs:
        try:
            d = ipaddress.ip_address(p["dst"])
        except ValueError:
            continue
        if d.version == 6 and d.ipv4_mapped:
            d = d.ipv4_mapped
        if d == want and p["port"] == a.port:
            print(p.get("call_id") or "?")
            return 0
    print("none")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    x = sub.add_parser("exchange")
    x.add_argument("--method", choices=["UPDATE", "INVITE"], default="UPDATE")
    x.add_argument("--src", required=True)
    x.add_argument("--srcs")
    x.add_argument("--dst", required=True)
    x.add_argument("--offer-c")
    x.add_argument("--offer-port", type=int, default=4000)
    x.add_argument("--answer-src")
    x.add_argument("--answer-dst")
    x.add_argument("--answer-dport", type=int, default=5060)
    x.add_argument("--answer-c")
    x.add_argument("--answer-port", type=int, default=11211)
    x.add_argument("--mlines", type=int, default=1)
    x.add_argument("--port-count", type=int, default=1)
    x.add_argument("--bad-checksum", action="store_true")
    x.add_argument("--no-answer", action="store_true")
    x.add_argument("--count", type=int, default=1)
    x.add_argument("--rate", type=float, default=0)
    x.add_argument("--seconds", type=float, default=10)
    x.add_argument("--tag", default="atk")
    x.add_argument("--spread", action="store_true")
    x.add_argument("--answer-cs")
    r = sub.add_parser("response")
    r.add_argument("--src", required=True)
    r.add_argument("--dst", required=True)
    r.add_argument("--status", type=int, default=403)
    r.add_argument("--count", type=int, default=1)
    r.add_argument("--rate", type=float, default=50)
    r.add_argument("--seconds", type=float, default=10)
    r.add_argument("--via-mac")
    r.add_argument("--ifname")
    r.add_argument("--tag", default="atk403")
    q = sub.add_parser("request")
    q.add_argument("--src", required=True)
    q.add_argument("--dst", required=True)
    q.add_argument("--dport", type=int, default=5060)
    q.add_argument("--method", default="OPTIONS")
    q.add_argument("--user-agent")
    q.add_argument("--count", type=int, default=1)
    q.add_argument("--rate", type=float, default=50)
    q.add_argument("--seconds", type=float, default=10)
    q.add_argument("--tag", default="atkreq")
    d = sub.add_parser("drops")
    d.add_argument("events")
    d.add_argument("--from-byte", type=int, default=0)
    m = sub.add_parser("metrics")
    m.add_argument("url")
    e = sub.add_parser("opened")
    e.add_argument("events")
    e.add_argument("--from-byte", type=int, default=0)
    o = sub.add_parser("pinhole-owner")
    o.add_argument("json")
    o.add_argument("addr")
    o.add_argument("port", type=int)
    a = ap.parse_args()
    if a.cmd == "exchange" and not a.answer_c and not a.no_answer:
        ap.error("exchange needs --answer-c (or --no-answer)")
    return {"exchange": cmd_exchange, "response": cmd_response, "request": cmd_request,
            "drops": cmd_drops, "metrics": cmd_metrics, "opened": cmd_opened,
            "pinhole-owner": cmd_pinhole_owner}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
