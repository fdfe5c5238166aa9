#include "bench/loadgen/packet_store.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <unordered_set>

#include "bench/loadgen/rtp_wire.h"
#include "control/sdes/crypto_attr.h"
#include "dataplane/checksum.h"
#include "dataplane/srtp/batch.h"

namespace rtprelay::loadgen {

namespace {

namespace csum = dp::csum;
namespace srtp = dp::srtp;

constexpr size_t cache_line = 64;
constexpr uint32_t srtp_tag_bytes = 10;  // AES_CM_128_HMAC_SHA1_80

size_t stride_of(uint32_t body_bytes) { return (body_bytes + cache_line - 1) / cache_line * cache_line; }

uint32_t body_bytes_of(uint32_t payload_bytes, bool with_srtp) {
    return static_cast<uint32_t>(rtp_header_bytes) + payload_bytes + (with_srtp ? srtp_tag_bytes : 0);
}

rtp_fields fields_of(const sender_identity& id, uint32_t k, uint32_t round, uint32_t ptime_ms) {
    rtp_fields f;
    f.marker = round == 0;
    f.seq = static_cast<uint16_t>(id.first_seq + round);
    f.timestamp = id.first_ts + round * (clock_rate_hz / 1000 * ptime_ms);
    f.ssrc = id.ssrc;
    f.call_index = k;
    return f;
}

}  // namespace

size_t packet_store::bytes_per_identity(uint32_t rounds, uint32_t payload_bytes, bool with_srtp) {
    return static_cast<size_t>(rounds) * stride_of(body_bytes_of(payload_bytes, with_srtp));
}

packet_store::packet_store(const params& p, std::mt19937_64& rng)
    : identities_(std::max<uint32_t>(p.identities, 1)),
      rounds_(std::max<uint32_t>(p.rounds, 1)),
      body_bytes_(body_bytes_of(p.payload_bytes, p.srtp)),
      stride_(stride_of(body_bytes_)),
      ids_(identities_),
      bytes_(static_cast<size_t>(identities_) * rounds_ * stride_),
      sums_(static_cast<size_t>(identities_) * rounds_) {
    const auto t0 = std::chrono::steady_clock::now();
    std::uniform_int_distribution<uint32_t> any32;
    // The wrap 65535 -> 0 falls on round w, rounds/4 <= w <= rounds/2: mid-run, and not so
    // early that a stream whose first packets were lost (a start-up burst the relay or the
    // link dropped) is first heard after the wrap, which no receiver could follow.
    std::uniform_int_distribution<uint32_t> wrap_round(std::max<uint32_t>(rounds_ / 4, 1),
                                                       std::max<uint32_t>(rounds_ / 2, 1));
    std::unordered_set<uint32_t> ssrcs;
    for (sender_identity& id : ids_) {
        do {
            id.ssrc = any32(rng);
        } while (!ssrcs.insert(id.ssrc).second);
        id.first_seq = static_cast<uint16_t>(65536 - wrap_round(rng));
        id.first_ts = any32(rng);
        if (p.srtp) {
            id.key = sdes::random_key(sdes::suite::aes_cm_128_hmac_sha1_80);  // the contexts below
        }
    }
    const uint32_t plain_len = body_bytes_of(p.payload_bytes, false);
    for (uint32_t r = 0; r < rounds_; ++r) {
        for (uint32_t k = 0; k < identities_; ++k) {
            write_rtp(mutable_body(k, r), p.payload_bytes, fields_of(ids_[k], k, r, p.ptime_ms));
        }
    }
    if (p.srtp) {
        protect_all(p, plain_len);
    }
    for (uint32_t r = 0; r < rounds_; ++r) {
        for (uint32_t k = 0; k < identities_; ++k) {
            sums_[static_cast<size_t>(r) * identities_ + k] = csum::fold64(csum::sum_bytes(body(k, r), body_bytes_));
        }
    }
    build_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Every identity's packets, round by round, in bursts of up to max_items identities: one
// context per identity, so a burst never holds a context twice and each context protects its
// packets in order (its index, hence its rollover counter, advances as a live sender's would).
void packet_store::protect_all(const params& p, uint32_t plain_len) {
    std::vector<std::unique_ptr<srtp::context>> ctx(identities_);
    std::vector<std::unique_ptr<srtp::context>> check(std::min(p.check_identities, identities_));
    for (uint32_t k = 0; k < identities_; ++k) {
        ctx[k] = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, ids_[k].key, false);
    }
    for (uint32_t k = 0; k < check.size(); ++k) {
        check[k] = srtp::make_context(srtp::engine::libsrtp2, srtp::suite::aes_cm_128_hmac_sha1_80, ids_[k].key, false);
    }
    srtp::burst_crypto crypto;
    std::vector<srtp::batch_item> items(srtp::burst_crypto::max_items);
    std::vector<uint8_t> plain(plain_len);
    std::vector<uint8_t> copy(body_bytes_);
    for (uint32_t r = 0; r < rounds_; ++r) {
        for (uint32_t k0 = 0; k0 < identities_; k0 += srtp::burst_crypto::max_items) {
            const uint32_t n = std::min(identities_ - k0, srtp::burst_crypto::max_items);
            for (uint32_t i = 0; i < n; ++i) {
                srtp::batch_item& it = items[i];
                it = srtp::batch_item{};
                it.out = ctx[k0 + i].get();
                it.pkt = mutable_body(k0 + i, r);
                it.len = plain_len;
                it.room = static_cast<uint32_t>(stride_ - plain_len);
            }
            crypto.run(items.data(), n);
            for (uint32_t i = 0; i < n; ++i) {
                if (items[i].res != srtp::result::ok || items[i].len != body_bytes_) {
                    throw std::runtime_error("SRTP protect failed while precomputing packets");
                }
            }
        }
        // libsrtp2 must give back exactly what was protected.
        for (uint32_t k = 0; k < check.size(); ++k) {
            write_rtp(plain.data(), p.payload_bytes, fields_of(ids_[k], k, r, p.ptime_ms));
            std::memcpy(copy.data(), body(k, r), body_bytes_);
            uint32_t len = body_bytes_;
            const srtp::result res = srtp::unprotect_rtp(*check[k], copy.data(), &len);
            ++checked_;
            if (res != srtp::result::ok || len != plain_len || std::memcmp(copy.data(), plain.data(), plain_len) != 0) {
                ++mismatched_;
            }
        }
    }
}

}  // namespace rtprelay::loadgen
