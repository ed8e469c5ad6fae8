#pragma once

#include <memory>

#include "bdl/nn/module.h"

namespace bdl::kernels {
class SoftmaxKernel;
}

namespace bdl::nn {

// log(softmax(x)) over the last dimension.
class LogSoftMax : public Module {
 public:
  LogSoftMax();
  ~LogSoftMax() override;
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string type() const override { return "LogSoftMax"; }
  Shape output_shape(const Shape& input) const override;

 private:
  std::unique_ptr<kernels::SoftmaxKernel> kernel_;
};

}  // namespace bdl::nn
