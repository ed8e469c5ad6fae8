#include "bdl/nn/sequential.h"

#include "bdl/nn/activations.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/pooling.h"

namespace bdl::nn {

const Tensor& Sequential::forward(const Tensor& input) {
  const Tensor* x = &input;
  for (size_t i = 0; i < modules_.size(); ++i) {
    // A Conv2d followed by a ReLU runs as one convolution that rectifies as it
    // writes: one pass over the tensor instead of three (the ReLU's read and
    // write). Both modules' outputs are then the rectified tensor; backward is
    // unchanged (see ReLU::adopt_rectified).
    auto* conv = dynamic_cast<Conv2d*>(modules_[i].get());
    auto* relu =
        conv && i + 1 < modules_.size() ? dynamic_cast<ReLU*>(modules_[i + 1].get()) : nullptr;
    if (relu) {
      x = &relu->adopt_rectified(conv->forward_rectified(*x));
      ++i;
      continue;
    }
    x = &modules_[i]->forward(*x);
  }
  // output() of a nested Sequential is what the next module backward reads: a
  // handle on the last module's output (no copy).
  output_ = *x;
  return output_;
}

const Tensor& Sequential::backward(const Tensor& input, const Tensor& grad_output) {
  const Tensor* dy = &grad_output;
  for (size_t i = modules_.size(); i-- > 0;) {
    // A ReLU followed by pooling: the pooling's backward applies the ReLU's
    // mask as it writes, and the ReLU's backward is skipped (its gradient is
    // the pooling's). The pooling's input is the ReLU's output, so the mask
    // needs no other tensor.
    auto* pool = i > 0 ? dynamic_cast<Pool2d*>(modules_[i].get()) : nullptr;
    auto* relu = pool ? dynamic_cast<ReLU*>(modules_[i - 1].get()) : nullptr;
    if (relu && pool->needs_input_grad() && relu->needs_input_grad()) {
      dy = &relu->adopt_grad(pool->backward_rectified(relu->output(), *dy));
      --i;
      continue;
    }
    const Tensor& x = i == 0 ? input : modules_[i - 1]->output();
    dy = &modules_[i]->backward(x, *dy);
    // Nothing before a module that needs no input gradient has parameters.
    if (!modules_[i]->needs_input_grad()) return grad_input_;
  }
  if (modules_.empty()) grad_input_ = grad_output;
  return modules_.empty() ? grad_input_ : *dy;
}

Shape Sequential::output_shape(const Shape& input) const {
  Shape s = input;
  for (const auto& m : modules_) s = m->output_shape(s);
  return s;
}

double Sequential::flops(const Shape& input) const {
  Shape s = input;
  double total = 0;
  for (const auto& m : modules_) {
    total += m->flops(s);
    s = m->output_shape(s);
  }
  return total;
}

std::vector<Module*> Sequential::children() {
  std::vector<Module*> out;
  out.reserve(modules_.size());
  for (auto& m : modules_) out.push_back(m.get());
  return out;
}

void Sequential::set_needs_input_grad(bool needed) {
  needs_input_grad_ = needed;
  update_input_grad_flags();
}

void Sequential::update_input_grad_flags() {
  bool needed = needs_input_grad_;
  parameters_so_far_ = false;
  for (auto& m : modules_) {
    m->set_needs_input_grad(needed || parameters_so_far_);
    parameters_so_far_ = parameters_so_far_ || !m->parameters().empty();
  }
}

void Sequential::set_last_input_grad_flag() {
  Module& m = *modules_.back();
  m.set_needs_input_grad(needs_input_grad_ || parameters_so_far_);
  parameters_so_far_ = parameters_so_far_ || !m.parameters().empty();
}

std::unique_ptr<Module> Sequential::create(const Attributes& /*a*/, Children children) {
  auto s = std::make_unique<Sequential>();
  for (auto& c : children) s->add(std::move(c));
  return s;
}

const RegisterLayers<Sequential> kRegistered;

}  // namespace bdl::nn
