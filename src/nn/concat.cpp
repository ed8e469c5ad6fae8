#include "bdl/nn/concat.h"

#include "bdl/kernels/layout_ops.h"

namespace bdl::nn {

std::string Concat::describe() const {
  return detail::concat("Concat(", branches_.size(), " branches, dim ", join_.dim(), ")");
}

Shape Concat::output_shape(const Shape& input) const {
  BDL_CHECK(!branches_.empty(), label(), ": no branches");
  std::vector<Shape> shapes;
  for (const auto& b : branches_) shapes.push_back(b->output_shape(input));
  return join_.output_shape_many(shapes);
}

double Concat::flops(const Shape& input) const {
  double total = 0;
  for (const auto& b : branches_) total += b->flops(input);
  return total;
}

std::vector<Module*> Concat::children() {
  std::vector<Module*> out;
  for (auto& b : branches_) out.push_back(b.get());
  return out;
}

void Concat::set_needs_input_grad(bool needed) {
  needs_input_grad_ = needed;
  for (auto& b : branches_) b->set_needs_input_grad(needed);
}

const Tensor& Concat::forward(const Tensor& input) {
  BDL_CHECK(!branches_.empty(), label(), ": no branches");
  outputs_.clear();
  for (auto& b : branches_) outputs_.push_back(&b->forward(input));
  output_ = join_.forward_many(outputs_);
  if (inference_) {
    for (auto& b : branches_) b->release_output();  // joined: the branches' outputs are read
    join_.release_output();                         // output_ holds the join's result
  }
  return output_;
}

const Tensor& Concat::backward(const Tensor& input, const Tensor& grad_output) {
  const auto& grads = join_.backward_many(outputs_, grad_output);
  for (size_t i = 0; i < branches_.size(); ++i) {
    const Tensor& g = branches_[i]->backward(input, grads[i]);
    if (needs_input_grad_) {
      if (i == 0) {
        kernels::copy_into(grad_input_, g);
      } else {
        kernels::add_into(grad_input_, g, scratch_);
      }
    }
    // The branch's gradient is summed in: its memory serves the next branch's.
    branches_[i]->release_grad_input();
  }
  join_.release_grad_input();
  return grad_input_;
}

void Concat::release_output() {
  output_.recycle();
  for (auto& b : branches_) b->release_output();
  join_.release_output();
}

void Concat::release_grad_input() {
  grad_input_.recycle();
  for (auto& b : branches_) b->release_grad_input();
}

std::unique_ptr<Module> Concat::create(const Attributes& a, Children children) {
  auto concat = std::make_unique<Concat>(read_fields<ConcatOptions>(a));
  for (auto& c : children) concat->add(std::move(c));
  return concat;
}

const RegisterLayers<Concat> kRegistered;

}  // namespace bdl::nn
