// protocol.def's names in every spelling a proxy sends, and request parsing: unknown keys
// and flags reported, prefixed flags split, values of the wrong kind refused.

#include "control/ng/names.h"

#include <gtest/gtest.h>

#include "control/ng/request.h"

namespace rtprelay::ng {
namespace {

value strings(std::initializer_list<const char*> items) {
    value l = value::list();
    for (const char* s : items) {
        l.as_list().push_back(value::str(s));
    }
    return l;
}

TEST(names, spaces_dashes_and_case_are_one_spelling) {
    EXPECT_EQ(normal_form("Transport Protocol"), "transport-protocol");
    EXPECT_TRUE(same_name("transport protocol", "transport-protocol"));
    EXPECT_TRUE(same_name("Transport-Protocol", "transport-protocol"));
    EXPECT_TRUE(same_name("TRANSPORT PROTOCOL", "transport-protocol"));
    EXPECT_FALSE(same_name("transport_protocol", "transport-protocol")) << "underscores are not dashes";
    EXPECT_FALSE(same_name("transport-protocols", "transport-protocol"));
    EXPECT_FALSE(same_name("", "x"));
}

// Every key and flag of protocol.def is found in every spelling: as written, with spaces for
// dashes, upper case, and mixed.
TEST(names, every_key_and_flag_in_every_spelling) {
    auto spellings = [](std::string s) {
        std::vector<std::string> out{s};
        std::string spaced = s;
        for (char& c : spaced) {
            c = c == '-' ? ' ' : c;
        }
        out.push_back(spaced);
        std::string upper = spaced;
        for (char& c : upper) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        out.push_back(upper);
        std::string lower = s;
        for (char& c : lower) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        out.push_back(lower);
        return out;
    };
    for (size_t k = 0; k < key_count; ++k) {
        for (const auto& s : spellings(key_spelling(static_cast<key>(k)))) {
            const auto found = find_key(s);
            ASSERT_TRUE(found.has_value()) << s;
            EXPECT_EQ(*found, static_cast<key>(k)) << s;
        }
    }
    for (size_t f = 0; f < flag_count; ++f) {
        for (const auto& s : spellings(flag_spelling(static_cast<flag>(f)))) {
            const auto found = find_flag(s);
            ASSERT_TRUE(found.has_value()) << s;
            EXPECT_EQ(*found, static_cast<flag>(f)) << s;
        }
    }
    EXPECT_FALSE(find_key("no such key").has_value());
    EXPECT_FALSE(find_flag("no-such-flag").has_value());
}

TEST(names, commands_are_exact_as_in_rtpengine) {
    EXPECT_EQ(command_of("delete"), command::del);
    EXPECT_EQ(command_of("statistics"), command::statistics);
    EXPECT_EQ(command_of("Delete"), command::other);
    EXPECT_EQ(command_of(""), command::other);
    EXPECT_STREQ(command_name(command::del), "delete");
    EXPECT_STREQ(command_name(command::other), "other");
    EXPECT_STREQ(command_short_name(command::statistics), "Stats");
    EXPECT_EQ(effect_of(command::offer), command_effect::call);
    EXPECT_EQ(effect_of(command::drain), command_effect::node);
    EXPECT_EQ(effect_of(command::query), command_effect::read);
}

TEST(names, prefixed_flags_carry_a_keys_value) {
    auto p = split_prefixed_flag("SDES-no-AES_CM_128_HMAC_SHA1_32");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->for_key, key::sdes);
    EXPECT_EQ(p->value, "no-AES_CM_128_HMAC_SHA1_32") << "the value keeps its case";
    p = split_prefixed_flag("sdes off");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->value, "off");
    p = split_prefixed_flag("RTCP mux demux");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->for_key, key::rtcp_mux);
    EXPECT_EQ(p->value, "demux");
    p = split_prefixed_flag("replace-session-connection");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->for_key, key::replace);
    EXPECT_EQ(p->value, "session-connection");
    EXPECT_FALSE(split_prefixed_flag("SDES-").has_value()) << "a prefix alone carries nothing";
    EXPECT_FALSE(split_prefixed_flag("strict-source").has_value());
}

// What rtpengine-ng-client --protocol and --strict-source send: "transport protocol" as a key
// and "strict source" as a flag. Both must be understood.
TEST(request, keys_and_flags_in_the_ng_clients_spelling) {
    value d = value::dict();
    d.set("command", value::str("offer"));
    d.set("call-id", value::str("c1"));
    d.set("transport protocol", value::str("RTP/AVP"));
    d.set("flags", strings({"strict source", "trust address", "SDES-off", "rtcp-mux-demux", "pad crypto"}));
    d.set("rtcp mux", strings({"offer"}));
    d.set("Delete Delay", value::str("5"));
    std::string error;
    const auto r = request::parse(d, &error);
    ASSERT_TRUE(r.has_value()) << error;
    EXPECT_EQ(r->cmd(), command::offer);
    EXPECT_EQ(r->string(key::transport_protocol), "RTP/AVP");
    EXPECT_TRUE(r->has(flag::strict_source));
    EXPECT_TRUE(r->has(flag::trust_address));
    EXPECT_TRUE(r->has(flag::pad_crypto));
    EXPECT_EQ(r->strings(key::rtcp_mux), (std::vector<std::string>{"offer", "demux"}));
    EXPECT_EQ(r->sdes_flags(), (std::vector<std::string>{"SDES-off", "pad-crypto"}));
    bool bad = false;
    EXPECT_EQ(r->integer(key::delete_delay, &bad), 5);
    EXPECT_FALSE(bad);
    EXPECT_EQ(r->warning(), "") << "every key and flag here is known";
}

TEST(request, unknown_keys_and_flags_are_named_in_the_warning) {
    value d = value::dict();
    d.set("command", value::str("offer"));
    d.set("codec", value::dict());
    d.set("TOS", value::integer(184));
    d.set("flags", strings({"symmetric", "no-such-flag", "single codec"}));
    std::string error;
    const auto r = request::parse(d, &error);
    ASSERT_TRUE(r.has_value()) << error;
    const std::string w = r->warning();
    EXPECT_NE(w.find("unknown keys ignored: 'TOS', 'codec'"), std::string::npos) << w;
    EXPECT_NE(w.find("unknown flags ignored: 'no-such-flag'"), std::string::npos) << w;
    EXPECT_NE(w.find("flags not supported, ignored: 'single codec'"), std::string::npos) << w;
    EXPECT_EQ(w.find("symmetric"), std::string::npos) << w;
}

TEST(request, one_key_in_two_spellings_is_refused) {
    value d = value::dict();
    d.set("command", value::str("offer"));
    d.set("transport protocol", value::str("RTP/AVP"));
    d.set("transport-protocol", value::str("RTP/SAVP"));
    std::string error;
    EXPECT_FALSE(request::parse(d, &error).has_value());
    EXPECT_EQ(error, "key 'transport-protocol' given twice, in two spellings");
}

TEST(request, values_of_the_wrong_kind_are_ignored_with_a_warning) {
    value d = value::dict();
    d.set("command", value::str("offer"));
    d.set("sdp", value::list());
    d.set("delete-delay", value::str("soon"));
    d.set("limit", value::str("-3"));
    std::string error;
    const auto r = request::parse(d, &error);
    ASSERT_TRUE(r.has_value()) << error;
    EXPECT_EQ(r->find(key::sdp), nullptr);
    EXPECT_NE(r->warning().find("key 'sdp' is not a string: ignored"), std::string::npos) << r->warning();
    bool bad = false;
    EXPECT_FALSE(r->integer(key::delete_delay, &bad).has_value());
    EXPECT_TRUE(bad);
    bad = false;
    EXPECT_EQ(r->integer(key::limit, &bad), -3);
    EXPECT_FALSE(bad);
}

TEST(request, a_hostile_request_gets_a_bounded_warning) {
    value d = value::dict();
    d.set("command", value::str("ping"));
    for (int i = 0; i < 1000; ++i) {
        d.set(std::string(200, 'k') + std::to_string(i), value::integer(i));
    }
    const auto r = request::parse(d, nullptr);
    ASSERT_TRUE(r.has_value());
    const std::string w = r->warning();
    EXPECT_LT(w.size(), 1000u) << w;
    EXPECT_NE(w.find("and 992 more"), std::string::npos) << w;
}

}  // namespace
}  // namespace rtprelay::ng
