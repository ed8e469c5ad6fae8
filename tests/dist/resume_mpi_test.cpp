// Run under mpirun (CTest entries dist_resume_np*). A data-parallel run stopped
// and resumed from a checkpoint reaches the weights of the uninterrupted run bit
// for bit, for every sync strategy: rank 0 writes each worker's slice of the
// optimizer state and hands it back on resume.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "bdl/core/random.h"
#include "bdl/core/threads.h"
#include "bdl/data/dataset.h"
#include "bdl/dist/communicator.h"
#include "bdl/dist/sync.h"
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
#include "support/mpi_world.h"
#include "support/small_models.h"

namespace bdl::dist {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<nn::Module> make_model(uint64_t init_seed) {
  return test::stateful_mlp(init_seed, 40);
}
using test::all_state;
using test::world_comm;

void train(nn::Module& model, optim::ParameterSync& sync, const std::string& checkpoint_dir,
           optim::Trigger end, std::optional<optim::TrainingState> resume, bool resuming) {
  const auto train_set = data::synthetic({1, 8, 8}, 1200, 10, 11);
  nn::CrossEntropy loss;
  optim::Optimizer opt(model, train_set, loss);
  opt.method(optim::Adam({.lr = 0.01}))
      .batch_size(48)
      .seed(5)
      .sync(sync)
      .sync_every(4)
      .end_when(std::move(end))
      .progress(optim::ProgressStyle::quiet);
  if (!checkpoint_dir.empty()) {
    // Every worker takes part in a checkpoint; only rank 0 writes (and so only
    // rank 0 creates the directory).
    opt.checkpoint(optim::several_iteration(7),
                   [checkpoint_dir](nn::Module& m, const optim::TrainingState& s) {
                     io::CheckpointDirectory(checkpoint_dir, 100).save(m, s);
                   });
  }
  if (resuming) opt.resume(std::move(resume));
  opt.optimize();
}

class Resume : public ::testing::TestWithParam<std::tuple<SyncStrategy, WireFormat>> {};

TEST_P(Resume, ReachesTheWeightsOfTheUninterruptedRun) {
  const auto [strategy, format] = GetParam();
  set_num_threads(1);
  Communicator& comm = world_comm();
  // Only rank 0 touches the directory.
  const fs::path dir =
      fs::temp_directory_path() / ("bdl_resume_mpi_" + std::to_string(::getpid()) + "_" +
                                   sync_strategy_name(strategy) + wire_format_name(format));
  if (comm.rank() == 0) fs::remove_all(dir);

  auto sync = make_sync(strategy, comm, format);
  auto reference = make_model(1);
  train(*reference, *sync, "", optim::max_epoch(2), {}, false);
  const auto expected = all_state(*reference);

  auto stopped = make_model(1);
  auto sync2 = make_sync(strategy, comm, format);
  train(*stopped, *sync2, dir.string(), optim::max_iteration(30), {}, false);

  // Resume from the checkpoint at iteration 14 (epoch 1 of 25 iterations) and at
  // 28 (in epoch 2); the other workers start from other weights.
  for (int at : {14, 28}) {
    SCOPED_TRACE(at);
    auto resumed = make_model(100 + static_cast<uint64_t>(comm.rank()));
    std::optional<optim::TrainingState> state;
    if (comm.rank() == 0) {
      char name[64];
      std::snprintf(name, sizeof name, "checkpoint-%012d-", at);
      std::string path;
      for (const auto& p : io::CheckpointDirectory(dir.string()).list()) {
        if (p.find(name) != std::string::npos) path = p;
      }
      ASSERT_FALSE(path.empty()) << "no checkpoint of iteration " << at;
      state = io::restore_checkpoint(*resumed, path);
      EXPECT_EQ(static_cast<int>(state->workers.size()), comm.size());
    }
    auto sync3 = make_sync(strategy, comm, format);
    train(*resumed, *sync3, "", optim::max_epoch(2), state, true);
    const auto got = all_state(*resumed);
    ASSERT_EQ(got.size(), expected.size());
    EXPECT_EQ(std::memcmp(got.data(), expected.data(), got.size() * 4), 0)
        << "rank " << comm.rank();
  }
  comm.barrier();
  if (comm.rank() == 0) fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Sync, Resume,
                         ::testing::Values(std::make_tuple(SyncStrategy::sharded, WireFormat::fp32),
                                           std::make_tuple(SyncStrategy::sharded, WireFormat::fp16),
                                           std::make_tuple(SyncStrategy::allreduce,
                                                           WireFormat::fp32),
                                           std::make_tuple(SyncStrategy::driver, WireFormat::fp32)),
                         [](const auto& info) {
                           return sync_strategy_name(std::get<0>(info.param)) + "_" +
                                  wire_format_name(std::get<1>(info.param));
                         });

}  // namespace
}  // namespace bdl::dist
