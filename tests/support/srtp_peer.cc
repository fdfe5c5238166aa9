// An SRTP endpoint for end-to-end tests, built on libsrtp2 (the independent reference
// implementation), so that what the relay encrypts is checked by someone else's code.
//
//   srtp_peer send --ns NS --bind IP:PORT --to IP:PORT (IPv6: [IP]:PORT) [--key B64 --suite S [--mki V:L]] --ssrc N
//                  --count N [--seq N] [--rtcp] [--interval-us N] [--corrupt-every N]
//                  [--payload-file F]
//   srtp_peer recv --ns NS --bind IP:PORT [--key B64 --suite S [--mki V:L]] --count N --timeout-ms N [--rtcp]
//   srtp_peer flood --ns NS --bind IP:PORT --to IP:PORT --ssrc N --seq N --duration-ms N
//
// send --order "1,0,3,3,..." sends seq+k for each k in turn (a k sent before goes out again
// byte for byte: a duplicate). flood sends RTP with made-up 10-byte tags (what a forger
// without the key can do), fresh sequence numbers from --seq on, as fast as it can for
// --duration-ms, and prints {"sent":N,"seconds":S,"pps":R}. Sockets are opened with
// SO_REUSEPORT so that a flood can come from the very address:port a sender uses.
//
// Suites: every one rtprelay has (AES_CM_128_HMAC_SHA1_80/_32, AES_256_CM_HMAC_SHA1_80/_32,
// AEAD_AES_128_GCM, AEAD_AES_256_GCM), the key's length the suite's (base64, '=' optional);
// --mki V:L: the key's MKI as in a=crypto (value V in L bytes), carried in every packet.
// --payload-file: the RTP payloads are the file's bytes, 160 per packet in turn (G.711 audio
// made with sox, for the recording tests), sent on an absolute schedule (start + i *
// interval, so a long run does not drift) with timestamps advancing 160 per packet.
// Without --key the packets are plain RTP/RTCP. Payloads are a pattern derived from
// (ssrc, seq) so the receiver checks every byte. `recv` prints one JSON line:
// {"received":N,"ok":N,"auth_failed":N,"bad_payload":N,"from":"ip:port","max_gap_ms":G}
// where G is the longest time between two good packets in a row (a relay's failover gap).

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sched.h>
#include <srtp2/srtp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

struct args {
    std::string mode;
    std::map<std::string, std::string> kv;
    std::string get(const std::string& k, const std::string& d = "") const {
        auto it = kv.find(k);
        return it == kv.end() ? d : it->second;
    }
    long num(const std::string& k, long d) const { return kv.count(k) ? std::strtol(kv.at(k).c_str(), nullptr, 0) : d; }
};

[[noreturn]] void die(const std::string& m) {
    std::fprintf(stderr, "srtp_peer: %s\n", m.c_str());
    std::exit(2);
}

// IP:PORT, or [IPv6]:PORT.
struct peer_addr {
    sockaddr_storage ss{};
    socklen_t len = 0;
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&ss); }
};

peer_addr parse_addr(const std::string& s) {
    const size_t c = s.rfind(':');
    if (c == std::string::npos) {
        die("bad address " + s);
    }
    peer_addr a;
    const auto port = htons(static_cast<uint16_t>(std::stoi(s.substr(c + 1))));
    std::string host = s.substr(0, c);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        auto* a6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
        a6->sin6_family = AF_INET6;
        a6->sin6_port = port;
        if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &a6->sin6_addr) != 1) {
            die("bad address " + s);
        }
        a.len = sizeof(sockaddr_in6);
        return a;
    }
    auto* a4 = reinterpret_cast<sockaddr_in*>(&a.ss);
    a4->sin_family = AF_INET;
    a4->sin_port = port;
    if (inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1) {
        die("bad address " + s);
    }
    a.len = sizeof(sockaddr_in);
    return a;
}

std::string format_addr(const sockaddr_storage& ss) {
    char ip[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_INET6) {
        const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
        return "[" + std::string(ip) + "]:" + std::to_string(ntohs(a6->sin6_port));
    }
    const auto* a4 = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
    return std::string(ip) + ":" + std::to_string(ntohs(a4->sin_port));
}

int open_socket(const std::string& ns, const std::string& bind_to) {
    if (!ns.empty()) {
        const int fd = open(("/var/run/netns/" + ns).c_str(), O_RDONLY);
        if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
            die("cannot enter namespace " + ns);
        }
        close(fd);
    }
    const peer_addr a = parse_addr(bind_to);
    const int s = socket(a.ss.ss_family, SOCK_DGRAM, 0);
    const int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (s < 0 || bind(s, a.get(), a.len) != 0) {
        die("cannot bind " + bind_to);
    }
    return s;
}

// Standard base64 with or without '=' padding.
std::vector<uint8_t> decode_key(std::string b64) {
    while (!b64.empty() && b64.back() == '=') {
        b64.pop_back();
    }
    const size_t pad = (4 - b64.size() % 4) % 4;
    const size_t bytes = b64.size() / 4 * 3 + (b64.size() % 4 == 0 ? 0 : b64.size() % 4 - 1);
    b64.append(pad, '=');
    std::vector<uint8_t> out(b64.size());
    const int n =
        EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
    if (n < static_cast<int>(bytes) || pad == 3) {
        die("key is not base64");
    }
    out.resize(bytes);
    return out;
}

// libsrtp2's policy setters of each suite (for SRTP and for SRTCP, whose tag is 80 bits
// with every AES-CM suite), and its key + salt length in bytes. AES_CM_128_HMAC_SHA1_80's
// setter is a macro for srtp_crypto_policy_set_rtp_default, whose address is taken here.
struct suite_row {
    const char* name;
    void (*rtp)(srtp_crypto_policy_t*);
    void (*rtcp)(srtp_crypto_policy_t*);
    size_t key_len;
};
const suite_row suites[] = {
    {"AES_CM_128_HMAC_SHA1_80", srtp_crypto_policy_set_rtp_default, srtp_crypto_policy_set_rtp_default, 30},
    {"AES_CM_128_HMAC_SHA1_32", srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32, srtp_crypto_policy_set_rtp_default, 30},
    {"AES_256_CM_HMAC_SHA1_80", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
     srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80, 46},
    {"AES_256_CM_HMAC_SHA1_32", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32,
     srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80, 46},
    {"AEAD_AES_128_GCM", srtp_crypto_policy_set_aes_gcm_128_16_auth, srtp_crypto_policy_set_aes_gcm_128_16_auth, 28},
    {"AEAD_AES_256_GCM", srtp_crypto_policy_set_aes_gcm_256_16_auth, srtp_crypto_policy_set_aes_gcm_256_16_auth, 44},
};

bool use_mki = false;  // --mki given: every packet carries it

srtp_err_status_t protect(srtp_t s, uint8_t* buf, int* len, bool rtcp) {
    return rtcp ? srtp_protect_rtcp_mki(s, buf, len, use_mki, 0) : srtp_protect_mki(s, buf, len, use_mki, 0);
}
srtp_err_status_t unprotect(srtp_t s, uint8_t* buf, int* len, bool rtcp) {
    return rtcp ? srtp_unprotect_rtcp_mki(s, buf, len, use_mki) : srtp_unprotect_mki(s, buf, len, use_mki);
}

srtp_t make_session(const args& a, bool inbound, std::vector<uint8_t>& key) {
    if (a.get("key").empty()) {
        return nullptr;
    }
    key = decode_key(a.get("key"));
    const std::string name = a.get("suite", "AES_CM_128_HMAC_SHA1_80");
    const suite_row* row = nullptr;
    for (const suite_row& r : suites) {
        if (name == r.name) {
            row = &r;
        }
    }
    if (row == nullptr) {
        die("unknown suite " + name);
    }
    if (key.size() != row->key_len) {
        die("key of " + std::to_string(key.size()) + " bytes for " + name);
    }
    srtp_policy_t p{};
    // A process sends or receives RTP or RTCP, never both: an RTCP one takes the SRTCP policy
    // for both halves (libsrtp2 2.5 would look for an SRTCP MKI at the SRTP tag's distance).
    (a.kv.count("rtcp") != 0 ? row->rtcp : row->rtp)(&p.rtp);
    row->rtcp(&p.rtcp);
    p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    static uint8_t mki[4];
    static srtp_master_key_t with_mki;
    static srtp_master_key_t* keys[1] = {&with_mki};
    if (!a.get("mki").empty()) {
        const std::string m = a.get("mki");
        const size_t colon = m.find(':');
        const unsigned long long value = std::strtoull(m.substr(0, colon).c_str(), nullptr, 10);
        const unsigned len = colon == std::string::npos ? 0 : static_cast<unsigned>(std::stoul(m.substr(colon + 1)));
        if (len < 1 || len > 4) {
            die("--mki wants VALUE:LENGTH with a length of 1 to 4 bytes");
        }
        for (unsigned i = 0; i < len; ++i) {
            mki[i] = static_cast<uint8_t>(value >> (8 * (len - 1 - i)));
        }
        with_mki = srtp_master_key_t{key.data(), mki, len};
        p.keys = keys;
        p.num_master_keys = 1;
        use_mki = true;
    } else {
        p.key = key.data();
    }
    p.window_size = 1024;
    srtp_t s = nullptr;
    if (srtp_create(&s, &p) != srtp_err_status_ok) {
        die("srtp_create failed");
    }
    return s;
}

uint8_t pattern(uint32_t ssrc, uint32_t seq, size_t i) {
    return static_cast<uint8_t>((ssrc * 7 + seq * 13 + i * 31) & 0xff);
}

// An RTP packet of `ssrc`/`seq` with the pattern payload, protected when `session` is set.
std::vector<uint8_t> make_rtp(srtp_t session, uint32_t ssrc, uint32_t seq) {
    std::vector<uint8_t> buf(2048);
    const uint32_t ts = seq * 160;
    const uint8_t hdr[12] = {0x80,
                             0,
                             static_cast<uint8_t>(seq >> 8),
                             static_cast<uint8_t>(seq),
                             static_cast<uint8_t>(ts >> 24),
                             static_cast<uint8_t>(ts >> 16),
                             static_cast<uint8_t>(ts >> 8),
                             static_cast<uint8_t>(ts),
                             static_cast<uint8_t>(ssrc >> 24),
                             static_cast<uint8_t>(ssrc >> 16),
                             static_cast<uint8_t>(ssrc >> 8),
                             static_cast<uint8_t>(ssrc)};
    std::memcpy(buf.data(), hdr, 12);
    for (int k = 0; k < 160; ++k) {
        buf[12 + static_cast<size_t>(k)] = pattern(ssrc, seq & 0xffff, static_cast<size_t>(k));
    }
    int len = 172;
    if (session != nullptr && protect(session, buf.data(), &len, false) != srtp_err_status_ok) {
        die("protect failed");
    }
    buf.resize(static_cast<size_t>(len));
    return buf;
}

int send_in_order(const args& a, int s, const peer_addr& to, srtp_t session, uint32_t ssrc, uint32_t seq,
                  const std::vector<long>& order, std::chrono::microseconds interval) {
    (void)a;
    std::map<long, std::vector<uint8_t>> sent;
    for (long k : order) {
        auto it = sent.find(k);
        if (it == sent.end()) {
            it = sent.emplace(k, make_rtp(session, ssrc, static_cast<uint32_t>(seq + k))).first;
        }
        sendto(s, it->second.data(), it->second.size(), 0, to.get(), to.len);
        std::this_thread::sleep_for(interval);
    }
    return 0;
}

int do_flood(const args& a) {
    const int s = open_socket(a.get("ns"), a.get("bind"));
    const peer_addr to = parse_addr(a.get("to"));
    const uint32_t ssrc = static_cast<uint32_t>(a.num("ssrc", 0x11223344));
    uint32_t seq = static_cast<uint32_t>(a.num("seq", 1000));
    const auto duration = std::chrono::milliseconds(a.num("duration-ms", 5000));
    constexpr unsigned batch = 32;
    std::vector<std::vector<uint8_t>> pkts(batch);
    mmsghdr msgs[batch];
    iovec iov[batch];
    uint64_t x = 0x9e3779b97f4a7c15ull ^ ssrc;
    long sent = 0;
    const auto start = std::chrono::steady_clock::now();
    auto now = start;
    while (now - start < duration) {
        for (unsigned i = 0; i < batch; ++i, ++seq) {
            pkts[i] = make_rtp(nullptr, ssrc, seq);
            for (size_t k = 12; k < pkts[i].size(); ++k) {
                pkts[i][k] ^= 0xff;  // not the sender's pattern: a forwarded forgery shows as bad_payload
            }
            for (int k = 0; k < 10; ++k) {  // a made-up tag
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                pkts[i].push_back(static_cast<uint8_t>(x));
            }
            iov[i] = {pkts[i].data(), pkts[i].size()};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_name = const_cast<sockaddr_storage*>(&to.ss);
            msgs[i].msg_hdr.msg_namelen = to.len;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int n = sendmmsg(s, msgs, batch, 0);
        if (n > 0) {
            sent += n;
        }
        now = std::chrono::steady_clock::now();
    }
    const double secs = std::chrono::duration<double>(now - start).count();
    std::printf("{\"sent\":%ld,\"seconds\":%.3f,\"pps\":%.0f}\n", sent, secs, static_cast<double>(sent) / secs);
    return 0;
}

int do_send(const args& a) {
    const int s = open_socket(a.get("ns"), a.get("bind"));
    const peer_addr to = parse_addr(a.get("to"));
    std::vector<uint8_t> key;
    srtp_t session = make_session(a, false, key);
    const uint32_t ssrc = static_cast<uint32_t>(a.num("ssrc", 0x11223344));
    const long count = a.num("count", 10);
    const bool rtcp = a.kv.count("rtcp") != 0;
    const long corrupt_every = a.num("corrupt-every", 0);
    uint32_t seq = static_cast<uint32_t>(a.num("seq", 1000));
    const auto interval = std::chrono::microseconds(a.num("interval-us", 2000));
    std::vector<uint8_t> audio;
    if (!a.get("payload-file").empty()) {
        FILE* f = std::fopen(a.get("payload-file").c_str(), "rb");
        if (f == nullptr) {
            die("cannot read " + a.get("payload-file"));
        }
        uint8_t chunk[4096];
        size_t n = 0;
        while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
            audio.insert(audio.end(), chunk, chunk + n);
        }
        std::fclose(f);
        if (audio.size() < 160) {
            die("payload file shorter than one packet");
        }
    }
    const auto start = std::chrono::steady_clock::now();
    std::vector<long> order;
    for (size_t at = 0, end = 0; at < a.get("order").size(); at = end + 1) {
        end = a.get("order").find(',', at);
        end = end == std::string::npos ? a.get("order").size() : end;
        order.push_back(std::strtol(a.get("order").substr(at, end - at).c_str(), nullptr, 0));
    }
    if (!order.empty()) {
        return send_in_order(a, s, to, session, ssrc, seq, order, interval);
    }
    for (long i = 0; i < count; ++i, ++seq) {
        uint8_t buf[2048];
        int len = 0;
        if (rtcp) {
            // Sender report, no report blocks; the pattern sits in the packet/octet counts.
            const uint8_t hdr[8] = {0x80,
                                    200,
                                    0,
                                    6,
                                    static_cast<uint8_t>(ssrc >> 24),
                                    static_cast<uint8_t>(ssrc >> 16),
                                    static_cast<uint8_t>(ssrc >> 8),
                                    static_cast<uint8_t>(ssrc)};
            std::memcpy(buf, hdr, 8);
            for (int k = 0; k < 20; ++k) {
                buf[8 + k] = pattern(ssrc, seq & 0xffff, static_cast<size_t>(k));
            }
            len = 28;
        } else {
            const uint32_t ts = seq * 160;
            const uint8_t hdr[12] = {0x80,
                                     0,
                                     static_cast<uint8_t>(seq >> 8),
                                     static_cast<uint8_t>(seq),
                                     static_cast<uint8_t>(ts >> 24),
                                     static_cast<uint8_t>(ts >> 16),
                                     static_cast<uint8_t>(ts >> 8),
                                     static_cast<uint8_t>(ts),
                                     static_cast<uint8_t>(ssrc >> 24),
                                     static_cast<uint8_t>(ssrc >> 16),
                                     static_cast<uint8_t>(ssrc >> 8),
                                     static_cast<uint8_t>(ssrc)};
            std::memcpy(buf, hdr, 12);
            for (int k = 0; k < 160; ++k) {
                buf[12 + k] = audio.empty()
                                  ? pattern(ssrc, seq & 0xffff, static_cast<size_t>(k))
                                  : audio[(static_cast<size_t>(i) * 160 + static_cast<size_t>(k)) % audio.size()];
            }
            len = 172;
        }
        if (session != nullptr) {
            const srtp_err_status_t st = protect(session, buf, &len, rtcp);
            if (st != srtp_err_status_ok) {
                die("protect failed");
            }
        }
        if (corrupt_every > 0 && (i % corrupt_every) == corrupt_every - 1) {
            buf[len - 1] ^= 0x5a;  // a forged tag
        }
        sendto(s, buf, static_cast<size_t>(len), 0, to.get(), to.len);
        if (audio.empty()) {
            std::this_thread::sleep_for(interval);
        } else {
            std::this_thread::sleep_until(start + (i + 1) * interval);
        }
    }
    return 0;
}

int do_recv(const args& a) {
    const int s = open_socket(a.get("ns"), a.get("bind"));
    std::vector<uint8_t> key;
    srtp_t session = make_session(a, true, key);
    const long count = a.num("count", 10);
    const bool rtcp = a.kv.count("rtcp") != 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(a.num("timeout-ms", 5000));
    long received = 0, ok = 0, auth_failed = 0, bad_payload = 0;
    std::string from;
    std::chrono::steady_clock::time_point last_ok{};
    double max_gap_ms = 0;
    while (ok < count && std::chrono::steady_clock::now() < deadline) {
        pollfd p{s, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) {
            continue;
        }
        uint8_t buf[2048];
        sockaddr_storage src{};
        socklen_t sl = sizeof(src);
        const ssize_t n = recvfrom(s, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&src), &sl);
        if (n <= 0) {
            continue;
        }
        ++received;
        from = format_addr(src);
        int len = static_cast<int>(n);
        if (session != nullptr) {
            const srtp_err_status_t st = unprotect(session, buf, &len, rtcp);
            if (st != srtp_err_status_ok) {
                ++auth_failed;
                continue;
            }
        }
        const uint32_t ssrc =
            rtcp ? (uint32_t{buf[4]} << 24 | uint32_t{buf[5]} << 16 | uint32_t{buf[6]} << 8 | buf[7])
                 : (uint32_t{buf[8]} << 24 | uint32_t{buf[9]} << 16 | uint32_t{buf[10]} << 8 | buf[11]);
        bool good = true;
        if (rtcp) {
            // The sender's seq is not in RTCP: accept any consistent pattern offset.
            good = len == 28;
        } else {
            const uint32_t seq = uint32_t{buf[2]} << 8 | buf[3];
            good = len == 172;
            for (int k = 0; good && k < 160; ++k) {
                good = buf[12 + k] == pattern(ssrc, seq, static_cast<size_t>(k));
            }
        }
        (good ? ok : bad_payload) += 1;
        if (good) {
            const auto now = std::chrono::steady_clock::now();
            if (ok > 1) {
                max_gap_ms = std::max(max_gap_ms, std::chrono::duration<double, std::milli>(now - last_ok).count());
            }
            last_ok = now;
        }
    }
    std::printf(
        "{\"received\":%ld,\"ok\":%ld,\"auth_failed\":%ld,\"bad_payload\":%ld,\"from\":\"%s\",\"max_gap_ms\":%.1f}\n",
        received, ok, auth_failed, bad_payload, from.c_str(), max_gap_ms);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        die("usage: srtp_peer send|recv --key value ...");
    }
    args a;
    a.mode = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string k = argv[i];
        if (k.rfind("--", 0) != 0) {
            die("unexpected argument " + k);
        }
        k = k.substr(2);
        if (k == "rtcp") {
            a.kv[k] = "1";
        } else if (i + 1 < argc) {
            a.kv[k] = argv[++i];
        } else {
            die("missing value for --" + k);
        }
    }
    if (srtp_init() != srtp_err_status_ok) {
        die("srtp_init failed");
    }
    setvbuf(stdout, nullptr, _IOLBF, 0);
    if (a.mode == "send") {
        return do_send(a);
    }
    if (a.mode == "recv") {
        return do_recv(a);
    }
    if (a.mode == "flood") {
        return do_flood(a);
    }
    die("unknown mode " + a.mode);
}
