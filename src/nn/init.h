#pragma once

#include "bdl/core/random.h"
#include "bdl/core/tensor.h"

namespace bdl::nn {

// Fills a parameter uniform in [-bound, bound) from the global seeded stream
// (bdl::manual_seed), so that a model built after the same seed is the same.
inline void init_uniform(Tensor& t, float bound) {
  global_rng().fill_uniform(t.span_f32(), -bound, bound);
}

}  // namespace bdl::nn
