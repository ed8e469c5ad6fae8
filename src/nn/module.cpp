#include "bdl/nn/module.h"

#include "bdl/core/random.h"
#include "bdl/nn/layer.h"

namespace bdl::nn {
namespace {

std::string child_prefix(const std::string& prefix, Module& child, size_t index) {
  return prefix + (child.name().empty() ? std::to_string(index) : child.name()) + ".";
}

}  // namespace

void Module::collect(std::vector<Parameter>& out, const std::string& prefix) {
  const size_t first = out.size();
  own_parameters(out);
  for (size_t i = first; i < out.size(); ++i) out[i].name = prefix + out[i].name;
  auto kids = children();
  for (size_t i = 0; i < kids.size(); ++i) kids[i]->collect(out, child_prefix(prefix, *kids[i], i));
}

void Module::collect(std::vector<Buffer>& out, const std::string& prefix) {
  const size_t first = out.size();
  own_buffers(out);
  for (size_t i = first; i < out.size(); ++i) out[i].name = prefix + out[i].name;
  auto kids = children();
  for (size_t i = 0; i < kids.size(); ++i) kids[i]->collect(out, child_prefix(prefix, *kids[i], i));
}

std::vector<Buffer> Module::buffers() {
  std::vector<Buffer> out;
  collect(out, "");
  return out;
}

void Module::seed(uint64_t seed) {
  on_seed(seed);
  auto kids = children();
  for (size_t i = 0; i < kids.size(); ++i) kids[i]->seed(Rng::derive(seed, i + 1));
}

namespace {
thread_local bool t_skip_initialisation = false;
}  // namespace

SkipInitialisation::SkipInitialisation() : outer_(t_skip_initialisation) {
  t_skip_initialisation = true;
}
SkipInitialisation::~SkipInitialisation() { t_skip_initialisation = outer_; }
bool SkipInitialisation::active() { return t_skip_initialisation; }

namespace {
thread_local bool t_absent_fields_keep_defaults = false;
}
AbsentFieldsKeepDefaults::AbsentFieldsKeepDefaults() : outer_(t_absent_fields_keep_defaults) {
  t_absent_fields_keep_defaults = true;
}
AbsentFieldsKeepDefaults::~AbsentFieldsKeepDefaults() { t_absent_fields_keep_defaults = outer_; }
bool AbsentFieldsKeepDefaults::active() { return t_absent_fields_keep_defaults; }

std::vector<Rng*> Module::random_streams() {
  std::vector<Rng*> out;
  own_random_streams(out);
  for (Module* child : children()) {
    auto more = child->random_streams();
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
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

void Module::set_inference(bool on) {
  inference_ = on;
  for (Module* child : children()) child->set_inference(on);
}

void Module::retain_activations(bool on) {
  retain_activations_ = on;
  for (Module* child : children()) child->retain_activations(on);
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
