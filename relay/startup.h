#pragma once
// The pieces relay/main.cc's run() is made of, each a start-up step whose clean-up is its
// destructor (EAL, the launched workers) or a function that reads the options for one
// (the data plane's configuration, --check-config).

#include <memory>
#include <string>
#include <vector>

#include "control/recording/policy.h"
#include "dataplane/plane.h"

struct rte_ring;

namespace rtprelay {

class interface_set;
struct relay_options;

// DPDK's EAL for the life of run(): rte_eal_init in the constructor (throws, naming --eal),
// rte_eal_cleanup in the destructor, after everything that uses EAL (declared first,
// destroyed last).
class eal_session {
 public:
    explicit eal_session(const relay_options& opt);
    ~eal_session();
    eal_session(const eal_session&) = delete;
    eal_session& operator=(const eal_session&) = delete;

 private:
    std::vector<std::string> args_;  // EAL may keep pointers into its argv
};

// The launch step: from here on, every way out of run() stops and joins the workers first,
// before the control plane they publish from and the data plane they read go away; after
// the drain, or when something throws. Logs how many it joined.
class running_workers {
 public:
    explicit running_workers(dp::plane& p);
    ~running_workers() { stop(); }
    running_workers(const running_workers&) = delete;
    running_workers& operator=(const running_workers&) = delete;
    void stop();

 private:
    dp::plane& plane_;
};

// The data plane the options and interfaces describe: every DPDK port an interface names
// (which must exist: std::invalid_argument naming the interface otherwise), their media
// addresses, the tables sized by the options. EAL must be up.
dp::plane_config plane_config_for(const relay_options& opt, const interface_set& interfaces);

// The node's recording policy (--recording, --recording-channels). Throws
// std::invalid_argument when an interface records without --recording-dir, or that
// directory cannot be made or written (it is created, with done/, 0700).
recording::policy recording_policy_for(const relay_options& opt, const interface_set& interfaces);

// --check-config: validates what EAL is not needed for and prints a summary; throws
// std::invalid_argument naming the option otherwise.
void check_config(const relay_options& opt, const interface_set& interfaces);

// RTPRELAY_TEST_FAULT, read once at start-up, exists for the tests of the error paths
// (tests/relay/fault_test.sh) and is unset everywhere else:
//   ring=NAME     a ring called NAME exists before the data plane is built, so the plane's
//                 own rte_ring_create of that name fails (as it would without memory)
//   after-launch  run() throws as soon as the workers run
struct test_fault {
    std::string ring;
    bool after_launch = false;
};
test_fault read_test_fault();

struct ring_deleter {
    void operator()(rte_ring* r) const;
};
// The ring a test_fault asks for (null when none), freed with the caller's scope.
std::unique_ptr<rte_ring, ring_deleter> make_fault_ring(const test_fault& f);

}  // namespace rtprelay
