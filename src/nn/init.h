#pragma once

#include "bdl/core/random.h"
#include "bdl/core/tensor.h"
#include "bdl/nn/module.h"

namespace bdl::nn {

// Fills a parameter uniform in [-bound, bound) from the global seeded stream
// (bdl::manual_seed), so that a model built after the same seed is the same.
// A new weight tensor: zero-filled, or left unwritten while SkipInitialisation is
// active (a loader writes every element; not touching the memory twice is most of
// what makes loading fast).
inline Tensor new_weight(Shape shape) {
  return SkipInitialisation::active() ? Tensor::empty(std::move(shape)) : Tensor(std::move(shape));
}

inline void init_uniform(Tensor& t, float bound) {
  if (SkipInitialisation::active()) return;
  global_rng().fill_uniform(t.span_f32(), -bound, bound);
}

}  // namespace bdl::nn
