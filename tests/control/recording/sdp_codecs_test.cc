#include "control/recording/sdp_codecs.h"

#include <gtest/gtest.h>

namespace rtprelay::recording {
namespace {

TEST(sdp_codecs, static_and_rtpmap_types_per_media) {
    const auto m = codecs_of(
        "v=0\r\no=- 1 1 IN IP4 198.18.0.1\r\ns=-\r\nc=IN IP4 198.18.0.1\r\nt=0 0\r\n"
        "m=audio 4000 RTP/SAVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
        "m=image 4002 udptl t38\r\n"
        "m=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\n");
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[0].type, "audio");
    EXPECT_EQ(m[0].proto, "RTP/SAVP");
    ASSERT_EQ(m[0].codecs.size(), 3u);
    EXPECT_EQ(m[0].codecs[0].name, "PCMA");
    EXPECT_EQ(m[0].codecs[1].name, "PCMU");
    EXPECT_EQ(m[0].codecs[2].name, "telephone-event");
    EXPECT_EQ(m[0].codecs[2].rate, 8000u);
    EXPECT_TRUE(m[1].codecs.empty());
    EXPECT_EQ(m[2].codecs[0].name, "H264");
    EXPECT_EQ(m[2].codecs[0].rate, 90000u);
    EXPECT_TRUE(has_g711(m));
}

TEST(sdp_codecs, g711_only_counts_in_the_first_audio_line) {
    EXPECT_FALSE(has_g711(codecs_of("m=audio 1 RTP/AVP 18\r\nm=audio 2 RTP/AVP 0\r\n")));
    EXPECT_FALSE(has_g711(codecs_of("garbage\r\nm=\r\na=rtpmap:x\r\n")));
    EXPECT_TRUE(codecs_of("").empty());
}

}  // namespace
}  // namespace rtprelay::recording
