#include "relay/ng_float.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <utility>

#include "control/log.h"
#include "control/ng/server.h"
#include "relay/announce_repeat.h"
#include "relay/kernel_address.h"

namespace rtprelay {

ng_float::ng_float(ng::ng_server& server, std::string ifname, std::vector<cidr> addresses, uint16_t port)
    : server_(server), ifname_(std::move(ifname)), addresses_(std::move(addresses)), port_(port) {
    remove_all(ifname_, addresses_);
    thread_ = std::thread([this] { run(); });
}

ng_float::~ng_float() { release_all(); }

std::string ng_float::endpoint(const cidr& a) const { return rtprelay::endpoint{a.base, port_}.to_string(); }

const cidr* ng_float::find(const std::string& address) const {
    for (const cidr& a : addresses_) {
        if (a.base.to_string() == address) {
            return &a;
        }
    }
    return nullptr;
}

void ng_float::set(const std::string& address, bool on) {
    const cidr* a = find(address);
    if (a == nullptr || !thread_.joinable()) {
        return;  // not ours, or released (stopping)
    }
    if (on) {
        try {
            server_.add_listener(endpoint(*a), true);
        } catch (const std::exception& e) {
            // Leased but not answered: the proxy's requests to it time out as if the node
            // were dead; the address still moves to this host so that nobody else answers.
            log::event(log::level::error, "NG socket on a floating address not opened")
                .field("address", endpoint(*a))
                .field("reason", e.what());
        }
    } else {
        server_.remove_listener(endpoint(*a));
    }
    {
        std::lock_guard<std::mutex> g(mu_);
        ops_.push_back({*a, on});
    }
    wake_.notify_one();
}

void ng_float::release_all() {
    // The kernel thread first: an addition it is making must not land after the removal.
    {
        std::lock_guard<std::mutex> g(mu_);
        stop_ = true;
        ops_.clear();
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    for (const cidr& a : addresses_) {
        server_.remove_listener(endpoint(a));
    }
    remove_all(ifname_, addresses_);
}

bool ng_float::remove_all(const std::string& ifname, const std::vector<cidr>& addresses) {
    bool ok = true;
    for (const cidr& a : addresses) {
        std::string why;
        if (!remove_kernel_address(ifname, a, &why)) {
            std::fprintf(stderr, "rtprelay: floating NG address %s on %s not removed: %s\n", a.to_string().c_str(),
                         ifname.c_str(), why.c_str());
            ok = false;
        }
    }
    return ok;
}

void ng_float::run() {
    using clock = std::chrono::steady_clock;
    std::vector<std::pair<cidr, clock::time_point>> repeats;  // announced once, again at .second
    std::unique_lock<std::mutex> g(mu_);
    while (!stop_) {
        auto until = clock::now() + std::chrono::seconds(1);
        for (const auto& r : repeats) {
            until = std::min(until, r.second);
        }
        wake_.wait_until(g, until, [this] { return stop_ || !ops_.empty(); });
        std::deque<op> batch;
        batch.swap(ops_);
        g.unlock();
        for (const op& o : batch) {
            std::string why;
            // A later removal cancels a pending second announcement.
            std::erase_if(repeats, [&](const auto& r) { return r.first.base == o.address.base; });
            if (!o.add) {
                if (remove_kernel_address(ifname_, o.address, &why)) {
                    log::event(log::level::info, "floating NG address removed")
                        .field("address", o.address.to_string())
                        .field("interface", ifname_);
                } else {
                    log::event(log::level::error, "floating NG address not removed")
                        .field("address", o.address.to_string())
                        .field("reason", why);
                }
                continue;
            }
            if (!add_kernel_address(ifname_, o.address, &why)) {
                log::event(log::level::error, "floating NG address not added")
                    .field("address", o.address.to_string())
                    .field("interface", ifname_)
                    .field("reason", why);
                continue;
            }
            const bool announced = announce_kernel_address(ifname_, o.address.base, &why);
            log::event(log::level::info, "floating NG address added")
                .field("address", o.address.to_string())
                .field("interface", ifname_)
                .field(o.address.base.is_v4() ? "gratuitous ARP" : "neighbour advertisement",
                       announced ? std::string("sent") : why);
            // Again repeat_announce later (relay/announce_repeat.h): the proxy must not send NG
            // to the old MAC until its cache entry ages out for one lost frame.
            repeats.emplace_back(o.address, clock::now() + repeat_announce);
        }
        const auto now = clock::now();
        for (auto it = repeats.begin(); it != repeats.end();) {
            if (it->second <= now) {
                std::string why;
                announce_kernel_address(ifname_, it->first.base, &why);
                it = repeats.erase(it);
            } else {
                ++it;
            }
        }
        g.lock();
    }
}

}  // namespace rtprelay
