#pragma once
// A node's place in a high-availability group (README "High availability"): the group and
// node names, where Redis is (one address, or Sentinels and a master name), the ACL
// credentials, the key that seals call records, the media addresses this node serves when
// it starts, and the lease time. Parsed from relay/options; checked here, so that
// --check-config and start-up give the same message naming the option.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "control/address.h"
#include "control/ha/seal.h"

namespace rtprelay {
class interface_set;
}

namespace rtprelay::ha {

struct host_port {
    std::string host;  // a name or an address literal (IPv6 without brackets)
    uint16_t port = 0;
    std::string to_string() const;
};

// As the options give it (strings); validated into group_config by make_group_config.
struct group_options {
    std::string group;                        // empty: no group (a stand-alone node)
    std::string node;                         // empty: the host name
    std::string redis;                        // HOST:PORT of a single Redis
    std::vector<std::string> sentinels;       // HOST:PORT, repeatable
    std::string master_name = "rtprelay";     // the Sentinels' name for the master
    std::string user;                         // Redis ACL user (empty: default user)
    std::string password_file;                // first line is the password (empty: none)
    std::string key_file;                     // 64 hex digits: the group's sealing key
    std::vector<std::string> home_addresses;  // media addresses leased at start
    unsigned lease_ms = 600;
    unsigned redis_timeout_ms = 250;
    unsigned queue = 100000;  // record writes waiting for Redis
    // Floating NG addresses (README "NG addresses that move"): the management interface
    // they move on, and every node's NG address with its prefix ("198.19.0.11/24",
    // "2001:2:0:19::11/64"), the same list on every node. Both empty: NG addresses stay
    // where they are.
    std::string ng_float_interface;
    std::vector<std::string> ng_float_addresses;
    std::string ng_listen;  // --ng-listen: with floating addresses, one of them
    // --srtp-engine: a group needs "native", the engine whose contexts report and take the
    // indices a call record carries (README "SRTP after a takeover").
    std::string srtp_engine = "native";
};

struct group_config {
    std::string group;
    std::string node;
    std::vector<host_port> sentinels;  // empty: `redis` is the master
    host_port redis;
    std::string master_name;
    std::string user;
    std::string password;
    group_key key;
    std::vector<std::string> home_addresses;  // each one of the interfaces' addresses, spelt as they print it
    std::chrono::milliseconds lease{600};
    std::chrono::milliseconds redis_timeout{250};
    unsigned queue = 100000;
    // This node's NG address (--ng-listen), published in its heartbeat: a peer that gets an
    // NG request for one of this node's calls forwards it here. Peers must be in --ng-allow.
    std::string ng_address;
    // Floating NG addresses: leased like media addresses, in the same lease set (a node's NG
    // address moves with its media addresses, to the same taker). Empty: none.
    std::string ng_float_interface;
    std::vector<cidr> ng_float;  // every node's NG address, IPv4 or IPv6, with its prefix
    uint16_t ng_port = 0;        // --ng-listen's port: every floating address listens on it
    std::string ng_float_home;   // this node's own (--ng-listen's address), leased at start
};

// Parses "host:port", "[v6]:port". Throws std::invalid_argument with `option` in the text.
host_port parse_host_port(const std::string& option, const std::string& text);

// Checks everything (names, addresses, files) and reads the key and password files. Throws
// std::invalid_argument("option '--group-key-file': ...") on the first problem.
// `interfaces` are the parsed media interfaces: home addresses must be theirs.
group_config make_group_config(const group_options& o, const interface_set& interfaces);

}  // namespace rtprelay::ha
