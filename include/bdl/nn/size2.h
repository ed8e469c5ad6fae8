#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bdl/nn/attributes.h"

namespace bdl::nn {

// A (height, width) pair; one number means both.
struct Size2 {
  int64_t h = 0, w = 0;
  Size2() = default;
  Size2(int64_t both) : h(both), w(both) {}  // NOLINT(google-explicit-constructor)
  Size2(int64_t height, int64_t width) : h(height), w(width) {}
  bool operator==(const Size2&) const = default;
};

// As a model file stores it: a list of two integers.
inline std::vector<int64_t> to_list(Size2 s) { return {s.h, s.w}; }
inline Size2 size2_attribute(const Attributes& a, const std::string& name, int64_t low) {
  const auto& v = a.integers(name, 2, low);
  return {v[0], v[1]};
}

}  // namespace bdl::nn
