#include "bdl/nn/activations.h"

#include "kernels/eltwise.h"

namespace bdl::nn {

ReLU::ReLU() : kernel_(std::make_unique<kernels::EltwiseKernel>(kernels::Eltwise::relu)) {}
ReLU::~ReLU() = default;

const Tensor& ReLU::forward(const Tensor& input) {
  output_.resize(input.shape());
  const Tensor x = input.contiguous();
  kernel_->forward(x.numel(), x.f32(), output_.f32());
  return output_;
}

const Tensor& ReLU::backward(const Tensor& input, const Tensor& grad_output) {
  BDL_CHECK(grad_output.shape() == input.shape(), label(), ": grad_output of shape ",
            grad_output.shape_str(), ", expected ", input.shape_str());
  if (!needs_input_grad_) return grad_input_;
  grad_input_.resize(input.shape());
  const Tensor x = input.contiguous();
  const Tensor dy = grad_output.contiguous();
  kernel_->backward(x.numel(), x.f32(), dy.f32(), grad_input_.f32());
  return grad_input_;
}

}  // namespace bdl::nn
