#pragma once

#include <memory>

#include "bdl/nn/module.h"

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

 private:
  std::unique_ptr<kernels::EltwiseKernel> kernel_;
};

// max(x, 0).
class ReLU : public EltwiseActivation {
 public:
  ReLU();
  std::string type() const override { return "ReLU"; }
};

// x for x > 0, negative_slope * x otherwise.
class LeakyReLU : public EltwiseActivation {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  explicit LeakyReLU(float negative_slope = 0.01f);
  std::string type() const override { return "LeakyReLU"; }
  std::string describe() const override;
  float negative_slope() const { return negative_slope_; }

 private:
  float negative_slope_;
};

// x for x > 0, alpha * (exp(x) - 1) otherwise.
class ELU : public EltwiseActivation {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  explicit ELU(float alpha = 1.f);
  std::string type() const override { return "ELU"; }
  std::string describe() const override;
  float alpha() const { return alpha_; }

 private:
  float alpha_;
};

class Tanh : public EltwiseActivation {
 public:
  Tanh();
  std::string type() const override { return "Tanh"; }
};

// 1 / (1 + exp(-x)).
class Sigmoid : public EltwiseActivation {
 public:
  Sigmoid();
  std::string type() const override { return "Sigmoid"; }
};

// x * Phi(x) with the exact normal CDF, or PyTorch's approximate="tanh" form.
class GELU : public EltwiseActivation {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  explicit GELU(bool tanh_approximation = false);
  std::string type() const override { return "GELU"; }
  std::string describe() const override;
  bool tanh_approximation() const { return tanh_; }

 private:
  bool tanh_;
};

// Clamps to [min, max]; the gradient is 1 strictly inside, 0 outside (as PyTorch).
class HardTanh : public EltwiseActivation {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  explicit HardTanh(float min = -1.f, float max = 1.f);
  std::string type() const override { return "HardTanh"; }
  std::string describe() const override;
  float min() const { return min_; }
  float max() const { return max_; }

 private:
  float min_, max_;
};

// log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (as PyTorch).
class SoftPlus : public Module {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  explicit SoftPlus(float beta = 1.f, float threshold = 20.f);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string type() const override { return "SoftPlus"; }
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override { return input; }

 private:
  float beta_, threshold_;
  Tensor dense_input_, dense_grad_;
};

// x for x > 0, a * x otherwise, with a learnt slope a: one shared (num_parameters
// = 1) or one per channel (dimension 1 of the input). Slopes start at `init`.
class PReLU : public Module {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  explicit PReLU(int64_t num_parameters = 1, float init = 0.25f);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string type() const override { return "PReLU"; }
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  void own_parameters(std::vector<Parameter>& out) override;
  Tensor& weight() { return weight_; }

 private:
  int64_t num_parameters_;
  Tensor weight_, grad_weight_;
  Tensor dense_input_, dense_grad_;
};

// The input itself (a placeholder, a Graph's input node, a disabled branch).
class Identity : public Module {
 public:
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string type() const override { return "Identity"; }
  Shape output_shape(const Shape& input) const override { return input; }
};

}  // namespace bdl::nn
