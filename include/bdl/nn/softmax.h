#pragma once

#include <memory>

#include "bdl/nn/module.h"

namespace bdl::kernels {
class SoftmaxKernel;
}

namespace bdl::nn {

// softmax(x) or log(softmax(x)) along one dimension (the last by default; negative
// counts from the end), as torch.nn.Softmax / LogSoftmax.
class SoftMaxBase : public Module {
 public:
  void attributes(Attributes& out) const override;
  ~SoftMaxBase() override;
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  int64_t dim() const { return dim_; }

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

class SoftMax : public SoftMaxBase {
 public:
  static std::unique_ptr<Module> create(const Attributes& a);
  explicit SoftMax(int64_t dim = -1) : SoftMaxBase(false, dim) {}
  std::string type() const override { return "SoftMax"; }
};

class LogSoftMax : public SoftMaxBase {
 public:
  static std::unique_ptr<Module> create(const Attributes& a);
  explicit LogSoftMax(int64_t dim = -1) : SoftMaxBase(true, dim) {}
  std::string type() const override { return "LogSoftMax"; }
};

}  // namespace bdl::nn
