#pragma once

#include <memory>
#include <vector>

#include "bdl/nn/multi_input.h"

namespace bdl::nn {

// Torch's Concat container: every branch gets the same input and their outputs
// are concatenated along one dimension (channels by default), as in an
// Inception block. Backward sums the branches' input gradients.
struct ConcatOptions {
  int64_t dim = 1;
  static void fields(auto& o, auto& field) { field("dim", o.dim); }
};

class Concat : public Layer<Concat> {
 public:
  static constexpr std::string_view kType = "Concat";
  static std::unique_ptr<Module> create(const Attributes& a, Children children);
  explicit Concat(ConcatOptions options = {}) : join_(options.dim) {}
  explicit Concat(int64_t dim) : Concat(ConcatOptions{dim}) {}

  template <typename M>
  M& add(std::unique_ptr<M> module, std::string name = "") {
    M& ref = *module;
    if (!name.empty()) ref.set_name(std::move(name));
    ref.set_needs_input_grad(needs_input_grad_);
    branches_.push_back(std::move(module));
    return ref;
  }

  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  double flops(const Shape& input) const override;
  std::vector<Module*> children() override;
  void set_needs_input_grad(bool needed) override;
  void release_grad_input() override;
  void release_output() override;
  size_t size() const { return branches_.size(); }
  ConcatOptions options() const { return {join_.dim()}; }

 private:
  std::vector<std::unique_ptr<Module>> branches_;
  JoinTable join_;
  std::vector<const Tensor*> outputs_;
  Tensor scratch_;
};

}  // namespace bdl::nn
