#include "dataplane/srtp/context_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace rtprelay::dp::srtp::detail {
namespace {

constexpr size_t rtp_bytes = 304;  // an AES_CM_128 RTP context: 128 + 176 bytes of round keys

TEST(context_pool, one_class_is_contiguous_in_creation_order) {
    // A size no context has (47 lines), so that no storage freed by other tests is reused.
    constexpr size_t bytes = 47 * 64 - 10;
    context_pool& pool = context_pool::instance();
    std::vector<uint8_t*> v;
    for (int i = 0; i < 100; ++i) {
        v.push_back(static_cast<uint8_t*>(pool.allocate(bytes)));
        std::memset(v.back(), 0xa5, bytes);  // the whole allocation is writable
    }
    size_t next_to_previous = 0;
    for (size_t i = 0; i < v.size(); ++i) {
        EXPECT_EQ(reinterpret_cast<uintptr_t>(v[i]) % context_pool::align, 0u);
        if (i > 0 && v[i] == v[i - 1] + 47 * 64) {
            ++next_to_previous;
        }
    }
    // 100 of them fit in one 2 MB block after its header line.
    EXPECT_EQ(next_to_previous, v.size() - 1);
    for (uint8_t* p : v) {
        pool.release(p);
    }
}

TEST(context_pool, freed_storage_is_reused_by_its_class_only) {
    context_pool& pool = context_pool::instance();
    void* rtp = pool.allocate(rtp_bytes);
    void* rtcp = pool.allocate(128);
    const size_t in_use = pool.in_use_bytes();
    pool.release(rtp);
    EXPECT_EQ(pool.in_use_bytes(), in_use - 320);
    void* other = pool.allocate(128);  // another class: not the freed 320 bytes
    EXPECT_NE(other, rtp);
    void* again = pool.allocate(300);  // same class (5 lines): the freed storage
    EXPECT_EQ(again, rtp);
    pool.release(again);
    pool.release(other);
    pool.release(rtcp);
    pool.release(nullptr);
}

TEST(context_pool, larger_than_a_class_gets_a_block_of_its_own) {
    context_pool& pool = context_pool::instance();
    const size_t reserved = pool.reserved_bytes();
    void* big = pool.allocate(context_pool::max_bytes + 1);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(big) % context_pool::align, 0u);
    std::memset(big, 0x5a, context_pool::max_bytes + 1);
    EXPECT_GT(pool.reserved_bytes(), reserved);
    pool.release(big);
    EXPECT_EQ(pool.reserved_bytes(), reserved);
}

}  // namespace
}  // namespace rtprelay::dp::srtp::detail
