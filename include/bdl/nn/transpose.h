#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bdl/nn/layer.h"

namespace bdl::nn {

// Permutes the dimensions: output dimension i is input dimension perm[i], as
// torch.permute and ONNX Transpose.
struct TransposeOptions {
  std::vector<int64_t> perm = {};
  static void fields(auto& o, auto& field) { field("perm", o.perm); }
};

class Transpose : public Layer<Transpose> {
 public:
  static constexpr std::string_view kType = "Transpose";
  explicit Transpose(TransposeOptions options) : Transpose(std::move(options.perm)) {}
  explicit Transpose(std::vector<int64_t> perm);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override;
  TransposeOptions options() const { return {perm_}; }

 private:
  // The input's contiguous strides in output order: output index i steps
  // through input dimension perm[i].
  Shape permuted_strides(const Shape& input) const;
  std::vector<int64_t> perm_;
  Tensor dense_, dense_grad_;
};

}  // namespace bdl::nn
