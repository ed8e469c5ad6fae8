#pragma once

#include <string>
#include <vector>

#include "bdl/nn/module.h"

namespace bdl::nn {

// Where one parameter lives in the flat buffers.
struct ParameterSlot {
  std::string name;
  Shape shape;
  int64_t offset = 0;
  int64_t numel = 0;
};

// All weights of a model in one contiguous buffer and all gradients in another;
// each layer's tensors are views into them. The optimizer, the communicator and
// checkpoints work on these buffers or slices of them. The slots keep each
// parameter's boundaries (per-layer norms for LARS, names for checkpoints).
struct FlatParameters {
  Tensor weights;
  Tensor grads;
  std::vector<ParameterSlot> slots;

  int64_t numel() const { return weights.defined() ? weights.numel() : 0; }
};

// Moves the model's parameters into flat buffers, keeping their values, and
// points each layer's weight and gradient tensors at its slice. Calling it again
// returns the same layout.
FlatParameters compact(Module& model);

}  // namespace bdl::nn
