#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""SIP over TCP and WebSocket ends for the lab (tests/suites/64-sipd-tcp.sh).

siptcp.py listen ADDR PORT SECS [--answer] [--ws]
    Accept connections on ADDR:PORT for SECS seconds. One line per event,
    flushed: "conn HOST PORT", "msg START-LINE" for every SIP message framed
    from the stream (Content-Length; with --ws from WebSocket text frames),
    "reset" when a connection is reset, "eof" when it is closed. --answer
    replies 200 OK (with SDP) to an INVITE, over the same connection (a WS
    frame with --ws). --ws: a WebSocket server (RFC 6455 handshake, sip
    subprotocol).

siptcp.py send SRC DST PORT SECS [--ua UA] [--via T] [--to USER] [--ws]
                                 [--media PORT] [--big N]
    Connect from SRC (any port) to DST:PORT, send one INVITE with SDP, then
    read for SECS seconds: "connected", "sent N", "msg START-LINE" per message
    received, and at the end one of "reset" (the connection was reset: recv
    or send raised ConnectionResetError), "eof", "quiet" (nothing more came).
    --via sets the top Via's transport (default TCP, WS with --ws), --ua the
    User-Agent, --to the To user. --ws: HTTP Upgrade first, then the INVITE
    in one masked text frame. "connect-timeout"/"connect-refused" when the
    connection is not made.

siptcp.py connect DST PORT SECS
    A TCP connect only: "connected", "connect-timeout" or "connect-refused".

siptcp.py raw SRC DST PORT SECS --split N [--reorder] [--ua UA]
    The INVITE's connection built by hand (scapy; the caller keeps the
    kernel's own RSTs for it from the wire): the handshake, then the INVITE
    in two segments cut at octet N, the second first with --reorder; both
    again after 1 s and after 2 s (as TCP retransmits what was not
    acknowledged). Prints "handshake", then "acked N" with the highest
    octet of the INVITE the receiver acknowledged (N = its length: the
    receiver has all of it), "reset" if a RST came, "no-synack".
"""
import argparse
import base64
import hashlib
import os
import random
import select
import socket
import sys
import time

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def out(*words):
    print(*words, flush=True)


def fam_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def host(a):
    return "[%s]" % a if ":" in a else a


def sdp(who, addr, port):
    ipt = "IP6" if ":" in addr else "IP4"
    return ("v=0\r\no=%s 1 1 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n") % (who, ipt, addr, ipt, addr, port)


def invite(src, sport, dst, dport, via, ua, to, media, big):
    body = sdp("alice", src, media)
    body += "".join("a=x-sipwall-pad%03d:%s\r\n" % (i, "0123456789abcdef" * 3) for i in range(big))
    cid = "%x@siptcp" % random.getrandbits(48)
    return ("INVITE sip:%s@%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%x\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:alice@%s>;tag=%x\r\nTo: <sip:%s@%s>\r\n"
            "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@%s:%d;transport=%s>\r\n"
            "User-Agent: %s\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s") % (
        to, host(dst), dport, via, host(src), sport, random.getrandbits(32), host(src),
        random.getrandbits(32), to, host(dst), cid, host(src), sport, via.lower(), ua,
        len(body), body)


def answer(inv, addr, media):
    """A 200 OK to the INVITE inv (bytes), with SDP for addr:media."""
    head = inv.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
    keep = [h for h in head[1:] if h.split(":", 1)[0].strip().lower()
            in ("via", "from", "call-id", "cseq")]
    to = [h for h in head[1:] if h.split(":", 1)[0].strip().lower() == "to"]
    body = sdp("bob", addr, media)
    return ("SIP/2.0 200 OK\r\n%s\r\n%s;tag=%x\r\nContact: <sip:bob@%s>\r\n"
            "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s") % (
        "\r\n".join(keep), to[0] if to else "To: <sip:bob@x>", random.getrandbits(32),
        host(addr), len(body), body)


class Framer:
    """SIP messages out of a byte stream (Content-Length framing)."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data
        msgs = []
        while True:
            self.buf = self.buf.lstrip(b"\r\n")
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                break
            cl = 0
            for line in self.buf[:end].split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() in (b"content-length", b"l"):
                    cl = int(v.strip() or 0)
            if len(self.buf) < end + 4 + cl:
                break
            msgs.append(self.buf[:end + 4 + cl])
            self.buf = self.buf[end + 4 + cl:]
        return msgs


class WsReader:
    """WebSocket frames out of a byte stream: (opcode, payload) each."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data
        frames = []
        while len(self.buf) >= 2:
            b0, b1 = self.buf[0], self.buf[1]
            n, off = b1 & 0x7f, 2
            if n == 126:
                if len(self.buf) < 4:
                    break
                n, off = int.from_bytes(self.buf[2:4], "big"), 4
            elif n == 127:
                if len(self.buf) < 10:
                    break
                n, off = int.from_bytes(self.buf[2:10], "big"), 10
            mask = b""
            if b1 & 0x80:
                mask, off = self.buf[off:off + 4], off + 4
            if len(self.buf) < off + n:
                break
            pl = self.buf[off:off + n]
            if mask:
                pl = bytes(c ^ mask[i % 4] for i, c in enumerate(pl))
            frames.append((b0 & 0x0f, pl))
            self.buf = self.buf[off + n:]
        return frames


def ws_frame(payload, masked):
    """One final text frame."""
    n = len(payload)
    h = bytes([0x81])
    mbit = 0x80 if masked else 0
    if n < 126:
        h += bytes([mbit | n])
    elif n < 65536:
        h += bytes([mbit | 126]) + n.to_bytes(2, "big")
    else:
        h += bytes([mbit | 127]) + n.to_bytes(8, "big")
    if not masked:
        return h + payload
    key = os.urandom(4)
    return h + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def read_http_head(s, deadline):
    buf = b""
    while b"\r\n\r\n" not in buf and time.time() < deadline:
        s.settimeout(max(0.05, deadline - time.time()))
        d = s.recv(4096)
        if not d:
            break
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head.decode(errors="replace"), rest


def start_line(m):
    return m.split(b"\r\n", 1)[0].decode(errors="replace")


def cmd_listen(a):
    ls = socket.socket(fam_of(a.addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.addr, a.port))
    ls.listen(16)
    conns = {}  # socket -> [framer, wsreader or None, handshake done]
    end = time.time() + a.secs
    while time.time() < end:
        r, _, _ = select.select([ls] + list(conns), [], [], 0.1)
        for s in r:
            if s is ls:
                c, peer = ls.accept()
                out("conn", peer[0], peer[1])
                conns[c] = [Framer(), WsReader() if a.ws else None, not a.ws]
                continue
            st = conns[s]
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                out("reset")
                del conns[s]
                s.close()
                continue
            if not d:
                out("eof")
                del conns[s]
                s.close()
                continue
            if not st[2]:
                # WebSocket handshake (the request fits in the first read here).
                head, _, rest = d.partition(b"\r\n\r\n")
                key = ""
                for line in head.decode(errors="replace").split("\r\n"):
                    k, _, v = line.partition(":")
                    if k.strip().lower() == "sec-websocket-key":
                        key = v.strip()
                acc = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
                s.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                           "Sec-WebSocket-Protocol: sip\r\n\r\n" % acc).encode())
                out("upgraded")
                st[2] = True
                d = rest
            if st[1] is not None:
                msgs = [pl for op, pl in st[1].feed(d) if op in (1, 2)]
            else:
                msgs = st[0].feed(d)
            for m in msgs:
                out("msg", start_line(m))
                if a.answer and m.startswith(b"INVITE "):
                    rep = answer(m, a.addr, 16000).encode()
                    s.sendall(ws_frame(rep, False) if a.ws else rep)
                    out("answered")
    return 0


def connect(a, src=None):
    s = socket.socket(fam_of(a.dst), socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.settimeout(a.secs if a.cmd == "connect" else 5)
    try:
        s.connect((a.dst, a.port))
    except socket.timeout:
        out("connect-timeout")
        return None
    except ConnectionRefusedError:
        out("connect-refused")
        return None
    out("connected")
    return s


def cmd_connect(a):
    s = connect(a)
    if s:
        s.close()
    return 0


def cmd_send(a):
    s = connect(a, a.src)
    if not s:
        return 0
    sport = s.getsockname()[1]
    end = time.time() + a.secs
    ws = None
    if a.ws:
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall(("GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
                   % (host(a.dst), a.port, key)).encode())
        head, rest = read_http_head(s, end)
        status = head.split("\r\n", 1)[0]
        want = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
        if " 101 " not in status + " " or want not in head:
            out("no-upgrade", status)
            return 0
        out("upgraded")
        ws = WsReader()
        ws.feed(rest)
    via = a.via or ("WS" if a.ws else "TCP")
    msg = invite(a.src, sport, a.dst, a.port, via, a.ua, a.to, a.media, a.big).encode()
    try:
        s.sendall(ws_frame(msg, True) if a.ws else msg)
    except ConnectionResetError:
        out("reset")
        return 0
    out("sent", len(msg))
    fr = Framer()
    while time.time() < end:
        s.settimeout(max(0.05, min(0.2, end - time.time())))
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            out("reset")
            return 0
        if not d:
            out("eof")
            return 0
        msgs = [pl for op, pl in ws.feed(d) if op in (1, 2)] if ws else fr.feed(d)
        for m in msgs:
            out("msg", start_line(m))
    out("quiet")
    return 0


def cmd_raw(a):
    from scapy.all import IP, IPv6, TCP, Raw, AsyncSniffer, conf, send, sr1
    conf.verb = 0
    v6 = ":" in a.dst
    mk = (lambda: IPv6(src=a.src, dst=a.dst)) if v6 else (lambda: IP(src=a.src, dst=a.dst))
    sport = random.randint(41000, 60000)
    isn = random.getrandbits(31)
    syn = sr1(mk() / TCP(sport=sport, dport=a.port, flags="S", seq=isn, window=65535),
              timeout=3)
    if syn is None or TCP not in syn or (int(syn[TCP].flags) & 0x12) != 0x12:
        out("no-synack")
        return 0
    ack = (syn[TCP].seq + 1) % 2 ** 32
    # The interface towards DST (no default route in the lab's namespaces,
    # so scapy's own default may be lo).
    ifc = (conf.route6 if v6 else conf.route).route(a.dst)[0]
    sn = AsyncSniffer(iface=ifc, filter="tcp and src port %d and dst port %d" % (a.port, sport),
                      store=True)
    sn.start()
    send(mk() / TCP(sport=sport, dport=a.port, flags="A", seq=isn + 1, ack=ack, window=65535))
    out("handshake")
    msg = invite(a.src, sport, a.dst, a.port, "TCP", a.ua, "bob", 12000, 0).encode()
    segs = [(isn + 1, msg[:a.split]), (isn + 1 + a.split, msg[a.split:])]
    if a.reorder:
        segs.reverse()
    for rnd in range(3):
        for sq, data in segs:
            send(mk() / TCP(sport=sport, dport=a.port, flags="PA", seq=sq, ack=ack,
                            window=65535) / Raw(data))
            time.sleep(0.05)
        time.sleep(1)
    time.sleep(max(0, a.secs - 3))
    got = sn.stop() or []
    acked, reset = 0, False
    for p in got:
        t = p[TCP]
        if int(t.flags) & 0x04:
            reset = True
        if int(t.flags) & 0x10:
            acked = max(acked, (t.ack - isn - 1) % 2 ** 32)
    out("acked", acked, "of", len(msg))
    if reset:
        out("reset")
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sl = sub.add_parser("listen")
    sl.add_argument("addr")
    sl.add_argument("port", type=int)
    sl.add_argument("secs", type=float)
    sl.add_argument("--answer", action="store_true")
    sl.add_argument("--ws", action="store_true")
    ss = sub.add_parser("send")
    ss.add_argument("src")
    ss.add_argument("dst")
    ss.add_argument("port", type=int)
    ss.add_argument("secs", type=float)
    ss.add_argument("--ua", default="siptcp")
    ss.add_argument("--via", default="")
    ss.add_argument("--to", default="bob")
    ss.add_argument("--ws", action="store_true")
    ss.add_argument("--media", type=int, default=12000)
    ss.add_argument("--big", type=int, default=0, help="SDP pad lines")
    sc = sub.add_parser("connect")
    sc.add_argument("dst")
    sc.add_argument("port", type=int)
    sc.add_argument("secs", type=float)
    sr = sub.add_parser("raw")
    sr.add_argument("src")
    sr.add_argument("dst")
    sr.add_argument("port", type=int)
    sr.add_argument("secs", type=float)
    sr.add_argument("--split", type=int, required=True)
    sr.add_argument("--reorder", action="store_true")
    sr.add_argument("--ua", default="siptcp")
    a = p.parse_args()
    return {"listen": cmd_listen, "send": cmd_send, "connect": cmd_connect,
            "raw": cmd_raw}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
