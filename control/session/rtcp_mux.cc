#include "control/session/rtcp_mux.h"

namespace rtprelay {

bool offer_rtcp_mux(stream& sx, stream& sy, const rtcp_mux_options& o) {
    const bool x_offers = sx.rtcp_mux;  // from X's SDP (take_peer)
    const bool y_was_mux = sy.rtcp_mux;
    bool offer_y = y_was_mux || x_offers;
    const bool require = o.require || y_was_mux;
    if (o.offer || o.require) {
        offer_y = true;
    } else if (o.demux) {
        offer_y = false;
    }
    bool keep = true;
    bool x_mux = x_offers;
    if (x_offers) {
        if (!offer_y) {
            x_mux = !o.reject;  // demux: accepted back to X
        } else if (o.reject) {
            x_mux = false;
        } else {
            keep = o.accept;  // default: X gets what Y answers
        }
    }
    sx.rtcp_mux = x_mux;
    sy.mux_offered = offer_y;
    sy.mux_keep = keep;
    sy.mux_required = offer_y && require;
    sy.rtcp_mux = sy.mux_required;  // until Y answers
    return offer_y;
}

bool answer_rtcp_mux(stream& sx, stream& sy) {
    const bool y_answers = sy.rtcp_mux;  // from Y's SDP (take_peer)
    sy.rtcp_mux = sy.mux_required || (y_answers && sy.mux_offered);
    if (!sy.mux_keep) {
        sx.rtcp_mux = sy.rtcp_mux;
    }
    return sx.rtcp_mux;
}

}  // namespace rtprelay
