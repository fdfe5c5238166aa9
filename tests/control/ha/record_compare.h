#pragma once
// Call records compared field by field, for the HA tests: a record read back (record_test)
// and one expanded from a ring slot (adopt_test) against the one they stand for.

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "control/ha/record.h"

namespace rtprelay::ha {

inline void expect_same_line(const crypto_line_record& a, const crypto_line_record& b) {
    EXPECT_EQ(a.tag, b.tag);
    EXPECT_EQ(a.suite, b.suite);
    EXPECT_EQ(a.unencrypted_srtcp, b.unencrypted_srtcp);
    EXPECT_EQ(0, std::memcmp(a.key, b.key, sizeof a.key));
    EXPECT_EQ(a.mki_len, b.mki_len);
    EXPECT_EQ(0, std::memcmp(a.mki, b.mki, sizeof a.mki));
    EXPECT_EQ(a.lifetime, b.lifetime);
}

inline bool same_endpoint(const endpoint_record& a, const endpoint_record& b) {
    return a.family == b.family && a.port == b.port && std::memcmp(a.addr, b.addr, sizeof a.addr) == 0;
}

// The same (SSRC, index) pairs in the same order.
inline void expect_same_indices(const std::vector<ssrc_index_record>& a, const std::vector<ssrc_index_record>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t m = 0; m < a.size(); ++m) {
        EXPECT_EQ(a[m].ssrc, b[m].ssrc);
        EXPECT_EQ(a[m].index, b[m].index);
    }
}

// Field by field: a and b are the same call record (gtest failures name what differs).
inline void expect_same_record(const call_record& a, const call_record& b) {
    EXPECT_EQ(a.call_id, b.call_id);
    EXPECT_EQ(a.owner, b.owner);
    EXPECT_EQ(a.created_unix_ms, b.created_unix_ms);
    EXPECT_EQ(a.last_signal_unix_ms, b.last_signal_unix_ms);
    EXPECT_EQ(a.answered_unix_ms, b.answered_unix_ms);
    EXPECT_EQ(a.delete_at_unix_ms, b.delete_at_unix_ms);
    EXPECT_EQ(a.admitted, b.admitted);
    EXPECT_EQ(a.admitted_ifs[0], b.admitted_ifs[0]);
    EXPECT_EQ(a.admitted_ifs[1], b.admitted_ifs[1]);
    EXPECT_EQ(a.recording, b.recording);
    ASSERT_EQ(a.legs.size(), b.legs.size());
    for (size_t i = 0; i < a.legs.size(); ++i) {
        const leg_record& x = a.legs[i];
        const leg_record& y = b.legs[i];
        EXPECT_EQ(x.tag, y.tag);
        EXPECT_EQ(x.iface, y.iface);
        EXPECT_EQ(x.strict_source, y.strict_source);
        EXPECT_EQ(x.parked, y.parked);
        EXPECT_EQ(x.offerer, y.offerer);
        EXPECT_EQ(x.created_unix_ms, y.created_unix_ms);
        ASSERT_EQ(x.streams.size(), y.streams.size());
        for (size_t j = 0; j < x.streams.size(); ++j) {
            const stream_record& s = x.streams[j];
            const stream_record& t = y.streams[j];
            EXPECT_EQ(s.flags, t.flags);
            EXPECT_EQ(s.address_index, t.address_index);
            EXPECT_EQ(s.rtp_port, t.rtp_port);
            EXPECT_TRUE(same_endpoint(s.local, t.local));
            EXPECT_TRUE(same_endpoint(s.peer_rtp, t.peer_rtp));
            EXPECT_TRUE(same_endpoint(s.peer_rtcp, t.peer_rtcp));
            EXPECT_EQ(s.media_type, t.media_type);
            EXPECT_EQ(s.proto, t.proto);
            EXPECT_EQ(s.latched_rtp, t.latched_rtp);
            EXPECT_EQ(s.latched_rtcp, t.latched_rtcp);
            EXPECT_EQ(0, std::memcmp(s.latched_rtp6, t.latched_rtp6, 16));
            EXPECT_EQ(0, std::memcmp(s.latched_rtcp6, t.latched_rtcp6, 16));
            expect_same_line(s.from_peer, t.from_peer);
            expect_same_line(s.to_peer, t.to_peer);
            ASSERT_EQ(s.offered.size(), t.offered.size());
            for (size_t k = 0; k < s.offered.size(); ++k) {
                expect_same_line(s.offered[k], t.offered[k]);
            }
            for (int k = 0; k < 2; ++k) {
                expect_same_indices(s.srtp_in[k], t.srtp_in[k]);
                expect_same_indices(s.srtp_out[k], t.srtp_out[k]);
            }
        }
    }
}

}  // namespace rtprelay::ha
