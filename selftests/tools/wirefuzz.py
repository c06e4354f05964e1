#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""wirefuzz: malformed and unauthorised cohort frames (kmod/wire.h, version 2)
sent from plain sockets to a node's UDP and TCP ports, for
transport_badinput.sh.

  wirefuzz.py ADDR --target ID [--port P] [--sender ID] [--peer ID]
              [--proto udp|tcp|both] [--set malformed|unknown|all]
  wirefuzz.py ADDR --target ID --session ID [--port P] [--cases PREFIX]
  wirefuzz.py ADDR --target ID --session ID --play-home [--port P]
              [--wait S]
  wirefuzz.py ADDR --target ID --session ID --stream N [--port P]

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
  --play-home   --session: be the home of the queues the target opens at
                our id. One session: our LSA (a link to the target), then
                the first OPEN is answered OPENED (a queue without acks),
                and DELIVER frames follow, good ones and ones the opener
                must refuse; after each, the CREDIT frames for the handle
                are summed for up to 5 s. Every frame of the target's is
                acknowledged. Waits up to --wait S (default 60) for the
                OPEN. Prints "home open NAME handle H role R ack A", then
                per case "home CASE count N credit C", then
                "summary opened=N cases=N credited=N" (cases whose credit
                equals their count). Exit 1 if no usable OPEN came.
  --stream N    --session: one session carrying N well-formed datagram
                frames to port 9 (which nobody binds): most of about the
                smallest length, each followed by an ACK frame, then some
                of up to 16 KiB. They are written in pieces of
                random sizes with pauses between, so that the target reads
                them cut anywhere, headers too. Prints "summary frames=N
                bytes=B closed=0|1" (1: the target closed the session).

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
WQ_OPEN, WQ_OPENED, WQ_CLOSE, WQ_PUB, WQ_PUBACK, WQ_DELIVER, WQ_CREDIT = \
    range(1, 8)
KIND_QUEUE = 1                           # enum cohort_queue_kind
ACK_NONE = 1                             # enum cohort_ack_mode
QR_CONSUME = 2
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
# kind flags role ack mode uid gid window name sub attr filter_mask value
QOPEN_B = struct.Struct(">8I%ds%ds96sII" % (NAME_MAX, NAME_MAX))
# flags max_msgs max_msg_size max_bytes ack_timeout_ms max_deliveries
# overflow reserved dlq
QATTR_B = struct.Struct(">8I%ds" % NAME_MAX)
# The largest frame: a routed queue message carrying two full vectors (a
# batch of smaller messages stays within the same body bound).
MAX_FRAME = (HDR.size + ROUTED_B.size + VC_MAX * VC.size + Q_B.size +
             QMSG_B.size + VC_MAX * VC.size + MSG_MAX)

assert HDR.size == 24 and ROUTED_B.size == 24 and LSA_B.size == 88
assert Q_B.size == 24 and QMSG_B.size == 56
assert QOPEN_B.size == 264 and QATTR_B.size == 96


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


def heartbeating(a):
    """Heartbeats as --session from our port P until the returned event
    is set; join the returned thread after setting it."""
    import threading
    stop = threading.Event()

    def heartbeats():
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        u.bind(("", a.port))
        while not stop.is_set():
            u.sendto(hdr(HEARTBEAT, HB.pack(INCARNATION), a.session,
                         a.target), (a.addr, a.port))
            stop.wait(0.05)
        u.close()

    t = threading.Thread(target=heartbeats, daemon=True)
    t.start()
    time.sleep(1)       # let the target hear us before we connect
    return stop, t


def hello_exchange(s, me, target):
    """Our HELLO, then the target's: what it says it last received from
    us (our next sequence number follows it), or None."""
    s.sendall(hdr(HELLO, HELLO_B.pack(INCARNATION, 0, 0, 1), me, target))
    deadline = time.monotonic() + 3
    while True:
        f = read_frame(s, deadline)
        if f is None:
            return None
        if HDR.unpack(f[:HDR.size])[2] == HELLO and \
                len(f) >= HDR.size + HELLO_B.size:
            return HELLO_B.unpack(f[HDR.size:HDR.size + HELLO_B.size])[2]


def run_session(a):
    me = a.session
    stop, t = heartbeating(a)
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
                rx = hello_exchange(s, me, a.target)
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


class Home:
    """A queue home over one session with the target: our frames get the
    next sequence numbers, the target's sequenced ones are acknowledged."""

    def __init__(self, s, me, target, rx):
        self.s, self.me, self.target = s, me, target
        self.tx = rx            # the last one the target has from us
        self.rx = 0
        self.clock = 0
        self.buf = b""          # what came of a frame not whole yet

    def frame(self, deadline):
        """The target's next frame, or None at @deadline or its end; a
        frame begun is kept for the next call."""
        while True:
            if len(self.buf) >= HDR.size:
                length = HDR.unpack(self.buf[:HDR.size])[3]
                if length < HDR.size or length > MAX_FRAME:
                    return None
                if len(self.buf) >= length:
                    f, self.buf = self.buf[:length], self.buf[length:]
                    return f
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                b = self.s.recv(65536)
            except (socket.timeout, OSError):
                return None
            if not b:
                return None
            self.buf += b

    def send(self, build):
        self.tx += 1
        self.s.sendall(build(self.tx))

    def send_q(self, body):
        """A routed QUEUE frame, stamped by our node clock."""
        self.clock += 1
        self.send(lambda seq: routed(self.me, self.target, QUEUE, body,
                                     vc=((self.me, self.clock),), seq=seq))

    def lsa(self):
        """Ours: a link to the target, so that it has a route to us."""
        body = LSA_B.pack(self.me, 1, INCARNATION, 1, b"home") + \
            struct.pack(">I", self.target)
        self.send(lambda seq: hdr(LSA, body, self.me, self.target, seq=seq))

    def queue_frames(self, deadline):
        """(op, handle, arg, status, body) of the QUEUE frames from the
        target until @deadline; the caller stops when it has enough."""
        while True:
            f = self.frame(deadline)
            if f is None:
                return
            _, _, ftype, _, _, _, seq = HDR.unpack(f[:HDR.size])
            if ftype not in (LSA, ROUTED) or not seq:
                continue
            self.rx = max(self.rx, seq)
            self.s.sendall(hdr(ACK, ACK_B.pack(self.rx), self.me,
                               self.target))
            if ftype != ROUTED or len(f) < HDR.size + ROUTED_B.size:
                continue
            src, dst, _, kind, vc_len, _, _ = ROUTED_B.unpack(
                f[HDR.size:HDR.size + ROUTED_B.size])
            off = HDR.size + ROUTED_B.size + vc_len * VC.size
            if kind != QUEUE or src != self.target or dst != self.me or \
                    len(f) < off + Q_B.size:
                continue
            op, _, status, handle, arg = Q_B.unpack(f[off:off + Q_B.size])
            yield op, handle, arg, status, f[off + Q_B.size:]


def home_msg(n, tag=0, vc=None):
    """A message of a DELIVER body whose payload qtool finds intact:
    producer id 70, sequence @n, then qtool's pattern."""
    sender = (70 << 32) | 1
    payload = struct.pack(">QQ", 70, n) + \
        bytes((70 * 13 + n * 7 + i) & 0xFF for i in range(16, 32))
    if vc is None:
        vc = ((sender, n),)
    return QMSG_B.pack(n, tag, sender, 0, n, 1, len(payload), len(vc), 0,
                       0, 0) + \
        b"".join(VC.pack(i, c) for i, c in vc) + payload


def home_cases():
    """(name, count, messages): DELIVER frames to a consumer without
    acks. Each passes the whole-body check; the "refused-" ones the
    opener must still refuse, and give the window slots back."""
    return [
        ("deliver-ok", 1, [home_msg(1)]),
        ("refused-tagged", 3, [home_msg(100 + i, tag=i + 1)
                               for i in range(3)]),
        ("refused-bad-stamp", 2, [home_msg(200),
                                  home_msg(201, vc=((5, 1), (2, 1)))]),
        ("deliver-ok-after", 1, [home_msg(2)]),
    ]


def session_end(s, stop, t, st):
    """Close @s, stop the heartbeats (heartbeating()) and print the
    summary of @st."""
    s.close()
    stop.set()
    t.join()
    print("summary " + " ".join("%s=%d" % kv for kv in st.items()))


def run_home(a):
    me = a.session
    stop, t = heartbeating(a)
    st = dict(opened=0, cases=0, credited=0)
    s = socket.create_connection((a.addr, a.port), timeout=3)
    try:
        rx = hello_exchange(s, me, a.target)
        if rx is None:
            print("home: no HELLO from the target")
            return 1
        h = Home(s, me, a.target, rx)
        h.lsa()
        handle = None
        for op, hd, arg, status, body in h.queue_frames(time.monotonic() +
                                                        a.wait):
            if op != WQ_OPEN or len(body) != QOPEN_B.size:
                continue
            o = QOPEN_B.unpack(body)
            kind, role, ack = o[0], o[2], o[3]
            name = o[8].split(b"\0")[0].decode(errors="replace")
            print("home open %s handle %d role %d ack %d" %
                  (name, hd, role, ack))
            if kind != KIND_QUEUE or role != QR_CONSUME or ack != ACK_NONE:
                print("home: not a consumer without acks of a queue")
                return 1
            attr = QATTR_B.pack(0, 1024, MSG_MAX, 1 << 20, 30000, 0, 1, 0,
                                b"")
            h.send_q(Q_B.pack(WQ_OPENED, bytes(3), 0, hd, KIND_QUEUE) + attr)
            handle = hd
            st["opened"] += 1
            break
        if handle is None:
            print("home: no OPEN within %d s" % a.wait)
            return 1
        for name, count, msgs in home_cases():
            h.send_q(qframe(WQ_DELIVER, count, msgs, handle=handle))
            credit = 0
            for op, hd, arg, status, body in h.queue_frames(
                    time.monotonic() + 5):
                if op == WQ_CREDIT and hd == handle:
                    credit += arg
                    if credit >= count:
                        break
            st["cases"] += 1
            st["credited"] += credit == count
            print("home %s count %d credit %d" % (name, count, credit))
            sys.stdout.flush()
    finally:
        session_end(s, stop, t, st)
    return 0


def stream_bytes(me, target, n, seq, rng):
    """@n routed MSG frames to port 9, sequenced from @seq on. All but the
    last 300 (or a tenth) are about as small as a frame gets, of 72 to 87
    bytes, each followed by an ACK frame of 32 (which acknowledges
    nothing): a read that ends anywhere in them ends inside a header
    about two times in five. Lengths vary, or the target's reads would end
    at the same place in each. Of the rest, a third are as small, a third
    carry up to a page, and a third the largest payload. Stamps have our
    entry alone: the target's node clock merges them for good."""
    small = max(n - 300, n * 9 // 10)
    ack = hdr(ACK, ACK_B.pack(0), me, target)
    out = []
    for i in range(n):
        k = 0 if i < small else i % 3
        size = (rng.randrange(16), rng.randrange(4097), MSG_MAX)[k]
        out.append(routed(me, target, MSG, MSG_B.pack(9, 1) + bytes(size),
                          vc=((me, i + 1),), seq=seq + i))
        if i < small:
            out.append(ack)
    return b"".join(out)


def run_stream(a):
    me = a.session
    rng = random.Random(a.stream)
    stop, t = heartbeating(a)
    st = dict(frames=0, bytes=0, closed=0)
    s = socket.create_connection((a.addr, a.port), timeout=3)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        rx = hello_exchange(s, me, a.target)
        if rx is None:
            print("stream: no HELLO from the target")
            return 1
        data = stream_bytes(me, a.target, a.stream, rx + 1, rng)
        st["frames"], st["bytes"] = a.stream, len(data)
        pieces = (1, 2, 23, 24, 25, 64, 1000, 4096, 9000, 30000)
        off = 0
        while off < len(data):
            k = rng.choice(pieces)
            s.sendall(data[off:off + k])
            off += k
            if rng.randrange(4) == 0:
                time.sleep(0.002)
        time.sleep(1)
        s.settimeout(0.5)
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    st["closed"] = 1
                    break
        except socket.timeout:
            pass
        except OSError:
            st["closed"] = 1
    finally:
        session_end(s, stop, t, st)
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
    ap.add_argument("--play-home", action="store_true",
                    help="--session: be the home of a queue the target opens")
    ap.add_argument("--wait", type=int, default=60,
                    help="--play-home: seconds to wait for the OPEN")
    ap.add_argument("--stream", type=int, default=0,
                    help="--session: send this many frames in pieces")
    ap.add_argument("--set", dest="which", choices=("malformed", "unknown",
                                                     "all"), default="all")
    a = ap.parse_args()
    if a.session is not None:
        try:
            if a.stream:
                return run_stream(a)
            return run_home(a) if a.play_home else run_session(a)
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
