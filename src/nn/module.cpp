#include "bdl/nn/module.h"

namespace bdl::nn {

void Module::collect(std::vector<Parameter>& out, const std::string& prefix) {
  const size_t first = out.size();
  own_parameters(out);
  for (size_t i = first; i < out.size(); ++i) out[i].name = prefix + out[i].name;
  auto kids = children();
  for (size_t i = 0; i < kids.size(); ++i) {
    const std::string child = kids[i]->name().empty() ? std::to_string(i) : kids[i]->name();
    kids[i]->collect(out, prefix + child + ".");
  }
}

std::vector<Parameter> Module::parameters() {
  std::vector<Parameter> out;
  collect(out, "");
  return out;
}

void Module::zero_grad() {
  std::vector<Parameter> own;
  own_parameters(own);
  for (auto& p : own) p.grad->zero();
  grads_are_zero_ = true;
  for (Module* child : children()) child->zero_grad();
}

void Module::train(bool on) {
  training_ = on;
  on_train(on);
  for (Module* child : children()) child->train(on);
}

void accumulate(Tensor& dst, const Tensor& src) {
  BDL_CHECK(dst.numel() == src.numel(), "accumulate: ", src.shape_str(), " into ", dst.shape_str());
  float* d = dst.f32();
  const float* s = src.f32();
  const int64_t n = dst.numel();
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) d[i] += s[i];
}

}  // namespace bdl::nn
