"""Trunk CPS through Kamailio (WITH_CPS_LIMIT): a burst of new INVITEs from one trunk
within a fraction of a second; past the first per second, Kamailio must answer
"503 CPS limit exceeded" without involving rtprelay. Runs in the caller's namespace.
    cps_burst.py PROXY_IP LOCAL_IP TARGET_HOST:PORT"""

import random
import socket
import sys
import time


def invite(local, port, proxy, target, i):
    call_id = "cps-%d-%d@%s" % (random.getrandbits(32), i, local)
    branch = "z9hG4bK-cps-%d-%d" % (random.getrandbits(32), i)
    return ("INVITE sip:cps@%s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=%s\r\n"
            "From: <sip:trunk@%s>;tag=cps%d\r\n"
            "To: <sip:cps@%s>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:trunk@%s:%d>\r\n"
            "Max-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n") % (target, local, port, branch, local, i, target, call_id,
                                             local, port)


def main(proxy, local, target, n=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((local, 0))
    port = s.getsockname()[1]
    s.settimeout(0.2)
    for i in range(n):
        s.sendto(invite(local, port, proxy, target, i).encode(), (proxy, 5060))
    status = {}
    end = time.time() + 2.0
    while time.time() < end:
        try:
            data = s.recv(65536).decode(errors="replace")
        except socket.timeout:
            continue
        first = data.split("\r\n", 1)[0]
        cid = [l for l in data.split("\r\n") if l.lower().startswith("call-id:")]
        if cid:
            status.setdefault(cid[0], []).append(first)
    limited = sum(1 for v in status.values() if "SIP/2.0 503 CPS limit exceeded" in v)
    trying = sum(1 for v in status.values() if any(x.startswith("SIP/2.0 100") for x in v))
    print("   %d INVITEs in a burst: %d refused with 503 CPS limit exceeded, %d let through (100 Trying)" %
          (n, limited, trying))
    # TAILDROP at 1/s: one passes per 1 s interval, two if the burst straddles a tick.
    ok = limited >= n - 2 and 1 <= trying <= 2 and limited + trying == n
    print(("ok   " if ok else "FAIL ") + "trunk CPS limit: the burst past 1 call/s got 503")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3]))
