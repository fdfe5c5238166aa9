#include "bench/loadgen/call_table.h"

#include "control/sdes/crypto_attr.h"

namespace rtprelay::loadgen {

std::vector<call_record> make_calls(uint32_t count, uint32_t sockets, int pid, uint32_t run, leg_mode mode) {
    std::vector<call_record> calls(count);
    const std::string prefix = "lg-" + std::to_string(pid) + "-" + (run == 0 ? "" : std::to_string(run) + "-");
    for (uint32_t i = 0; i < count; ++i) {
        call_record& c = calls[i];
        c.index = i;
        c.call_id = prefix + std::to_string(i);
        c.from_tag = c.call_id + "-a";
        c.to_tag = c.call_id + "-b";
        c.socket_index = i % sockets;
        const call_legs legs = legs_of(i, mode);
        c.srtp_a = legs.srtp_a;
        c.srtp_b = legs.srtp_b;
        if (c.srtp_a) {
            c.key_a = sdes::random_key(sdes::suite::aes_cm_128_hmac_sha1_80);  // what endpoint_sdp offers
        }
        if (c.srtp_b) {
            c.key_b = sdes::random_key(sdes::suite::aes_cm_128_hmac_sha1_80);
        }
    }
    return calls;
}

stream_set plan_streams(const std::vector<call_record>& calls, std::mt19937_64& rng) {
    stream_set set{{}, stream_index(calls.size() * 2)};
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
            // A's packets reach B protected with the relay's key toward B, which the
            // relay's offer (b_sends_to's SDP) announced, and the mirror image.
            const media_target& peer = from == side::a ? c.b_sends_to : c.a_sends_to;
            s.send_srtp = from == side::a ? c.srtp_a : c.srtp_b;
            if (s.send_srtp) {
                s.send_key = from == side::a ? c.key_a : c.key_b;
            }
            const bool receiver_srtp = from == side::a ? c.srtp_b : c.srtp_a;
            if (peer.srtp_key && receiver_srtp) {
                s.recv_srtp = true;
                s.recv_key = *peer.srtp_key;
                s.recv_suite = peer.srtp_suite.value_or(dp::srtp::suite::aes_cm_128_hmac_sha1_80);
            }
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
