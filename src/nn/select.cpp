#include "bdl/nn/select.h"

#include <cmath>

#include "nn/dense.h"
#include "nn/strided.h"

namespace bdl::nn {

// ---- Where ----

Where::Where(const WhereOptions& o) {
  const std::optional<Shape>* shapes[3] = {&o.condition_shape, &o.x_shape, &o.y_shape};
  for (size_t k = 0; k < 3; ++k) {
    if (!*shapes[k]) continue;
    for (int64_t s : **shapes[k]) BDL_CHECK(s >= 0, "Where: operand shape has size ", s);
    owned_[k] = Tensor(**shapes[k]);
    owned_[k].zero();
  }
  BDL_CHECK(arity() > 0, "Where: owns all three operands; at least one must be an input");
  grad_inputs_.resize(arity());
}

size_t Where::arity() const {
  size_t n = 0;
  for (const Tensor& t : owned_) n += t.defined() ? 0 : 1;
  return n;
}

WhereOptions Where::options() const {
  WhereOptions o;
  std::optional<Shape>* shapes[3] = {&o.condition_shape, &o.x_shape, &o.y_shape};
  for (size_t k = 0; k < 3; ++k) {
    if (owned_[k].defined()) *shapes[k] = owned_[k].shape();
  }
  return o;
}

std::string Where::describe() const {
  static constexpr const char* kNames[3] = {"condition", "x", "y"};
  std::string s = "Where(";
  for (size_t k = 0; k < 3; ++k) {
    if (!owned_[k].defined()) continue;
    if (s.back() != '(') s += ", ";
    s += std::string("fixed ") + kNames[k] + " " + owned_[k].shape_str();
  }
  return s + ")";
}

void Where::own_buffers(std::vector<Buffer>& out) {
  static constexpr const char* kNames[3] = {"condition", "x", "y"};
  for (size_t k = 0; k < 3; ++k) {
    if (owned_[k].defined()) out.push_back({kNames[k], &owned_[k]});
  }
}

Shape Where::output_shape_many(std::span<const Shape> inputs) const {
  BDL_CHECK(inputs.size() == arity(), label(), ": takes ", arity(), " input(s), given ",
            inputs.size());
  Shape out;
  size_t next = 0;
  for (size_t k = 0; k < 3; ++k) {
    const Shape& s = owned_[k].defined() ? owned_[k].shape() : inputs[next++];
    out = k == 0 ? s : broadcast_shapes(out, s, label());
  }
  return out;
}

std::array<const Tensor*, 3> Where::operands(Inputs inputs) {
  std::array<const Tensor*, 3> ops{};
  size_t next = 0;
  for (size_t k = 0; k < 3; ++k) {
    ops[k] = owned_[k].defined() ? &owned_[k] : &dense(*inputs[next++], dense_[k]);
  }
  return ops;
}

const Tensor& Where::forward_many(Inputs inputs) {
  std::vector<Shape> shapes;
  for (const Tensor* t : inputs) shapes.push_back(t->shape());
  output_.resize(output_shape_many(shapes));
  const auto ops = operands(inputs);
  const Shape sc = broadcast_strides(ops[0]->shape(), output_.shape());
  const Shape sx = broadcast_strides(ops[1]->shape(), output_.shape());
  const Shape sy = broadcast_strides(ops[2]->shape(), output_.shape());
  const Shape so = contiguous_strides(output_.shape());
  const float* pc = ops[0]->f32();
  const float* px = ops[1]->f32();
  const float* py = ops[2]->f32();
  float* po = output_.f32();
  for_each_row<4>(output_.shape(), {&sc, &sx, &sy, &so}, {0, 0, 0, 0},
                  [&](const std::array<int64_t, 4>& o, int64_t n, const std::array<int64_t, 4>& s) {
                    for (int64_t i = 0; i < n; ++i) {
                      po[o[3] + i * s[3]] =
                          pc[o[0] + i * s[0]] != 0.f ? px[o[1] + i * s[1]] : py[o[2] + i * s[2]];
                    }
                  });
  return output_;
}

const std::vector<Tensor>& Where::backward_many(Inputs inputs, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (!needs_input_grad_) return grad_inputs_;
  const Tensor& g = dense(grad_output, dense_grad_);
  const auto ops = operands(inputs);
  const Shape sc = broadcast_strides(ops[0]->shape(), output_.shape());
  const Shape so = contiguous_strides(output_.shape());
  const float* pc = ops[0]->f32();
  const float* pg = g.f32();
  size_t next = 0;
  for (size_t k = 0; k < 3; ++k) {
    if (owned_[k].defined()) continue;
    Tensor& d = grad_inputs_[next++];
    d.resize(ops[k]->shape());
    d.zero();
    if (k == 0) continue;  // the condition has no gradient
    const Shape sd = broadcast_strides(ops[k]->shape(), output_.shape());
    float* pd = d.f32();
    const bool when = k == 1;
    for_each_row<3>(
        output_.shape(), {&sc, &so, &sd}, {0, 0, 0},
        [&](const std::array<int64_t, 3>& o, int64_t n, const std::array<int64_t, 3>& s) {
          for (int64_t i = 0; i < n; ++i) {
            if ((pc[o[0] + i * s[0]] != 0.f) == when) pd[o[2] + i * s[2]] += pg[o[1] + i * s[1]];
          }
        });
  }
  return grad_inputs_;
}

// ---- Trilu ----

Shape Trilu::output_shape(const Shape& input) const {
  BDL_CHECK(input.size() >= 2, label(), ": input ", shape_str(input),
            " has no last two dimensions to take a triangle of");
  return input;
}

void Trilu::mask(const Tensor& from, Tensor& to) const {
  const Shape& shape = from.shape();
  const int64_t rows = shape[shape.size() - 2];
  const int64_t cols = shape.back();
  const int64_t matrices = rows * cols == 0 ? 0 : from.numel() / (rows * cols);
  const float* p = from.f32();
  float* q = to.f32();
  for (int64_t m = 0; m < matrices; ++m) {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        const int64_t i = (m * rows + r) * cols + c;
        q[i] = kept(r, c) ? p[i] : 0.f;
      }
    }
  }
}

const Tensor& Trilu::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_);
  output_.resize(output_shape(x.shape()));
  mask(x, output_);
  return output_;
}

const Tensor& Trilu::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (!needs_input_grad_) return grad_input_;
  grad_input_.resize(input.shape());
  mask(dense(grad_output, dense_grad_), grad_input_);
  return grad_input_;
}

// ---- GatherElements ----

GatherElements::GatherElements(GatherElementsOptions o) : options_(std::move(o)) {
  for (int64_t s : options_.indices_shape) {
    BDL_CHECK(s >= 0, "GatherElements: indices_shape has size ", s);
  }
  BDL_CHECK(!options_.indices_shape.empty(), "GatherElements: the indices have no dimensions");
  BDL_CHECK(shape_numel(options_.indices_shape) == static_cast<int64_t>(options_.indices.size()),
            "GatherElements: ", options_.indices.size(), " indices for an index shape ",
            shape_str(options_.indices_shape));
}

std::string GatherElements::describe() const {
  return "GatherElements(axis " + std::to_string(options_.axis) + ", indices " +
         shape_str(options_.indices_shape) + ")";
}

Shape GatherElements::output_shape(const Shape& input) const {
  const Shape& is = options_.indices_shape;
  BDL_CHECK(input.size() == is.size(), label(), ": input ", shape_str(input), " and indices ",
            shape_str(is), " differ in rank");
  const auto a = static_cast<size_t>(normalize_axis(options_.axis, input.size(), label()));
  for (size_t d = 0; d < input.size(); ++d) {
    BDL_CHECK(d == a || is[d] <= input[d], label(), ": indices ", shape_str(is), " exceed input ",
              shape_str(input), " along axis ", d);
  }
  for (int64_t i : options_.indices) {
    BDL_CHECK(i >= -input[a] && i < input[a], label(), ": index ", i, " is out of range for ",
              input[a], " entries along axis ", a, " of ", shape_str(input));
  }
  return is;
}

template <typename F>
void GatherElements::visit(const Shape& input, F f) const {
  const Shape& is = options_.indices_shape;
  const auto a = static_cast<size_t>(normalize_axis(options_.axis, input.size(), label()));
  const Shape in_strides = contiguous_strides(input);
  const int64_t n = input[a];
  std::vector<int64_t> index(is.size(), 0);
  const auto total = static_cast<int64_t>(options_.indices.size());
  for (int64_t o = 0; o < total; ++o) {
    int64_t offset = 0;
    for (size_t d = 0; d < is.size(); ++d) {
      int64_t at = index[d];
      if (d == a) {
        at = options_.indices[static_cast<size_t>(o)];
        if (at < 0) at += n;
      }
      offset += at * in_strides[d];
    }
    f(o, offset);
    for (size_t d = is.size(); d-- > 0;) {
      if (++index[d] < is[d]) break;
      index[d] = 0;
    }
  }
}

const Tensor& GatherElements::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_);
  output_.resize(output_shape(x.shape()));
  const float* px = x.f32();
  float* py = output_.f32();
  visit(x.shape(), [&](int64_t o, int64_t i) { py[o] = px[i]; });
  return output_;
}

const Tensor& GatherElements::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (!needs_input_grad_) return grad_input_;
  const Tensor& g = dense(grad_output, dense_grad_);
  grad_input_.resize(input.shape());
  grad_input_.zero();
  const float* pg = g.f32();
  float* pd = grad_input_.f32();
  visit(input.shape(), [&](int64_t o, int64_t i) { pd[i] += pg[o]; });
  return grad_input_;
}

// ---- ArgReduce ----

Shape ArgReduce::output_shape(const Shape& input) const {
  const auto a = static_cast<size_t>(normalize_axis(options_.axis, input.size(), label()));
  BDL_CHECK(input[a] > 0, label(), ": axis ", a, " of ", shape_str(input), " is empty");
  Shape out = input;
  if (options_.keep_dims) {
    out[a] = 1;
  } else {
    out.erase(out.begin() + static_cast<int64_t>(a));
  }
  return out;
}

const Tensor& ArgReduce::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_);
  output_.resize(output_shape(x.shape()));
  const auto a = static_cast<size_t>(normalize_axis(options_.axis, x.shape().size(), label()));
  const int64_t n = x.shape()[a];
  const int64_t outer = shape_numel(std::span(x.shape()).first(a));
  const int64_t inner = shape_numel(std::span(x.shape()).subspan(a + 1));
  const bool max = options_.op == ArgOp::max;
  const float* px = x.f32();
  float* py = output_.f32();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k = 0; k < inner; ++k) {
      const float* row = px + o * n * inner + k;
      int64_t best = 0;
      for (int64_t i = 1; i < n; ++i) {
        const float v = row[i * inner];
        const float b = row[best * inner];
        // NaN wins as the extremum, as in torch.argmax.
        const bool better = std::isnan(b)          ? false
                            : std::isnan(v)        ? true
                            : options_.select_last ? (max ? v >= b : v <= b)
                                                   : (max ? v > b : v < b);
        if (better) best = i;
      }
      py[o * inner + k] = static_cast<float>(best);
    }
  }
  return output_;
}

const Tensor& ArgReduce::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (!needs_input_grad_) return grad_input_;
  grad_input_.resize(input.shape());
  grad_input_.zero();
  return grad_input_;
}

const RegisterLayers<Where, Trilu, GatherElements, ArgReduce> kRegistered;

}  // namespace bdl::nn
