#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Calls through the benchmark's fw, for the SIP helper's expectations and
for pinhole install latency.

  sipcall.py uas ADDR CALLS PORTBASE BLAST
  sipcall.py uac ADDR CALLS DST PORTBASE BLAST

The UAS answers call k's INVITE with an SDP answer for ADDR:PORTBASE+2k. With
BLAST=1 the UAC sends an RTP-sized datagram to that port every 20 us from just
before its INVITE until 100 ms after the 200 OK (then BYE), and the UAS prints
one line per call, "lat_us=N": microseconds from handing the SDP answer to the
kernel to receiving the first RTP packet (-1: none within 2 s). Both run on
this host's CLOCK_MONOTONIC. With BLAST=0 the call stays up (no BYE) so the
helper's expectation stays. Every wait is bounded; exit status 1 on failure.
"""
import random
import select
import socket
import sys
import time

SIP = 5060


def hdr(msg, name):
    for line in msg.split("\r\n")[1:]:
        if not line:
            break
        k, _, v = line.partition(":")
        if k.strip().lower() == name:
            return v.strip()
    return ""


def sdp(addr, port, user):
    return ("v=0\r\no=%s 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n") % (user, addr, addr, port)


def bye_ok(msg):
    return ("SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
            "CSeq: %s\r\nContent-Length: 0\r\n\r\n" % (
                hdr(msg, "via"), hdr(msg, "from"), hdr(msg, "to"), hdr(msg, "call-id"),
                hdr(msg, "cseq"))).encode()


def uas(addr, calls, base, blast):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, SIP))
    k, answers, deadline = 0, {}, time.monotonic() + 50
    while k < calls and time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], 1.0)
        if not r:
            continue
        data, peer = s.recvfrom(65535)
        msg = data.decode(errors="replace")
        method = msg.split(" ", 1)[0]
        cid = hdr(msg, "call-id")
        if method == "INVITE":
            if cid in answers:  # retransmission
                s.sendto(answers[cid], peer)
                continue
            port = base + 2 * k
            m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            m.bind((addr, port))
            body = sdp(addr, port, "bob")
            ok = ("SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=%x\r\nCall-ID: %s\r\n"
                  "CSeq: %s\r\nContact: <sip:bob@%s:%d>\r\nContent-Type: application/sdp\r\n"
                  "Content-Length: %d\r\n\r\n%s") % (
                      hdr(msg, "via"), hdr(msg, "from"), hdr(msg, "to"), random.getrandbits(32),
                      cid, hdr(msg, "cseq"), addr, SIP, len(body), body)
            answers[cid] = ok.encode()
            t_ans = time.monotonic_ns()
            s.sendto(answers[cid], peer)
            if blast:
                r, _, _ = select.select([m], [], [], 2.0)
                if r:
                    m.recv(2048)
                    print("lat_us=%.1f" % ((time.monotonic_ns() - t_ans) / 1000), flush=True)
                else:
                    print("lat_us=-1", flush=True)
            m.close()
            k += 1
        elif method == "BYE":
            s.sendto(bye_ok(msg), peer)
    # Answer the last BYE (bounded).
    end = time.monotonic() + (1.0 if blast else 0.2)
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            data, peer = s.recvfrom(65535)
            msg = data.decode(errors="replace")
            if msg.startswith("BYE"):
                s.sendto(bye_ok(msg), peer)
    return 0 if k == calls else 1


def request(method, src, dst, cid, tag, cseq, to_tag="", body=""):
    return ("%s sip:bob@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%x\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:alice@%s>;tag=%s\r\nTo: <sip:bob@%s>%s\r\n"
            "Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:alice@%s:%d>\r\n%s"
            "Content-Length: %d\r\n\r\n%s") % (
                method, dst, src, SIP, random.getrandbits(48), src, tag, dst,
                ";tag=" + to_tag if to_tag else "", cid, cseq, method, src, SIP,
                "Content-Type: application/sdp\r\n" if body else "", len(body), body)


def wait_response(s, cid, until, on_idle=None):
    while time.monotonic() < until:
        if on_idle:
            on_idle()
            r, _, _ = select.select([s], [], [], 0)
        else:
            r, _, _ = select.select([s], [], [], 0.1)
        if r:
            msg = s.recv(65535).decode(errors="replace")
            if msg.startswith("SIP/2.0 200") and hdr(msg, "call-id") == cid:
                return msg
    return None


def uac(addr, calls, dst, base, blast):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, SIP))
    pkt = bytes([0x80, 8]) + bytes(170)
    failed = 0
    for k in range(calls):
        port = base + 2 * k
        cid = "%x@sipwall-bench" % random.getrandbits(64)
        tag = "%x" % random.getrandbits(32)
        inv = request("INVITE", addr, dst, cid, tag, 1,
                      body=sdp(addr, 30000 + 2 * k, "alice")).encode()
        nxt = [time.monotonic_ns()]
        # Symmetric RTP: sent from the port the offer announces.
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        rtp.bind((addr, 30000 + 2 * k))

        def send_rtp():
            # Paced busy loop: one datagram per 20 us slot.
            now = time.monotonic_ns()
            if now >= nxt[0]:
                rtp.sendto(pkt, (dst, port))
                nxt[0] = now + 20000

        ok = None
        for attempt in range(4):  # INVITE retransmissions, 0.5 s apart
            if blast:
                send_rtp()
            s.sendto(inv, (dst, SIP))
            ok = wait_response(s, cid, time.monotonic() + 0.5, send_rtp if blast else None)
            if ok:
                break
        if not ok:
            failed += 1
            rtp.close()
            continue
        to_tag = hdr(ok, "to").partition(";tag=")[2].split(";")[0]
        s.sendto(request("ACK", addr, dst, cid, tag, 1, to_tag).encode(), (dst, SIP))
        if not blast:
            rtp.close()
            continue
        end = time.monotonic() + 0.1
        while time.monotonic() < end:
            send_rtp()
        bye = request("BYE", addr, dst, cid, tag, 2, to_tag).encode()
        for attempt in range(4):
            s.sendto(bye, (dst, SIP))
            if wait_response(s, cid, time.monotonic() + 0.5):
                break
        rtp.close()
    return 1 if failed else 0


def main(argv):
    if len(argv) == 6 and argv[1] == "uas":
        return uas(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    if len(argv) == 7 and argv[1] == "uac":
        return uac(argv[2], int(argv[3]), argv[4], int(argv[5]), int(argv[6]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
