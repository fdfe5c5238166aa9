#pragma once
// Burst SRTP: the native engine's transforms run for a whole burst of packets with
// intel-ipsec-mb's burst API, one call per stage: every HMAC-SHA1 of the burst in one hash
// burst, every AES-CTR in one cipher burst per AES key size, every AES-GCM in one job burst.
// The multi-buffer code keeps several packets' SHA-1 in flight (SHA-NI two at a time with the
// SSE manager, 8 or 16 lanes with AVX2 or AVX-512) and skips the per-packet call overhead of
// the single-packet path.
//
// Results are exactly those of calling unprotect_* and then protect_* (srtp.h) on each item
// in order: the same checks in the same order (parse, SSRC slot, index estimate, replay:
// the very functions of checks.h that the single-packet path calls; authenticate; only then
// decrypt and record), the same result codes, the same state. To
// keep that true without re-checking, a burst is cut into segments in which no context
// appears twice; a segment's packets are independent, so checking all of them against the
// state before the segment is what the one-by-one order would see. Packets of one stream in a
// burst go to successive segments ("layers", batch.cc), in their order. A forged or replayed
// packet costs one hash job and changes no state. Contexts of the libsrtp2 engine, or whose
// AES is not AES-NI, take the single-packet path (in order), as do segments shorter than
// min_batch(), where the burst calls cost more than they save.
//
// Threads: one burst_crypto per worker, used only by it (it holds two ipsec-mb managers,
// ~200 KB each: one for HMAC-SHA1 and AES-CTR on the fastest path for this CPU, one for
// AES-GCM on the process's GCM path, aes_gcm.h; and the job arrays, 3 x 64 x 200 B). No
// allocation, exception, lock, log or virtual call in run().

#include <cstdint>

#include "dataplane/srtp/srtp.h"

struct IMB_MGR;
struct IMB_JOB;

namespace rtprelay::dp::srtp {

// intel-ipsec-mb's code paths ("architectures"). automatic = time each one this CPU runs on
// a synthetic burst at construction and keep the fastest (on the AMD EPYC with SHA-NI and
// no AVX-512 that is sse, whose HMAC-SHA1 uses SHA-NI: 149 ns/pkt vs avx2's 8-lane 290).
enum class imb_arch : uint8_t { automatic, sse, avx, avx2, avx512 };
const char* imb_arch_name(imb_arch a) noexcept;

// One packet's work: unprotect with `in` (if not null), then protect with `out` (if not
// null and unprotect succeeded). `rtcp` selects SRTCP. `room`: bytes writable after the
// received packet. On return `res` is the first failure or ok and `len` the packet's new
// length; a failed unprotect leaves packet and length as they were, a failed protect after a
// successful unprotect leaves the unprotected packet (unprotected = true), as the one-by-one
// calls would.
struct batch_item {
    context* in = nullptr;
    context* out = nullptr;
    uint8_t* pkt = nullptr;
    uint32_t len = 0;
    uint32_t room = 0;
    bool rtcp = false;
    result res = result::ok;
    bool unprotected = false;  // out: the unprotect step succeeded (state recorded)
};

// One item on the single-packet path: unprotect_* then protect_* (srtp.h), as above.
void run_item(batch_item& it) noexcept;

class burst_crypto {
 public:
    static constexpr uint32_t max_items = 64;  // per run() call

    // Control plane: allocates the manager. Throws std::runtime_error when the library or the
    // CPU cannot run `a` (automatic never fails on a CPU with AES-NI and SSE4.1).
    explicit burst_crypto(imb_arch a = imb_arch::automatic);
    ~burst_crypto();
    burst_crypto(const burst_crypto&) = delete;
    burst_crypto& operator=(const burst_crypto&) = delete;

    imb_arch arch() const noexcept { return arch_; }
    // Segments with fewer batchable packets than this take the single-packet path.
    uint32_t min_batch() const noexcept { return min_batch_; }
    void set_min_batch(uint32_t n) noexcept { min_batch_ = n; }

    // Processes items[0, n) in order (see the header comment), max_items at a time at most.
    void run(batch_item* items, uint32_t n) noexcept;

    // The batched floor: one hash burst and one cipher burst over n packets of `len` bytes
    // (header 12), each with its own AES-CM context's keys, results discarded. For benchmarks.
    void floor_pass(context* const* ctxs, uint8_t* const* pkts, uint32_t n, uint32_t len) noexcept;

 private:
    struct pending;  // per item scratch, defined in batch_steps.h

    void run_in_order(batch_item* items, uint32_t n) noexcept;
    void run_layers(batch_item* items, uint32_t n) noexcept;
    void run_segment(batch_item* items, uint32_t n) noexcept;
    // run_segment's four steps (batch_steps.cc): unprotect verify -> decrypt, protect
    // encrypt -> tag. Each collects its jobs in the lists below and runs them.
    void unprotect_verify(batch_item* items, uint32_t n) noexcept;
    void unprotect_decrypt(batch_item* items) noexcept;
    void protect_encrypt(batch_item* items, uint32_t n) noexcept;
    void protect_tag(batch_item* items) noexcept;
    // Job lists: add_* fills the next job for item k, run_* submits a list (and empties it).
    void add_hash(uint32_t k, const context& c, const uint8_t* msg, uint32_t len) noexcept;
    void add_ctr(uint32_t k, const context& c, uint8_t* pkt, uint32_t from, uint32_t to) noexcept;
    void add_gcm(uint32_t k, const context& c, bool encrypt, uint8_t* pkt, uint32_t from, uint32_t to,
                 uint8_t* tag) noexcept;
    void run_hash() noexcept;
    void run_ctr() noexcept;
    void run_gcm() noexcept;
    // The same four steps for a segment of AES-CM-128 contexts without MKI only
    // (batch_cm.cc): the common case, without the suite-generic offsets and branches.
    void run_segment_cm(batch_item* items, uint32_t n) noexcept;
    void cm_hash(uint32_t n) noexcept;
    void cm_add_ctr(uint32_t i, uint32_t k, const context& c, uint8_t* pkt, uint32_t from, uint32_t to) noexcept;
    void cm_cipher(batch_item* items, uint32_t n, const uint8_t* job_item) noexcept;

    IMB_MGR* mgr_ = nullptr;        // HMAC-SHA1 and AES-CTR bursts
    IMB_MGR* gcm_mgr_ = nullptr;    // AES-GCM jobs (the process's GCM path)
    IMB_JOB* hash_jobs_ = nullptr;  // max_items, constant fields set once
    IMB_JOB* ctr_jobs_ = nullptr;   // 2 x max_items: AES-128 ones, then AES-256 ones
    pending* scratch_ = nullptr;    // max_items
    // The item of each job in the current lists, and how many: hash, ctr (by key size), gcm.
    uint8_t hash_item_[max_items] = {};
    uint8_t ctr_item_[2][max_items] = {};
    uint8_t gcm_item_[max_items] = {};
    uint32_t n_hash_ = 0;
    uint32_t n_ctr_[2] = {0, 0};
    uint32_t n_gcm_ = 0;
    // Items the protect steps carry from encrypt to tag, in order.
    uint8_t prot_item_[max_items] = {};
    uint32_t n_prot_ = 0;
    bool all_cm128_ = false;  // run(): every context of the current call is context::cm128_
    imb_arch arch_ = imb_arch::sse;
    uint32_t min_batch_ = 2;  // from 2 packets a batch costs less (srtp_batch_benchmark)
};

}  // namespace rtprelay::dp::srtp
