#include "bdl/optim/sgd.h"

#include "bdl/core/error.h"

namespace bdl::optim {

SGD::SGD(SGDOptions options) : options_(options) {
  BDL_CHECK(options.lr >= 0, "SGD: learning rate must be non-negative, got ", options.lr);
  BDL_CHECK(options.momentum >= 0, "SGD: momentum must be non-negative, got ", options.momentum);
  BDL_CHECK(options.weight_decay >= 0, "SGD: weight decay must be non-negative");
  BDL_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
            "SGD: nesterov needs momentum > 0 and zero dampening");
}

std::string SGD::describe() const {
  return detail::concat("SGD(lr ", options_.lr, ", momentum ", options_.momentum,
                        options_.nesterov ? ", nesterov" : "", ", weight decay ",
                        options_.weight_decay, ")");
}

void SGD::step(std::span<float> weights, std::span<const float> grads) {
  BDL_CHECK(weights.size() == grads.size(), "SGD: ", weights.size(), " weights but ", grads.size(),
            " gradients");
  const auto n = static_cast<int64_t>(weights.size());
  const auto lr = static_cast<float>(options_.lr);
  const auto wd = static_cast<float>(options_.weight_decay);
  const auto m = static_cast<float>(options_.momentum);
  const auto damp = 1.f - static_cast<float>(options_.dampening);
  float* w = weights.data();
  const float* g = grads.data();
  if (m == 0.f) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) w[i] -= lr * (g[i] + wd * w[i]);
    return;
  }
  if (momentum_.size() != weights.size()) {
    BDL_CHECK(first_step_, "SGD: slice size changed from ", momentum_.size(), " to ",
              weights.size());
    momentum_.assign(weights.size(), 0.f);
  }
  float* b = momentum_.data();
  const bool first = first_step_;
  const bool nesterov = options_.nesterov;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float d = g[i] + wd * w[i];
    b[i] = first ? d : m * b[i] + damp * d;
    w[i] -= lr * (nesterov ? d + m * b[i] : b[i]);
  }
  first_step_ = false;
}

std::vector<float>& MethodState::vector(const std::string& name, const std::string& method) {
  for (auto& [n, v] : vectors) {
    if (n == name) return v;
  }
  fail(method, " state: no '", name, "' vector in the checkpoint");
}

double MethodState::scalar(const std::string& name, const std::string& method) const {
  for (const auto& [n, v] : scalars) {
    if (n == name) return v;
  }
  fail(method, " state: no '", name, "' value in the checkpoint");
}

MethodState SGD::state() const {
  return {{{"momentum", momentum_}}, {{"first_step", first_step_ ? 1.0 : 0.0}}};
}

void SGD::set_state(MethodState state) {
  momentum_ = std::move(state.vector("momentum", "SGD"));
  first_step_ = state.scalar("first_step", "SGD") != 0;
}

}  // namespace bdl::optim
