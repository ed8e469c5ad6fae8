#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bdl/dist/all_reduce_parameter.h"
#include "bdl/dist/communicator.h"
#include "bdl/optim/parameter_sync.h"

namespace bdl::dist {

enum class SyncStrategy {
  sharded,    // BigDL: reduce-scatter, each owner updates its slice, all-gather
  allreduce,  // MPI_Allreduce of gradients, every worker runs the whole update
  driver,     // Spark MLlib: gather gradients to rank 0, update there, broadcast
};

SyncStrategy parse_sync_strategy(const std::string& name);
std::string sync_strategy_name(SyncStrategy strategy);

// What every strategy shares: the workers are a Communicator's, and metrics are
// reduced with its allreduce.
class CommunicatorSync : public optim::ParameterSync {
 public:
  explicit CommunicatorSync(Communicator& comm) : comm_(comm) {}
  int rank() const override { return comm_.rank(); }
  int size() const override { return comm_.size(); }
  void sum(std::span<double> values) override { comm_.allreduce(values, AllreduceOp::sum); }
  void min(std::span<double> values) override { comm_.allreduce(values, AllreduceOp::min); }
  std::vector<std::string> gather_bytes(std::string mine) override;
  std::string scatter_bytes(std::vector<std::string> parts) override;

 protected:
  Communicator& comm_;
};

// BigDL's synchronisation: the optimizer runs on this worker's slice only, so its
// state (momentum, Adam moments) is 1/N of the model per worker.
class ShardedSync : public CommunicatorSync {
 public:
  explicit ShardedSync(Communicator& comm, WireFormat format = WireFormat::fp32);
  std::string describe() const override;
  void start(nn::FlatParameters& flat) override;
  void step(nn::FlatParameters& flat, optim::OptimMethod& method) override;
  Slice own_slice() const { return parameter_ ? parameter_->own_slice() : Slice{}; }
  std::pair<int64_t, int64_t> state_range(int64_t total) const override;

 private:
  WireFormat format_;
  std::unique_ptr<AllReduceParameter> parameter_;
  std::vector<float> own_before_;
};

// For comparison: the MPI library's allreduce of the whole gradient, and the
// optimizer replicated on every worker (full optimizer state everywhere).
class AllreduceSync : public CommunicatorSync {
 public:
  explicit AllreduceSync(Communicator& comm) : CommunicatorSync(comm) {}
  std::string describe() const override;
  void start(nn::FlatParameters& flat) override;
  void step(nn::FlatParameters& flat, optim::OptimMethod& method) override;
};

// For comparison: what a driver-based system does. Rank 0 receives every
// worker's whole gradient, sums and updates, and broadcasts the weights.
class DriverSync : public CommunicatorSync {
 public:
  explicit DriverSync(Communicator& comm) : CommunicatorSync(comm) {}
  std::string describe() const override;
  void start(nn::FlatParameters& flat) override;
  void step(nn::FlatParameters& flat, optim::OptimMethod& method) override;
  std::pair<int64_t, int64_t> state_range(int64_t total) const override {
    return {0, comm_.rank() == 0 ? total : 0};
  }

 private:
  std::vector<float> gathered_;
};

std::unique_ptr<optim::ParameterSync> make_sync(SyncStrategy strategy, Communicator& comm,
                                                WireFormat format);

}  // namespace bdl::dist
