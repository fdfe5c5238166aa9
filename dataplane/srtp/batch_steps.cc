// The steps of one burst segment on intel-ipsec-mb (see batch.h). The per-packet checks are
// checks.h's, the ones the single-packet path runs; what changes is that the hashes and the
// ciphers of a segment are handed to the library together. Four steps, each at most one
// library call per job kind (HMAC-SHA1, AES-CTR per key size, AES-GCM):
//   unprotect: verify (checks; AES-CM hash burst; AES-GCM decrypt jobs, which compute the
//              tag as they decrypt) -> decrypt (compare tags, record; AES-CM cipher burst;
//              a forged AES-GCM packet is encrypted back);
//   protect:   encrypt (checks; AES-CM cipher burst; AES-GCM encrypt jobs, which write the
//              tag) -> tag (AES-CM hash burst; trailer, MKI, record).
// The HMAC covers header || payload || ROC; the ROC is written over the 4 bytes after the
// payload (unprotect, after saving them) or into the room the tag will take (protect), so
// every hash job is one contiguous buffer.

#define NO_COMPAT_IMB_API_053 1  // intel-ipsec-mb.h would otherwise #define SHA1 and friends
#include "dataplane/srtp/batch_steps.h"

#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "dataplane/srtp/aes_gcm.h"
#include "dataplane/srtp/engines.h"
#include "dataplane/srtp/packet.h"

namespace rtprelay::dp::srtp {

void burst_crypto::run_segment(batch_item* items, uint32_t n) noexcept {
    if (n == 0) {
        return;
    }
    if (n < min_batch_) {
        for (uint32_t k = 0; k < n; ++k) {
            run_item(items[k]);
        }
        return;
    }
    if (all_cm128_) {
        run_segment_cm(items, n);
        return;
    }
    unprotect_verify(items, n);
    unprotect_decrypt(items);
    protect_encrypt(items, n);
    protect_tag(items);
}

// --- Job lists ---
// add_hash, add_ctr, run_hash and run_ctr are inline (every use is in this file, floor_pass
// included): out of line, calls per packet took the burst path from 1.02x to 1.07x main's
// time (srtp_batch_benchmark batch/32, bench/RESULTS.md).

inline void burst_crypto::add_hash(uint32_t k, const context& c, const uint8_t* msg, uint32_t len) noexcept {
    IMB_JOB& j = hash_jobs_[n_hash_];
    j.src = msg;
    j.msg_len_to_hash_in_bytes = len;
    j.auth_tag_output = scratch_[k].tag;
    j.u.HMAC._hashed_auth_key_xor_ipad = reinterpret_cast<const uint8_t*>(c.auth_.inner_state());
    j.u.HMAC._hashed_auth_key_xor_opad = reinterpret_cast<const uint8_t*>(c.auth_.outer_state());
    hash_item_[n_hash_++] = static_cast<uint8_t>(k);
}

// Counter mode over pkt[from, to) in place, with the IV already in scratch_[k].iv.
inline void burst_crypto::add_ctr(uint32_t k, const context& c, uint8_t* pkt, uint32_t from, uint32_t to) noexcept {
    pending& p = scratch_[k];
    const uint32_t size = c.key_len() == 32 ? 1 : 0;
    IMB_JOB& j = ctr_jobs_[size * max_items + n_ctr_[size]];
    j.src = pkt;
    j.dst = pkt + from;  // ipsec-mb: dst is where the ciphered bytes go
    j.cipher_start_src_offset_in_bytes = from;
    j.msg_len_to_cipher_in_bytes = to - from;
    j.enc_keys = detail::native::round_keys(c, p.rtcp_keys);
    j.dec_keys = j.enc_keys;
    j.iv = p.iv;
    p.keys_expanded = c.rtcp();
    ctr_item_[size][n_ctr_[size]++] = static_cast<uint8_t>(k);
}

// AES-GCM over pkt[from, to) in place, with the IV in scratch_[k].iv and the AAD in
// scratch_[k].aad; the job itself is filled by run_gcm.
void burst_crypto::add_gcm(uint32_t k, const context& c, bool encrypt, uint8_t* pkt, uint32_t from, uint32_t to,
                           uint8_t* tag) noexcept {
    pending& p = scratch_[k];
    p.gcm_ctx = &c;
    p.gcm_encrypt = encrypt;
    p.gcm_pkt = pkt;
    p.gcm_from = from;
    p.gcm_to = to;
    p.gcm_tag = tag;
    gcm_item_[n_gcm_++] = static_cast<uint8_t>(k);
}

inline void burst_crypto::run_hash() noexcept {
    if (n_hash_ == 0) {
        return;
    }
    for (uint32_t i = 0; i < n_hash_; ++i) {
        hash_jobs_[i].status = IMB_STATUS_BEING_PROCESSED;
    }
    IMB_SUBMIT_HASH_BURST_NOCHECK(mgr_, hash_jobs_, n_hash_, IMB_AUTH_HMAC_SHA_1);
    for (uint32_t i = 0; i < n_hash_; ++i) {
        if (hash_jobs_[i].status != IMB_STATUS_COMPLETED) [[unlikely]] {
            scratch_[hash_item_[i]].done = false;
        }
    }
}

inline void burst_crypto::run_ctr() noexcept {
    for (uint32_t size = 0; size < 2; ++size) {
        const uint32_t n = n_ctr_[size];
        if (n == 0) {
            continue;
        }
        IMB_JOB* jobs = ctr_jobs_ + size * max_items;
        for (uint32_t i = 0; i < n; ++i) {
            jobs[i].status = IMB_STATUS_BEING_PROCESSED;
        }
        IMB_SUBMIT_CIPHER_BURST_NOCHECK(mgr_, jobs, n, IMB_CIPHER_CNTR, IMB_DIR_ENCRYPT,
                                        size == 0 ? IMB_KEY_128_BYTES : IMB_KEY_256_BYTES);
        for (uint32_t i = 0; i < n; ++i) {
            pending& p = scratch_[ctr_item_[size][i]];
            if (jobs[i].status != IMB_STATUS_COMPLETED) [[unlikely]] {
                p.done = false;
            }
            if (p.keys_expanded) {
                OPENSSL_cleanse(p.rtcp_keys, sizeof(p.rtcp_keys));
                p.keys_expanded = false;
            }
        }
    }
}

// The segment's AES-GCM jobs as one burst on the GCM manager; each item's `done` says
// whether its job completed.
void burst_crypto::run_gcm() noexcept {
    if (n_gcm_ == 0) {
        return;
    }
    IMB_JOB* jobs[max_items];
    const uint32_t got = IMB_GET_NEXT_BURST(gcm_mgr_, n_gcm_, jobs);
    for (uint32_t i = 0; i < n_gcm_; ++i) {
        scratch_[gcm_item_[i]].done = false;
    }
    for (uint32_t i = 0; i < got; ++i) {
        pending& p = scratch_[gcm_item_[i]];
        const context& c = *p.gcm_ctx;
        IMB_JOB& j = *jobs[i];
        j.cipher_mode = IMB_CIPHER_GCM;
        j.hash_alg = IMB_AUTH_AES_GMAC;
        j.cipher_direction = p.gcm_encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
        j.chain_order = p.gcm_encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
        j.key_len_in_bytes = c.key_len() == 32 ? IMB_KEY_256_BYTES : IMB_KEY_128_BYTES;
        j.enc_keys = c.tail();
        j.dec_keys = c.tail();
        j.src = p.gcm_pkt;
        j.dst = p.gcm_pkt + p.gcm_from;
        j.cipher_start_src_offset_in_bytes = p.gcm_from;
        j.msg_len_to_cipher_in_bytes = p.gcm_to - p.gcm_from;
        j.hash_start_src_offset_in_bytes = p.gcm_from;
        j.msg_len_to_hash_in_bytes = p.gcm_to - p.gcm_from;
        j.iv = p.iv;
        j.iv_len_in_bytes = gcm_iv_len;
        j.u.GCM.aad = p.aad;
        j.u.GCM.aad_len_in_bytes = p.aad_len;
        j.auth_tag_output = p.gcm_tag;
        j.auth_tag_output_len_in_bytes = gcm_tag_len;
        j.user_data = &p;
    }
    // AES-GCM jobs complete as they are submitted; a flush collects any the library held.
    uint32_t completed = got == 0 ? 0 : IMB_SUBMIT_BURST_NOCHECK(gcm_mgr_, got, jobs);
    for (uint32_t i = 0; i < completed; ++i) {
        static_cast<pending*>(jobs[i]->user_data)->done = jobs[i]->status == IMB_STATUS_COMPLETED;
    }
    while (completed < got) {
        const uint32_t more = IMB_FLUSH_BURST(gcm_mgr_, got - completed, jobs);
        if (more == 0) [[unlikely]] {
            break;
        }
        for (uint32_t i = 0; i < more; ++i) {
            static_cast<pending*>(jobs[i]->user_data)->done = jobs[i]->status == IMB_STATUS_COMPLETED;
        }
        completed += more;
    }
}

// --- Unprotect ---

// Step 1: the checks that need no crypto (checks.h), then per packet that passed them one
// hash job (AES-CM) or one decrypt job (AES-GCM), each kind run as one burst.
void burst_crypto::unprotect_verify(batch_item* items, uint32_t n) noexcept {
    n_hash_ = 0;
    n_gcm_ = 0;
    for (uint32_t k = 0; k < n; ++k) {
        batch_item& it = items[k];
        pending& p = scratch_[k];
        it.res = result::ok;
        it.unprotected = false;
        p.received_len = it.len;
        p.done = true;
        p.gcm = false;
        if (it.in == nullptr) {
            continue;
        }
        const context& c = *it.in;
        detail::packet_plan& plan = p.plan;
        if (const result r = detail::check_unprotect(c, it.rtcp, it.pkt, it.len, &plan); r != result::ok) {
            it.res = r;
            continue;
        }
        if (c.kind_ == transform::aes_gcm) {
            p.gcm = true;
            detail::make_gcm_iv(c.salt_.data(), plan.ssrc, plan.index, p.iv);
            if (it.rtcp) {
                p.aad_len = detail::native::srtcp_gcm_aad(it.pkt, plan, p.aad_buf, p.received_tag, &p.aad);
            } else {
                std::memcpy(p.received_tag, it.pkt + plan.tag_at, gcm_tag_len);
                p.aad = it.pkt;
                p.aad_len = plan.header_len;
            }
            add_gcm(k, c, false, it.pkt, plan.header_len, plan.encrypted ? plan.clear_end : plan.header_len, p.tag);
            continue;
        }
        std::memcpy(p.received_tag, it.pkt + plan.tag_at, c.tag_len_);
        uint32_t msg_len = plan.auth_len;
        if (!it.rtcp) {
            // The ROC over the 4 bytes after the payload (saved): one contiguous message.
            std::memcpy(p.saved, it.pkt + plan.auth_len, sizeof(p.saved));
            detail::store_be32(it.pkt + plan.auth_len, static_cast<uint32_t>(plan.index >> 16));
            msg_len += 4;
        }
        add_hash(k, c, it.pkt, msg_len);
    }
    run_hash();
    run_gcm();
}

// Step 2: compare tags; an authentic packet is recorded (AES-CM: its payload queued for
// decryption, one cipher burst per key size), a forged one is put back as it came.
void burst_crypto::unprotect_decrypt(batch_item* items) noexcept {
    n_ctr_[0] = n_ctr_[1] = 0;
    for (uint32_t h = 0; h < n_hash_; ++h) {
        const uint32_t k = hash_item_[h];
        batch_item& it = items[k];
        pending& p = scratch_[k];
        const detail::packet_plan& plan = p.plan;
        context& c = *it.in;
        const bool authentic = p.done && CRYPTO_memcmp(p.tag, p.received_tag, c.tag_len_) == 0;
        if (!authentic || (plan.is_new && !detail::native::reserve(c))) {
            if (!it.rtcp) {
                std::memcpy(it.pkt + plan.auth_len, p.saved, sizeof(p.saved));
            }
            it.res = !p.done ? result::engine_error : !authentic ? result::auth_failed : result::ssrc_limit;
            continue;
        }
        if (plan.encrypted && plan.clear_end > plan.header_len) {
            detail::make_iv(c.salt_.data(), plan.ssrc, plan.index, p.iv);
            add_ctr(k, c, it.pkt, plan.header_len, plan.clear_end);
        }
        it.len = plan.clear_end;
        it.unprotected = true;
        detail::native::commit(c, plan.slot, plan.is_new, plan.ssrc, plan.index);
    }
    for (uint32_t g = 0; g < n_gcm_; ++g) {
        const uint32_t k = gcm_item_[g];
        batch_item& it = items[k];
        pending& p = scratch_[k];
        const detail::packet_plan& plan = p.plan;
        context& c = *it.in;
        if (!p.done) [[unlikely]] {
            // Cannot happen with valid jobs; what the library did to the bytes is unknown.
            it.res = result::engine_error;
            continue;
        }
        const bool authentic = CRYPTO_memcmp(p.tag, p.received_tag, gcm_tag_len) == 0;
        if (authentic && (!plan.is_new || detail::native::reserve(c))) [[likely]] {
            it.len = plan.clear_end;
            it.unprotected = true;
            detail::native::commit(c, plan.slot, plan.is_new, plan.ssrc, plan.index);
            continue;
        }
        // Decrypted in place already: counter mode puts the bytes back, then the tag.
        uint8_t ignored[gcm_tag_len];
        detail::native::seal(c, p.iv, p.aad, p.aad_len, it.pkt + p.gcm_from, p.gcm_to - p.gcm_from, ignored);
        std::memcpy(it.pkt + plan.tag_at, p.received_tag, gcm_tag_len);
        it.res = authentic ? result::ssrc_limit : result::auth_failed;
    }
    run_ctr();
    for (uint32_t size = 0; size < 2; ++size) {
        for (uint32_t i = 0; i < n_ctr_[size]; ++i) {
            const uint32_t k = ctr_item_[size][i];
            if (!scratch_[k].done) [[unlikely]] {
                // Never pass on a half-decrypted packet as good.
                items[k].res = result::engine_error;
            }
        }
    }
}

// --- Protect ---

// Step 1: the checks (checks.h) and the index, then per packet that passed them one cipher
// job (AES-CM, a burst per key size) or one encrypt-and-tag job (AES-GCM, one burst).
void burst_crypto::protect_encrypt(batch_item* items, uint32_t n) noexcept {
    n_prot_ = 0;
    n_ctr_[0] = n_ctr_[1] = 0;
    n_gcm_ = 0;
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
        if (const result r = detail::check_protect(c, it.rtcp, it.pkt, len, room, &plan); r != result::ok) {
            it.res = r;
            continue;
        }
        if (plan.is_new && !detail::native::reserve(*it.out)) {
            it.res = result::ssrc_limit;
            continue;
        }
        prot_item_[n_prot_++] = static_cast<uint8_t>(k);
        p.done = true;
        p.gcm = c.kind_ == transform::aes_gcm;
        if (p.gcm) {
            detail::make_gcm_iv(c.salt_.data(), plan.ssrc, plan.index, p.iv);
            if (it.rtcp) {
                std::memcpy(p.aad_buf, it.pkt, detail::rtcp_header_len);
                const uint32_t word = 0x80000000u | static_cast<uint32_t>(plan.index);
                detail::store_be32(p.aad_buf + detail::rtcp_header_len, word);
                p.aad = p.aad_buf;
                p.aad_len = sizeof(p.aad_buf);
            } else {
                p.aad = it.pkt;
                p.aad_len = plan.header_len;
            }
            add_gcm(k, c, true, it.pkt, plan.header_len, len, it.pkt + len);
        } else if (len > plan.header_len) {
            detail::make_iv(c.salt_.data(), plan.ssrc, plan.index, p.iv);
            add_ctr(k, c, it.pkt, plan.header_len, len);
        }
    }
    run_ctr();
    run_gcm();
}

// Step 2: AES-CM: ROC (RTP) or E/index (SRTCP) after the payload, one hash burst, MKI and
// tag after it; AES-GCM: the tag is there already, E/index (SRTCP) and MKI after it. Only
// then is the index recorded.
void burst_crypto::protect_tag(batch_item* items) noexcept {
    n_hash_ = 0;
    for (uint32_t q = 0; q < n_prot_; ++q) {
        const uint32_t k = prot_item_[q];
        batch_item& it = items[k];
        const pending& p = scratch_[k];
        if (p.gcm) {
            continue;
        }
        const uint32_t word =
            it.rtcp ? 0x80000000u | static_cast<uint32_t>(p.plan.index) : static_cast<uint32_t>(p.plan.index >> 16);
        detail::store_be32(it.pkt + it.len, word);
        add_hash(k, *it.out, it.pkt, it.len + 4);
    }
    run_hash();
    for (uint32_t q = 0; q < n_prot_; ++q) {
        const uint32_t k = prot_item_[q];
        batch_item& it = items[k];
        const pending& p = scratch_[k];
        context& c = *it.out;
        if (!p.done) [[unlikely]] {
            it.res = result::engine_error;
            continue;
        }
        uint32_t at = it.len;
        if (p.gcm) {
            at += gcm_tag_len;
            if (it.rtcp) {
                std::memcpy(it.pkt + at, p.aad_buf + detail::rtcp_header_len, detail::srtcp_trailer_len);
                at += detail::srtcp_trailer_len;
            }
            detail::write_mki(it.pkt + at, c.mki(), c.mki_len());
            it.len = at + c.mki_len();
        } else {
            at += it.rtcp ? detail::srtcp_trailer_len : 0;
            detail::write_mki(it.pkt + at, c.mki(), c.mki_len());
            std::memcpy(it.pkt + at + c.mki_len(), p.tag, c.tag_len_);
            it.len = at + c.mki_len() + c.tag_len_;
        }
        detail::native::commit(c, p.plan.slot, p.plan.is_new, p.plan.ssrc, p.plan.index);
    }
}

// --- Benchmarks ---

void burst_crypto::floor_pass(context* const* ctxs, uint8_t* const* pkts, uint32_t n, uint32_t len) noexcept {
    n = std::min(n, max_items);
    n_hash_ = 0;
    n_ctr_[0] = n_ctr_[1] = 0;
    for (uint32_t i = 0; i < n; ++i) {
        add_ctr(i, *ctxs[i], pkts[i], detail::rtp_fixed_header_len, len);
        add_hash(i, *ctxs[i], pkts[i], len + 4);
    }
    run_ctr();
    run_hash();
}

}  // namespace rtprelay::dp::srtp
