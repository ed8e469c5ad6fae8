// Element-wise activations and softmax.
#include "bdl/nn/activations.h"

#include <cmath>

#include "bdl/nn/softmax.h"
#include "onnx/export/emitter.h"

namespace bdl::onnx::exporting {
namespace {

// A layer that is one ONNX operator of the same inputs without attributes.
template <typename L>
void add_plain(ExporterTable& table, const char* op) {
  add<L>(table, [op](Emitter& e, L&, const Inputs& in) { return e.op(op, in.names, in.path); });
}

std::string leaky_relu(Emitter& e, nn::LeakyReLU& m, const Inputs& in) {
  std::string out;
  Emitter::attr(e.node("LeakyRelu", {in.x()}, in.path, &out), "alpha", m.negative_slope());
  return out;
}

std::string elu(Emitter& e, nn::ELU& m, const Inputs& in) {
  std::string out;
  Emitter::attr(e.node("Elu", {in.x()}, in.path, &out), "alpha", m.alpha());
  return out;
}

std::string hard_tanh(Emitter& e, nn::HardTanh& m, const Inputs& in) {
  return e.op("Clip",
              {in.x(), e.scalar(m.min(), in.path + ".min"), e.scalar(m.max(), in.path + ".max")},
              in.path);
}

// log(1 + exp(beta x)) / beta. ONNX's Softplus has no threshold: above it both
// give x to float precision.
std::string soft_plus(Emitter& e, nn::SoftPlus& m, const Inputs& in) {
  const float beta = m.options().beta;
  if (beta == 1.f) return e.op("Softplus", {in.x()}, in.path);
  const std::string b = e.scalar(beta, in.path + ".beta");
  const std::string bx = e.op("Mul", {in.x(), b}, in.path);
  return e.op("Div", {e.op("Softplus", {bx}, in.path), b}, in.path);
}

// x * (1 + erf(x / sqrt(2))) / 2, or with the tanh approximation
// x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2: PyTorch's forms, which
// the importer maps back onto GELU.
std::string gelu(Emitter& e, nn::GELU& m, const Inputs& in) {
  const std::string& x = in.x();
  const std::string& p = in.path;
  std::string f;
  if (m.tanh_approximation()) {
    const std::string cube = e.op("Mul", {x, e.op("Mul", {x, x}, p)}, p);
    const std::string inner =
        e.op("Add", {x, e.op("Mul", {cube, e.scalar(0.044715f, p + ".c")}, p)}, p);
    const auto k = static_cast<float>(std::sqrt(2.0 / 3.141592653589793));
    f = e.op("Tanh", {e.op("Mul", {inner, e.scalar(k, p + ".k")}, p)}, p);
  } else {
    f = e.op("Erf", {e.op("Div", {x, e.scalar(std::sqrt(2.f), p + ".sqrt2")}, p)}, p);
  }
  const std::string one = e.op("Add", {f, e.scalar(1.f, in.path + ".one")}, in.path);
  return e.op("Mul", {e.op("Mul", {x, one}, in.path), e.scalar(0.5f, in.path + ".half")}, in.path);
}

// One slope, or one per channel broadcast over (C, 1, 1...).
std::string prelu(Emitter& e, nn::PReLU& m, const Inputs& in) {
  Tensor slope = tensor_of(m, "weight");
  if (slope.numel() > 1) {
    Shape s{slope.numel()};
    for (size_t d = 2; d < in.shape().size(); ++d) s.push_back(1);
    slope = slope.view(s);
  }
  return e.op("PRelu", {in.x(), e.initializer(slope, in.path + ".weight")}, in.path);
}

template <typename L>
std::string softmax(Emitter& e, L& m, const Inputs& in) {
  std::string out;
  const char* op = std::is_same_v<L, nn::SoftMax> ? "Softmax" : "LogSoftmax";
  Emitter::attr(e.node(op, {in.x()}, in.path, &out), "axis", m.dim());
  return out;
}

}  // namespace

void add_activation_exporters(ExporterTable& table) {
  add_plain<nn::ReLU>(table, "Relu");
  add_plain<nn::Sigmoid>(table, "Sigmoid");
  add_plain<nn::Tanh>(table, "Tanh");
  add_plain<nn::Identity>(table, "Identity");
  add<nn::LeakyReLU>(table, leaky_relu);
  add<nn::ELU>(table, elu);
  add<nn::HardTanh>(table, hard_tanh);
  add<nn::SoftPlus>(table, soft_plus);
  add<nn::GELU>(table, gelu);
  add<nn::PReLU>(table, prelu);
  add<nn::SoftMax>(table, softmax<nn::SoftMax>);
  add<nn::LogSoftMax>(table, softmax<nn::LogSoftMax>);
}

}  // namespace bdl::onnx::exporting
