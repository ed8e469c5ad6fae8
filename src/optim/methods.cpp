#include "bdl/optim/methods.h"

#include <algorithm>
#include <cmath>

#include "bdl/core/error.h"

namespace bdl::optim {
namespace {

void check_sizes(const char* who, std::span<float> w, std::span<const float> g) {
  BDL_CHECK(w.size() == g.size(), who, ": ", w.size(), " weights but ", g.size(), " gradients");
}

// Sizes a state vector to the slice on first use; a later change of slice is an error.
void size_state(const char* who, std::vector<float>& state, size_t n, float init = 0.f) {
  if (state.size() == n) return;
  BDL_CHECK(state.empty(), who, ": slice size changed from ", state.size(), " to ", n);
  state.assign(n, init);
}

}  // namespace

AdamW::AdamW(AdamOptions options)
    : options_(options), adam_([&] {
        AdamOptions plain = options;
        plain.weight_decay = 0;
        return plain;
      }()) {}

std::string AdamW::describe() const {
  return detail::concat("AdamW(lr ", options_.lr, ", betas ", options_.beta1, "/", options_.beta2,
                        ", eps ", options_.eps, ", weight decay ", options_.weight_decay, ")");
}

void AdamW::set_learning_rate(double lr) {
  options_.lr = lr;
  adam_.set_learning_rate(lr);
}

void AdamW::step(std::span<float> weights, std::span<const float> grads) {
  check_sizes("AdamW", weights, grads);
  const auto keep = static_cast<float>(1.0 - options_.lr * options_.weight_decay);
  if (keep != 1.f) {
    for (float& w : weights) w *= keep;
  }
  adam_.step(weights, grads);
}

Adagrad::Adagrad(AdagradOptions options) : options_(options) {
  BDL_CHECK(options.lr >= 0 && options.lr_decay >= 0 && options.weight_decay >= 0 &&
                options.initial_accumulator >= 0 && options.eps >= 0,
            "Adagrad: options must be non-negative");
}

std::string Adagrad::describe() const {
  return detail::concat("Adagrad(lr ", options_.lr, ", lr decay ", options_.lr_decay,
                        ", weight decay ", options_.weight_decay, ")");
}

void Adagrad::step(std::span<float> weights, std::span<const float> grads) {
  check_sizes("Adagrad", weights, grads);
  size_state("Adagrad", sum_, weights.size(), static_cast<float>(options_.initial_accumulator));
  ++t_;
  const auto clr =
      static_cast<float>(options_.lr / (1.0 + static_cast<double>(t_ - 1) * options_.lr_decay));
  const auto wd = static_cast<float>(options_.weight_decay);
  const auto eps = static_cast<float>(options_.eps);
  for (size_t i = 0; i < weights.size(); ++i) {
    const float g = grads[i] + wd * weights[i];
    sum_[i] += g * g;
    weights[i] -= clr * g / (std::sqrt(sum_[i]) + eps);
  }
}

RMSprop::RMSprop(RMSpropOptions options) : options_(options) {
  BDL_CHECK(options.lr >= 0 && options.alpha >= 0 && options.alpha <= 1 && options.eps >= 0 &&
                options.weight_decay >= 0 && options.momentum >= 0,
            "RMSprop: lr, eps, weight decay and momentum must be non-negative and alpha in [0, 1]");
}

std::string RMSprop::describe() const {
  return detail::concat("RMSprop(lr ", options_.lr, ", alpha ", options_.alpha, ", momentum ",
                        options_.momentum, options_.centered ? ", centered" : "", ")");
}

void RMSprop::step(std::span<float> weights, std::span<const float> grads) {
  check_sizes("RMSprop", weights, grads);
  const size_t n = weights.size();
  size_state("RMSprop", square_avg_, n);
  if (options_.centered) size_state("RMSprop", grad_avg_, n);
  if (options_.momentum > 0) size_state("RMSprop", momentum_, n);
  const auto alpha = static_cast<float>(options_.alpha);
  const auto eps = static_cast<float>(options_.eps);
  const auto wd = static_cast<float>(options_.weight_decay);
  const auto lr = static_cast<float>(options_.lr);
  const auto m = static_cast<float>(options_.momentum);
  for (size_t i = 0; i < n; ++i) {
    const float g = grads[i] + wd * weights[i];
    square_avg_[i] = alpha * square_avg_[i] + (1 - alpha) * g * g;
    float avg;
    if (options_.centered) {
      grad_avg_[i] = alpha * grad_avg_[i] + (1 - alpha) * g;
      avg = std::sqrt(square_avg_[i] - grad_avg_[i] * grad_avg_[i]) + eps;
    } else {
      avg = std::sqrt(square_avg_[i]) + eps;
    }
    if (m > 0) {
      momentum_[i] = m * momentum_[i] + g / avg;
      weights[i] -= lr * momentum_[i];
    } else {
      weights[i] -= lr * g / avg;
    }
  }
}

LARS::LARS(LARSOptions options) : options_(options) {
  BDL_CHECK(options.lr >= 0 && options.momentum >= 0 && options.weight_decay >= 0 &&
                options.trust_coefficient > 0 && options.eps >= 0,
            "LARS: options must be non-negative and the trust coefficient positive");
}

std::string LARS::describe() const {
  return detail::concat("LARS(lr ", options_.lr, ", momentum ", options_.momentum,
                        ", weight decay ", options_.weight_decay, ", eta ",
                        options_.trust_coefficient, ")");
}

void LARS::step(std::span<float> weights, std::span<const float> grads) {
  check_sizes("LARS", weights, grads);
  size_state("LARS", momentum_, weights.size());
  // Without a context the slice is one tensor.
  parts_.clear();
  const auto begin = context_.offset;
  const auto end = begin + static_cast<int64_t>(weights.size());
  if (context_.slots == nullptr) {
    parts_.push_back({begin, end - begin, false});
  } else {
    for (const auto& slot : *context_.slots) {
      parts_.push_back({slot.offset, slot.numel, slot.shape.size() <= 1});
    }
  }
  // Partial sums of squares of this slice's share of every parameter, then the
  // whole norms (all workers take part in the sum, whatever they hold).
  norms_.assign(2 * parts_.size(), 0.0);
  for (size_t p = 0; p < parts_.size(); ++p) {
    const int64_t lo = std::max(parts_[p].start, begin);
    const int64_t hi = std::min(parts_[p].start + parts_[p].length, end);
    for (int64_t i = lo; i < hi; ++i) {
      const double w = weights[static_cast<size_t>(i - begin)];
      const double g = grads[static_cast<size_t>(i - begin)];
      norms_[2 * p] += w * w;
      norms_[2 * p + 1] += g * g;
    }
  }
  if (context_.sum_over_workers) context_.sum_over_workers(norms_);
  trust_.assign(parts_.size(), 1.0);
  const auto lr = static_cast<float>(options_.lr);
  const auto m = static_cast<float>(options_.momentum);
  for (size_t p = 0; p < parts_.size(); ++p) {
    const bool plain = options_.exclude_vectors && parts_[p].vector;
    const double wd = plain ? 0.0 : options_.weight_decay;
    const double wn = std::sqrt(norms_[2 * p]), gn = std::sqrt(norms_[2 * p + 1]);
    if (!plain && wn > 0 && gn > 0) {
      trust_[p] = options_.trust_coefficient * wn / (gn + wd * wn + options_.eps);
    }
    const auto trust = static_cast<float>(trust_[p]);
    const auto decay = static_cast<float>(wd);
    const int64_t lo = std::max(parts_[p].start, begin);
    const int64_t hi = std::min(parts_[p].start + parts_[p].length, end);
    for (int64_t i = lo; i < hi; ++i) {
      const auto k = static_cast<size_t>(i - begin);
      const float d = trust * (grads[k] + decay * weights[k]);
      momentum_[k] = m * momentum_[k] + d;
      weights[k] -= lr * momentum_[k];
    }
  }
}

MethodState Adagrad::state() const { return {{{"sum", sum_}}, {{"t", static_cast<double>(t_)}}}; }
void Adagrad::set_state(MethodState state) {
  sum_ = std::move(state.vector("sum", "Adagrad"));
  t_ = static_cast<int64_t>(state.scalar("t", "Adagrad"));
}

MethodState RMSprop::state() const {
  return {{{"square_avg", square_avg_}, {"grad_avg", grad_avg_}, {"momentum", momentum_}}, {}};
}
void RMSprop::set_state(MethodState state) {
  square_avg_ = std::move(state.vector("square_avg", "RMSprop"));
  grad_avg_ = std::move(state.vector("grad_avg", "RMSprop"));
  momentum_ = std::move(state.vector("momentum", "RMSprop"));
}

MethodState LARS::state() const { return {{{"momentum", momentum_}}, {}}; }
void LARS::set_state(MethodState state) { momentum_ = std::move(state.vector("momentum", "LARS")); }

}  // namespace bdl::optim
