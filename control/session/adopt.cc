// session_manager's part in groups (control/ha): adopting calls another node held, and
// withdrawing calls from addresses this node no longer holds. Kept apart from manager.cc,
// which is about offer/answer.

#include <rte_cycles.h>

#include "control/log.h"
#include "control/session/manager.h"

namespace rtprelay {

namespace {
bool uses(const call& c, const ip_address& addr) {
    for (const auto& l : c.legs) {
        for (const auto& s : l->streams) {
            if (s.allocated && s.local_addr == addr) {
                return true;
            }
        }
    }
    return false;
}
// A latched source carries over, and no learning window opens: each publish opens a window
// that only a packet heard after it from the latched source closes (latch.h); marking the
// source as heard a second from now, after the window's start, keeps it closed, so a
// stranger cannot take a plain leg at a takeover or resume (with the window closed and the
// leg latched, a stranger is refused before silence is looked at). The next offer/answer
// opens windows as usual. Written before publishing, while no worker sees these states
// (adopt), or while they have no flow entry (resume).
void keep_latches(call& c) {
    const uint64_t heard_tsc = rte_rdtsc() + rte_get_tsc_hz();
    for (auto& l : c.legs) {
        for (auto& s : l->streams) {
            for (dp::stream_state* st : {s.rtp_state.get(), s.rtcp_state.get()}) {
                if (st != nullptr && st->latched.load(std::memory_order_relaxed) != 0) {
                    st->heard_tsc = heard_tsc;
                }
            }
        }
    }
}

// The admitted pair's costs as a new call's offer would reckon them (manager.cc): the
// offering leg (no offerer) on admitted_ifs[0], the answering one on admitted_ifs[1], with
// the SDES states the call holds now. A side with no such leg is reckoned like a leg of
// its interface's first family without SRTP.
std::vector<leg_cost> adopted_costs(const admission& adm, const call& c) {
    std::vector<leg_cost> out;
    for (int k = 0; k < 2; ++k) {
        const bool offerer = k == 0;
        const leg* pick = nullptr;
        for (const auto& l : c.legs) {
            if (!l->parked && l->iface->index == c.admitted_ifs[k] && (l->offerer == nullptr) == offerer) {
                pick = l.get();
                break;
            }
        }
        uint64_t bps = adm.leg_bps(false, 0);
        if (pick != nullptr) {
            std::vector<sdes::stream_crypto> crypto;
            for (const auto& s : pick->streams) {
                crypto.push_back(s.crypto());
            }
            bps = leg_cost_of(adm, *pick, crypto, offerer);
        } else {
            for (const auto& l : c.legs) {
                if (l->iface->index == c.admitted_ifs[k]) {
                    bps = adm.leg_bps(l->iface->first_family() == ip_address::family::v6, 0);
                    break;
                }
            }
        }
        out.push_back({c.admitted_ifs[k], bps});
    }
    return out;
}
}  // namespace

std::vector<std::string> session_manager::calls_on(const ip_address& addr) const {
    std::vector<std::string> out;
    for (const auto& [id, c] : calls_) {
        if (uses(*c, addr)) {
            out.emplace_back(id);
        }
    }
    return out;
}

void session_manager::publish_call(call& c) {
    // Every active leg with its partner, once per pair (parked branches hold no ports).
    for (size_t i = 0; i < c.legs.size(); ++i) {
        leg& x = *c.legs[i];
        leg* y = x.parked ? nullptr : c.partner_of(&x);
        if (y == nullptr || y->parked) {
            continue;
        }
        bool first = true;
        for (size_t j = 0; j < i; ++j) {
            first = first && c.legs[j].get() != y;
        }
        if (!first) {
            continue;  // published from y's side already
        }
        const size_t n = std::min(x.streams.size(), y->streams.size());
        for (size_t k = 0; k < n; ++k) {
            if (!pub_.publish_pair(x, *y, k)) {
                throw session_error("Flow table full");
            }
        }
    }
}

void session_manager::adopt(std::unique_ptr<call> c) {
    if (calls_.count(c->call_id) != 0) {
        throw session_error("call-id already held here");
    }
    // Ports first: a port in use here means the record and this node disagree; refuse it
    // whole, giving back what was claimed.
    std::vector<std::pair<leg*, stream*>> claimed;
    for (auto& l : c->legs) {
        for (auto& s : l->streams) {
            if (!s.allocated) {
                continue;
            }
            if (!l->iface->take(s.alloc)) {
                for (auto& [cl, cs] : claimed) {
                    cl->iface->release(cs->alloc);
                }
                for (auto& ll : c->legs) {
                    for (auto& ss : ll->streams) {
                        ss.allocated = false;
                    }
                }
                throw session_error("port " + s.local_addr.to_string() + ":" + std::to_string(s.alloc.rtp_port) +
                                    " is in use here");
            }
            claimed.emplace_back(l.get(), &s);
        }
    }
    if (admission_ != nullptr && c->admitted) {
        // Each leg at what it costs here (this node's call-bandwidth or wire cost), kept in
        // admitted_bps so that closing the call gives back exactly that.
        const std::vector<leg_cost> legs = adopted_costs(*admission_, *c);
        admission_->reserve_legs(legs);
        for (int k = 0; k < 2; ++k) {
            c->admitted_bps[k] = legs[k].bps;
        }
    }
    keep_latches(*c);
    call& ref = *c;
    const std::string_view key = ref.call_id;
    calls_.emplace(key, std::move(c));
    try {
        publish_call(ref);
    } catch (...) {
        auto it = calls_.find(key);
        destroy(*it->second);
        calls_.erase(it);
        throw;
    }
    ++totals_.calls_adopted;
}

size_t session_manager::suspend_address(const ip_address& addr) {
    size_t n = 0;
    for (auto& [id, c] : calls_) {
        if (c->suspended || !uses(*c, addr)) {
            continue;
        }
        for (auto& l : c->legs) {
            for (auto& s : l->streams) {
                pub_.remove_entries(s);
            }
        }
        c->suspended = true;
        ++n;
    }
    return n;
}

size_t session_manager::resume_address(const ip_address& addr) {
    size_t n = 0;
    for (auto& [id, c] : calls_) {
        if (!c->suspended || !uses(*c, addr)) {
            continue;
        }
        c->suspended = false;
        keep_latches(*c);
        try {
            publish_call(*c);
        } catch (const session_error& e) {
            log::event(log::level::error, "call not resumed").field("call-id", c->call_id).field("reason", e.what());
        }
        ++n;
    }
    return n;
}

size_t session_manager::drop_address(const ip_address& addr) {
    size_t n = 0;
    for (auto it = calls_.begin(); it != calls_.end();) {
        auto next = std::next(it);
        if (uses(*it->second, addr)) {
            if (observer_ != nullptr) {
                observer_->call_moved(*it->second);
            }
            destroy(*it->second);
            calls_.erase(it);
            ++totals_.calls_dropped;
            ++n;
        }
        it = next;
    }
    return n;
}

}  // namespace rtprelay
