#include "bench/loadgen/call_table.h"

namespace rtprelay::loadgen {

std::vector<call_record> make_calls(uint32_t count, uint32_t sockets, int pid) {
    std::vector<call_record> calls(count);
    const std::string prefix = "lg-" + std::to_string(pid) + "-";
    for (uint32_t i = 0; i < count; ++i) {
        call_record& c = calls[i];
        c.index = i;
        c.call_id = prefix + std::to_string(i);
        c.from_tag = c.call_id + "-a";
        c.to_tag = c.call_id + "-b";
        c.socket_index = i % sockets;
    }
    return calls;
}

stream_set plan_streams(const std::vector<call_record>& calls, std::mt19937_64& rng) {
    stream_set set{{}, ssrc_index(calls.size() * 2)};
    std::uniform_int_distribution<uint32_t> any32;
    std::uniform_int_distribution<uint32_t> any16(0, 65535);
    for (const call_record& c : calls) {
        if (!c.set_up) {
            continue;
        }
        for (side from : {side::a, side::b}) {
            stream_plan s;
            s.call_index = c.index;
            s.from = from;
            s.socket_index = c.socket_index;
            s.first_seq = static_cast<uint16_t>(any16(rng));
            s.first_ts = any32(rng);
            const media_target& dst = from == side::a ? c.a_sends_to : c.b_sends_to;
            s.rtp_dst = dst.rtp;
            s.rtcp_dst = dst.rtcp;
            const auto stream = static_cast<uint32_t>(set.streams.size());
            do {
                s.ssrc = any32(rng);
            } while (!set.by_ssrc.insert(s.ssrc, stream));
            set.streams.push_back(s);
        }
    }
    return set;
}

}  // namespace rtprelay::loadgen
