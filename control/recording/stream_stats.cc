#include "control/recording/stream_stats.h"

#include "control/recording/json_writer.h"
#include "control/recording/time_text.h"

namespace rtprelay::recording {

void write_streams(json_writer& w, const std::vector<stream_stats>& streams) {
    uint64_t packets = 0, bytes = 0;
    w.key("streams").begin_array();
    for (const auto& s : streams) {
        packets += s.packets;
        bytes += s.bytes;
        w.begin_object();
        w.key("leg").value(static_cast<unsigned>(s.channel) + 1);
        w.key("kind").value(s.rtcp ? "rtcp" : "rtp");
        w.key("source").value(s.src.to_string());
        w.key("destination").value(s.dst.to_string());
        w.key("packets").value(s.packets);
        w.key("bytes").value(s.bytes);
        w.key("first packet").value(time_text(s.first_ns));
        w.key("last packet").value(time_text(s.last_ns));
        if (!s.rtcp) {
            w.key("ssrcs").begin_array();
            for (uint8_t k = 0; k < s.n_ssrcs; ++k) {
                w.value(static_cast<uint64_t>(s.ssrcs[k]));
            }
            w.end_array();
            w.key("payload types").begin_array();
            for (unsigned pt = 0; pt < 128; ++pt) {
                if ((s.payload_types[pt >> 6] >> (pt & 63)) & 1) {
                    w.value(pt);
                }
            }
            w.end_array();
        }
        w.end_object();
    }
    w.end_array();
    w.key("packets").value(packets);
    w.key("bytes").value(bytes);
}

}  // namespace rtprelay::recording
