"""Reading what rtprelay recorded, with tools independent of its code: tshark for the pcap
(Wireshark's RTP dissector), Python's wave module and a Goertzel filter for the WAV, json for
the metadata; and sox for the test tones."""

import json
import math
import os
import struct
import subprocess
import threading
import time
import wave


def tone_file(path, freq, seconds):
    """`seconds` of a `freq` Hz tone as raw G.711 mu-law at 8 kHz, made by sox."""
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-t", "ul", path, "synth", str(seconds), "sine", str(freq),
                    "vol", "0.5"], check=True)
    with open(path, "rb") as f:
        return f.read()


def rtp(ssrc, seq, ts, payload, pt=0):
    return struct.pack("!BBHII", 0x80, pt, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload


class RtpSender(threading.Thread):
    """Sends `audio` (mu-law bytes) as 20-ms RTP packets from socket `s` to `to`, on an absolute
    schedule; `sent` holds every packet, `times` when it left. stop() ends it early."""

    def __init__(self, s, to, audio, ssrc, first_seq=1000):
        super().__init__(daemon=True)
        self.s, self.to, self.audio, self.ssrc, self.seq = s, to, audio, ssrc, first_seq
        self.sent, self.times = [], []
        self._halt = threading.Event()

    def run(self):
        start = time.monotonic()
        for i in range(len(self.audio) // 160):
            if self._halt.is_set():
                return
            p = rtp(self.ssrc, self.seq + i, 160 * i, self.audio[160 * i:160 * (i + 1)])
            self.s.sendto(p, self.to)
            self.sent.append(p)
            self.times.append(time.time())
            delay = start + 0.02 * (i + 1) - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def stop(self):
        self._halt.set()
        self.join()


# How tshark finds RTP in a recording: by its heuristic, tried BEFORE the dissectors registered
# on UDP ports. Without udp.try_heuristic_first a packet whose relay port (10000-20000 by
# default, chosen per call) is one Wireshark assigns to another protocol (12000-12004
# 3Com XNS, 12222 LWAPP, 13400 DoIP, 17500 Dropbox LAN sync, 19132 RakNet, ...: 11 of the
# 5,000 even ports) is decoded as that protocol and none of that stream reads as RTP.
TSHARK_RTP = ["-o", "rtp.heuristic_rtp:TRUE", "-o", "udp.try_heuristic_first:TRUE"]


def pcap_rtp(path):
    """RTP packets of a pcap as tshark reads them: dicts with src, dst (ip:port, [ipv6]:port),
    family (4 or 6), seq, ssrc, payload (bytes, the RTP payload) and time (epoch seconds), in
    file order."""
    out = subprocess.run(
        ["tshark", "-r", path] + TSHARK_RTP + ["-Y", "rtp", "-T", "fields", "-E", "separator=|",
         "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ipv6.src", "-e", "udp.srcport", "-e", "ip.dst",
         "-e", "ipv6.dst", "-e", "udp.dstport", "-e", "rtp.seq", "-e", "rtp.ssrc", "-e", "rtp.payload"],
        check=True, capture_output=True, text=True).stdout
    pkts = []
    for line in out.splitlines():
        t, src4, src6, sport, dst4, dst6, dport, seq, ssrc, payload = line.split("|")
        src = src4 or "[%s]" % src6
        dst = dst4 or "[%s]" % dst6
        pkts.append({"time": float(t), "src": "%s:%s" % (src, sport), "dst": "%s:%s" % (dst, dport),
                     "family": 4 if src4 else 6,
                     "seq": int(seq), "ssrc": int(ssrc, 16) if ssrc.startswith("0x") else int(ssrc),
                     "payload": bytes.fromhex(payload.replace(":", ""))})
    return pkts


def pcap_count(path):
    """Every packet of a pcap (RTP or not), counted by tshark."""
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.number"], check=True,
                         capture_output=True, text=True).stdout
    return len(out.split())


def wav_channels(path):
    """(rate, [samples of channel 1], [channel 2] ...) of a 16-bit WAV."""
    with wave.open(path, "rb") as w:
        n, ch, rate = w.getnframes(), w.getnchannels(), w.getframerate()
        assert w.getsampwidth() == 2
        data = w.readframes(n)
    samples = struct.unpack("<%dh" % (n * ch), data)
    return rate, [list(samples[c::ch]) for c in range(ch)]


def power(samples, freq, rate=8000):
    """Goertzel power of `freq` in `samples`, per sample squared."""
    if not samples:
        return 0.0
    c = 2 * math.cos(2 * math.pi * freq / rate)
    q1 = q2 = 0.0
    for v in samples:
        q1, q2 = c * q1 - q2 + v, q1
    return (q1 * q1 + q2 * q2 - c * q1 * q2) / (len(samples) ** 2)


def dominant(samples, freqs=(440, 1000), rate=8000):
    """Which of `freqs` the samples carry (None when silent), and the ratio to the next one."""
    if not any(samples):
        return None, 0.0
    p = sorted(((power(samples, f, rate), f) for f in freqs), reverse=True)
    return p[0][1], (p[0][0] / p[1][0]) if p[1][0] > 0 else float("inf")


def silent_runs(samples, rate=8000, min_seconds=0.1):
    """(start, end) in seconds of every run of exact zeros at least min_seconds long."""
    runs, start = [], None
    for i, v in enumerate(samples + [1]):
        if v == 0 and start is None:
            start = i
        elif v != 0 and start is not None:
            if (i - start) / rate >= min_seconds:
                runs.append((start / rate, i / rate))
            start = None
    return runs


def done_files(rec_dir, wait=5.0):
    """{base: {ext: path}} of the finished recordings under rec_dir/done, waiting up to `wait`
    seconds for at least one .json (the finisher moves it last)."""
    end = time.time() + wait
    while True:
        found = {}
        for root, _, files in os.walk(os.path.join(rec_dir, "done")):
            for f in files:
                base, ext = os.path.splitext(os.path.join(root, f))
                found.setdefault(base, {})[ext] = os.path.join(root, f)
        if any(".json" in v for v in found.values()) or time.time() > end:
            return found
        time.sleep(0.1)


def wait_done(rec_dir, call_id, wait=10.0):
    """The finished recording (ext -> path) whose metadata names call_id, or None."""
    end = time.time() + wait
    while time.time() < end:
        for base, files in done_files(rec_dir, 0).items():
            if ".json" in files:
                with open(files[".json"]) as f:
                    meta = json.load(f)
                if meta["call"].get("call-id") == call_id:
                    files["meta"] = meta
                    return files
        time.sleep(0.1)
    return None
