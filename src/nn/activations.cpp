#include "bdl/nn/activations.h"

#include <cmath>

#include "bdl/kernels/eltwise.h"
#include "nn/dense.h"

namespace bdl::nn {

EltwiseActivation::EltwiseActivation(kernels::Eltwise kind, float alpha, float beta)
    : kernel_(std::make_unique<kernels::EltwiseKernel>(kind, alpha, beta)) {}
EltwiseActivation::~EltwiseActivation() = default;

const Tensor& EltwiseActivation::forward(const Tensor& input) {
  if (output_is_input_) {
    output_ = Tensor();
    output_is_input_ = false;
  }
  kernel_->forward(input, output_, pass());
  return output_;
}

const Tensor& EltwiseActivation::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, input.shape());
  if (!needs_input_grad_) return grad_input_;
  if (grad_is_shared_) {
    grad_input_ = Tensor();
    grad_is_shared_ = false;
  }
  kernel_->backward(input, grad_output, grad_input_);
  return grad_input_;
}

ReLU::ReLU() : Layer(kernels::Eltwise::relu, 0.f, 0.f) {}

const Tensor& ReLU::adopt_grad(const Tensor& grad_input) {
  grad_input_ = grad_input;
  grad_is_shared_ = true;
  return grad_input_;
}

const Tensor& ReLU::adopt_rectified(const Tensor& rectified) {
  output_ = rectified;
  output_is_input_ = true;
  return output_;
}

const Tensor& ReLU::forward_in_place(const Tensor& input) {
  BDL_CHECK(input.is_dense_from_start(), label(), ": an in-place forward of a ",
            input.is_plain() ? "strided view" : "view", " of shape ", input.shape_str());
  output_ = input;  // a handle: the kernel writes max(x, 0) over x
  output_is_input_ = true;
  kernel_->forward(input, output_, pass());
  return output_;
}

LeakyReLU::LeakyReLU(LeakyReLUOptions options)
    : Layer(kernels::Eltwise::relu, options.negative_slope, 0.f), options_(options) {
  BDL_CHECK(std::isfinite(options.negative_slope), "LeakyReLU: negative_slope must be finite");
}

ELU::ELU(ELUOptions options) : Layer(kernels::Eltwise::elu, options.alpha, 0.f), options_(options) {
  BDL_CHECK(std::isfinite(options.alpha), "ELU: alpha must be finite");
}

Tanh::Tanh() : Layer(kernels::Eltwise::tanh, 0.f, 0.f) {}
Sigmoid::Sigmoid() : Layer(kernels::Eltwise::sigmoid, 0.f, 0.f) {}

GELU::GELU(GELUOptions options)
    : Layer(options.tanh ? kernels::Eltwise::gelu_tanh : kernels::Eltwise::gelu_erf, 0.f, 0.f),
      options_(options) {}

HardTanh::HardTanh(HardTanhOptions options)
    : Layer(kernels::Eltwise::clip, options.min, options.max), options_(options) {
  BDL_CHECK(options.min < options.max, "HardTanh: min ", options.min, " must be below max ",
            options.max);
}

SoftPlus::SoftPlus(SoftPlusOptions options) : options_(options) {
  BDL_CHECK(options.beta > 0 && std::isfinite(options.beta),
            "SoftPlus: beta must be positive, got ", options.beta);
}

const Tensor& SoftPlus::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_input_);
  output_.resize(x.shape());
  const float* xs = x.f32();
  float* ys = output_.f32();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float bx = options_.beta * xs[i];
    ys[i] = bx > options_.threshold ? xs[i] : std::log1p(std::exp(bx)) / options_.beta;
  }
  return output_;
}

const Tensor& SoftPlus::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, input.shape());
  if (!needs_input_grad_) return grad_input_;
  const Tensor& x = dense(input, dense_input_);
  const Tensor& dy = dense(grad_output, dense_grad_);
  grad_input_.resize(x.shape());
  const float* xs = x.f32();
  const float* dys = dy.f32();
  float* dxs = grad_input_.f32();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float bx = options_.beta * xs[i];
    dxs[i] = bx > options_.threshold ? dys[i] : dys[i] / (1.f + std::exp(-bx));
  }
  return grad_input_;
}

PReLU::PReLU(PReLUOptions options) : options_(options) {
  const int64_t n = options.num_parameters;
  BDL_CHECK(n > 0, "PReLU: num_parameters must be positive, got ", n);
  weight_ = Tensor::full({n}, options.init);
  grad_weight_ = Tensor({n});
}

Shape PReLU::output_shape(const Shape& input) const {
  if (options_.num_parameters > 1) {
    BDL_CHECK(input.size() >= 2 && input[1] == options_.num_parameters, label(),
              ": input of shape ", shape_str(input), " does not have ", options_.num_parameters,
              " channels in dimension 1");
  }
  return input;
}

void PReLU::own_parameters(std::vector<Parameter>& out) {
  out.push_back({"weight", &weight_, &grad_weight_});
}

namespace {

// (outer, channels, inner) view of an input for per-channel slopes.
struct ChannelGeometry {
  int64_t outer, channels, inner;
};

ChannelGeometry channel_geometry(const Shape& shape, int64_t num_parameters) {
  if (num_parameters == 1) return {1, 1, shape_numel(shape)};
  int64_t inner = 1;
  for (size_t d = 2; d < shape.size(); ++d) inner *= shape[d];
  return {shape[0], shape[1], inner};
}

}  // namespace

const Tensor& PReLU::forward(const Tensor& input) {
  output_shape(input.shape());
  const Tensor& x = dense(input, dense_input_);
  output_.resize(x.shape());
  const auto g = channel_geometry(x.shape(), options_.num_parameters);
  const float* xs = x.f32();
  const float* a = weight_.f32();
  float* ys = output_.f32();
  for (int64_t o = 0; o < g.outer; ++o) {
    for (int64_t c = 0; c < g.channels; ++c) {
      const int64_t base = (o * g.channels + c) * g.inner;
      for (int64_t i = base; i < base + g.inner; ++i) ys[i] = xs[i] > 0 ? xs[i] : a[c] * xs[i];
    }
  }
  return output_;
}

const Tensor& PReLU::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, input.shape());
  const Tensor& x = dense(input, dense_input_);
  const Tensor& dy = dense(grad_output, dense_grad_);
  const auto g = channel_geometry(x.shape(), options_.num_parameters);
  const float* xs = x.f32();
  const float* dys = dy.f32();
  const float* a = weight_.f32();
  if (needs_input_grad_) {
    grad_input_.resize(x.shape());
    float* dxs = grad_input_.f32();
    for (int64_t o = 0; o < g.outer; ++o) {
      for (int64_t c = 0; c < g.channels; ++c) {
        const int64_t base = (o * g.channels + c) * g.inner;
        for (int64_t i = base; i < base + g.inner; ++i) dxs[i] = xs[i] > 0 ? dys[i] : a[c] * dys[i];
      }
    }
  }
  float* ga = grad_weight_.f32();
  for (int64_t c = 0; c < g.channels; ++c) {
    double sum = 0;
    for (int64_t o = 0; o < g.outer; ++o) {
      const int64_t base = (o * g.channels + c) * g.inner;
      for (int64_t i = base; i < base + g.inner; ++i) {
        if (xs[i] <= 0) sum += double{xs[i]} * dys[i];
      }
    }
    ga[c] += static_cast<float>(sum);
  }
  grads_are_zero_ = false;
  return grad_input_;
}

const Tensor& Identity::forward(const Tensor& input) {
  output_ = input;
  return output_;
}

const Tensor& Identity::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, input.shape());
  grad_input_ = grad_output;
  return grad_input_;
}

const RegisterLayers<ReLU, LeakyReLU, ELU, Tanh, Sigmoid, GELU, HardTanh, SoftPlus, PReLU, Identity>
    kRegistered;

}  // namespace bdl::nn
