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

uint32_t packet_store::shared_identities(uint64_t streams, uint64_t fit, leg_mode legs) {
    if (fit >= streams) {
        return static_cast<uint32_t>(streams);
    }
    const uint64_t unit = 2 * uint64_t{legs_period(legs)};
    return static_cast<uint32_t>(std::max(fit / unit * unit, unit));
}

size_t packet_store::bytes_per_identity(uint32_t rounds, uint32_t payload_bytes, bool with_srtp) {
    return static_cast<size_t>(rounds) * stride_of(body_bytes_of(payload_bytes, with_srtp));
}

packet_store::packet_store(const params& p, std::mt19937_64& rng)
    : identities_(std::max<uint32_t>(p.identities, 1)),
      rounds_(std::max<uint32_t>(p.rounds, 1)),
      plain_bytes_(body_bytes_of(p.payload_bytes, false)),
      srtp_bytes_(body_bytes_of(p.payload_bytes, true)),
      stride_(stride_of(p.legs == leg_mode::plain ? plain_bytes_ : srtp_bytes_)),
      legs_(p.legs),
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
    for (uint32_t k = 0; k < identities_; ++k) {
        sender_identity& id = ids_[k];
        do {
            id.ssrc = any32(rng);
        } while (!ssrcs.insert(id.ssrc).second);
        id.first_seq = static_cast<uint16_t>(65536 - wrap_round(rng));
        id.first_ts = any32(rng);
        if (srtp(k)) {
            id.key = sdes::random_key(sdes::suite::aes_cm_128_hmac_sha1_80);  // the contexts below
        }
    }
    for (uint32_t r = 0; r < rounds_; ++r) {
        for (uint32_t k = 0; k < identities_; ++k) {
            write_rtp(mutable_body(k, r), p.payload_bytes, fields_of(ids_[k], k, r, p.ptime_ms));
        }
    }
    if (p.legs != leg_mode::plain) {
        protect_all(p);
    }
    for (uint32_t r = 0; r < rounds_; ++r) {
        for (uint32_t k = 0; k < identities_; ++k) {
            sums_[static_cast<size_t>(r) * identities_ + k] = csum::fold64(csum::sum_bytes(body(k, r), body_bytes(k)));
        }
    }
    build_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Every SRTP identity's packets, round by round, in bursts of up to max_items identities: one
// context per identity, so a burst never holds a context twice and each context protects its
// packets in order (its index, hence its rollover counter, advances as a live sender's would).
// Plain identities (an RTP leg) stay as written.
void packet_store::protect_all(const params& p) {
    std::vector<uint32_t> sk;  // the SRTP identities
    for (uint32_t k = 0; k < identities_; ++k) {
        if (srtp(k)) {
            sk.push_back(k);
        }
    }
    std::vector<std::unique_ptr<srtp::context>> ctx(sk.size());
    std::vector<std::unique_ptr<srtp::context>> check(sk.size());  // libsrtp2, or null
    for (size_t j = 0; j < sk.size(); ++j) {
        const srtp::master_key& key = ids_[sk[j]].key;
        ctx[j] = srtp::make_context(srtp::engine::native, srtp::suite::aes_cm_128_hmac_sha1_80, key, false);
        if (sk[j] < p.check_identities) {
            check[j] = srtp::make_context(srtp::engine::libsrtp2, srtp::suite::aes_cm_128_hmac_sha1_80, key, false);
        }
    }
    srtp::burst_crypto crypto;
    std::vector<srtp::batch_item> items(srtp::burst_crypto::max_items);
    std::vector<uint8_t> plain(plain_bytes_);
    std::vector<uint8_t> copy(srtp_bytes_);
    const auto count = static_cast<uint32_t>(sk.size());
    for (uint32_t r = 0; r < rounds_; ++r) {
        for (uint32_t j0 = 0; j0 < count; j0 += srtp::burst_crypto::max_items) {
            const uint32_t n = std::min(count - j0, srtp::burst_crypto::max_items);
            for (uint32_t i = 0; i < n; ++i) {
                srtp::batch_item& it = items[i];
                it = srtp::batch_item{};
                it.out = ctx[j0 + i].get();
                it.pkt = mutable_body(sk[j0 + i], r);
                it.len = plain_bytes_;
                it.room = static_cast<uint32_t>(stride_ - plain_bytes_);
            }
            crypto.run(items.data(), n);
            for (uint32_t i = 0; i < n; ++i) {
                if (items[i].res != srtp::result::ok || items[i].len != srtp_bytes_) {
                    throw std::runtime_error("SRTP protect failed while precomputing packets");
                }
            }
        }
        // libsrtp2 must give back exactly what was protected.
        for (uint32_t j = 0; j < count; ++j) {
            if (check[j] == nullptr) {
                continue;
            }
            const uint32_t k = sk[j];
            write_rtp(plain.data(), p.payload_bytes, fields_of(ids_[k], k, r, p.ptime_ms));
            std::memcpy(copy.data(), body(k, r), srtp_bytes_);
            uint32_t len = srtp_bytes_;
            const srtp::result res = srtp::unprotect_rtp(*check[j], copy.data(), &len);
            ++checked_;
            if (res != srtp::result::ok || len != plain_bytes_ ||
                std::memcmp(copy.data(), plain.data(), plain_bytes_) != 0) {
                ++mismatched_;
            }
        }
    }
}

}  // namespace rtprelay::loadgen
