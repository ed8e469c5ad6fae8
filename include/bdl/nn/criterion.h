#pragma once

#include <string>

#include "bdl/core/tensor.h"

namespace bdl::nn {

// A loss: forward(input, target) returns the mean loss over the batch;
// backward(input, target) returns d(loss)/d(input). Like modules, the gradient
// buffer is a member reused across iterations.
class Criterion {
 public:
  virtual ~Criterion() = default;
  virtual float forward(const Tensor& input, const Tensor& target) = 0;
  virtual const Tensor& backward(const Tensor& input, const Tensor& target) = 0;
  virtual std::string type() const = 0;

 protected:
  Tensor grad_input_;
};

}  // namespace bdl::nn
