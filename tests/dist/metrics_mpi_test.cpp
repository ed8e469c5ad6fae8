// Validation metrics over three workers (CTest entry dist_metrics_np3): each
// worker scores its shard of the data, and the combined values equal
// scikit-learn's on the whole set (tests/fixtures/metrics.json) on every worker.
// BigDL averaged per-worker AUCs; bdl gathers the scores.
#include <gtest/gtest.h>

#include "bdl/dist/sync.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/losses/by_name.h"
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

}  // namespace
}  // namespace bdl::dist
