#include "bdl/nn/reshape.h"

namespace bdl::nn {

ReshapeBase::ReshapeBase(Shape sample_shape) : sample_shape_(std::move(sample_shape)) {
  int unknown = 0;
  for (int64_t s : sample_shape_) {
    BDL_CHECK(s > 0 || s == -1, "Reshape: bad size ", s, " in ", shape_str(sample_shape_));
    unknown += s == -1;
  }
  BDL_CHECK(unknown <= 1, "Reshape: more than one -1 in ", shape_str(sample_shape_));
}

Shape ReshapeBase::output_shape(const Shape& input) const {
  BDL_CHECK(!input.empty(), label(), ": input is a scalar");
  const int64_t per_sample = input[0] == 0 ? 0 : shape_numel(input) / input[0];
  Shape out{input[0]};
  Shape known_sizes;
  int64_t infer = -1;
  for (int64_t s : sample_shape_) {
    if (s == -1) {
      infer = static_cast<int64_t>(out.size());
      out.push_back(1);
    } else {
      known_sizes.push_back(s);
      out.push_back(s);
    }
  }
  const int64_t known = shape_numel(known_sizes);  // checked against overflow
  if (infer >= 0) {
    BDL_CHECK(known > 0 && per_sample % known == 0, label(), ": cannot reshape samples of shape ",
              shape_str(std::span(input).subspan(1)), " to ", shape_str(sample_shape_));
    out[infer] = per_sample / known;
  }
  BDL_CHECK(shape_numel(out) == shape_numel(input), label(), ": cannot reshape samples of shape ",
            shape_str(std::span(input).subspan(1)), " to ", shape_str(sample_shape_));
  return out;
}

const Tensor& ReshapeBase::forward(const Tensor& input) {
  const Shape shape = output_shape(input.shape());
  if (input.is_contiguous()) {
    output_ = input.view(shape);
    return output_;
  }
  // Blocked or strided input: one plain copy into a buffer kept across iterations.
  dense_.resize(input.shape());
  dense_.copy_from(input);
  output_ = dense_.view(shape);
  return output_;
}

const Tensor& ReshapeBase::backward(const Tensor& input, const Tensor& grad_output) {
  BDL_CHECK(grad_output.numel() == input.numel(), label(), ": grad_output of shape ",
            grad_output.shape_str(), " does not match input ", input.shape_str());
  if (!needs_input_grad_) return grad_input_;
  if (grad_output.is_contiguous()) {
    grad_input_ = grad_output.view(input.shape());
  } else {
    dense_grad_.resize(grad_output.shape());
    dense_grad_.copy_from(grad_output);
    grad_input_ = dense_grad_.view(input.shape());
  }
  return grad_input_;
}

const RegisterLayers<Reshape, Flatten> kRegistered;

}  // namespace bdl::nn
