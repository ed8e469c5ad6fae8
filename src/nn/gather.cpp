#include "bdl/nn/gather.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "nn/dense.h"
#include "nn/strided.h"

namespace bdl::nn {

Gather::Gather(int64_t axis, std::vector<int64_t> indices, Shape indices_shape)
    : axis_(axis), indices_(std::move(indices)), indices_shape_(std::move(indices_shape)) {
  for (int64_t s : indices_shape_) BDL_CHECK(s >= 0, "Gather: indices_shape has size ", s);
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

const RegisterLayers<Gather> kRegistered;

}  // namespace bdl::nn
