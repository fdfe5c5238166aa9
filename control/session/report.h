#pragma once
// What the session manager tells about a call and about its ports, as plain data.
// control/ng turns these into NG reply dicts (replies.h); nothing here knows the wire.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/address.h"

namespace rtprelay {

struct packet_counts {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    uint64_t errors = 0;
};

// One local port of a stream: its RTP port, or its RTCP port (port + 1).
struct port_report {
    bool rtcp = false;
    uint16_t local_port = 0;
    ip_address local_address;
    bool rtcp_mux = false;  // RTP port only: RTCP is multiplexed on it
    bool srtp = false;
    std::optional<endpoint> peer;        // latched source, else the SDP's address
    std::optional<endpoint> advertised;  // what the SDP said
    packet_counts counts;                // received from the peer
};

// One m= line on one leg.
struct media_report {
    size_t index = 0;  // 1-based, as in the SDP
    std::string type;
    std::string protocol;
    std::vector<port_report> ports;  // none when no ports are held (port 0, refused)
};

struct leg_report {
    std::string tag;
    std::string interface;
    std::optional<std::string> in_dialogue_with;
    std::vector<media_report> medias;
};

struct call_report {
    int64_t created_unix = 0;
    packet_counts rtp;   // every leg's RTP ports
    packet_counts rtcp;  // every leg's RTCP ports
    std::vector<leg_report> legs;
};

struct address_report {
    std::string address;
    uint64_t ports_free = 0;  // RTP/RTCP pairs
    uint64_t ports_used = 0;
};

struct interface_report {
    std::string name;
    std::vector<address_report> addresses;
};

}  // namespace rtprelay
