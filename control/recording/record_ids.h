#pragma once
// The ids of open recordings: what a flow entry carries (dp::flow_entry::record_id, 16 bits:
// the room the entry has) and what the workers put on every copy. 0 = not recorded, so at most
// 65,535 recordings are open at a time. Owned by the recording controller (control thread).
//
// Handed out round robin from the last one given, so that an id comes back only after every
// other free one was used: the recorder has long finished the old recording by then (it closes
// one once every worker has passed its stop and its rings are read past it). A bitset of 8 KiB;
// take() scans from the last id, so it is O(1) unless nearly all are in use.

#include <bitset>
#include <cstdint>

namespace rtprelay::recording {

class record_ids {
 public:
    static constexpr uint16_t max_ids = 65535;

    // A free id, now in use; 0 when all max_ids are.
    uint16_t take() {
        for (uint32_t tries = 0; tries < max_ids; ++tries) {
            const uint16_t id = next_;
            next_ = next_ == max_ids ? 1 : static_cast<uint16_t>(next_ + 1);
            if (!in_use_.test(id)) {
                in_use_.set(id);
                ++used_;
                return id;
            }
        }
        return 0;
    }
    // Gives `id` back (0 and ids not in use: nothing happens).
    void give_back(uint16_t id) {
        if (id != 0 && in_use_.test(id)) {
            in_use_.reset(id);
            --used_;
        }
    }
    uint32_t in_use() const { return used_; }

 private:
    uint16_t next_ = 1;
    uint32_t used_ = 0;
    std::bitset<max_ids + 1> in_use_;
};

}  // namespace rtprelay::recording
