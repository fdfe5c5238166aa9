#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: tests/fuzz/corpus/<target>/<name>.

Valid examples of each input, plus the known killers of media relays and their parsers
(files named killer_*). The files are committed; run this again after changing it (it
rewrites only the files it names). Input layouts are described at the top of each
target's .cc file. Files named by a SHA-1 were found by longer runs and kept with
libFuzzer's -merge=1 (only inputs that add coverage to what is here).
"""

import base64
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("latin-1")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def key(seed, n=30):
    """An n-byte key||salt in base64 without '=' (30: 40 characters; 46 AES_256_CM, 28
    AEAD_AES_128_GCM, 44 AEAD_AES_256_GCM)."""
    return base64.b64encode(bytes((seed + i) & 0xFF for i in range(n))).decode().rstrip("=")


# --- SDP --------------------------------------------------------------------------------

def sdp(*lines, eol="\r\n"):
    return eol.join(lines) + eol


SDP_HEAD = ["v=0", "o=- 4711 1 IN IP4 198.51.100.10", "s=call", "c=IN IP4 198.51.100.10", "t=0 0"]


def sdp_seeds():
    t = "fuzz_sdp"
    gold = os.path.join(ROOT, "tests", "golden", "sdp")
    if os.path.isdir(gold):
        for f in sorted(os.listdir(gold)):
            if f.endswith(".in.sdp"):
                with open(os.path.join(gold, f), "rb") as fh:
                    write(t, "golden_" + f[: -len(".in.sdp")], fh.read())
    write(t, "plain_audio", sdp(*SDP_HEAD, "m=audio 4000 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000",
                                "a=rtcp:4001", "a=sendrecv"))
    write(t, "savp_two_crypto", sdp(*SDP_HEAD, "m=audio 4000 RTP/SAVP 0",
                                    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "|2^31",
                                    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" + key(2)))
    write(t, "audio_video_ice", sdp(*SDP_HEAD, "a=ice-lite", "m=audio 4000 RTP/AVPF 111", "a=rtcp-mux",
                                    "a=candidate:1 1 udp 1 198.51.100.10 4000 typ host", "a=ice-ufrag:abcd",
                                    "m=video 0 RTP/AVP 96", "m=image 5000 udptl t38"))
    write(t, "session_crypto", sdp(*SDP_HEAD, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key(3),
                                   "m=audio 4000 RTP/SAVP 0", "m=image 4002 udptl t38",
                                   "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key(4)))
    write(t, "lf_only", sdp(*SDP_HEAD, "m=audio 4000 RTP/AVP 0", eol="\n"))
    write(t, "hold_rtcp_addr", sdp("v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "m=audio 4000/2 RTP/AVP 0",
                                   "c=IN IP4 0.0.0.0", "a=rtcp:4001 IN IP4 0.0.0.0", "a=inactive"))
    write(t, "ipv6", sdp("v=0", "o=- 1 1 IN IP6 2001:db8::1", "s=-", "c=IN IP6 2001:db8::1", "t=0 0",
                         "m=audio 4000 RTP/AVP 0"))
    write(t, "no_connection", sdp("v=0", "o=- 1 1 IN IP4 1.2.3.4", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 0"))
    # Known killers.
    write(t, "killer_v_v0", "v=\nv=0")
    write(t, "killer_fmtp_nul", "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nm=audio 1 RTP/AVP 0\na=fmtp\0")
    write(t, "killer_pt_2_32", sdp(*SDP_HEAD, "m=audio 4000 RTP/AVP 4294967296"))
    write(t, "killer_port_65536", sdp(*SDP_HEAD, "m=audio 65536 RTP/AVP 0"))
    write(t, "killer_port_count_0", sdp(*SDP_HEAD, "m=audio 4000/0 RTP/AVP 0"))
    write(t, "killer_rtcp_port_big", sdp(*SDP_HEAD, "m=audio 65535 RTP/AVP 0", "a=rtcp:99999999999999999999"))
    write(t, "killer_empty_crypto", sdp(*SDP_HEAD, "m=audio 4000 RTP/SAVP 0", "a=crypto:"))
    write(t, "killer_two_c", sdp(*SDP_HEAD, "c=IN IP4 1.2.3.4", "m=audio 4000 RTP/AVP 0"))
    write(t, "killer_65_media", sdp(*SDP_HEAD, *["m=audio %d RTP/AVP 0" % (2000 + 2 * i) for i in range(65)]))
    write(t, "killer_blank_lines", "\r\n\r\nv=0\r\n\r\n\r\no=- 1 1 IN IP4 1.2.3.4\r\n\n\r\r\n")
    write(t, "killer_m_no_fields", sdp(*SDP_HEAD, "m=", "m=audio", "m=audio 1"))


# --- SDES -------------------------------------------------------------------------------

def sdes_seeds():
    t = "fuzz_sdes"
    k80 = "1 AES_CM_128_HMAC_SHA1_80 inline:" + key(1)
    k32 = "2 AES_CM_128_HMAC_SHA1_32 inline:" + key(2)
    write(t, "offer_80_32", b"\x00" + (k80 + "\n" + k32 + "\n").encode())
    write(t, "offer_answer", b"\x04" + (k80 + "\n" + k32 + "\nA:7 AES_CM_128_HMAC_SHA1_32 inline:" + key(9)
                                        + "\n").encode())
    write(t, "lifetimes", b"\x10" + ("1 AES_CM_128_HMAC_SHA1_80 inline:" + key(3) + "|2^31\n"
                                     "2 AES_CM_128_HMAC_SHA1_80 inline:" + key(4) + "|1048576\n"
                                     "3 AES_CM_128_HMAC_SHA1_80 inline:" + key(5) + "|2^48\n"
                                     "4 AES_CM_128_HMAC_SHA1_80 inline:" + key(6) + "|2^49\n").encode())
    write(t, "padded", b"\x08" + ("1 AES_CM_128_HMAC_SHA1_80 inline:" + key(7) + "==\n").encode())
    write(t, "params", b"\x01" + (k80 + " UNENCRYPTED_SRTCP\n" + k32 + " WSH=64\n3 AES_CM_128_HMAC_SHA1_80 inline:"
                                  + key(8) + " KDR=1\n4 AES_CM_128_HMAC_SHA1_80 inline:" + key(8)
                                  + " FEC_ORDER=FEC_SRTP\n").encode())
    write(t, "options", b"\x00" + (k80 + "\n" + k32 + "\nS:only-AES_CM_128_HMAC_SHA1_32\nS:order:"
                                   "AES_CM_128_HMAC_SHA1_32;AES_CM_128_HMAC_SHA1_80\nF:SDES-no-AES_CM_128_HMAC_SHA1_80"
                                   "\nF:SDES-pad\nF:pad-crypto\nF:SDES-lifetime\nS:unencrypted_srtcp\n").encode())
    write(t, "options_refused", b"\x00" + (k80 + "\nS:unencrypted_srtp\nF:SDES-UNAUTHENTICATED_SRTP\n").encode())
    # Known killers: MKI, including a 30-byte MKI; broken keys, tags and suites.
    write(t, "killer_mki", b"\x00" + ("1 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "|2^20|1:4\n").encode())
    write(t, "killer_mki_30_bytes", b"\x00" + ("1 AES_CM_128_HMAC_SHA1_80 inline:" + key(1)
                                               + "|2^20|123456789012345678901234567890:30\n").encode())
    write(t, "killer_mki_len_128", b"\x00" + ("1 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "|1:128\n").encode())
    write(t, "killer_keys", b"\x00" + ("1 AES_CM_128_HMAC_SHA1_80 inline:" + key(1)[:-1] + "\n"
                                       "2 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "AAAA\n"
                                       "3 AES_CM_128_HMAC_SHA1_80 inline:" + key(1)[:-2] + "!!\n"
                                       "4 AES_CM_128_HMAC_SHA1_80 inline:\n"
                                       "5 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + ";inline:" + key(2) + "\n"
                                       "6 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "|2^99\n"
                                       "7 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "|99999999999999999999\n"
                                       ).encode())
    write(t, "killer_tags", b"\x00" + ("0 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "\n"
                                       "1000000000 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "\n"
                                       "4294967297 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "\n"
                                       "-1 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "\n"
                                       "1 aes_cm_128_hmac_sha1_80 inline:" + key(1) + "\n"
                                       "1 AES_192_CM_HMAC_SHA1_80 inline:" + key(1) + "\n"
                                       "1 AEAD_AES_128_GCM_8 inline:" + key(1, 28) + "\n"
                                       "1\n\n \t \n").encode())
    # The AES-256 and AEAD suites (their keys end in a partial base64 group), offered first
    # by us (bit 6) and by the peer, SDES flags naming them; MKIs where accepted (bit 5).
    g128 = "1 AEAD_AES_128_GCM inline:" + key(11, 28)
    g256 = "2 AEAD_AES_256_GCM inline:" + key(12, 44)
    a256 = "3 AES_256_CM_HMAC_SHA1_80 inline:" + key(13, 46)
    a256_32 = "4 AES_256_CM_HMAC_SHA1_32 inline:" + key(14, 46)
    write(t, "suites_new", b"\x40" + (g128 + "\n" + g256 + "\n" + a256 + "\n" + a256_32 + "\nA:2 AES_256_CM_HMAC_SHA1_32"
                                     " inline:" + key(15, 46) + "\n").encode())
    write(t, "suites_new_padded", b"\x48" + (g128 + "==\n" + g256 + "=\n" + a256 + "==\n").encode())
    write(t, "suites_flags", b"\x40" + (g256 + "\n" + k80 + "\nS:only-AEAD_AES_256_GCM\nF:SDES-no-AEAD_AES_128_GCM\n"
                                       "S:order:AES_256_CM_HMAC_SHA1_32;AEAD_AES_256_GCM\n").encode())
    write(t, "mki_accepted", b"\x20" + ("1 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "|2^20|1:4\n"
                                       + g128 + "|7:1\n" + a256 + "|65535:2\nA:1 AES_CM_128_HMAC_SHA1_80 inline:"
                                       + key(2) + "|258:2\n").encode())
    write(t, "killer_mki_accepted", b"\x20" + ("1 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "|1:5\n"
                                              "2 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "|256:1\n"
                                              "3 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "|1:1|2:1\n"
                                              "4 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "|1:1|2^20\n"
                                              "5 AES_CM_128_HMAC_SHA1_80 inline:" + key(1) + "|:\n"
                                              "6 AEAD_AES_256_GCM inline:" + key(1, 44) + "|4294967296:4\n"
                                              ).encode())
    write(t, "killer_suite_key_lengths", b"\x00" + ("1 AEAD_AES_128_GCM inline:" + key(1) + "\n"
                                                   "2 AES_256_CM_HMAC_SHA1_80 inline:" + key(1, 44) + "\n"
                                                   "3 AEAD_AES_256_GCM inline:" + key(1, 46) + "\n"
                                                   "4 AEAD_AES_128_GCM inline:" + key(1, 28) + "=\n").encode())


# --- bencode / NG -----------------------------------------------------------------------

def benc(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode("latin-1")
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(benc(k) + benc(v[k]) for k in sorted(v)) + b"e"
    raise TypeError(v)


def ng_seeds():
    t = "fuzz_bencode_ng"
    caller = sdp(*SDP_HEAD, "m=audio 4000 RTP/AVP 0 8 101", "a=rtcp:4001", "a=sendrecv")
    callee = sdp("v=0", "o=- 99 1 IN IP4 203.0.113.20", "s=call", "c=IN IP4 203.0.113.20", "t=0 0",
                 "m=audio 5000 RTP/AVP 0 8 101", "a=rtcp:5001", "a=sendrecv")
    savp = sdp(*SDP_HEAD, "m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key(1))
    callee_savp = sdp("v=0", "o=- 99 1 IN IP4 203.0.113.20", "s=call", "c=IN IP4 203.0.113.20", "t=0 0",
                      "m=audio 5000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key(5))
    offer = {"command": "offer", "call-id": "c1", "from-tag": "ft", "sdp": caller, "flags": ["trust-address"],
             "replace": ["origin"]}
    answer = {"command": "answer", "call-id": "c1", "from-tag": "ft", "to-tag": "tt", "sdp": callee}
    write(t, "ping", benc({"command": "ping"}))
    write(t, "offer", benc(offer))
    write(t, "call_plain", benc(offer) + benc(answer) + benc({"command": "query", "call-id": "c1"})
          + benc({"command": "delete", "call-id": "c1", "from-tag": "ft"}))
    write(t, "call_srtp_bridged",
          benc({"command": "offer", "call-id": "c2", "from-tag": "ft", "sdp": caller, "direction": ["a", "b"],
                "ICE": "remove", "transport-protocol": "RTP/SAVP", "SDES": ["only-AES_CM_128_HMAC_SHA1_80"]})
          + benc({"command": "answer", "call-id": "c2", "from-tag": "ft", "to-tag": "tt", "sdp": callee_savp,
                  "direction": ["a", "b"]})
          + benc({"command": "list"}) + benc({"command": "statistics"}))
    write(t, "call_srtp_in", benc({"command": "offer", "call-id": "c3", "from-tag": "ft", "sdp": savp,
                                   "from-interface": "b", "to-interface": "c", "flags": ["SDES-pad", "bogus"]})
          + benc({"command": "delete", "call-id": "c3"}))
    write(t, "admission", benc({"command": "capacity", "calls": 10, "bandwidth": "1G"})
          + benc({"command": "drain"}) + benc(offer) + benc({"command": "undrain"})
          + benc({"command": "list", "limit": "2"}))
    write(t, "errors", benc({"command": "delete", "call-id": "nope"}) + benc({"command": "answer", "sdp": ""})
          + benc({"command": "frobnicate"}) + benc({"nocommand": 1}) + benc([1, 2]))
    # Keys must never cross to the other leg. regress_leak_*: leaks this target found (fixed).
    k1 = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key(1)
    media_savp = ["m=audio 4000 RTP/SAVP 0", k1]
    write(t, "disabled_stream_crypto", benc({"command": "offer", "call-id": "c", "from-tag": "f", "sdp": sdp(
        *SDP_HEAD, *media_savp, "m=video 0 RTP/SAVP 96", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key(2))}))
    write(t, "regress_leak_session_crypto", benc({"command": "offer", "call-id": "c", "from-tag": "f",
                                                "sdp": sdp(*SDP_HEAD, k1, *media_savp)}))
    write(t, "regress_leak_non_rtp_crypto", benc({"command": "offer", "call-id": "c", "from-tag": "f", "sdp": sdp(
        *SDP_HEAD, *media_savp, "m=image 4002 udptl t38", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key(3))}))
    callee_head = ["v=0", "o=- 99 1 IN IP4 203.0.113.20", "s=call", "c=IN IP4 203.0.113.20", "t=0 0"]
    write(t, "regress_leak_answer_to_non_rtp_offer",
          benc({"command": "offer", "call-id": "c", "from-tag": "f",
                "sdp": sdp(*SDP_HEAD, "m=image 4000 udptl t38")})
          + benc({"command": "answer", "call-id": "c", "from-tag": "f", "to-tag": "t", "sdp": sdp(
              *callee_head, "m=image 5000 udptl t38", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key(4))}))
    # An answer that is RTP where the offer was not (refused since).
    write(t, "regress_answer_rtp_for_non_rtp_offer",
          benc({"command": "offer", "call-id": "c", "from-tag": "f",
                "sdp": sdp(*SDP_HEAD, "m=audio 4000 0RTP/AVP 0")})
          + benc({"command": "answer", "call-id": "c", "from-tag": "f", "to-tag": "t", "sdp": sdp(
              *callee_head, "m=audio 5000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key(4))}))
    # An answer's non-RTP proto was replaced by the offer's RTP one over formats that are no
    # payload types, and the reply did not parse (refused since).
    write(t, "regress_answer_proto",
          benc({"command": "offer", "call-id": "c", "from-tag": "f", "sdp": sdp(*SDP_HEAD, "m=audio 4000 RTP/AVP 0")})
          + benc({"command": "answer", "call-id": "c", "from-tag": "f", "to-tag": "t",
                  "sdp": sdp(*callee_head, "m=audio 5000 RT/VPSP A0")}))
    # What rtpengine-ng-client sends: spellings with spaces, JSON, delete delay; rtcp-mux
    # options; an m= line refused alone (its only a=crypto line has an MKI).
    import json
    write(t, "json_call", json.dumps([
        {"command": "offer", "call-id": "j", "from-tag": "f", "sdp": savp, "transport protocol": "RTP/AVP",
         "flags": ["strict source", "SDES-pad", "rtcp-mux-demux"], "direction": ["a", "c"], "TOS": 184},
        {"command": "answer", "call-id": "j", "from-tag": "f", "to-tag": "t", "sdp": callee, "ICE": "force"},
        {"command": "query", "call-id": "j"}, {"command": "statistics"},
        {"command": "delete", "call-id": "j", "delete delay": "5"}, {"command": "delete", "call-id": "j",
                                                                    "delete-delay": 0}]))
    write(t, "rtcp_mux_options",
          benc({"command": "offer", "call-id": "m", "from-tag": "f", "rtcp-mux": ["require", "bogus"],
                "sdp": sdp(*SDP_HEAD, "m=audio 4000 RTP/AVP 0", "a=rtcp:4000", "a=rtcp-mux")})
          + benc({"command": "answer", "call-id": "m", "from-tag": "f", "to-tag": "t",
                  "sdp": sdp(*callee_head, "m=audio 5000 RTP/AVP 0", "a=rtcp-mux")}))
    write(t, "stream_refused",
          benc({"command": "offer", "call-id": "s", "from-tag": "f", "sdp": sdp(
              *SDP_HEAD, *media_savp, "m=video 4002 RTP/SAVP 96",
              "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key(2) + "|2^31|1:4 FEC_ORDER=FEC_SRTP")})
          + benc({"command": "answer", "call-id": "s", "from-tag": "f", "to-tag": "t", "sdp": sdp(
              *callee_head, "m=audio 5000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key(5),
              "m=video 5002 RTP/SAVP 96")}))
    # Known killers.
    write(t, "killer_truncated_ping", b"d7:command4:pin")
    write(t, "killer_huge_string_len", b"99999999999999999999:x")
    write(t, "killer_len_2_64", b"d7:command18446744073709551616:ping")
    write(t, "killer_len_past_end", b"d7:command4294967296:pinge")
    write(t, "killer_int_overflow", b"li9223372036854775808ei-9223372036854775809ee")
    write(t, "killer_int_forms", b"li-0ei03ei-ei1-ee")
    write(t, "killer_leading_zero_len", b"d07:command4:pinge")
    write(t, "killer_deep_nesting", b"l" * 100 + b"e" * 100)
    write(t, "killer_dup_keys", b"d7:command4:ping7:command5:offere")
    write(t, "killer_int_key", b"di1e4:pinge")
    write(t, "killer_many_items", b"l" + b"0:" * 4100 + b"e")  # past max_items (4096)
    # The SDP killers, as offers.
    for name, body in [("v_v0", "v=\nv=0"),
                       ("fmtp_nul", "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nm=audio 1 RTP/AVP 0\na=fmtp\0"),
                       ("pt_2_32", sdp(*SDP_HEAD, "m=audio 4000 RTP/AVP 4294967296"))]:
        write(t, "killer_sdp_" + name, benc({"command": "offer", "call-id": "k", "from-tag": "f", "sdp": body}))


# --- packets ----------------------------------------------------------------------------

def rtp(seq=1, ts=160, ssrc=0x11223344, pt=0, payload=b"\xd5" * 160, cc=0, x=False, p=False, csrcs=b"",
        ext=b""):
    b0 = 0x80 | (0x20 if p else 0) | (0x10 if x else 0) | cc
    return struct.pack("!BBHII", b0, pt, seq, ts, ssrc) + csrcs + ext + payload


def rtcp_sr(ssrc=0x11223344):
    return struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc, 1, 2, 3, 4, 5)


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def frame(payload, dst="198.18.1.1", dport=30000, proto=17, vlan=None, frag=0, ihl=5, udp_len=None,
          ip_len=None, pad=b""):
    src_ip = bytes([198, 51, 100, 10])
    dst_ip = bytes(int(x) for x in dst.split("."))
    if proto == 17:
        l4 = struct.pack("!HHHH", 40000, dport, udp_len if udp_len is not None else 8 + len(payload), 0) + payload
    else:
        l4 = payload
    opts = b"\x01" * (4 * (ihl - 5))
    total = ip_len if ip_len is not None else 20 + len(opts) + len(l4)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, 1, frag, 64, proto, 0, src_ip, dst_ip) + opts
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    eth = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02"
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, vlan)
    return eth + b"\x08\x00" + hdr + l4 + pad


def classify_seeds():
    t = "fuzz_classify"
    write(t, "udp_rtp", b"\x00" + frame(rtp()))
    write(t, "udp_rtp_fixsum", b"\x01" + frame(rtp()))
    write(t, "udp_srtp_tagged", b"\x00" + frame(rtp() + b"\x00" * 10))
    write(t, "udp_rtcp_sr", b"\x00" + frame(rtcp_sr() + struct.pack("!I", 0x80000001) + b"\x00" * 10, dport=30001))
    write(t, "udp_vlan", b"\x00" + frame(rtp(), vlan=42))
    write(t, "udp_eth_padding", b"\x00" + frame(rtcp_sr()[:4], pad=b"\x00" * 20))
    write(t, "udp_ip_options", b"\x00" + frame(rtp(), ihl=7))
    write(t, "icmp_echo", b"\x00" + frame(b"\x08\x00\x00\x00\x00\x01\x00\x01" + b"x" * 32, proto=1))
    write(t, "icmp_not_for_us", b"\x00" + frame(b"\x08\x00\x00\x00\x00\x01\x00\x01", proto=1, dst="10.0.0.1"))
    write(t, "ip_fragment", b"\x00" + frame(rtp(), frag=0x2000))
    write(t, "arp", b"\x00" + b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x02\x08\x06" + struct.pack(
        "!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, b"\x02\0\0\0\0\x02", bytes([198, 18, 1, 2]), b"\0" * 6,
        bytes([198, 18, 1, 1])))
    write(t, "ipv6", b"\x00" + b"\x02" * 12 + b"\x86\xdd" + b"\x60" + b"\0" * 39)
    # Known killers: lengths that lie, headers cut short, RTP/RTCP overruns.
    write(t, "killer_short_eth", b"\x00" + b"\x02" * 13)
    write(t, "killer_vlan_cut", b"\x00" + b"\x02" * 12 + b"\x81\x00\x00")
    write(t, "killer_ip_cut", b"\x00" + frame(rtp())[:30])
    write(t, "killer_udp_len_past_ip", b"\x00" + frame(rtp(), udp_len=2000))
    write(t, "killer_udp_len_short", b"\x00" + frame(rtp(), udp_len=4))
    write(t, "killer_ip_len_past_frame", b"\x01" + frame(rtp(), ip_len=1500))
    write(t, "killer_ihl_15", b"\x01" + frame(rtp(), ihl=15)[:40])
    write(t, "killer_rtcp_4_bytes", b"\x00" + frame(rtcp_sr()[:4], dport=30001))
    write(t, "killer_csrc_overrun", b"\x00" + frame(rtp(cc=15, payload=b"")))
    write(t, "killer_ext_overrun", b"\x00" + frame(rtp(x=True, ext=b"\xbe\xde\xff\xff", payload=b"\0" * 12)))
    write(t, "killer_padding_past_payload", b"\x00" + frame(rtp(p=True, payload=b"\0" * 3 + b"\xff")))
    write(t, "killer_udp_payload_empty", b"\x00" + frame(b""))


def pkts(flags, *packets):
    out = bytes([flags])
    for p in packets:
        out += struct.pack("<H", len(p)) + p
    return out


def srtp_seeds():
    t = "fuzz_rtp_srtp"
    both = 0x20
    write(t, "rtp_80", pkts(0x0C, rtp()))
    write(t, "rtp_32_both", pkts(both | 0x0D, rtp()))
    write(t, "rtp_both_ext_csrc", pkts(both | 0x0C, rtp(cc=2, csrcs=b"\1\2\3\4\5\6\7\x08", x=True,
                                                         ext=b"\xbe\xde\x00\x01\x10\xaa\x00\x00")))
    write(t, "rtcp_sr", pkts(0x0E, rtcp_sr(), rtcp_sr()))
    write(t, "rtcp_both", pkts(both | 0x0E, rtcp_sr()))
    write(t, "rtp_seq_wrap", pkts(0x0C, rtp(seq=65534), rtp(seq=65535), rtp(seq=0), rtp(seq=1)))
    write(t, "rtp_replay_reorder", pkts(both | 0x0C, rtp(seq=10), rtp(seq=12), rtp(seq=11), rtp(seq=11),
                                        rtp(seq=10 + 200), rtp(seq=12)))
    write(t, "rtp_nine_ssrcs", pkts(0x0C, *[rtp(ssrc=i + 1, payload=b"\0" * 4) for i in range(9)]))
    write(t, "rtp_no_room", pkts(0x00, rtp()))
    # Known killers.
    write(t, "killer_empty", pkts(0x0C, b""))
    write(t, "killer_rtcp_4_bytes", pkts(both | 0x0E, rtcp_sr()[:4]))
    write(t, "killer_rtcp_short_of_trailer", pkts(both | 0x0E, rtcp_sr()[:8] + b"\x80\0\0\x01" + b"\0" * 5))
    write(t, "killer_csrc_overrun", pkts(both | 0x0C, rtp(cc=15, payload=b"\0" * 8)))
    write(t, "killer_ext_overrun", pkts(both | 0x0C, rtp(x=True, ext=b"\xbe\xde\xff\xff", payload=b"\0" * 16)))
    write(t, "killer_ext_cut", pkts(both | 0x0C, rtp(x=True, ext=b"\xbe\xde", payload=b"")))
    write(t, "killer_padding_past_payload", pkts(both | 0x0C, rtp(p=True, payload=b"\0\0\0\xff")))
    write(t, "killer_version_1", pkts(both | 0x0C, b"\x40" + rtp()[1:]))
    write(t, "killer_11_bytes", pkts(both | 0x0C, rtp()[:11]))
    # The other suites: byte 0 bit 0 + 2 x bits 6..7 picks the suite (6, 7: with an MKI).
    for which, name in ((2, "aes256_80"), (3, "aes256_32"), (4, "gcm128"), (5, "gcm256"), (6, "mki_80"),
                        (7, "mki_gcm128")):
        opt = (which & 1) | ((which >> 1) << 6)
        write(t, "rtp_%s_both" % name, pkts(both | opt | 0x0C, rtp(), rtp(seq=2)))
        write(t, "rtcp_%s_both" % name, pkts(both | opt | 0x0E, rtcp_sr(), rtcp_sr()))
    write(t, "killer_gcm_short_of_tag", pkts(both | (2 << 6) | 0x0C, rtp()[:12] + b"\0" * 15))
    write(t, "killer_gcm_rtcp_short_of_tag", pkts(both | (2 << 6) | 0x0E, rtcp_sr()[:8] + b"\0" * 19))


def ha_record_seeds():
    """fuzz_ha_record: byte 0 odd = a record body in the clear (the target seals it), laid out
    as control/ha/record.cc writes it; even = a stored value as is."""
    t = "fuzz_ha_record"
    le = lambda fmt, *v: struct.pack("<" + fmt, *v)
    s16 = lambda x: le("H", len(x)) + x.encode()
    ep = lambda a, port: le("B", 4) + bytes(int(o) for o in a.split(".")) + le("H", port)
    line = lambda tag, fill: le("IBB", tag, 0, 0) + bytes([fill]) * 30
    none = le("B", 0) * 4

    def stream(addr, port, srtp):
        flags = 0x1 | 0x10 | 0x20 | 0x80 | 0x100  # allocated, RTP, published, both peers
        body = b""
        if srtp:
            flags |= 0x200 | 0x400 | 0x800 | 0x1000  # crypto, srtp, from and to the peer
        body += le("HBH", flags, 0, port) + ep(addr, 0) + ep("198.18.1.10", 4000) + ep("198.18.1.10", 4001)
        body += s16("audio") + s16("RTP/SAVP" if srtp else "RTP/AVP") + le("QQ", 0, 0)
        if srtp:
            body += line(1, 0xa1) + line(1, 0xb1) + le("B", 1) + line(1, 0xb1)
            body += le("B", 1) + le("IQ", 0x1111, (3 << 16) | 100) + le("B", 0)   # RTP, RTCP in
            body += le("B", 1) + le("IQ", 0x1111, (3 << 16) | 100) + le("B", 1) + le("IQ", 0x1111, 73)
        else:
            body += none
        return body

    # Version 2: the call's recording after the legs (state 0 = never recorded; 2 =
    # recording: when, layout, flags, file, dir, pattern, id, base, part, started).
    recording_open = (le("BBBB", 2, 2, 1, 2) + s16("trunk/c1") + s16("trunk") + s16("%c-%r") +
                      s16("0123456789abcdef") + s16("trunk/c1") + le("Hq", 1, 1700000003000))

    # The first byte of a seed: 1 = seal the rest under a version 1 header (no recording: what
    # a call never recorded is written as), 3 = under a version 2 header, 7 = version 3.
    def record(srtp, legs=2, recording=b""):
        b = s16("c1") + s16("n1") + le("qqqq", 1700000000000, 1700000001000, 1700000002000, 0)
        b += le("B", 1) + s16("ext") + s16("int") + le("B", legs)
        for k in range(legs):
            iface, addr, port = (("ext", "198.18.1.1", 30000), ("int", "198.18.2.1", 40000))[k % 2]
            b += s16("tag-%d" % k) + s16(iface) + le("BbqB", 0, -1 if k == 0 else 0, 1700000000000, 1)
            b += stream(addr, port, srtp)
        return b + recording

    write(t, "body_plain", b"\x01" + record(False))
    write(t, "body_srtp", b"\x01" + record(True))
    write(t, "body_one_leg", b"\x01" + record(False, legs=1))
    write(t, "body_recorded", b"\x03" + record(True, recording=recording_open))
    write(t, "body_v2_not_recorded", b"\x03" + record(True, recording=le("B", 0)))
    # Version 3 (first byte 7): the recording's carried SDP after it (count, time, flags,
    # from-tag, to-tag, SDP).
    carried_sdp = (le("BqB", 1, 1700000002000123456, 0) + s16("tag-0") + s16("tag-1") +
                   s16("v=0\r\nc=IN IP4 198.18.1.10\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 X inline:[removed]\r\n"))
    write(t, "body_recorded_sdp", b"\x07" + record(True, recording=recording_open + carried_sdp))
    write(t, "value_header_only", b"\x00" + b"rtpR\x02\x00\x00\x00")
    write(t, "value_newer", b"\x00" + b"rtpR\x04\x00\x00\x00" + b"\0" * 40)
    # Known killers: counts past what follows, a leg naming itself as its offerer, a port
    # outside the interface's range, an odd port.
    write(t, "killer_legs_255", b"\x01" + record(False)[:-1 - len(record(False)) + len(record(False))] [:0] +
          s16("c1") + s16("n1") + le("qqqq", 0, 0, 0, 0) + le("B", 0) + s16("") + s16("") + le("B", 255))
    r = bytearray(record(False))
    write(t, "killer_port_odd", b"\x01" + bytes(r).replace(le("HBH", 0x1b1, 0, 30000), le("HBH", 0x1b1, 0, 30001)))
    write(t, "killer_port_outside", b"\x01" + bytes(r).replace(le("HBH", 0x1b1, 0, 40000), le("HBH", 0x1b1, 0, 50000)))
    write(t, "killer_recording_part_0", b"\x03" + record(False, recording=recording_open[:-10] + le("Hq", 0, 0)))
    write(t, "killer_offerer_self", b"\x01" + bytes(r).replace(le("Bb", 0, 0) + le("q", 1700000000000),
                                                                le("Bb", 0, 1) + le("q", 1700000000000)))


def main():
    ha_record_seeds()
    sdp_seeds()
    sdes_seeds()
    ng_seeds()
    classify_seeds()
    srtp_seeds()
    return 0


if __name__ == "__main__":
    sys.exit(main())
