// Comparisons, logic, and choosing elements: Where, Trilu, GatherElements,
// ArgMax and ArgMin, IsInf. Booleans are float32 0 and 1 at run time; folded
// from integer constants they stay integers (shape arithmetic).
#include "bdl/nn/select.h"

#include "bdl/nn/activations.h"
#include "bdl/nn/elementwise.h"
#include "bdl/nn/gather.h"
#include "onnx/converters/convert.h"

namespace bdl::onnx::convert {

// The operands that are constants become the layer's own tensors; when all are,
// the layer runs now and its result is a constant.
void where(Context& c) {
  std::vector<Value> from{c.input(0), c.input(1), c.input(2)};
  const bool all_constant =
      std::all_of(from.begin(), from.end(), [](const Value& v) { return v.is_constant(); });
  if (all_constant) {
    c.set_output(0, c.add(make<nn::Where>(), from));
    return;
  }
  nn::WhereOptions o;
  std::optional<Shape>* shapes[3] = {&o.condition_shape, &o.x_shape, &o.y_shape};
  std::vector<Value> inputs;
  for (size_t k = 0; k < 3; ++k) {
    if (from[k].is_constant()) {
      *shapes[k] = from[k].shape;
    } else {
      inputs.push_back(from[k]);
    }
  }
  auto m = std::make_unique<nn::Where>(o);
  for (size_t k = 0; k < 3; ++k) {
    if (!from[k].is_constant()) continue;
    const auto values = to_floats(from[k].constant);
    std::copy(values.begin(), values.end(), m->owned(static_cast<int>(k)).f32());
  }
  // The condition is read as 0 or nonzero, so integer data may drive it.
  Value y = c.add(std::move(m), inputs, !from[0].is_constant());
  y.batch_axis = -1;
  for (const Value& v : inputs) {
    if (v.batch_axis >= 0) {
      y.batch_axis = v.batch_axis + static_cast<int>(y.shape.size() - v.shape.size());
      keep_folds(y, v);
      break;
    }
  }
  y.integer =
      (from[1].integer || (from[1].is_constant() && from[1].constant.dtype() != DType::f32)) &&
      (from[2].integer || (from[2].is_constant() && from[2].constant.dtype() != DType::f32));
  c.set_output(0, y);
}

void trilu(Context& c) {
  const int64_t k = c.has_input(1) ? c.integers_input(1, "k").at(0) : 0;
  unary(c, make<nn::Trilu>(nn::TriluOptions{.upper = c.integer("upper", 1) != 0, .k = k}));
}

void gather_elements(Context& c) {
  const Value& x = c.input(0);
  const Tensor& idx = c.constant_input(1, "the indices");
  const int64_t axis = normalize_axis(c, c.integer("axis", 0), x.shape.size());
  Value y = c.add(make<nn::GatherElements>(nn::GatherElementsOptions{
                      .axis = axis, .indices = to_integers(idx), .indices_shape = idx.shape()}),
                  {x});
  // The indices fix every dimension's size, the batch's too.
  y.batch_axis = -1;
  c.set_output(0, y);
}

void arg_reduce(Context& c, bool max) {
  const Value& x = c.input(0);
  const int64_t axis = normalize_axis(c, c.integer("axis", 0), x.shape.size());
  const bool keep = c.integer("keepdims", 1) != 0;
  Value y = c.add(make<nn::ArgReduce>(
                      nn::ArgReduceOptions{.op = max ? nn::ArgOp::max : nn::ArgOp::min,
                                           .axis = axis,
                                           .keep_dims = keep,
                                           .select_last = c.integer("select_last_index", 0) != 0}),
                  {x});
  if (!y.is_constant()) {
    y.batch_axis = reduced_batch_axis(x, {axis}, keep);
    keep_folds(y, x);
    y.integer = true;
  } else {
    const auto v = to_integers(y.constant);
    y = Context::constant(Tensor::from_vector(std::span<const int64_t>(v), y.shape));
  }
  c.set_output(0, y);
}

// IsInf with detect_negative or detect_positive off: the sign as a second test.
void is_inf(Context& c) {
  const bool negative = c.integer("detect_negative", 1) != 0;
  const bool positive = c.integer("detect_positive", 1) != 0;
  const Value& x = c.input(0);
  Value y = c.add(make<nn::Unary>(nn::UnaryOp::is_inf), {x});
  if (negative != positive) {
    const Value sign = binary(c, positive ? nn::BinaryOp::greater : nn::BinaryOp::less, x,
                              Context::constant(Tensor::full({}, 0.f)));
    y = binary(c, nn::BinaryOp::logical_and, y, sign);
  } else if (!negative) {
    y = binary(c, nn::BinaryOp::mul, y, Context::constant(Tensor::full({}, 0.f)));
  }
  c.set_output(0, y);
}

void mod(Context& c) {
  binary_op(c, c.integer("fmod", 0) != 0 ? nn::BinaryOp::fmod : nn::BinaryOp::mod);
}

// Gelu (opset 20): the exact form or the tanh approximation, on oneDNN.
void gelu(Context& c) {
  const std::string approximate = c.text("approximate", "none");
  if (approximate != "none" && approximate != "tanh") {
    c.invalid("approximate is '", approximate, "', expected 'none' or 'tanh'");
  }
  unary(c, make<nn::GELU>(approximate == "tanh"));
}

}  // namespace bdl::onnx::convert

namespace bdl::onnx::convert {

// ScatterND of constants (a Swin transformer's attention mask, built by
// assigning to slices): folded at import. Indices (..., k) address the first k
// dimensions of data; each writes (or adds, multiplies, takes the max or min
// with) the update's slice of the remaining dimensions.
void scatter_nd(Context& c) {
  const Tensor data = c.fixed_input(0, "the data").contiguous();
  const Tensor& index = c.fixed_input(1, "the indices");
  const Tensor updates = c.fixed_input(2, "the updates").contiguous();
  const std::string reduction = c.text("reduction", "none");
  const Shape& ds = data.shape();
  const Shape& is = index.shape();
  if (is.empty() || is.back() > static_cast<int64_t>(ds.size())) {
    c.invalid("indices ", shape_str(is), " for data ", shape_str(ds));
  }
  const auto k = static_cast<size_t>(is.back());
  const int64_t slice = shape_numel(std::span(ds).subspan(k));
  const int64_t count = shape_numel(is) / static_cast<int64_t>(k == 0 ? 1 : k);
  if (updates.numel() != count * slice) {
    c.invalid("updates ", shape_str(updates.shape()), " for ", count, " slices of ", slice);
  }
  const auto idx = to_integers(index);
  auto values = to_floats(data);
  const auto upd = to_floats(updates);
  const Shape strides = contiguous_strides(ds);
  for (int64_t n = 0; n < count; ++n) {
    int64_t offset = 0;
    for (size_t d = 0; d < k; ++d) {
      int64_t at = idx[static_cast<size_t>(n) * k + d];
      if (at < 0) at += ds[d];
      if (at < 0 || at >= ds[d]) c.invalid("index ", at, " is out of range for ", ds[d]);
      offset += at * strides[d];
    }
    for (int64_t i = 0; i < slice; ++i) {
      float& dst = values[static_cast<size_t>(offset + i)];
      const float u = upd[static_cast<size_t>(n * slice + i)];
      if (reduction == "add") {
        dst += u;
      } else if (reduction == "mul") {
        dst *= u;
      } else if (reduction == "max") {
        dst = std::max(dst, u);
      } else if (reduction == "min") {
        dst = std::min(dst, u);
      } else if (reduction == "none") {
        dst = u;
      } else {
        c.invalid("reduction '", reduction, "'");
      }
    }
  }
  if (data.dtype() == DType::i64) {
    std::vector<int64_t> ints(values.begin(), values.end());
    c.set_output(0, Context::constant(Tensor::from_vector(std::span<const int64_t>(ints), ds)));
    return;
  }
  c.set_output(0, Context::constant(Tensor::from_vector(std::span<const float>(values), ds)));
}

}  // namespace bdl::onnx::convert

namespace bdl::onnx::convert {

// GatherND with fixed indices (batch_dims 0): the first k dimensions of the
// data flattened into one, then a Gather of the flat positions. A Swin v2's
// relative position tables; folded when the data is constant too.
void gather_nd(Context& c) {
  const Value& x = c.input(0);
  if (c.integer("batch_dims", 0) != 0) c.unsupported("batch_dims ", c.integer("batch_dims", 0));
  const Tensor& index = c.fixed_input(1, "the indices");
  const Shape& is = index.shape();
  const Shape& ds = x.shape;
  if (is.empty() || is.back() < 1 || is.back() > static_cast<int64_t>(ds.size())) {
    c.invalid("indices ", shape_str(is), " for data ", shape_str(ds));
  }
  const auto k = static_cast<size_t>(is.back());
  if (!x.is_constant() && x.batch_axis >= 0 && static_cast<size_t>(x.batch_axis) < k) {
    c.unsupported("indices into the batch dimension");
  }
  const auto idx = to_integers(index);
  std::vector<int64_t> flat;
  flat.reserve(idx.size() / k);
  for (size_t n = 0; n < idx.size(); n += k) {
    int64_t at = 0;
    for (size_t d = 0; d < k; ++d) {
      int64_t i = idx[n + d];
      if (i < 0) i += ds[d];
      if (i < 0 || i >= ds[d]) c.invalid("index ", idx[n + d], " is out of range for ", ds[d]);
      at = at * ds[d] + i;
    }
    flat.push_back(at);
  }
  Shape merged{shape_numel(std::span(ds).first(k))};
  merged.insert(merged.end(), ds.begin() + static_cast<int64_t>(k), ds.end());
  const int batch = x.batch_axis < 0 ? -1 : x.batch_axis - static_cast<int>(k) + 1;
  const Value m = reshape_to(c, x, merged, batch);
  const Shape out_index(is.begin(), is.end() - 1);
  Value y = c.add(make<nn::Gather>(int64_t{0}, std::move(flat), out_index), {m});
  y.batch_axis = batch < 0 ? -1 : batch - 1 + static_cast<int>(out_index.size());
  keep_folds(y, m);
  c.set_output(0, y);
}

}  // namespace bdl::onnx::convert
