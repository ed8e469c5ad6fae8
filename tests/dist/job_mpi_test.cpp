// Jobs over three workers (CTest entry dist_job_np3). Validation metrics: each
// worker scores its shard of the data, and the combined values equal
// scikit-learn's on the whole set (tests/fixtures/metrics.json) on every worker
// (BigDL averaged per-worker AUCs; bdl gathers the scores). Training jobs
// through job::train, several in one process.
#include <gtest/gtest.h>

#include "bdl/dist/sync.h"
#include "bdl/job/train.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/losses/by_name.h"
#include "bdl/nn/sequential.h"
#include "bdl/optim/metrics.h"
#include "support/metric_cases.h"
#include "support/mpi_world.h"

namespace bdl::dist {
namespace {

TEST(DistributedMetrics, MatchScikitLearnOnTheWholeSet) {
  Communicator& comm = test::world_comm();
  auto sync = make_sync(SyncStrategy::sharded, comm, WireFormat::fp32);
  for (const auto& c : testing::metric_cases()) {
    SCOPED_TRACE(c.name);
    const data::Dataset mine = c.dataset.shard(comm.rank(), comm.size());
    int64_t own = 0;
    for (const auto& p : mine.partitions()) own += p.size();
    ASSERT_LT(own, c.dataset.size());  // each worker scores part of the set
    std::vector<std::string> names;
    for (const auto& [name, value] : c.expected) names.push_back(name);
    nn::Identity model;
    auto loss = nn::make_criterion(c.loss);
    const optim::Evaluation e = optim::evaluate(model, *loss, mine, 5, names, *sync);
    EXPECT_EQ(e.samples, c.dataset.size());
    for (const auto& [name, want] : c.expected) EXPECT_NEAR(e[name], want, 1e-12) << name;
    const optim::Evaluation alone = optim::evaluate(model, *loss, c.dataset, 5, names);
    EXPECT_NEAR(e.loss, alone.loss, 1e-6);
  }
}

// Two jobs in one process (MPI is initialised once), each ending with the same
// weights and report on every worker.
TEST(DistributedJobs, RunOneAfterAnotherInOneProcess) {
  Communicator& comm = test::world_comm();
  for (int run = 0; run < 2; ++run) {
    auto model = std::make_shared<nn::Sequential>();
    model->add(std::make_unique<nn::Linear>(4, 2));
    job::TrainSpec spec;
    spec.model.module = model;
    spec.model.sample_shape = {4};
    Tensor x({96, 4}), y({96}, DType::i64);
    for (int64_t i = 0; i < 96; ++i) {
      for (int64_t j = 0; j < 4; ++j) x.f32()[i * 4 + j] = static_cast<float>((i * 7 + j) % 5) - 2;
      y.data<int64_t>()[i] = x.f32()[i * 4] > 0 ? 1 : 0;
    }
    spec.data.train = data::Dataset(x, y, "generated");
    spec.data.validation = spec.data.train;
    spec.epochs = 2;
    spec.batch_size = 12;
    spec.progress = "quiet";
    const job::TrainReport r = job::train(spec);
    EXPECT_EQ(r.workers, comm.size());
    EXPECT_EQ(r.result.iterations, 16);
    // Every worker holds the same weights: their sum is the same everywhere.
    double sums[2] = {0, 0};
    for (float w : model->parameters()[0].value->span_f32()) sums[0] += w;
    sums[1] = sums[0];
    comm.allreduce(std::span(sums, 1), AllreduceOp::min);
    comm.allreduce(std::span(sums + 1, 1), AllreduceOp::max);
    EXPECT_EQ(sums[0], sums[1]);
  }
}

// A stop asked by one worker's iteration callback ends training on every
// worker together, at the next group boundary (alone it ends after the
// iteration: tests/job/train_job_test.cpp).
TEST(DistributedJobs, OneWorkersStopEndsAllAtTheNextGroupBoundary) {
  Communicator& comm = test::world_comm();
  auto model = std::make_shared<nn::Sequential>();
  model->add(std::make_unique<nn::Linear>(4, 2));
  job::TrainSpec spec;
  spec.model.module = model;
  spec.model.sample_shape = {4};
  Tensor x({960, 4}), y({960}, DType::i64);
  spec.data.train = data::Dataset(x, y, "zeros");
  spec.epochs = 1;
  spec.batch_size = 12;  // 80 iterations
  spec.sync.every = 10;
  spec.progress = "quiet";
  spec.on_iteration.push_back([&](const optim::IterationRecord& r) {
    const bool stop = comm.rank() == 1 && r.iteration == 13;
    return stop ? optim::Decision::stop : optim::Decision::proceed;
  });
  const job::TrainReport r = job::train(spec);
  EXPECT_EQ(r.result.iterations, 20);
  EXPECT_TRUE(r.result.stopped_by_callback);
}

}  // namespace
}  // namespace bdl::dist
