#include "bdl/nn/activations.h"

#include <cmath>

#include "kernels/eltwise.h"
#include "nn/dense.h"

namespace bdl::nn {

EltwiseActivation::EltwiseActivation(kernels::Eltwise kind, float alpha, float beta)
    : kernel_(std::make_unique<kernels::EltwiseKernel>(kind, alpha, beta)) {}
EltwiseActivation::~EltwiseActivation() = default;

const Tensor& EltwiseActivation::forward(const Tensor& input) {
  kernel_->forward(input, output_);
  return output_;
}

const Tensor& EltwiseActivation::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, input.shape());
  if (!needs_input_grad_) return grad_input_;
  kernel_->backward(input, grad_output, grad_input_);
  return grad_input_;
}

ReLU::ReLU() : EltwiseActivation(kernels::Eltwise::relu, 0.f, 0.f) {}

LeakyReLU::LeakyReLU(float negative_slope)
    : EltwiseActivation(kernels::Eltwise::relu, negative_slope, 0.f),
      negative_slope_(negative_slope) {}
std::string LeakyReLU::describe() const {
  return detail::concat("LeakyReLU(", negative_slope_, ")");
}

ELU::ELU(float alpha) : EltwiseActivation(kernels::Eltwise::elu, alpha, 0.f), alpha_(alpha) {}
std::string ELU::describe() const { return detail::concat("ELU(", alpha_, ")"); }

Tanh::Tanh() : EltwiseActivation(kernels::Eltwise::tanh, 0.f, 0.f) {}
Sigmoid::Sigmoid() : EltwiseActivation(kernels::Eltwise::sigmoid, 0.f, 0.f) {}

GELU::GELU(bool tanh_approximation)
    : EltwiseActivation(
          tanh_approximation ? kernels::Eltwise::gelu_tanh : kernels::Eltwise::gelu_erf, 0.f, 0.f),
      tanh_(tanh_approximation) {}
std::string GELU::describe() const { return tanh_ ? "GELU(tanh)" : "GELU"; }

HardTanh::HardTanh(float min, float max)
    : EltwiseActivation(kernels::Eltwise::clip, min, max), min_(min), max_(max) {
  BDL_CHECK(min < max, "HardTanh: min ", min, " must be below max ", max);
}
std::string HardTanh::describe() const {
  return detail::concat("HardTanh(", min_, ", ", max_, ")");
}

SoftPlus::SoftPlus(float beta, float threshold) : beta_(beta), threshold_(threshold) {
  BDL_CHECK(beta > 0, "SoftPlus: beta must be positive, got ", beta);
}
std::string SoftPlus::describe() const {
  return detail::concat("SoftPlus(beta ", beta_, ", threshold ", threshold_, ")");
}

const Tensor& SoftPlus::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_input_);
  output_.resize(x.shape());
  const float* xs = x.f32();
  float* ys = output_.f32();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float bx = beta_ * xs[i];
    ys[i] = bx > threshold_ ? xs[i] : std::log1p(std::exp(bx)) / beta_;
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
    const float bx = beta_ * xs[i];
    dxs[i] = bx > threshold_ ? dys[i] : dys[i] / (1.f + std::exp(-bx));
  }
  return grad_input_;
}

PReLU::PReLU(int64_t num_parameters, float init) : num_parameters_(num_parameters) {
  BDL_CHECK(num_parameters > 0, "PReLU: num_parameters must be positive, got ", num_parameters);
  weight_ = Tensor::full({num_parameters}, init);
  grad_weight_ = Tensor({num_parameters});
}

std::string PReLU::describe() const { return detail::concat("PReLU(", num_parameters_, ")"); }

Shape PReLU::output_shape(const Shape& input) const {
  if (num_parameters_ > 1) {
    BDL_CHECK(input.size() >= 2 && input[1] == num_parameters_, label(), ": input of shape ",
              shape_str(input), " does not have ", num_parameters_, " channels in dimension 1");
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
  const auto g = channel_geometry(x.shape(), num_parameters_);
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
  const auto g = channel_geometry(x.shape(), num_parameters_);
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

void LeakyReLU::attributes(Attributes& out) const { out.set("negative_slope", negative_slope_); }
std::unique_ptr<Module> LeakyReLU::create(const Attributes& a) {
  return std::make_unique<LeakyReLU>(static_cast<float>(a.real("negative_slope")));
}
void ELU::attributes(Attributes& out) const { out.set("alpha", alpha_); }
std::unique_ptr<Module> ELU::create(const Attributes& a) {
  return std::make_unique<ELU>(static_cast<float>(a.real("alpha")));
}
void GELU::attributes(Attributes& out) const { out.set("tanh", tanh_); }
std::unique_ptr<Module> GELU::create(const Attributes& a) {
  return std::make_unique<GELU>(a.flag("tanh", false));
}
void HardTanh::attributes(Attributes& out) const { out.set("min", min_).set("max", max_); }
std::unique_ptr<Module> HardTanh::create(const Attributes& a) {
  return std::make_unique<HardTanh>(static_cast<float>(a.real("min")),
                                    static_cast<float>(a.real("max")));
}
void SoftPlus::attributes(Attributes& out) const {
  out.set("beta", beta_).set("threshold", threshold_);
}
std::unique_ptr<Module> SoftPlus::create(const Attributes& a) {
  return std::make_unique<SoftPlus>(static_cast<float>(a.real("beta")),
                                    static_cast<float>(a.real("threshold")));
}
void PReLU::attributes(Attributes& out) const { out.set("num_parameters", num_parameters_); }
std::unique_ptr<Module> PReLU::create(const Attributes& a) {
  return std::make_unique<PReLU>(a.positive("num_parameters"));
}

}  // namespace bdl::nn
