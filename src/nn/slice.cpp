#include "bdl/nn/slice.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "nn/dense.h"
#include "nn/strided.h"

namespace bdl::nn {

Slice::Slice(std::vector<int64_t> axes, std::vector<int64_t> starts, std::vector<int64_t> ends,
             std::vector<int64_t> steps)
    : axes_(std::move(axes)),
      starts_(std::move(starts)),
      ends_(std::move(ends)),
      steps_(std::move(steps)) {
  if (steps_.empty()) steps_.assign(axes_.size(), 1);
  BDL_CHECK(starts_.size() == axes_.size() && ends_.size() == axes_.size() &&
                steps_.size() == axes_.size(),
            "Slice: axes ", shape_str(axes_), ", starts ", shape_str(starts_), ", ends ",
            shape_str(ends_), " and steps ", shape_str(steps_), " differ in length");
  for (int64_t s : steps_) {
    BDL_CHECK(s != 0 && s != INT64_MIN, "Slice: step ", s, " is not allowed");
  }
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

const RegisterLayers<Slice> kRegistered;

}  // namespace bdl::nn
