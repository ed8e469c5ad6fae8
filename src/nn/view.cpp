#include "bdl/nn/view.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "nn/dense.h"
#include "nn/strided.h"

namespace bdl::nn {

View::View(Shape shape) : shape_(std::move(shape)) {
  int unknown = 0;
  for (int64_t s : shape_) {
    BDL_CHECK(s >= 0 || s == -1, "View: bad size ", s, " in ", shape_str(shape_));
    unknown += s == -1;
  }
  BDL_CHECK(unknown <= 1, "View: more than one -1 in ", shape_str(shape_));
}

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

const RegisterLayers<View> kRegistered;

}  // namespace bdl::nn
