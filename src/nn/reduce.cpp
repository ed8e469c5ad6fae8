#include "bdl/nn/reduce.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "nn/dense.h"
#include "nn/strided.h"

namespace bdl::nn {

Reduce::Reduce(ReduceOp op, std::vector<int64_t> axes, bool keep_dims)
    : op_(op), axes_(std::move(axes)), keep_dims_(keep_dims) {}

std::string Reduce::describe() const {
  return std::string("Reduce(") + std::string(fields::enum_name(op_)) + ", axes " +
         (axes_.empty() ? std::string("all") : shape_str(axes_)) +
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
  Shape kept = kept_shape(input);
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
    BDL_CHECK(x.numel() > 0 || output_.numel() == 0, label(), ": ",
              std::string(fields::enum_name(op_)), " over an empty dimension of ", x.shape_str());
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

const RegisterLayers<Reduce> kRegistered;

}  // namespace bdl::nn
