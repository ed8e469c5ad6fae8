#include "bdl/nn/matmul.h"

#include "bdl/kernels/gemm.h"
#include "nn/dense.h"
#include "nn/strided.h"

namespace bdl::nn {

MatMul::MatMul(const MatMulOptions& options) {
  if (!options.weight_shape) {
    grad_inputs_.resize(2);
    return;
  }
  const Shape& shape = *options.weight_shape;
  BDL_CHECK(!shape.empty(), "MatMul: the weight must have at least one dimension");
  for (int64_t s : shape)
    BDL_CHECK(s >= 0, "MatMul: weight_shape ", shape_str(shape), " has size ", s);
  weight_ = Tensor(shape);
  grad_weight_ = Tensor(shape);
  grad_inputs_.resize(1);
}

MatMulOptions MatMul::options() const {
  if (!weight_.defined()) return {};
  return {weight_.shape()};
}

std::string MatMul::describe() const {
  return weight_.defined() ? "MatMul(weight " + weight_.shape_str() + ")" : "MatMul";
}

void MatMul::own_parameters(std::vector<Parameter>& out) {
  if (weight_.defined()) out.push_back({"weight", &weight_, &grad_weight_});
}

MatMul::Plan MatMul::plan(const Shape& a_in, const Shape& b_in) const {
  BDL_CHECK(!a_in.empty() && !b_in.empty(), label(), ": scalar operand (shapes ", shape_str(a_in),
            " and ", shape_str(b_in), ")");
  Plan p;
  p.a = a_in.size() == 1 ? Shape{1, a_in[0]} : a_in;
  p.b = b_in.size() == 1 ? Shape{b_in[0], 1} : b_in;
  p.m = p.a[p.a.size() - 2];
  p.k = p.a.back();
  p.n = p.b.back();
  BDL_CHECK(p.b[p.b.size() - 2] == p.k, label(), ": cannot multiply ", shape_str(a_in), " by ",
            shape_str(b_in), " (", p.k, " columns against ", p.b[p.b.size() - 2], " rows)");
  p.batch = broadcast_shapes(Shape(p.a.begin(), p.a.end() - 2), Shape(p.b.begin(), p.b.end() - 2),
                             label());
  p.out = p.batch;
  if (a_in.size() > 1) p.out.push_back(p.m);
  if (b_in.size() > 1) p.out.push_back(p.n);
  return p;
}

Shape MatMul::output_shape_many(std::span<const Shape> inputs) const {
  BDL_CHECK(inputs.size() == arity(), label(), ": takes ", arity(), " input(s), given ",
            inputs.size());
  return plan(inputs[0], weight_.defined() ? weight_.shape() : inputs[1]).out;
}

double MatMul::flops(const Shape& input) const {
  if (!weight_.defined()) return 0;
  const Plan p = plan(input, weight_.shape());
  return 2.0 * static_cast<double>(shape_numel(p.batch)) * p.m * p.n * p.k;
}

namespace {

// Element offsets of each matrix of a batch of matrices with shape `full`
// (..., rows, cols) broadcast to `batch`.
std::vector<int64_t> matrix_offsets(const Shape& full, const Shape& batch) {
  const Shape own(full.begin(), full.end() - 2);
  const int64_t size = full[full.size() - 2] * full.back();
  const Shape strides = broadcast_strides(own, batch);
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(shape_numel(batch)));
  for_each_row<1>(batch, {&strides}, {0},
                  [&](const std::array<int64_t, 1>& o, int64_t n, const std::array<int64_t, 1>& s) {
                    for (int64_t i = 0; i < n; ++i) out.push_back((o[0] + i * s[0]) * size);
                  });
  return out;
}

}  // namespace

const Tensor& MatMul::forward_many(Inputs inputs) {
  BDL_CHECK(inputs.size() == arity(), label(), ": takes ", arity(), " input(s), given ",
            inputs.size());
  const Tensor& a = dense(*inputs[0], dense_[0]);
  const Tensor& b = weight_.defined() ? weight_ : dense(*inputs[1], dense_[1]);
  const Plan p = plan(a.shape(), b.shape());
  output_.resize(p.out);
  float* c = output_.f32();
  // A 2-d right operand against a batch that is all left operand: one product
  // with the batch folded into the rows.
  if (p.b.size() == 2 && p.a.size() >= 2) {
    kernels::gemm(false, false, shape_numel(p.batch) * p.m, p.n, p.k, 1.f, a.f32(), p.k, b.f32(),
                  p.n, 0.f, c, p.n);
    return output_;
  }
  const auto ao = matrix_offsets(p.a, p.batch);
  const auto bo = matrix_offsets(p.b, p.batch);
  for (size_t i = 0; i < ao.size(); ++i) {
    kernels::gemm(false, false, p.m, p.n, p.k, 1.f, a.f32() + ao[i], p.k, b.f32() + bo[i], p.n, 0.f,
                  c + static_cast<int64_t>(i) * p.m * p.n, p.n);
  }
  return output_;
}

const std::vector<Tensor>& MatMul::backward_many(Inputs inputs, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  const Tensor& g = dense(grad_output, dense_grad_);
  const Tensor& a = dense(*inputs[0], dense_[0]);
  const Tensor& b = weight_.defined() ? weight_ : dense(*inputs[1], dense_[1]);
  const Plan p = plan(a.shape(), b.shape());
  const float* pg = g.f32();
  const bool want_a = needs_input_grad_;
  const bool want_b = weight_.defined() || needs_input_grad_;
  if (p.b.size() == 2 && p.a.size() >= 2) {
    const int64_t rows = shape_numel(p.batch) * p.m;
    if (want_a) {
      grad_inputs_[0].resize(a.shape());
      kernels::gemm(false, true, rows, p.k, p.n, 1.f, pg, p.n, b.f32(), p.n, 0.f,
                    grad_inputs_[0].f32(), p.k);
    }
    if (want_b) {
      Tensor& gb = weight_.defined() ? grad_weight_ : grad_inputs_[1];
      if (!weight_.defined()) {
        gb.resize(b.shape());
        gb.zero();
      }
      kernels::gemm(true, false, p.k, p.n, rows, 1.f, a.f32(), p.k, pg, p.n, 1.f, gb.f32(), p.n);
    }
    return grad_inputs_;
  }
  const auto ao = matrix_offsets(p.a, p.batch);
  const auto bo = matrix_offsets(p.b, p.batch);
  if (want_a) {
    grad_inputs_[0].resize(a.shape());
    grad_inputs_[0].zero();
  }
  Tensor* gb = nullptr;
  if (want_b) {
    gb = weight_.defined() ? &grad_weight_ : &grad_inputs_[1];
    if (!weight_.defined()) {
      gb->resize(b.shape());
      gb->zero();
    }
  }
  for (size_t i = 0; i < ao.size(); ++i) {
    const float* gi = pg + static_cast<int64_t>(i) * p.m * p.n;
    // Accumulating (beta 1): a broadcast operand gathers from several products.
    if (want_a) {
      kernels::gemm(false, true, p.m, p.k, p.n, 1.f, gi, p.n, b.f32() + bo[i], p.n, 1.f,
                    grad_inputs_[0].f32() + ao[i], p.k);
    }
    if (gb != nullptr) {
      kernels::gemm(true, false, p.k, p.n, p.m, 1.f, a.f32() + ao[i], p.k, gi, p.n, 1.f,
                    gb->f32() + bo[i], p.n);
    }
  }
  return grad_inputs_;
}

const RegisterLayers<MatMul> kRegistered;

}  // namespace bdl::nn
