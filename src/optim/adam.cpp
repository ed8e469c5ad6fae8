#include "bdl/optim/adam.h"

#include <cmath>

#include "bdl/core/error.h"

namespace bdl::optim {

Adam::Adam(AdamOptions options) : options_(options) {
  BDL_CHECK(options.lr >= 0, "Adam: learning rate must be non-negative, got ", options.lr);
  BDL_CHECK(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1,
            "Adam: betas must be in [0, 1), got ", options.beta1, " and ", options.beta2);
  BDL_CHECK(options.eps >= 0 && options.weight_decay >= 0,
            "Adam: eps and weight decay must be non-negative");
}

std::string Adam::describe() const {
  return detail::concat("Adam(lr ", options_.lr, ", betas ", options_.beta1, "/", options_.beta2,
                        ", eps ", options_.eps, ", weight decay ", options_.weight_decay, ")");
}

void Adam::step(std::span<float> weights, std::span<const float> grads) {
  BDL_CHECK(weights.size() == grads.size(), "Adam: ", weights.size(), " weights but ", grads.size(),
            " gradients");
  if (m_.size() != weights.size()) {
    BDL_CHECK(t_ == 0, "Adam: slice size changed from ", m_.size(), " to ", weights.size());
    m_.assign(weights.size(), 0.f);
    v_.assign(weights.size(), 0.f);
  }
  ++t_;
  const auto b1 = static_cast<float>(options_.beta1);
  const auto b2 = static_cast<float>(options_.beta2);
  const auto wd = static_cast<float>(options_.weight_decay);
  const auto eps = static_cast<float>(options_.eps);
  const double correction1 = 1.0 - std::pow(options_.beta1, static_cast<double>(t_));
  const double correction2 = 1.0 - std::pow(options_.beta2, static_cast<double>(t_));
  const auto step_size = static_cast<float>(options_.lr / correction1);
  const auto inv_sqrt_c2 = static_cast<float>(1.0 / std::sqrt(correction2));
  float* w = weights.data();
  const float* g = grads.data();
  float* m = m_.data();
  float* v = v_.data();
  const auto n = static_cast<int64_t>(weights.size());
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float d = g[i] + wd * w[i];
    m[i] = b1 * m[i] + (1.f - b1) * d;
    v[i] = b2 * v[i] + (1.f - b2) * d * d;
    w[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_c2 + eps);
  }
}

MethodState Adam::state() const {
  return {{{"m", m_}, {"v", v_}}, {{"t", static_cast<double>(t_)}}};
}

void Adam::set_state(MethodState state) {
  m_ = std::move(state.vector("m", "Adam"));
  v_ = std::move(state.vector("v", "Adam"));
  BDL_CHECK(m_.size() == v_.size(), "Adam state: m has ", m_.size(), " values and v ", v_.size());
  t_ = static_cast<int64_t>(state.scalar("t", "Adam"));
}

}  // namespace bdl::optim
