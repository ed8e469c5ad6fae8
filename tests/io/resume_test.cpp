// Training resumed from a checkpoint reaches the weights of the uninterrupted
// run bit for bit: optimizer state, schedule state, position in the data and
// Dropout's random streams all come back.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "bdl/core/random.h"
#include "bdl/core/threads.h"
#include "bdl/data/dataset.h"
#include "bdl/io/model_file.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/losses/cross_entropy.h"
#include "bdl/nn/reshape.h"
#include "bdl/nn/sequential.h"
#include "bdl/optim/adam.h"
#include "bdl/optim/optimizer.h"
#include "bdl/optim/sgd.h"
#include "support/small_models.h"

namespace bdl::io {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<nn::Module> make_model(uint64_t init_seed) {
  return test::stateful_mlp(init_seed, 32);
}
using test::all_state;

bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

struct Run {
  std::string checkpoint_dir;  // empty: no checkpoints
  optim::Trigger end = optim::max_epoch(3);
  std::optional<optim::TrainingState> resume;
  bool adam = true;
};

// 600 samples, batch 32: 18 iterations an epoch. Adam (or SGD with momentum),
// warm-up then reduce-on-plateau (which has state), validation every epoch.
void train(nn::Module& model, const Run& run) {
  const auto train_set = data::synthetic({1, 8, 8}, 600, 10, 11);
  const auto test_set = data::synthetic({1, 8, 8}, 100, 10, 12);
  nn::CrossEntropy loss;
  optim::Optimizer opt(model, train_set, loss);
  if (run.adam) {
    opt.method(optim::Adam({.lr = 0.01}));
  } else {
    opt.method(optim::SGD({.lr = 0.05, .momentum = 0.9}));
  }
  auto schedule = std::make_unique<optim::SequentialSchedule>();
  schedule->then(optim::linear_warmup(1, 0.1), 1).then(optim::reduce_on_plateau(0.5, 0));
  opt.schedule(std::move(schedule))
      .batch_size(32)
      .seed(5)
      .sync_every(4)
      .end_when(run.end)
      .validate(optim::every_epoch(), test_set)
      .progress(optim::ProgressStyle::quiet);
  if (!run.checkpoint_dir.empty()) {
    auto dir = std::make_shared<CheckpointDirectory>(run.checkpoint_dir, 100);
    opt.checkpoint(optim::several_iteration(7),
                   [dir](nn::Module& m, const optim::TrainingState& s) { dir->save(m, s); });
  }
  if (run.resume) opt.resume(run.resume);
  opt.optimize();
}

class Resume : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    set_num_threads(1);
    dir_ = fs::temp_directory_path() / ("bdl_resume_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_P(Resume, ReachesTheWeightsOfTheUninterruptedRun) {
  const bool adam = GetParam();
  auto reference = make_model(1);
  train(*reference, {.adam = adam});
  const auto expected = all_state(*reference);

  // Checkpointing itself changes nothing.
  auto with_checkpoints = make_model(1);
  train(*with_checkpoints, {.checkpoint_dir = (dir_ / "full").string(), .adam = adam});
  EXPECT_TRUE(bit_equal(all_state(*with_checkpoints), expected));

  // Stopped mid-way through the second epoch (a crash after the checkpoint at
  // iteration 21, or a clean stop at 25), then resumed into a model initialised
  // differently: every checkpoint continues to the same weights.
  auto stopped = make_model(1);
  train(
      *stopped,
      {.checkpoint_dir = (dir_ / "part").string(), .end = optim::max_iteration(25), .adam = adam});
  CheckpointDirectory dir((dir_ / "part").string(), 100);
  const auto checkpoints = dir.list();
  ASSERT_EQ(checkpoints.size(), 4u);  // iterations 7, 14, 21 and the stop at 25
  for (const auto& path : checkpoints) {
    SCOPED_TRACE(path);
    auto resumed = make_model(77);
    auto state = restore_checkpoint(*resumed, path);
    train(*resumed, {.resume = state, .adam = adam});
    EXPECT_TRUE(bit_equal(all_state(*resumed), expected));
  }
  // Without the optimizer state (BigDL's resume lost Adam's moments) the result
  // differs: the test can tell.
  auto no_state = make_model(77);
  auto state = restore_checkpoint(*no_state, checkpoints[2]);
  for (auto& w : state.workers) {
    for (auto& [name, v] : w.method.vectors) std::fill(v.begin(), v.end(), 0.f);
  }
  train(*no_state, {.resume = state, .adam = adam});
  EXPECT_FALSE(bit_equal(all_state(*no_state), expected));
}

INSTANTIATE_TEST_SUITE_P(Methods, Resume, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Adam" : "SGD"; });

TEST(ResumeChecks, MismatchedSettingsAreRefused) {
  set_num_threads(1);
  const auto dir = fs::temp_directory_path() / ("bdl_resume_bad_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto model = make_model(1);
  train(*model, {.checkpoint_dir = dir.string(), .end = optim::max_iteration(8)});
  auto other = make_model(1);
  auto state = restore_checkpoint(*other, CheckpointDirectory(dir.string()).latest());
  state.seed = 6;
  try {
    train(*other, {.resume = state});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("seed 6"), std::string::npos) << e.what();
  }
  state.seed = 5;
  try {
    train(*other, {.resume = state, .adam = false});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("trained with Adam"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bdl::io
