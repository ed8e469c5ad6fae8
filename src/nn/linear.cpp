#include "bdl/nn/linear.h"

#include <cmath>

#include "bdl/core/random.h"
#include "bdl/kernels/inner_product.h"
#include "nn/init.h"

namespace bdl::nn {

Linear::Linear(LinearOptions options)
    : options_(options), kernel_(std::make_unique<kernels::InnerProductKernel>()) {
  BDL_CHECK(options.in_features > 0 && options.out_features > 0,
            "Linear: in_features and out_features must be positive, got ", options.in_features,
            " and ", options.out_features);
  weight_ = new_weight({options.out_features, options.in_features});
  grad_weight_ = Tensor(weight_.shape());
  const float bound = 1.f / std::sqrt(static_cast<float>(options.in_features));
  init_uniform(weight_, bound);
  if (options.bias) {
    bias_ = Tensor({options.out_features});
    grad_bias_ = Tensor(bias_.shape());
    init_uniform(bias_, bound);
  }
}

Linear::~Linear() = default;

std::string Linear::describe() const {
  return detail::concat("Linear(", options_.in_features, " -> ", options_.out_features,
                        options_.bias ? "" : ", no bias", ")");
}

Shape Linear::output_shape(const Shape& input) const {
  BDL_CHECK(!input.empty() && input.back() == options_.in_features, label(), ": input of shape ",
            shape_str(input), " does not end in in_features ", options_.in_features);
  Shape out = input;
  out.back() = options_.out_features;
  return out;
}

int64_t Linear::batch_of(const Tensor& input) const { return input.numel() / options_.in_features; }

double Linear::flops(const Shape& input) const {
  const Shape out = output_shape(input);
  return 2.0 * static_cast<double>(shape_numel(out)) * static_cast<double>(options_.in_features);
}

void Linear::own_parameters(std::vector<Parameter>& out) {
  out.push_back({"weight", &weight_, &grad_weight_});
  if (options_.bias) out.push_back({"bias", &bias_, &grad_bias_});
}

const Tensor& Linear::forward(const Tensor& input) {
  output_.resize(output_shape(input.shape()));
  const Tensor x = input.contiguous();
  kernel_->forward(batch_of(x), options_.in_features, options_.out_features, options_.bias, x.f32(),
                   weight_.f32(), options_.bias ? bias_.f32() : nullptr, output_.f32(), pass());
  return output_;
}

const Tensor& Linear::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_shape(input.shape()));
  const Tensor x = input.contiguous();
  const Tensor dy = grad_output.contiguous();
  const int64_t batch = batch_of(x);
  const int64_t in = options_.in_features, out = options_.out_features;
  if (needs_input_grad_) {
    grad_input_.resize(x.shape());
    kernel_->backward_data(batch, in, out, dy.f32(), weight_.f32(), grad_input_.f32());
  }
  accumulate_grads(grad_weight_, grad_bias_, [&](float* grad_weight, float* grad_bias) {
    kernel_->backward_weights(batch, in, out, options_.bias, x.f32(), dy.f32(), grad_weight,
                              grad_bias);
  });
  return grad_input_;
}

const RegisterLayers<Linear> kRegistered;

}  // namespace bdl::nn
