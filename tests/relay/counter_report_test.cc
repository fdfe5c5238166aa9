// The worker counter list (dataplane/worker_counters.def) and what reads it outside
// /metrics: NG `statistics` "dataplane" and the counter log lines. Every listed counter must
// reach both, by the key the list gives it.

#include "relay/counter_report.h"

#include <gtest/gtest.h>

#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace rtprelay {
namespace {

using dp::counter_info;
using dp::worker_counter_list;

// Worker w's block with every listed counter set to a value of its own.
dp::worker_counters numbered_block(uint64_t w) {
    dp::worker_counters b;
    uint64_t v = 1;
    for (const counter_info& c : worker_counter_list) {
        b.*c.field = 1000 * (w + 1) + v++;
    }
    b.drops[static_cast<size_t>(dp::drop_reason::unknown_port)] = 5 + w;
    return b;
}

int64_t at(const ng::value& d, std::string_view key) {
    const ng::value* v = d.find(key);
    return v != nullptr && v->is_integer() ? v->as_integer() : -1;
}

TEST(worker_counter_list, keys_unique_and_families_well_formed) {
    std::set<std::string_view> keys;
    std::set<std::string_view> families_done;
    std::string_view current;
    for (const counter_info& c : worker_counter_list) {
        EXPECT_TRUE(keys.insert(c.key).second) << "key listed twice: " << c.key;
        EXPECT_EQ(c.metric.substr(0, 9), "rtprelay_") << c.metric;
        EXPECT_TRUE(c.metric.ends_with("_total")) << c.metric << ": a counter";
        if (c.metric != current) {
            EXPECT_FALSE(families_done.count(c.metric)) << c.metric << ": its lines must be consecutive";
            EXPECT_FALSE(c.help.empty()) << c.metric << ": HELP on its first line";
            if (!current.empty()) {
                families_done.insert(current);
            }
            current = c.metric;
        } else {
            EXPECT_TRUE(c.help.empty()) << c.metric << ": HELP only on the family's first line";
            EXPECT_FALSE(c.label.empty()) << c.key << ": a family's samples differ by label";
        }
        if (c.scope == dp::counter_scope::worker) {
            EXPECT_TRUE(c.label.empty()) << c.key << ": per-worker samples are labelled worker=N only";
        } else if (!c.label.empty()) {
            EXPECT_NE(c.label.find('='), std::string_view::npos) << c.key << ": label is name=value";
        }
        EXPECT_EQ(c.unit == dp::counter_unit::tsc, c.key.ends_with(" ns"))
            << c.key << ": TSC counters are reported in ns and say so";
    }
}

TEST(worker_counter_list, sum_adds_every_listed_counter) {
    const dp::worker_counters blocks[] = {numbered_block(0), numbered_block(1)};
    const dp::worker_counters s = dp::sum(blocks, 2);
    for (const counter_info& c : worker_counter_list) {
        EXPECT_EQ(s.*c.field, blocks[0].*c.field + blocks[1].*c.field) << c.key;
    }
    EXPECT_EQ(s.drops[static_cast<size_t>(dp::drop_reason::unknown_port)], 11u);
}

TEST(counter_report, ng_statistics_has_every_listed_counter_summed_and_per_worker) {
    const uint64_t hz = 2'000'000'000;
    const std::vector<dp::worker_counters> blocks = {numbered_block(0), numbered_block(1)};
    const ng::value d = counters_value(blocks, hz);
    const dp::worker_counters s = dp::sum(blocks.data(), blocks.size());
    for (const counter_info& c : worker_counter_list) {
        EXPECT_EQ(at(d, c.key), static_cast<int64_t>(reported_value(c, s, hz))) << c.key;
    }
    EXPECT_EQ(at(d, "handed off"), static_cast<int64_t>(s.handed_off)) << "was missing from NG statistics";
    EXPECT_EQ(at(d, "dropped"), 11);
    const ng::value* drops = d.find("drops");
    ASSERT_NE(drops, nullptr);
    EXPECT_EQ(drops->as_dict().size(), dp::drop_reason_count) << "every reason, zero included";
    EXPECT_EQ(at(*drops, "unknown_port"), 11);

    const ng::value* workers = d.find("workers");
    ASSERT_TRUE(workers != nullptr && workers->is_list());
    ASSERT_EQ(workers->as_list().size(), 2u);
    for (size_t w = 0; w < 2; ++w) {
        const ng::value& one = workers->as_list()[w];
        EXPECT_EQ(at(one, "worker"), static_cast<int64_t>(w));
        for (const counter_info& c : worker_counter_list) {
            if (c.scope == dp::counter_scope::worker) {
                EXPECT_EQ(at(one, c.key), static_cast<int64_t>(reported_value(c, blocks[w], hz))) << c.key;
            } else {
                EXPECT_EQ(one.find(c.key), nullptr) << c.key << " is a node-wide counter";
            }
        }
    }
}

TEST(counter_report, log_line_has_every_listed_counter) {
    const uint64_t hz = 3'000'000'000;
    const dp::worker_counters b = numbered_block(0);
    log::event e(log::level::error, "test counters");
    add_counter_fields(e, b, hz);
    const std::string& line = e.text();
    for (const counter_info& c : worker_counter_list) {
        std::string key(c.key);
        for (char& ch : key) {
            ch = ch == ' ' ? '_' : ch;
        }
        EXPECT_NE(line.find(" " + key + "=" + std::to_string(reported_value(c, b, hz)) + " "), std::string::npos)
            << key << " in: " << line;
    }
    EXPECT_NE(line.find(" dropped=5"), std::string::npos) << line;
}

// "latch changes": interface i's row is latch_changes[i] (its index is its position in the
// interface_set); an interface past the counted rows reports zeros, every kind present.
TEST(counter_report, latch_changes_by_interface_position_and_kind) {
    dp::worker_counters t;
    t.latch_changes[0][static_cast<size_t>(dp::latch_kind::first)] = 7;
    t.latch_changes[1][static_cast<size_t>(dp::latch_kind::plain_move)] = 3;
    t.latch_changes[1][static_cast<size_t>(dp::latch_kind::srtp_relatch)] = 2;
    std::vector<std::string> names = {"a", "b"};
    for (size_t i = names.size(); i <= dp::counted_interfaces; ++i) {
        names.push_back("x" + std::to_string(i));
    }
    t.latch_changes[dp::counted_interfaces - 1][static_cast<size_t>(dp::latch_kind::first)] = 9;
    const ng::value v = latch_changes_value(t, names);
    ASSERT_EQ(v.as_dict().size(), names.size());
    for (size_t i = 0; i < names.size(); ++i) {
        const ng::value* kinds = v.find(names[i]);
        ASSERT_TRUE(kinds != nullptr && kinds->is_dict()) << names[i];
        EXPECT_EQ(kinds->as_dict().size(), dp::latch_kind_count) << names[i] << ": every kind, zero included";
        for (size_t k = 0; k < dp::latch_kind_count; ++k) {
            const auto kind = static_cast<dp::latch_kind>(k);
            const int64_t want = i < dp::counted_interfaces ? static_cast<int64_t>(t.latch_changes[i][k]) : 0;
            EXPECT_EQ(at(*kinds, dp::latch_kind_name(kind)), want) << names[i] << " " << dp::latch_kind_name(kind);
        }
    }
    EXPECT_EQ(at(*v.find("a"), "first"), 7);
    EXPECT_EQ(at(*v.find("b"), "plain_move"), 3);
    EXPECT_EQ(at(*v.find("b"), "srtp_relatch"), 2);
    EXPECT_EQ(at(*v.find("x" + std::to_string(dp::counted_interfaces - 1)), "first"), 9);
    EXPECT_EQ(at(*v.find("x" + std::to_string(dp::counted_interfaces)), "first"), 0) << "not counted: zero";
}

TEST(counter_report, tsc_to_ns_is_exact_and_does_not_overflow) {
    EXPECT_EQ(tsc_to_ns(0, 3'000'000'000), 0u);
    EXPECT_EQ(tsc_to_ns(3'000'000'000, 3'000'000'000), 1'000'000'000u);
    EXPECT_EQ(tsc_to_ns(4'500'000'000, 3'000'000'000), 1'500'000'000u);
    EXPECT_EQ(tsc_to_ns(7, 3'500'000'000), 2u);
    // A year at 4 GHz: cycles * 1e9 would overflow 64 bits many times over.
    const uint64_t year = 365ull * 86400;
    EXPECT_EQ(tsc_to_ns(year * 4'000'000'000, 4'000'000'000), year * 1'000'000'000);
    EXPECT_EQ(tsc_to_ns(123, 0), 0u) << "no TSC rate known: nothing, not a division by zero";
}

}  // namespace
}  // namespace rtprelay
