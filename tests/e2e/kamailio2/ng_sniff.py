"""Records the NG traffic on a namespace's loopback: every UDP datagram to or from the given
ports, decoded, one JSON object per line (flushed at once), until SIGTERM or the deadline.
    ng_sniff.py OUT.jsonl SECONDS PORT [PORT...]
Each line: {"t": seconds, "src": source address, "from": port, "to": port, "cookie": str,
"msg": {...}} where msg
keeps the keys a test asserts on (command, call-id, from-tag, to-tag, supports, result,
error-reason, message), values as text. Run as root in the namespace (AF_PACKET socket)."""

import json
import signal
import socket
import struct
import sys
import time

from rtptest import bdecode

KEEP = ("command", "call-id", "from-tag", "to-tag", "supports", "result", "error-reason", "message")


def plain(v):
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v


def main(out, seconds, ports):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.bind(("lo", 0))
    s.settimeout(0.2)
    start = time.time()
    with open(out, "w", encoding="utf-8") as f:
        print("ready", file=f, flush=True)
        while not stop and time.time() - start < seconds:
            try:
                frame = s.recv(70000)
            except socket.timeout:
                continue
            # A packet socket on lo sees each datagram once (arriving; the leaving copy is
            # not delivered to it).
            if len(frame) < 14 + 20 + 8:
                continue
            ip = frame[14:]
            ihl = (ip[0] & 0x0F) * 4
            if ip[9] != 17:
                continue
            sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
            if sport not in ports and dport not in ports:
                continue
            payload = ip[ihl + 8:]
            cookie, _, body = payload.partition(b" ")
            try:
                msg = bdecode(body)[0]
            except (ValueError, IndexError):
                msg = {"undecodable": True}
            if isinstance(msg, dict):
                msg = {k: plain(v) for k, v in msg.items() if k in KEEP}
            rec = {"t": round(time.time() - start, 3), "src": socket.inet_ntoa(ip[12:16]), "from": sport, "to": dport,
                   "cookie": cookie.decode(errors="replace"), "msg": msg}
            print(json.dumps(rec), file=f, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), {int(p) for p in sys.argv[3:]})
