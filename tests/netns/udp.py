#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Small bounded UDP tools for the netns tests (stdlib only).

  udp.py recv --ports 5999,10000-10010 --log FILE [--timeout S] [--lite]
      Bind every port on [::] (IPv4 too, v4-mapped), append one line
      "DPORT SRC SPORT" per datagram to FILE, exit after --timeout seconds.
      FILE.ready appears once every port is bound. --lite: also log every
      UDP-Lite (IP protocol 136) datagram to one of the ports, seen on raw
      sockets whatever its checksum, as "DPORT/lite SRC SPORT".
  udp.py send --dst IP --dport N [--src IP] [--sport N] [--count N] [--raw]
      Send --count datagrams. Without --raw through a bound socket; with
      --raw the IP and UDP headers are built here and sent on a raw socket,
      so --src may be any address (spoofing) and --sport any port, even
      one another socket holds.
  udp.py serve --ctl FIFO --reply FIFO --log FILE [--timeout S]
      One long-lived process for a whole test run (a process start costs
      seconds in a TCG guest): reads requests "ID CMD ARGS..." (shell
      words) from --ctl, answers on --reply with lines "o TEXT" (output),
      "e TEXT" (error) and a last line "@@end ID RC". CMD is
        send NETNS SEND-ARGS...   what "send" does, from /run/netns/NETNS
        got DPORT SRC [SPORT]     datagrams FILE (the recv log) holds so far
                                  (SRC "*": from anywhere)
        wait DPORT SRC SPORT N S  until FILE holds N of them, at most S s
        json FILE EXPR            print(EXPR) with d = the JSON in FILE
      Exits at EOF on --ctl or after --timeout seconds.
"""
import argparse
import ipaddress
import os
import select
import shlex
import socket
import struct
import sys
import time

PAYLOAD = b"sipwall-netns-test" + b"\0" * 22
IPPROTO_UDPLITE = 136


def parse_ports(spec):
    ports = []
    for part in spec.split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            ports.extend(range(int(lo), int(hi) + 1))
        else:
            ports.append(int(part))
    if not ports or len(ports) > 256 or any(p < 1 or p > 65535 for p in ports):
        raise SystemExit("udp.py: bad --ports %r" % spec)
    return ports


def recv(args):
    socks = {}
    wanted = set(parse_ports(args.ports))
    for port in sorted(wanted):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        socks[s.fileno()] = (s, port)
    if args.lite:
        for fam in (socket.AF_INET, socket.AF_INET6):
            s = socket.socket(fam, socket.SOCK_RAW, IPPROTO_UDPLITE)
            socks[s.fileno()] = (s, None)
    with open(args.log + ".ready", "w") as f:
        f.write("%d\n" % os.getpid())
    deadline = time.monotonic() + args.timeout
    with open(args.log, "a", buffering=1) as log:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return 0
            ready, _, _ = select.select(list(socks), [], [], min(left, 1.0))
            for fd in ready:
                s, port = socks[fd]
                data, peer = s.recvfrom(65535)
                addr = ipaddress.ip_address(peer[0].split("%")[0])
                if port is None:
                    # raw IPv4 sockets hand over the IP header, IPv6 not
                    if s.family == socket.AF_INET:
                        data = data[(data[0] & 15) * 4:] if data else b""
                    if len(data) < 4:
                        continue
                    sport, dport = struct.unpack("!HH", data[:4])
                    if dport in wanted:
                        log.write("%d/lite %s %d\n" % (dport, addr, sport))
                    continue
                if addr.ipv4_mapped:
                    addr = addr.ipv4_mapped
                log.write("%d %s %d\n" % (port, addr, peer[1]))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def raw_packet(src, dst, sport, dport):
    ulen = 8 + len(PAYLOAD)
    if src.version == 4:
        pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, 17, ulen)
    else:
        pseudo = src.packed + dst.packed + struct.pack("!IxxxB", ulen, 17)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + PAYLOAD
    c = csum(pseudo + udp) or 0xFFFF
    udp = struct.pack("!HHHH", sport, dport, ulen, c) + PAYLOAD
    if src.version == 4:
        # Kernel fills the id and the header checksum (IP_HDRINCL).
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0, 64, 17, 0,
                         src.packed, dst.packed)
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, ulen, 17, 64, src.packed, dst.packed)
    return ip + udp


def send(args):
    dst = ipaddress.ip_address(args.dst)
    fam = socket.AF_INET if dst.version == 4 else socket.AF_INET6
    if args.count < 1 or args.count > 10000:
        raise SystemExit("udp.py: --count must be 1..10000")
    if args.raw:
        if not args.src or not args.sport:
            raise SystemExit("udp.py: --raw needs --src and --sport")
        src = ipaddress.ip_address(args.src)
        if src.version != dst.version:
            raise SystemExit("udp.py: --src and --dst families differ")
        s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_RAW)
        pkt = raw_packet(src, dst, args.sport, args.dport)
        for _ in range(args.count):
            s.sendto(pkt, (str(dst), 0))
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((args.src or ("0.0.0.0" if fam == socket.AF_INET else "::"), args.sport))
        for _ in range(args.count):
            s.sendto(PAYLOAD, (str(dst), args.dport))
    s.close()
    return 0


CLONE_NEWNET = 0x40000000


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if hasattr(os, "setns"):
            os.setns(fd, CLONE_NEWNET)
            return
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns %s: %s" % (path, os.strerror(err)))
    finally:
        os.close(fd)


def count_log(path, dport, src, sport=None):
    """Lines "DPORT SRC SPORT" in the recv log; SRC "*" is any source."""
    n = 0
    with open(path) as f:
        for line in f:
            w = line.split()
            if (len(w) == 3 and w[0] == dport and src in ("*", w[1])
                    and sport in (None, w[2])):
                n += 1
    return n


class Failed(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting (serve keeps running)."""

    def error(self, message):
        raise Failed("udp.py: " + message)


def serve_one(words, args, sendp, out):
    cmd, rest = words[0], words[1:]
    if cmd == "send":
        if not rest:
            raise Failed("udp.py: send needs a namespace")
        setns("/run/netns/" + rest[0])
        try:
            return send(sendp.parse_args(rest[1:]))
        except SystemExit as e:
            raise Failed(str(e.code))
    if cmd == "got" and len(rest) in (2, 3):
        out.append(str(count_log(args.log, *rest)))
        return 0
    if cmd == "wait" and len(rest) == 5:
        deadline = time.monotonic() + float(rest[4])
        while count_log(args.log, *rest[:3]) < int(rest[3]):
            if time.monotonic() >= deadline:
                return 1
            time.sleep(0.01)
        return 0
    if cmd == "json" and len(rest) == 2:
        import json
        with open(rest[0]) as f:
            d = json.load(f)
        out.extend(str(eval(rest[1], {"d": d})).split("\n"))
        return 0
    raise Failed("udp.py: bad request %r" % " ".join(words))


def serve(args, sendp):
    ctl = open(args.ctl, "r")
    reply = open(args.reply, "w", buffering=1)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([ctl], [], [], 1.0)
        if not ready:
            continue
        line = ctl.readline()
        if not line:
            return 0
        try:
            words = shlex.split(line)
        except ValueError as e:
            reply.write("e udp.py: unparsable request: %s\n@@end ? 2\n" % e)
            continue
        if len(words) < 2:
            reply.write("e udp.py: empty request\n@@end ? 2\n")
            continue
        out, rc = [], 1
        try:
            rc = serve_one(words[1:], args, sendp, out)
        except Failed as e:
            out.append("\0" + str(e))
        except (OSError, ValueError, LookupError, TypeError, NameError, SyntaxError) as e:
            out.append("\0udp.py: %s: %s: %s" % (words[1], type(e).__name__, e))
        reply.write("".join("e %s\n" % o[1:] if o.startswith("\0") else "o %s\n" % o
                            for o in out) + "@@end %s %d\n" % (words[0], rc))
    return 0


def add_send_args(s):
    s.add_argument("--dst", required=True)
    s.add_argument("--dport", type=int, required=True)
    s.add_argument("--src")
    s.add_argument("--sport", type=int, default=0)
    s.add_argument("--count", type=int, default=1)
    s.add_argument("--raw", action="store_true")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("recv")
    r.add_argument("--ports", required=True)
    r.add_argument("--log", required=True)
    r.add_argument("--timeout", type=float, default=300)
    r.add_argument("--lite", action="store_true")
    add_send_args(sub.add_parser("send"))
    v = sub.add_parser("serve")
    v.add_argument("--ctl", required=True)
    v.add_argument("--reply", required=True)
    v.add_argument("--log", required=True)
    v.add_argument("--timeout", type=float, default=300)
    args = p.parse_args()
    if args.cmd == "serve":
        sendp = Parser(prog="udp.py send", add_help=False)
        add_send_args(sendp)
        return serve(args, sendp)
    return recv(args) if args.cmd == "recv" else send(args)


if __name__ == "__main__":
    sys.exit(main())
