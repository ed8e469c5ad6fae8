#pragma once

#include <cstdint>

namespace bdl::nn {

// A (height, width) pair; one number means both.
struct Size2 {
  int64_t h = 0, w = 0;
  Size2() = default;
  Size2(int64_t both) : h(both), w(both) {}  // NOLINT(google-explicit-constructor)
  Size2(int64_t height, int64_t width) : h(height), w(width) {}
  bool operator==(const Size2&) const = default;
};

}  // namespace bdl::nn
