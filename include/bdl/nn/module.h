#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bdl/core/random.h"
#include "bdl/core/tensor.h"
#include "bdl/kernels/backend.h"
#include "bdl/nn/attributes.h"

namespace bdl::nn {

// A named trainable tensor of a module and its gradient. Both point at the
// module's own members, so compact() can turn them into views of flat buffers.
struct Parameter {
  std::string name;
  Tensor* value;
  Tensor* grad;
};

// Named state that is not trained by gradients but belongs to the model
// (BatchNorm's running statistics): saved with it, averaged across workers.
struct Buffer {
  std::string name;
  Tensor* value;
};

// The Torch/BigDL module life cycle: forward(input) computes and keeps output();
// backward(input, grad_output) returns the gradient with respect to the input and
// *accumulates* parameter gradients. Output and gradient buffers are members that
// are reused from one iteration to the next: a layer allocates only when the shape
// of its input changes.
// Adds src into dst element-wise (dst += src); both contiguous, same size.
void accumulate(Tensor& dst, const Tensor& src);

// While one lives on this thread, layers leave their new weights at zero instead
// of drawing random initial values: a loader is about to overwrite them, and
// drawing 25 million random numbers would cost more than reading them.
class SkipInitialisation {
 public:
  SkipInitialisation();
  ~SkipInitialisation();
  SkipInitialisation(const SkipInitialisation&) = delete;
  SkipInitialisation& operator=(const SkipInitialisation&) = delete;
  static bool active();

 private:
  bool outer_;
};

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  virtual const Tensor& forward(const Tensor& input) = 0;
  virtual const Tensor& backward(const Tensor& input, const Tensor& grad_output) = 0;

  // The layer's type ("Conv2d") and a one-line description with its options.
  virtual std::string type() const = 0;
  virtual std::string describe() const { return type(); }
  // The layer's configuration, what its create() function (registered with
  // create_module) needs to build it again; weights and children are saved apart.
  virtual void attributes(Attributes& /*out*/) const {}
  // The output shape for an input shape, checking the input like forward() does.
  virtual Shape output_shape(const Shape& input) const = 0;
  // Forward floating-point operations for an input shape, a multiply-add counting
  // 2. Only convolutions and matrix products count (as model tables usually do);
  // containers sum their children.
  virtual double flops(const Shape& /*input*/) const { return 0; }

  // This module's own parameters, then its children's, names prefixed with the path.
  std::vector<Parameter> parameters();
  virtual void own_parameters(std::vector<Parameter>& /*out*/) {}
  virtual std::vector<Module*> children() { return {}; }
  // Non-trainable state, named and ordered like parameters().
  std::vector<Buffer> buffers();
  virtual void own_buffers(std::vector<Buffer>& /*out*/) {}

  // Seeds the random streams of this module and its children (Dropout masks);
  // each module gets its own stream derived from the seed and its position.
  void seed(uint64_t seed);
  // The random streams of this module and its children, in a fixed order: a
  // checkpoint saves their positions so that resumed training draws what the
  // uninterrupted run would have.
  std::vector<Rng*> random_streams();
  virtual void own_random_streams(std::vector<Rng*>& /*out*/) {}

  void zero_grad();
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // For inference only (what prediction and evaluation set): layers run the
  // kernels' inference form and keep nothing for backward, which is then an
  // error. Apart from eval(): a model in evaluation mode may still be trained
  // (BatchNorm statistics frozen while fine-tuning); one set for inference not.
  void set_inference(bool on = true);
  bool is_inference() const { return inference_; }
  // Containers release their children's outputs during backward once nothing
  // reads them (PyTorch frees saved tensors the same way), so that the memory
  // serves the gradients still to come: a second backward then needs a forward
  // first, and a child's output() is empty after backward (the container's own
  // output stays). retain_activations(true) keeps them, for this module and its
  // children, as PyTorch's retain_graph=True.
  void retain_activations(bool on = true);
  bool retains_activations() const { return retain_activations_; }
  // A module whose input is the network input need not compute an input gradient.
  virtual void set_needs_input_grad(bool needed) { needs_input_grad_ = needed; }
  bool needs_input_grad() const { return needs_input_grad_; }

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  // The name for messages: the given name, or the type.
  std::string label() const { return name_.empty() ? type() : name_; }

  const Tensor& output() const { return output_; }
  const Tensor& grad_input() const { return grad_input_; }
  // A container calls this once the gradient backward() returned has been
  // consumed (the module before it has run its backward, or the gradient was
  // added into a sum). The module drops every handle it holds on that gradient,
  // and whatever no handle holds any more becomes memory for the next layer's
  // gradient (Tensor::recycle): a backward pass keeps a few gradients alive, not
  // one per layer. The next backward() writes a fresh gradient as usual.
  virtual void release_grad_input() { grad_input_.recycle(); }
  // The same for the output, in inference only (is_inference(): no backward
  // will read it): once the modules after this one have read the output, a
  // container releases it, and a forward pass keeps a few activations alive, not
  // one per layer. Containers release their children's as they go.
  virtual void release_output() { output_.recycle(); }
  // Whether the module after this one may overwrite this module's output in
  // place (a ReLU after a BatchNorm, as PyTorch's inplace=True): true only of a
  // module whose output is its own buffer, never a view of its input, and whose
  // backward reads its input but not its output. Containers check as well that
  // nothing else reads the output.
  virtual bool output_may_be_overwritten() const { return false; }

 protected:
  virtual void on_train(bool /*on*/) {}
  virtual void on_seed(uint64_t /*seed*/) {}
  // Backward's first check: grad_output has the shape forward produced.
  void check_grad_output(const Tensor& grad_output, const Shape& expected) const {
    BDL_CHECK(grad_output.shape() == expected, label(), ": grad_output of shape ",
              grad_output.shape_str(), ", expected ", shape_str(expected));
  }

  // Parameter gradients accumulate. write(weight_grad, bias_grad) is a kernel that
  // overwrites its outputs: right after zero_grad() it writes into the gradients
  // directly, otherwise into scratch buffers that are then added. bias_grad is null
  // when grad_bias is undefined.
  template <typename Write>
  void accumulate_grads(Tensor& grad_weight, Tensor& grad_bias, Write&& write) {
    float* bias = nullptr;
    if (grads_are_zero_) {
      if (grad_bias.defined()) bias = grad_bias.f32();
      write(grad_weight.f32(), bias);
      grads_are_zero_ = false;
      return;
    }
    grad_scratch_[0].resize(grad_weight.shape());
    if (grad_bias.defined()) {
      grad_scratch_[1].resize(grad_bias.shape());
      bias = grad_scratch_[1].f32();
    }
    write(grad_scratch_[0].f32(), bias);
    accumulate(grad_weight, grad_scratch_[0]);
    if (grad_bias.defined()) accumulate(grad_bias, grad_scratch_[1]);
  }
  // True until the first backward after zero_grad(): layers then write their
  // parameter gradients directly instead of writing to scratch and adding.
  bool grads_are_zero_ = true;

  Tensor output_;
  Tensor grad_input_;
  bool training_ = true;
  bool inference_ = false;
  bool needs_input_grad_ = true;
  bool retain_activations_ = false;
  // The kernels' pass for this module's forward.
  kernels::Pass pass() const {
    return inference_ ? kernels::Pass::inference : kernels::Pass::training;
  }

 private:
  Tensor grad_scratch_[2];
  void collect(std::vector<Parameter>& out, const std::string& prefix);
  void collect(std::vector<Buffer>& out, const std::string& prefix);
  std::string name_;
};

}  // namespace bdl::nn
