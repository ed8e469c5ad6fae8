#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bdl/nn/layer.h"

namespace bdl::nn {

// Views the whole input, batch dimension included, as a fixed shape (Reshape
// keeps the batch dimension; this is for graphs that reshape across it).
struct ViewOptions {
  Shape shape = {};  // batch dimension included; one entry may be -1
  static void fields(auto& o, auto& field) { field("shape", o.shape); }
};

class View : public Layer<View> {
 public:
  static constexpr std::string_view kType = "View";
  explicit View(ViewOptions options) : View(std::move(options.shape)) {}
  explicit View(Shape shape);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override;
  ViewOptions options() const { return {shape_}; }

 private:
  Shape shape_;
  Tensor dense_, dense_grad_;
};

}  // namespace bdl::nn
