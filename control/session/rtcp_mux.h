#pragma once
// RTP/RTCP multiplexing (RFC 5761) per stream, negotiated on each leg separately, with
// rtpengine's NG rtcp-mux options. A leg multiplexes (stream::rtcp_mux: RTCP accepted on its
// RTP port, and sent to its peer's RTP port) only where both SDPs of that leg agreed, or
// where `require` made the relay use it toward the answerer from the offer on.

#include "control/session/session.h"

namespace rtprelay {

// NG rtcp-mux options, as rtpengine defines them (RFC 5761 multiplexing of RTP and RTCP on
// one port). Without any, the relay goes along with the offerer: it offers a=rtcp-mux to
// the answerer when the offerer did, and answers it to the offerer when the answerer took it.
struct rtcp_mux_options {
    bool offer = false;    // offer it to the answerer even if the offerer did not
    bool demux = false;    // do not offer it to the answerer, but accept it from the offerer
    bool accept = false;   // accept it from the offerer whatever the answerer says
    bool reject = false;   // refuse it to the offerer
    bool require = false;  // offer it and use it toward the answerer before it answers
};

// Offer step, on the offerer's stream `sx` (rtcp_mux: what its SDP said) and the answerer's
// `sy` (rtcp_mux: what is in effect from before). By default the answerer is offered what
// the offerer offered, and a leg already multiplexing keeps it with no fallback port;
// `offer`/`require` offer it anyway, `demux` never. Decides too what the answer may change
// of the offerer's choice: nothing when the offerer did not offer it (RFC 5761 5.1.1: it
// must not be answered), nor with `accept`, `reject` or `demux`. Returns whether our offer
// to the answerer carries a=rtcp-mux.
bool offer_rtcp_mux(stream& sx, stream& sy, const rtcp_mux_options& o);

// Answer step: `sy.rtcp_mux` is what the answer said. In effect with the answerer when we
// offered it and it took it (or it was required); the offerer follows unless the offer
// step said otherwise. Returns whether our answer to the offerer carries a=rtcp-mux.
bool answer_rtcp_mux(stream& sx, stream& sy);

}  // namespace rtprelay
