#pragma once
// The recording tests' call over IPv4: leg 0 (channel 0) from 198.18.0.10:4000 to the
// relay's 198.18.0.1:30000, leg 1 (channel 1) from 198.18.0.11:5000 to 198.18.1.1:40000;
// RTCP one port above. A packet "at ms" is recorded with tsc = ms x 10^6 (a 1 GHz TSC from 0).

#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <vector>

#include "control/recording/recorder.h"
#include "dataplane/record_ring.h"

namespace rtprelay::recording::test_files {

// Opens recording `id` as BASE, WAV asked for (G.711), starting at `start_ns`.
inline void open_g711(recorder& rec, uint32_t id, const std::string& base, const std::string& rec_id,
                      int64_t start_ns) {
    open_request o;
    o.id = id;
    o.base = base;
    o.wav = true;
    o.start_ns = start_ns;
    o.rec_id = rec_id;
    rec.open(o);
}

// The update that names the two legs by the relay's addresses.
inline update_request two_leg_update(uint32_t id, std::string call_json) {
    update_request u;
    u.id = id;
    u.call_json = std::move(call_json);
    u.legs = {{media_endpoint::v4(0x010012c6u, htons(30000)), 0}, {media_endpoint::v4(0x010112c6u, htons(40000)), 1}};
    return u;
}

// Leg `ch`'s packet `p` at `ms` into `ring` for recording `id` (not committed); nullptr when
// the ring is full.
inline dp::record_slot* copy_from_leg(dp::record_ring& ring, uint32_t id, uint8_t ch, const std::vector<uint8_t>& p,
                                      int64_t ms, bool rtcp = false) {
    const uint32_t src = ch == 0 ? 0x0a0012c6u : 0x0b0012c6u;
    const uint32_t dst = ch == 0 ? 0x010012c6u : 0x010112c6u;
    const uint16_t sport = htons(ch == 0 ? 4000 : 5000);
    const uint16_t dport = htons(static_cast<uint16_t>((ch == 0 ? 30000 : 40000) + (rtcp ? 1 : 0)));
    return dp::record_copy(ring, static_cast<uint64_t>(ms) * 1'000'000, id, ch, rtcp, src, sport, dst, dport, p.data(),
                           static_cast<uint32_t>(p.size()));
}

}  // namespace rtprelay::recording::test_files
