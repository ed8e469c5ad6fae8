#include "bdl/nn/expand.h"

#include <cstring>

#include "nn/dense.h"

namespace bdl::nn {

ExpandToBatch::ExpandToBatch(ExpandToBatchOptions options) : options_(std::move(options)) {
  const Shape& s = options_.value_shape;
  BDL_CHECK(options_.axis >= 0 && options_.axis < static_cast<int64_t>(s.size()),
            "ExpandToBatch: axis ", options_.axis, " is out of range for value_shape ",
            shape_str(s));
  BDL_CHECK(s[static_cast<size_t>(options_.axis)] == 1, "ExpandToBatch: value_shape ", shape_str(s),
            " has size ", s[static_cast<size_t>(options_.axis)], " along axis ", options_.axis,
            ", expected 1");
  for (int64_t d : s) BDL_CHECK(d >= 0, "ExpandToBatch: value_shape ", shape_str(s));
  BDL_CHECK(options_.input_axis >= 0, "ExpandToBatch: input_axis ", options_.input_axis);
  value_ = Tensor(s);
  if (options_.trainable) grad_value_ = Tensor(s);
}

void ExpandToBatch::own_parameters(std::vector<Parameter>& out) {
  if (options_.trainable) out.push_back({"value", &value_, &grad_value_});
}

void ExpandToBatch::own_buffers(std::vector<Buffer>& out) {
  if (!options_.trainable) out.push_back({"value", &value_});
}

Shape ExpandToBatch::output_shape(const Shape& input) const {
  BDL_CHECK(options_.input_axis < static_cast<int64_t>(input.size()), label(), ": input ",
            shape_str(input), " has no axis ", options_.input_axis);
  Shape out = options_.value_shape;
  out[static_cast<size_t>(options_.axis)] = input[static_cast<size_t>(options_.input_axis)];
  return out;
}

const Tensor& ExpandToBatch::forward(const Tensor& input) {
  output_.resize(output_shape(input.shape()));
  const auto a = static_cast<size_t>(options_.axis);
  const int64_t outer = shape_numel(std::span(options_.value_shape).first(a));
  const int64_t inner = shape_numel(std::span(options_.value_shape).subspan(a + 1));
  const int64_t n = output_.shape()[a];
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(output_.f32() + (o * n + i) * inner, value_.f32() + o * inner,
                  static_cast<size_t>(inner) * sizeof(float));
    }
  }
  return output_;
}

const Tensor& ExpandToBatch::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (options_.trainable) {
    const Tensor& g = dense(grad_output, dense_grad_);
    const auto a = static_cast<size_t>(options_.axis);
    const int64_t outer = shape_numel(std::span(options_.value_shape).first(a));
    const int64_t inner = shape_numel(std::span(options_.value_shape).subspan(a + 1));
    const int64_t n = output_.shape()[a];
    for (int64_t o = 0; o < outer; ++o) {
      float* d = grad_value_.f32() + o * inner;
      for (int64_t i = 0; i < n; ++i) {
        const float* s = g.f32() + (o * n + i) * inner;
        for (int64_t k = 0; k < inner; ++k) d[k] += s[k];
      }
    }
  }
  if (needs_input_grad_) {
    grad_input_.resize(input.shape());
    grad_input_.zero();  // the input gives only its batch size
  }
  return grad_input_;
}

const RegisterLayers<ExpandToBatch> kRegistered;

}  // namespace bdl::nn
