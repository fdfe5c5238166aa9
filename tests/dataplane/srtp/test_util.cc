#include "tests/dataplane/srtp/test_util.h"

#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "dataplane/srtp/batch.h"

namespace rtprelay::dp::srtp::test {

bytes from_hex(std::string_view hex) {
    auto nibble = [](char ch) -> uint8_t {
        if (ch >= '0' && ch <= '9') {
            return static_cast<uint8_t>(ch - '0');
        }
        if (ch >= 'a' && ch <= 'f') {
            return static_cast<uint8_t>(ch - 'a' + 10);
        }
        if (ch >= 'A' && ch <= 'F') {
            return static_cast<uint8_t>(ch - 'A' + 10);
        }
        throw std::invalid_argument("not hex");
    };
    bytes out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<uint8_t>((nibble(hex[i]) << 4) | nibble(hex[i + 1])));
    }
    return out;
}

std::string to_hex(const bytes& b) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (const uint8_t x : b) {
        s += digits[x >> 4];
        s += digits[x & 15];
    }
    return s;
}

master_key key_from_hex(std::string_view hex) {
    const bytes b = from_hex(hex);
    if (b.size() != 30) {
        throw std::invalid_argument("master key + salt must be 30 bytes");
    }
    master_key k{};
    std::copy(b.begin(), b.begin() + 16, k.key.begin());
    std::copy(b.begin() + 16, b.end(), k.salt.begin());
    return k;
}

master_key random_key(std::mt19937_64& rng) {
    master_key k{};
    for (auto& x : k.key) {
        x = static_cast<uint8_t>(rng());
    }
    for (auto& x : k.salt) {
        x = static_cast<uint8_t>(rng());
    }
    return k;
}

bytes make_rtp(const rtp_spec& spec, std::mt19937_64& rng) {
    bytes p;
    p.push_back(static_cast<uint8_t>(0x80 | (spec.extension ? 0x10 : 0) | (spec.csrcs & 0x0f)));
    p.push_back(0);  // PT 0 (PCMU), no marker
    p.push_back(static_cast<uint8_t>(spec.seq >> 8));
    p.push_back(static_cast<uint8_t>(spec.seq));
    for (int i = 3; i >= 0; --i) {
        p.push_back(static_cast<uint8_t>(spec.ts >> (8 * i)));
    }
    for (int i = 3; i >= 0; --i) {
        p.push_back(static_cast<uint8_t>(spec.ssrc >> (8 * i)));
    }
    for (size_t i = 0; i < 4u * spec.csrcs; ++i) {
        p.push_back(static_cast<uint8_t>(rng()));
    }
    if (spec.extension) {
        p.push_back(0xbe);
        p.push_back(0xde);
        p.push_back(static_cast<uint8_t>(spec.ext_words >> 8));
        p.push_back(static_cast<uint8_t>(spec.ext_words));
        for (size_t i = 0; i < 4u * spec.ext_words; ++i) {
            p.push_back(static_cast<uint8_t>(rng()));
        }
    }
    for (size_t i = 0; i < spec.payload_len; ++i) {
        p.push_back(static_cast<uint8_t>(rng()));
    }
    return p;
}

bytes make_rtcp(uint32_t ssrc, size_t words, std::mt19937_64& rng) {
    bytes p;
    p.push_back(0x80);
    p.push_back(200);
    p.push_back(static_cast<uint8_t>((words + 1) >> 8));
    p.push_back(static_cast<uint8_t>(words + 1));
    for (int i = 3; i >= 0; --i) {
        p.push_back(static_cast<uint8_t>(ssrc >> (8 * i)));
    }
    for (size_t i = 0; i < 4 * words; ++i) {
        p.push_back(static_cast<uint8_t>(rng()));
    }
    return p;
}

namespace {

// RTPRELAY_SRTP_TEST_BATCH=1 (set by one of the meson test runs): native-engine calls go
// through the burst path (batch.h) as one-item bursts, so every test built on protect() and
// unprotect() below also checks it.
burst_crypto* batch_path() {
    static burst_crypto* b = [] {
        const char* v = std::getenv("RTPRELAY_SRTP_TEST_BATCH");
        if (v == nullptr || std::string_view(v) != "1") {
            return static_cast<burst_crypto*>(nullptr);
        }
        auto* p = new burst_crypto();
        p->set_min_batch(1);
        return p;
    }();
    return b;
}

bool run_batched(context& c, bool protect, uint8_t* buf, uint32_t* len, uint32_t room, result* r) {
    burst_crypto* b = batch_path();
    if (b == nullptr || c.which_engine() != engine::native) {
        return false;
    }
    batch_item it;
    (protect ? it.out : it.in) = &c;
    it.pkt = buf;
    it.len = *len;
    it.room = room;
    it.rtcp = c.rtcp();
    b->run(&it, 1);
    *r = it.res;
    if (it.res == result::ok) {
        *len = it.len;
    }
    return true;
}

}  // namespace

result protect(context& c, bytes& pkt) {
    auto len = static_cast<uint32_t>(pkt.size());
    const uint32_t room = c.overhead();
    bytes buf(pkt.begin(), pkt.end());
    buf.resize(pkt.size() + room);
    result r = result::ok;
    if (!run_batched(c, true, buf.data(), &len, room, &r)) {
        r = c.rtcp() ? protect_rtcp(c, buf.data(), &len, room) : protect_rtp(c, buf.data(), &len, room);
    }
    if (r == result::ok) {
        buf.resize(len);
        pkt = std::move(buf);
    } else if (len != pkt.size() || !std::equal(pkt.begin(), pkt.end(), buf.begin())) {
        throw std::logic_error("failed protect changed the packet");
    }
    return r;
}

result unprotect(context& c, bytes& pkt) {
    auto len = static_cast<uint32_t>(pkt.size());
    bytes buf(pkt);
    result r = result::ok;
    if (!run_batched(c, false, buf.data(), &len, 0, &r)) {
        r = c.rtcp() ? unprotect_rtcp(c, buf.data(), &len) : unprotect_rtp(c, buf.data(), &len);
    }
    if (r == result::ok) {
        buf.resize(len);
        pkt = std::move(buf);
    } else if (len != pkt.size() || buf != pkt) {
        throw std::logic_error("failed unprotect changed the packet");
    }
    return r;
}

}  // namespace rtprelay::dp::srtp::test
