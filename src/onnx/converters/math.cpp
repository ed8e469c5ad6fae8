// Arithmetic, products, softmax, reductions and normalisation over the last axes.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>
#include <optional>

#include "bdl/nn/activations.h"
#include "bdl/nn/attention.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/conv_transpose2d.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/elementwise.h"
#include "bdl/nn/embedding.h"
#include "bdl/nn/gather.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/lrn.h"
#include "bdl/nn/matmul.h"
#include "bdl/nn/multi_input.h"
#include "bdl/nn/pad.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/reduce.h"
#include "bdl/nn/reshape.h"
#include "bdl/nn/resize.h"
#include "bdl/nn/slice.h"
#include "bdl/nn/softmax.h"
#include "bdl/nn/transpose.h"
#include "bdl/nn/view.h"
#include "onnx/converters/convert.h"

namespace bdl::onnx::convert {

void binary_op(Context& c, nn::BinaryOp op) {
  Value b = c.input(1);
  // Opset < 7: broadcasting only when asked, aligned at `axis` rather than the right.
  if (c.opset() < 7 && c.integer("broadcast", 0) != 0 && c.has_attribute("axis")) {
    const size_t rank = c.input(0).shape.size();
    const int64_t axis = normalize_axis(c, c.integer("axis", 0), rank);
    Shape s = b.shape;
    while (s.size() + static_cast<size_t>(axis) < rank) s.push_back(1);
    if (b.is_constant()) {
      const bool init = b.initializer;
      b = Context::constant(b.constant.contiguous().view(s));
      b.initializer = init;
    } else {
      b = reshape_to(c, b, s, -1);
    }
  }
  c.set_output(0, binary(c, op, c.input(0), b));
}

void variadic(Context& c, nn::BinaryOp op, bool mean) {
  Value acc = c.input(0);
  for (size_t i = 1; i < c.input_count(); ++i) acc = binary(c, op, acc, c.input(i));
  if (mean && c.input_count() > 1) {
    acc = binary(c, nn::BinaryOp::mul, acc,
                 Context::constant(Tensor::full({}, 1.f / static_cast<float>(c.input_count()))));
  }
  if (c.input_count() == 1) {
    acc = c.add(make<nn::Identity>(), {acc});
  }
  c.set_output(0, acc);
}

void gemm(Context& c) {
  Value a = c.input(0);
  const float alpha = c.real("alpha", 1.f);
  const float beta = c.real("beta", 1.f);
  const bool trans_a = c.integer("transA", 0) != 0;
  const bool trans_b = c.integer("transB", 0) != 0;
  if (a.shape.size() != 2) c.invalid("A has shape ", shape_str(a.shape), ", expected a matrix");
  if (trans_a) a = c.add(make<nn::Transpose>(std::vector<int64_t>{1, 0}), {a});
  const Value& b = c.input(1);
  if (b.shape.size() != 2) c.invalid("B has shape ", shape_str(b.shape), ", expected a matrix");
  const int64_t k = a.shape[1];
  const int64_t n = trans_b ? b.shape[0] : b.shape[1];
  if ((trans_b ? b.shape[1] : b.shape[0]) != k) {
    c.invalid("A ", shape_str(a.shape), " and B ", shape_str(b.shape), " do not multiply");
  }
  std::optional<Value> bias = c.has_input(2) ? std::optional<Value>(c.input(2)) : std::nullopt;
  Value y;
  bool bias_done = !bias.has_value() || beta == 0.f;
  if (b.is_constant()) {
    const bool vector_bias =
        bias && bias->is_constant() &&
        (bias->constant.numel() == n || bias->constant.numel() == 1) &&
        (bias->shape.empty() || bias->shape.back() == n || bias->constant.numel() == 1) &&
        bias->shape.size() <= 2 && (bias->shape.size() < 2 || bias->shape[0] == 1);
    auto m = std::make_unique<nn::Linear>(k, n, vector_bias && !bias_done);
    const Tensor bt = b.constant.contiguous();
    const float* pb = bt.f32();
    float* w = m->weight().f32();
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < k; ++j)
        w[i * k + j] = alpha * (trans_b ? pb[i * k + j] : pb[j * n + i]);
    }
    if (vector_bias && !bias_done) {
      const auto values = to_floats(bias->constant);
      float* pbias = m->bias().f32();
      for (int64_t i = 0; i < n; ++i) pbias[i] = beta * values[values.size() == 1 ? 0 : i];
      bias_done = true;
    }
    y = c.add(std::move(m), {a});
  } else {
    Value bb = trans_b ? c.add(make<nn::Transpose>(std::vector<int64_t>{1, 0}), {b}) : b;
    y = c.add(make<nn::MatMul>(), {a, bb});
    if (alpha != 1.f)
      y = binary(c, nn::BinaryOp::mul, y, Context::constant(Tensor::full({}, alpha)));
  }
  if (!bias_done) {
    Value cb = *bias;
    if (beta != 1.f && cb.is_constant()) {
      Tensor scaled = cb.constant.contiguous().clone();
      for (float& v : scaled.span_f32()) v *= beta;
      cb = Context::constant(std::move(scaled));
      cb.initializer = bias->initializer;
    } else if (beta != 1.f) {
      cb = binary(c, nn::BinaryOp::mul, cb, Context::constant(Tensor::full({}, beta)));
    }
    y = binary(c, nn::BinaryOp::add, y, cb);
  }
  c.set_output(0, y);
}

void matmul(Context& c) {
  const Value& a = c.input(0);
  const Value& b = c.input(1);
  if (b.is_constant() && !a.is_constant()) {
    auto m = std::make_unique<nn::MatMul>(b.shape);
    copy_into(m->weight(), b.constant, c, "B");
    c.set_output(0, c.add(std::move(m), {a}));
    return;
  }
  if (a.is_constant() && !b.is_constant()) {
    c.unsupported("a constant left operand (bdl's MatMul owns its right operand)");
  }
  c.set_output(0, c.add(make<nn::MatMul>(), {a, b}));
}

void softmax(Context& c, bool log) {
  const Value& x = c.input(0);
  const size_t rank = x.shape.size();
  const int64_t axis = normalize_axis(c, c.integer("axis", c.opset() < 13 ? 1 : -1), rank);
  auto make_softmax = [&](int64_t dim) -> std::unique_ptr<Module> {
    if (log) return make<nn::LogSoftMax>(dim);
    return make<nn::SoftMax>(dim);
  };
  if (c.opset() >= 13 || axis == static_cast<int64_t>(rank) - 1) {
    c.set_output(0, c.add(make_softmax(axis), {x}));
    return;
  }
  // Before opset 13: over all dimensions from axis on, as one flattened row.
  const int64_t rows = shape_numel(std::span(x.shape).first(static_cast<size_t>(axis)));
  const int batch = x.batch_axis < 0 ? -1 : (x.batch_axis < axis ? 0 : 1);
  Value v = reshape_to(c, x, {rows, shape_numel(x.shape) / std::max<int64_t>(rows, 1)}, batch);
  v = c.add(make_softmax(1), {v});
  c.set_output(0, reshape_to(c, v, x.shape, x.batch_axis));
}

void clip(Context& c) {
  float lo = -FLT_MAX, hi = FLT_MAX;
  if (c.opset() < 11) {
    lo = c.real("min", lo);
    hi = c.real("max", hi);
  } else {
    if (c.has_input(1)) lo = to_floats(c.constant_input(1, "min")).at(0);
    if (c.has_input(2)) hi = to_floats(c.constant_input(2, "max")).at(0);
  }
  unary(c, make<nn::HardTanh>(lo, hi));
}

void prelu(Context& c) {
  const Value& x = c.input(0);
  const Value& slope = c.input(1);
  if (slope.is_constant() && x.shape.size() >= 2) {
    const int64_t channels = x.shape[1];
    const int64_t n = slope.constant.numel();
    // One slope, or one per channel: before opset 7 a slope of C entries always
    // meant per channel; since, NumPy broadcasting that must put them on dimension 1.
    bool per_channel = n == channels;
    if (per_channel && c.opset() >= 7) {
      Shape s = slope.shape;
      if (s.size() > x.shape.size()) per_channel = false;
      while (s.size() < x.shape.size()) s.insert(s.begin(), 1);
      for (size_t d = 0; d < s.size() && per_channel; ++d) {
        per_channel = s[d] == (d == 1 ? channels : 1);
      }
    }
    if (n == 1 || per_channel) {
      auto m = std::make_unique<nn::PReLU>(n);
      copy_into(m->weight(), slope.constant.contiguous().view({n}), c, "slope");
      c.set_output(0, c.add(std::move(m), {x}));
      return;
    }
  }
  // Any other broadcast: relu(x) - slope * relu(-x).
  const Value pos = c.add(make<nn::ReLU>(), {x});
  const Value neg = c.add(make<nn::ReLU>(), {c.add(make<nn::Unary>(nn::UnaryOp::neg), {x})});
  const Value scaled = binary(c, nn::BinaryOp::mul, neg, slope);
  c.set_output(0, binary(c, nn::BinaryOp::sub, pos, scaled));
}

void reduce(Context& c, nn::ReduceOp op) {
  const Value& x = c.input(0);
  // ReduceSum takes its axes as an input from opset 13, the others from 18.
  const bool axes_input = c.node().op_type() == "ReduceSum" ? c.opset() >= 13 : c.opset() >= 18;
  std::vector<int64_t> axes =
      axes_input ? (c.has_input(1) ? c.integers_input(1, "axes") : std::vector<int64_t>{})
                 : c.integers("axes", {});
  if (axes.empty() && c.integer("noop_with_empty_axes", 0) != 0) {
    c.set_output(0, c.add(make<nn::Identity>(), {x}));
    return;
  }
  for (auto& a : axes) a = normalize_axis(c, a, x.shape.size());
  const bool keep = c.integer("keepdims", 1) != 0;
  Value y = c.add(make<nn::Reduce>(op, axes, keep), {x});
  y.batch_axis = reduced_batch_axis(x, axes, keep);
  keep_folds(y, x);
  c.set_output(0, y);
}

// The reductions ONNX defines as a function of a sum: before (on each element)
// and after (on the sum).
void reduce_composed(Context& c, std::optional<nn::UnaryOp> before, bool square,
                     std::optional<nn::UnaryOp> after) {
  const Value& x = c.input(0);
  const bool axes_input = c.opset() >= 18;
  std::vector<int64_t> axes =
      axes_input ? (c.has_input(1) ? c.integers_input(1, "axes") : std::vector<int64_t>{})
                 : c.integers("axes", {});
  if (axes.empty() && c.integer("noop_with_empty_axes", 0) != 0) {
    c.unsupported("noop_with_empty_axes");
  }
  for (auto& a : axes) a = normalize_axis(c, a, x.shape.size());
  Value v = x;
  if (before) v = c.add(make<nn::Unary>(*before), {v});
  if (square) v = c.add(make<nn::Binary>(nn::BinaryOp::mul), {v, v});
  const bool keep = c.integer("keepdims", 1) != 0;
  v = c.add(make<nn::Reduce>(nn::ReduceOp::sum, axes, keep), {v});
  v.batch_axis = reduced_batch_axis(x, axes, keep);
  keep_folds(v, x);
  if (after) v = c.add(make<nn::Unary>(*after), {v});
  c.set_output(0, v);
}

// LayerNormalization (opset 17) as its definition composes it: normalise over
// the dimensions from `axis` on with the biased variance, then scale and shift
// (both trainable when initializers).
void layer_norm(Context& c) {
  const Value& x = c.input(0);
  const auto rank = x.shape.size();
  const int64_t axis = normalize_axis(c, c.integer("axis", -1), rank);
  std::vector<int64_t> axes;
  for (auto d = static_cast<size_t>(axis); d < rank; ++d) axes.push_back(static_cast<int64_t>(d));
  const float eps = c.real("epsilon", 1e-5f);
  // bdl's LayerNorm when the scale and bias are weights of the normalised shape
  // (what PyTorch exports) and only the normalised output is read.
  const Shape normalized(x.shape.begin() + axis, x.shape.end());
  auto weight_like = [&](size_t i) {
    return c.has_input(i) && c.input(i).is_constant() &&
           c.input(i).constant.dtype() == DType::f32 &&
           c.input(i).constant.numel() == shape_numel(normalized);
  };
  if (!x.is_constant() && eps > 0.f && weight_like(1) && (!c.has_input(2) || weight_like(2)) &&
      !c.output_used(1) && !c.output_used(2) && x.batch_axis < axis) {
    auto m = std::make_unique<nn::LayerNorm>(
        nn::LayerNormOptions{.normalized_shape = normalized, .eps = eps});
    copy_into(m->weight(), c.input(1).constant, c, "the scale");
    if (c.has_input(2)) {
      copy_into(m->bias(), c.input(2).constant, c, "the bias");
    } else {
      m->bias().zero();
    }
    c.set_output(0, c.add(std::move(m), {x}));
    return;
  }
  auto mean_of = [&](const Value& v) {
    return c.add(make<nn::Reduce>(nn::ReduceOp::mean, axes, true), {v});
  };
  const Value mean = mean_of(x);
  const Value centred = binary(c, nn::BinaryOp::sub, x, mean);
  const Value var = mean_of(c.add(make<nn::Binary>(nn::BinaryOp::mul), {centred, centred}));
  const Value std_dev =
      c.add(make<nn::Unary>(nn::UnaryOp::sqrt),
            {binary(c, nn::BinaryOp::add, var, Context::constant(Tensor::full({}, eps)))});
  Value y = binary(c, nn::BinaryOp::div, centred, std_dev);
  y = binary(c, nn::BinaryOp::mul, y, c.input(1));
  if (c.has_input(2)) y = binary(c, nn::BinaryOp::add, y, c.input(2));
  c.set_output(0, y);
  // The optional outputs: the mean and 1 / standard deviation, kept dimensions.
  if (c.output_used(1)) c.set_output(1, mean);
  if (c.output_used(2)) c.set_output(2, c.add(make<nn::Unary>(nn::UnaryOp::reciprocal), {std_dev}));
}

}  // namespace bdl::onnx::convert

namespace bdl::onnx::convert {

// GroupNormalization (opsets 18 and 21) as its definition composes it: the
// channels in num_groups groups, each normalised over its channels and the
// spatial dimensions with the biased variance, then a per-channel scale and
// shift. Opset 18 gives scale and bias per group; they apply to each of the
// group's channels.
void group_norm(Context& c) {
  const Value& x = c.input(0);
  if (x.shape.size() < 3) c.invalid("input ", shape_str(x.shape), " has no spatial dimensions");
  const int64_t channels = x.shape[1];
  const int64_t groups = c.integer("num_groups", 0);
  if (groups < 1 || channels % groups != 0) {
    c.invalid("num_groups ", groups, " does not divide ", channels, " channels");
  }
  const float eps = c.real("epsilon", 1e-5f);
  const int64_t n = x.shape[0];
  const Value grouped = reshape_to(c, x, {n, groups, shape_numel(x.shape) / (n * groups)},
                                   x.batch_axis == 0 ? 0 : -1);
  const std::vector<int64_t> last{2};
  const Value mean = c.add(make<nn::Reduce>(nn::ReduceOp::mean, last, true), {grouped});
  const Value centred = binary(c, nn::BinaryOp::sub, grouped, mean);
  const Value var = c.add(make<nn::Reduce>(nn::ReduceOp::mean, last, true),
                          {c.add(make<nn::Binary>(nn::BinaryOp::mul), {centred, centred})});
  const Value std_dev =
      c.add(make<nn::Unary>(nn::UnaryOp::sqrt),
            {binary(c, nn::BinaryOp::add, var, Context::constant(Tensor::full({}, eps)))});
  Value y = reshape_to(c, binary(c, nn::BinaryOp::div, centred, std_dev), x.shape, x.batch_axis);
  // Scale and bias as (C, 1, ..., 1), spread from groups to channels before opset 21.
  Shape per_channel(x.shape.size() - 1, 1);
  per_channel[0] = channels;
  auto affine = [&](size_t i, nn::BinaryOp op) {
    const Value& v = c.input(i);
    if (!v.is_constant()) c.unsupported("a ", i == 1 ? "scale" : "bias", " computed at run time");
    const auto values = to_floats(v.constant);
    const int64_t want = c.opset() < 21 ? groups : channels;
    if (static_cast<int64_t>(values.size()) != want) {
      c.invalid(i == 1 ? "scale" : "bias", " has ", values.size(), " values, expected ", want);
    }
    Tensor t = Tensor::empty(per_channel);
    for (int64_t ch = 0; ch < channels; ++ch) {
      t.f32()[ch] = values[static_cast<size_t>(c.opset() < 21 ? ch / (channels / groups) : ch)];
    }
    Value k = Context::constant(std::move(t));
    k.initializer = v.initializer;
    y = binary(c, op, y, k);
  };
  affine(1, nn::BinaryOp::mul);
  affine(2, nn::BinaryOp::add);
  c.set_output(0, y);
}

}  // namespace bdl::onnx::convert
