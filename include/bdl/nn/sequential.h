#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "bdl/nn/layer.h"

namespace bdl::nn {

// Runs its children one after the other; backward walks them in reverse, feeding
// each the output its predecessor produced in forward.
class Sequential : public Layer<Sequential> {
 public:
  static constexpr std::string_view kType = "Sequential";
  static std::unique_ptr<Module> create(const Attributes& a, Children children);
  Sequential() = default;

  template <typename M>
  M& add(std::unique_ptr<M> module, std::string name = "") {
    M& ref = *module;
    if (!name.empty()) ref.set_name(std::move(name));
    modules_.push_back(std::move(module));
    set_last_input_grad_flag();  // constant time per add: loading 10^5 modules stays linear
    classify_last();
    return ref;
  }
  template <typename M, typename... Args>
  M& emplace(Args&&... args) {
    return add(std::make_unique<M>(std::forward<Args>(args)...));
  }

  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override;
  double flops(const Shape& input) const override;
  std::vector<Module*> children() override;
  void set_needs_input_grad(bool needed) override;
  void release_grad_input() override;
  void release_output() override;

  size_t size() const { return modules_.size(); }
  Module& operator[](size_t i) { return *modules_.at(i); }

 private:
  // Module i needs an input gradient only if this container needs one or a module
  // before i has parameters: leading parameter-free layers (Flatten, ReLU) and the
  // first layer with weights then skip work whose result nobody reads.
  void update_input_grad_flags();
  // The same for a module just added at the end.
  void set_last_input_grad_flag();

  // The kinds of module forward and backward fuse with their neighbours, worked
  // out once per module as it is added (not cast per module per pass).
  enum class Kind : uint8_t { other, conv, batch_norm, relu, pool };
  void classify_last();
  Kind kind(size_t i) const { return i < kinds_.size() ? kinds_[i] : Kind::other; }
  std::vector<Kind> kinds_;
  // Drops module i's output once backward no longer reads it.
  void release_activation(size_t i);

  bool parameters_so_far_ = false;  // some module has parameters (for the next one added)
  // Backward released the children's outputs: another backward needs a forward first.
  bool activations_released_ = false;

  std::vector<std::unique_ptr<Module>> modules_;
};

}  // namespace bdl::nn
