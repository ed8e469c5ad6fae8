#pragma once

#include "bdl/core/tensor.h"

namespace bdl::nn {

// t itself when plain and contiguous, otherwise a plain contiguous copy in
// scratch (reused across iterations): for layers written as plain loops.
inline const Tensor& dense(const Tensor& t, Tensor& scratch) {
  if (t.is_contiguous()) return t;
  scratch.resize(t.shape());
  scratch.copy_from(t);
  return scratch;
}

}  // namespace bdl::nn
