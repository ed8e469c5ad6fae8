#pragma once

#include <span>
#include <string>

namespace bdl::optim {

// An optimisation method updates a slice of the flat weight buffer from the same
// slice of the flat gradient buffer. Its state (momentum, moments) is sized to
// that slice only, which is what makes sharded optimizer state fall out when each
// worker owns one slice.
class OptimMethod {
 public:
  virtual ~OptimMethod() = default;
  virtual void step(std::span<float> weights, std::span<const float> grads) = 0;
  virtual std::string describe() const = 0;
  virtual double learning_rate() const = 0;
  virtual void set_learning_rate(double lr) = 0;
};

}  // namespace bdl::optim
