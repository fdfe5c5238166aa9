// The burst steps for segments whose every context is AES-CM-128 HMAC-SHA1 without an MKI
// (context::cm128_): the common case, kept to what it needs. The suite-generic steps
// (batch_steps.cc) place tag, MKI and SRTCP trailer by the context's suite, branch per
// packet between AES-CM and AES-GCM and keep a cipher list per AES key size; paid twice by an
// SRTP <-> SRTP packet, that cost AES_CM_128 1.4-4.8% in the pipeline bench against the
// code before the other suites (bench/RESULTS.md). Here the checks run with the offsets
// folded (checks.h, cm_no_mki), there is one cipher list (AES-128) and no AES-GCM burst.
// Results are those of the generic steps, which the tests compare against the single-packet
// path for every suite. Same four steps, same order (see batch_steps.cc):
//   unprotect: verify (checks, hash burst) -> decrypt (compare tags, record, cipher burst);
//   protect:   encrypt (checks, cipher burst) -> tag (hash burst, record).
// With no MKI the tag follows the payload, so the ROC goes over the received tag's first 4
// bytes (saved with it) and each hash job is one contiguous buffer.

#define NO_COMPAT_IMB_API_053 1  // intel-ipsec-mb.h would otherwise #define SHA1 and friends
#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>

#include <cstring>

#include "dataplane/srtp/batch_steps.h"
#include "dataplane/srtp/engines.h"
#include "dataplane/srtp/packet.h"

namespace rtprelay::dp::srtp {

void burst_crypto::cm_hash(uint32_t n) noexcept {
    if (n == 0) {
        return;
    }
    for (uint32_t i = 0; i < n; ++i) {
        hash_jobs_[i].status = IMB_STATUS_BEING_PROCESSED;
    }
    IMB_SUBMIT_HASH_BURST_NOCHECK(mgr_, hash_jobs_, n, IMB_AUTH_HMAC_SHA_1);
}

// AES-128 counter mode over pkt[from, to) in place as job `i` of the AES-128 list, the IV
// in scratch_[k].iv.
inline void burst_crypto::cm_add_ctr(uint32_t i, uint32_t k, const context& c, uint8_t* pkt, uint32_t from,
                                     uint32_t to) noexcept {
    pending& p = scratch_[k];
    IMB_JOB& j = ctr_jobs_[i];
    j.src = pkt;
    j.dst = pkt + from;  // ipsec-mb: dst is where the ciphered bytes go
    j.cipher_start_src_offset_in_bytes = from;
    j.msg_len_to_cipher_in_bytes = to - from;
    j.enc_keys = detail::native::round_keys(c, p.rtcp_keys);
    j.dec_keys = j.enc_keys;
    j.iv = p.iv;
}

// Runs the first n AES-128 cipher jobs; an item whose job the library failed becomes
// engine_error. Wipes the SRTCP round keys expanded for them (job_item[i]: job i's item).
void burst_crypto::cm_cipher(batch_item* items, uint32_t n, const uint8_t* job_item) noexcept {
    if (n == 0) {
        return;
    }
    for (uint32_t i = 0; i < n; ++i) {
        ctr_jobs_[i].status = IMB_STATUS_BEING_PROCESSED;
    }
    IMB_SUBMIT_CIPHER_BURST_NOCHECK(mgr_, ctr_jobs_, n, IMB_CIPHER_CNTR, IMB_DIR_ENCRYPT, IMB_KEY_128_BYTES);
    for (uint32_t i = 0; i < n; ++i) {
        if (ctr_jobs_[i].status != IMB_STATUS_COMPLETED) [[unlikely]] {
            items[job_item[i]].res = result::engine_error;
        }
        if (items[job_item[i]].rtcp) {
            OPENSSL_cleanse(scratch_[job_item[i]].rtcp_keys, sizeof(scratch_[job_item[i]].rtcp_keys));
        }
    }
}

void burst_crypto::run_segment_cm(batch_item* items, uint32_t n) noexcept {
    auto fill_hash = [](IMB_JOB& j, const context& c, const uint8_t* msg, uint32_t len, uint8_t* out) {
        j.src = msg;
        j.msg_len_to_hash_in_bytes = len;
        j.auth_tag_output = out;
        j.u.HMAC._hashed_auth_key_xor_ipad = reinterpret_cast<const uint8_t*>(c.auth_.inner_state());
        j.u.HMAC._hashed_auth_key_xor_opad = reinterpret_cast<const uint8_t*>(c.auth_.outer_state());
    };
    // --- Unprotect, verify: checks, one hash job per packet that passed them.
    uint32_t nh = 0;
    for (uint32_t k = 0; k < n; ++k) {
        batch_item& it = items[k];
        pending& p = scratch_[k];
        it.res = result::ok;
        it.unprotected = false;
        p.received_len = it.len;
        if (it.in == nullptr) {
            continue;
        }
        const context& c = *it.in;
        detail::packet_plan& plan = p.plan;
        if (const result r = detail::check_unprotect<true>(c, it.rtcp, it.pkt, it.len, &plan); r != result::ok) {
            it.res = r;
            continue;
        }
        std::memcpy(p.received_tag, it.pkt + plan.tag_at, c.tag_len_);
        uint32_t msg_len = plan.auth_len;
        if (!it.rtcp) {
            // The ROC over the tag's first 4 bytes (saved above): one contiguous message.
            detail::store_be32(it.pkt + plan.auth_len, static_cast<uint32_t>(plan.index >> 16));
            msg_len += 4;
        }
        fill_hash(hash_jobs_[nh], c, it.pkt, msg_len, p.tag);
        hash_item_[nh++] = static_cast<uint8_t>(k);
    }
    cm_hash(nh);

    // --- Unprotect, decrypt: compare tags, record, one cipher job per authentic payload.
    uint32_t nc = 0;
    uint8_t* const job_item = ctr_item_[0];
    for (uint32_t h = 0; h < nh; ++h) {
        const uint32_t k = hash_item_[h];
        batch_item& it = items[k];
        pending& p = scratch_[k];
        const detail::packet_plan& plan = p.plan;
        context& c = *it.in;
        const uint32_t tag_len = c.tag_len_;
        const bool hashed = hash_jobs_[h].status == IMB_STATUS_COMPLETED;
        const bool authentic = hashed && CRYPTO_memcmp(p.tag, p.received_tag, tag_len) == 0;
        if (!authentic || (plan.is_new && !detail::native::reserve(c))) {
            std::memcpy(it.pkt + plan.tag_at, p.received_tag, tag_len);  // puts back what the ROC took
            it.res = !hashed ? result::engine_error : !authentic ? result::auth_failed : result::ssrc_limit;
            continue;
        }
        if (plan.encrypted && plan.clear_end > plan.header_len) {
            detail::make_iv(c.salt_.data(), plan.ssrc, plan.index, p.iv);
            cm_add_ctr(nc, k, c, it.pkt, plan.header_len, plan.clear_end);
            job_item[nc++] = static_cast<uint8_t>(k);
        }
        it.len = plan.clear_end;
        it.unprotected = true;
        detail::native::commit(c, plan.slot, plan.is_new, plan.ssrc, plan.index);
    }
    // A failed job marks its item engine_error: never pass on a half-decrypted packet as good.
    cm_cipher(items, nc, job_item);

    // --- Protect, encrypt: checks and index, one cipher job per packet.
    uint32_t np = 0;
    nc = 0;
    for (uint32_t k = 0; k < n; ++k) {
        batch_item& it = items[k];
        if (it.out == nullptr || it.res != result::ok) {
            continue;
        }
        pending& p = scratch_[k];
        detail::packet_plan& plan = p.plan;
        const context& c = *it.out;
        const uint32_t len = it.len;
        const uint32_t room = it.room + (p.received_len - len);
        if (const result r = detail::check_protect<true>(c, it.rtcp, it.pkt, len, room, &plan); r != result::ok) {
            it.res = r;
            continue;
        }
        if (plan.is_new && !detail::native::reserve(*it.out)) {
            it.res = result::ssrc_limit;
            continue;
        }
        prot_item_[np++] = static_cast<uint8_t>(k);
        if (len > plan.header_len) {
            detail::make_iv(c.salt_.data(), plan.ssrc, plan.index, p.iv);
            cm_add_ctr(nc, k, c, it.pkt, plan.header_len, len);
            job_item[nc++] = static_cast<uint8_t>(k);
        }
    }
    cm_cipher(items, nc, job_item);  // a failed job's item: engine_error, not tagged below

    // --- Protect, tag: ROC (RTP) or E/index (SRTCP) after the payload, one hash burst, the
    // tag over it, and only then the index recorded.
    for (uint32_t q = 0; q < np; ++q) {
        const uint32_t k = prot_item_[q];
        batch_item& it = items[k];
        pending& p = scratch_[k];
        const uint32_t word =
            it.rtcp ? 0x80000000u | static_cast<uint32_t>(p.plan.index) : static_cast<uint32_t>(p.plan.index >> 16);
        detail::store_be32(it.pkt + it.len, word);
        fill_hash(hash_jobs_[q], *it.out, it.pkt, it.len + 4, p.tag);
    }
    cm_hash(np);
    for (uint32_t q = 0; q < np; ++q) {
        const uint32_t k = prot_item_[q];
        batch_item& it = items[k];
        const pending& p = scratch_[k];
        context& c = *it.out;
        if (it.res != result::ok || hash_jobs_[q].status != IMB_STATUS_COMPLETED) [[unlikely]] {
            it.res = result::engine_error;
            continue;
        }
        const uint32_t at = it.rtcp ? it.len + detail::srtcp_trailer_len : it.len;
        std::memcpy(it.pkt + at, p.tag, c.tag_len_);
        it.len = at + c.tag_len_;
        detail::native::commit(c, p.plan.slot, p.plan.is_new, p.plan.ssrc, p.plan.index);
    }
}

}  // namespace rtprelay::dp::srtp
