#include "bdl/nn/activations.h"

#include "kernels/eltwise.h"

namespace bdl::nn {

ReLU::ReLU() : kernel_(std::make_unique<kernels::EltwiseKernel>(kernels::Eltwise::relu)) {}
ReLU::~ReLU() = default;

const Tensor& ReLU::forward(const Tensor& input) {
  kernel_->forward(input, output_);
  return output_;
}

const Tensor& ReLU::backward(const Tensor& input, const Tensor& grad_output) {
  BDL_CHECK(grad_output.shape() == input.shape(), label(), ": grad_output of shape ",
            grad_output.shape_str(), ", expected ", input.shape_str());
  if (!needs_input_grad_) return grad_input_;
  kernel_->backward(input, grad_output, grad_input_);
  return grad_input_;
}

}  // namespace bdl::nn
