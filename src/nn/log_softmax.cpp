#include "bdl/nn/log_softmax.h"

#include "kernels/eltwise.h"

namespace bdl::nn {

LogSoftMax::LogSoftMax() : kernel_(std::make_unique<kernels::SoftmaxKernel>(true)) {}
LogSoftMax::~LogSoftMax() = default;

Shape LogSoftMax::output_shape(const Shape& input) const {
  BDL_CHECK(!input.empty() && input.back() > 0, label(), ": input of shape ", shape_str(input),
            " has no classes");
  return input;
}

const Tensor& LogSoftMax::forward(const Tensor& input) {
  output_.resize(output_shape(input.shape()));
  const Tensor x = input.contiguous();
  const int64_t cols = x.shape().back();
  kernel_->forward(x.numel() / cols, cols, x.f32(), output_.f32());
  return output_;
}

const Tensor& LogSoftMax::backward(const Tensor& input, const Tensor& grad_output) {
  BDL_CHECK(grad_output.shape() == input.shape(), label(), ": grad_output of shape ",
            grad_output.shape_str(), ", expected ", input.shape_str());
  if (!needs_input_grad_) return grad_input_;
  grad_input_.resize(input.shape());
  const Tensor dy = grad_output.contiguous();
  const int64_t cols = input.shape().back();
  kernel_->backward(input.numel() / cols, cols, output_.f32(), dy.f32(), grad_input_.f32());
  return grad_input_;
}

}  // namespace bdl::nn
