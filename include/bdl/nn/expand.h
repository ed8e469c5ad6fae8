#pragma once

#include <string>

#include "bdl/nn/layer.h"

namespace bdl::nn {

// A tensor the layer owns, repeated along one axis to the batch size of its
// input (torch's class_token.expand(n, -1, -1) in a vision transformer): the
// input only gives the size of its dimension input_axis. The owned tensor is a
// trainable parameter unless fixed; its gradient sums over the repeats.
struct ExpandToBatchOptions {
  Shape value_shape = {};  // size 1 along axis
  int64_t axis = 0;        // of the output, where the batch goes
  int64_t input_axis = 0;  // the input's batch dimension
  bool trainable = true;
  static void fields(auto& o, auto& field) {
    field("value_shape", o.value_shape);
    field("axis", o.axis);
    field("input_axis", o.input_axis);
    field("trainable", o.trainable);
  }
};

class ExpandToBatch : public Layer<ExpandToBatch> {
 public:
  static constexpr std::string_view kType = "ExpandToBatch";
  explicit ExpandToBatch(ExpandToBatchOptions options);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override;
  void own_parameters(std::vector<Parameter>& out) override;
  void own_buffers(std::vector<Buffer>& out) override;
  const ExpandToBatchOptions& options() const { return options_; }
  Tensor& value() { return value_; }

 private:
  ExpandToBatchOptions options_;
  Tensor value_, grad_value_;
  Tensor dense_grad_;
};

}  // namespace bdl::nn
