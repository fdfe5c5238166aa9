"""Call recording end to end through the real rtprelay (run_e2e.sh with RECORDING=1 and
interface b recording from the answer): what the relay relays is what the pcap holds, read
by tshark; the WAV's length and tones, read by Python's wave module and a Goertzel filter;
from ringing vs from answer, pause/resume, stop recording, hostile file names, IPv6 calls
(v6 <-> v6 and bridged v4 <-> v6).
Runs inside the relay's namespace."""

import os
import shutil
import stat
import subprocess
import tempfile
import time

from rtptest import NgClient, check, drain, host_socket, new_key, ping, run_checks, text, wait_for
from rtptest import audio_sdp as sdp, parse_audio_sdp as parse
from recording_check import (RtpSender, dominant, pcap_rtp, silent_runs, tone_file, wait_done,
                             wav_channels)

E = os.environ
PEER = os.path.join(E["BUILD_DIR"], "tests", "srtp_peer")
CTL = os.path.join(E["BUILD_DIR"], "relay", "ctl", "rtprelay-ctl")
REC = E["RECORDING_DIR"]
NS_A, NS_B, IP_A, IP_B = E["NS_A"], E["NS_B"], E["ADDR_A"], E["ADDR_B"]
TMP = tempfile.mkdtemp(prefix="rtprelay-rec-tones.")
A440 = tone_file(os.path.join(TMP, "a440.ul"), 440, 4)
B1000 = tone_file(os.path.join(TMP, "b1000.ul"), 1000, 4)
_port = [34000]


def next_port():
    _port[0] += 2
    return _port[0]


def stream_stats(q, tag):
    """Relayed packets of `tag`'s RTP stream, from a query reply."""
    return q["tags"][tag]["medias"][0]["streams"][0]["stats"]["packets"]


def settled(ng, call_id, timeout=5.0):
    """Waits until the relay has taken every packet sent to the call so far: the packets of
    all its streams (every leg, tagged or not yet) agree in two queries 100 ms apart (at most
    `timeout` s). A packet sent before an NG command may otherwise reach the worker after it
    on a loaded host."""
    last = [-1]

    def still():
        q = ng.request({"command": "query", "call-id": call_id})
        n = sum(s.get("stats", {}).get("packets", 0) for t in q.get("tags", {}).values()
                for m in t.get("medias", []) for s in m.get("streams", []))
        done = n == last[0]
        last[0] = n
        return done
    return wait_for(still, timeout, step=0.1)


def plain_call(ng, call_id, pa, pb, **offer_keys):
    """A plain RTP call A -> B; returns (relay port facing A, relay port facing B, answer time)."""
    o = ng.request(dict({"command": "offer", "call-id": call_id, "from-tag": "A-" + call_id, "sdp": sdp(IP_A, pa),
                         "direction": ["a", "b"]}, **offer_keys))
    check(text(o.get("result")) == "ok", "%s: offer ok (%s)" % (call_id, o.get("error-reason")))
    to_b = parse(o["sdp"])
    return o, to_b


def answer(ng, call_id, pb, **keys):
    a = ng.request(dict({"command": "answer", "call-id": call_id, "from-tag": "A-" + call_id,
                         "to-tag": "B-" + call_id, "sdp": sdp(IP_B, pb)}, **keys))
    t = time.time()
    check(text(a.get("result")) == "ok", "%s: answer ok" % call_id)
    return parse(a["sdp"]), t


def delete(ng, call_id):
    d = ng.request({"command": "delete", "call-id": call_id})
    t = time.time()
    check(text(d.get("result")) == "ok", "%s: delete ok" % call_id)
    return t


def srtp_vs_plain_from_answer(ng):
    """SRTP A <-> RTP B, recorded from the answer (interface b's policy)."""
    pa, pb, ka = next_port(), next_port(), new_key()
    o = ng.request({"command": "offer", "call-id": "rec-srtp", "from-tag": "A-rec-srtp", "direction": ["a", "b"],
                    "sdp": sdp(IP_A, pa, "RTP/SAVP", ["1 AES_CM_128_HMAC_SHA1_80 inline:" + ka]),
                    "transport-protocol": "RTP/AVP"})
    to_b = parse(o["sdp"])
    q = ng.request({"command": "query", "call-id": "rec-srtp"})
    check(text(q.get("recording", {}).get("state", b"")) == "pending", "from-answer: nothing recorded at the offer")
    to_a, t_ans = answer(ng, "rec-srtp", pb)
    q = ng.request({"command": "query", "call-id": "rec-srtp"})
    check(text(q["recording"]["state"]) == "recording", "from-answer: recording at the answer")
    sb = host_socket(NS_B, IP_B, pb)
    a_send = subprocess.Popen([PEER, "send", "--ns", NS_A, "--bind", "%s:%d" % (IP_A, pa),
                               "--to", "%s:%d" % (to_a["addr"], to_a["port"]), "--key", ka,
                               "--suite", "AES_CM_128_HMAC_SHA1_80", "--ssrc", "4660", "--seq", "2000",
                               "--count", "150", "--interval-us", "20000",
                               "--payload-file", os.path.join(TMP, "a440.ul")])
    b_send = RtpSender(sb, (to_b["addr"], to_b["port"]), B1000[:160 * 150], 0x2222)
    b_send.start()
    a_send.wait(timeout=30)
    b_send.join()
    time.sleep(0.3)
    drain(sb)
    q = ng.request({"command": "query", "call-id": "rec-srtp"})
    relayed_a, relayed_b = stream_stats(q, "A-rec-srtp"), stream_stats(q, "B-rec-srtp")
    check(relayed_a >= 140 and relayed_b >= 140, "most of 150+150 packets relayed (%d, %d)" % (relayed_a, relayed_b))
    t_del = delete(ng, "rec-srtp")
    sb.close()
    files = wait_done(REC, "rec-srtp")
    if not check(files is not None and {".pcap", ".wav", ".json"} <= set(files), "pcap, WAV and JSON in done/"):
        return
    for ext in (".pcap", ".wav", ".json"):
        check(stat.S_IMODE(os.stat(files[ext]).st_mode) == 0o600, "%s is 0600" % ext)
    pkts = pcap_rtp(files[".pcap"])
    from_a = [p for p in pkts if p["src"] == "%s:%d" % (IP_A, pa)]
    from_b = [p for p in pkts if p["src"] == "%s:%d" % (IP_B, pb)]
    check(len(from_a) == relayed_a, "every packet relayed from A is in the pcap (%d of %d)" % (len(from_a), relayed_a))
    check(len(from_b) == relayed_b, "every packet relayed from B is in the pcap (%d of %d)" % (len(from_b), relayed_b))
    check([p["seq"] for p in from_a] == sorted(p["seq"] for p in from_a) and
          [p["seq"] for p in from_b] == sorted(p["seq"] for p in from_b), "in order (sequence numbers rise)")
    check(all(p["payload"] == A440[160 * (p["seq"] - 2000):160 * (p["seq"] - 1999)] for p in from_a),
          "A's packets are in the clear: payloads equal the audio A encrypted")
    sent_b = {int.from_bytes(p[2:4], "big"): p[12:] for p in b_send.sent}
    check(all(p["payload"] == sent_b.get(p["seq"]) for p in from_b), "B's payloads equal what B sent")
    check(all(t_ans - 0.05 <= p["time"] <= t_del + 0.05 for p in pkts), "real timestamps within the call")
    rate, ch = wav_channels(files[".wav"])
    length = len(ch[0]) / rate
    expected = t_del - t_ans
    check(rate == 8000 and len(ch) == 2, "WAV: 8 kHz, one channel per leg")
    check(abs(length - expected) <= 0.02, "WAV lasts the recording: %.3f s, expected %.3f s" % (length, expected))
    f1, r1 = dominant(ch[0][int(0.3 * rate):int(2.5 * rate)])
    f2, r2 = dominant(ch[1][int(0.3 * rate):int(2.5 * rate)])
    check(f1 == 440 and r1 > 100, "channel 1 (the offerer, A) carries A's 440 Hz (ratio %.0f)" % r1)
    check(f2 == 1000 and r2 > 100, "channel 2 (B) carries B's 1000 Hz (ratio %.0f)" % r2)
    meta = files["meta"]
    check(meta["status"] == "complete", "metadata: complete")
    call = meta["call"]
    check([l["tag"] for l in call["legs"]] == ["A-rec-srtp", "B-rec-srtp"] and
          [l["interface"] for l in call["legs"]] == ["a", "b"], "metadata: tags and interfaces of both legs")
    check(any(s["type"] == "answer" and "m=audio %d" % pb in s["received"] for s in call["sdps"]),
          "metadata: the answer's SDP with its time")
    check(any(f["name"] == "PCMU" for m in call["codecs"] for f in m["formats"]), "metadata: codecs")
    check([e["event"] for e in call["events"]] == ["start", "stop"], "metadata: start and stop events")
    streams = meta["recording"]["streams"]
    check(sum(s["packets"] for s in streams if s["kind"] == "rtp") == relayed_a + relayed_b,
          "metadata: packets per stream add up to what was relayed")
    check(meta["recording"]["stop reason"] == "deleted", "metadata: stopped by the delete")


def ringing_vs_answer(ng):
    """Early media from B before the answer: in a recording from ringing, not in one from the answer."""
    results = {}
    for call_id, keys in (("rec-ring", {"record call": "yes"}), ("rec-ans", {})):
        pa, pb = next_port(), next_port()
        o, to_b = plain_call(ng, call_id, pa, pb, **keys)
        sb = host_socket(NS_B, IP_B, pb)
        sa = host_socket(NS_A, IP_A, pa)
        early = RtpSender(sb, (to_b["addr"], to_b["port"]), B1000[:160 * 50], 0x3333, first_seq=100)
        t_early = time.time()
        early.run()  # 1 s of early media (a 183 with SDP), in this thread
        # The answer only once the relay has taken the early media: what it relayed before
        # the answer is what a recording from the answer must not hold.
        check(settled(ng, call_id), "%s: the relay took the early media" % call_id)
        to_a, t_ans = answer(ng, call_id, pb)
        late = RtpSender(sa, (to_a["addr"], to_a["port"]), A440[:160 * 50], 0x4444)
        late.run()
        time.sleep(0.2)
        q = ng.request({"command": "query", "call-id": call_id})
        relayed_early = stream_stats(q, "B-" + call_id)
        t_del = delete(ng, call_id)
        drain(sa)
        drain(sb)
        sa.close()
        sb.close()
        files = wait_done(REC, call_id)
        if not check(files is not None, "%s: recorded" % call_id):
            continue
        pkts = pcap_rtp(files[".pcap"])
        early_in = [p for p in pkts if p["ssrc"] == 0x3333]
        results[call_id] = (len(early_in), relayed_early, files, t_early, t_ans, t_del, pkts)
    if "rec-ring" in results:
        n, relayed, files, t_early, t_ans, t_del, pkts = results["rec-ring"]
        check(relayed >= 45 and n == relayed, "from ringing: the early media is recorded (%d of %d)" % (n, relayed))
        rate, ch = wav_channels(files[".wav"])
        first = min(p["time"] for p in pkts)
        check(abs(len(ch[0]) / rate - (t_del - first)) <= 0.02,
              "from ringing: the WAV starts at the first media (%.3f s vs %.3f s)" % (len(ch[0]) / rate, t_del - first))
        f, r = dominant(ch[1][int(0.1 * rate):int(0.8 * rate)])
        check(f == 1000, "from ringing: B's early 1000 Hz at the start of channel 2")
    if "rec-ans" in results:
        n, relayed, files, t_early, t_ans, t_del, pkts = results["rec-ans"]
        check(relayed >= 45 and n == 0, "from answer: early media relayed (%d) but not recorded (%d)" % (relayed, n))
        check(all(p["time"] >= t_ans - 0.05 for p in pkts), "from answer: nothing before the answer")


def pause_resume(ng):
    """pause recording leaves silence of its length in the WAV; start recording resumes."""
    pa, pb = next_port(), next_port()
    o, to_b = plain_call(ng, "rec-pause", pa, pb)
    to_a, t_ans = answer(ng, "rec-pause", pb)
    sa = host_socket(NS_A, IP_A, pa)
    sender = RtpSender(sa, (to_a["addr"], to_a["port"]), A440[:160 * 175], 0x5555)
    sender.start()
    time.sleep(1.0)
    check(text(ng.request({"command": "pause recording", "call-id": "rec-pause"}).get("result")) == "ok",
          "pause recording: ok")
    t_pause = time.time()
    q = ng.request({"command": "query", "call-id": "rec-pause"})
    check(text(q["recording"]["state"]) == "paused", "query shows paused")
    time.sleep(1.0)
    check(text(ng.request({"command": "start recording", "call-id": "rec-pause"}).get("result")) == "ok",
          "start recording resumes: ok")
    t_resume = time.time()
    sender.join()
    time.sleep(0.1)
    t_del = delete(ng, "rec-pause")
    drain(sa)
    sa.close()
    files = wait_done(REC, "rec-pause")
    if not check(files is not None, "rec-pause: recorded"):
        return
    rate, ch = wav_channels(files[".wav"])
    check(abs(len(ch[0]) / rate - (t_del - t_ans)) <= 0.02, "the pause does not shorten the WAV")
    runs = [r for r in silent_runs(ch[0]) if r[0] > 0.2 and r[1] < (t_del - t_ans) - 0.2]
    want = (t_pause - t_ans, t_resume - t_ans)
    check(len(runs) == 1 and abs(runs[0][0] - want[0]) <= 0.06 and abs(runs[0][1] - want[1]) <= 0.06,
          "silence where the pause was: %s, paused %.3f-%.3f s" % (runs, want[0], want[1]))
    f, _ = dominant(ch[0][int(0.2 * rate):int((want[0] - 0.1) * rate)])
    g, _ = dominant(ch[0][int((want[1] + 0.1) * rate):int((want[1] + 0.8) * rate)])
    check(f == 440 and g == 440, "the tone before and after the pause")
    check([e["event"] for e in files["meta"]["call"]["events"]] == ["start", "pause", "resume", "stop"],
          "metadata: start, pause, resume, stop")


def stop_recording(ng):
    """stop recording closes the files at once (into done/) while the call goes on."""
    pa, pb = next_port(), next_port()
    plain_call(ng, "rec-stop", pa, pb)
    to_a, _ = answer(ng, "rec-stop", pb)
    sa = host_socket(NS_A, IP_A, pa)
    RtpSender(sa, (to_a["addr"], to_a["port"]), A440[:160 * 25], 0x6666).run()
    check(text(ng.request({"command": "stop recording", "call-id": "rec-stop"}).get("result")) == "ok",
          "stop recording: ok")
    files = wait_done(REC, "rec-stop", wait=5)
    check(files is not None, "stop recording: the files are in done/ while the call is up")
    RtpSender(sa, (to_a["addr"], to_a["port"]), A440[:160 * 25], 0x6666, first_seq=2000).run()
    time.sleep(0.2)
    q = ng.request({"command": "query", "call-id": "rec-stop"})
    check(stream_stats(q, "A-rec-stop") >= 45, "the call keeps relaying (%d)" % stream_stats(q, "A-rec-stop"))
    check(text(q["recording"]["state"]) == "stopped" and len(q["recording"]["finished"]) == 1,
          "query: stopped, with the finished recording's path")
    if files:
        check(len(pcap_rtp(files[".pcap"])) <= 25, "nothing after the stop reaches the closed pcap")
    out = subprocess.run([CTL, "--ng", "127.0.0.1:%s" % E["NG_PORT"], "query", "rec-stop"], capture_output=True,
                         text=True).stdout
    check("recording: stopped (policy from-answer" in out and "finished  %s/done/" % REC in out,
          "rtprelay-ctl query shows the recording: %r" % out[out.find("recording"):])
    delete(ng, "rec-stop")
    drain(sa)
    sa.close()


def hostile_names(ng):
    """File names from NG stay inside the recording directory; bad ones are refused, nothing made."""
    before = sorted(os.listdir(REC))
    for key, value in (("recording-file", "../../etc/evil"), ("recording-file", "/etc/evil"),
                       ("recording-dir", "../up"), ("recording-pattern", "%c/../../x"),
                       ("recording-file", "a\0b"), ("recording-pattern", "%c%n")):
        o = ng.request({"command": "offer", "call-id": "evil", "from-tag": "x", "sdp": sdp(IP_A, next_port()),
                        "direction": ["a", "b"], "record call": "yes", key: value})
        check(text(o.get("result")) == "error" and key in text(o.get("error-reason", b"")),
              "%s=%r refused: %s" % (key, value, text(o.get("error-reason", b""))))
    check(sorted(os.listdir(REC)) == before, "no file or directory made by the refused requests")
    check(not os.path.exists("/etc/evil"), "nothing written outside")
    pa, pb = next_port(), next_port()
    plain_call(ng, "rec-named", pa, pb, **{"record call": "yes", "recording-dir": "trunk-7",
                                           "recording-pattern": "%Y/%c-%r"})
    answer(ng, "rec-named", pb)
    delete(ng, "rec-named")
    files = wait_done(REC, "rec-named")
    check(files is not None and files[".json"].startswith(os.path.join(REC, "done", "trunk-7", time.strftime("%Y"))),
          "recording-dir and recording-pattern place the files inside: %s" % (files or {}).get(".json"))


def bracket(addr):
    return "[%s]" % addr if ":" in addr else addr


def recorded_family_call(ng, call_id, a_addr, b_addr, b_srtp=False, **offer_keys):
    """A call recorded from its offer (record call), A on a_addr and B on b_addr (either
    family), B on SRTP with b_srtp (srtp_peer sends it; the relay decrypts it for the
    recording): both send 2 s of tone, the pcap (tshark) holds every relayed packet in its
    family with the clear payloads sent, the WAV lasts from the first packet to the delete, one
    tone per channel, the metadata names the endpoints ([addr]:port for IPv6)."""
    pa, pb, kb = next_port(), next_port(), new_key()
    if b_srtp:
        offer_keys["transport-protocol"] = "RTP/SAVP"
    o = ng.request(dict({"command": "offer", "call-id": call_id, "from-tag": "A-" + call_id, "sdp": sdp(a_addr, pa),
                         "direction": ["a", "b"], "record call": "yes"}, **offer_keys))
    if not check(text(o.get("result")) == "ok", "%s: offer ok (%s)" % (call_id, o.get("error-reason"))):
        return
    check("warning" not in o, "%s: no warning (%s)" % (call_id, text(o.get("warning", b""))))
    to_b = parse(o["sdp"])
    want_b = E["RELAY6_B"] if ":" in b_addr else E["RELAY_B"]
    check(to_b["addr"] == want_b, "%s: B is offered the relay's %s" % (call_id, want_b))
    b_sdp = sdp(b_addr, pb, "RTP/SAVP", ["1 AES_CM_128_HMAC_SHA1_80 inline:" + kb]) if b_srtp else sdp(b_addr, pb)
    a = ng.request({"command": "answer", "call-id": call_id, "from-tag": "A-" + call_id, "to-tag": "B-" + call_id,
                    "sdp": b_sdp})
    check(text(a.get("result")) == "ok" and "warning" not in a, "%s: answer ok, no warning" % call_id)
    to_a = parse(a["sdp"])
    q = ng.request({"command": "query", "call-id": call_id})
    check(text(q["recording"]["state"]) == "recording", "%s: recording" % call_id)
    sa = host_socket(NS_A, a_addr, pa)
    a_send = RtpSender(sa, (to_a["addr"], to_a["port"]), A440[:160 * 100], 0x7A7A)
    if b_srtp:
        check(to_b["proto"] == "RTP/SAVP" and to_b["crypto"], "%s: B is offered SRTP" % call_id)
        sb = None
        b_send = subprocess.Popen([PEER, "send", "--ns", NS_B, "--bind", "%s:%d" % (bracket(b_addr), pb),
                                   "--to", "%s:%d" % (bracket(to_b["addr"]), to_b["port"]), "--key", kb,
                                   "--suite", "AES_CM_128_HMAC_SHA1_80", "--ssrc", str(0x7B7B), "--seq", "3000",
                                   "--count", "100", "--interval-us", "20000",
                                   "--payload-file", os.path.join(TMP, "b1000.ul")])
    else:
        sb = host_socket(NS_B, b_addr, pb)
        b_send = RtpSender(sb, (to_b["addr"], to_b["port"]), B1000[:160 * 100], 0x7B7B)
        b_send.start()
    a_send.start()
    a_send.join()
    if b_srtp:
        b_send.wait(timeout=30)
    else:
        b_send.join()
    time.sleep(0.3)
    drain(sa)
    if sb is not None:
        drain(sb)
    q = ng.request({"command": "query", "call-id": call_id})
    relayed_a, relayed_b = stream_stats(q, "A-" + call_id), stream_stats(q, "B-" + call_id)
    check(relayed_a >= 90 and relayed_b >= 90, "%s: most of 100+100 packets relayed (%d, %d)" %
          (call_id, relayed_a, relayed_b))
    t_del = delete(ng, call_id)
    sa.close()
    if sb is not None:
        sb.close()
    files = wait_done(REC, call_id)
    if not check(files is not None and {".pcap", ".wav", ".json"} <= set(files), "%s: pcap, WAV, JSON" % call_id):
        return

    def endpoint(addr, port):
        return "[%s]:%d" % (addr, port) if ":" in addr else "%s:%d" % (addr, port)

    pkts = pcap_rtp(files[".pcap"])
    from_a = [p for p in pkts if p["src"] == endpoint(a_addr, pa)]
    from_b = [p for p in pkts if p["src"] == endpoint(b_addr, pb)]
    check(len(from_a) == relayed_a and len(from_b) == relayed_b and len(pkts) == relayed_a + relayed_b,
          "%s: tshark reads every relayed packet (%d of %d from A, %d of %d from B, %d in all)" %
          (call_id, len(from_a), relayed_a, len(from_b), relayed_b, len(pkts)))
    fam_a, fam_b = (6 if ":" in a_addr else 4), (6 if ":" in b_addr else 4)
    check(all(p["family"] == fam_a and p["dst"] == endpoint(to_a["addr"], to_a["port"]) for p in from_a) and
          all(p["family"] == fam_b and p["dst"] == endpoint(to_b["addr"], to_b["port"]) for p in from_b),
          "%s: A's packets as IPv%d to the relay's A side, B's as IPv%d to its B side" % (call_id, fam_a, fam_b))
    sent_a = {int.from_bytes(p[2:4], "big"): p[12:] for p in a_send.sent}
    if b_srtp:
        sent_b = {3000 + i: B1000[160 * i:160 * (i + 1)] for i in range(100)}  # what srtp_peer encrypted
    else:
        sent_b = {int.from_bytes(p[2:4], "big"): p[12:] for p in b_send.sent}
    check(all(p["payload"] == sent_a.get(p["seq"]) for p in from_a) and
          all(p["payload"] == sent_b.get(p["seq"]) for p in from_b),
          "%s: payloads equal what was sent%s" % (call_id, " (B's in the clear)" if b_srtp else ""))
    rate, ch = wav_channels(files[".wav"])
    first = min(p["time"] for p in pkts) if pkts else t_del
    length = len(ch[0]) / rate
    check(rate == 8000 and len(ch) == 2 and abs(length - (t_del - first)) <= 0.02,
          "%s: WAV 8 kHz, 2 channels, %.3f s from the first packet to the delete (%.3f s)" %
          (call_id, length, t_del - first))
    f1, r1 = dominant(ch[0][int(0.3 * rate):int(1.7 * rate)])
    f2, r2 = dominant(ch[1][int(0.3 * rate):int(1.7 * rate)])
    check(f1 == 440 and r1 > 100 and f2 == 1000 and r2 > 100,
          "%s: channel 1 has A's 440 Hz (%d, %.0f), channel 2 B's 1000 Hz (%d, %.0f)" % (call_id, f1, r1, f2, r2))
    streams = files["meta"]["recording"]["streams"]
    sources = {s["source"] for s in streams if s["kind"] == "rtp"}
    check(sources == {endpoint(a_addr, pa), endpoint(b_addr, pb)}, "%s: metadata sources %s" % (call_id, sources))
    check(sum(s["packets"] for s in streams if s["kind"] == "rtp") == relayed_a + relayed_b,
          "%s: metadata packets add up to what was relayed" % call_id)
    check(files["meta"]["status"] == "complete", "%s: metadata complete" % call_id)


def ipv6_recorded(ng):
    """IPv6 calls are recorded as IPv4 ones: v6 <-> v6, and v4 <-> v6 bridged (one pcap, both
    families) with SRTP on the IPv6 leg (decrypted for the recording); no refusal is left to
    count."""
    recorded_family_call(ng, "rec-v6", E["ADDR6_A"], E["ADDR6_B"])
    recorded_family_call(ng, "rec-v46", IP_A, E["ADDR6_B"], b_srtp=True, **{"address family": "IP6"})
    r = ng.request({"command": "statistics"})["statistics"].get("recording", {})
    check("refused ipv6" not in r, "statistics: no IPv6 refusal counter (%s)" % r)


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers ping")
    srtp_vs_plain_from_answer(ng)
    ringing_vs_answer(ng)
    pause_resume(ng)
    stop_recording(ng)
    hostile_names(ng)
    ipv6_recorded(ng)
    s = ng.request({"command": "statistics"})["statistics"]
    r = s.get("recording", {})
    check(r.get("started", 0) >= 8 and r.get("failed", 1) == 0 and r.get("active", 1) == 0,
          "statistics: recordings started, none failed, none left open (%s)" % r)
    check(r.get("ring full", 1) == 0, "no packet dropped from a recording")


if __name__ == "__main__":
    try:
        run_checks(main)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
