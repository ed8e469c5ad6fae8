#include "bdl/nn/time_distributed.h"

namespace bdl::nn {

TimeDistributed::TimeDistributed(std::unique_ptr<Module> module) : module_(std::move(module)) {
  BDL_CHECK(module_ != nullptr, "TimeDistributed: null module");
}

std::string TimeDistributed::describe() const {
  return "TimeDistributed(" + module_->describe() + ")";
}

Shape TimeDistributed::fold(const Shape& s) {
  Shape f(s.begin() + 1, s.end());
  f[0] *= s[0];
  return f;
}

Shape TimeDistributed::output_shape(const Shape& input) const {
  BDL_CHECK(input.size() >= 3, label(), ": expected input (batch, time, ...), got ",
            shape_str(input));
  Shape out = module_->output_shape(fold(input));
  BDL_CHECK(!out.empty() && out[0] == input[0] * input[1], label(), ": ", module_->label(),
            " changed the batch dimension");
  out[0] = input[1];
  out.insert(out.begin(), input[0]);
  return out;
}

double TimeDistributed::flops(const Shape& input) const { return module_->flops(fold(input)); }

void TimeDistributed::set_needs_input_grad(bool needed) {
  needs_input_grad_ = needed;
  module_->set_needs_input_grad(needed);
}

const Tensor& TimeDistributed::forward(const Tensor& input) {
  const Shape out = output_shape(input.shape());
  folded_input_ = input.reshape(fold(input.shape()));
  output_ = module_->forward(folded_input_).reshape(out);
  return output_;
}

const Tensor& TimeDistributed::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_shape(input.shape()));
  const Shape folded_out = module_->output().shape();
  const Tensor& g = module_->backward(folded_input_, grad_output.reshape(folded_out));
  if (needs_input_grad_) grad_input_ = g.reshape(input.shape());
  return grad_input_;
}

std::unique_ptr<Module> TimeDistributed::create(const Attributes& a, Children children) {
  BDL_CHECK(children.size() == 1, a.owner(), ": TimeDistributed wraps one module, found ",
            children.size());
  return std::make_unique<TimeDistributed>(std::move(children[0]));
}

const RegisterLayers<TimeDistributed> kRegistered;

}  // namespace bdl::nn
