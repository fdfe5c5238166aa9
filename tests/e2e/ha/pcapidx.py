"""The SRTP and SRTCP indices in a capture (classic pcap, as `tshark -F pcap -w` writes
it), to check that a relay never used a (SSRC, index) twice (RFC 3711 9.1): two packets
under one key with the same SSRC and index share a keystream. Independent of the relay's
code: Ethernet/IPv4/UDP parsed here, the SRTP index rebuilt from the sequence numbers as a
receiver would, the SRTCP index read from its trailer."""

import struct


def udp_packets(path):
    """(time, src, sport, dst, dport, payload) of every IPv4 UDP packet in the capture."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    at = 24
    out = []
    while at + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[at:at + 16])
        frame = data[at + 16:at + 16 + incl]
        at += 16 + incl
        eth_type = struct.unpack("!H", frame[12:14])[0]
        off = 14
        if eth_type == 0x8100:
            eth_type = struct.unpack("!H", frame[16:18])[0]
            off = 18
        if eth_type != 0x0800 or len(frame) < off + 28:
            continue
        ihl = (frame[off] & 0x0f) * 4
        if frame[off + 9] != 17:
            continue
        src = ".".join(str(b) for b in frame[off + 12:off + 16])
        dst = ".".join(str(b) for b in frame[off + 16:off + 20])
        u = off + ihl
        sport, dport, ulen = struct.unpack("!HHH", frame[u:u + 6])
        out.append((sec + frac / 1e6, src, sport, dst, dport, frame[u + 8:u + ulen]))
    return out


def srtp_indices(payloads):
    """(SSRC, index) of SRTP packets in capture order: the ROC counts wraps of the sequence
    number per SSRC, as a receiver estimates it (RFC 3711 3.3.1)."""
    last = {}
    out = []
    for p in payloads:
        if len(p) < 12:
            continue
        seq, ssrc = struct.unpack("!H", p[2:4])[0], struct.unpack("!I", p[8:12])[0]
        roc, prev = last.get(ssrc, (0, None))
        if prev is not None:
            if seq < prev and prev - seq > 32768:
                roc += 1
            elif seq > prev and seq - prev > 32768 and roc > 0:
                roc -= 1  # a late packet from before the wrap: its own ROC, not a new one
                out.append((ssrc, roc << 16 | seq))
                roc += 1
                continue
        if prev is None or not (seq < prev and prev - seq <= 32768):
            last[ssrc] = (roc, seq)
        out.append((ssrc, roc << 16 | seq))
    return out


def srtcp_indices(payloads, tag_len=10):
    """(SSRC, index) of SRTCP packets: the 31-bit index before the tag."""
    out = []
    for p in payloads:
        if len(p) < 8 + 4 + tag_len:
            continue
        ssrc = struct.unpack("!I", p[4:8])[0]
        word = struct.unpack("!I", p[len(p) - tag_len - 4:len(p) - tag_len])[0]
        out.append((ssrc, word & 0x7fffffff))
    return out


def repeats(indices):
    """(SSRC, index) pairs that occur more than once."""
    seen, twice = set(), set()
    for x in indices:
        (twice if x in seen else seen).add(x)
    return sorted(twice)
