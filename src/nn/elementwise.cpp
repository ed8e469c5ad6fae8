#include "bdl/nn/elementwise.h"

#include <cmath>
#include <map>

#include "nn/dense.h"
#include "nn/strided.h"

namespace bdl::nn {
namespace {

// Runs f(a, b) -> out over the broadcast of a and b.
template <typename F>
void broadcast_apply(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  const Shape sa = broadcast_strides(a.shape(), out.shape());
  const Shape sb = broadcast_strides(b.shape(), out.shape());
  const Shape so = contiguous_strides(out.shape());
  const float* pa = a.f32();
  const float* pb = b.f32();
  float* po = out.f32();
  parallel_for_each_row<3>(
      out.shape(), {&sa, &sb, &so}, {0, 0, 0},
      [&](const std::array<int64_t, 3>& o, int64_t n, const std::array<int64_t, 3>& s) {
        const float* x = pa + o[0];
        const float* y = pb + o[1];
        float* z = po + o[2];
        if (s[0] == 1 && s[1] == 1) {
          for (int64_t i = 0; i < n; ++i) z[i] = f(x[i], y[i]);
        } else if (s[0] == 1 && s[1] == 0) {
          const float yv = *y;
          for (int64_t i = 0; i < n; ++i) z[i] = f(x[i], yv);
        } else {
          for (int64_t i = 0; i < n; ++i) z[i] = f(x[i * s[0]], y[i * s[1]]);
        }
      });
}

// grad += d(out)/d(operand) * g, summed over the dimensions the operand was
// broadcast along. `which` 0 differentiates with respect to a, 1 to b.
template <typename D>
void broadcast_grad(const Tensor& a, const Tensor& b, const Tensor& out, const Tensor& g,
                    Tensor& grad, int which, D d) {
  const Shape sa = broadcast_strides(a.shape(), out.shape());
  const Shape sb = broadcast_strides(b.shape(), out.shape());
  const Shape so = contiguous_strides(out.shape());
  const Shape& sg = which == 0 ? sa : sb;
  const float* pa = a.f32();
  const float* pb = b.f32();
  const float* po = out.f32();
  const float* pg = g.f32();
  float* pd = grad.f32();
  for_each_row<4>(out.shape(), {&sa, &sb, &so, &sg}, {0, 0, 0, 0},
                  [&](const std::array<int64_t, 4>& o, int64_t n, const std::array<int64_t, 4>& s) {
                    for (int64_t i = 0; i < n; ++i) {
                      const int64_t k = o[2] + i * s[2];
                      pd[o[3] + i * s[3]] +=
                          pg[k] * d(pa[o[0] + i * s[0]], pb[o[1] + i * s[1]], po[k]);
                    }
                  });
}

// A comparison or logic: 1 or 0, with zero derivatives.
template <typename Visit, typename P>
void predicate(Visit& visit, P p) {
  visit([=](float x, float y) { return p(x, y) ? 1.f : 0.f; },
        [](float, float, float) { return 0.f; }, [](float, float, float) { return 0.f; });
}

template <typename Visit>
void dispatch(BinaryOp op, Visit&& visit) {
  switch (op) {
    case BinaryOp::add:
      return visit([](float x, float y) { return x + y; }, [](float, float, float) { return 1.f; },
                   [](float, float, float) { return 1.f; });
    case BinaryOp::sub:
      return visit([](float x, float y) { return x - y; }, [](float, float, float) { return 1.f; },
                   [](float, float, float) { return -1.f; });
    case BinaryOp::mul:
      return visit([](float x, float y) { return x * y; }, [](float, float y, float) { return y; },
                   [](float x, float, float) { return x; });
    case BinaryOp::div:
      return visit([](float x, float y) { return x / y; },
                   [](float, float y, float) { return 1.f / y; },
                   [](float, float y, float z) { return -z / y; });
    case BinaryOp::pow:
      return visit([](float x, float y) { return std::pow(x, y); },
                   [](float x, float y, float) { return y * std::pow(x, y - 1.f); },
                   [](float x, float, float z) { return x > 0.f ? z * std::log(x) : 0.f; });
    case BinaryOp::max:
      return visit([](float x, float y) { return x >= y ? x : y; },
                   [](float x, float y, float) { return x >= y ? 1.f : 0.f; },
                   [](float x, float y, float) { return x >= y ? 0.f : 1.f; });
    case BinaryOp::min:
      return visit([](float x, float y) { return x <= y ? x : y; },
                   [](float x, float y, float) { return x <= y ? 1.f : 0.f; },
                   [](float x, float y, float) { return x <= y ? 0.f : 1.f; });
    case BinaryOp::equal:
      return predicate(visit, [](float x, float y) { return x == y; });
    case BinaryOp::less:
      return predicate(visit, [](float x, float y) { return x < y; });
    case BinaryOp::less_equal:
      return predicate(visit, [](float x, float y) { return x <= y; });
    case BinaryOp::greater:
      return predicate(visit, [](float x, float y) { return x > y; });
    case BinaryOp::greater_equal:
      return predicate(visit, [](float x, float y) { return x >= y; });
    case BinaryOp::logical_and:
      return predicate(visit, [](float x, float y) { return x != 0.f && y != 0.f; });
    case BinaryOp::logical_or:
      return predicate(visit, [](float x, float y) { return x != 0.f || y != 0.f; });
    case BinaryOp::logical_xor:
      return predicate(visit, [](float x, float y) { return (x != 0.f) != (y != 0.f); });
    case BinaryOp::mod:
      // x - floor(x / y) * y, from fmod so that exact multiples give 0.
      return visit(
          [](float x, float y) {
            const float r = std::fmod(x, y);
            return r != 0.f && ((r < 0.f) != (y < 0.f)) ? r + y : r;
          },
          [](float, float, float) { return 1.f; },
          [](float x, float y, float) { return -std::floor(x / y); });
    case BinaryOp::fmod:
      return visit([](float x, float y) { return std::fmod(x, y); },
                   [](float, float, float) { return 1.f; },
                   [](float x, float y, float) { return -std::trunc(x / y); });
  }
}

}  // namespace

Binary::Binary(const BinaryOptions& o) : op_(o.op) {
  if (!o.constant_shape) {
    grad_inputs_.resize(2);
    return;
  }
  for (int64_t s : *o.constant_shape) {
    BDL_CHECK(s >= 0, "Binary: constant_shape ", shape_str(*o.constant_shape), " has size ", s);
  }
  constant_ = Tensor(*o.constant_shape);
  constant_first_ = o.constant_first;
  trainable_ = o.trainable;
  if (trainable_) grad_constant_ = Tensor(constant_.shape());
  grad_inputs_.resize(1);
}

Binary::Binary(BinaryOp op) : Binary(BinaryOptions{.op = op}) {}

Binary::Binary(BinaryOp op, Shape constant_shape, bool constant_first, bool trainable)
    : Binary(BinaryOptions{op, std::move(constant_shape), constant_first, trainable}) {}

std::string Binary::describe() const {
  std::string s = "Binary(" + std::string(fields::enum_name(op_));
  if (constant_.defined()) {
    s += std::string(constant_first_ ? ", constant first " : ", constant ") + constant_.shape_str();
    if (!trainable_) s += " fixed";
  }
  return s + ")";
}

void Binary::own_parameters(std::vector<Parameter>& out) {
  if (constant_.defined() && trainable_) out.push_back({"constant", &constant_, &grad_constant_});
}
void Binary::own_buffers(std::vector<Buffer>& out) {
  if (constant_.defined() && !trainable_) out.push_back({"constant", &constant_});
}

Shape Binary::output_shape_many(std::span<const Shape> inputs) const {
  BDL_CHECK(inputs.size() == arity(), label(), ": takes ", arity(), " input(s), given ",
            inputs.size());
  if (constant_.defined()) return broadcast_shapes(inputs[0], constant_.shape(), label());
  return broadcast_shapes(inputs[0], inputs[1], label());
}

const Tensor& Binary::forward_many(Inputs inputs) {
  const Shape out = [&] {
    std::vector<Shape> shapes;
    for (const Tensor* t : inputs) shapes.push_back(t->shape());
    return output_shape_many(shapes);
  }();
  const Tensor& x = dense(*inputs[0], dense_[0]);
  const Tensor& y = constant_.defined() ? constant_ : dense(*inputs[1], dense_[1]);
  const Tensor& a = constant_first_ ? y : x;
  const Tensor& b = constant_first_ ? x : y;
  output_.resize(out);
  dispatch(op_, [&](auto f, auto, auto) { broadcast_apply(a, b, output_, f); });
  return output_;
}

const std::vector<Tensor>& Binary::backward_many(Inputs inputs, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  const Tensor& g = dense(grad_output, dense_grad_);
  const Tensor& x = dense(*inputs[0], dense_[0]);
  const Tensor& y = constant_.defined() ? constant_ : dense(*inputs[1], dense_[1]);
  const Tensor& a = constant_first_ ? y : x;
  const Tensor& b = constant_first_ ? x : y;
  // Operand k of (a, b) is input `input_of[k]`, or the constant when -1.
  const int input_of[2] = {constant_.defined() ? (constant_first_ ? -1 : 0) : 0,
                           constant_.defined() ? (constant_first_ ? 0 : -1) : 1};
  dispatch(op_, [&](auto, auto da, auto db) {
    for (int k = 0; k < 2; ++k) {
      const int in = input_of[k];
      Tensor* target = nullptr;
      if (in < 0) {
        if (!trainable_) continue;
        target = &grad_constant_;
      } else {
        if (!needs_input_grad_) continue;
        target = &grad_inputs_[static_cast<size_t>(in)];
        target->resize((k == 0 ? a : b).shape());
        target->zero();
      }
      if (k == 0) {
        broadcast_grad(a, b, output_, g, *target, 0, da);
      } else {
        broadcast_grad(a, b, output_, g, *target, 1, db);
      }
    }
  });
  return grad_inputs_;
}

BinaryOptions Binary::options() const {
  BinaryOptions o{.op = op_};
  if (constant_.defined()) {
    o.constant_shape = constant_.shape();
    o.constant_first = constant_first_;
    o.trainable = trainable_;
  }
  return o;
}

namespace {

constexpr auto kZero = [](float, float) { return 0.f; };

// The functions after HardSigmoid: rounding, predicates, trigonometry.
template <typename Visit>
void dispatch_rounding(UnaryOp op, Visit& visit) {
  switch (op) {
    case UnaryOp::logical_not:
      return visit([](float x) { return x == 0.f ? 1.f : 0.f; }, kZero);
    case UnaryOp::sign:
      return visit([](float x) { return x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f); }, kZero);
    case UnaryOp::round:
      return visit([](float x) { return std::nearbyint(x); }, kZero);
    case UnaryOp::is_nan:
      return visit([](float x) { return std::isnan(x) ? 1.f : 0.f; }, kZero);
    case UnaryOp::is_inf:
      return visit([](float x) { return std::isinf(x) ? 1.f : 0.f; }, kZero);
    case UnaryOp::tan:
      return visit([](float x) { return std::tan(x); }, [](float, float y) { return 1.f + y * y; });
    case UnaryOp::asin:
      return visit([](float x) { return std::asin(x); },
                   [](float x, float) { return 1.f / std::sqrt(1.f - x * x); });
    case UnaryOp::acos:
      return visit([](float x) { return std::acos(x); },
                   [](float x, float) { return -1.f / std::sqrt(1.f - x * x); });
    case UnaryOp::atan:
      return visit([](float x) { return std::atan(x); },
                   [](float x, float) { return 1.f / (1.f + x * x); });
    case UnaryOp::sinh:
      return visit([](float x) { return std::sinh(x); },
                   [](float x, float) { return std::cosh(x); });
    case UnaryOp::cosh:
      return visit([](float x) { return std::cosh(x); },
                   [](float x, float) { return std::sinh(x); });
    case UnaryOp::asinh:
      return visit([](float x) { return std::asinh(x); },
                   [](float x, float) { return 1.f / std::sqrt(x * x + 1.f); });
    case UnaryOp::acosh:
      return visit([](float x) { return std::acosh(x); },
                   [](float x, float) { return 1.f / std::sqrt(x * x - 1.f); });
    case UnaryOp::atanh:
      return visit([](float x) { return std::atanh(x); },
                   [](float x, float) { return 1.f / (1.f - x * x); });
    default:
      return;
  }
}

// The activations after HardSigmoid (alpha and beta as UnaryOptions says).
template <typename Visit>
void dispatch_more_unary(UnaryOp op, float alpha, float beta, Visit& visit) {
  switch (op) {
    case UnaryOp::hard_swish:
      return visit(
          [](float x) { return x * std::max(0.f, std::min(1.f, x / 6.f + 0.5f)); },
          [](float x, float) { return x < -3.f ? 0.f : (x > 3.f ? 1.f : x / 3.f + 0.5f); });
    case UnaryOp::mish:
      // x * tanh(softplus(x)); softplus past 20 is x itself, as PyTorch's.
      return visit([](float x) { return x * std::tanh(x > 20.f ? x : std::log1p(std::exp(x))); },
                   [](float x, float) {
                     const float t = std::tanh(x > 20.f ? x : std::log1p(std::exp(x)));
                     const float s = 1.f / (1.f + std::exp(-x));
                     return t + x * s * (1.f - t * t);
                   });
    case UnaryOp::thresholded_relu:
      return visit([=](float x) { return x > alpha ? x : 0.f; },
                   [=](float x, float) { return x > alpha ? 1.f : 0.f; });
    case UnaryOp::shrink:
      // alpha is lambda, beta the bias: x + bias below -lambda, x - bias above.
      return visit([=](float x) { return x < -alpha ? x + beta : (x > alpha ? x - beta : 0.f); },
                   [=](float x, float) { return x < -alpha || x > alpha ? 1.f : 0.f; });
    case UnaryOp::celu:
      return visit([=](float x) { return x > 0.f ? x : alpha * (std::exp(x / alpha) - 1.f); },
                   [=](float x, float y) { return x > 0.f ? 1.f : y / alpha + 1.f; });
    default:
      return dispatch_rounding(op, visit);
  }
}

// f(x) and f'(x) given x and y = f(x).
template <typename Visit>
void dispatch_unary(UnaryOp op, float alpha, float beta, Visit&& visit) {
  constexpr float kTwoOverSqrtPi = 1.1283791670955126f;
  switch (op) {
    case UnaryOp::abs:
      return visit([](float x) { return std::fabs(x); },
                   [](float x, float) { return x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f); });
    case UnaryOp::neg:
      return visit([](float x) { return -x; }, [](float, float) { return -1.f; });
    case UnaryOp::exp:
      return visit([](float x) { return std::exp(x); }, [](float, float y) { return y; });
    case UnaryOp::log:
      return visit([](float x) { return std::log(x); }, [](float x, float) { return 1.f / x; });
    case UnaryOp::sqrt:
      return visit([](float x) { return std::sqrt(x); }, [](float, float y) { return 0.5f / y; });
    case UnaryOp::reciprocal:
      return visit([](float x) { return 1.f / x; }, [](float, float y) { return -y * y; });
    case UnaryOp::sin:
      return visit([](float x) { return std::sin(x); }, [](float x, float) { return std::cos(x); });
    case UnaryOp::cos:
      return visit([](float x) { return std::cos(x); },
                   [](float x, float) { return -std::sin(x); });
    case UnaryOp::floor:
      return visit([](float x) { return std::floor(x); }, [](float, float) { return 0.f; });
    case UnaryOp::ceil:
      return visit([](float x) { return std::ceil(x); }, [](float, float) { return 0.f; });
    case UnaryOp::erf:
      return visit([](float x) { return std::erf(x); },
                   [=](float x, float) { return kTwoOverSqrtPi * std::exp(-x * x); });
    case UnaryOp::softsign:
      return visit([](float x) { return x / (1.f + std::fabs(x)); },
                   [](float x, float) {
                     const float d = 1.f + std::fabs(x);
                     return 1.f / (d * d);
                   });
    case UnaryOp::selu:
      // gamma * (x > 0 ? x : alpha * (exp(x) - 1)); alpha_ is alpha, beta_ gamma.
      return visit([=](float x) { return x > 0.f ? beta * x : beta * alpha * (std::exp(x) - 1.f); },
                   [=](float x, float y) { return x > 0.f ? beta : y + beta * alpha; });
    case UnaryOp::hard_sigmoid:
      return visit([=](float x) { return std::max(0.f, std::min(1.f, alpha * x + beta)); },
                   [=](float x, float) {
                     const float v = alpha * x + beta;
                     return v > 0.f && v < 1.f ? alpha : 0.f;
                   });
    default:
      return dispatch_more_unary(op, alpha, beta, visit);
  }
}

}  // namespace

Unary::Unary(UnaryOp op, float alpha, float beta) : op_(op), alpha_(alpha), beta_(beta) {
  BDL_CHECK(op != UnaryOp::celu || alpha != 0.f, "Unary(celu): alpha must not be 0");
  BDL_CHECK(op != UnaryOp::shrink || alpha >= 0.f, "Unary(shrink): lambda (alpha) is ", alpha,
            ", must not be negative");
}

std::string Unary::describe() const {
  std::string s = "Unary(" + std::string(fields::enum_name(op_));
  if (op_ == UnaryOp::selu || op_ == UnaryOp::hard_sigmoid || op_ == UnaryOp::shrink) {
    s += ", alpha=" + std::to_string(alpha_) + ", beta=" + std::to_string(beta_);
  } else if (op_ == UnaryOp::thresholded_relu || op_ == UnaryOp::celu) {
    s += ", alpha=" + std::to_string(alpha_);
  }
  return s + ")";
}

const Tensor& Unary::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_);
  output_.resize(x.shape());
  const float* px = x.f32();
  float* py = output_.f32();
  const int64_t n = x.numel();
  const bool parallel = n >= (int64_t{1} << 15);
  dispatch_unary(op_, alpha_, beta_, [&](auto f, auto) {
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t i = 0; i < n; ++i) py[i] = f(px[i]);
  });
  return output_;
}

const Tensor& Unary::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (!needs_input_grad_) return grad_input_;
  const Tensor& x = dense(input, dense_);
  const Tensor& g = dense(grad_output, dense_grad_);
  grad_input_.resize(x.shape());
  const float* px = x.f32();
  const float* py = output_.f32();
  const float* pg = g.f32();
  float* pd = grad_input_.f32();
  const int64_t n = x.numel();
  const bool parallel = n >= (int64_t{1} << 15);
  dispatch_unary(op_, alpha_, beta_, [&](auto, auto d) {
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t i = 0; i < n; ++i) pd[i] = pg[i] * d(px[i], py[i]);
  });
  return grad_input_;
}

const RegisterLayers<Binary, Unary> kRegistered;

}  // namespace bdl::nn
