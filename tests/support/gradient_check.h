#pragma once

// Caffe's gradient checker for bdl modules: the analytic gradients of
// L = sum(forward(x) * R) for a fixed random R, from backward(), against central
// finite differences, for the input and for every parameter.

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "bdl/core/random.h"
#include "bdl/nn/losses/criterion.h"
#include "bdl/nn/module.h"

namespace bdl::testing {

struct GradientCheckOptions {
  // float32 central differences: step 1e-2 keeps rounding error near 1e-5 while
  // the truncation error of smooth layers stays near 1e-4 (step squared).
  float step = 1e-2f;
  double rtol = 1e-2;
  double atol = 2e-3;
  uint64_t seed = 99;
  // Off for inputs that are not differentiable (Embedding's indices).
  bool check_input = true;
  // Parameter elements whose gradient is zero by convention rather than by
  // calculus (Embedding's padding row): compared with 0, not differenced.
  std::function<bool(const std::string& name, int64_t index)> frozen = {};
};

inline double weighted_sum(const Tensor& out, const std::vector<float>& r) {
  const auto v = out.to_vector();
  double s = 0;
  for (size_t i = 0; i < v.size(); ++i) s += double{v[i]} * r[i];
  return s;
}

inline ::testing::AssertionResult compare_gradient(const char* what, int64_t index, double numeric,
                                                   double analytic, const GradientCheckOptions& o) {
  if (std::abs(numeric - analytic) <= o.atol + o.rtol * std::abs(numeric)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << what << "[" << index << "]: finite difference " << numeric << ", backward " << analytic;
}

inline ::testing::AssertionResult check_module_gradients(nn::Module& m, const Tensor& input,
                                                         GradientCheckOptions o = {}) {
  Tensor x = input.clone();
  const Shape out_shape = m.forward(x).shape();
  std::vector<float> r(static_cast<size_t>(shape_numel(out_shape)));
  Rng rng(o.seed);
  rng.fill_uniform(r, -1.f, 1.f);
  const Tensor weights = Tensor::from_vector(r, out_shape);

  m.zero_grad();
  m.forward(x);
  const Tensor grad_input = m.backward(x, weights).clone();
  std::vector<Tensor> param_grads;
  auto params = m.parameters();
  for (auto& p : params) param_grads.push_back(p.grad->clone());

  auto numeric = [&](float* value) {
    const float saved = *value;
    *value = saved + o.step;
    const double plus = weighted_sum(m.forward(x), r);
    *value = saved - o.step;
    const double minus = weighted_sum(m.forward(x), r);
    *value = saved;
    return (plus - minus) / (2.0 * o.step);
  };
  float* xs = x.f32();
  const auto gi = grad_input.to_vector();
  for (int64_t i = 0; o.check_input && i < x.numel(); ++i) {
    auto result = compare_gradient("input", i, numeric(xs + i), gi[i], o);
    if (!result) return result;
  }
  for (size_t p = 0; p < params.size(); ++p) {
    float* w = params[p].value->f32();
    const auto g = param_grads[p].to_vector();
    for (int64_t i = 0; i < params[p].value->numel(); ++i) {
      const bool is_frozen = o.frozen && o.frozen(params[p].name, i);
      auto result =
          compare_gradient(params[p].name.c_str(), i, is_frozen ? 0.0 : numeric(w + i), g[i], o);
      if (!result) return result;
    }
  }
  return ::testing::AssertionSuccess();
}

// The same check for a criterion: d loss / d input against finite differences.
inline ::testing::AssertionResult check_criterion_gradient(nn::Criterion& c, const Tensor& input,
                                                           const Tensor& target,
                                                           GradientCheckOptions o = {}) {
  Tensor x = input.clone();
  const auto analytic = c.backward(x, target).to_vector();
  float* xs = x.f32();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float saved = xs[i];
    xs[i] = saved + o.step;
    const double plus = c.forward(x, target);
    xs[i] = saved - o.step;
    const double minus = c.forward(x, target);
    xs[i] = saved;
    auto result = compare_gradient("input", i, (plus - minus) / (2.0 * o.step), analytic[i], o);
    if (!result) return result;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace bdl::testing
