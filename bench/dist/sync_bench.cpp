// Time per parameter synchronisation, run under mpirun:
//   mpirun -np N build/bench/sync_bench [--sizes 1000000,7000000,25000000] [--reps 20]
// For each buffer size and strategy: the median time of one sync (gradient
// exchange and weight exchange, with an optimizer that does nothing), algbw =
// bytes / time and busbw = algbw * 2(N-1)/N (the nccl-tests convention).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "bdl/dist/communicator.h"
#include "bdl/dist/sync.h"
#include "bdl/nn/flat_parameters.h"

namespace {

class NoUpdate : public bdl::optim::OptimMethod {
 public:
  void step(std::span<float>, std::span<const float>) override {}
  std::string describe() const override { return "none"; }
  double learning_rate() const override { return 0; }
  void set_learning_rate(double) override {}
};

}  // namespace

int main(int argc, char** argv) {
  using namespace bdl;
  std::vector<int64_t> sizes{1000000, 7000000, 25000000};
  int reps = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--reps") reps = std::atoi(argv[i + 1]);
    if (flag == "--sizes") {
      sizes.clear();
      std::stringstream list(argv[i + 1]);
      for (std::string item; std::getline(list, item, ',');) sizes.push_back(std::stoll(item));
    }
  }
  auto comm = dist::world();
  const int n = comm->size();
  if (comm->rank() == 0) {
    std::printf("%d workers (%s)\n%-10s %-16s %12s %12s %12s\n", n, comm->describe().c_str(),
                "floats", "strategy", "time ms", "algbw GB/s", "busbw GB/s");
  }
  struct Case {
    const char* name;
    dist::SyncStrategy strategy;
    dist::WireFormat format;
  };
  const Case cases[] = {{"sharded", dist::SyncStrategy::sharded, dist::WireFormat::fp32},
                        {"sharded-fp16", dist::SyncStrategy::sharded, dist::WireFormat::fp16},
                        {"sharded-bf16", dist::SyncStrategy::sharded, dist::WireFormat::bf16},
                        {"mpi-allreduce", dist::SyncStrategy::allreduce, dist::WireFormat::fp32},
                        {"driver", dist::SyncStrategy::driver, dist::WireFormat::fp32}};
  NoUpdate none;
  for (int64_t size : sizes) {
    nn::FlatParameters flat;
    flat.weights = Tensor({size});
    flat.grads = Tensor({size});
    for (const Case& c : cases) {
      auto sync = dist::make_sync(c.strategy, *comm, c.format);
      sync->start(flat);
      std::vector<double> times;
      for (int r = 0; r < reps + 2; ++r) {
        flat.grads.fill(1.f);
        comm->barrier();
        const auto t0 = std::chrono::steady_clock::now();
        sync->step(flat, none);
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                        .count();
        // The slowest worker's time is the sync's time.
        comm->allreduce(std::span(&ms, 1), dist::AllreduceOp::max);
        if (r >= 2) times.push_back(ms);
      }
      std::sort(times.begin(), times.end());
      const double median = times[times.size() / 2];
      const double bytes = static_cast<double>(size) * 4;
      const double algbw = bytes / (median * 1e-3) / 1e9;
      if (comm->rank() == 0) {
        std::printf("%-10lld %-16s %12.3f %12.2f %12.2f\n", static_cast<long long>(size), c.name,
                    median, algbw, algbw * 2.0 * (n - 1) / n);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
