#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "bdl/core/tensor.h"

namespace bdl::testing {

// |actual - expected| <= atol + rtol * |expected| element-wise, with the worst
// element reported.
inline ::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected,
                                            double rtol, double atol) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure()
           << "shape " << actual.shape_str() << " != expected " << expected.shape_str();
  }
  const auto a = actual.to_vector();
  const auto e = expected.to_vector();
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double excess = std::abs(double{a[i]} - e[i]) - (atol + rtol * std::abs(double{e[i]}));
    if (!(excess <= worst) || std::isnan(a[i])) {
      worst = std::isnan(a[i]) ? INFINITY : excess;
      worst_i = i;
    }
  }
  if (worst > 0) {
    return ::testing::AssertionFailure()
           << "element " << worst_i << ": " << a[worst_i] << " vs expected " << e[worst_i]
           << " (rtol " << rtol << ", atol " << atol << ")";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace bdl::testing
