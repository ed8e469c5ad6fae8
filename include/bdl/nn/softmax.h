#pragma once

#include <memory>

#include "bdl/nn/layer.h"

namespace bdl::kernels {
class SoftmaxKernel;
}

namespace bdl::nn {

// softmax(x) or log(softmax(x)) along one dimension (the last by default; negative
// counts from the end), as torch.nn.Softmax / LogSoftmax.
struct SoftMaxOptions {
  int64_t dim = -1;
  static void fields(auto& o, auto& field) { field("dim", o.dim); }
};

class SoftMaxBase : public Module {
 public:
  ~SoftMaxBase() override;
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  int64_t dim() const { return dim_; }
  SoftMaxOptions options() const { return {dim_}; }

 protected:
  SoftMaxBase(bool log, int64_t dim);

 private:
  struct Extent {
    int64_t outer, axis, inner;
  };
  Extent extent(const Shape& input) const;

  int64_t dim_;
  std::unique_ptr<kernels::SoftmaxKernel> kernel_;
  Tensor dense_input_, dense_grad_;
};

class SoftMax : public Layer<SoftMax, SoftMaxBase> {
 public:
  static constexpr std::string_view kType = "SoftMax";
  explicit SoftMax(SoftMaxOptions options) : Layer(false, options.dim) {}
  explicit SoftMax(int64_t dim = -1) : Layer(false, dim) {}
};

class LogSoftMax : public Layer<LogSoftMax, SoftMaxBase> {
 public:
  static constexpr std::string_view kType = "LogSoftMax";
  explicit LogSoftMax(SoftMaxOptions options) : Layer(true, options.dim) {}
  explicit LogSoftMax(int64_t dim = -1) : Layer(true, dim) {}
};

}  // namespace bdl::nn
