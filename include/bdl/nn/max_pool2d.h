#pragma once

#include <memory>
#include <optional>

#include "bdl/nn/module.h"
#include "bdl/nn/size2.h"

namespace bdl::kernels {
class Pool2dKernel;
struct Pool2dGeometry;
}  // namespace bdl::kernels

namespace bdl::nn {

struct MaxPool2dOptions {
  Size2 kernel = 2;
  std::optional<Size2> stride;  // defaults to kernel
  Size2 padding = 0;
  bool ceil_mode = false;
};

// 2-d max pooling over NCHW input, as torch.nn.MaxPool2d.
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(MaxPool2dOptions options);
  explicit MaxPool2d(int64_t kernel)
      : MaxPool2d(MaxPool2dOptions{.kernel = kernel, .stride = {}}) {}
  ~MaxPool2d() override;

  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string type() const override { return "MaxPool2d"; }
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;

 private:
  kernels::Pool2dGeometry geometry(const Shape& input) const;

  MaxPool2dOptions options_;
  Size2 stride_;
  std::unique_ptr<kernels::Pool2dKernel> kernel_;
};

}  // namespace bdl::nn
