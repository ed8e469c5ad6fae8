// The converters' shared helpers (convert.h).
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

int64_t normalize_axis(Context& c, int64_t axis, size_t rank) {
  const auto r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) c.invalid("axis ", axis, " is out of range for rank ", r);
  return axis < 0 ? axis + r : axis;
}

// The single data input as a graph value or constant, and one module on it.
void unary(Context& c, std::unique_ptr<Module> m) {
  c.set_output(0, c.add(std::move(m), {c.input(0)}));
}

void copy_into(Tensor& dst, const Tensor& src, Context& c, const char* what) {
  if (dst.numel() != src.numel()) {
    c.invalid(what, " has shape ", src.shape_str(), ", expected ", dst.shape_str());
  }
  if (src.dtype() != DType::f32) c.invalid(what, " is not float32");
  // The layer takes the constant's storage: the weights are not copied a second
  // time (the layer's own tensor was never written, so dropping it costs nothing).
  dst = src.contiguous().view(dst.shape());
}

// Reshapes a value to `out`, whose dimension `out_batch` (-1: none) is the
// batch: written as -1 (or kept, by Reshape, when it stays first) so that the
// graph runs on other batch sizes than the import's.
Value reshape_to(Context& c, const Value& v, const Shape& out, int out_batch) {
  if (v.shape == out && v.batch_axis == out_batch) return v;
  if (v.is_constant()) return c.add(make<nn::View>(out), {v});
  Value r;
  if (out_batch == 0 && v.batch_axis == 0 && out[0] == v.shape[0]) {
    r = c.add(make<nn::Reshape>(Shape(out.begin() + 1, out.end())), {v}, true);
  } else if (out_batch >= 0 && v.batch_axis >= 0) {
    Shape dynamic = out;
    dynamic[static_cast<size_t>(out_batch)] = -1;
    r = c.add(make<nn::View>(dynamic), {v}, true);
  } else {
    r = c.add(make<nn::View>(out), {v}, true);
  }
  r.batch_axis = v.batch_axis >= 0 ? out_batch : -1;
  // What is folded with the batch now (unknown when the caller's axis cannot hold it).
  r.batch_outer = r.batch_inner = 1;
  if (r.batch_axis >= 0) {
    const auto place = batch_at(v, out, out_batch);
    r.batch_outer = place ? place->outer : 0;
    r.batch_inner = place ? place->inner : 0;
  }
  r.integer = v.integer;  // a reshape moves ids without computing on them
  r.zeros = v.zeros;
  return r;
}

int64_t batch_size_of(const Value& v) {
  if (v.batch_axis < 0 || v.batch_inner <= 0 || v.batch_outer <= 0) return 0;
  return v.shape[static_cast<size_t>(v.batch_axis)] / (v.batch_outer * v.batch_inner);
}

// The batch, as a digit of the row-major index (its stride S and size N), lies
// within output dimension k when k's stride divides S and k's span is a multiple
// of S * N: then the dimensions k folds around it are outer and inner.
std::optional<BatchPlace> batch_at(const Value& v, const Shape& out, int k) {
  const int64_t n = batch_size_of(v);
  if (n <= 0 || k < 0 || static_cast<size_t>(k) >= out.size()) return std::nullopt;
  const auto b = static_cast<size_t>(v.batch_axis);
  const int64_t stride = shape_numel(std::span(v.shape).subspan(b + 1)) * v.batch_inner;
  const int64_t out_stride = shape_numel(std::span(out).subspan(static_cast<size_t>(k) + 1));
  const int64_t span = out_stride * out[static_cast<size_t>(k)];
  if (stride == 0 || out_stride == 0 || stride % out_stride != 0 || span % (stride * n) != 0) {
    return std::nullopt;
  }
  return BatchPlace{k, span / (stride * n), stride / out_stride};
}

// Where the batch dimension of v lands in `out`: the dimension that holds it
// alone if one does, else `prefer` (where the model wrote -1) if it can, else
// the first that can; axis -1 when none (the batch is split across dimensions).
BatchPlace place_batch(const Value& v, const Shape& out, int prefer) {
  std::optional<BatchPlace> first, preferred;
  for (size_t k = 0; k < out.size(); ++k) {
    const auto p = batch_at(v, out, static_cast<int>(k));
    if (!p) continue;
    if (p->outer == 1 && p->inner == 1) return *p;
    if (!first) first = p;
    if (static_cast<int>(k) == prefer) preferred = p;
  }
  if (preferred) return *preferred;
  return first.value_or(BatchPlace{});
}

namespace {

// Integer arithmetic on two integer constants, exactly, as ONNX computes it on
// int64 (division truncates; shape arithmetic such as chunk sizes (C + 1) / 2
// depends on it).
Tensor integer_arithmetic(Context& c, nn::BinaryOp op, const Shape& as, const Tensor& at,
                          const Shape& bs, const Tensor& bt);

std::optional<Value> fold_integers(Context& c, nn::BinaryOp op, const Value& a, const Value& b) {
  if (a.constant.dtype() != DType::i64 || b.constant.dtype() != DType::i64) return std::nullopt;
  using nn::BinaryOp;
  if (op != BinaryOp::add && op != BinaryOp::sub && op != BinaryOp::mul && op != BinaryOp::div &&
      op != BinaryOp::mod && op != BinaryOp::fmod && op != BinaryOp::max && op != BinaryOp::min) {
    return std::nullopt;
  }
  Value y = Context::constant(integer_arithmetic(c, op, a.shape, a.constant, b.shape, b.constant));
  y.batch_sized = a.batch_sized || b.batch_sized;
  if (!y.batch_sized && (a.alt.defined() || b.alt.defined())) {
    y.alt = integer_arithmetic(c, op, a.shape, a.alt.defined() ? a.alt : a.constant, b.shape,
                               b.alt.defined() ? b.alt : b.constant);
    inherit_source(y, {a, b});
  }
  return y;
}

Tensor integer_arithmetic(Context& c, nn::BinaryOp op, const Shape& as, const Tensor& at,
                          const Shape& bs, const Tensor& bt) {
  using nn::BinaryOp;
  const Shape out = [&] {
    try {
      return nn::Binary(op).output_shape_many(std::vector<Shape>{as, bs});
    } catch (const Error& e) {
      c.invalid(e.what());
    }
  }();
  const auto va = to_integers(at), vb = to_integers(bt);
  const Shape so = contiguous_strides(out);
  auto strides_of = [&](const Shape& s) {
    Shape st(out.size(), 0);
    const Shape own = contiguous_strides(s);
    for (size_t d = 0; d < s.size(); ++d) {
      if (s[d] != 1) st[out.size() - s.size() + d] = own[d];
    }
    return st;
  };
  const Shape sa = strides_of(as), sb = strides_of(bs);
  std::vector<int64_t> result(static_cast<size_t>(shape_numel(out)));
  for (int64_t i = 0; i < static_cast<int64_t>(result.size()); ++i) {
    int64_t ia = 0, ib = 0, rest = i;
    for (size_t d = 0; d < out.size(); ++d) {
      const int64_t at = so[d] == 0 ? 0 : rest / so[d];
      rest -= at * so[d];
      ia += at * sa[d];
      ib += at * sb[d];
    }
    const int64_t x = va[static_cast<size_t>(ia)], y = vb[static_cast<size_t>(ib)];
    if ((op == BinaryOp::div || op == BinaryOp::mod || op == BinaryOp::fmod) && y == 0) {
      c.invalid("integer division by zero");
    }
    int64_t r = 0;
    switch (op) {
      case BinaryOp::add:
        r = x + y;
        break;
      case BinaryOp::sub:
        r = x - y;
        break;
      case BinaryOp::mul:
        r = x * y;
        break;
      case BinaryOp::div:
        r = x / y;
        break;
      case BinaryOp::fmod:
        r = x % y;
        break;
      case BinaryOp::mod:
        r = x % y;
        if (r != 0 && ((r < 0) != (y < 0))) r += y;
        break;
      case BinaryOp::max:
        r = std::max(x, y);
        break;
      default:
        r = std::min(x, y);
        break;
    }
    result[static_cast<size_t>(i)] = r;
  }
  return Tensor::from_vector(std::span<const int64_t>(result), out);
}

Value binary_nodes(Context& c, nn::BinaryOp op, const Value& a, const Value& b) {
  // Comparisons read integers exactly (below 2^24) and give 0 or 1.
  const bool predicate = nn::is_predicate(op);
  if (a.is_constant() && b.is_constant()) {
    if (auto folded = fold_integers(c, op, a, b)) return *folded;
    auto m = make<nn::Binary>(op);
    return c.add(std::move(m), {a, b});
  }
  // Integer arithmetic on run-time integers (index wrapping in TensorFlow's
  // embedding lookups: ids + vocabulary where ids < 0), exact in float32 below
  // 2^24: the result is integer data again.
  auto integer = [](const Value& v) {
    return v.is_constant() ? v.constant.dtype() != DType::f32 : v.integer;
  };
  const bool exact = op == nn::BinaryOp::add || op == nn::BinaryOp::sub ||
                     op == nn::BinaryOp::mul || op == nn::BinaryOp::max || op == nn::BinaryOp::min;
  const bool integer_arithmetic = exact && integer(a) && integer(b);
  auto mark = [&](Value v) {
    v.integer = integer_arithmetic;
    return v;
  };
  if (a.is_constant() || b.is_constant()) {
    const Value& k = a.is_constant() ? a : b;
    // An integer constant: only as an exponent (Pow's only mixed types), where its
    // float value computes the same, compared, or in integer arithmetic; anywhere
    // else the result would be integer.
    if (k.constant.dtype() != DType::f32 && !predicate && !integer_arithmetic &&
        (op != nn::BinaryOp::pow || a.is_constant())) {
      c.unsupported("an integer operand where the result is integer");
    }
    auto m = std::make_unique<nn::Binary>(op, k.shape, a.is_constant(), k.initializer);
    if (k.constant.dtype() == DType::f32) {
      m->constant() = k.constant.contiguous();  // shares the constant's storage
    } else {
      const auto v = to_floats(k.constant);
      std::copy(v.begin(), v.end(), m->constant().f32());
    }
    return mark(c.add(std::move(m), {a.is_constant() ? b : a}, predicate || integer_arithmetic));
  }
  if (op == nn::BinaryOp::add && a.shape == b.shape && !integer_arithmetic) {
    // Same shapes (a residual connection): Add works in the layout the
    // convolutions leave, where Binary would convert both to plain.
    return c.add(make<nn::Add>(), {a, b});
  }
  return mark(c.add(make<nn::Binary>(op), {a, b}, predicate || integer_arithmetic));
}
}  // namespace

// A binary operation of two values, either possibly constant. A constant
// operand becomes the module's own tensor: trainable when it is an initializer.
// Broadcasting to a higher rank moves the batch dimension right.
Value binary(Context& c, nn::BinaryOp op, const Value& a, const Value& b) {
  Value y = binary_nodes(c, op, a, b);
  if (y.is_constant()) return y;
  y.batch_axis = -1;
  for (const Value* v : {&a, &b}) {
    if (!v->is_constant() && v->batch_axis >= 0) {
      y.batch_axis = v->batch_axis + static_cast<int>(y.shape.size() - v->shape.size());
      y.batch_outer = v->batch_outer;
      y.batch_inner = v->batch_inner;
      break;
    }
  }
  return y;
}

void unary_fn(Context& c, nn::UnaryOp op, float alpha, float beta) {
  unary(c, make<nn::Unary>(op, alpha, beta));
}

// A 1-d window (input (N, C, L)) is the 2-d one of height 1 on (N, C, 1, L).
Window window(Context& c, const Shape& input, const std::vector<int64_t>& kernel) {
  const size_t spatial = input.size() - 2;
  if (input.size() < 3 || input.size() > 4 || kernel.size() != spatial) {
    c.unsupported(input.size() < 2 ? 0 : input.size() - 2, "-d ", c.node().op_type(), " (input ",
                  shape_str(input), "); bdl has the 1-d and 2-d forms");
  }
  const bool one_d = spatial == 1;
  auto list = [&](const char* name, int64_t fallback, size_t count) {
    auto v = c.integers(name, std::vector<int64_t>(count, fallback));
    if (v.size() != count) c.invalid(name, " has ", v.size(), " entries, expected ", count);
    if (one_d) v.insert(v.begin() + static_cast<int64_t>(count / 2), fallback);
    return v;
  };
  const auto strides = list("strides", 1, spatial);
  const auto dilations = list("dilations", 1, spatial);
  Window w{one_d ? 1 : kernel[0],
           kernel.back(),
           strides[0],
           strides[1],
           dilations[0],
           dilations[1],
           0,
           0,
           0,
           0};
  if (w.sh < 1 || w.sw < 1 || w.dh < 1 || w.dw < 1 || w.kh < 1 || w.kw < 1) {
    c.invalid("kernel, strides and dilations must be positive");
  }
  const std::string auto_pad = c.text("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    auto pads = c.integers("pads", std::vector<int64_t>(2 * spatial, 0));
    if (pads.size() != 2 * spatial)
      c.invalid("pads has ", pads.size(), " entries, expected ", 2 * spatial);
    for (int64_t p : pads) {
      if (p < 0) c.invalid("negative pad ", p);
    }
    if (one_d) pads = {0, pads[0], 0, pads[1]};
    w.top = pads[0];
    w.left = pads[1];
    w.bottom = pads[2];
    w.right = pads[3];
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    auto same = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t& begin, int64_t& end) {
      const int64_t out = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
      begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    };
    if (!one_d) same(input[2], w.kh, w.sh, w.dh, w.top, w.bottom);
    same(input.back(), w.kw, w.sw, w.dw, w.left, w.right);
  } else if (auto_pad != "VALID") {
    c.invalid("unknown auto_pad '", auto_pad, "'");
  }
  return w;
}

// (N, C, L) as (N, C, 1, L) for the 2-d layers; 4-d values pass through.
Value as_2d(Context& c, const Value& x) {
  if (x.shape.size() != 3) return x;
  return reshape_to(c, x, {x.shape[0], x.shape[1], 1, x.shape[2]}, x.batch_axis == 0 ? 0 : -1);
}

Value from_2d(Context& c, const Value& y, size_t rank) {
  if (rank != 3) return y;
  return reshape_to(c, y, {y.shape[0], y.shape[1], y.shape[3]}, y.batch_axis == 0 ? 0 : -1);
}

// Where the batch dimension goes through a reduction over `axes` (all when
// empty): gone when reduced, moved left by the dropped axes before it.
int reduced_batch_axis(const Value& x, const std::vector<int64_t>& axes, bool keep) {
  if (x.batch_axis < 0 || axes.empty()) return -1;
  int before = 0;
  for (int64_t a : axes) {
    if (a == x.batch_axis) return -1;
    before += a < x.batch_axis;
  }
  return keep ? x.batch_axis : x.batch_axis - before;
}

std::vector<int64_t> axes_of(Context& c, size_t input) {
  if (c.opset() >= 13)
    return c.has_input(input) ? c.integers_input(input, "axes") : std::vector<int64_t>{};
  return c.integers("axes", {});
}

}  // namespace bdl::onnx::convert
