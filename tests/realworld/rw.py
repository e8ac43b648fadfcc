#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Real-world SIP call flows for tests/suites/63-sipd-realworld.sh.

One process plays every party: each party's sockets are opened inside its
lab namespace (setns on /run/netns/NAME, then back), so a whole call flow
runs in order with exact timing and exact RTP counts. Every wait is bounded.
Results go to stdout as "key value" lines; a log of the flow to stderr.

  b2bua      A (outside) -- B2BUA (dmz) -- B (inside), then direct media A<->B
  early      a callee that sends RTP before its 200 (or answers 486, or never)
  thirdparty an outside party's call whose offer names someone else's media
"""
import argparse
import ctypes
import json
import os
import random
import socket
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)
_home = os.open("/proc/self/ns/net", os.O_RDONLY)
ARGS = None


def log(*a):
    print("#", *a, file=sys.stderr, flush=True)


def out(key, val):
    print("%s %s" % (key, val), flush=True)


def in_netns(ns, fn):
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
        return fn()
    finally:
        _libc.setns(_home, CLONE_NEWNET)
        os.close(fd)


def udp(ns, addr, port):
    def mk():
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.setblocking(False)
        return s
    return in_netns(ns, mk)


def h(a):
    return "[%s]" % a if ":" in a else a


def ipv(a):
    return "IP6" if ":" in a else "IP4"


def rid(bits=40):
    return "%x" % random.getrandbits(bits)


def sdp(user, ver, c, port):
    return ("v=0\r\no=%s 1 %d IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n"
            % (user, ver, ipv(c), c, ipv(c), c, port))


def parse(data):
    text = data.decode(errors="replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    hdrs = {}
    for l in lines[1:]:
        n, _, v = l.partition(":")
        hdrs.setdefault(n.strip().lower(), v.strip())
    first = lines[0].split(" ")
    m = {"first": lines[0], "h": hdrs, "body": body, "raw": text}
    if first[0] == "SIP/2.0":
        m["status"] = int(first[1])
    else:
        m["method"] = first[0]
    m["cseq"] = hdrs.get("cseq", "")
    m["call_id"] = hdrs.get("call-id", "")
    return m


class Party:
    """A UA's SIP socket (port 5060) in its namespace."""

    def __init__(self, name, ns, addr, media_port):
        self.name, self.ns, self.addr, self.mport = name, ns, addr, media_port
        self.sock = udp(ns, addr, 5060)
        self.uri = "sip:%s@%s:5060" % (name, h(addr))

    def send(self, data, dst):
        self.sock.sendto(data, (dst.addr, 5060))

    def recv(self, timeout, pred):
        end = time.time() + timeout
        while time.time() < end:
            try:
                data, _ = self.sock.recvfrom(65535)
            except BlockingIOError:
                time.sleep(0.002)
                continue
            m = parse(data)
            if pred(m):
                return m
        return None


class Dialog:
    """One side's view of a dialog: local party, remote party, tags, cseq."""

    def __init__(self, me, peer, call_id, my_tag, peer_tag=None, cseq=1):
        self.me, self.peer, self.call_id = me, peer, call_id
        self.my_tag, self.peer_tag, self.cseq = my_tag, peer_tag, cseq
        self.sdp_ver = 1

    def request(self, method, body="", cseq=None, branch=None):
        cseq = self.cseq if cseq is None else cseq
        branch = branch or "z9hG4bK" + rid()
        hd = [
            "%s %s SIP/2.0" % (method, self.peer.uri),
            "Via: SIP/2.0/UDP %s:5060;branch=%s" % (h(self.me.addr), branch),
            "Max-Forwards: 70",
            "From: <%s>;tag=%s" % (self.me.uri, self.my_tag),
            "To: <%s>%s" % (self.peer.uri, ";tag=" + self.peer_tag if self.peer_tag else ""),
            "Call-ID: %s" % self.call_id,
            "CSeq: %d %s" % (cseq, method),
            "Contact: <%s>" % self.me.uri,
            "User-Agent: sipwall-rw",
        ]
        if body:
            hd.append("Content-Type: application/sdp")
        hd.append("Content-Length: %d" % len(body))
        return ("\r\n".join(hd) + "\r\n\r\n" + body).encode(), branch


def response(req, status, reason, me, to_tag, body=""):
    hd = req["h"]
    to = hd["to"]
    if to_tag and ";tag=" not in to:
        to += ";tag=" + to_tag
    lines = [
        "SIP/2.0 %d %s" % (status, reason),
        "Via: " + hd["via"],
        "From: " + hd["from"],
        "To: " + to,
        "Call-ID: " + hd["call-id"],
        "CSeq: " + hd["cseq"],
        "Contact: <%s>" % me.uri,
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def is_req(call_id, method):
    return lambda m: m.get("method") == method and m["call_id"] == call_id


def is_resp(call_id, cseq_method, status=None):
    def p(m):
        if "status" not in m or m["call_id"] != call_id or not m["cseq"].endswith(cseq_method):
            return False
        return m["status"] >= 200 if status is None else m["status"] == status
    return p


RESULTS = {"txn_failed": 0}


def transaction(label, d, srv_dialog, method, body, answer_body, status=200, tries=3):
    """d (client dialog) sends METHOD; the server answers STATUS (UAS-like
    retransmission of the request and the response, TRIES each, 0.5 s);
    ACK for INVITE. Returns (response, request as the server saw it)."""
    data, branch = d.request(method, body)
    req = None
    for i in range(tries):
        d.me.send(data, d.peer)
        req = d.peer.recv(0.5, is_req(d.call_id, method))
        if req:
            break
    if not req:
        log(label, "request never arrived")
        out("txn_" + label, "request_lost")
        RESULTS["txn_failed"] += 1
        return None, None
    reason = {200: "OK", 486: "Busy Here"}.get(status, "Whatever")
    resp = response(req, status, reason, d.peer, srv_dialog.my_tag if srv_dialog else rid(), answer_body)
    got = None
    for i in range(tries):
        d.peer.send(resp, d.me)
        got = d.me.recv(0.5, is_resp(d.call_id, method))
        if got:
            break
    if not got:
        log(label, "response never arrived")
        out("txn_" + label, "response_lost")
        RESULTS["txn_failed"] += 1
        return None, req
    if d.peer_tag is None:
        to = got["h"].get("to", "")
        d.peer_tag = to.split(";tag=", 1)[1].split(";")[0] if ";tag=" in to else None
    if method == "INVITE":
        if status >= 300:
            ack, _ = d.request("ACK", cseq=d.cseq, branch=branch)
        else:
            ack, _ = d.request("ACK", cseq=d.cseq)
        ackd = None
        for i in range(tries):
            d.me.send(ack, d.peer)
            ackd = d.peer.recv(0.5, is_req(d.call_id, "ACK"))
            if ackd:
                break
        if not ackd:
            out("txn_" + label, "ack_lost")
            RESULTS["txn_failed"] += 1
            return got, req
    d.cseq += 1
    out("txn_" + label, "ok")
    return got, req


def pinholes():
    try:
        r = subprocess.run(["nsenter", "--net=/run/netns/" + ARGS.fw_ns, ARGS.sipwall, "pinhole",
                            "list", "--json", "--pin-path", ARGS.pin],
                           capture_output=True, timeout=5, check=False)
        return json.loads(r.stdout or b"[]")
    except (subprocess.TimeoutExpired, ValueError) as e:
        log("pinhole list failed:", e)
        return []


def norm(a):
    return a[7:] if a.startswith("::ffff:") else a


def pinhole(addr, port):
    for p in pinholes():
        if norm(p["dst"]) == addr and p["port"] == port:
            return p
    return None


def srcs(p):
    return ",".join("%s:%d" % (h(norm(s["addr"])), s["port"]) for s in p["sources"]) if p else "none"


def report_pinhole(key, addr, port):
    p = pinhole(addr, port)
    out(key, "%d %s %s" % (1 if p else 0, srcs(p), (p or {}).get("call_id") or "-"))
    return p


def wait_gone(key, holes, secs):
    t0 = time.time()
    while time.time() - t0 < secs:
        if all(pinhole(a, p) is None for a, p in holes):
            out(key, "1 %.1f" % (time.time() - t0))
            return True
        time.sleep(0.2)
    out(key, "0 %.1f" % secs)
    return False


def rtp_pkt(seq, ssrc):
    return bytes([0x80, 8, (seq >> 8) & 255, seq & 255]) + (seq * 160).to_bytes(4, "big") + \
        ssrc.to_bytes(4, "big") + b"\xd5" * 160


def rtp_seq(data):
    return (data[2] << 8) | data[3] if len(data) >= 12 else -1


def drain(sock, want_src, got):
    """Reads all queued datagrams; adds RTP seqs from want_src (addr, port)."""
    while True:
        try:
            data, src = sock.recvfrom(65535)
        except BlockingIOError:
            return
        if norm(src[0]) == want_src[0] and src[1] == want_src[1]:
            got.add(rtp_seq(data))


def rtp_both(a_sock, a, b_sock, b, secs, seq0, key):
    """a=(addr,port) and b exchange RTP at 50 pkt/s each way for SECS."""
    n = int(secs * 50)
    ga, gb = set(), set()
    t0 = time.time()
    for i in range(n):
        a_sock.sendto(rtp_pkt(seq0 + i, 0xa), b)
        b_sock.sendto(rtp_pkt(seq0 + i, 0xb), a)
        drain(b_sock, a, gb)
        drain(a_sock, b, ga)
        nxt = t0 + (i + 1) * 0.02
        time.sleep(max(0, nxt - time.time()))
    end = time.time() + 0.3
    while time.time() < end:
        drain(b_sock, a, gb)
        drain(a_sock, b, ga)
        time.sleep(0.01)
    want = set(range(seq0, seq0 + n))
    out(key + "_a_to_b", "%d/%d" % (len(gb & want), n))
    out(key + "_b_to_a", "%d/%d" % (len(ga & want), n))


def cmd_b2bua(a):
    A = Party("alice", a.a_ns, a.a_addr, 12000)
    B = Party("bob", a.b_ns, a.b_addr, 16000)
    X = Party("pbx", a.x_ns, a.x_addr, 14000)
    am = udp(a.a_ns, a.a_addr, A.mport)
    bm = udp(a.b_ns, a.b_addr, B.mport)
    anchor = "0.0.0.0" if a.initial == "hold" else X.addr
    # leg 1: A -> X
    c1 = "rw-leg1-" + rid()
    a1 = Dialog(A, X, c1, "a" + rid(24))
    x1 = Dialog(X, A, c1, "x1" + rid(24), cseq=101)
    transaction("leg1_invite", a1, x1, "INVITE", sdp("alice", 1, A.addr, A.mport),
                sdp("pbx", 1, anchor, 14000))
    x1.peer_tag = a1.my_tag
    # leg 2: X -> B
    c2 = "rw-leg2-" + rid()
    x2 = Dialog(X, B, c2, "x2" + rid(24))
    b2 = Dialog(B, X, c2, "b" + rid(24), cseq=201)
    transaction("leg2_invite", x2, b2, "INVITE", sdp("pbx", 1, anchor, 14002),
                sdp("bob", 1, B.addr, B.mport))
    b2.peer_tag = x2.my_tag
    out("leg1_call_id", c1)
    out("leg2_call_id", c2)
    # direct media: leg 1 told B's address, leg 2 told A's
    transaction("leg1_reinvite", x1, a1, "INVITE", sdp("pbx", 2, B.addr, B.mport),
                sdp("alice", 2, A.addr, A.mport))
    transaction("leg2_reinvite", x2, b2, "INVITE", sdp("pbx", 2, A.addr, A.mport),
                sdp("bob", 2, B.addr, B.mport))
    time.sleep(0.1)
    report_pinhole("direct_pinhole_a", A.addr, A.mport)
    report_pinhole("direct_pinhole_b", B.addr, B.mport)
    rtp_both(am, (A.addr, A.mport), bm, (B.addr, B.mport), a.rtp_s, 1000, "direct")
    holes = [(A.addr, A.mport), (B.addr, B.mport)]
    if a.bye == "both":
        transaction("leg1_bye", a1, x1, "BYE", "", "")
        transaction("leg2_bye", x2, b2, "BYE", "", "")
    else:
        transaction("leg1_bye", a1, x1, "BYE", "", "")
        time.sleep(a.grace + 1.0)
        report_pinhole("after_leg1_bye_pinhole_a", A.addr, A.mport)
        report_pinhole("after_leg1_bye_pinhole_b", B.addr, B.mport)
        rtp_both(am, (A.addr, A.mport), bm, (B.addr, B.mport), 1.0, 5000, "leg2only")
        transaction("leg2_bye", x2, b2, "BYE", "", "")
    wait_gone("gone_after_byes", holes, a.grace + 4)
    out("txn_failed", RESULTS["txn_failed"])


def cmd_early(a):
    C = Party("caller", a.caller_ns, a.caller_addr, a.caller_port)
    E = Party("callee", a.callee_ns, a.callee_addr, a.callee_port)
    cm = udp(a.caller_ns, C.addr, C.mport)
    em = udp(a.callee_ns, E.addr, E.mport)
    cid = "rw-early-%s-%s" % (a.answer, rid())
    out("call_id", cid)
    d = Dialog(C, E, cid, "c" + rid(24))
    etag = "e" + rid(24)
    data, branch = d.request("INVITE", sdp("caller", 1, C.addr, C.mport))
    C.send(data, E)
    req = E.recv(1.0, is_req(cid, "INVITE"))
    if not req:
        out("invite_delivered", 0)
        return
    out("invite_delivered", 1)
    if a.answer != "none":  # unanswered: not even a 100 (Timer B, not early_dialog_s)
        E.send(response(req, 100, "Trying", E, None), C)
    time.sleep(0.05)
    report_pinhole("offer_pinhole", C.addr, C.mport)
    if a.answer == "none":
        # nothing more: the INVITE transaction times out
        wait_gone("gone_after_timeout", [(C.addr, C.mport)], a.wait)
        return
    if a.answer == "486":
        E.send(response(req, 486, "Busy Here", E, etag), C)
        got = C.recv(1.0, is_resp(cid, "INVITE", 486))
        out("reject_delivered", 1 if got else 0)
        if got:
            d.peer_tag = etag
            ack, _ = d.request("ACK", branch=branch)
            C.send(ack, E)
        wait_gone("gone_after_reject", [(C.addr, C.mport)], a.wait)
        return
    # 200: RTP from the callee first, a.early packets over 50 ms, then the answer
    got = set()
    for i in range(a.early):
        em.sendto(rtp_pkt(1 + i, 0xe), (C.addr, C.mport))
        time.sleep(0.05 / a.early)
    ok = response(req, 200, "OK", E, etag, sdp("callee", 1, E.addr, E.mport))
    ans = None
    for i in range(3):
        E.send(ok, C)
        ans = C.recv(0.5, is_resp(cid, "INVITE", 200))
        if ans:
            break
    out("answer_delivered", 1 if ans else 0)
    drain(cm, (E.addr, E.mport), got)
    out("early_rx", "%d/%d" % (len({s for s in got if 1 <= s <= a.early}), a.early))
    if not ans:
        return
    d.peer_tag = etag
    ack, _ = d.request("ACK")
    C.send(ack, E)
    E.recv(0.5, is_req(cid, "ACK"))
    d.cseq += 1
    rtp_both(cm, (C.addr, C.mport), em, (E.addr, E.mport), 0.4, 100, "after")
    drain(cm, (E.addr, E.mport), got)
    e2 = Dialog(E, C, cid, etag, d.my_tag)
    transaction("bye", d, e2, "BYE", "", "")


def cmd_thirdparty(a):
    C = Party("mallory", a.caller_ns, a.caller_addr, 0)
    E = Party("trent", a.callee_ns, a.callee_addr, a.callee_port)
    cid = "rw-third-" + rid()
    out("call_id", cid)
    d = Dialog(C, E, cid, "m" + rid(24))
    e = Dialog(E, C, cid, "t" + rid(24))
    got, req = transaction("third_invite", d, e, "INVITE", sdp("mallory", 1, a.offer_addr, a.offer_port),
                           sdp("trent", 1, E.addr, E.mport))
    out("third_answer_delivered", 1 if got else 0)
    time.sleep(0.1)
    report_pinhole("victim_pinhole", a.offer_addr, a.offer_port)
    if got:
        e.peer_tag = d.my_tag
        transaction("third_bye", d, e, "BYE", "", "")


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fw-ns", required=True)
    ap.add_argument("--sipwall", required=True)
    ap.add_argument("--pin", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("b2bua")
    for p in ("a", "b", "x"):
        b.add_argument("--%s-ns" % p, required=True)
        b.add_argument("--%s-addr" % p, required=True)
    b.add_argument("--initial", choices=("anchored", "hold"), default="anchored")
    b.add_argument("--bye", choices=("both", "leg1first"), default="both")
    b.add_argument("--rtp-s", type=float, default=2.0)
    b.add_argument("--grace", type=float, default=1.0)
    for name in ("early", "thirdparty"):
        e = sub.add_parser(name)
        e.add_argument("--caller-ns", required=True)
        e.add_argument("--caller-addr", required=True)
        e.add_argument("--caller-port", type=int, default=12000)
        e.add_argument("--callee-ns", required=True)
        e.add_argument("--callee-addr", required=True)
        e.add_argument("--callee-port", type=int, default=16000)
        if name == "early":
            e.add_argument("--answer", choices=("200", "486", "none"), default="200")
            e.add_argument("--early", type=int, default=5)
            e.add_argument("--wait", type=float, default=3.0)
        else:
            e.add_argument("--offer-addr", required=True)
            e.add_argument("--offer-port", type=int, required=True)
    ARGS = ap.parse_args()
    random.seed()
    {"b2bua": cmd_b2bua, "early": cmd_early, "thirdparty": cmd_thirdparty}[ARGS.cmd](ARGS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
