#pragma once

#include <memory>

#include "bdl/nn/layer.h"

namespace bdl::kernels {
enum class Eltwise : int;
class EltwiseKernel;
}  // namespace bdl::kernels

namespace bdl::nn {

// An element-wise function on oneDNN's eltwise primitive, in the layout of its
// input (a channel-blocked convolution output stays blocked).
class EltwiseActivation : public Module {
 public:
  ~EltwiseActivation() override;
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override { return input; }

 protected:
  EltwiseActivation(kernels::Eltwise kind, float alpha, float beta);
  // output_ is a handle on the input's storage (ReLU::adopt_rectified), or
  // grad_input_ on the next module's (ReLU::adopt_grad): the next pass must not
  // write into them.
  bool output_is_input_ = false;
  bool grad_is_shared_ = false;
  std::unique_ptr<kernels::EltwiseKernel> kernel_;
};

// max(x, 0).
class ReLU : public Layer<ReLU, EltwiseActivation> {
 public:
  static constexpr std::string_view kType = "ReLU";
  ReLU();
  // Forward for an input that is already max(., 0) (Conv2d::forward_rectified):
  // that input is the output, as a handle without a copy. Sequential fuses a
  // Conv2d followed by a ReLU this way. backward() is unchanged: the mask it
  // takes from its input, x > 0, is the same for x and for max(x, 0).
  const Tensor& adopt_rectified(const Tensor& rectified);
  // Backward when the module after this one has applied this ReLU's mask already
  // (Pool2d::backward_rectified): that gradient is this module's, as a handle.
  const Tensor& adopt_grad(const Tensor& grad_input);
  // Forward that rectifies the input where it lies and returns it as the output,
  // for an input that nothing else reads and whose producer allows it
  // (Module::output_may_be_overwritten): one activation less to keep for
  // backward, which is unchanged for the same reason as adopt_rectified's.
  const Tensor& forward_in_place(const Tensor& input);
};

struct LeakyReLUOptions {
  float negative_slope = 0.01f;
  static void fields(auto& o, auto& field) { field("negative_slope", o.negative_slope); }
};

// x for x > 0, negative_slope * x otherwise.
class LeakyReLU : public Layer<LeakyReLU, EltwiseActivation> {
 public:
  static constexpr std::string_view kType = "LeakyReLU";
  explicit LeakyReLU(LeakyReLUOptions options);
  explicit LeakyReLU(float negative_slope = 0.01f) : LeakyReLU(LeakyReLUOptions{negative_slope}) {}
  const LeakyReLUOptions& options() const { return options_; }
  float negative_slope() const { return options_.negative_slope; }

 private:
  LeakyReLUOptions options_;
};

struct ELUOptions {
  float alpha = 1.f;
  static void fields(auto& o, auto& field) { field("alpha", o.alpha); }
};

// x for x > 0, alpha * (exp(x) - 1) otherwise.
class ELU : public Layer<ELU, EltwiseActivation> {
 public:
  static constexpr std::string_view kType = "ELU";
  explicit ELU(ELUOptions options);
  explicit ELU(float alpha = 1.f) : ELU(ELUOptions{alpha}) {}
  const ELUOptions& options() const { return options_; }
  float alpha() const { return options_.alpha; }

 private:
  ELUOptions options_;
};

class Tanh : public Layer<Tanh, EltwiseActivation> {
 public:
  static constexpr std::string_view kType = "Tanh";
  Tanh();
};

// 1 / (1 + exp(-x)).
class Sigmoid : public Layer<Sigmoid, EltwiseActivation> {
 public:
  static constexpr std::string_view kType = "Sigmoid";
  Sigmoid();
};

struct GELUOptions {
  bool tanh = false;  // PyTorch's approximate="tanh"
  static void fields(auto& o, auto& field) { field("tanh", o.tanh, Presence::may_be_absent); }
};

// x * Phi(x) with the exact normal CDF, or PyTorch's approximate="tanh" form.
class GELU : public Layer<GELU, EltwiseActivation> {
 public:
  static constexpr std::string_view kType = "GELU";
  explicit GELU(GELUOptions options);
  explicit GELU(bool tanh_approximation = false) : GELU(GELUOptions{tanh_approximation}) {}
  const GELUOptions& options() const { return options_; }
  bool tanh_approximation() const { return options_.tanh; }

 private:
  GELUOptions options_;
};

struct HardTanhOptions {
  float min = -1.f;
  float max = 1.f;
  static void fields(auto& o, auto& field) {
    field("min", o.min);
    field("max", o.max);
  }
};

// Clamps to [min, max]; the gradient is 1 strictly inside, 0 outside (as PyTorch).
class HardTanh : public Layer<HardTanh, EltwiseActivation> {
 public:
  static constexpr std::string_view kType = "HardTanh";
  explicit HardTanh(HardTanhOptions options);
  explicit HardTanh(float min = -1.f, float max = 1.f) : HardTanh(HardTanhOptions{min, max}) {}
  const HardTanhOptions& options() const { return options_; }
  float min() const { return options_.min; }
  float max() const { return options_.max; }

 private:
  HardTanhOptions options_;
};

struct SoftPlusOptions {
  float beta = 1.f;
  float threshold = 20.f;
  static void fields(auto& o, auto& field) {
    field("beta", o.beta);
    field("threshold", o.threshold);
  }
};

// log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (as PyTorch).
class SoftPlus : public Layer<SoftPlus> {
 public:
  static constexpr std::string_view kType = "SoftPlus";
  explicit SoftPlus(SoftPlusOptions options);
  explicit SoftPlus(float beta = 1.f, float threshold = 20.f)
      : SoftPlus(SoftPlusOptions{beta, threshold}) {}
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override { return input; }
  const SoftPlusOptions& options() const { return options_; }

 private:
  SoftPlusOptions options_;
  Tensor dense_input_, dense_grad_;
};

struct PReLUOptions {
  int64_t num_parameters = 1;
  float init = 0.25f;  // the slopes' starting value (not saved: the weights are)
  static void fields(auto& o, auto& field) { field("num_parameters", o.num_parameters); }
};

// x for x > 0, a * x otherwise, with a learnt slope a: one shared (num_parameters
// = 1) or one per channel (dimension 1 of the input). Slopes start at `init`.
class PReLU : public Layer<PReLU> {
 public:
  static constexpr std::string_view kType = "PReLU";
  explicit PReLU(PReLUOptions options);
  explicit PReLU(int64_t num_parameters = 1, float init = 0.25f)
      : PReLU(PReLUOptions{num_parameters, init}) {}
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override;
  void own_parameters(std::vector<Parameter>& out) override;
  const PReLUOptions& options() const { return options_; }
  Tensor& weight() { return weight_; }

 private:
  PReLUOptions options_;
  Tensor weight_, grad_weight_;
  Tensor dense_input_, dense_grad_;
};

// The input itself (a placeholder, a Graph's input node, a disabled branch).
class Identity : public Layer<Identity> {
 public:
  static constexpr std::string_view kType = "Identity";
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override { return input; }
};

}  // namespace bdl::nn
