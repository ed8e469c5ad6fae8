#include "bdl/nn/sequential.h"

#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/pooling.h"

namespace bdl::nn {

const Tensor& Sequential::forward(const Tensor& input) {
  activations_released_ = false;
  const Tensor* x = &input;
  // In inference, the module whose output x is: released once the next has read it.
  Module* producer = nullptr;
  auto consumed = [&](Module* next) {
    if (producer != nullptr && inference_) producer->release_output();
    producer = next;
  };
  for (size_t i = 0; i < modules_.size(); ++i) {
    auto* conv = kind(i) == Kind::conv ? static_cast<Conv2d*>(modules_[i].get()) : nullptr;
    // In inference, a Conv2d followed by a BatchNorm (and a ReLU) runs as one
    // convolution with the BatchNorm folded in: one pass over the output.
    auto* bn = conv && inference_ && kind(i + 1) == Kind::batch_norm
                   ? static_cast<BatchNorm*>(modules_[i + 1].get())
                   : nullptr;
    if (bn) {
      const bool relu = kind(i + 2) == Kind::relu;
      const Tensor* y = conv->forward_fused(*x, bn, nullptr, relu);
      const bool with_relu = y != nullptr && relu;
      if (y == nullptr && relu) y = conv->forward_fused(*x, bn, nullptr, false);  // BN alone
      if (y != nullptr) {
        x = y;
        consumed(conv);
        bn->release_output();  // what a training forward left
        if (with_relu) modules_[i + 2]->release_output();
        i += with_relu ? 2 : 1;
        continue;
      }
    }
    // A Conv2d followed by a ReLU runs as one convolution that rectifies as it
    // writes: one pass over the tensor instead of three (the ReLU's read and
    // write). Both modules' outputs are then the rectified tensor; backward is
    // unchanged (see ReLU::adopt_rectified).
    auto* relu =
        conv && kind(i + 1) == Kind::relu ? static_cast<ReLU*>(modules_[i + 1].get()) : nullptr;
    if (relu) {
      x = &relu->adopt_rectified(conv->forward_rectified(*x));
      if (inference_) conv->release_output();  // the ReLU holds the same tensor
      consumed(relu);
      ++i;
      continue;
    }
    // A ReLU after a module that allows it rectifies that module's output in
    // place: the module after the ReLU reads nothing else.
    auto* in_place =
        i > 0 && kind(i) == Kind::relu ? static_cast<ReLU*>(modules_[i].get()) : nullptr;
    if (in_place && modules_[i - 1]->output_may_be_overwritten() &&
        x == &modules_[i - 1]->output() && x->is_dense_from_start()) {
      x = &in_place->forward_in_place(*x);
      consumed(in_place);
      continue;
    }
    x = &modules_[i]->forward(*x);
    consumed(modules_[i].get());
  }
  // output() of a nested Sequential is what the next module backward reads: a
  // handle on the last module's output (no copy).
  output_ = *x;
  return output_;
}

// Module i's output has been read by the backward of module i + 1 and by its
// own: nothing reads it again before the next forward, and its memory serves
// the gradients still to come (as PyTorch frees saved tensors in backward). The
// last module's output is the container's, which the caller may still read.
void Sequential::release_activation(size_t i) {
  if (retain_activations_) return;
  if (i + 1 < modules_.size()) modules_[i]->release_output();
  activations_released_ = true;
}

const Tensor& Sequential::backward(const Tensor& input, const Tensor& grad_output) {
  BDL_CHECK(!activations_released_, label(),
            ": backward again after one forward; the first backward released the "
            "activations it read (run forward before each backward)");
  const Tensor* dy = &grad_output;
  // The modules whose gradient dy is: released once the next backward has read
  // it, so that its memory serves the gradients still to come.
  Module* producers[2] = {nullptr, nullptr};
  auto release_producers = [&] {
    for (Module*& m : producers) {
      if (m != nullptr) m->release_grad_input();
      m = nullptr;
    }
  };
  for (size_t i = modules_.size(); i-- > 0;) {
    // A ReLU followed by pooling: the pooling's backward applies the ReLU's
    // mask as it writes, and the ReLU's backward is skipped (its gradient is
    // the pooling's). The pooling's input is the ReLU's output, so the mask
    // needs no other tensor.
    auto* pool = i > 0 && kind(i) == Kind::pool ? static_cast<Pool2d*>(modules_[i].get()) : nullptr;
    auto* relu =
        pool && kind(i - 1) == Kind::relu ? static_cast<ReLU*>(modules_[i - 1].get()) : nullptr;
    if (relu && pool->needs_input_grad() && relu->needs_input_grad()) {
      dy = &relu->adopt_grad(pool->backward_rectified(relu->output(), *dy));
      release_producers();
      producers[0] = relu;
      producers[1] = pool;
      release_activation(i);
      release_activation(--i);
      continue;
    }
    const Tensor& x = i == 0 ? input : modules_[i - 1]->output();
    dy = &modules_[i]->backward(x, *dy);
    release_producers();
    producers[0] = modules_[i].get();
    release_activation(i);
    // Nothing before a module that needs no input gradient has parameters.
    if (!modules_[i]->needs_input_grad()) {
      while (i-- > 0) release_activation(i);
      return grad_input_;
    }
  }
  if (modules_.empty()) grad_input_ = grad_output;
  return modules_.empty() ? grad_input_ : *dy;
}

void Sequential::release_output() {
  output_.recycle();
  for (auto& m : modules_) m->release_output();
}

void Sequential::release_grad_input() {
  grad_input_.recycle();
  for (auto& m : modules_) m->release_grad_input();
}

void Sequential::classify_last() {
  Module* m = modules_.back().get();
  Kind k = Kind::other;
  if (dynamic_cast<Conv2d*>(m) != nullptr) {
    k = Kind::conv;
  } else if (dynamic_cast<BatchNorm*>(m) != nullptr) {
    k = Kind::batch_norm;
  } else if (dynamic_cast<ReLU*>(m) != nullptr) {
    k = Kind::relu;
  } else if (dynamic_cast<Pool2d*>(m) != nullptr) {
    k = Kind::pool;
  }
  kinds_.push_back(k);
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
