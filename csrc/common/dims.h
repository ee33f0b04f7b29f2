// Dims: an array's shape or strides, one int64 per axis, as the bindings check them.
//
// Up to kInlineAxes values live inside the object and only arrays with more axes
// spill to the heap, so validating a kernel's arrays allocates nothing. With
// std::vector a GEMM call from Python made about 24 allocations for its shapes,
// strides and layouts: about 300 of the 750 ns a 1x1 product took.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace axonic {

class Dims {
 public:
  // 6 axes hold GEMM's matrices and stacks, convolution's and pooling's 4-D arrays, and
  // all but unusual elementwise inputs.
  static constexpr size_t kInlineAxes = 6;

  Dims() = default;
  Dims(std::initializer_list<int64_t> values) : Dims(values.begin(), values.end()) {}
  // Copies touch only the values in use (a default copy would also copy the empty
  // heap vector, a call per copy).
  Dims(const Dims& other) { *this = other; }
  Dims& operator=(const Dims& other) {
    if (this == &other) return *this;
    size_ = other.size_;
    if (size_ <= kInlineAxes) {
      std::copy(other.inline_, other.inline_ + size_, inline_);
      spilled_.clear();
    } else {
      spilled_ = other.spilled_;
    }
    return *this;
  }
  template <typename It>
  Dims(It first, It last) {
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }

  void push_back(int64_t value) {
    if (size_ < kInlineAxes) {
      inline_[size_++] = value;
      return;
    }
    if (size_ == kInlineAxes) spilled_.assign(inline_, inline_ + kInlineAxes);
    spilled_.push_back(value);
    ++size_;
  }
  void assign(size_t count, int64_t value) {
    size_ = 0;
    spilled_.clear();
    for (size_t i = 0; i < count; ++i) push_back(value);
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const int64_t* data() const { return size_ <= kInlineAxes ? inline_ : spilled_.data(); }
  int64_t* data() { return size_ <= kInlineAxes ? inline_ : spilled_.data(); }
  const int64_t* begin() const { return data(); }
  const int64_t* end() const { return data() + size_; }
  int64_t operator[](size_t i) const { return data()[i]; }
  int64_t& operator[](size_t i) { return data()[i]; }
  int64_t back() const { return data()[size_ - 1]; }

  friend bool operator==(const Dims& a, const Dims& b) {
    if (a.size_ != b.size_) return false;
    for (size_t i = 0; i < a.size_; ++i)
      if (a[i] != b[i]) return false;
    return true;
  }
  friend bool operator!=(const Dims& a, const Dims& b) { return !(a == b); }

 private:
  int64_t inline_[kInlineAxes] = {};
  std::vector<int64_t> spilled_;  // all values once there are more than kInlineAxes
  size_t size_ = 0;
};

}  // namespace axonic
