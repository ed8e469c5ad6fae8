#pragma once

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

}  // namespace bdl::nn
