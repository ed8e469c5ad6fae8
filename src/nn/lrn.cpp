#include "bdl/nn/lrn.h"

#include "bdl/kernels/normalization.h"

namespace bdl::nn {

LRN::LRN(LrnOptions options)
    : options_(options),
      kernel_(std::make_unique<kernels::LrnKernel>(options.size, options.alpha, options.beta,
                                                   options.k)) {
  BDL_CHECK(options.size > 0 && options.size % 2 == 1, "LRN: size must be odd and positive, got ",
            options.size, " (even windows are placed differently by PyTorch and ONNX)");
  BDL_CHECK(options.k > 0 && options.beta >= 0, "LRN: k must be positive and beta non-negative");
}

LRN::~LRN() = default;

std::string LRN::describe() const {
  return detail::concat("LRN(size ", options_.size, ", alpha ", options_.alpha, ", beta ",
                        options_.beta, ", k ", options_.k, ")");
}

Shape LRN::output_shape(const Shape& input) const {
  BDL_CHECK(input.size() == 4, label(), ": expected input (batch, channels, height, width), got ",
            shape_str(input));
  return input;
}

const Tensor& LRN::forward(const Tensor& input) {
  output_shape(input.shape());
  kernel_->forward(input, output_, pass());
  return output_;
}

const Tensor& LRN::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, input.shape());
  if (!needs_input_grad_) return grad_input_;
  kernel_->backward(input, grad_output, grad_input_);
  return grad_input_;
}

const RegisterLayers<LRN> kRegistered;

}  // namespace bdl::nn
