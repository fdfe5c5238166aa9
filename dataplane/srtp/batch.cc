// Burst SRTP on intel-ipsec-mb (see batch.h): the managers, and how a burst is cut into
// segments (in order, or by layers); a segment's four steps are in batch_steps.cc.

#define NO_COMPAT_IMB_API_053 1  // intel-ipsec-mb.h would otherwise #define SHA1 and friends
#include "dataplane/srtp/batch.h"

#include "dataplane/srtp/batch_steps.h"

#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "dataplane/srtp/aes_gcm.h"
#include "dataplane/srtp/checks.h"
#include "dataplane/srtp/engines.h"
#include "dataplane/srtp/packet.h"

namespace rtprelay::dp::srtp {

namespace {

bool batchable(const context* c) noexcept {
    return c == nullptr || (c->which_engine() == engine::native && c->aes() == aes_impl::aesni);
}

struct arch_entry {
    imb_arch arch;
    void (*init)(IMB_MGR*);
    uint64_t needs;  // IMB_FEATURE_* this path requires
};

const arch_entry arch_table[] = {
    {imb_arch::sse, init_mb_mgr_sse, IMB_CPUFLAGS_SSE},
    {imb_arch::avx, init_mb_mgr_avx, IMB_CPUFLAGS_AVX},
    {imb_arch::avx2, init_mb_mgr_avx2, IMB_CPUFLAGS_AVX2},
    {imb_arch::avx512, init_mb_mgr_avx512, IMB_CPUFLAGS_AVX512},
};

uint64_t cpu_features() {
    IMB_MGR* probe = alloc_mb_mgr(0);
    if (probe == nullptr) {
        throw std::runtime_error("intel-ipsec-mb: alloc_mb_mgr failed");
    }
    const uint64_t f = probe->features;
    free_mb_mgr(probe);
    return f;
}

}  // namespace

const char* imb_arch_name(imb_arch a) noexcept {
    switch (a) {
        case imb_arch::automatic:
            return "automatic";
        case imb_arch::sse:
            return "sse";
        case imb_arch::avx:
            return "avx";
        case imb_arch::avx2:
            return "avx2";
        case imb_arch::avx512:
            return "avx512";
    }
    return "unknown";
}

burst_crypto::burst_crypto(imb_arch a) {
    const uint64_t features = cpu_features();
    std::vector<const arch_entry*> candidates;
    for (const arch_entry& e : arch_table) {
        if ((features & e.needs) == e.needs && (a == imb_arch::automatic || a == e.arch)) {
            candidates.push_back(&e);
        }
    }
    if (candidates.empty()) {
        throw std::runtime_error(std::string("intel-ipsec-mb: this CPU cannot run the ") + imb_arch_name(a) +
                                 " code path");
    }
    hash_jobs_ = new IMB_JOB[max_items]();
    ctr_jobs_ = new IMB_JOB[2 * max_items]();
    scratch_ = new pending[max_items]();
    for (uint32_t i = 0; i < max_items; ++i) {
        IMB_JOB& h = hash_jobs_[i];
        h.hash_alg = IMB_AUTH_HMAC_SHA_1;
        h.cipher_mode = IMB_CIPHER_NULL;
        h.chain_order = IMB_ORDER_HASH_CIPHER;
        h.hash_start_src_offset_in_bytes = 0;
        h.auth_tag_output = scratch_[i].tag;
        h.auth_tag_output_len_in_bytes = hmac_sha1::digest_len;
        for (uint32_t size = 0; size < 2; ++size) {
            IMB_JOB& c = ctr_jobs_[size * max_items + i];
            c.cipher_mode = IMB_CIPHER_CNTR;
            c.cipher_direction = IMB_DIR_ENCRYPT;
            c.chain_order = IMB_ORDER_CIPHER_HASH;
            c.hash_alg = IMB_AUTH_NULL;
            c.key_len_in_bytes = size == 0 ? IMB_KEY_128_BYTES : IMB_KEY_256_BYTES;
            c.iv_len_in_bytes = 16;
            c.iv = scratch_[i].iv;
        }
    }
    if (cpu_has_aesni()) {
        gcm_mgr_ = alloc_mb_mgr(0);
        if (gcm_mgr_ == nullptr) {
            throw std::runtime_error("intel-ipsec-mb: alloc_mb_mgr failed");
        }
        init_gcm_manager(gcm_mgr_);
    }
    if (candidates.size() == 1) {
        mgr_ = alloc_mb_mgr(0);
        if (mgr_ == nullptr) {
            throw std::runtime_error("intel-ipsec-mb: alloc_mb_mgr failed");
        }
        candidates[0]->init(mgr_);
        arch_ = candidates[0]->arch;
        return;
    }
    // Time each path on bursts of 32 172-byte packets of 32 different keys (one cipher and
    // one hash burst per pass), best of 15 rounds of 8 passes: ~5 ms per path.
    std::mt19937_64 rng(1);
    std::vector<std::unique_ptr<context>> ctxs;
    std::vector<context*> cp;
    std::vector<std::vector<uint8_t>> bufs(32, std::vector<uint8_t>(256));
    std::vector<uint8_t*> pp;
    for (uint32_t i = 0; i < 32; ++i) {
        master_key k{};
        for (auto& b : k.key) {
            b = static_cast<uint8_t>(rng());
        }
        ctxs.push_back(make_context(engine::native, suite::aes_cm_128_hmac_sha1_80, k, false));
        cp.push_back(ctxs.back().get());
        pp.push_back(bufs[i].data());
    }
    // Rounds alternate between the paths and each keeps its best round, so that a round
    // slowed by another process on this core (shared machines) does not decide.
    std::vector<IMB_MGR*> mgrs;
    std::vector<const arch_entry*> paths;
    for (const arch_entry* e : candidates) {
        IMB_MGR* m = alloc_mb_mgr(0);
        if (m == nullptr) {
            continue;
        }
        e->init(m);
        if (imb_get_errno(m) != 0) {
            free_mb_mgr(m);
            continue;
        }
        mgrs.push_back(m);
        paths.push_back(e);
    }
    std::vector<double> best_ns(mgrs.size(), 1e18);
    for (int round = 0; round < 15; ++round) {
        for (size_t i = 0; i < mgrs.size(); ++i) {
            mgr_ = mgrs[i];
            const auto t0 = std::chrono::steady_clock::now();
            for (int pass = 0; pass < 8; ++pass) {
                floor_pass(cp.data(), pp.data(), 32, 172);
            }
            const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
            best_ns[i] = std::min(best_ns[i], ns);
        }
    }
    IMB_MGR* best = nullptr;
    size_t best_i = 0;
    for (size_t i = 0; i < mgrs.size(); ++i) {
        if (best == nullptr || best_ns[i] < best_ns[best_i]) {
            best = mgrs[i];
            best_i = i;
            arch_ = paths[i]->arch;
        }
    }
    for (IMB_MGR* m : mgrs) {
        if (m != best) {
            free_mb_mgr(m);
        }
    }
    mgr_ = best;
    if (mgr_ == nullptr) {
        throw std::runtime_error("intel-ipsec-mb: no usable code path");
    }
}

burst_crypto::~burst_crypto() {
    if (mgr_ != nullptr) {
        free_mb_mgr(mgr_);
    }
    if (gcm_mgr_ != nullptr) {
        free_mb_mgr(gcm_mgr_);
    }
    if (scratch_ != nullptr) {
        OPENSSL_cleanse(scratch_, sizeof(pending) * max_items);
    }
    delete[] scratch_;
    delete[] hash_jobs_;
    delete[] ctr_jobs_;
}

void run_item(batch_item& it) noexcept {
    it.res = result::ok;
    it.unprotected = false;
    const uint32_t received_len = it.len;
    if (it.in != nullptr) {
        it.res = it.rtcp ? unprotect_rtcp(*it.in, it.pkt, &it.len) : unprotect_rtp(*it.in, it.pkt, &it.len);
        if (it.res != result::ok) {
            return;
        }
        it.unprotected = true;
    }
    if (it.out != nullptr) {
        const uint32_t room = it.room + (received_len - it.len);
        it.res = it.rtcp ? protect_rtcp(*it.out, it.pkt, &it.len, room) : protect_rtp(*it.out, it.pkt, &it.len, room);
    }
}

void burst_crypto::run(batch_item* items, uint32_t n) noexcept {
    // The contexts' line 0 is read here anyway: whether the whole call can take the
    // AES-CM-128 steps (batch_cm.cc) costs a flag per context.
    bool cm128 = true;
    for (uint32_t i = 0; i < n; ++i) {
        const batch_item& it = items[i];
        if (!batchable(it.in) || !batchable(it.out) || (it.in == nullptr && it.out == nullptr)) {
            all_cm128_ = false;
            run_in_order(items, n);
            return;
        }
        cm128 = cm128 && (it.in == nullptr || it.in->cm128_) && (it.out == nullptr || it.out->cm128_);
    }
    all_cm128_ = cm128;
    while (n > max_items) {
        run_layers(items, max_items);
        items += max_items;
        n -= max_items;
    }
    run_layers(items, n);
}

// Segments cut at the first repeated context, in packet order: the path for bursts holding
// items the batch cannot take (libsrtp2 engine, no AES-NI), which run one by one in place.
void burst_crypto::run_in_order(batch_item* items, uint32_t n) noexcept {
    uint32_t start = 0;
    for (uint32_t i = 0; i < n; ++i) {
        batch_item& it = items[i];
        if (!batchable(it.in) || !batchable(it.out) || (it.in == nullptr && it.out == nullptr)) {
            run_segment(items + start, i - start);
            run_item(it);
            start = i + 1;
            continue;
        }
        if (i - start == max_items) {
            run_segment(items + start, i - start);
            start = i;
        }
        for (uint32_t j = start; j < i; ++j) {
            const batch_item& o = items[j];
            if ((it.in != nullptr && (it.in == o.in || it.in == o.out)) ||
                (it.out != nullptr && (it.out == o.in || it.out == o.out))) {
                run_segment(items + start, i - start);
                start = i;
                break;
            }
        }
    }
    run_segment(items + start, n - start);
}

// Grouping by stream without changing any result: an item's layer is one more than the
// highest layer of the earlier items that share one of its contexts, and the layers run as
// segments in turn. Items of one layer share no context, and every context meets its items
// in packet order, so each context sees exactly the one-by-one sequence; only the order
// between different streams' packets changes, which no result depends on. A burst of 8
// streams x 4 packets is then 4 batches of 8 (the cut-at-repeat order made it 29 single
// packets), and a stream's context, loaded by its first packet, is still in cache for the
// next. n <= max_items.
void burst_crypto::run_layers(batch_item* items, uint32_t n) noexcept {
    uint8_t layer[max_items];
    uint32_t layers = 1;
    // 512-bit filter of the contexts seen so far: the exact scan only on a hit.
    uint64_t seen[8] = {};
    auto bit = [](const context* c) {
        const auto h = static_cast<uint32_t>((reinterpret_cast<uintptr_t>(c) >> 6) * 0x9e3779b1u) >> 23;
        return std::pair<uint32_t, uint64_t>{h >> 6, uint64_t{1} << (h & 63)};
    };
    for (uint32_t i = 0; i < n; ++i) {
        const batch_item& it = items[i];
        uint32_t l = 0;
        bool maybe = false;
        for (const context* c : {it.in, it.out}) {
            if (c != nullptr) {
                const auto [w, b] = bit(c);
                maybe = maybe || (seen[w] & b) != 0;
                seen[w] |= b;
            }
        }
        if (maybe) {
            for (uint32_t j = 0; j < i; ++j) {
                const batch_item& o = items[j];
                if (layer[j] >= l && ((it.in != nullptr && (it.in == o.in || it.in == o.out)) ||
                                      (it.out != nullptr && (it.out == o.in || it.out == o.out)))) {
                    l = layer[j] + 1u;
                }
            }
        }
        layer[i] = static_cast<uint8_t>(l);
        layers = std::max(layers, l + 1);
    }
    if (layers == 1) {
        run_segment(items, n);
        return;
    }
    // Items by layer in one pass (counting sort, packet order kept within a layer).
    uint8_t start[max_items + 1] = {};
    for (uint32_t i = 0; i < n; ++i) {
        ++start[layer[i] + 1];
    }
    for (uint32_t l = 0; l < layers; ++l) {
        start[l + 1] = static_cast<uint8_t>(start[l + 1] + start[l]);
    }
    uint8_t order[max_items];
    uint8_t fill[max_items];
    std::memcpy(fill, start, layers);
    for (uint32_t i = 0; i < n; ++i) {
        order[fill[layer[i]]++] = static_cast<uint8_t>(i);
    }
    batch_item group[max_items];
    for (uint32_t l = 0; l < layers; ++l) {
        const uint32_t first = start[l];
        const uint32_t m = start[l + 1] - first;
        if (m < min_batch_) {
            // Too few for a batch (a burst that is one stream's run is all such layers):
            // one by one, in place.
            for (uint32_t k = 0; k < m; ++k) {
                run_item(items[order[first + k]]);
            }
            continue;
        }
        for (uint32_t k = 0; k < m; ++k) {
            group[k] = items[order[first + k]];
        }
        run_segment(group, m);
        for (uint32_t k = 0; k < m; ++k) {
            items[order[first + k]] = group[k];
        }
    }
}

}  // namespace rtprelay::dp::srtp
