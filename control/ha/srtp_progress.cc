#include "control/ha/srtp_progress.h"

#include <algorithm>

namespace rtprelay::ha {

namespace {
using entry = srtp_progress::entry;

entry* find(std::vector<entry>& v, uint32_t ssrc) {
    for (auto& e : v) {
        if (e.ssrc == ssrc) {
            return &e;
        }
    }
    return nullptr;
}

// The highest ROC a taker seeded with `index` reaches (its estimate goes up to 2^15 ahead).
uint64_t roc_reach(uint64_t index) { return (index >> 16) + ((index & 0xffff) >= 0x8000 ? 1 : 0); }

// The highest index a node may send under what the record holds; RTP: the end of the ROC a
// taker reaches; RTCP: the reservation. No entry: a taker starts from nothing (ROC 0, SRTCP
// index 0), so nothing sent is covered by SRTCP and only ROC 0 by RTP.
constexpr uint64_t none = UINT64_MAX;

uint64_t covered(const entry* acked, bool rtcp) {
    if (acked == nullptr) {
        return rtcp ? none : 0xffff;
    }
    return rtcp ? acked->index : (roc_reach(acked->index) << 16) | 0xffff;
}

dp::srtp::context* context_of(srtp_contexts& c, int k) { return k < 2 ? c.in[k].get() : c.out[k - 2].get(); }
}  // namespace

scan_result scan_srtp(stream& s) {
    scan_result r;
    if (!s.contexts) {
        return r;
    }
    srtp_contexts& sc = *s.contexts;
    for (int k = 0; k < 4; ++k) {
        dp::srtp::context* ctx = context_of(sc, k);
        if (ctx == nullptr) {
            continue;
        }
        dp::srtp::context::ssrc_index now[dp::srtp::max_ssrcs];
        const size_t n = ctx->indices(now, dp::srtp::max_ssrcs);
        if (n == 0 && !sc.progress) {
            continue;
        }
        if (!sc.progress) {
            sc.progress = std::make_unique<srtp_progress>();
        }
        srtp_progress& p = *sc.progress;
        if (p.made[k] != ctx) {
            p.made[k] = ctx;  // a new context (re-key): its indices start over
            if (!p.written[k].empty() || !p.acked[k].empty()) {
                r.write = true;
            }
            p.written[k].clear();
            p.acked[k].clear();
        }
        const bool rtcp = (k % 2) == 1;
        const bool out = k >= 2;
        for (size_t i = 0; i < n; ++i) {
            const uint64_t t = now[i].index;
            entry* w = find(p.written[k], now[i].ssrc);
            if (w == nullptr) {
                p.written[k].push_back({now[i].ssrc, out && rtcp ? t + srtcp_block : t, 0, false});
                r.write = true;
                w = &p.written[k].back();
            } else if (out && rtcp) {
                if (t + srtcp_margin >= w->index) {
                    w->index = t + srtcp_block;
                    r.write = true;
                }
            } else if (out) {
                const bool moved = t > w->index ? t - w->index >= rtp_progress_step : w->index - t >= rtp_progress_step;
                const uint64_t want_roc = (t >> 16) + ((t & 0xffff) >= rtp_reserve_from_seq ? 1 : 0);
                if (moved || roc_reach(w->index) < want_roc) {
                    w->index = t;
                    r.write = true;
                }
            } else if (t >= w->index + (rtcp ? srtcp_in_step : rtp_progress_step)) {
                w->index = t;
                r.write = true;
            }
            if (out) {
                // Sent past what a taker could avoid reusing: each such index counted once.
                const entry* a = find(p.acked[k], now[i].ssrc);
                const uint64_t limit = covered(a, rtcp);
                uint64_t lo = w->seen_any ? w->seen + 1 : 0;
                if (limit != none) {
                    lo = std::max(lo, limit + 1);
                }
                if (t >= lo) {
                    r.exposed += t - lo + 1;
                }
                w->seen = std::max(w->seen, t);
                w->seen_any = true;
            }
        }
    }
    return r;
}

void srtp_acked(stream& s, uint64_t token) {
    if (!s.contexts || !s.contexts->progress || s.contexts->progress->token != token) {
        return;
    }
    srtp_progress& p = *s.contexts->progress;
    for (int k = 0; k < 4; ++k) {
        p.acked[k] = p.written[k];
    }
    p.token = 0;
}

}  // namespace rtprelay::ha
