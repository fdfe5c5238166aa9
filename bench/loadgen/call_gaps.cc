#include "bench/loadgen/call_gaps.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>

#include "control/json_string.h"

namespace rtprelay::loadgen {

namespace {

stream_gap gap_of(const stream_sent& sent, const stream_stats& st) {
    return stream_gap{sent.packets, st.received(), st.longest_gap_ns(), st.gap_end_ns(), st.last_arrival_ns()};
}

// Nearest rank: the smallest value with at least p of the values at or below it.
int64_t rank(const std::vector<int64_t>& sorted, double p) {
    const auto n = static_cast<double>(sorted.size());
    const auto k = static_cast<size_t>(std::max(std::ceil(p * n), 1.0)) - 1;
    return sorted[std::min(k, sorted.size() - 1)];
}

void print_stream(const char* name, const stream_gap& g, std::FILE* out) {
    std::fprintf(out,
                 "\"%s\":{\"sent\":%" PRIu64 ",\"received\":%" PRIu64
                 ",\"longest_gap_ms\":%.1f,\"gap_end_s\":%.6f,\"last_arrival_s\":%.6f}",
                 name, g.sent, g.received, static_cast<double>(g.longest_gap_ns) / 1e6,
                 static_cast<double>(g.gap_end_ns) / 1e9, static_cast<double>(g.last_arrival_ns) / 1e9);
}

}  // namespace

int64_t call_gap_row::longest_gap_ns() const { return std::max(a_to_b.longest_gap_ns, b_to_a.longest_gap_ns); }

std::vector<call_gap_row> gap_rows(const std::vector<stream_sent>& sent, const std::vector<stream_stats>& stats) {
    std::vector<call_gap_row> rows;
    const size_t streams = std::min(sent.size(), stats.size());
    rows.reserve(streams / 2);
    for (size_t i = 0; i + 1 < streams; i += 2) {
        call_gap_row r;
        r.call_index = static_cast<uint32_t>(i / 2);
        r.a_to_b = gap_of(sent[i], stats[i]);
        r.b_to_a = gap_of(sent[i + 1], stats[i + 1]);
        rows.push_back(r);
    }
    return rows;
}

void name_rows(const std::vector<call_record>& calls, std::vector<call_gap_row>* rows) {
    size_t k = 0;
    for (const call_record& c : calls) {
        if (!c.set_up) {
            continue;
        }
        if (k == rows->size()) {
            break;
        }
        call_gap_row& r = (*rows)[k++];
        r.call_index = c.index;
        r.call_id = c.call_id;
        r.legs = legs_name(c.srtp_a, c.srtp_b);
    }
}

gap_figures summarise_gaps(const std::vector<call_gap_row>& rows) {
    gap_figures f;
    std::vector<int64_t> gaps;
    gaps.reserve(rows.size());
    for (const call_gap_row& r : rows) {
        if (r.measured()) {
            gaps.push_back(r.longest_gap_ns());
        } else {
            ++f.unmeasured;
        }
    }
    f.measured = static_cast<uint32_t>(gaps.size());
    if (gaps.empty()) {
        return f;
    }
    std::sort(gaps.begin(), gaps.end());
    f.p50_ns = rank(gaps, 0.50);
    f.p99_ns = rank(gaps, 0.99);
    f.max_ns = gaps.back();
    return f;
}

void print_rows_json(const std::vector<call_gap_row>& rows, std::FILE* out) {
    std::fputs(",\"per_call\":[", out);
    for (size_t i = 0; i < rows.size(); ++i) {
        const call_gap_row& r = rows[i];
        std::fprintf(out, "%s{\"call\":%u,\"id\":%s,\"legs\":\"%s\",", i == 0 ? "" : ",", r.call_index,
                     json_string(r.call_id).c_str(), r.legs);
        print_stream("a_to_b", r.a_to_b, out);
        std::fputc(',', out);
        print_stream("b_to_a", r.b_to_a, out);
        std::fputc('}', out);
    }
    std::fputc(']', out);
}

}  // namespace rtprelay::loadgen
