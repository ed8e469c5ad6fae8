#pragma once

#include <memory>
#include <vector>

#include "bdl/core/random.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/reshape.h"
#include "bdl/nn/sequential.h"

namespace bdl::test {

// An MLP over 8x8 images with every kind of state a checkpoint must keep:
// weights, BatchNorm statistics (buffers) and a Dropout random stream.
inline std::unique_ptr<nn::Module> stateful_mlp(uint64_t init_seed, int64_t hidden) {
  manual_seed(init_seed);
  auto m = std::make_unique<nn::Sequential>();
  m->add(std::make_unique<nn::Flatten>());
  m->add(std::make_unique<nn::Linear>(64, hidden));
  m->add(std::make_unique<nn::BatchNorm>(hidden));
  m->add(std::make_unique<nn::ReLU>());
  m->add(std::make_unique<nn::Dropout>(0.2f));
  m->add(std::make_unique<nn::Linear>(hidden, 10));
  return m;
}

// Every parameter and buffer value, in order.
inline std::vector<float> all_state(nn::Module& m) {
  std::vector<float> out;
  for (const auto& p : m.parameters()) {
    auto v = p.value->to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  for (const auto& b : m.buffers()) {
    auto v = b.value->to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

}  // namespace bdl::test
