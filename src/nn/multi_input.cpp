#include "bdl/nn/multi_input.h"

#include "bdl/kernels/concat.h"
#include "bdl/kernels/layout_ops.h"

namespace bdl::nn {
namespace {

std::vector<Shape> shapes_of(MultiInputModule::Inputs inputs) {
  std::vector<Shape> shapes;
  shapes.reserve(inputs.size());
  for (const Tensor* t : inputs) shapes.push_back(t->shape());
  return shapes;
}

}  // namespace

const Tensor& MultiInputModule::forward(const Tensor& input) {
  const Tensor* one = &input;
  return forward_many(Inputs(&one, 1));
}

const Tensor& MultiInputModule::backward(const Tensor& input, const Tensor& grad_output) {
  const Tensor* one = &input;
  grad_input_ = backward_many(Inputs(&one, 1), grad_output).at(0);
  return grad_input_;
}

void MultiInputModule::release_grad_input() {
  grad_input_.recycle();
  for (Tensor& g : grad_inputs_) g.recycle();
}

Shape MultiInputModule::output_shape(const Shape& input) const {
  return output_shape_many(std::span<const Shape>(&input, 1));
}

Shape Add::output_shape_many(std::span<const Shape> inputs) const {
  BDL_CHECK(!inputs.empty(), label(), ": no inputs");
  for (size_t i = 1; i < inputs.size(); ++i) {
    BDL_CHECK(inputs[i] == inputs[0], label(), ": input ", i, " has shape ", shape_str(inputs[i]),
              ", input 0 has ", shape_str(inputs[0]));
  }
  return inputs[0];
}

const Tensor& Add::forward_many(Inputs inputs) {
  const std::vector<Shape> shapes = shapes_of(inputs);
  output_shape_many(shapes);
  if (output_is_input_) {
    output_ = Tensor();  // the last pass's handle on another module's output
    output_is_input_ = false;
  }
  kernels::copy_into(output_, *inputs[0]);
  for (size_t i = 1; i < inputs.size(); ++i) kernels::add_into(output_, *inputs[i], scratch_);
  return output_;
}

const Tensor& Add::forward_in_place(Inputs inputs) {
  const std::vector<Shape> shapes = shapes_of(inputs);
  output_shape_many(shapes);
  const Tensor& first = *inputs[0];
  BDL_CHECK(first.is_dense_from_start(), label(), ": an in-place sum into a view of shape ",
            first.shape_str());
  output_ = first;
  output_is_input_ = true;
  for (size_t i = 1; i < inputs.size(); ++i) kernels::add_into(output_, *inputs[i], scratch_);
  return output_;
}

const std::vector<Tensor>& Add::backward_many(Inputs inputs, const Tensor& grad_output) {
  check_grad_output(grad_output, inputs[0]->shape());
  // d(sum)/d(input i) is the identity: every input's gradient is grad_output.
  grad_inputs_.assign(inputs.size(), grad_output);
  return grad_inputs_;
}

JoinTable::JoinTable(JoinTableOptions options)
    : dim_(options.dim), kernel_(std::make_unique<kernels::ConcatKernel>()) {}
JoinTable::~JoinTable() = default;

int64_t JoinTable::axis(size_t rank) const {
  const int64_t d = dim_ < 0 ? dim_ + static_cast<int64_t>(rank) : dim_;
  BDL_CHECK(d >= 0 && d < static_cast<int64_t>(rank), label(), ": dimension ", dim_,
            " out of range for inputs of rank ", rank);
  return d;
}

Shape JoinTable::output_shape_many(std::span<const Shape> inputs) const {
  BDL_CHECK(!inputs.empty(), label(), ": no inputs");
  const int64_t a = axis(inputs[0].size());
  Shape out = inputs[0];
  for (size_t i = 1; i < inputs.size(); ++i) {
    bool fits = inputs[i].size() == out.size();
    for (size_t d = 0; fits && d < out.size(); ++d) {
      fits = static_cast<int64_t>(d) == a || inputs[i][d] == out[d];
    }
    BDL_CHECK(fits, label(), ": input ", i, " of shape ", shape_str(inputs[i]),
              " does not match input 0 of shape ", shape_str(inputs[0]), " outside dimension ", a);
    out[static_cast<size_t>(a)] += inputs[i][static_cast<size_t>(a)];
  }
  return out;
}

const Tensor& JoinTable::forward_many(Inputs inputs) {
  const std::vector<Shape> shapes = shapes_of(inputs);
  output_shape_many(shapes);
  srcs_.assign(inputs.begin(), inputs.end());
  kernel_->forward(srcs_, axis(shapes[0].size()), output_);
  return output_;
}

const std::vector<Tensor>& JoinTable::backward_many(Inputs inputs, const Tensor& grad_output) {
  const std::vector<Shape> shapes = shapes_of(inputs);
  check_grad_output(grad_output, output_shape_many(shapes));
  srcs_.assign(inputs.begin(), inputs.end());
  kernel_->backward(srcs_, axis(shapes[0].size()), grad_output, grad_inputs_);
  return grad_inputs_;
}

const RegisterLayers<Add, JoinTable> kRegistered;

}  // namespace bdl::nn
