#pragma once

#include <span>
#include <string>

#include "bdl/core/tensor.h"

namespace bdl::nn {

// Checks a (batch, classes) input against an i64 (batch) target of class indices
// in range, naming the criterion and the offending entry.
inline void check_class_targets(const char* who, const Tensor& input, const Tensor& target) {
  BDL_CHECK(input.dim() == 2, who, ": expected input (batch, classes), got ", input.shape_str());
  BDL_CHECK(target.dtype() == DType::i64, who, ": target must be i64 class indices, got ",
            dtype_name(target.dtype()));
  BDL_CHECK(target.dim() == 1 && target.size(0) == input.size(0), who, ": target of shape ",
            target.shape_str(), " does not match input batch ", input.size(0));
  const int64_t classes = input.size(1);
  const Tensor t = target.contiguous();
  const int64_t* y = t.data<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    BDL_CHECK(y[i] >= 0 && y[i] < classes, who, ": target[", i, "] = ", y[i],
              " is not a class index in [0, ", classes, ")");
  }
}

// Checks an f32 target of the input's shape, naming the criterion.
inline void check_value_targets(const std::string& who, const Tensor& input, const Tensor& target) {
  BDL_CHECK(input.dtype() == DType::f32 && target.dtype() == DType::f32, who,
            ": input and target must be f32, got ", dtype_name(input.dtype()), " and ",
            dtype_name(target.dtype()));
  BDL_CHECK(input.shape() == target.shape(), who, ": target of shape ", target.shape_str(),
            " does not match input of shape ", input.shape_str());
  BDL_CHECK(input.numel() > 0, who, ": empty input");
}

// Each sample's part of an element-wise loss over `numel` elements:
// out[i] = scale * (the sum of element_loss(j) over sample i's elements j).
template <typename ElementLoss>
void per_sample_sums(const std::string& who, int64_t numel, int64_t batch, double scale,
                     std::span<double> out, ElementLoss&& element_loss) {
  const auto n = static_cast<int64_t>(out.size());
  BDL_CHECK(n == batch, who, ": ", n, " sample losses for a batch of ", batch);
  const int64_t per_sample = numel / n;
  for (int64_t i = 0; i < n; ++i) {
    double total = 0;
    for (int64_t j = i * per_sample; j < (i + 1) * per_sample; ++j) total += element_loss(j);
    out[static_cast<size_t>(i)] = total * scale;
  }
}

}  // namespace bdl::nn
