// libFuzzer target: a group's call records as a node reads them from Redis
// (control/ha/record.h), and the calls it rebuilds from them (control/ha/snapshot.h).
//
// Input: byte 0 chooses what the rest is. Even: the stored value itself (header and sealed
// body), as anyone who can write to Redis could put there. Odd: a record body in the clear,
// which the target seals under the test key first, so that the parser behind the seal is
// reached (someone holding the group key: a buggy or newer node).
//
// Checked: a value is refused with a reason or decodes; a decoded record encodes and
// decodes again to the same call-id, owner and legs; rebuilding it against this node's
// interfaces either refuses with a reason or yields a call whose every stream with ports
// names an interface address and an even port in its range. Nothing crashes, leaks or reads
// out of bounds (ASan/UBSan).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "control/ha/record.h"
#include "control/ha/seal.h"
#include "control/ha/snapshot.h"
#include "control/interfaces.h"

namespace {

namespace ha = rtprelay::ha;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_ha_record: %s\n", what);
    std::abort();
}

const ha::group_key& key() {
    static const ha::group_key k = *ha::group_key::from_hex(std::string(64, '7'));
    return k;
}

rtprelay::interface_set& interfaces() {
    static rtprelay::interface_set* s = [] {
        auto* i = new rtprelay::interface_set;
        i->add(rtprelay::parse_interface("ext address=198.18.1.1/24,198.18.1.3/24 dpdk-port=0 ports=30000-30099", 1));
        i->add(rtprelay::parse_interface("int address=198.18.2.1/24 dpdk-port=1 ports=40000-40099", 2));
        return i;
    }();
    return *s;
}

constexpr std::string_view group = "fuzz";
constexpr std::string_view call_id = "c1";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string value;
    if ((data[0] & 1) != 0) {
        // A header of a version writers use (bit 2: 3, the recording's carried SDP after it;
        // bit 1: 2, the call's recording after the legs; else 1, no recording), the body
        // sealed as a writer would seal it.
        std::string head("rtpR\x01\x00\x00\x00", 8);
        head[4] = (data[0] & 4) != 0 ? '\x03' : (data[0] & 2) != 0 ? '\x02' : '\x01';
        std::string aad = head;
        aad.append(group);
        aad.push_back('\0');
        aad.append(call_id);
        value = head + ha::seal(key(), rest, aad);
    } else {
        value.assign(rest);
    }
    ha::decode_error why = ha::decode_error::none;
    auto rec = ha::decode_record(value, key(), group, call_id, &why);
    if (!rec) {
        if (why == ha::decode_error::none) {
            fail("refused without a reason");
        }
        return 0;
    }
    if (rec->call_id != call_id) {
        fail("decoded a record of another call");
    }
    const std::string again = ha::encode_record(*rec, key(), group);
    auto back = ha::decode_record(again, key(), group, call_id, &why);
    if (!back || back->owner != rec->owner || back->legs.size() != rec->legs.size()) {
        fail("a decoded record does not survive encode + decode");
    }
    std::string reason;
    const auto now = std::chrono::steady_clock::now();
    auto c = ha::rebuild_call(*rec, interfaces(), now, ha::unix_now_ms(), &reason);
    if (!c) {
        if (reason.empty()) {
            fail("rebuild refused without a reason");
        }
        return 0;
    }
    for (const auto& l : c->legs) {
        if (l->iface == nullptr) {
            fail("a leg without an interface");
        }
        for (const auto& s : l->streams) {
            if (!s.allocated) {
                continue;
            }
            if (s.alloc.address_index >= l->iface->addresses.size() ||
                !(l->iface->addresses[s.alloc.address_index].net.base == s.local_addr) || (s.alloc.rtp_port & 1) != 0 ||
                s.alloc.rtp_port < l->iface->port_min || s.alloc.rtp_port >= l->iface->port_max) {
                fail("rebuilt a stream outside this node's interfaces");
            }
        }
    }
    return 0;
}
