#include "bdl/optim/methods.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/fixtures.h"
#include "support/tensor_matchers.h"

namespace bdl::testing {
namespace {

const nlohmann::json& fixtures() {
  static const auto all = load_fixture("optimizers.json");
  return all;
}

std::unique_ptr<optim::OptimMethod> make(const std::string& name, const nlohmann::json& o) {
  if (name == "adamw") {
    return std::make_unique<optim::AdamW>(
        optim::AdamOptions{.lr = o["lr"], .weight_decay = o["weight_decay"]});
  }
  if (name == "adagrad") {
    return std::make_unique<optim::Adagrad>(
        optim::AdagradOptions{.lr = o["lr"],
                              .lr_decay = o["lr_decay"],
                              .weight_decay = o["weight_decay"],
                              .initial_accumulator = o["initial_accumulator_value"]});
  }
  if (name.rfind("rmsprop", 0) == 0) {
    return std::make_unique<optim::RMSprop>(
        optim::RMSpropOptions{.lr = o["lr"],
                              .alpha = o.value("alpha", 0.99),
                              .weight_decay = o.value("weight_decay", 0.0),
                              .momentum = o.value("momentum", 0.0),
                              .centered = o.value("centered", false)});
  }
  if (name == "lars") {
    return std::make_unique<optim::LARS>(
        optim::LARSOptions{.lr = o["lr"],
                           .momentum = o["momentum"],
                           .weight_decay = o["weight_decay"],
                           .trust_coefficient = o["trust_coefficient"],
                           .exclude_vectors = true});
  }
  throw std::runtime_error("no method for fixture " + name);
}

std::vector<nn::ParameterSlot> slots_of(const nlohmann::json& c) {
  std::vector<nn::ParameterSlot> slots;
  if (!c.contains("slots")) return slots;
  for (const auto& s : c["slots"]) {
    slots.push_back({s["name"], s["shape"].get<Shape>(), s["offset"], s["numel"]});
  }
  return slots;
}

class MethodTest : public ::testing::TestWithParam<std::string> {};

// Every step against torch.optim (LARS: against its formula in torch ops) fed
// the same gradients.
TEST_P(MethodTest, StepsMatchPyTorch) {
  const auto& c = find_case(fixtures(), GetParam());
  auto method = make(GetParam(), c["options"]);
  const auto slots = slots_of(c);
  Tensor w = tensor_of(c["initial"]);
  for (size_t s = 0; s < c["grads"].size(); ++s) {
    const Tensor g = tensor_of(c["grads"][s]);
    if (!slots.empty()) method->set_context({&slots, 0, nullptr});
    method->step(w.span_f32(), g.span_f32());
    EXPECT_TRUE(all_close(w, tensor_of(c["weights"][s]), 1e-5, 1e-6)) << "step " << s;
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, MethodTest,
                         ::testing::Values("adamw", "adagrad", "rmsprop",
                                           "rmsprop_centered_momentum", "lars"));

// Two workers each holding half of the flat buffer, with the cut inside the
// weight tensor: each sees only part of it, and the sum over workers gives
// both the whole norm, so together they take exactly the one-worker step.
TEST(LARS, ANormCutBySliceBoundaryIsExact) {
  const auto& c = find_case(fixtures(), "lars");
  const auto slots = slots_of(c);
  auto whole = make("lars", c["options"]);
  auto left = make("lars", c["options"]);
  auto right = make("lars", c["options"]);
  Tensor w1 = tensor_of(c["initial"]);
  Tensor w2 = w1.clone();
  const size_t cut = 17;  // inside the 30-element weight
  for (size_t s = 0; s < c["grads"].size(); ++s) {
    const Tensor g = tensor_of(c["grads"][s]);
    whole->set_context({&slots, 0, nullptr});
    whole->step(w1.span_f32(), g.span_f32());
    // The workers' partial sums, computed up front as an allreduce would deliver them.
    auto partial = [&](size_t begin, size_t end) {
      std::vector<double> v(2 * slots.size(), 0.0);
      for (size_t p = 0; p < slots.size(); ++p) {
        const auto lo = std::max<size_t>(begin, static_cast<size_t>(slots[p].offset));
        const auto hi =
            std::min<size_t>(end, static_cast<size_t>(slots[p].offset + slots[p].numel));
        for (size_t i = lo; i < hi; ++i) {
          v[2 * p] += double{w2.f32()[i]} * w2.f32()[i];
          v[2 * p + 1] += double{g.f32()[i]} * g.f32()[i];
        }
      }
      return v;
    };
    const auto from_left = partial(0, cut), from_right = partial(cut, 37);
    auto add = [](const std::vector<double>& other) {
      return [other](std::span<double> v) {
        for (size_t i = 0; i < v.size(); ++i) v[i] += other[i];
      };
    };
    left->set_context({&slots, 0, add(from_right)});
    right->set_context({&slots, static_cast<int64_t>(cut), add(from_left)});
    left->step(w2.span_f32().subspan(0, cut), g.span_f32().subspan(0, cut));
    right->step(w2.span_f32().subspan(cut), g.span_f32().subspan(cut));
  }
  EXPECT_TRUE(all_close(w2, w1, 1e-6, 1e-7));
}

TEST(LARS, LeavesVectorsOnPlainMomentumSGD) {
  optim::LARS lars({.lr = 0.1,
                    .momentum = 0.0,
                    .weight_decay = 0.5,
                    .trust_coefficient = 0.001,
                    .exclude_vectors = true});
  const std::vector<nn::ParameterSlot> slots{{"bias", {2}, 0, 2}};
  std::vector<float> w{1.f, 2.f}, g{0.5f, -1.f};
  lars.set_context({&slots, 0, nullptr});
  lars.step(w, g);
  EXPECT_FLOAT_EQ(w[0], 1.f - 0.1f * 0.5f);
  EXPECT_FLOAT_EQ(w[1], 2.f + 0.1f);
  EXPECT_EQ(lars.trust_ratios().at(0), 1.0);
}

TEST(Methods, RejectBadOptions) {
  EXPECT_THROW(optim::Adagrad({.lr = -1}), Error);
  EXPECT_THROW(optim::RMSprop({.alpha = 1.5}), Error);
  EXPECT_THROW(optim::LARS({.trust_coefficient = 0}), Error);
  optim::RMSprop rms({});
  std::vector<float> w(3), g(4);
  EXPECT_THROW(rms.step(w, g), Error);
}

}  // namespace
}  // namespace bdl::testing
