// Shapes, constants and element moves: reshape, transpose, gather, slice, pad, concat...
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>
#include <optional>

#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/conv_transpose2d.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/elementwise.h"
#include "bdl/nn/embedding.h"
#include "bdl/nn/expand.h"
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

void flatten(Context& c) {
  const Value& x = c.input(0);
  const int64_t axis = c.integer("axis", 1);
  const auto rank = static_cast<int64_t>(x.shape.size());
  if (axis < -rank || axis > rank) c.invalid("axis ", axis, " for rank ", rank);
  const int64_t a = axis < 0 ? axis + rank : axis;
  const int64_t outer = shape_numel(std::span(x.shape).first(static_cast<size_t>(a)));
  const int64_t inner = shape_numel(std::span(x.shape).subspan(static_cast<size_t>(a)));
  // The batch merges into whichever side holds it; -1 there infers it.
  const int batch = x.batch_axis < 0 ? -1 : (x.batch_axis < a ? 0 : 1);
  c.set_output(0, reshape_to(c, x, {outer, inner}, batch));
}

namespace {

// A target computed from the input's shape (a dynamic batch) says where the
// batch goes: the one entry that changes with it.
int batch_entry(Context& c, const Value& x) {
  if (c.opset() < 5 || x.batch_axis < 0 || x.is_constant() || !c.input(1).alt.defined()) return -1;
  const auto alt = to_integers(c.input(1).alt);
  const auto given = c.integers_input(1, "the target shape");
  int moved = -1;
  for (size_t i = 0; i < alt.size() && i < given.size(); ++i) {
    if (alt[i] == given[i] || given[i] <= 0) continue;
    if (moved >= 0) return -1;
    moved = static_cast<int>(i);
  }
  return moved;
}

// Reshape's output with the batch placed: where the shape arithmetic says, else
// where it alone fits, else at the model's -1, else wherever it fits; when it
// fits nowhere but the model wrote -1, the -1 stays and takes any batch.
Value reshape_keeping_batch(Context& c, const Value& x, const Shape& target, int infer) {
  if (x.is_constant() || x.batch_axis < 0) return reshape_to(c, x, target, -1);
  const int entry = batch_entry(c, x);
  BatchPlace place;
  if (entry >= 0) {
    place = batch_at(x, target, entry).value_or(BatchPlace{entry, 0, 0});
  } else {
    place = place_batch(x, target, infer);
  }
  if (place.axis < 0 && infer < 0) return reshape_to(c, x, target, -1);
  const int axis = place.axis >= 0 ? place.axis : infer;
  if (axis == 0 && x.batch_axis == 0 && target[0] == x.shape[0] && !x.batch_merged()) {
    return reshape_to(c, x, target, 0);
  }
  Shape dynamic = target;
  dynamic[static_cast<size_t>(axis)] = -1;
  Value y = c.add(make<nn::View>(dynamic), {x}, true);
  y.batch_axis = axis;
  y.batch_outer = place.axis >= 0 ? place.outer : 0;
  y.batch_inner = place.axis >= 0 ? place.inner : 0;
  y.integer = x.integer;
  return y;
}

}  // namespace

void reshape(Context& c) {
  const Value& x = c.input(0);
  std::vector<int64_t> target =
      c.opset() < 5 ? c.integers("shape", {}) : c.integers_input(1, "the target shape");
  const bool allow_zero = c.integer("allowzero", 0) != 0;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == 0 && !allow_zero) {
      if (i >= x.shape.size()) c.invalid("shape entry 0 at ", i, " beyond the input's rank");
      target[i] = x.shape[i];
    }
    if (target[i] == -1) {
      if (infer >= 0) c.invalid("more than one -1 in the target shape");
      infer = static_cast<int>(i);
    } else if (target[i] < 0) {
      c.invalid("target shape entry ", target[i]);
    } else {
      if (target[i] > 0 && known > (int64_t{1} << 62) / target[i]) {
        c.invalid("target shape ", shape_str(target), " is too large");
      }
      known *= target[i];
    }
  }
  const int64_t total = shape_numel(x.shape);
  if (infer >= 0) {
    if (known == 0 || total % known != 0) {
      c.invalid("cannot reshape ", shape_str(x.shape), " to ", shape_str(target));
    }
    target[static_cast<size_t>(infer)] = total / known;
  }
  if (shape_numel(target) != total) {
    c.invalid("cannot reshape ", shape_str(x.shape), " to ", shape_str(target));
  }
  c.set_output(0, reshape_keeping_batch(c, x, target, infer));
}

void squeeze(Context& c) {
  const Value& x = c.input(0);
  const auto axes = axes_of(c, 1);
  std::vector<bool> drop(x.shape.size(), false);
  if (axes.empty()) {
    for (size_t d = 0; d < x.shape.size(); ++d) drop[d] = x.shape[d] == 1;
  }
  for (int64_t a : axes) {
    const auto d = static_cast<size_t>(normalize_axis(c, a, x.shape.size()));
    if (x.shape[d] != 1) c.invalid("cannot squeeze dimension ", a, " of ", shape_str(x.shape));
    drop[d] = true;
  }
  Shape out;
  int batch = -1;
  for (size_t d = 0; d < x.shape.size(); ++d) {
    if (drop[d]) continue;
    if (static_cast<int>(d) == x.batch_axis) batch = static_cast<int>(out.size());
    out.push_back(x.shape[d]);
  }
  c.set_output(0, reshape_to(c, x, out, batch));
}

void unsqueeze(Context& c) {
  const Value& x = c.input(0);
  const auto axes = axes_of(c, 1);
  const size_t rank = x.shape.size() + axes.size();
  std::vector<bool> added(rank, false);
  for (int64_t a : axes) {
    const auto d = static_cast<size_t>(normalize_axis(c, a, rank));
    if (added[d]) c.invalid("axis ", a, " given twice");
    added[d] = true;
  }
  Shape out;
  size_t next = 0;
  int batch = -1;
  for (size_t d = 0; d < rank; ++d) {
    if (!added[d] && static_cast<int>(next) == x.batch_axis) batch = static_cast<int>(d);
    out.push_back(added[d] ? 1 : x.shape[next++]);
  }
  c.set_output(0, reshape_to(c, x, out, batch));
}

void transpose(Context& c) {
  const Value& x = c.input(0);
  std::vector<int64_t> reversed(x.shape.size());
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  auto perm = c.integers("perm", reversed);
  for (auto& p : perm) p = normalize_axis(c, p, x.shape.size());
  if (perm.size() != x.shape.size())
    c.invalid("perm ", shape_str(perm), " for rank ", x.shape.size());
  std::vector<int64_t> identity(perm.size());
  std::iota(identity.begin(), identity.end(), 0);
  if (perm == identity) {
    c.set_output(0, x);
    return;
  }
  Value y = c.add(make<nn::Transpose>(perm), {x});
  y.batch_axis = -1;
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] == x.batch_axis) y.batch_axis = static_cast<int>(i);
  }
  c.set_output(0, y);
}

void gather(Context& c) {
  const Value& x = c.input(0);
  const Value& index = c.input(1);
  if (x.is_constant() && !index.is_constant()) {
    // A lookup table indexed at run time: an embedding (ids arrive as float32).
    const int64_t axis = c.integer("axis", 0);
    if (x.shape.size() != 2 || (axis != 0 && axis != -2)) {
      c.unsupported("a run-time index into a table of shape ", shape_str(x.shape), " along axis ",
                    axis, " (bdl's Embedding looks up rows of a matrix)");
    }
    if (x.constant.dtype() != DType::f32) c.unsupported("an integer lookup table");
    auto m = std::make_unique<nn::Embedding>(
        nn::EmbeddingOptions{.num_embeddings = x.shape[0], .embedding_dim = x.shape[1]});
    copy_into(m->weight(), x.constant, c, "the table");
    Value y = c.add(std::move(m), {index}, /*takes_integers=*/true);
    y.batch_axis = index.batch_axis;
    keep_folds(y, index);
    c.set_output(0, y);
    return;
  }
  // Indices sized by the batch that read a flat value in order (a strided view
  // that is a plain reshape, as the dynamo exporter writes some): a reshape.
  if (c.input(1).batch_sized && x.shape.size() == 1 && !x.is_constant()) {
    const auto at = to_integers(c.input(1).constant);
    bool in_order = static_cast<int64_t>(at.size()) == x.shape[0];
    for (size_t i = 0; i < at.size() && in_order; ++i) in_order = at[i] == static_cast<int64_t>(i);
    if (in_order) {
      const Shape& out = c.input(1).shape;
      c.set_output(0, reshape_to(c, x, out, place_batch(x, out, -1).axis));
      return;
    }
  }
  const Tensor& idx = c.fixed_input(1, "the indices");
  auto indices = to_integers(idx);
  const int64_t axis = normalize_axis(c, c.integer("axis", 0), x.shape.size());
  Value y = c.add(make<nn::Gather>(axis, std::move(indices), idx.shape()), {x});
  y.batch_axis = x.batch_axis < 0 || x.batch_axis == axis ? -1
                 : x.batch_axis < axis                    ? x.batch_axis
                                       : x.batch_axis + static_cast<int>(idx.dim()) - 1;
  keep_folds(y, x);
  c.set_output(0, y);
}

void concat(Context& c) {
  std::vector<Value> from;
  for (size_t i = 0; i < c.input_count(); ++i) {
    if (c.has_input(i)) from.push_back(c.input(i));
  }
  if (from.empty()) c.invalid("no inputs");
  const int64_t axis = normalize_axis(c, c.integer("axis", 1), from[0].shape.size());
  // Empty inputs add nothing.
  std::vector<Value> kept;
  for (const auto& v : from) {
    if (shape_numel(v.shape) > 0 || from.size() == 1) kept.push_back(v);
  }
  if (kept.empty()) kept.push_back(from[0]);
  if (kept.size() == 1) {
    c.set_output(0, kept[0].is_constant() ? kept[0] : c.add(make<nn::Identity>(), {kept[0]}));
    return;
  }
  c.set_output(0, c.add(make<nn::JoinTable>(axis), kept));
}

void split(Context& c) {
  const Value& x = c.input(0);
  const int64_t axis = normalize_axis(c, c.integer("axis", 0), x.shape.size());
  std::vector<int64_t> sizes =
      c.opset() >= 13 ? (c.has_input(1) ? c.integers_input(1, "split") : std::vector<int64_t>{})
                      : c.integers("split", {});
  const auto outputs = static_cast<int64_t>(c.node().output_size());
  const int64_t n = x.shape[static_cast<size_t>(axis)];
  if (sizes.empty()) {
    const int64_t parts = c.integer("num_outputs", outputs);
    const int64_t each = (n + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i) sizes.push_back(std::min(each, n - i * each));
  }
  if (static_cast<int64_t>(sizes.size()) != outputs) {
    c.invalid(sizes.size(), " split sizes for ", outputs, " outputs");
  }
  int64_t start = 0;
  for (int64_t i = 0; i < outputs; ++i) {
    const int64_t s = sizes[static_cast<size_t>(i)];
    if (c.output_used(static_cast<size_t>(i))) {
      c.set_output(static_cast<size_t>(i),
                   c.add(make<nn::Slice>(std::vector<int64_t>{axis}, std::vector<int64_t>{start},
                                         std::vector<int64_t>{start + s}, std::vector<int64_t>{1}),
                         {x}));
    }
    start += s;
  }
  if (start != n) c.invalid("split sizes sum to ", start, ", the axis has ", n);
}

void slice(Context& c) {
  std::vector<int64_t> starts, ends, axes, steps;
  if (c.opset() < 10) {
    starts = c.integers("starts", {});
    ends = c.integers("ends", {});
    axes = c.integers("axes", {});
  } else {
    starts = to_integers(c.fixed_input(1, "starts"));
    ends = to_integers(c.fixed_input(2, "ends"));
    if (c.has_input(3)) axes = c.integers_input(3, "axes");
    if (c.has_input(4)) steps = c.integers_input(4, "steps");
  }
  if (axes.empty()) {
    axes.resize(starts.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (steps.empty()) steps.assign(axes.size(), 1);
  unary(c, make<nn::Slice>(axes, starts, ends, steps));
}

// Opset 18's axes input: pads (begins then ends) for those axes only, spread to
// every axis of the input.
std::vector<int64_t> pads_on_axes(Context& c, const std::vector<int64_t>& pads,
                                  const std::vector<int64_t>& axes) {
  const size_t rank = c.input(0).shape.size();
  if (pads.size() != 2 * axes.size()) c.invalid(pads.size(), " pads for ", axes.size(), " axes");
  std::vector<int64_t> all(2 * rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    const auto a = static_cast<size_t>(normalize_axis(c, axes[i], rank));
    all[a] = pads[i];
    all[rank + a] = pads[axes.size() + i];
  }
  return all;
}

void pad(Context& c) {
  const std::string mode = c.text("mode", "constant");
  nn::PadMode m = nn::PadMode::constant;
  if (mode == "reflect") {
    m = nn::PadMode::reflect;
  } else if (mode == "edge") {
    m = nn::PadMode::edge;
  } else if (mode != "constant") {
    c.unsupported("pad mode '", mode, "'");
  }
  std::vector<int64_t> pads;
  float value = 0.f;
  if (c.opset() < 11) {
    pads = c.integers(c.opset() < 2 ? "paddings" : "pads", {});
    value = c.real("value", 0.f);
  } else {
    pads = c.integers_input(1, "pads");
    if (c.has_input(2)) {
      const auto v = to_floats(c.constant_input(2, "constant_value"));
      if (!v.empty()) value = v[0];
    }
    if (c.has_input(3)) pads = pads_on_axes(c, pads, c.integers_input(3, "axes"));
  }
  for (int64_t p : pads) {
    if (p < 0) c.unsupported("negative pads (cropping)");
  }
  unary(c, make<nn::Pad>(pads, m, value));
}

void constant_of_shape(Context& c) {
  const auto shape = c.integers_input(0, "the shape");
  for (int64_t d : shape) {
    if (d < 0) c.invalid("negative dimension ", d);
  }
  Tensor value = c.has_attribute("value") ? c.tensor("value") : Tensor::full({1}, 0.f);
  if (value.numel() != 1) c.invalid("value has ", value.numel(), " elements, expected 1");
  if (value.dtype() == DType::i64) {
    std::vector<int64_t> v(static_cast<size_t>(shape_numel(shape)), to_integers(value)[0]);
    c.set_output(0, Context::constant(Tensor::from_vector(std::span<const int64_t>(v), shape)));
    return;
  }
  c.set_output(0, Context::constant(Tensor::full(shape, to_floats(value)[0])));
}

// ConstantFill (experimental before opset 9; PyTorch's older exports use it
// for recurrent layers' initial states): a tensor of one value, shaped by its
// input's values (input_as_shape) or its input's shape, or by `shape`.
void constant_fill(Context& c) {
  Shape shape;
  if (c.has_input(0)) {
    shape =
        c.integer("input_as_shape", 0) != 0 ? c.integers_input(0, "the shape") : c.input(0).shape;
  } else {
    shape = c.integers("shape", {});
  }
  for (int64_t d : c.integers("extra_shape", {})) shape.push_back(d);
  for (int64_t d : shape) {
    if (d < 0) c.invalid("negative dimension ", d);
  }
  const float value = c.real("value", 0.f);
  if (c.integer("dtype", ::onnx::TensorProto::FLOAT) != ::onnx::TensorProto::FLOAT) {
    std::vector<int64_t> v(static_cast<size_t>(shape_numel(shape)), static_cast<int64_t>(value));
    c.set_output(0, Context::constant(Tensor::from_vector(std::span<const int64_t>(v), shape)));
    return;
  }
  c.set_output(0, Context::constant(Tensor::full(shape, value)));
}

void size(Context& c) {
  const std::vector<int64_t> n{shape_numel(c.input(0).shape)};
  c.set_output(0, Context::constant(Tensor::from_vector(std::span<const int64_t>(n), {})));
}

void constant(Context& c) {
  Tensor t;
  if (c.has_attribute("value")) {
    t = c.tensor("value");
  } else if (c.has_attribute("value_float")) {
    t = Tensor::full({}, c.real("value_float", 0));
  } else if (c.has_attribute("value_floats")) {
    const auto v = c.reals("value_floats", {});
    t = Tensor::from_vector(std::span<const float>(v), {static_cast<int64_t>(v.size())});
  } else if (c.has_attribute("value_int")) {
    const std::vector<int64_t> v{c.integer("value_int", 0)};
    t = Tensor::from_vector(std::span<const int64_t>(v), {});
  } else if (c.has_attribute("value_ints")) {
    const auto v = c.integers("value_ints", {});
    t = Tensor::from_vector(std::span<const int64_t>(v), {static_cast<int64_t>(v.size())});
  } else {
    c.unsupported("a Constant without a numeric value (sparse or string)");
  }
  c.set_output(0, Context::constant(std::move(t)));
}

void shape(Context& c) {
  const Value& x = c.input(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  int64_t start = c.integer("start", 0);
  int64_t end = c.integer("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> dims(x.shape.begin() + start, x.shape.begin() + end);
  Value y = Context::constant(Tensor::from_vector(std::span<const int64_t>(dims), {end - start}));
  // The batch's entry, as it were one larger, marks what shape arithmetic makes of it.
  if (x.batch_axis >= start && x.batch_axis < end && batch_size_of(x) > 0) {
    dims[static_cast<size_t>(x.batch_axis - start)] += x.batch_outer * x.batch_inner;
    y.alt = Tensor::from_vector(std::span<const int64_t>(dims), {end - start});
    if (!x.is_constant() && !x.batch_merged()) {
      y.alt_source = x.node;
      y.alt_source_shape = x.shape;
      y.alt_source_batch_axis = x.batch_axis;
    }
  }
  c.set_output(0, y);
}

void cast(Context& c) {
  const Value& x = c.input(0);
  const int64_t to = c.integer("to", 0);
  const bool to_integer = to == ::onnx::TensorProto::INT64 || to == ::onnx::TensorProto::INT32;
  if (x.is_constant() && (to == ::onnx::TensorProto::FLOAT || to_integer)) {
    auto converted = [&](const Tensor& t) {
      if (to_integer) {
        const auto v = to_integers(t);
        return Tensor::from_vector(std::span<const int64_t>(v), x.shape);
      }
      const auto v = to_floats(t);
      return Tensor::from_vector(std::span<const float>(v), x.shape);
    };
    Value y = Context::constant(converted(x.constant));
    y.batch_sized = x.batch_sized;
    if (x.alt.defined()) {
      y.alt = converted(x.alt);
      inherit_source(y, {x});
    }
    c.set_output(0, y);
    return;
  }
  // Run-time values stay float32: a cast to float is the identity, a cast to
  // an integer type marks the value as integer (embedding indices), and a cast
  // to bool makes 0 or 1 (not not x).
  if (to == ::onnx::TensorProto::BOOL) {
    const Value y = c.add(make<nn::Unary>(nn::UnaryOp::logical_not), {x}, true);
    c.set_output(0, c.add(make<nn::Unary>(nn::UnaryOp::logical_not), {y}));
    return;
  }
  if (to == ::onnx::TensorProto::FLOAT || to_integer) {
    Value y = c.add(make<nn::Identity>(), {x}, /*takes_integers=*/true);
    y.integer = to_integer;
    c.set_output(0, y);
    return;
  }
  c.unsupported("a cast to ",
                ::onnx::TensorProto::DataType_Name(static_cast<::onnx::TensorProto::DataType>(to)),
                " of a run-time value");
}

// A constant expanded to the batch size of the value the shape came from
// (a vision transformer's class token): the constant broadcast to the target
// with 1 at the batch's entry, repeated at run time by ExpandToBatch.
Value expand_to_batch(Context& c, const Value& x, std::vector<int64_t> target, size_t entry) {
  const Value& shape = c.input(1);
  target[entry] = 1;
  Tensor ones = Tensor::full(target, 1.f);
  const Value spread = binary(c, nn::BinaryOp::mul, x, Context::constant(std::move(ones)));
  auto m = std::make_unique<nn::ExpandToBatch>(
      nn::ExpandToBatchOptions{.value_shape = spread.shape,
                               .axis = static_cast<int64_t>(entry),
                               .input_axis = shape.alt_source_batch_axis,
                               .trainable = x.initializer});
  copy_into(m->value(), spread.constant, c, "the expanded constant");
  Value source;
  source.node = shape.alt_source;
  source.shape = shape.alt_source_shape;
  source.batch_axis = shape.alt_source_batch_axis;
  const auto values = to_floats(spread.constant);
  Value y = c.add(std::move(m), {source});
  y.batch_axis = static_cast<int>(entry);
  y.zeros = std::all_of(values.begin(), values.end(), [](float v) { return v == 0.f; });
  return y;
}

void expand(Context& c) {
  const Value& x = c.input(0);
  auto target = c.integers_input(1, "the shape");
  // A target computed from the batch size: the batch comes from x itself, so
  // those entries broadcast as 1; a constant cannot grow to the batch size.
  if (c.input(1).alt.defined()) {
    const auto alt = to_integers(c.input(1).alt);
    for (size_t i = 0; i < target.size() && i < alt.size(); ++i) {
      if (alt[i] == target[i]) continue;
      const size_t lead = target.size() - std::min(target.size(), x.shape.size());
      if (x.is_constant() && c.input(1).alt_source >= 0 && alt[i] - target[i] == 1) {
        c.set_output(0, expand_to_batch(c, x, target, i));
        return;
      }
      if (x.is_constant() || x.batch_axis < 0 || i != lead + static_cast<size_t>(x.batch_axis)) {
        c.unsupported("expanding ", x.is_constant() ? "a constant" : "a value",
                      " to the batch size (entry ", i,
                      " of the shape; bdl fixes the shapes of "
                      "constants when the model loads)");
      }
      target[i] = 1;
    }
  }
  // Broadcast against ones of the target shape: x * 1 has the broadcast shape.
  Tensor ones = Tensor::full(target, 1.f);
  c.set_output(0, binary(c, nn::BinaryOp::mul, x, Context::constant(std::move(ones))));
}

void identity(Context& c) {
  const Value& x = c.input(0);
  c.set_output(0, x.is_constant() ? x : c.add(make<nn::Identity>(), {x}));
}

}  // namespace bdl::onnx::convert

namespace bdl::onnx::convert {

// Range of constants (start, limit, delta): folded; integer when they are.
void range(Context& c) {
  const Tensor& start = c.constant_input(0, "start");
  const Tensor& limit = c.constant_input(1, "limit");
  const Tensor& delta = c.constant_input(2, "delta");
  // A range up to the batch size (index arithmetic of a strided view) holds at
  // the import's batch size only: marked so, for Gather to check.
  bool sized = false;
  for (size_t i = 0; i < 3; ++i) {
    const Value& v = c.input(i);
    sized = sized || v.batch_sized ||
            (v.alt.defined() && to_integers(v.alt) != to_integers(v.constant));
  }
  const bool integer = start.dtype() == DType::i64;
  const double s = to_floats(start).at(0), l = to_floats(limit).at(0), d = to_floats(delta).at(0);
  if (d == 0) c.invalid("delta is 0");
  const auto n = static_cast<int64_t>(std::max(0.0, std::ceil((l - s) / d)));
  if (n > (int64_t{1} << 28)) c.invalid("a range of ", n, " elements");
  if (integer) {
    const auto si = to_integers(start).at(0), di = to_integers(delta).at(0);
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = si + i * di;
    Value y = Context::constant(Tensor::from_vector(std::span<const int64_t>(v), {n}));
    y.batch_sized = sized;
    c.set_output(0, y);
    return;
  }
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = static_cast<float>(s + static_cast<double>(i) * d);
  Value y = Context::constant(Tensor::from_vector(std::span<const float>(v), {n}));
  y.batch_sized = sized;
  c.set_output(0, y);
}

// Tile by constant repeats: each dimension d of size s becomes (r, s) broadcast
// from (1, s), then (r * s): a Binary product with ones and a reshape.
void tile(Context& c) {
  const Value& x = c.input(0);
  const auto repeats = to_integers(c.fixed_input(1, "repeats"));
  if (repeats.size() != x.shape.size()) {
    c.invalid(repeats.size(), " repeats for rank ", x.shape.size());
  }
  Shape spread, ones, out;
  for (size_t d = 0; d < x.shape.size(); ++d) {
    if (repeats[d] < 0) c.invalid("negative repeat ", repeats[d]);
    spread.insert(spread.end(), {1, x.shape[d]});
    ones.insert(ones.end(), {repeats[d], 1});
    out.push_back(repeats[d] * x.shape[d]);
  }
  const int batch = x.batch_axis >= 0 && repeats[static_cast<size_t>(x.batch_axis)] == 1
                        ? 2 * x.batch_axis + 1
                        : -1;
  Value v = reshape_to(c, x, spread, batch);
  v = binary(c, nn::BinaryOp::mul, v, Context::constant(Tensor::full(ones, 1.f)));
  c.set_output(0, reshape_to(c, v, out, batch < 0 ? -1 : x.batch_axis));
}

}  // namespace bdl::onnx::convert
