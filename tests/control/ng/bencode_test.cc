#include "control/ng/bencode.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

namespace rtprelay::ng {
namespace {

std::string decode_error(std::string_view in) {
    std::string error;
    auto v = decode(in, &error);
    EXPECT_FALSE(v.has_value()) << "decoded: " << in;
    return error;
}

value decoded(std::string_view in) {
    std::string error;
    auto v = decode(in, &error);
    EXPECT_TRUE(v.has_value()) << in << ": " << error;
    return v ? *v : value();
}

// Dicts are one sorted vector: keys sent out of order (as Kamailio sends them) are sorted
// once at the end, and a repeated key is still refused at its second copy's offset.
TEST(bencode, unsorted_dict_keys_are_sorted_and_repeats_refused) {
    const value v = decoded("d1:ci3e1:bi2e1:ai1ee");
    EXPECT_EQ(encode(v), "d1:ai1e1:bi2e1:ci3ee");
    ASSERT_NE(v.find("b"), nullptr);
    EXPECT_EQ(v.find("b")->as_integer(), 2);
    EXPECT_EQ(v.find("d"), nullptr);
    EXPECT_EQ(decode_error("d1:bi1e1:ai2e1:ci3e1:ai4ee"), "bencode: duplicate dict key at offset 19");
    EXPECT_EQ(decode_error("d1:bi1e1:ai2e1:bi3e1:ai4ee"), "bencode: duplicate dict key at offset 13");
    // 2,000 keys in reverse order: one sort, not an insertion per key.
    std::string many = "d";
    for (int i = 2000; i > 0; --i) {
        const std::string k = "k" + std::to_string(100000 + i);
        many += std::to_string(k.size()) + ":" + k + "i1e";
    }
    many += "e";
    const value m = decoded(many);
    ASSERT_EQ(m.as_dict().size(), 2000u);
    EXPECT_EQ(m.as_dict().begin()->first, "k100001");
}

TEST(bencode, encodes_each_kind_exactly) {
    EXPECT_EQ(encode(value::str("spam")), "4:spam");
    EXPECT_EQ(encode(value::str("")), "0:");
    EXPECT_EQ(encode(value()), "0:");
    EXPECT_EQ(encode(value::integer(0)), "i0e");
    EXPECT_EQ(encode(value::integer(-42)), "i-42e");
    EXPECT_EQ(encode(value::integer(std::numeric_limits<int64_t>::min())), "i-9223372036854775808e");
    EXPECT_EQ(encode(value::list({value::str("a"), value::integer(1)})), "l1:ai1ee");
    EXPECT_EQ(encode(value::list()), "le");
    EXPECT_EQ(encode(value::dict()), "de");
}

TEST(bencode, dict_keys_encode_in_byte_order_whatever_the_insert_order) {
    value d = value::dict();
    d.set("sdp", value::str("v=0"));
    d.set("command", value::str("offer"));
    d.set("call-id", value::str("c1"));
    d.set("\xff", value::integer(1));  // bytes sort unsigned: 0xff after ASCII
    EXPECT_EQ(encode(d), "d7:call-id2:c17:command5:offer3:sdp3:v=01:\xffi1ee");
}

TEST(bencode, accepts_unsorted_keys_and_reencodes_sorted) {
    const value v = decoded("d1:bi1e1:ai2ee");
    EXPECT_EQ(encode(v), "d1:ai2e1:bi1ee");
}

TEST(bencode, round_trips_an_ng_offer) {
    const std::string wire =
        "d7:call-id6:abc-127:command5:offer5:flagsl9:trust-adde8:from-tag3:t-13:sdp6:v=0\r\n"
        "o4:sizei-7ee";
    const value v = decoded(wire);
    EXPECT_EQ(encode(v), wire);
    EXPECT_EQ(v.find_string("command"), "offer");
    EXPECT_EQ(v.find("flags")->as_list().at(0).as_string(), "trust-add");
    EXPECT_EQ(v.find("size")->as_integer(), -7);
    EXPECT_EQ(decoded(encode(v)), v);
}

TEST(bencode, integer_limits_round_trip) {
    for (int64_t i : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), int64_t{-1}, int64_t{0},
                      int64_t{1}}) {
        EXPECT_EQ(decoded(encode(value::integer(i))).as_integer(), i);
    }
}

TEST(bencode, binary_strings_round_trip) {
    const std::string bytes("a\0b e:\xff", 7);
    EXPECT_EQ(decoded(encode(value::str(bytes))).as_string(), bytes);
}

TEST(bencode, accessors_on_the_wrong_kind_are_safe) {
    const value v = value::integer(5);
    EXPECT_EQ(v.as_string(), "");
    EXPECT_TRUE(v.as_list().empty());
    EXPECT_TRUE(v.as_dict().empty());
    EXPECT_EQ(v.find("x"), nullptr);
    EXPECT_EQ(value::str("x").as_integer(), 0);
    const value d = decoded("d1:ai1ee");
    EXPECT_EQ(d.find_string("a"), std::nullopt);  // present but not a string
    EXPECT_EQ(d.find_string("b"), std::nullopt);
}

TEST(bencode, copies_are_deep) {
    value a = value::dict();
    a.set("l", value::list({value::integer(1)}));
    value b = a;
    b.as_dict().at("l").as_list().push_back(value::integer(2));
    EXPECT_EQ(encode(a), "d1:lli1eee");
    EXPECT_EQ(encode(b), "d1:lli1ei2eee");
}

TEST(bencode, decode_prefix_reports_consumed) {
    size_t consumed = 0;
    auto v = decode_prefix("i5eXYZ", &consumed, nullptr);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->as_integer(), 5);
    EXPECT_EQ(consumed, 3u);
}

TEST(bencode, rejects_malformed_with_what_and_where) {
    EXPECT_EQ(decode_error(""), "bencode: empty input");
    EXPECT_EQ(decode_error("d7:command4:pin"), "bencode: truncated string at offset 10");
    EXPECT_EQ(decode_error("5:abc"), "bencode: truncated string at offset 0");
    EXPECT_EQ(decode_error("5"), "bencode: string length exceeds input at offset 0");
    EXPECT_EQ(decode_error("4294967296:"), "bencode: string length exceeds input at offset 0");
    EXPECT_EQ(decode_error("99999999999999999999999999:x"), "bencode: string length exceeds input at offset 0");
    EXPECT_EQ(decode_error("01:a"), "bencode: string length with leading zero at offset 0");
    EXPECT_EQ(decode_error("3xabcdef"), "bencode: bad string length at offset 0");
    EXPECT_EQ(decode_error("i-0e"), "bencode: negative zero integer at offset 0");
    EXPECT_EQ(decode_error("i01e"), "bencode: integer with leading zero at offset 0");
    EXPECT_EQ(decode_error("i-01e"), "bencode: negative zero integer at offset 0");
    EXPECT_EQ(decode_error("ie"), "bencode: bad integer at offset 0");
    EXPECT_EQ(decode_error("i-e"), "bencode: bad integer at offset 0");
    EXPECT_EQ(decode_error("i1x"), "bencode: bad integer at offset 0");
    EXPECT_EQ(decode_error("i12"), "bencode: truncated integer at offset 0");
    EXPECT_EQ(decode_error("i"), "bencode: truncated integer at offset 0");
    EXPECT_EQ(decode_error("i-"), "bencode: truncated integer at offset 0");
    EXPECT_EQ(decode_error("i9223372036854775808e"), "bencode: integer overflows int64 at offset 0");
    EXPECT_EQ(decode_error("i-9223372036854775809e"), "bencode: integer overflows int64 at offset 0");
    EXPECT_EQ(decode_error("i99999999999999999999999e"), "bencode: integer overflows int64 at offset 0");
    EXPECT_EQ(decode_error("l"), "bencode: unterminated list at offset 0");
    EXPECT_EQ(decode_error("li1e"), "bencode: unterminated list at offset 0");
    EXPECT_EQ(decode_error("d"), "bencode: unterminated dict at offset 0");
    EXPECT_EQ(decode_error("d1:a"), "bencode: dict key without value at offset 1");
    EXPECT_EQ(decode_error("di1ei2ee"), "bencode: dict key is not a string at offset 1");
    EXPECT_EQ(decode_error("dlei1ee"), "bencode: dict key is not a string at offset 1");
    EXPECT_EQ(decode_error("d1:ai1e1:ai2ee"), "bencode: duplicate dict key at offset 7");
    EXPECT_EQ(decode_error("i1ei2e"), "bencode: trailing bytes at offset 3");
    EXPECT_EQ(decode_error("de "), "bencode: trailing bytes at offset 2");
    EXPECT_EQ(decode_error("e"), "bencode: unexpected byte 'e' at offset 0");
    EXPECT_EQ(decode_error("l\x01"
                           "e"),
              "bencode: unexpected byte 0x01 at offset 1");
}

TEST(bencode, nesting_is_bounded_at_32) {
    const auto nested = [](size_t depth) { return std::string(depth, 'l') + std::string(depth, 'e'); };
    EXPECT_TRUE(decode(nested(max_depth), nullptr));
    EXPECT_EQ(decode_error(nested(max_depth + 1)), "bencode: nesting deeper than 32 at offset 32");
    // Far deeper input fails at the same point, without recursing further.
    EXPECT_EQ(decode_error(std::string(1'000'000, 'l')), "bencode: nesting deeper than 32 at offset 32");
}

TEST(bencode, item_count_is_bounded_at_4096) {
    const auto list_of = [](size_t n) {
        std::string s = "l";
        for (size_t i = 0; i < n; ++i) {
            s += "i0e";
        }
        return s + "e";
    };
    EXPECT_TRUE(decode(list_of(max_items - 1), nullptr));  // the list itself is one item
    EXPECT_EQ(decode_error(list_of(max_items)), "bencode: more than 4096 items at offset 12286");
    // Dict keys count too: 2048 pairs plus the dict are 4097 items.
    std::string d = "d";
    for (size_t i = 0; i < 2048; ++i) {
        const std::string key = std::to_string(10000 + i);
        d += "5:" + key + "0:";
    }
    d += "e";
    EXPECT_FALSE(decode(d, nullptr));
}

// Mutated valid messages: whatever the bytes, decode returns a value or an error, and a
// value it returns re-encodes to something that decodes to the same tree.
TEST(bencode, survives_random_mutations) {
    const std::string seed = "d7:call-id6:abc-127:command5:offer5:flagsl9:trust-addi-12ee3:sdp3:v=0e";
    std::mt19937 rng(1234);
    for (int round = 0; round < 20000; ++round) {
        std::string s = seed;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const size_t at = rng() % s.size();
            switch (rng() % 3) {
                case 0:
                    s[at] = static_cast<char>(rng());
                    break;
                case 1:
                    s.erase(at, 1 + rng() % 4);
                    break;
                default:
                    s.insert(at, 1, "0123456789:ilde-"[rng() % 16]);
                    break;
            }
            if (s.empty()) {
                s = "x";
            }
        }
        std::string error;
        auto v = decode(s, &error);
        if (v) {
            EXPECT_EQ(decode(encode(*v), nullptr), v);
        } else {
            EXPECT_EQ(error.rfind("bencode: ", 0), 0u) << error;
        }
    }
}

}  // namespace
}  // namespace rtprelay::ng
