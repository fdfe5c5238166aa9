#include "bench/loadgen/call_gaps.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>

#include "control/json_string.h"

namespace rtprelay::loadgen {

namespace {

// Nearest rank: the smallest value with at least p of the values at or below it.
int64_t rank(const std::vector<int64_t>& sorted, double p) {
    const auto n = static_cast<double>(sorted.size());
    const auto k = static_cast<size_t>(std::max(std::ceil(p * n), 1.0)) - 1;
    return sorted[std::min(k, sorted.size() - 1)];
}

stream_gap gap_of(const stream_sent& sent, const stream_stats& st, const arrival_gaps& g) {
    return stream_gap{sent.packets,        st.received(),   g.longest_gap_ns(), g.gap_end_ns(),
                      g.last_arrival_ns(), g.mark_gap_ns(), g.mark_gap_end_ns()};
}

gap_figures figures_of(std::vector<int64_t> values, uint32_t unmeasured) {
    gap_figures f;
    f.unmeasured = unmeasured;
    f.measured = static_cast<uint32_t>(values.size());
    if (values.empty()) {
        return f;
    }
    std::sort(values.begin(), values.end());
    f.p50_ns = rank(values, 0.50);
    f.p99_ns = rank(values, 0.99);
    f.max_ns = values.back();
    return f;
}

void print_stream(const char* name, const stream_gap& g, bool marked, std::FILE* out) {
    std::fprintf(out,
                 "\"%s\":{\"sent\":%" PRIu64 ",\"received\":%" PRIu64
                 ",\"longest_gap_ms\":%.1f,\"gap_end_s\":%.6f,\"last_arrival_s\":%.6f",
                 name, g.sent, g.received, static_cast<double>(g.longest_gap_ns) / 1e6,
                 static_cast<double>(g.gap_end_ns) / 1e9, static_cast<double>(g.last_arrival_ns) / 1e9);
    if (marked) {
        std::fprintf(out, ",\"mark_gap_ms\":%.1f,\"mark_gap_end_s\":%.6f", static_cast<double>(g.mark_gap_ns) / 1e6,
                     static_cast<double>(g.mark_gap_end_ns) / 1e9);
    }
    std::fputc('}', out);
}

}  // namespace

int64_t call_gap_row::longest_gap_ns() const { return std::max(a_to_b.longest_gap_ns, b_to_a.longest_gap_ns); }

std::vector<call_gap_row> gap_rows(const std::vector<stream_sent>& sent, const std::vector<stream_stats>& stats,
                                   const std::vector<arrival_gaps>& gaps) {
    std::vector<call_gap_row> rows;
    const size_t streams = std::min({sent.size(), stats.size(), gaps.size()});
    rows.reserve(streams / 2);
    for (size_t i = 0; i + 1 < streams; i += 2) {
        call_gap_row r;
        r.call_index = static_cast<uint32_t>(i / 2);
        r.a_to_b = gap_of(sent[i], stats[i], gaps[i]);
        r.b_to_a = gap_of(sent[i + 1], stats[i + 1], gaps[i + 1]);
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
    std::vector<int64_t> gaps;
    uint32_t unmeasured = 0;
    gaps.reserve(rows.size());
    for (const call_gap_row& r : rows) {
        if (r.measured()) {
            gaps.push_back(r.longest_gap_ns());
        } else {
            ++unmeasured;
        }
    }
    return figures_of(std::move(gaps), unmeasured);
}

gap_figures summarise_resume(const std::vector<call_gap_row>& rows, int64_t mark_ns) {
    std::vector<int64_t> resume;
    uint32_t unmeasured = 0;
    resume.reserve(rows.size());
    for (const call_gap_row& r : rows) {
        if (r.a_to_b.mark_gap_end_ns == 0 || r.b_to_a.mark_gap_end_ns == 0) {
            ++unmeasured;
        } else {
            resume.push_back(std::max(r.a_to_b.mark_gap_end_ns, r.b_to_a.mark_gap_end_ns) - mark_ns);
        }
    }
    return figures_of(std::move(resume), unmeasured);
}

void print_rows_json(const std::vector<call_gap_row>& rows, bool marked, std::FILE* out) {
    std::fputs(",\"per_call\":[", out);
    for (size_t i = 0; i < rows.size(); ++i) {
        const call_gap_row& r = rows[i];
        std::fprintf(out, "%s{\"call\":%u,\"id\":%s,\"legs\":\"%s\",", i == 0 ? "" : ",", r.call_index,
                     json_string(r.call_id).c_str(), r.legs);
        print_stream("a_to_b", r.a_to_b, marked, out);
        std::fputc(',', out);
        print_stream("b_to_a", r.b_to_a, marked, out);
        std::fputc('}', out);
    }
    std::fputc(']', out);
}

void print_mark_json(int64_t mark_ns, const gap_figures& resume, std::FILE* out) {
    std::fprintf(out,
                 ",\"mark\":{\"at_s\":%.6f,\"resume_ms\":{\"calls\":%u,\"unmeasured\":%u,\"p50\":%.1f,\"p99\":%.1f,"
                 "\"max\":%.1f}}",
                 static_cast<double>(mark_ns) / 1e9, resume.measured, resume.unmeasured,
                 static_cast<double>(resume.p50_ns) / 1e6, static_cast<double>(resume.p99_ns) / 1e6,
                 static_cast<double>(resume.max_ns) / 1e6);
}

}  // namespace rtprelay::loadgen
