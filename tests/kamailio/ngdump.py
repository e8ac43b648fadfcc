#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Print the rtpengine "ng" datagrams of a pcap file (tcpdump -w): for each,
the time, source and destination, the raw bytes (escaped: printable ASCII as
is, \\r \\n and anything else as escapes) and the decoded dictionary with its
keys in wire order. No dependencies beyond the standard library.

    ngdump.py FILE.pcap [--port 22222] [--summary]

--summary prints one line per datagram: cookie, command or result, and the
keys in order (with flags/replace lists), for the tests to grep. --totals
prints, for each reply with rtpengine's "totals" (a delete's), the RTP and
RTCP packets it relayed: "totals RTP N RTCP M".
"""
import struct
import sys


def bdecode(b, i=0):
    """Decode one bencode value at b[i:]; return (value, next index).
    Dictionaries come back as lists of (key, value) pairs, in wire order."""
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c == b"l":
        i, out = i + 1, []
        while b[i:i + 1] != b"e":
            v, i = bdecode(b, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i, out = i + 1, []
        while b[i:i + 1] != b"e":
            k, i = bdecode(b, i)
            v, i = bdecode(b, i)
            out.append((k, v))
        return ("dict", out), i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n


def esc(b):
    out = []
    for x in b:
        if x == 0x0d:
            out.append("\\r")
        elif x == 0x0a:
            out.append("\\n")
        elif x == 0x5c:
            out.append("\\\\")
        elif 0x20 <= x < 0x7f:
            out.append(chr(x))
        else:
            out.append("\\x%02x" % x)
    return "".join(out)


def isdict(v):
    return isinstance(v, tuple) and v[0] == "dict"


def show(v, ind="  "):
    """Indented text: a dictionary one key a line, an SDP one line a line."""
    if isdict(v):
        lines = []
        for k, x in v[1]:
            s = show(x, ind + "  ")
            if isdict(x) or "\n" in s or (isinstance(x, bytes) and b"\r\n" in x):
                lines.append("%s%s:\n%s" % (ind, esc(k), s))
            else:
                lines.append("%s%s: %s" % (ind, esc(k), s))
        return "\n".join(lines)
    if isinstance(v, list):
        if any(isdict(x) or isinstance(x, list) for x in v):
            return "\n".join("%s-\n%s" % (ind, show(x, ind + "  ")) for x in v)
        return "[" + ", ".join(show(x, ind) for x in v) + "]"
    if isinstance(v, bytes):
        if b"\r\n" in v:
            return "\n".join(ind + "| " + esc(l) for l in v.split(b"\r\n"))
        return '"%s"' % esc(v)
    return str(v)


def summary(v):
    if not (isinstance(v, tuple) and v[0] == "dict"):
        return "not a dictionary"
    d = v[1]
    keys = [esc(k) for k, _ in d]
    head = ""
    for k, x in d:
        if k in (b"command", b"result") and isinstance(x, bytes):
            head = "%s=%s" % (esc(k), esc(x))
    extra = []
    for k, x in d:
        if isinstance(x, list):
            extra.append("%s=[%s]" % (esc(k), ",".join(esc(y) if isinstance(y, bytes) else str(y)
                                                        for y in x)))
        elif k in (b"ICE", b"transport-protocol", b"error-reason", b"warning") and isinstance(x, bytes):
            extra.append('%s="%s"' % (esc(k), esc(x)))
    return "%s keys=%s %s" % (head, ",".join(keys), " ".join(extra))


def packets(path, port):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = "<"
    else:
        e = ">"
    nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
    link = struct.unpack(e + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        t = sec + frac / (1e9 if nano else 1e6)
        if link == 1:
            eth = struct.unpack("!H", pkt[12:14])[0]
            ip = pkt[14:]
        elif link == 113:  # Linux cooked
            eth = struct.unpack("!H", pkt[14:16])[0]
            ip = pkt[16:]
        elif link == 276:  # Linux cooked v2
            eth = struct.unpack("!H", pkt[0:2])[0]
            ip = pkt[20:]
        else:
            continue
        if eth == 0x0800 and ip[9] == 17:
            hl = (ip[0] & 15) * 4
            src = "%d.%d.%d.%d" % tuple(ip[12:16])
            dst = "%d.%d.%d.%d" % tuple(ip[16:20])
            udp = ip[hl:]
        elif eth == 0x86DD and ip[6] == 17:
            import ipaddress
            src = "[%s]" % ipaddress.IPv6Address(ip[8:24])
            dst = "[%s]" % ipaddress.IPv6Address(ip[24:40])
            udp = ip[40:]
        else:
            continue
        sp, dp = struct.unpack("!HH", udp[:4])
        if port not in (sp, dp):
            continue
        yield t, "%s:%d" % (src, sp), "%s:%d" % (dst, dp), udp[8:]


def main():
    args = sys.argv[1:]
    port, summ = 22222, False
    if "--port" in args:
        i = args.index("--port")
        port = int(args[i + 1])
        del args[i:i + 2]
    if "--summary" in args:
        args.remove("--summary")
        summ = True
    tot = "--totals" in args
    if tot:
        args.remove("--totals")
    t0 = None
    for t, src, dst, payload in packets(args[0], port):
        t0 = t if t0 is None else t0
        sp = payload.find(b" ")
        cookie, body = payload[:sp], payload[sp + 1:]
        try:
            v, end = bdecode(body)
            trail = body[end:]
        except (ValueError, IndexError):
            v, trail = None, b""
        if tot:
            if v is not None and isdict(v):
                d = dict(v[1])
                if b"totals" in d and isdict(d[b"totals"]):
                    t2 = {k: dict(x[1]) for k, x in d[b"totals"][1] if isdict(x)}
                    print("totals RTP %s RTCP %s" % (t2.get(b"RTP", {}).get(b"packets", 0),
                                                     t2.get(b"RTCP", {}).get(b"packets", 0)))
            continue
        if summ:
            print("%s -> %s %s %s" % (src, dst, esc(cookie),
                                       summary(v) if v is not None else "undecodable"))
            continue
        print("=== +%.3f s  %s -> %s  (%d bytes)" % (t - t0, src, dst, len(payload)))
        print("raw: %s" % esc(payload))
        if v is None:
            print("(not bencode)")
        else:
            print("cookie: %s" % esc(cookie))
            print(show(v))
            if trail:
                print("trailing bytes: %s" % esc(trail))
        print()


if __name__ == "__main__":
    main()
