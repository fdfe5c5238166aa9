#include "bench/loadgen/receive_check.h"

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "bench/loadgen/rtp_wire.h"
#include "dataplane/checksum.h"

namespace rtprelay::loadgen {

bool check_received(const uint8_t* frame, const udp_frame_view& v, uint8_t* rtp, uint32_t len, srtp_receiver* srtp,
                    uint32_t stream, uint32_t identity) {
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(frame + sizeof(rte_ether_hdr));
    const auto* udp = reinterpret_cast<const rte_udp_hdr*>(frame + v.payload_offset - sizeof(rte_udp_hdr));
    if (udp->dgram_cksum != 0) {
        const uint32_t sum = rte_ipv4_phdr_cksum(ip, 0) + rte_raw_cksum(udp, v.payload_len + sizeof(rte_udp_hdr));
        if (dp::csum::fold64(sum) != 0xffff) {
            return false;
        }
    }
    if (srtp != nullptr && srtp->unprotect(stream, rtp, &len) != dp::srtp::result::ok) {
        return false;
    }
    rtp_view view;
    return parse_rtp(rtp, len, &view) && view.call_index == identity;
}

}  // namespace rtprelay::loadgen
