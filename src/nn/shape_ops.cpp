#include "bdl/nn/shape_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "nn/dense.h"
#include "nn/strided.h"

namespace bdl::nn {
namespace {

std::string list_str(const std::vector<int64_t>& v) { return shape_str(v); }

int64_t normalize_axis(int64_t axis, size_t rank, const std::string& who) {
  const auto r = static_cast<int64_t>(rank);
  BDL_CHECK(axis >= -r && axis < r, who, ": axis ", axis, " is out of range for rank ", r);
  return axis < 0 ? axis + r : axis;
}

}  // namespace

// View.

View::View(Shape shape) : shape_(std::move(shape)) {
  int unknown = 0;
  for (int64_t s : shape_) {
    BDL_CHECK(s >= 0 || s == -1, "View: bad size ", s, " in ", shape_str(shape_));
    unknown += s == -1;
  }
  BDL_CHECK(unknown <= 1, "View: more than one -1 in ", shape_str(shape_));
}

std::string View::describe() const { return "View(" + shape_str(shape_) + ")"; }

Shape View::output_shape(const Shape& input) const {
  Shape out = shape_;
  Shape known_sizes;
  int64_t infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      infer = static_cast<int64_t>(i);
    } else {
      known_sizes.push_back(out[i]);
    }
  }
  const int64_t known = shape_numel(known_sizes);  // checked against overflow
  const int64_t n = shape_numel(input);
  if (infer >= 0 && known > 0 && n % known == 0) out[static_cast<size_t>(infer)] = n / known;
  BDL_CHECK((infer < 0 || known > 0) && shape_numel(out) == n, label(), ": cannot view ",
            shape_str(input), " as ", shape_str(shape_));
  return out;
}

const Tensor& View::forward(const Tensor& input) {
  output_ = dense(input, dense_).view(output_shape(input.shape()));
  return output_;
}

const Tensor& View::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (needs_input_grad_) grad_input_ = dense(grad_output, dense_grad_).view(input.shape());
  return grad_input_;
}

void View::attributes(Attributes& out) const { out.set("shape", shape_); }
std::unique_ptr<Module> View::create(const Attributes& a) {
  return std::make_unique<View>(a.integers("shape"));
}

// Transpose.

Transpose::Transpose(std::vector<int64_t> perm) : perm_(std::move(perm)) {
  std::vector<int64_t> sorted = perm_;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    BDL_CHECK(sorted[i] == static_cast<int64_t>(i), "Transpose: ", list_str(perm_),
              " is not a permutation of 0..", perm_.size() - 1);
  }
}

std::string Transpose::describe() const { return "Transpose(" + list_str(perm_) + ")"; }

Shape Transpose::output_shape(const Shape& input) const {
  BDL_CHECK(input.size() == perm_.size(), label(), ": permutation ", list_str(perm_),
            " for an input of shape ", shape_str(input));
  Shape out(input.size());
  for (size_t i = 0; i < perm_.size(); ++i) out[i] = input[static_cast<size_t>(perm_[i])];
  return out;
}

Shape Transpose::permuted_strides(const Shape& input) const {
  const Shape in_strides = contiguous_strides(input);
  Shape out(perm_.size());
  for (size_t i = 0; i < perm_.size(); ++i) out[i] = in_strides[static_cast<size_t>(perm_[i])];
  return out;
}

const Tensor& Transpose::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_);
  const Shape out = output_shape(x.shape());
  output_.resize(out);
  strided_copy(out, x.f32(), permuted_strides(x.shape()), output_.f32(), contiguous_strides(out));
  return output_;
}

const Tensor& Transpose::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (!needs_input_grad_) return grad_input_;
  const Tensor& g = dense(grad_output, dense_grad_);
  grad_input_.resize(input.shape());
  strided_copy(g.shape(), g.f32(), contiguous_strides(g.shape()), grad_input_.f32(),
               permuted_strides(input.shape()));
  return grad_input_;
}

void Transpose::attributes(Attributes& out) const { out.set("perm", perm_); }
std::unique_ptr<Module> Transpose::create(const Attributes& a) {
  return std::make_unique<Transpose>(a.integers("perm"));
}

// Slice.

Slice::Slice(std::vector<int64_t> axes, std::vector<int64_t> starts, std::vector<int64_t> ends,
             std::vector<int64_t> steps)
    : axes_(std::move(axes)),
      starts_(std::move(starts)),
      ends_(std::move(ends)),
      steps_(std::move(steps)) {
  if (steps_.empty()) steps_.assign(axes_.size(), 1);
  BDL_CHECK(starts_.size() == axes_.size() && ends_.size() == axes_.size() &&
                steps_.size() == axes_.size(),
            "Slice: axes ", list_str(axes_), ", starts ", list_str(starts_), ", ends ",
            list_str(ends_), " and steps ", list_str(steps_), " differ in length");
  for (int64_t s : steps_) {
    BDL_CHECK(s != 0 && s != INT64_MIN, "Slice: step ", s, " is not allowed");
  }
}

std::string Slice::describe() const {
  return "Slice(axes " + list_str(axes_) + ", starts " + list_str(starts_) + ", ends " +
         list_str(ends_) + ", steps " + list_str(steps_) + ")";
}

Slice::Extent Slice::extent(const Shape& input) const {
  Extent e{Shape(input.size(), 0), Shape(input.size(), 1), input, Shape(input.size(), 0), 0};
  std::vector<bool> seen(input.size(), false);
  for (size_t i = 0; i < axes_.size(); ++i) {
    const auto d = static_cast<size_t>(normalize_axis(axes_[i], input.size(), label()));
    BDL_CHECK(!seen[d], label(), ": axis ", axes_[i], " given twice");
    seen[d] = true;
    const int64_t n = input[d];
    const int64_t step = steps_[i];
    int64_t start = starts_[i];
    int64_t end = ends_[i];
    if (start < 0) start = start < -n ? 0 : start + n;  // no overflow for INT64_MIN
    if (end < 0) end = end < -n ? -1 : end + n;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, n);
      end = std::clamp<int64_t>(end, 0, n);
      e.count[d] = end > start ? (end - start - 1) / step + 1 : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, n - 1);
      end = std::clamp<int64_t>(end, -1, n - 1);
      e.count[d] = start > end ? (start - end - 1) / -step + 1 : 0;
    }
    e.start[d] = e.count[d] > 0 ? start : 0;
    e.step[d] = step;
  }
  const Shape in_strides = contiguous_strides(input);
  for (size_t d = 0; d < input.size(); ++d) {
    // A step only matters (and only stays in range) when it is taken.
    e.strides[d] = e.count[d] > 1 ? in_strides[d] * e.step[d] : 0;
    e.offset += e.start[d] * in_strides[d];
  }
  return e;
}

Shape Slice::output_shape(const Shape& input) const { return extent(input).count; }

const Tensor& Slice::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_);
  const Extent e = extent(x.shape());
  output_.resize(e.count);
  strided_copy(e.count, x.f32() + e.offset, e.strides, output_.f32(), contiguous_strides(e.count));
  return output_;
}

const Tensor& Slice::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (!needs_input_grad_) return grad_input_;
  const Tensor& g = dense(grad_output, dense_grad_);
  const Extent e = extent(input.shape());
  grad_input_.resize(input.shape());
  grad_input_.zero();
  strided_copy(e.count, g.f32(), contiguous_strides(e.count), grad_input_.f32() + e.offset,
               e.strides);
  return grad_input_;
}

void Slice::attributes(Attributes& out) const {
  out.set("axes", axes_);
  out.set("starts", starts_);
  out.set("ends", ends_);
  out.set("steps", steps_);
}
std::unique_ptr<Module> Slice::create(const Attributes& a) {
  return std::make_unique<Slice>(a.integers("axes"), a.integers("starts"), a.integers("ends"),
                                 a.integers("steps"));
}

// Pad.

namespace {
const char* pad_mode_name(PadMode m) {
  switch (m) {
    case PadMode::constant:
      return "constant";
    case PadMode::reflect:
      return "reflect";
    case PadMode::edge:
      return "edge";
  }
  return "?";
}
}  // namespace

Pad::Pad(std::vector<int64_t> pads, PadMode mode, float value)
    : pads_(std::move(pads)), mode_(mode), value_(value) {
  BDL_CHECK(pads_.size() % 2 == 0, "Pad: ", pads_.size(),
            " pad counts; expected two per dimension");
  for (int64_t p : pads_) {
    BDL_CHECK(p >= 0, "Pad: negative pad count ", p, " in ", list_str(pads_));
    BDL_CHECK(p <= (int64_t{1} << 40), "Pad: pad count ", p, " is too large");
  }
}

std::string Pad::describe() const {
  std::string s = "Pad(" + list_str(pads_) + ", " + pad_mode_name(mode_);
  if (mode_ == PadMode::constant && value_ != 0.f) s += ", value " + std::to_string(value_);
  return s + ")";
}

Shape Pad::output_shape(const Shape& input) const {
  const size_t rank = pads_.size() / 2;
  BDL_CHECK(input.size() == rank, label(), ": ", pads_.size(), " pad counts for an input of shape ",
            shape_str(input));
  Shape out = input;
  for (size_t d = 0; d < rank; ++d) {
    out[d] += pads_[d] + pads_[rank + d];
    if (mode_ == PadMode::reflect) {
      BDL_CHECK(pads_[d] < input[d] && pads_[rank + d] < input[d], label(), ": reflect padding of ",
                pads_[d], " and ", pads_[rank + d], " needs more than ", input[d],
                " elements along dimension ", d);
    }
    if (mode_ != PadMode::constant && out[d] > input[d]) {
      BDL_CHECK(input[d] > 0, label(), ": cannot ", pad_mode_name(mode_),
                "-pad an empty dimension ", d);
    }
  }
  return out;
}

int64_t Pad::source(int64_t i, int64_t before, int64_t n) const {
  int64_t j = i - before;
  if (j >= 0 && j < n) return j;
  switch (mode_) {
    case PadMode::constant:
      return -1;
    case PadMode::edge:
      return j < 0 ? 0 : n - 1;
    case PadMode::reflect:
      if (n == 1) return 0;
      while (j < 0 || j >= n) j = j < 0 ? -j : 2 * (n - 1) - j;
      return j;
  }
  return -1;
}

std::vector<std::vector<int64_t>> Pad::index_maps(const Shape& out, const Shape& in) const {
  std::vector<std::vector<int64_t>> maps(out.size());
  for (size_t d = 0; d < out.size(); ++d) {
    for (int64_t i = 0; i < out[d]; ++i) maps[d].push_back(source(i, pads_[d], in[d]));
  }
  return maps;
}

namespace {

// Visits every output row of a padded tensor with the source offsets of its
// elements (-1 for a padding value): visit(out_row, map_of_last_dim, base)
// where the source of element i is base + map[i], or padding when base < 0 or
// map[i] < 0.
template <typename Visit>
void for_each_padded_row(const Shape& out, const std::vector<std::vector<int64_t>>& maps,
                         const Shape& in_strides, Visit&& visit) {
  const size_t rank = out.size();
  if (shape_numel(out) == 0) return;
  if (rank == 0) {
    visit(int64_t{0}, maps.empty() ? std::vector<int64_t>{0} : maps.back(), int64_t{0});
    return;
  }
  const int64_t rows = shape_numel(out) / out.back();
  std::vector<int64_t> index(rank, 0);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t base = 0;
    for (size_t d = 0; d + 1 < rank && base >= 0; ++d) {
      const int64_t s = maps[d][static_cast<size_t>(index[d])];
      base = s < 0 ? -1 : base + s * in_strides[d];
    }
    visit(r * out.back(), maps[rank - 1], base);
    for (size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < out[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace

const Tensor& Pad::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_);
  const Shape out = output_shape(x.shape());
  // The output first: its allocation is what a size check (a loader's budget)
  // sees, before per-dimension index maps as long as the output's sides.
  output_.resize(out);
  if (output_.numel() == 0) return output_;
  const auto maps = index_maps(out, x.shape());
  const float* px = x.f32();
  float* py = output_.f32();
  const Shape in_strides = contiguous_strides(x.shape());
  for_each_padded_row(out, maps, in_strides,
                      [&](int64_t row, const std::vector<int64_t>& map, int64_t base) {
                        float* y = py + row;
                        for (size_t i = 0; i < map.size(); ++i) {
                          y[i] = base < 0 || map[i] < 0 ? value_ : px[base + map[i]];
                        }
                      });
  return output_;
}

const Tensor& Pad::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (!needs_input_grad_) return grad_input_;
  const Tensor& g = dense(grad_output, dense_grad_);
  const Shape& out = g.shape();
  grad_input_.resize(input.shape());
  grad_input_.zero();
  if (g.numel() == 0) return grad_input_;
  const auto maps = index_maps(out, input.shape());
  const float* pg = g.f32();
  float* pd = grad_input_.f32();
  for_each_padded_row(out, maps, contiguous_strides(input.shape()),
                      [&](int64_t row, const std::vector<int64_t>& map, int64_t base) {
                        if (base < 0) return;
                        for (size_t i = 0; i < map.size(); ++i) {
                          if (map[i] >= 0) pd[base + map[i]] += pg[row + static_cast<int64_t>(i)];
                        }
                      });
  return grad_input_;
}

void Pad::attributes(Attributes& out) const {
  out.set("pads", pads_);
  out.set("mode", pad_mode_name(mode_));
  out.set("value", value_);
}
std::unique_ptr<Module> Pad::create(const Attributes& a) {
  const std::string& m = a.text("mode");
  PadMode mode = PadMode::constant;
  if (m == "reflect") {
    mode = PadMode::reflect;
  } else if (m == "edge") {
    mode = PadMode::edge;
  } else {
    BDL_CHECK(m == "constant", a.owner(), ": unknown pad mode '", m, "'");
  }
  return std::make_unique<Pad>(a.integers("pads"), mode, static_cast<float>(a.real("value", 0)));
}

// Gather.

Gather::Gather(int64_t axis, std::vector<int64_t> indices, Shape indices_shape)
    : axis_(axis), indices_(std::move(indices)), indices_shape_(std::move(indices_shape)) {
  BDL_CHECK(shape_numel(indices_shape_) == static_cast<int64_t>(indices_.size()),
            "Gather: ", indices_.size(), " indices for an index shape ", shape_str(indices_shape_));
}

std::string Gather::describe() const {
  return "Gather(axis " + std::to_string(axis_) + ", indices " + shape_str(indices_shape_) + ")";
}

int64_t Gather::axis(size_t rank) const { return normalize_axis(axis_, rank, label()); }

Shape Gather::output_shape(const Shape& input) const {
  const auto a = static_cast<size_t>(axis(input.size()));
  for (int64_t i : indices_) {
    BDL_CHECK(i >= -input[a] && i < input[a], label(), ": index ", i, " is out of range for ",
              input[a], " entries along axis ", a, " of ", shape_str(input));
  }
  Shape out(input.begin(), input.begin() + static_cast<int64_t>(a));
  out.insert(out.end(), indices_shape_.begin(), indices_shape_.end());
  out.insert(out.end(), input.begin() + static_cast<int64_t>(a) + 1, input.end());
  return out;
}

const Tensor& Gather::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_);
  output_.resize(output_shape(x.shape()));
  const auto a = static_cast<size_t>(axis(x.shape().size()));
  const int64_t n = x.shape()[a];
  const int64_t outer = shape_numel(std::span(x.shape()).first(a));
  const int64_t inner = shape_numel(std::span(x.shape()).subspan(a + 1));
  const auto count = static_cast<int64_t>(indices_.size());
  if (output_.numel() == 0) return output_;
  const float* px = x.f32();
  float* py = output_.f32();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < count; ++j) {
      const int64_t i = indices_[static_cast<size_t>(j)];
      std::memcpy(py + (o * count + j) * inner, px + (o * n + (i < 0 ? i + n : i)) * inner,
                  static_cast<size_t>(inner) * sizeof(float));
    }
  }
  return output_;
}

const Tensor& Gather::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (!needs_input_grad_) return grad_input_;
  const Tensor& g = dense(grad_output, dense_grad_);
  grad_input_.resize(input.shape());
  grad_input_.zero();
  const auto a = static_cast<size_t>(axis(input.shape().size()));
  const int64_t n = input.shape()[a];
  const int64_t outer = shape_numel(std::span(input.shape()).first(a));
  const int64_t inner = shape_numel(std::span(input.shape()).subspan(a + 1));
  const auto count = static_cast<int64_t>(indices_.size());
  const float* pg = g.f32();
  float* pd = grad_input_.f32();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < count; ++j) {
      const int64_t i = indices_[static_cast<size_t>(j)];
      float* d = pd + (o * n + (i < 0 ? i + n : i)) * inner;
      const float* s = pg + (o * count + j) * inner;
      for (int64_t k = 0; k < inner; ++k) d[k] += s[k];
    }
  }
  return grad_input_;
}

void Gather::attributes(Attributes& out) const {
  out.set("axis", axis_);
  out.set("indices", indices_);
  out.set("indices_shape", indices_shape_);
}
std::unique_ptr<Module> Gather::create(const Attributes& a) {
  Shape shape = a.integers("indices_shape");
  for (int64_t s : shape) BDL_CHECK(s >= 0, a.owner(), ": indices_shape has size ", s);
  return std::make_unique<Gather>(a.integer("axis"), a.integers("indices"), std::move(shape));
}

// Reduce.

Reduce::Reduce(ReduceOp op, std::vector<int64_t> axes, bool keep_dims)
    : op_(op), axes_(std::move(axes)), keep_dims_(keep_dims) {}

namespace {
const char* reduce_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return "sum";
    case ReduceOp::mean:
      return "mean";
    case ReduceOp::max:
      return "max";
    case ReduceOp::min:
      return "min";
  }
  return "?";
}
}  // namespace

std::string Reduce::describe() const {
  return std::string("Reduce(") + reduce_name(op_) + ", axes " +
         (axes_.empty() ? std::string("all") : list_str(axes_)) +
         (keep_dims_ ? ", keep dims)" : ")");
}

Shape Reduce::kept_shape(const Shape& input) const {
  Shape kept = input;
  if (axes_.empty()) {
    std::fill(kept.begin(), kept.end(), 1);
    return kept;
  }
  for (int64_t a : axes_) kept[static_cast<size_t>(normalize_axis(a, input.size(), label()))] = 1;
  return kept;
}

Shape Reduce::output_shape(const Shape& input) const {
  const Shape kept = kept_shape(input);
  if (keep_dims_) return kept;
  Shape out;
  std::vector<bool> reduced(input.size(), axes_.empty());
  for (int64_t a : axes_)
    reduced[static_cast<size_t>(normalize_axis(a, input.size(), label()))] = true;
  for (size_t d = 0; d < input.size(); ++d) {
    if (!reduced[d]) out.push_back(input[d]);
  }
  return out;
}

const Tensor& Reduce::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_);
  const Shape kept = kept_shape(x.shape());
  output_.resize(output_shape(x.shape()));
  const Shape src = contiguous_strides(x.shape());
  const Shape dst = broadcast_strides(kept, x.shape());
  if (op_ == ReduceOp::max || op_ == ReduceOp::min) {
    BDL_CHECK(x.numel() > 0 || output_.numel() == 0, label(), ": ", reduce_name(op_),
              " over an empty dimension of ", x.shape_str());
    const bool max = op_ == ReduceOp::max;
    output_.fill(max ? -INFINITY : INFINITY);
    const float* px = x.f32();
    float* py = output_.f32();
    for_each_row<2>(
        x.shape(), {&src, &dst}, {0, 0},
        [&](const std::array<int64_t, 2>& o, int64_t n, const std::array<int64_t, 2>& s) {
          for (int64_t i = 0; i < n; ++i) {
            const float v = px[o[0] + i * s[0]];
            float& y = py[o[1] + i * s[1]];
            if (max ? v > y || std::isnan(v) : v < y || std::isnan(v)) y = v;
          }
        });
    return output_;
  }
  output_.zero();
  strided_copy(x.shape(), x.f32(), src, output_.f32(), dst, /*accumulate=*/true);
  if (op_ == ReduceOp::mean && output_.numel() > 0) {
    const float scale = static_cast<float>(output_.numel()) / static_cast<float>(x.numel());
    for (float& v : output_.span_f32()) v *= scale;
  }
  return output_;
}

const Tensor& Reduce::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (!needs_input_grad_) return grad_input_;
  const Tensor& g = dense(grad_output, dense_grad_);
  const Shape kept = kept_shape(input.shape());
  grad_input_.resize(input.shape());
  strided_copy(input.shape(), g.f32(), broadcast_strides(kept, input.shape()), grad_input_.f32(),
               contiguous_strides(input.shape()));
  if (op_ == ReduceOp::max || op_ == ReduceOp::min) {
    // Zero where the element is not the extremum.
    const Tensor& x = dense(input, dense_);
    const Shape src = contiguous_strides(input.shape());
    const Shape dst = broadcast_strides(kept, input.shape());
    const float* px = x.f32();
    const float* py = output_.f32();
    float* pd = grad_input_.f32();
    for_each_row<2>(
        input.shape(), {&src, &dst}, {0, 0},
        [&](const std::array<int64_t, 2>& o, int64_t n, const std::array<int64_t, 2>& s) {
          for (int64_t i = 0; i < n; ++i) {
            if (px[o[0] + i * s[0]] != py[o[1] + i * s[1]]) pd[o[0] + i * s[0]] = 0.f;
          }
        });
  }
  if (op_ == ReduceOp::mean && input.numel() > 0) {
    const float scale = static_cast<float>(g.numel()) / static_cast<float>(input.numel());
    for (float& v : grad_input_.span_f32()) v *= scale;
  }
  return grad_input_;
}

void Reduce::attributes(Attributes& out) const {
  out.set("op", reduce_name(op_));
  out.set("axes", axes_);
  out.set("keep_dims", keep_dims_);
}
std::unique_ptr<Module> Reduce::create(const Attributes& a) {
  const std::string& name = a.text("op");
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean, ReduceOp::max, ReduceOp::min}) {
    if (name == reduce_name(op)) {
      return std::make_unique<Reduce>(op, a.integers("axes"), a.flag("keep_dims", true));
    }
  }
  fail(a.owner(), ": unknown reduction '", name, "' (sum, mean, max, min)");
}

}  // namespace bdl::nn
