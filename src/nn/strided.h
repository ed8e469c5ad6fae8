#pragma once

// Loops over n-dimensional index spaces for the layers written as plain loops
// (broadcasting arithmetic, transposes, slices, padding, reductions). The
// innermost dimension is one call with its strides, so the compiler vectorises
// the common contiguous case.
#include <omp.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bdl/core/tensor.h"

namespace bdl::nn {

// An axis counted from the end when negative, checked against the rank.
inline int64_t normalize_axis(int64_t axis, size_t rank, const std::string& who) {
  const auto r = static_cast<int64_t>(rank);
  BDL_CHECK(axis >= -r && axis < r, who, ": axis ", axis, " is out of range for rank ", r);
  return axis < 0 ? axis + r : axis;
}

// Strides (in elements) that read a contiguous tensor of shape `in` as if it had
// shape `out` under NumPy broadcasting: shapes align at the right, and a
// dimension of size 1 (or a missing one) repeats with stride 0.
inline Shape broadcast_strides(const Shape& in, const Shape& out) {
  const Shape own = contiguous_strides(in);
  Shape s(out.size(), 0);
  const size_t lead = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d) {
    if (in[d] != 1 || out[lead + d] == 1) s[lead + d] = own[d];
  }
  return s;
}

// The NumPy broadcast of two shapes, or an error naming both.
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const std::string& who) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    BDL_CHECK(da == db || da == 1 || db == 1, who, ": shapes ", shape_str(a), " and ", shape_str(b),
              " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// for_each_row (below) over rows [first, last) of its order (row-major over all
// but the innermost dimension): a share of the work for one thread.
template <size_t K, typename Row>
void for_row_range(const Shape& shape, const std::array<const Shape*, K>& strides,
                   const std::array<int64_t, K>& base, int64_t first, int64_t last, Row&& row) {
  const size_t rank = shape.size();
  std::array<int64_t, K> off = base;
  std::array<int64_t, K> step{};
  for (size_t k = 0; k < K; ++k) step[k] = (*strides[k])[rank - 1];
  std::vector<int64_t> index(rank, 0);
  int64_t rest = first;
  for (size_t d = rank - 1; d-- > 0;) {
    index[d] = rest % shape[d];
    rest /= shape[d];
    for (size_t k = 0; k < K; ++k) off[k] += index[d] * (*strides[k])[d];
  }
  const int64_t n = shape[rank - 1];
  for (int64_t r = first; r < last; ++r) {
    row(off, n, step);
    for (size_t d = rank - 1; d-- > 0;) {
      ++index[d];
      for (size_t k = 0; k < K; ++k) off[k] += (*strides[k])[d];
      if (index[d] < shape[d]) break;
      for (size_t k = 0; k < K; ++k) off[k] -= (*strides[k])[d] * shape[d];
      index[d] = 0;
    }
  }
}

// Calls row(offsets, n, steps) for every innermost row of `shape`, where
// offsets[k] is operand k's element offset at the row's start and steps[k] its
// stride along the row. K operands, each with its strides over `shape`.
template <size_t K, typename Row>
void for_each_row(const Shape& shape, const std::array<const Shape*, K>& strides,
                  const std::array<int64_t, K>& base, Row&& row) {
  if (shape.empty()) {
    row(base, int64_t{1}, std::array<int64_t, K>{});
    return;
  }
  const int64_t numel = shape_numel(shape);
  if (numel == 0) return;
  for_row_range<K>(shape, strides, base, 0, numel / shape.back(), row);
}

// for_each_row with the rows shared among the OpenMP threads, for loops whose
// rows write disjoint outputs. Small index spaces stay on one thread: their
// work is less than waking the others.
template <size_t K, typename Row>
void parallel_for_each_row(const Shape& shape, const std::array<const Shape*, K>& strides,
                           const std::array<int64_t, K>& base, Row&& row) {
  constexpr int64_t kMinElements = int64_t{1} << 15;
  const int64_t numel = shape_numel(shape);
  const int64_t rows = shape.empty() || shape.back() == 0 ? 0 : numel / shape.back();
  if (numel < kMinElements || rows < 2 || omp_get_max_threads() == 1) {
    for_each_row<K>(shape, strides, base, row);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num();
    const int64_t threads = omp_get_num_threads();
    for_row_range<K>(shape, strides, base, rows * t / threads, rows * (t + 1) / threads, row);
  }
}

// dst[i] = src[i] (or += when accumulate) over `shape`, each side with its own
// strides and offset.
inline void strided_copy(const Shape& shape, const float* src, const Shape& src_strides, float* dst,
                         const Shape& dst_strides, bool accumulate = false) {
  auto row = [&](const std::array<int64_t, 2>& o, int64_t n, const std::array<int64_t, 2>& s) {
    const float* a = src + o[0];
    float* b = dst + o[1];
    if (accumulate) {
      for (int64_t i = 0; i < n; ++i) b[i * s[1]] += a[i * s[0]];
    } else if (s[0] == 1 && s[1] == 1) {
      for (int64_t i = 0; i < n; ++i) b[i] = a[i];
    } else {
      for (int64_t i = 0; i < n; ++i) b[i * s[1]] = a[i * s[0]];
    }
  };
  // An accumulating copy may add several sources into one element: one thread.
  if (accumulate) {
    for_each_row<2>(shape, {&src_strides, &dst_strides}, {0, 0}, row);
  } else {
    parallel_for_each_row<2>(shape, {&src_strides, &dst_strides}, {0, 0}, row);
  }
}

}  // namespace bdl::nn
