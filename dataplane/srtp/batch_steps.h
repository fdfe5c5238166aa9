#pragma once
// What burst_crypto keeps per item between the steps of one segment (batch.h). Internal to
// dataplane/srtp: batch.cc allocates it, batch_steps.cc uses it.

#include <cstdint>

#include "dataplane/srtp/aes_ctr.h"
#include "dataplane/srtp/batch.h"
#include "dataplane/srtp/checks.h"
#include "dataplane/srtp/hmac_sha1.h"

namespace rtprelay::dp::srtp {

// All lengths in bytes. What every packet touches comes first; the SRTCP round keys (240
// bytes, AES-CM SRTCP only) last, so an RTP packet's scratch is the first three lines.
struct burst_crypto::pending {
    detail::packet_plan plan;    // what the checks of the current direction found
    uint32_t received_len = 0;   // as the item came in
    bool gcm = false;            // this item's current direction is AES-GCM
    bool done = false;           // every library job of the current step completed
    bool keys_expanded = false;  // rtcp_keys holds round keys to wipe after the pass
    uint8_t saved[4];            // unprotect, AES-CM RTP: the bytes the ROC is written over
    uint8_t received_tag[max_tag_len];
    alignas(16) uint8_t iv[16];                      // AES-CM: 16 bytes; AES-GCM: the first 12
    alignas(16) uint8_t tag[hmac_sha1::digest_len];  // HMAC (20) or GCM tag (16) computed
    // AES-GCM: the job (add_gcm) and its additional data.
    const context* gcm_ctx = nullptr;
    uint8_t* gcm_pkt = nullptr;
    const uint8_t* aad = nullptr;
    uint8_t* gcm_tag = nullptr;  // where the computed tag goes (unprotect: `tag`)
    uint32_t gcm_from = 0;       // the bytes it encrypts or decrypts: [from, to)
    uint32_t gcm_to = 0;
    uint32_t aad_len = 0;
    bool gcm_encrypt = false;
    uint8_t aad_buf[12];                                    // SRTCP: header || E/index
    alignas(16) uint8_t rtcp_keys[max_aes_round_keys_len];  // an AES-CM SRTCP context's, for one pass
};

}  // namespace rtprelay::dp::srtp
