#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""wirefuzz: malformed and unauthorised cohort frames (kmod/wire.h, version 2)
sent from plain sockets to a node's UDP and TCP ports, for
transport_badinput.sh.

  wirefuzz.py ADDR --target ID [--port P] [--sender ID] [--peer ID]
              [--proto udp|tcp|both] [--set malformed|unknown|all]
  wirefuzz.py ADDR --target ID --session ID [--port P] [--cases PREFIX]

  --target ID   the node id of the node at ADDR (frames are addressed to it)
  --sender ID   the sender id put into well-formed frames of the "unknown"
                set (default 999: a node nobody configured)
  --peer ID     a configured peer's id, used for an impersonation attempt
                (a HELLO claiming to be that peer, sent from this address)
  --session ID  play the configured peer ID (the target must have it as a
                peer at this address, and ID must be below the target's so
                that we are the side that connects): heartbeats over UDP from
                our port P, then per case a TCP connection, a HELLO, the
                target's HELLO, and one malformed frame inside the session
  --cases P     --session: only the cases whose names start with P (the
                "q-" ones are malformed batched queue PUB/DELIVER frames)

Sets: "malformed" frames no node may accept from anybody (garbage,
truncated, wrong magic or version, bad lengths, unknown types, oversized
vectors...); "unknown" well-formed frames from the unconfigured --sender
(and, with --peer, one claiming a peer's id). Over TCP each case gets a
connection of its own; a connection the node refuses, resets or closes is
fine. Prints one line per case and a summary line
  summary udp_sent=N udp_must_drop=N ... tcp_conns=N tcp_refused=N ...
(--session: summary sessions=N cases=N closed=N). Exit 0 when every case
was sent, 1 on a local error, 2 on bad usage.
"""
import argparse
import errno
import random
import socket
import struct
import sys
import time

MAGIC = 0xC047
VERSION = 2
HEARTBEAT, HELLO, ACK, LSA, ROUTED = 1, 2, 3, 4, 5
MSG, PING, PONG, QUEUE = 1, 2, 3, 4
WQ_PUB, WQ_DELIVER = 4, 6
NAME_MAX = 64
VC_MAX = 256
MSG_MAX = 16384
MAX_PEERS = 64

HDR = struct.Struct(">HBBIIIQ")          # magic version type len sender receiver seq
HB = struct.Struct(">Q")                 # incarnation
HELLO_B = struct.Struct(">QQQQ")         # my_inc your_inc rx_seq tx_base
ACK_B = struct.Struct(">Q")              # rx_seq
LSA_B = struct.Struct(">IIQQ%ds" % NAME_MAX)  # origin n_neigh inc seq name
ROUTED_B = struct.Struct(">IIBBHIQ")     # src dst hops kind vc_len reserved lamport
VC = struct.Struct(">QQ")
MSG_B = struct.Struct(">II")
PING_B = struct.Struct(">QQQ")           # cookie reserved reserved
Q_B = struct.Struct(">B3sIQQ")          # op reserved status handle arg
# id tag sender enqueue lamport ttl len vc_len prio reserved key
QMSG_B = struct.Struct(">QQQQQIIHBBI")
# The largest frame: a routed queue message carrying two full vectors (a
# batch of smaller messages stays within the same body bound).
MAX_FRAME = (HDR.size + ROUTED_B.size + VC_MAX * VC.size + Q_B.size +
             QMSG_B.size + VC_MAX * VC.size + MSG_MAX)

assert HDR.size == 24 and ROUTED_B.size == 24 and LSA_B.size == 88
assert Q_B.size == 24 and QMSG_B.size == 56


def hdr(ftype, body, sender, receiver, seq=0, length=None, magic=MAGIC,
        version=VERSION):
    if length is None:
        length = HDR.size + len(body)
    return HDR.pack(magic, version, ftype, length & 0xFFFFFFFF, sender,
                    receiver, seq) + body


def routed(sender, receiver, kind, body, vc=((1, 1),), vc_len=None, hops=0,
           reserved=0, seq=1, src=None, dst=None):
    vcb = b"".join(VC.pack(i, c) for i, c in vc)
    if vc_len is None:
        vc_len = len(vc)
    r = ROUTED_B.pack(sender if src is None else src,
                      receiver if dst is None else dst, hops, kind,
                      vc_len & 0xFFFF, reserved, 1)
    return hdr(ROUTED, r + vcb + body, sender, receiver, seq=seq)


def malformed(sender, target):
    """(name, bytes, proto) cases that every node must drop; proto is
    "udp", "tcp" or "both"."""
    rng = random.Random(4242)
    hb = HB.pack(1)
    good_hb = hdr(HEARTBEAT, hb, sender, target)
    hello = HELLO_B.pack(1, 0, 0, 1)
    msg = MSG_B.pack(7, 0) + b"x" * 8
    cases = []
    for n in (1, 7, 23, 24, 100, 1400):
        cases.append(("garbage-%d" % n,
                      bytes(rng.getrandbits(8) for _ in range(n)), "both"))
    cases += [
        ("zeros-24", bytes(24), "both"),
        ("truncated-header", good_hb[:12], "both"),
        ("body-shorter-than-len", good_hb[:HDR.size + 4], "udp"),
        ("len-longer-than-datagram", hdr(HEARTBEAT, hb, sender, target,
                                         length=HDR.size + 64), "udp"),
        ("trailing-bytes", hdr(HEARTBEAT, hb + b"\0" * 16, sender, target,
                               length=HDR.size + HB.size), "udp"),
        ("bad-magic", hdr(HEARTBEAT, hb, sender, target, magic=0xDEAD),
         "both"),
        ("bad-magic-swapped", hdr(HEARTBEAT, hb, sender, target,
                                  magic=0x47C0), "both"),
        ("version-0", hdr(HEARTBEAT, hb, sender, target, version=0), "both"),
        ("version-1", hdr(HEARTBEAT, hb, sender, target, version=1), "both"),
        ("version-3", hdr(HEARTBEAT, hb, sender, target, version=3), "both"),
        ("version-255", hdr(HELLO, hello, sender, target, version=255),
         "both"),
        ("len-0", hdr(HEARTBEAT, hb, sender, target, length=0), "both"),
        ("len-8", hdr(HEARTBEAT, hb, sender, target, length=8), "both"),
        ("len-below-header", hdr(HEARTBEAT, hb, sender, target,
                                 length=HDR.size - 1), "both"),
        ("len-header-only-heartbeat", hdr(HEARTBEAT, b"", sender, target),
         "both"),
        ("len-max-frame-plus-1", hdr(HELLO, hello, sender, target,
                                     length=MAX_FRAME + 1), "both"),
        ("len-4GiB", hdr(HELLO, hello, sender, target, length=0xFFFFFFFF),
         "both"),
        ("len-2GiB", hdr(ROUTED, b"", sender, target, length=0x80000000),
         "both"),
        ("type-0", hdr(0, hb, sender, target), "both"),
        ("type-6", hdr(6, hb, sender, target), "both"),
        ("type-255", hdr(255, hb, sender, target), "both"),
        ("hello-over-udp", hdr(HELLO, hello, sender, target), "udp"),
        ("routed-over-udp", routed(sender, target, MSG, msg), "udp"),
        ("hello-truncated", hdr(HELLO, hello[:10], sender, target), "tcp"),
        ("hello-to-wrong-receiver", hdr(HELLO, hello, sender, target + 1),
         "tcp"),
        ("ack-before-hello", hdr(ACK, ACK_B.pack(5), sender, target), "tcp"),
        ("routed-before-hello", routed(sender, target, MSG, msg), "tcp"),
        ("routed-vc-len-65535", routed(sender, target, MSG, msg,
                                       vc_len=0xFFFF), "both"),
        ("routed-vc-len-257", routed(sender, target, MSG, msg,
                                     vc=[(i + 1, 1) for i in range(VC_MAX + 1)]),
         "both"),
        ("routed-vc-unsorted", routed(sender, target, MSG, msg,
                                      vc=((5, 1), (2, 1))), "both"),
        ("routed-vc-zero-id", routed(sender, target, MSG, msg,
                                     vc=((0, 1),)), "both"),
        ("routed-vc-duplicate-id", routed(sender, target, MSG, msg,
                                          vc=((3, 1), (3, 2))), "both"),
        ("routed-kind-0", routed(sender, target, 0, msg), "both"),
        ("routed-kind-9", routed(sender, target, 9, msg), "both"),
        ("routed-hops-255", routed(sender, target, MSG, msg, hops=255),
         "both"),
        ("routed-reserved-set", routed(sender, target, MSG, msg,
                                       reserved=0xFFFFFFFF), "both"),
        ("routed-msg-truncated", routed(sender, target, MSG, b"\0\0\0"),
         "both"),
        ("routed-msg-too-long", routed(sender, target, MSG,
                                       MSG_B.pack(7, 0) + b"y" * (MSG_MAX + 1)),
         "tcp"),
        ("routed-ping-truncated", routed(sender, target, PING, b"\0" * 9),
         "both"),
        ("routed-src-0", routed(sender, target, MSG, msg, src=0), "both"),
        ("lsa-n-neigh-huge", hdr(LSA, LSA_B.pack(sender, 0xFFFFFFFF, 1, 1,
                                                 b"x"), sender, target, seq=1),
         "both"),
        ("lsa-n-neigh-65", hdr(LSA, LSA_B.pack(sender, MAX_PEERS + 1, 1, 1,
                                               b"x") +
                               b"".join(struct.pack(">I", i + 1)
                                        for i in range(MAX_PEERS + 1)),
                               sender, target, seq=1), "both"),
        ("lsa-name-unterminated", hdr(LSA, LSA_B.pack(sender, 0, 1, 1,
                                                      b"A" * NAME_MAX),
                                      sender, target, seq=1), "both"),
        ("lsa-truncated", hdr(LSA, LSA_B.pack(sender, 2, 1, 1, b"x") +
                              struct.pack(">I", 5), sender, target, seq=1),
         "both"),
    ]
    return cases


def unknown(sender, target, peer):
    """Well-formed frames from a sender nobody configured."""
    cases = []
    for i in range(5):
        cases.append(("unknown-heartbeat-%d" % i,
                      hdr(HEARTBEAT, HB.pack(1000 + i), sender, target),
                      "udp"))
    cases.append(("unknown-hello", hdr(HELLO, HELLO_B.pack(1000, 0, 0, 1),
                                       sender, target), "tcp"))
    if peer is not None:
        cases.append(("impersonate-peer-hello",
                      hdr(HELLO, HELLO_B.pack(2000, 0, 0, 1), peer, target),
                      "tcp"))
    return cases


def send_udp(addr, port, data):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(data, (addr, port))
    finally:
        s.close()
    time.sleep(0.002)   # no burst that the node's socket buffer could drop


def send_tcp(addr, port, data, hold=0.3):
    """Returns "refused", "closed" (the node ended the connection) or
    "open" (still open when we gave up waiting)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        try:
            s.connect((addr, port))
        except OSError as e:
            if e.errno in (errno.ECONNREFUSED, errno.ECONNRESET,
                           errno.ETIMEDOUT, errno.EHOSTUNREACH):
                return "refused"
            raise
        try:
            s.sendall(data)
        except OSError as e:
            if e.errno in (errno.ECONNRESET, errno.EPIPE):
                return "closed"
            raise
        s.settimeout(hold)
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    return "closed"
        except socket.timeout:
            return "open"
        except OSError as e:
            if e.errno in (errno.ECONNRESET, errno.EPIPE):
                return "closed"
            raise
    finally:
        s.close()


def qmsg(payload, vc=((1, 1),), length=None, vc_len=None, prio=0,
         reserved=0):
    """One message of a PUB or DELIVER body."""
    return QMSG_B.pack(0, 0, 1, 0, 1, 0,
                       len(payload) if length is None else length,
                       len(vc) if vc_len is None else vc_len, prio,
                       reserved, 0) + \
        b"".join(VC.pack(i, c) for i, c in vc) + payload


def qframe(op, count, msgs, handle=1):
    """A QUEUE body: header (arg = message count), then the messages."""
    return Q_B.pack(op, bytes(3), 0, handle, count) + b"".join(msgs)


def queue_cases():
    """(name, body) batched queue frames every node must refuse, whether
    or not it knows the handle."""
    a, b = qmsg(b"a" * 10), qmsg(b"b" * 100)
    return [
        ("q-pub-count-0", qframe(WQ_PUB, 0, [a])),
        ("q-pub-count-0-empty", qframe(WQ_PUB, 0, [])),
        ("q-pub-count-above-msgs", qframe(WQ_PUB, 3, [a, b])),
        ("q-pub-count-below-msgs", qframe(WQ_PUB, 1, [a, b])),
        ("q-pub-count-huge", qframe(WQ_PUB, 1 << 40, [a, b])),
        ("q-pub-len-past-body", qframe(WQ_PUB, 2, [a, qmsg(b"b" * 50,
                                                           length=100)])),
        ("q-pub-len-short", qframe(WQ_PUB, 2, [qmsg(b"a" * 10, length=4),
                                               b])),
        ("q-pub-len-4GiB", qframe(WQ_PUB, 1,
                                  [qmsg(b"a", length=0xFFFFFFFF)])),
        ("q-pub-len-above-max", qframe(WQ_PUB, 1,
                                       [qmsg(b"y" * (MSG_MAX + 1))])),
        ("q-pub-trailing-bytes", qframe(WQ_PUB, 2, [a, b, b"\0" * 7])),
        ("q-pub-truncated-header", qframe(WQ_PUB, 2, [a, b[:20]])),
        ("q-pub-vc-len-257", qframe(WQ_PUB, 2,
                                    [a, qmsg(b"", vc_len=VC_MAX + 1)])),
        ("q-pub-prio-255", qframe(WQ_PUB, 2, [a, qmsg(b"p", prio=255)])),
        ("q-pub-reserved-set", qframe(WQ_PUB, 2, [
            a, qmsg(b"r", reserved=1)])),
        ("q-deliver-count-0", qframe(WQ_DELIVER, 0, [a])),
        ("q-deliver-lens-dont-add-up", qframe(WQ_DELIVER, 2,
                                              [a, qmsg(b"b" * 8, length=9)])),
    ]


def session_cases(me, target, other):
    """(name, frame builder) pairs: each gets the next sequence number."""
    msg = MSG_B.pack(7, 0) + b"x" * 8
    ping = PING_B.pack(1, 0, 0)

    def r(kind=MSG, body=msg, **kw):
        return lambda seq: routed(me, target, kind, body, seq=seq, **kw)

    def lsa(n, name=b"f", extra=b"", origin=me):
        return lambda seq: hdr(LSA, LSA_B.pack(origin, n, 1, 1, name) + extra,
                               me, target, seq=seq)
    return [
        ("vc-len-65535", r(vc_len=0xFFFF)),
        ("vc-len-257", r(vc=[(i + 1, 1) for i in range(VC_MAX + 1)])),
        ("vc-len-0-but-entries", r(vc_len=0, vc=((1, 1), (2, 1)))),
        ("vc-unsorted", r(vc=((5, 1), (2, 1)))),
        ("vc-zero-id", r(vc=((0, 1),))),
        ("vc-duplicate-id", r(vc=((3, 1), (3, 2)))),
        ("kind-0", r(kind=0)),
        ("kind-9", r(kind=9)),
        ("hops-255-to-other", r(hops=255, dst=other)),
        ("hops-32-to-other", r(hops=COHORT_MAX_HOPS, dst=other)),
        ("reserved-set", r(reserved=1)),
        ("src-0", r(src=0)),
        ("dst-0", r(dst=0)),
        ("msg-truncated", r(body=b"\0\0\0")),
        ("msg-too-long", r(body=MSG_B.pack(7, 0) + b"y" * (MSG_MAX + 1))),
        ("ping-truncated", r(kind=PING, body=ping[:9])),
        ("pong-truncated", r(kind=PONG, body=ping[:20])),
        ("len-shorter-than-vc", lambda seq: hdr(
            ROUTED, ROUTED_B.pack(me, target, 0, MSG, 4, 0, 1), me, target,
            seq=seq)),
        ("lsa-n-neigh-huge", lsa(0xFFFFFFFF)),
        ("lsa-n-neigh-65", lsa(MAX_PEERS + 1, extra=b"".join(
            struct.pack(">I", i + 1) for i in range(MAX_PEERS + 1)))),
        ("lsa-n-neigh-2-one-given", lsa(2, extra=struct.pack(">I", 5))),
        ("lsa-name-unterminated", lsa(0, name=b"A" * NAME_MAX)),
        ("lsa-origin-0", lsa(0, origin=0)),
        ("seq-0", lambda seq: routed(me, target, MSG, msg, seq=0)),
        ("seq-gap-1000", lambda seq: routed(me, target, MSG, msg,
                                            seq=seq + 1000)),
        ("ack-huge", lambda seq: hdr(ACK, ACK_B.pack(1 << 62), me, target)),
        ("hello-again-huge-rx", lambda seq: hdr(HELLO, HELLO_B.pack(
            INCARNATION, 0, 1 << 62, 1 << 62), me, target)),
        ("type-255", lambda seq: hdr(255, b"", me, target, seq=seq)),
        ("bad-version-in-session", lambda seq: hdr(ACK, ACK_B.pack(0), me,
                                                   target, version=2)),
        ("len-4GiB-in-session", lambda seq: hdr(ROUTED, b"", me, target,
                                                length=0xFFFFFFFF, seq=seq)),
    ] + [(name, r(kind=QUEUE, body=body)) for name, body in queue_cases()]


INCARNATION = int(time.time() * 1e9) & ((1 << 63) - 1)
COHORT_MAX_HOPS = 32


def read_frame(s, deadline):
    """One frame from the target, or None."""
    buf = b""
    need = HDR.size
    while len(buf) < need:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            b = s.recv(need - len(buf))
        except socket.timeout:
            return None
        except OSError:
            return None
        if not b:
            return None
        buf += b
        if len(buf) == HDR.size:
            magic, ver, ftype, length, snd, rcv, seq = HDR.unpack(buf)
            if magic != MAGIC or length < HDR.size or length > MAX_FRAME:
                return None
            need = length
    return buf


def run_session(a):
    import threading
    stop = threading.Event()
    me = a.session

    def heartbeats():
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        u.bind(("", a.port))
        while not stop.is_set():
            u.sendto(hdr(HEARTBEAT, HB.pack(INCARNATION), me, a.target),
                     (a.addr, a.port))
            stop.wait(0.05)
        u.close()

    t = threading.Thread(target=heartbeats, daemon=True)
    t.start()
    time.sleep(1)       # let the target hear us before we connect
    st = dict(sessions=0, cases=0, closed=0)
    try:
        for name, build in session_cases(me, a.target, a.other):
            if not name.startswith(a.cases):
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(3)
            try:
                try:
                    s.connect((a.addr, a.port))
                except OSError as e:
                    print("session %-26s connect: %s" % (name, e.strerror))
                    st["cases"] += 1
                    continue
                s.sendall(hdr(HELLO, HELLO_B.pack(INCARNATION, 0, 0, 1), me,
                              a.target))
                deadline = time.monotonic() + 3
                rx = None
                while True:
                    f = read_frame(s, deadline)
                    if f is None:
                        break
                    if HDR.unpack(f[:HDR.size])[2] == HELLO and \
                            len(f) >= HDR.size + HELLO_B.size:
                        rx = HELLO_B.unpack(f[HDR.size:HDR.size +
                                              HELLO_B.size])[2]
                        break
                if rx is None:
                    print("session %-26s no HELLO from the target" % name)
                    st["cases"] += 1
                    continue
                st["sessions"] += 1
                frame = build(rx + 1)
                try:
                    s.sendall(frame)
                    r = "open"
                    deadline = time.monotonic() + 0.3
                    while read_frame(s, deadline) is not None:
                        pass
                    s.settimeout(0.05)
                    try:
                        if s.recv(1) == b"":
                            r = "closed"
                    except socket.timeout:
                        pass
                    except OSError:
                        r = "closed"
                except OSError:
                    r = "closed"
                st["cases"] += 1
                st["closed"] += r == "closed"
                print("session %-26s %5d bytes: %s" % (name, len(frame), r))
            finally:
                s.close()
    finally:
        stop.set()
        t.join()
    print("summary " + " ".join("%s=%d" % kv for kv in st.items()))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("addr")
    ap.add_argument("--target", type=int, required=True)
    ap.add_argument("--port", type=int, default=6230)
    ap.add_argument("--sender", type=int, default=999)
    ap.add_argument("--peer", type=int)
    ap.add_argument("--proto", choices=("udp", "tcp", "both"), default="both")
    ap.add_argument("--session", type=int)
    ap.add_argument("--other", type=int, default=0,
                    help="--session: a node id behind the target")
    ap.add_argument("--cases", default="",
                    help="--session: only cases whose names start so")
    ap.add_argument("--set", dest="which", choices=("malformed", "unknown",
                                                     "all"), default="all")
    a = ap.parse_args()
    if a.session is not None:
        try:
            return run_session(a)
        except OSError as e:
            print("wirefuzz: %s" % e, file=sys.stderr)
            return 1

    cases = []
    if a.which in ("malformed", "all"):
        cases += [(n, d, p, True) for n, d, p in malformed(a.sender, a.target)]
    if a.which in ("unknown", "all"):
        cases += [(n, d, p, False) for n, d, p in
                  unknown(a.sender, a.target, a.peer)]

    st = dict(udp_sent=0, udp_must_drop=0, udp_unknown=0, tcp_conns=0,
              tcp_refused=0, tcp_closed=0)
    try:
        for name, data, proto, bad in cases:
            if proto in ("udp", "both") and a.proto in ("udp", "both"):
                send_udp(a.addr, a.port, data)
                st["udp_sent"] += 1
                st["udp_must_drop" if bad else "udp_unknown"] += 1
                print("udp %-28s %5d bytes" % (name, len(data)))
            if proto in ("tcp", "both") and a.proto in ("tcp", "both"):
                r = send_tcp(a.addr, a.port, data)
                st["tcp_conns"] += 1
                if r == "refused":
                    st["tcp_refused"] += 1
                elif r == "closed":
                    st["tcp_closed"] += 1
                print("tcp %-28s %5d bytes: %s" % (name, len(data), r))
        if a.proto in ("tcp", "both"):
            # Connections that say nothing, and one that stops mid-header:
            # they must not block the listener or the real links.
            idle = []
            for _ in range(16):
                try:
                    idle.append(socket.create_connection((a.addr, a.port),
                                                         timeout=3))
                except (ConnectionRefusedError, ConnectionResetError):
                    st["tcp_refused"] += 1
            try:
                if idle:
                    idle[0].sendall(hdr(HELLO, HELLO_B.pack(1, 0, 0, 1),
                                        a.sender, a.target)[:10])
            except OSError:
                pass
            time.sleep(1)
            for s in idle:
                s.close()
            st["tcp_conns"] += 16
            print("tcp %-28s %5d connections, %d accepted" %
                  ("idle-connections", 16, len(idle)))
    except OSError as e:
        print("wirefuzz: %s" % e, file=sys.stderr)
        return 1
    print("summary " + " ".join("%s=%d" % kv for kv in st.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
