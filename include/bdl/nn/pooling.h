#pragma once

#include <memory>
#include <optional>

#include "bdl/nn/layer.h"

namespace bdl::kernels {
class Pool2dKernel;
struct Pool2dGeometry;
}  // namespace bdl::kernels

namespace bdl::nn {

struct Pool2dOptions {
  Size2 kernel = 2;
  std::optional<Size2> stride = {};  // defaults to kernel
  Size2 padding = 0;
  bool ceil_mode = false;
  // Average pooling only: whether zero padding counts in the divisor (PyTorch's
  // default; in ceil mode the window part past the padding never counts).
  bool count_include_pad = true;
  static void fields(auto& o, auto& field) {
    field("kernel", o.kernel);
    field("stride", o.stride);
    field("padding", o.padding);
    field("ceil_mode", o.ceil_mode, Presence::may_be_absent);
    field("count_include_pad", o.count_include_pad, Presence::may_be_absent);
  }
};
using MaxPool2dOptions = Pool2dOptions;
using AvgPool2dOptions = Pool2dOptions;

// 2-d pooling over NCHW input on oneDNN, in the layout of its input.
class Pool2d : public Module {
 public:
  ~Pool2d() override;
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  // backward() of this pooling and of the ReLU before it, whose output `input`
  // is, in one pass: the gradient is kept only where input > 0. For
  // Sequential's ReLU + pooling fusion (ReLU::adopt_grad).
  const Tensor& backward_rectified(const Tensor& input, const Tensor& grad_output);
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  // With the stride resolved.
  const Pool2dOptions& options() const { return options_; }
  Size2 stride() const { return *options_.stride; }

 protected:
  Pool2d(bool average, Pool2dOptions options);

 private:
  kernels::Pool2dGeometry geometry(const Shape& input) const;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output, bool rectify);
  // Ceil-mode average pooling counting padding: windows that run past the
  // padding divide by their clipped size in PyTorch, by the full kernel in
  // oneDNN. Per output position, the factor that turns oneDNN's into PyTorch's
  // (empty when no window is clipped).
  const std::vector<float>& divisor_fix(const kernels::Pool2dGeometry& g);

  bool average_;
  Pool2dOptions options_;
  std::unique_ptr<kernels::Pool2dKernel> kernel_;
  std::vector<int64_t> fix_key_;
  std::vector<float> fix_;
  Tensor dense_input_, scaled_grad_;
};

// As torch.nn.MaxPool2d.
class MaxPool2d : public Layer<MaxPool2d, Pool2d> {
 public:
  static constexpr std::string_view kType = "MaxPool2d";
  explicit MaxPool2d(Pool2dOptions options) : Layer(false, options) {}
  explicit MaxPool2d(int64_t kernel) : MaxPool2d(Pool2dOptions{.kernel = kernel, .stride = {}}) {}
};

// As torch.nn.AvgPool2d.
class AvgPool2d : public Layer<AvgPool2d, Pool2d> {
 public:
  static constexpr std::string_view kType = "AvgPool2d";
  explicit AvgPool2d(Pool2dOptions options) : Layer(true, options) {}
  explicit AvgPool2d(int64_t kernel) : AvgPool2d(Pool2dOptions{.kernel = kernel, .stride = {}}) {}
};

// Mean or max over each channel's whole plane: (N, C, H, W) -> (N, C, 1, 1), as
// torch.nn.AdaptiveAvgPool2d(1) / AdaptiveMaxPool2d(1).
class GlobalPool2d : public Module {
 public:
  ~GlobalPool2d() override;
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override;

 protected:
  explicit GlobalPool2d(bool average);

 private:
  kernels::Pool2dGeometry geometry(const Shape& input) const;
  bool average_;
  std::unique_ptr<kernels::Pool2dKernel> kernel_;
};

class GlobalAvgPool2d : public Layer<GlobalAvgPool2d, GlobalPool2d> {
 public:
  static constexpr std::string_view kType = "GlobalAvgPool2d";
  GlobalAvgPool2d() : Layer(true) {}
};

class GlobalMaxPool2d : public Layer<GlobalMaxPool2d, GlobalPool2d> {
 public:
  static constexpr std::string_view kType = "GlobalMaxPool2d";
  GlobalMaxPool2d() : Layer(false) {}
};

}  // namespace bdl::nn
