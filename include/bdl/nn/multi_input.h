#pragma once

#include <memory>
#include <span>
#include <vector>

#include "bdl/nn/layer.h"

namespace bdl::kernels {
class ConcatKernel;
}

namespace bdl::nn {

// A module of several inputs: what joins a Graph's branches (Add for a residual,
// JoinTable for Inception's concatenation). The single-input Module interface
// treats the input as the only one.
class MultiInputModule : public Module {
 public:
  using Inputs = std::span<const Tensor* const>;

  virtual const Tensor& forward_many(Inputs inputs) = 0;
  // The gradient with respect to each input, valid until the next call.
  virtual const std::vector<Tensor>& backward_many(Inputs inputs, const Tensor& grad_output) = 0;
  virtual Shape output_shape_many(std::span<const Shape> inputs) const = 0;
  // How many inputs it takes; 0 for any number of at least one.
  virtual size_t arity() const { return 0; }

  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override;
  void release_grad_input() override;

 protected:
  std::vector<Tensor> grad_inputs_;
};

// The element-wise sum of its inputs, all of one shape (a residual connection).
// Inputs may come in different layouts; the sum takes the first one's.
class Add : public Layer<Add, MultiInputModule> {
 public:
  static constexpr std::string_view kType = "Add";
  const Tensor& forward_many(Inputs inputs) override;
  const std::vector<Tensor>& backward_many(Inputs inputs, const Tensor& grad_output) override;
  Shape output_shape_many(std::span<const Shape> inputs) const override;
  bool output_may_be_overwritten() const override { return true; }
  // Forward that adds the other inputs into the first where it lies and returns
  // it as the output, for a first input that nothing else reads and whose
  // producer allows it (Module::output_may_be_overwritten): ResNet's
  // `out += identity`. Backward reads no input, so it is unchanged.
  const Tensor& forward_in_place(Inputs inputs);

 private:
  Tensor scratch_;
  bool output_is_input_ = false;  // output_ is a handle on the first input's storage
};

// Its inputs concatenated along one dimension (channels by default), as torch.cat.
struct JoinTableOptions {
  int64_t dim = 1;  // negative: from the end
  static void fields(auto& o, auto& field) { field("dim", o.dim); }
};

class JoinTable : public Layer<JoinTable, MultiInputModule> {
 public:
  static constexpr std::string_view kType = "JoinTable";
  explicit JoinTable(JoinTableOptions options);
  explicit JoinTable(int64_t dim = 1) : JoinTable(JoinTableOptions{dim}) {}
  ~JoinTable() override;
  const Tensor& forward_many(Inputs inputs) override;
  const std::vector<Tensor>& backward_many(Inputs inputs, const Tensor& grad_output) override;
  Shape output_shape_many(std::span<const Shape> inputs) const override;
  int64_t dim() const { return dim_; }
  JoinTableOptions options() const { return {dim_}; }

 private:
  int64_t axis(size_t rank) const;
  int64_t dim_;
  std::unique_ptr<kernels::ConcatKernel> kernel_;
  std::vector<const Tensor*> srcs_;
};

}  // namespace bdl::nn
