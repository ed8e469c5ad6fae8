#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bdl/nn/layer.h"

namespace bdl::nn {

// Elements start, start+step, ... before end along each listed axis, with
// Python's rules for negative and out-of-range bounds (ONNX Slice). Steps may be
// negative; the gradient scatters back and is zero elsewhere.
struct SliceOptions {
  std::vector<int64_t> axes = {}, starts = {}, ends = {}, steps = {};
  static void fields(auto& o, auto& field) {
    field("axes", o.axes);
    field("starts", o.starts);
    field("ends", o.ends);
    field("steps", o.steps);
  }
};

class Slice : public Layer<Slice> {
 public:
  static constexpr std::string_view kType = "Slice";
  explicit Slice(SliceOptions o)
      : Slice(std::move(o.axes), std::move(o.starts), std::move(o.ends), std::move(o.steps)) {}
  Slice(std::vector<int64_t> axes, std::vector<int64_t> starts, std::vector<int64_t> ends,
        std::vector<int64_t> steps);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override;
  SliceOptions options() const { return {axes_, starts_, ends_, steps_}; }

 private:
  // Per input dimension: first element, step and count; and the slice as a
  // strided view of the contiguous input (its strides and element offset).
  struct Extent {
    Shape start, step, count;
    Shape strides;
    int64_t offset = 0;
  };
  Extent extent(const Shape& input) const;
  std::vector<int64_t> axes_, starts_, ends_, steps_;
  Tensor dense_, dense_grad_;
};

}  // namespace bdl::nn
