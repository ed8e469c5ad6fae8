// Run under mpirun with 2, 3 and 4 processes (CTest entries dist_mpi_np*). Every
// rank runs every test; the single-worker references are computed on each rank
// locally, without communication.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "bdl/core/random.h"
#include "bdl/core/threads.h"
#include "bdl/dist/all_reduce_parameter.h"
#include "bdl/dist/communicator.h"
#include "bdl/dist/sync.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/losses/cross_entropy.h"
#include "bdl/optim/adam.h"
#include "bdl/optim/methods.h"
#include "bdl/optim/sgd.h"
#include "support/mpi_world.h"

namespace bdl::dist {
namespace {

using test::world_comm;

// The values worker `rank` contributes: a function of (seed, rank) so any rank
// can compute every worker's data.
std::vector<float> contribution(int64_t n, int rank, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  Rng(Rng::derive(seed, static_cast<uint64_t>(rank))).fill_uniform(v, -1.f, 1.f);
  return v;
}

TEST(AllReduceParameter, SlicesAreAlignedAndCoverTheBuffer) {
  Communicator& comm = world_comm();
  for (int64_t n : {0, 5, 61706, 1000003}) {
    AllReduceParameter p(comm, n);
    int64_t next = 0;
    for (int r = 0; r < comm.size(); ++r) {
      const Slice s = p.slice(r);
      EXPECT_EQ(s.offset, next) << n;
      if (s.length > 0) {
        EXPECT_EQ(s.offset % 16, 0) << "slice " << r << " of " << n << " not 64-byte aligned";
      }
      next = s.offset + s.length;
    }
    EXPECT_EQ(next, n);
  }
}

TEST(AllReduceParameter, ReduceScatterGivesEachOwnerTheExactSum) {
  Communicator& comm = world_comm();
  // Sizes that do not divide by the worker count, one smaller than the workers'
  // alignment (empty slices), and one spanning several chunks.
  for (int64_t n : {5, 61706, 300001}) {
    AllReduceParameter p(comm, n, WireFormat::fp32, /*chunk_bytes=*/4096);
    std::vector<float> grads = contribution(n, comm.rank(), 1);
    p.reduce_scatter(grads);
    const Slice own = p.own_slice();
    // The ring adds contributions in order r+1, r+2, ..., r (mod N) for slice r:
    // the same order gives the same float sum.
    std::vector<std::vector<float>> all;
    for (int r = 0; r < comm.size(); ++r) all.push_back(contribution(n, r, 1));
    for (int64_t i = own.offset; i < own.offset + own.length; ++i) {
      float expected = all[(comm.rank() + 1) % comm.size()][i];
      for (int k = 2; k <= comm.size(); ++k) expected += all[(comm.rank() + k) % comm.size()][i];
      ASSERT_EQ(grads[i], expected) << "n " << n << " element " << i;
    }
  }
}

TEST(AllReduceParameter, AllGatherGivesEveryoneTheOwnersSlices) {
  Communicator& comm = world_comm();
  for (int64_t n : {5, 61706, 300001}) {
    AllReduceParameter p(comm, n, WireFormat::fp32, 4096);
    std::vector<float> weights(static_cast<size_t>(n), -7.f);
    const Slice own = p.own_slice();
    const auto mine = contribution(n, comm.rank(), 2);
    std::copy(mine.begin() + own.offset, mine.begin() + own.offset + own.length,
              weights.begin() + own.offset);
    p.all_gather(weights);
    for (int r = 0; r < comm.size(); ++r) {
      const Slice s = p.slice(r);
      const auto theirs = contribution(n, r, 2);
      for (int64_t i = s.offset; i < s.offset + s.length; ++i) ASSERT_EQ(weights[i], theirs[i]);
    }
  }
}

// 16-bit wire formats: partial sums are rounded once per hop and summed in fp32,
// so the error of the sum is at most (N - 1) roundings of values no larger than
// the partial sums: |error| <= (N - 1) * 2^-p * (sum of |contributions|), with
// p = 11 for fp16 and 8 for bf16 (half an ulp of relative precision each).
TEST(AllReduceParameter, SixteenBitSumsStayWithinOneRoundingPerHop) {
  Communicator& comm = world_comm();
  const int64_t n = 20011;
  for (WireFormat format : {WireFormat::fp16, WireFormat::bf16}) {
    AllReduceParameter p(comm, n, format, 8192);
    std::vector<float> grads = contribution(n, comm.rank(), 3);
    p.reduce_scatter(grads);
    const Slice own = p.own_slice();
    const double unit = format == WireFormat::fp16 ? std::ldexp(1.0, -11) : std::ldexp(1.0, -8);
    std::vector<std::vector<float>> all;
    for (int r = 0; r < comm.size(); ++r) all.push_back(contribution(n, r, 3));
    for (int64_t i = own.offset; i < own.offset + own.length; ++i) {
      double exact = 0, magnitude = 0;
      for (const auto& c : all) {
        exact += c[i];
        magnitude += std::abs(c[i]);
      }
      ASSERT_LE(std::abs(grads[i] - exact), (comm.size() - 1) * unit * magnitude + 1e-7)
          << wire_format_name(format) << " element " << i;
    }
  }
}

TEST(AllReduceParameter, SixteenBitUpdatesKeepReplicasBitIdentical) {
  Communicator& comm = world_comm();
  const int64_t n = 5003;
  AllReduceParameter p(comm, n, WireFormat::bf16, 1024);
  std::vector<float> weights = contribution(n, 0, 4);  // the same on every worker
  const Slice own = p.own_slice();
  std::vector<float> before(weights.begin() + own.offset,
                            weights.begin() + own.offset + own.length);
  for (int64_t i = own.offset; i < own.offset + own.length; ++i) weights[i] -= 0.001f * i;
  p.all_gather(weights, before);
  // Every worker must now hold exactly what rank 0 holds.
  std::vector<float> from_zero = weights;
  comm.broadcast(from_zero, 0);
  EXPECT_EQ(weights, from_zero);
}

// --- N workers with batch b against 1 worker with batch N*b -----------------

std::unique_ptr<nn::Module> odd_mlp() {
  auto m = std::make_unique<nn::Sequential>();
  m->emplace<nn::Linear>(10, 5);  // 55 parameters
  m->emplace<nn::ReLU>();
  m->emplace<nn::Linear>(5, 3);  // 18: 73 in all, divisible by none of 2, 3, 4
  return m;
}

struct Problem {
  std::function<std::unique_ptr<nn::Module>()> make;
  Shape sample;
  int64_t classes;
};

// Adam divides by sqrt(v) + eps: with the default eps 1e-8 a gradient that is
// zero up to rounding (a cancelling sum) becomes a full +-lr step whose sign
// depends on the order of float summation, which differs between one worker and
// N (measured on LeNet-5: 1.3e-4 relative, the same for all three strategies).
// eps 1e-4 keeps such gradients in Adam's linear regime, so the comparison is of
// the synchronisation and the sharded moments, not of rounding noise.
// LARS needs whole-tensor norms while each worker holds a slice cut through
// tensors: its per-tensor partial sums are added over the workers.
std::unique_ptr<optim::OptimMethod> method(const std::string& name) {
  if (name == "adam") {
    return std::make_unique<optim::Adam>(optim::AdamOptions{.lr = 0.002, .eps = 1e-4});
  }
  if (name == "lars") {
    return std::make_unique<optim::LARS>(optim::LARSOptions{
        .lr = 0.5, .momentum = 0.9, .weight_decay = 1e-4, .trust_coefficient = 0.01});
  }
  return std::make_unique<optim::SGD>(optim::SGDOptions{.lr = 0.05, .momentum = 0.9});
}

// Trains for `iterations` on a fixed random data set; worker `rank` of `workers`
// takes its share of each global batch. Returns the final flat weights.
std::vector<float> train(const Problem& problem, optim::ParameterSync& sync,
                         const std::string& name, int64_t per_worker_batch, int64_t iterations) {
  const int64_t global = per_worker_batch * sync.size();
  manual_seed(42);
  auto model = problem.make();
  nn::FlatParameters flat = nn::compact(*model);
  model->set_needs_input_grad(false);
  sync.start(flat);
  auto m = method(name);
  nn::CrossEntropy ce;
  Shape x_shape = problem.sample;
  x_shape.insert(x_shape.begin(), global * iterations);
  Tensor x_all(x_shape);
  Rng data(7);
  data.fill_uniform(x_all.span_f32(), -1.f, 1.f);
  Tensor y_all({global * iterations}, DType::i64);
  for (int64_t i = 0; i < y_all.numel(); ++i) {
    y_all.data<int64_t>()[i] =
        static_cast<int64_t>(data.below(static_cast<uint64_t>(problem.classes)));
  }
  for (int64_t t = 0; t < iterations; ++t) {
    const int64_t first = t * global + sync.rank() * per_worker_batch;
    const Tensor x = x_all.narrow(0, first, per_worker_batch);
    const Tensor y = y_all.narrow(0, first, per_worker_batch);
    model->zero_grad();
    const Tensor& out = model->forward(x);
    ce.forward(out, y);
    model->backward(x, ce.backward(out, y));
    sync.step(flat, *m);
  }
  return flat.weights.to_vector();
}

class Equivalence
    : public ::testing::TestWithParam<std::tuple<std::string, SyncStrategy, std::string>> {};

// The bar: within 1e-5 relative (max |difference| over max |weight|)
// after 20 iterations; only the order of float summation differs.
TEST_P(Equivalence, NWorkersEqualOneWorkerWithNTimesTheBatch) {
  const auto& [model_name, strategy, method_name] = GetParam();
  set_num_threads(1);
  const Problem problem = model_name == "lenet5"
                              ? Problem{[] { return models::lenet5(10); }, {1, 28, 28}, 10}
                              : Problem{[] { return odd_mlp(); }, {10}, 3};
  Communicator& comm = world_comm();
  auto sync = make_sync(strategy, comm, WireFormat::fp32);
  const auto distributed = train(problem, *sync, method_name, 4, 20);
  // The reference: one worker, the whole global batch, no communication.
  optim::LocalSync one;
  const std::vector<float> reference = train(problem, one, method_name, 4 * comm.size(), 20);
  double max_diff = 0, max_weight = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(double{distributed[i]} - reference[i]));
    max_weight = std::max(max_weight, std::abs(double{reference[i]}));
  }
  EXPECT_LE(max_diff / max_weight, 1e-5) << "max difference " << max_diff;
  // And the weights moved: the comparison is not of two untouched models.
  manual_seed(42);
  auto fresh = problem.make();
  EXPECT_GT(std::abs(nn::compact(*fresh).weights.to_vector()[0] - reference[0]) +
                std::abs(nn::compact(*fresh).weights.to_vector().back() - reference.back()),
            0.0);
}

INSTANTIATE_TEST_SUITE_P(Sync, Equivalence,
                         ::testing::Combine(::testing::Values("odd_mlp", "lenet5"),
                                            ::testing::Values(SyncStrategy::sharded,
                                                              SyncStrategy::allreduce,
                                                              SyncStrategy::driver),
                                            ::testing::Values("sgd", "adam", "lars")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" +
                                  sync_strategy_name(std::get<1>(info.param)) + "_" +
                                  std::get<2>(info.param);
                         });

TEST(ShardedSync, OptimizerStateIsOneSliceOfTheModel) {
  Communicator& comm = world_comm();
  ShardedSync sync(comm);
  manual_seed(1);
  auto model = models::lenet5(10);
  nn::FlatParameters flat = nn::compact(*model);
  sync.start(flat);
  optim::Adam adam({});
  sync.step(flat, adam);
  EXPECT_EQ(static_cast<int64_t>(adam.first_moment().size()), sync.own_slice().length);
  EXPECT_LE(sync.own_slice().length, (flat.numel() + comm.size() - 1) / comm.size() + 16);
}

}  // namespace
}  // namespace bdl::dist
