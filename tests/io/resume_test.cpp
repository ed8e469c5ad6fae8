// Training resumed from a checkpoint reaches the weights of the uninterrupted
// run bit for bit: optimizer state, schedule state, position in the data and
// Dropout's random streams all come back, for data in memory, for record
// shards streamed from disk and for image folders decoded with random crops and
// flips.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "bdl/core/random.h"
#include "bdl/core/threads.h"
#include "bdl/data/dataset.h"
#include "bdl/data/image_folder.h"
#include "bdl/data/record_shards.h"
#include "bdl/data/source.h"
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
#include "support/temp_dir.h"

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
  std::string shards;  // the data as record shards in this directory; empty: in memory
  std::string images;  // the data as an image folder in this directory
  bool shuffle = true;
};

data::Dataset train_data() { return data::synthetic({1, 8, 8}, 600, 10, 11); }
data::Dataset test_data() { return data::synthetic({1, 8, 8}, 100, 10, 12); }

// The same data as record shards (u8 images, normalised as they stream).
void write_shards(const std::string& dir) {
  data::write_record_shards(train_data(), dir, data::Split::train, 4);
  data::write_record_shards(test_data(), dir, data::Split::test, 2);
}

// The same data as PNG files in class folders.
void write_images(const std::string& dir) {
  for (const auto& [d, split] :
       {std::pair{train_data(), "train"}, std::pair{test_data(), "test"}}) {
    const Tensor images = d.features().reshape({d.size(), 8, 8});
    data::write_image_folder(images, d.targets(), {}, dir + "/" + split);
  }
}

// 600 samples, batch 32: 18 iterations an epoch. Adam (or SGD with momentum),
// warm-up then reduce-on-plateau (which has state), validation every epoch.
void train(nn::Module& model, const Run& run) {
  data::Source train_set = train_data(), test_set = test_data();
  if (!run.shards.empty()) {
    const data::Normalize normalize = *train_data().transform();
    train_set = data::record_shards(run.shards, data::Split::train).map(normalize);
    test_set = data::record_shards(run.shards, data::Split::test).map(normalize);
  }
  if (!run.images.empty()) {
    data::ImageFolderOptions augmented;
    augmented.transform = data::image_transform("standard", 8, 8, 1);
    train_set = data::image_folder(run.images, data::Split::train, augmented).with_classes(10);
    data::ImageFolderOptions plain;
    plain.transform = data::image_transform("none", 8, 8, 1);
    const auto classes = data::describe_image_folder(run.images, data::Split::train).classes;
    test_set = data::image_folder(run.images, data::Split::test, plain, &classes);
  }
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
      .shuffle(run.shuffle)
      .input_pipeline({.shuffle_buffer = 50, .prefetch_batches = 3, .decode_threads = 2})
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

// (Adam or SGD; in memory, record shards or an image folder)
class Resume : public ::testing::TestWithParam<std::tuple<bool, int>> {
 protected:
  void SetUp() override {
    set_num_threads(1);
    dir_ = fs::temp_directory_path() / ("bdl_resume_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    if (std::get<1>(GetParam()) == 1) {
      shards_ = (dir_ / "data").string();
      write_shards(shards_);
    }
    if (std::get<1>(GetParam()) == 2) {
      images_ = (dir_ / "images").string();
      write_images(images_);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string shards_, images_;
};

TEST_P(Resume, ReachesTheWeightsOfTheUninterruptedRun) {
  const bool adam = std::get<0>(GetParam());
  const std::string shards = shards_, images = images_;
  auto reference = make_model(1);
  train(*reference, {.adam = adam, .shards = shards, .images = images});
  const auto expected = all_state(*reference);

  // Checkpointing itself changes nothing.
  auto with_checkpoints = make_model(1);
  train(*with_checkpoints, {.checkpoint_dir = (dir_ / "full").string(),
                            .adam = adam,
                            .shards = shards,
                            .images = images});
  EXPECT_TRUE(bit_equal(all_state(*with_checkpoints), expected));

  // Stopped mid-way through the second epoch (a crash after the checkpoint at
  // iteration 21, or a clean stop at 25), then resumed into a model initialised
  // differently: every checkpoint continues to the same weights.
  auto stopped = make_model(1);
  train(*stopped, {.checkpoint_dir = (dir_ / "part").string(),
                   .end = optim::max_iteration(25),
                   .adam = adam,
                   .shards = shards,
                   .images = images});
  CheckpointDirectory dir((dir_ / "part").string(), 100);
  const auto checkpoints = dir.list();
  ASSERT_EQ(checkpoints.size(), 4u);  // iterations 7, 14, 21 and the stop at 25
  for (const auto& path : checkpoints) {
    SCOPED_TRACE(path);
    auto resumed = make_model(77);
    auto state = restore_checkpoint(*resumed, path);
    train(*resumed, {.resume = state, .adam = adam, .shards = shards, .images = images});
    EXPECT_TRUE(bit_equal(all_state(*resumed), expected));
  }
  // Without the optimizer state (BigDL's resume lost Adam's moments) the result
  // differs: the test can tell.
  auto no_state = make_model(77);
  auto state = restore_checkpoint(*no_state, checkpoints[2]);
  for (auto& w : state.workers) {
    for (auto& [name, v] : w.method.vectors) std::fill(v.begin(), v.end(), 0.f);
  }
  train(*no_state, {.resume = state, .adam = adam, .shards = shards, .images = images});
  EXPECT_FALSE(bit_equal(all_state(*no_state), expected));
}

std::string resume_case_name(const ::testing::TestParamInfo<std::tuple<bool, int>>& info) {
  const int source = std::get<1>(info.param);
  return std::string(std::get<0>(info.param) ? "Adam" : "SGD") + (source == 0 ? "InMemory"
                                                                  : source == 1
                                                                      ? "FromRecordShards"
                                                                      : "FromAnImageFolder");
}
INSTANTIATE_TEST_SUITE_P(Methods, Resume,
                         ::testing::Combine(::testing::Bool(), ::testing::Values(0, 1, 2)),
                         resume_case_name);

// The pipeline changes speed, not results: in storage order, training from
// record shards gives the weights training from memory gives, bit for bit
// (and shuffled, a different order, so different weights: the test can tell).
TEST(StreamedData, TrainsToTheWeightsOfTheSameDataInMemory) {
  set_num_threads(1);
  const testing::TempDir dir("bdl_streamed");
  write_shards(dir.path().string());
  auto in_memory = make_model(1);
  train(*in_memory, {.shuffle = false});
  auto streamed = make_model(1);
  train(*streamed, {.shards = dir.path().string(), .shuffle = false});
  EXPECT_TRUE(bit_equal(all_state(*streamed), all_state(*in_memory)));
  auto shuffled = make_model(1);
  train(*shuffled, {.shards = dir.path().string()});
  EXPECT_FALSE(bit_equal(all_state(*shuffled), all_state(*in_memory)));
}

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
