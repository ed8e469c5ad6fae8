#include "bdl/nn/softmax.h"

#include "bdl/kernels/eltwise.h"
#include "nn/dense.h"

namespace bdl::nn {

SoftMaxBase::SoftMaxBase(bool log, int64_t dim)
    : dim_(dim), kernel_(std::make_unique<kernels::SoftmaxKernel>(log)) {}
SoftMaxBase::~SoftMaxBase() = default;

std::string SoftMaxBase::describe() const {
  return dim_ == -1 ? type() : detail::concat(type(), "(dim ", dim_, ")");
}

SoftMaxBase::Extent SoftMaxBase::extent(const Shape& input) const {
  const auto rank = static_cast<int64_t>(input.size());
  const int64_t d = dim_ < 0 ? dim_ + rank : dim_;
  BDL_CHECK(d >= 0 && d < rank, label(), ": dimension ", dim_, " out of range for input of shape ",
            shape_str(input));
  BDL_CHECK(input[d] > 0, label(), ": input of shape ", shape_str(input),
            " is empty along dimension ", d);
  Extent e{1, input[d], 1};
  for (int64_t i = 0; i < d; ++i) e.outer *= input[i];
  for (int64_t i = d + 1; i < rank; ++i) e.inner *= input[i];
  return e;
}

Shape SoftMaxBase::output_shape(const Shape& input) const {
  extent(input);
  return input;
}

const Tensor& SoftMaxBase::forward(const Tensor& input) {
  const auto e = extent(input.shape());
  const Tensor& x = dense(input, dense_input_);
  output_.resize(x.shape());
  kernel_->forward(e.outer, e.axis, e.inner, x.f32(), output_.f32(), pass());
  return output_;
}

const Tensor& SoftMaxBase::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, input.shape());
  if (!needs_input_grad_) return grad_input_;
  const auto e = extent(input.shape());
  grad_input_.resize(input.shape());
  const Tensor& dy = dense(grad_output, dense_grad_);
  kernel_->backward(e.outer, e.axis, e.inner, output_.f32(), dy.f32(), grad_input_.f32());
  return grad_input_;
}

const RegisterLayers<SoftMax, LogSoftMax> kRegistered;

}  // namespace bdl::nn
