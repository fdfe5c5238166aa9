#include "bench/loadgen/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace rtprelay::loadgen {

// Below 64 a value is its own bucket. From 64 on, a value with its top bit at position
// msb keeps its 7 leading bits (64..127) and drops `shift = msb - 6` low bits; bucket
// 64 * shift + leading bits is continuous with the exact range.
int latency_histogram::bucket_of(uint64_t v) {
    if (v < (1u << sub_bits)) {
        return static_cast<int>(v);
    }
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - sub_bits;
    return (shift << sub_bits) + static_cast<int>(v >> shift);
}

uint64_t latency_histogram::bucket_low(int b) {
    if (b < (2 << sub_bits)) {
        return static_cast<uint64_t>(b);
    }
    const int shift = (b >> sub_bits) - 1;
    const uint64_t leading = static_cast<uint64_t>((b & ((1 << sub_bits) - 1)) + (1 << sub_bits));
    return leading << shift;
}

uint64_t latency_histogram::bucket_width(int b) {
    if (b < (2 << sub_bits)) {
        return 1;
    }
    return uint64_t{1} << ((b >> sub_bits) - 1);
}

void latency_histogram::record(int64_t value) {
    const uint64_t v = value < 0 ? 0 : static_cast<uint64_t>(value);
    ++buckets_[static_cast<size_t>(bucket_of(v))];
    ++count_;
    max_ = std::max(max_, static_cast<int64_t>(v));
}

void latency_histogram::merge(const latency_histogram& o) {
    for (size_t i = 0; i < buckets_.size(); ++i) {
        buckets_[i] += o.buckets_[i];
    }
    count_ += o.count_;
    max_ = std::max(max_, o.max_);
}

int64_t latency_histogram::percentile(double q) const {
    if (count_ == 0) {
        return 0;
    }
    q = std::clamp(q, 0.0, 1.0);
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
    uint64_t seen = 0;
    for (int b = 0; b < bucket_count; ++b) {
        seen += buckets_[static_cast<size_t>(b)];
        if (seen >= rank) {
            const uint64_t mid = bucket_low(b) + bucket_width(b) / 2;
            return std::min(static_cast<int64_t>(mid), max_);
        }
    }
    return max_;
}

}  // namespace rtprelay::loadgen
