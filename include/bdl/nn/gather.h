#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bdl/nn/layer.h"

namespace bdl::nn {

// Picks entries along one axis by fixed indices (ONNX Gather with constant
// indices; negative ones count from the end): the output shape is the input's
// with that axis replaced by the indices' shape.
struct GatherOptions {
  int64_t axis = 0;
  std::vector<int64_t> indices = {};
  Shape indices_shape = {};
  static void fields(auto& o, auto& field) {
    field("axis", o.axis);
    field("indices", o.indices);
    field("indices_shape", o.indices_shape);
  }
};

class Gather : public Layer<Gather> {
 public:
  static constexpr std::string_view kType = "Gather";
  explicit Gather(GatherOptions o)
      : Gather(o.axis, std::move(o.indices), std::move(o.indices_shape)) {}
  Gather(int64_t axis, std::vector<int64_t> indices, Shape indices_shape);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  GatherOptions options() const { return {axis_, indices_, indices_shape_}; }

 private:
  int64_t axis(size_t rank) const;
  int64_t axis_;
  std::vector<int64_t> indices_;
  Shape indices_shape_;
  Tensor dense_, dense_grad_;
};

}  // namespace bdl::nn
