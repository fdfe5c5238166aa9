"""Steady RTP both ways through the relay, for tests that do something to the relay while
calls flow (signals, link down/up): a sender thread sends one packet per stream every
`period` seconds, a receiver thread records what arrives, and each stream can say which
sequence numbers were lost. Packets carry their sequence number in the payload, so an
altered packet is told apart from a lost one."""

import select
import socket
import threading
import time

from rtptest import rtp_packet, socket_in_netns


def host_socket(ns, addr, port):
    s = socket_in_netns(ns)
    s.bind((addr, port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    return s


class Stream:
    """One direction of one call: `tx` sends to the relay at `dst`, `rx` receives."""

    def __init__(self, name, ssrc, tx, rx, dst):
        self.name, self.ssrc, self.tx, self.rx, self.dst = name, ssrc, tx, rx, dst
        self.sent = {}        # seq -> packet
        self.sent_at = {}     # seq -> time.monotonic() of sending
        self.received = {}    # seq -> packet
        self.bad = 0          # packets that arrived altered
        self.seq = 0
        self.on = False

    def send_one(self):
        pkt = rtp_packet(self.ssrc, self.seq, self.seq * 80, self.seq.to_bytes(4, "big") * 20)
        self.sent[self.seq] = pkt
        self.sent_at[self.seq] = time.monotonic()
        self.tx.sendto(pkt, self.dst)
        self.seq += 1

    def lost_since_first(self):
        """Lost packets sent after the first that arrived: the first ones of a call may wait
        for ARP (counted as no_neighbour drops); once a stream flows, nothing may be lost."""
        if not self.received:
            return sorted(self.sent)
        first = min(self.received)
        return [seq for seq in sorted(self.sent) if seq > first and seq not in self.received]

    def longest_gap(self, sent_after=None, sent_before=None):
        """The longest time, by send time, between two packets in a row that arrived (sent
        within the time window, when given): how long a failover kept the stream away.
        99 s when fewer than two arrived."""
        times = sorted(t for t in (self.sent_at[q] for q in self.received)
                       if (sent_after is None or t >= sent_after) and (sent_before is None or t <= sent_before))
        return max((b - a for a, b in zip(times, times[1:])), default=99.0)

    def lost(self, sent_after=None, sent_before=None):
        """Sequence numbers sent (within the time window, when given) that never arrived."""
        out = []
        for seq in sorted(self.sent):
            t = self.sent_at[seq]
            if (sent_after is not None and t < sent_after) or (sent_before is not None and t > sent_before):
                continue
            if seq not in self.received:
                out.append(seq)
        return out


class Media:
    def __init__(self, period=0.01):
        self.period = period
        self.streams = []
        self._stop = threading.Event()
        self._drained = threading.Event()
        self._sender = threading.Thread(target=self._send, daemon=True)
        self._receiver = threading.Thread(target=self._receive, daemon=True)

    def start(self):
        """Call once every stream is in `streams` (their `on` flags may change later)."""
        self._sender.start()
        self._receiver.start()

    def _send(self):
        next_at = time.monotonic()
        while not self._stop.is_set():
            for s in self.streams:
                if s.on:
                    try:
                        s.send_one()
                    except OSError:
                        pass  # e.g. no route while a link is down: counted as lost
            next_at += self.period
            time.sleep(max(0.0, next_at - time.monotonic()))

    def _receive(self):
        by_sock = {s.rx: s for s in self.streams}
        while not self._drained.is_set():
            ready, _, _ = select.select(list(by_sock), [], [], 0.1)
            for sock in ready:
                data = sock.recv(4096)
                s = by_sock[sock]
                seq = int.from_bytes(data[2:4], "big")
                if s.sent.get(seq) == data:
                    s.received[seq] = data
                else:
                    s.bad += 1

    def stop(self, settle=0.5):
        """Stops sending, gives the last packets `settle` seconds to arrive, stops receiving."""
        for s in self.streams:
            s.on = False
        self._stop.set()
        self._sender.join(2)
        time.sleep(settle)
        self._drained.set()
        self._receiver.join(2)
