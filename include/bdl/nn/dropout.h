#pragma once

#include <cstdint>
#include <vector>

#include "bdl/core/random.h"
#include "bdl/nn/layer.h"

namespace bdl::nn {

// Zeroes each element with probability p during training and scales the rest by
// 1 / (1 - p); the identity in evaluation. Masks come from the module's own
// stream: seeded from the global one when built, and by Module::seed() (the
// training loop seeds it per worker), so a run is reproducible.
struct DropoutOptions {
  float p = 0.5f;
  static void fields(auto& o, auto& field) { field("p", o.p); }
};

class Dropout : public Layer<Dropout> {
 public:
  static constexpr std::string_view kType = "Dropout";
  explicit Dropout(DropoutOptions options);
  explicit Dropout(float p = 0.5f) : Dropout(DropoutOptions{p}) {}
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override { return input; }
  float p() const { return p_; }
  DropoutOptions options() const { return {p_}; }

 protected:
  void on_seed(uint64_t seed) override { rng_.reseed(seed); }
  void own_random_streams(std::vector<Rng*>& out) override { out.push_back(&rng_); }

 private:
  float p_;
  Rng rng_;
  std::vector<uint8_t> mask_;
  Tensor dense_input_, dense_grad_;
};

}  // namespace bdl::nn
