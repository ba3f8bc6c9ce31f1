#pragma once
// IdSet: a set of 64-bit ids (TensorImpl::id) in one flat open-addressing table. A tape asks
// "is this tensor tracked?" for every input of every op it sees and adds every output; a node-
// based std::unordered_set costs a heap allocation per insert and a pointer chase per lookup.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tenflowers {

class IdSet {
 public:
  IdSet() = default;

  bool contains(uint64_t id) const {
    if (id == 0) return has_zero_;
    if (slots_.empty()) return false;
    const size_t mask = slots_.size() - 1;
    for (size_t i = slot_of(id);; i = (i + 1) & mask) {
      const uint64_t at = slots_[i];
      if (at == id) return true;
      if (at == 0) return false;
    }
  }
  size_t count(uint64_t id) const { return contains(id) ? 1 : 0; }

  // Returns whether the id was new.
  bool insert(uint64_t id) {
    if (id == 0) {
      const bool fresh = !has_zero_;
      has_zero_ = true;
      size_ += fresh;
      return fresh;
    }
    if ((used_ + 1) * 2 > slots_.size()) grow();  // keep the table at most half full
    const size_t mask = slots_.size() - 1;
    for (size_t i = slot_of(id);; i = (i + 1) & mask) {
      if (slots_[i] == id) return false;
      if (slots_[i] == 0) {
        slots_[i] = id;
        ++used_;
        ++size_;
        return true;
      }
    }
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() {
    slots_.clear();
    slots_.shrink_to_fit();
    shift_ = 64;
    used_ = 0;
    size_ = 0;
    has_zero_ = false;
  }

 private:
  // Fibonacci hashing: ids are mostly consecutive, and the multiply spreads them over the table.
  size_t slot_of(uint64_t id) const {
    return static_cast<size_t>((id * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void grow() {
    const size_t capacity = slots_.empty() ? 16 : slots_.size() * 2;
    std::vector<uint64_t> old(capacity, 0);
    old.swap(slots_);
    shift_ = 64;
    for (size_t c = capacity; c > 1; c >>= 1) --shift_;
    const size_t mask = capacity - 1;
    for (uint64_t id : old) {
      if (id == 0) continue;
      size_t i = slot_of(id);
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = id;
    }
  }

  std::vector<uint64_t> slots_;  // 0 marks an empty slot; id 0 lives in has_zero_
  int shift_ = 64;               // 64 - log2(slots_.size())
  size_t used_ = 0;              // occupied slots
  size_t size_ = 0;              // ids held, id 0 included
  bool has_zero_ = false;
};

}  // namespace tenflowers
