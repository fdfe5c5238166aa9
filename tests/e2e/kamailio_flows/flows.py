"""Call flows through Kamailio and rtprelay, run inside the relay's namespace by
flows_test.sh. Each flow starts a SIPp callee (namespace B) and caller (namespace A) with
its own scenarios (*.xml here), reads the SIP messages each side received from SIPp's
message trace, checks the SDP the far side got, and sends media from the hosts' media
addresses to where that SDP points, through rtprelay.
    flows.py FLOW...        (late_offer hold video_off t38 ice_remove fork)"""

import json
import os
import re
import socket
import subprocess
import sys
import time

from rtptest import NgClient, call_drops, check, failures, rtp_packet, text, wait_for
from rtptest import drain_matching as drain
import rtptest

E = os.environ
HERE = E["SCENARIOS"]
TMP = E["TMPDIR_FLOWS"]
RTP_A, RTP_B, RTP_B2 = 30000, 40000, 40010  # the hosts' own media ports
ng = NgClient(port=int(E["NG_PORT"]))


# --- SIPp ---

class Sipp:
    """One SIPp process in a namespace; its message trace is parsed on demand."""

    def __init__(self, name, ns, args):
        self.name = name
        self.msg_file = os.path.join(TMP, name + "_msg.log")
        self.out_file = os.path.join(TMP, name + ".out")
        for f in (self.msg_file, self.out_file):
            if os.path.exists(f):
                os.unlink(f)
        cmd = ["ip", "netns", "exec", ns, "timeout", "90", "sipp"] + args + [
            "-m", "1", "-nostdin", "-timeout", "80s", "-trace_msg", "-message_file", self.msg_file,
            "-trace_err", "-error_file", os.path.join(TMP, name + "_errors.log")]
        self.out = open(self.out_file, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT, cwd=TMP)

    def messages(self, kind="received"):
        """The SIP messages SIPp sent or received, in order, with LF line ends."""
        try:
            with open(self.msg_file, encoding="utf-8", errors="replace") as f:
                data = f.read()
        except OSError:
            return []
        out = []
        for chunk in re.split(r"^-{20,}[^\n]*\n", data, flags=re.M):
            head, _, msg = chunk.partition("\n")
            if kind in head:
                out.append(msg.replace("\r\n", "\n").strip("\n") + "\n")
        return out

    def received(self, start):
        """Received messages whose first line starts with `start` ('INVITE', 'SIP/2.0 183'),
        retransmissions left out: on a loaded machine a 200 OK or an INVITE can come twice,
        and a test that counts messages must count each transaction's once."""
        out, seen = [], set()
        for m in self.messages():
            if not m.startswith(start):
                continue
            key = (m.split("\n", 1)[0], header(m, "Call-ID"), header(m, "CSeq"), header(m, "From"), header(m, "To"))
            if key not in seen:
                seen.add(key)
                out.append(m)
        return out

    def wait_received(self, start, count=1, timeout=30):
        wait_for(lambda: len(self.received(start)) >= count, timeout, step=0.1)
        got = self.received(start)
        return got if len(got) >= count else None

    def wait(self, timeout=60):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.out.close()
        return rc

    def tail(self):
        try:
            with open(self.out_file, encoding="utf-8", errors="replace") as f:
                return f.read()[-1500:]
        except OSError:
            return ""


def callee(name, scenario, *keys):
    args = ["-sf", os.path.join(HERE, scenario), "-i", E["SIP_B"], "-p", "5080",
            "-key", "rtp_addr", E["ADDR_B"], "-key", "rtp_port", str(RTP_B), "-key", "rtp_port2", str(RTP_B2)]
    for k, v in keys:
        args += ["-key", k, str(v)]
    s = Sipp(name + "_uas", E["NS_B"], args)
    time.sleep(0.5)
    return s


def caller(name, scenario, *keys, pause_ms=5000):
    args = ["-sf", os.path.join(HERE, scenario), E["SIP_PROXY_A"] + ":5060", "-i", E["SIP_A"], "-p", "5060",
            "-s", "callee", "-key", "callee", E["SIP_B"] + ":5080", "-key", "rtp_addr", E["ADDR_A"],
            "-key", "rtp_port", str(RTP_A), "-d", str(pause_ms)]
    for k, v in keys:
        args += ["-key", k, str(v)]
    return Sipp(name + "_uac", E["NS_A"], args)


def finish(name, uac, uas):
    rc_a = uac.wait()
    rc_b = uas.wait()
    if not check(rc_a == 0 and rc_b == 0, "%s: SIPp caller and callee completed their scenarios (%d, %d)" %
                 (name, rc_a, rc_b)):
        print(uac.tail())
        print(uas.tail())


# --- SIP/SDP ---

def body(msg):
    return msg.partition("\n\n")[2]


def header(msg, name):
    m = re.search(r"^%s:\s*(.*)$" % re.escape(name), msg, flags=re.M | re.I)
    return m.group(1).strip() if m else ""


def tag_of(hdr_value):
    m = re.search(r";tag=([^;>\s]+)", hdr_value)
    return m.group(1) if m else ""


def medias(sdp):
    """[(type, port, proto, conn address, attributes)] for each m= section."""
    out = []
    session_c = None
    cur = None
    for line in sdp.split("\n"):
        if line.startswith("m="):
            f = line[2:].split()
            cur = [f[0], int(f[1]), f[2], session_c, []]
            out.append(cur)
        elif line.startswith("c=IN IP4 "):
            if cur is None:
                session_c = line.split()[2]
            else:
                cur[3] = line.split()[2]
        elif line.startswith("a=") and cur is not None:
            cur[4].append(line[2:])
    return [tuple(m) for m in out]


def audio(sdp):
    for m in medias(sdp):
        if m[0] == "audio":
            return m
    return None


def direction(m):
    for a in m[4]:
        if a in ("sendrecv", "sendonly", "recvonly", "inactive"):
            return a
    return "sendrecv"


def relay_sdp(who, sdp, relay_addr, hidden_addr, hidden_ports):
    """The SDP `who` received names rtprelay, not the far host."""
    a = audio(sdp) or (medias(sdp) or [None])[0]
    ok = a is not None and a[3] == relay_addr and a[1] not in hidden_ports and hidden_addr not in sdp
    check(ok, "%s got rtprelay's %s in the SDP (%s), not the far host's address or port" %
          (who, relay_addr, a[3] + ":" + str(a[1]) if a else "no m= line"))
    return a


# --- media ---

def host_socket(ns, addr, port):
    return rtptest.host_socket(ns, addr, port, reuse=True)




def stream(n, ssrc, seed, rtp=True):
    if rtp:
        return [rtp_packet(ssrc, seed + i, 160 * i, bytes([(seed + i) & 0xFF]) * 160) for i in range(n)]
    # Opaque UDP (T.38 UDPTL): nothing RTP-like about it.
    return [b"\x00" + bytes([i & 0xFF]) + b"UDPTL-t38-%d-%d" % (seed, i) + bytes(40) for i in range(n)]


media_sent = 0  # every packet exchange() sent to the relay: relay_accounting() tells strays from it


def exchange(what, pairs, n=40, rtp=True, allow_loss=3):
    """pairs: [(label, src_sock, dst_sock, relay_endpoint)]. Sends n packets from each src to
    the relay endpoint it got in its SDP, interleaved, and counts per pair how many reached
    its dst from rtprelay, byte for byte (each pair's payloads are its own, so several may
    share a dst). With
    allow_loss set, checks each count (the first packets may wait for ARP at the relay)."""
    global media_sent
    payloads = [stream(n, 0xA000 + k, 1000 * (k + 1), rtp) for k in range(len(pairs))]
    for i in range(n):
        for k, (label, src, dst, to) in enumerate(pairs):
            src.sendto(payloads[k][i], to)
            media_sent += 1
        time.sleep(0.01)
    arrived = {}
    for label, src, dst, to in pairs:
        if id(dst) not in arrived:
            # Until 0.6 s pass without a packet: on a loaded machine the relay's worker and
            # the receiving namespace may run late.
            dst.settimeout(0.6)
            got = []
            while True:
                try:
                    data, src_addr = dst.recvfrom(4096)
                except socket.timeout:
                    break
                # The hosts reach each other only through rtprelay's media addresses.
                if src_addr[0] in (E["RELAY_A"], E["RELAY_B"]):
                    got.append(data)
            arrived[id(dst)] = got
    results = []
    for k, (label, src, dst, to) in enumerate(pairs):
        mine = set(payloads[k])
        got = sum(1 for d in arrived[id(dst)] if d in mine)
        results.append(got)
        if allow_loss is not None:
            check(got >= n - allow_loss, "%s: %s %d/%d arrived" % (what, label, got, n))
    return results


def query(call_id):
    q = ng.request({"command": "query", "call-id": call_id})
    return q if text(q.get("result")) == "ok" else None


def statistics():
    out = subprocess.run(["ip", "netns", "exec", E["NS_RELAY"], E["RTPRELAY_CTL"], "--ng",
                          "127.0.0.1:" + E["NG_PORT"], "--json", "statistics"],
                         capture_output=True, text=True, timeout=30)
    return json.loads(out.stdout)["statistics"]


def ports_used():
    st = statistics()
    return sum(a["ports used"] for i in st["interfaces"] for a in i["addresses"])


def check_released(name):
    ok = wait_for(lambda: statistics()["sessions"] == 0 and ports_used() == 0, 10, step=0.3)
    check(ok, "%s: after the BYE rtprelay has no session and no ports in use" % name)


def tags_of(q):
    return {text(k): v for k, v in (q or {}).get("tags", {}).items()}


# --- the flows ---

def late_offer():
    """INVITE without SDP: the callee offers in the 200 OK, the caller answers in the ACK.
    Kamailio calls rtpengine_offer on the 200 and rtpengine_answer on the ACK, so the
    offer's from-tag is the callee's (To) tag."""
    uas = callee("late", "uas_late.xml")
    uac = caller("late", "uac_late.xml")
    ok200 = uac.wait_received("SIP/2.0 200")
    ack = uas.wait_received("ACK")
    if not check(ok200 and ack and body(ack[0]), "late offer: caller got the 200 OK, callee got an ACK with SDP"):
        finish("late offer", uac, uas)
        return
    a_side = relay_sdp("late offer: caller (offer in the 200 OK)", body(ok200[0]), E["RELAY_A"], E["ADDR_B"], [RTP_B])
    b_side = relay_sdp("late offer: callee (answer in the ACK)", body(ack[0]), E["RELAY_B"], E["ADDR_A"], [RTP_A])
    call_id = header(ok200[0], "Call-ID")
    q = query(call_id)
    tags = tags_of(q)
    from_tag = tag_of(header(ok200[0], "From"))
    to_tag = tag_of(header(ok200[0], "To"))
    check(set(tags) == {from_tag, to_tag},
          "late offer: rtprelay's call has the caller's and the callee's tags (%s)" % sorted(tags))
    check(text(tags.get(to_tag, {}).get("interface", b"")) == "b" and
          text(tags.get(from_tag, {}).get("interface", b"")) == "a",
          "late offer: the callee's tag is on interface b, the caller's on a")
    a = host_socket(E["NS_A"], E["ADDR_A"], RTP_A)
    b = host_socket(E["NS_B"], E["ADDR_B"], RTP_B)
    exchange("late offer", [("caller -> callee", a, b, (a_side[3], a_side[1])),
                            ("callee -> caller", b, a, (b_side[3], b_side[1]))])
    a.close()
    b.close()
    finish("late offer", uac, uas)
    check_released("late offer")


def hold():
    """re-INVITEs from the caller: a=sendonly (hold), a=inactive, a=sendrecv (resume). The
    callee sees each direction, both sides keep rtprelay's address and ports throughout,
    and media flows before the hold, one way during it, and both ways after the resume."""
    uas = callee("hold", "uas_hold.xml")
    uac = caller("hold", "uac_hold.xml", pause_ms=4000)
    a = host_socket(E["NS_A"], E["ADDR_A"], RTP_A)
    b = host_socket(E["NS_B"], E["ADDR_B"], RTP_B)
    want = [("sendrecv", "sendrecv"), ("sendonly", "recvonly"), ("inactive", "inactive"), ("sendrecv", "sendrecv")]
    first = None
    try:
        for step, (offered, answered) in enumerate(want, 1):
            invites = uas.wait_received("INVITE", step)
            oks = uac.wait_received("SIP/2.0 200", step)
            acks = uas.wait_received("ACK", step)
            if not check(invites and oks and acks, "hold: step %d (%s) signalled end to end" % (step, offered)):
                return
            b_side = audio(body(invites[step - 1]))
            a_side = audio(body(oks[step - 1]))
            if step == 1:
                relay_sdp("hold: callee", body(invites[0]), E["RELAY_B"], E["ADDR_A"], [RTP_A])
                relay_sdp("hold: caller", body(oks[0]), E["RELAY_A"], E["ADDR_B"], [RTP_B])
                first = (b_side[3], b_side[1], a_side[3], a_side[1])
            check(direction(b_side) == offered and direction(a_side) == answered,
                  "hold: step %d: callee got a=%s, caller got a=%s (want %s/%s)" %
                  (step, direction(b_side), direction(a_side), offered, answered))
            check((b_side[3], b_side[1], a_side[3], a_side[1]) == first,
                  "hold: step %d: rtprelay's addresses and ports unchanged (%s:%d / %s:%d)" %
                  (step, b_side[3], b_side[1], a_side[3], a_side[1]))
            to_b = ("caller -> callee", a, b, (a_side[3], a_side[1]))
            to_a = ("callee -> caller", b, a, (b_side[3], b_side[1]))
            if step in (1, 4):
                exchange("hold: step %d (%s)" % (step, offered), [to_b, to_a])
            elif step == 2:
                exchange("hold: on hold (sendonly), music on hold", [to_b])
        check(ports_used() == 2, "hold: the call still holds one port pair per leg (%d)" % ports_used())
    finally:
        a.close()
        b.close()
        finish("hold", uac, uas)
    check_released("hold")


def video_off():
    """Audio plus a disabled (port 0) video stream: the video line reaches each side still
    at port 0, and rtprelay allocates ports for the audio only."""
    uas = callee("video", "uas_video.xml")
    uac = caller("video", "uac_video.xml", pause_ms=4000)
    invite = uas.wait_received("INVITE")
    ok200 = uac.wait_received("SIP/2.0 200")
    ack = uas.wait_received("ACK")
    if not check(invite and ok200 and ack, "video off: call signalled end to end"):
        finish("video off", uac, uas)
        return
    for who, msg, relay, hidden, port in (("callee", invite[0], E["RELAY_B"], E["ADDR_A"], RTP_A),
                                           ("caller", ok200[0], E["RELAY_A"], E["ADDR_B"], RTP_B)):
        ms = medias(body(msg))
        relay_sdp("video off: " + who, body(msg), relay, hidden, [port])
        check([(m[0], m[1] if m[0] == "video" else None) for m in ms] == [("audio", None), ("video", 0)],
              "video off: %s got audio and m=video 0 (%s)" % (who, [(m[0], m[1]) for m in ms]))
    used = ports_used()
    check(used == 2, "video off: rtprelay holds 2 port pairs (audio on each leg), none for video (%d)" % used)
    q = query(header(ok200[0], "Call-ID"))
    streams = {}
    for tag, t in tags_of(q).items():
        for m in t.get("medias", []):
            streams.setdefault(text(m.get("type")), 0)
            streams[text(m.get("type"))] += len(m.get("streams", []))
    check(streams.get("video", 0) == 0 and streams.get("audio", 0) > 0,
          "video off: rtprelay's query shows streams for audio only (%s)" % streams)
    a = host_socket(E["NS_A"], E["ADDR_A"], RTP_A)
    b = host_socket(E["NS_B"], E["ADDR_B"], RTP_B)
    b_side = audio(body(invite[0]))
    a_side = audio(body(ok200[0]))
    exchange("video off: audio", [("caller -> callee", a, b, (a_side[3], a_side[1])),
                                  ("callee -> caller", b, a, (b_side[3], b_side[1]))])
    a.close()
    b.close()
    finish("video off", uac, uas)
    check_released("video off")


def ice_remove():
    """ICE=remove (the example route's flag): neither side sees the other's candidates,
    ufrag, pwd, options or end-of-candidates; media flows through rtprelay."""
    uas = callee("ice", "uas_ice.xml", ("rtcp_port", RTP_B + 1))
    uac = caller("ice", "uac_ice.xml", ("rtcp_port", RTP_A + 1), pause_ms=4000)
    invite = uas.wait_received("INVITE")
    ok200 = uac.wait_received("SIP/2.0 200")
    ack = uas.wait_received("ACK")
    if not check(invite and ok200 and ack, "ICE: call signalled end to end"):
        finish("ICE", uac, uas)
        return
    ice = re.compile(r"^a=(candidate|ice-|end-of-candidates|remote-candidates)", re.M)
    for who, msg, relay, hidden, port in (("callee", invite[0], E["RELAY_B"], E["ADDR_A"], RTP_A),
                                           ("caller", ok200[0], E["RELAY_A"], E["ADDR_B"], RTP_B)):
        sdp = body(msg)
        relay_sdp("ICE: " + who, sdp, relay, hidden, [port])
        left = ice.findall(sdp)
        check(not left, "ICE: %s got no ICE attributes (left: %s)" % (who, left))
        check("192.0.2.77" not in sdp, "ICE: %s did not get the srflx address" % who)
        check(re.search(r"^a=rtpmap:0 PCMU/8000$", sdp, re.M) is not None,
              "ICE: %s still got the codecs" % who)
    a = host_socket(E["NS_A"], E["ADDR_A"], RTP_A)
    b = host_socket(E["NS_B"], E["ADDR_B"], RTP_B)
    b_side = audio(body(invite[0]))
    a_side = audio(body(ok200[0]))
    exchange("ICE: media", [("caller -> callee", a, b, (a_side[3], a_side[1])),
                            ("callee -> caller", b, a, (b_side[3], b_side[1]))])
    a.close()
    b.close()
    finish("ICE", uac, uas)
    check_released("ICE")


def t38():
    """An audio call that the callee (a fax) re-INVITEs to T.38 (m=image udptl t38): both
    sides see rtprelay's address and the audio's ports on the image line, the T.38
    attributes pass, and UDPTL datagrams (not RTP) cross the relay byte for byte."""
    T38_A, T38_B = 30100, 40100
    uas = callee("t38", "uas_t38.xml", ("t38_port", T38_B))
    uac = caller("t38", "uac_t38.xml", ("t38_port", T38_A), pause_ms=4000)
    invite = uas.wait_received("INVITE")
    ok200 = uac.wait_received("SIP/2.0 200")
    if not check(invite and ok200, "T.38: audio call signalled"):
        finish("T.38", uac, uas)
        return
    b_audio = relay_sdp("T.38: callee (audio)", body(invite[0]), E["RELAY_B"], E["ADDR_A"], [RTP_A])
    a_audio = relay_sdp("T.38: caller (audio)", body(ok200[0]), E["RELAY_A"], E["ADDR_B"], [RTP_B])
    reinvite = uac.wait_received("INVITE")
    ok_t38 = uas.wait_received("SIP/2.0 200")
    ack = uac.wait_received("ACK")
    if not check(reinvite and ok_t38 and ack, "T.38: the callee's re-INVITE signalled end to end"):
        finish("T.38", uac, uas)
        return
    a_img = medias(body(reinvite[0]))
    b_img = medias(body(ok_t38[0]))
    for who, ms, relay, port, hidden in (("caller (re-INVITE)", a_img, E["RELAY_A"], a_audio[1], E["ADDR_B"]),
                                         ("callee (200 OK)", b_img, E["RELAY_B"], b_audio[1], E["ADDR_A"])):
        m = ms[0] if ms else None
        check(m is not None and m[0] == "image" and m[2] == "udptl" and m[3] == relay and m[1] == port,
              "T.38: %s got m=image %s udptl at rtprelay's %s, the audio's port kept (%s)" %
              (who, port, relay, m and (m[0], m[1], m[2], m[3])))
        check(m is not None and "T38FaxVersion:0" in m[4] and "T38FaxUdpEC:t38UDPRedundancy" in m[4],
              "T.38: %s got the T.38 attributes" % who)
    check(E["ADDR_B"] not in body(reinvite[0]) and E["ADDR_A"] not in body(ok_t38[0]),
          "T.38: neither host's address leaked")
    q = query(header(ok200[0], "Call-ID"))
    protos = sorted(text(m.get("protocol")) for t in tags_of(q).values() for m in t.get("medias", []))
    check(protos == ["udptl", "udptl"], "T.38: rtprelay's query shows udptl on both legs (%s)" % protos)
    a = host_socket(E["NS_A"], E["ADDR_A"], T38_A)
    b = host_socket(E["NS_B"], E["ADDR_B"], T38_B)
    if a_img and b_img:
        exchange("T.38: UDPTL", [("caller -> callee", a, b, (a_img[0][3], a_img[0][1])),
                                 ("callee -> caller", b, a, (b_img[0][3], b_img[0][1]))], rtp=False)
    a.close()
    b.close()
    finish("T.38", uac, uas)
    check_released("T.38")


def fork():
    """Forking downstream of Kamailio: two branches send 183 with SDP (their own to-tags and
    media ports), branch 2 wins with a 200 OK. During early media both branches' media
    reaches the caller and the caller's reaches the last branch that answered; after the
    200 only the winner gets it. rtprelay keeps a leg per to-tag; the caller sees one
    address and port throughout; the BYE frees everything."""
    uas = callee("fork", "uas_fork.xml")
    uac = caller("fork", "uac_fork.xml", pause_ms=6000)
    invite = uas.wait_received("INVITE")
    early = uac.wait_received("SIP/2.0 183", 2)
    if not check(invite and early, "fork: caller got two 183s with SDP"):
        finish("fork", uac, uas)
        return
    b_side = relay_sdp("fork: callee", body(invite[0]), E["RELAY_B"], E["ADDR_A"], [RTP_A])
    t1, t2 = (tag_of(header(m, "To")) for m in early)
    check(t1 and t2 and t1 != t2, "fork: the two 183s carry different to-tags (%s, %s)" % (t1, t2))
    a_sides = [relay_sdp("fork: caller (183 from branch %d)" % (i + 1), body(m), E["RELAY_A"], E["ADDR_B"],
                         [RTP_B, RTP_B2]) for i, m in enumerate(early)]
    check(a_sides[0][1] == a_sides[1][1], "fork: the caller got the same rtprelay port from both branches")
    call_id = header(invite[0], "Call-ID")
    wait_for(lambda: len(tags_of(query(call_id))) == 3, 3, step=0.1)
    tags = tags_of(query(call_id))
    check(len(tags) == 3 and t1 in tags and t2 in tags,
          "fork: rtprelay has a leg per to-tag (%s)" % sorted(tags))
    a = host_socket(E["NS_A"], E["ADDR_A"], RTP_A)
    b1 = host_socket(E["NS_B"], E["ADDR_B"], RTP_B)
    b2 = host_socket(E["NS_B"], E["ADDR_B"], RTP_B2)
    try:
        to_relay_b = (b_side[3], b_side[1])
        to_relay_a = (a_sides[1][3], a_sides[1][1])
        exchange("fork: early media", [("branch 1 -> caller", b1, a, to_relay_b),
                                       ("branch 2 -> caller", b2, a, to_relay_b)])
        q = query(call_id)
        shared = tags_of(q).get(t2, {}).get("medias", [{}])[0].get("streams", [{}])[0].get("stats", {})
        check(shared.get("packets", 0) >= 2 * 37,
              "fork: rtprelay counted both branches' early media on the shared port (%d packets)" %
              shared.get("packets", 0))
        got = exchange("fork: early media", [("caller -> branches", a, b2, to_relay_a)], allow_loss=None)
        stray = drain(b1, None, set(stream(40, 0xA000, 1000)))
        check(got[0] >= 37 and stray == 0,
              "fork: early media from the caller reached branch 2 (last to answer): %d/40, branch 1: %d" %
              (got[0], stray))
        ok200 = uac.wait_received("SIP/2.0 200")
        acks = uas.wait_received("ACK")
        if not check(ok200 and acks, "fork: branch 2's 200 OK and the ACK went through"):
            return
        check(tag_of(header(ok200[0], "To")) == t2, "fork: the 200 OK is branch 2's")
        final = relay_sdp("fork: caller (200 OK)", body(ok200[0]), E["RELAY_A"], E["ADDR_B"], [RTP_B, RTP_B2])
        check(final[1] == a_sides[0][1], "fork: the 200 OK names the same rtprelay port as the 183s")
        exchange("fork: answered", [("winner -> caller", b2, a, to_relay_b),
                                    ("caller -> winner", a, b2, to_relay_a)])
        q = query(call_id)
        caller_tag = tag_of(header(invite[0], "From"))
        peer = text(tags_of(q).get(caller_tag, {}).get("in dialogue with", b""))
        check(peer == t2, "fork: the caller's leg is in dialogue with the winner (%s)" % peer)
        got1 = drain(b1, None, set(stream(40, 0xA001, 2000)))
        check(got1 == 0, "fork: the loser got none of the caller's media after the 200 (%d)" % got1)
        # Kamailio never sees the loser end (the fork is downstream): its leg goes with the
        # call at the BYE, or earlier by an NG delete naming its to-tag, which must leave
        # the winner's media alone.
        d = ng.request({"command": "delete", "call-id": call_id,
                        "from-tag": tag_of(header(invite[0], "From")), "to-tag": t1})
        left = tags_of(query(call_id))
        check(text(d.get("result")) == "ok" and len(left) == 2 and t1 not in left and t2 in left,
              "fork: NG delete with the loser's to-tag released only its leg (%s)" % sorted(left))
        exchange("fork: after the loser's delete", [("winner -> caller", b2, a, to_relay_b),
                                                    ("caller -> winner", a, b2, to_relay_a)])
    finally:
        a.close()
        b1.close()
        b2.close()
        finish("fork", uac, uas)
    check_released("fork")


FLOWS = {
    "late_offer": late_offer,
    "hold": hold,
    "video_off": video_off,
    "t38": t38,
    "ice_remove": ice_remove,
    "fork": fork,
}


def relay_accounting():
    """The relay's own counters over every flow: each packet received was relayed or dropped
    for a reason, and the only drops are first packets waiting for ARP."""
    def balanced():
        dp = statistics()["dataplane"]
        return dp["rx packets"] == (dp["relayed rtp"] + dp["relayed rtcp"] + dp["dropped"] + dp["arp"] +
                                    dp["icmp echo replies"])
    wait_for(balanced, 5, step=0.3)
    dp = statistics()["dataplane"]
    check(balanced(), "relay counters: received %d = relayed %d + %d + dropped %d + ARP %d" %
          (dp["rx packets"], dp["relayed rtp"], dp["relayed rtcp"], dp["dropped"], dp["arp"]))
    # Frames the relay received that no flow sent: not_for_us may only be those.
    strays = dp["rx packets"] - dp["arp"] - dp["icmp echo replies"] - media_sent
    others = {k: v for k, v in call_drops(dp["drops"], strays).items() if k != "no_neighbour"}
    check(not others, "relay counters: no drops but first packets waiting for ARP (%s; %d frames not the flows')"
          % (others, strays))


def main(names):
    for name in names:
        if name not in FLOWS:
            check(False, "unknown flow %s" % name)
            continue
        print("---- %s ----" % name)
        before = len(failures)
        try:
            FLOWS[name]()
        except Exception as e:  # a broken flow must not stop the others
            check(False, "%s raised %r" % (name, e))
        print("---- %s: %s" % (name, "ok" if len(failures) == before else "FAILED"))
    relay_accounting()


if __name__ == "__main__":
    main(sys.argv[1:])
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all flows passed")
