#include "bdl/optim/schedule.h"

#include <gtest/gtest.h>

#include "bdl/core/error.h"
#include "support/fixtures.h"

namespace bdl::testing {
namespace {

using optim::ScheduleUnit;

std::unique_ptr<optim::Schedule> make(const std::string& name) {
  if (name == "step") return optim::step_lr(3, 0.5);
  if (name == "multi_step") return optim::multi_step_lr({5, 2, 9}, 0.1);
  if (name == "exponential") return optim::exponential_lr(0.9);
  if (name == "polynomial") return optim::polynomial_lr(8, 2.0);
  if (name == "cosine") return optim::cosine_lr(10, 0.001);
  if (name == "linear_warmup") return optim::linear_warmup(4, 0.25, ScheduleUnit::epoch, false);
  if (name == "warmup_then_cosine") {
    auto s = std::make_unique<optim::SequentialSchedule>();
    s->then(optim::linear_warmup(3, 0.1, ScheduleUnit::epoch, false), 3).then(optim::cosine_lr(9));
    return s;
  }
  if (name == "plateau") return optim::reduce_on_plateau(0.5, 2);
  throw std::runtime_error("no schedule for fixture " + name);
}

class ScheduleTest : public ::testing::TestWithParam<std::string> {};

// The rate of each epoch against torch.optim.lr_scheduler stepped per epoch
// (with 7 iterations per epoch: the rate holds across an epoch's iterations).
TEST_P(ScheduleTest, MatchesPyTorchPerEpoch) {
  static const auto fixtures = load_fixture("schedules.json");
  const auto& c = find_case(fixtures, GetParam());
  auto schedule = make(GetParam());
  const double base = c["base"];
  const auto& rates = c["rates"];
  for (int64_t e = 0; e < static_cast<int64_t>(rates.size()); ++e) {
    for (int64_t i = 0; i < 7; ++i) {
      const double r = schedule->rate(base, {e * 7 + i, e, 7});
      EXPECT_NEAR(r, rates[static_cast<size_t>(e)].get<double>(), 1e-9) << "epoch " << e;
    }
    if (!c["losses"].is_null()) schedule->on_validation(c["losses"][static_cast<size_t>(e)]);
  }
}

INSTANTIATE_TEST_SUITE_P(Schedules, ScheduleTest,
                         ::testing::Values("step", "multi_step", "exponential", "polynomial",
                                           "cosine", "linear_warmup", "warmup_then_cosine",
                                           "plateau"));

TEST(Schedule, SmoothWarmupRisesEveryIteration) {
  auto w = optim::linear_warmup(2, 0.0);  // two epochs of 10 iterations
  EXPECT_DOUBLE_EQ(w->rate(1.0, {0, 0, 10}), 0.0);
  EXPECT_DOUBLE_EQ(w->rate(1.0, {5, 0, 10}), 0.25);
  EXPECT_DOUBLE_EQ(w->rate(1.0, {15, 1, 10}), 0.75);
  EXPECT_DOUBLE_EQ(w->rate(1.0, {20, 2, 10}), 1.0);
}

TEST(Schedule, IterationPhasesShiftTheNextPhasesClock) {
  optim::SequentialSchedule s;
  s.then(optim::linear_warmup(4, 0.0, ScheduleUnit::iteration), 4, ScheduleUnit::iteration)
      .then(optim::step_lr(2, 0.5, ScheduleUnit::iteration));
  EXPECT_DOUBLE_EQ(s.rate(8.0, {2, 0, 100}), 4.0);
  EXPECT_DOUBLE_EQ(s.rate(8.0, {4, 0, 100}), 8.0);
  EXPECT_DOUBLE_EQ(s.rate(8.0, {6, 0, 100}), 4.0);
}

TEST(Schedule, LinearScalingRule) {
  EXPECT_DOUBLE_EQ(optim::scale_learning_rate(0.1, 8192, 256), 3.2);
  EXPECT_THROW(optim::scale_learning_rate(0.1, 0, 256), Error);
}

TEST(Schedule, RejectsBadOptions) {
  EXPECT_THROW(optim::step_lr(0, 0.5), Error);
  EXPECT_THROW(optim::linear_warmup(3, 1.5), Error);
  EXPECT_THROW(optim::reduce_on_plateau(1.5), Error);
}

}  // namespace
}  // namespace bdl::testing
