#pragma once
// The control plane without workers, for tests that drive calls through NG requests: an
// interface set, a flow table and a neighbour table (no reader registered), the publisher
// over them, a session manager and ng::commands, with handle() sending a request through
// bencode both ways as the NG server does. Needs DPDK's EAL for the tables: link
// tests/support/eal_fixture.cc.
//
// A fixture derives from it (after ::testing::Test) and keeps using the members by name:
//
//   class my_test : public ::testing::Test, protected test::control_rig {
//       void SetUp() override { interfaces_.add(parse_interface("a ...", 1)); start(); }
//   };
//
// Interfaces are added (and the publisher set up, e.g. set_local_addresses) before start(),
// which makes the session manager and the commands; a test that needs its own admission or
// timeouts calls start() itself. Everything is torn down in dependency order when the
// fixture goes, after its TearDown (members of the fixture itself, such as an NG server
// in front of the commands, go first).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "control/admission/admission.h"
#include "control/interfaces.h"
#include "control/ng/bencode.h"
#include "control/ng/commands.h"
#include "control/publish/publisher.h"
#include "control/session/manager.h"
#include "dataplane/flow_table.h"
#include "dataplane/local_addresses.h"
#include "dataplane/neighbour_table.h"

namespace rtprelay::test {

class control_rig {
 protected:
    explicit control_rig(uint32_t flow_capacity = 4096, uint32_t neighbour_capacity = 256)
        : flows_(std::make_unique<dp::flow_table>(flow_capacity, 1, 0)),
          neighbours_(std::make_unique<dp::neighbour_table>(neighbour_capacity, 0)),
          pub_(std::make_unique<publisher>(*flows_, *neighbours_, 1)) {}
    ~control_rig() {
        commands_.reset();
        sessions_.reset();
        admission_.reset();
        pub_.reset();
        flows_->reclaim_all();  // no reader registered: every grace period is over
    }
    control_rig(const control_rig&) = delete;
    control_rig& operator=(const control_rig&) = delete;

    // Sessions under `adm` when given: the rig keeps it, so it outlives every call the
    // sessions still hold when a test stops early (their teardown releases into it).
    void start(session_timeouts t = {}, std::unique_ptr<admission> adm = nullptr) {
        admission_ = std::move(adm);
        sessions_ = std::make_unique<session_manager>(interfaces_, *pub_, t, admission_.get());
        commands_ = std::make_unique<ng::commands>(*sessions_, nullptr);
    }

    // Sends `req` through bencode both ways, as the NG server would. A request or reply
    // that does not survive the round trip fails the test (and gives an empty value), and
    // so does a reply that is not canonical bencode (keys in byte order, each once): the
    // delete/query reply is written without a tree (ng/call_stats.h), so its key order is
    // its writer's, not the encoder's.
    ng::value handle(const ng::value& req) {
        std::string err;
        const auto decoded = ng::decode(ng::encode(req), &err);
        EXPECT_TRUE(decoded.has_value()) << err;
        if (!decoded) {
            return ng::value();
        }
        const std::string bytes = ng::encode(commands_->reply_to(*decoded, std::chrono::steady_clock::now()));
        const auto back = ng::decode(bytes, &err);
        EXPECT_TRUE(back.has_value()) << err;
        if (!back) {
            return ng::value();
        }
        EXPECT_EQ(ng::encode(*back), bytes) << "reply not in canonical bencode";
        return *back;
    }

    // Entries left once every retired one is reclaimed.
    size_t flows_after_grace() {
        flows_->reclaim_all();
        return flows_->size();
    }

    std::unique_ptr<dp::flow_table> flows_;
    std::unique_ptr<dp::neighbour_table> neighbours_;
    // The data plane's local addresses, for a test with IPv6 flow keys (they name the
    // address by its slot): it fills them and hands them to pub_ (set_local_addresses). Here,
    // not in the fixture, so they outlive the sessions that unpublish through them.
    dp::local_addresses locals_;
    interface_set interfaces_;
    std::unique_ptr<publisher> pub_;
    std::unique_ptr<admission> admission_;  // null: none
    std::unique_ptr<session_manager> sessions_;
    std::unique_ptr<ng::commands> commands_;
};

}  // namespace rtprelay::test
