#include "bdl/nn/transpose.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "nn/dense.h"
#include "nn/strided.h"

namespace bdl::nn {

Transpose::Transpose(std::vector<int64_t> perm) : perm_(std::move(perm)) {
  std::vector<int64_t> sorted = perm_;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    BDL_CHECK(sorted[i] == static_cast<int64_t>(i), "Transpose: ", shape_str(perm_),
              " is not a permutation of 0..", perm_.size() - 1);
  }
}

Shape Transpose::output_shape(const Shape& input) const {
  BDL_CHECK(input.size() == perm_.size(), label(), ": permutation ", shape_str(perm_),
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

const RegisterLayers<Transpose> kRegistered;

}  // namespace bdl::nn
