#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bdl/nn/flat_parameters.h"
#include "bdl/optim/optim_method.h"

namespace bdl::optim {

// How the training loop works with the other workers of a data-parallel job. The
// loop itself is the same on 1 or N workers; what differs is behind this
// interface. LocalSync is the single-worker case; bdl::dist provides the MPI ones
// (BigDL's sharded sync, MPI_Allreduce, driver-style).
class ParameterSync {
 public:
  virtual ~ParameterSync() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string describe() const = 0;

  // Before the first iteration: every worker adopts the same weights.
  virtual void start(nn::FlatParameters& flat) = 0;
  // One iteration's exchange: flat.grads holds this worker's gradient (a mean over
  // its share of the batch). Afterwards the method has been applied to the mean
  // gradient over all workers and every worker holds the same weights.
  virtual void step(nn::FlatParameters& flat, OptimMethod& method) = 0;

  // Metrics at group boundaries (element-wise over workers).
  virtual void sum(std::span<double> values) = 0;
  virtual void min(std::span<double> values) = 0;

  // Checkpoints. The part of the flat buffer whose optimizer state and master
  // weights this worker keeps (all of it unless the state is sharded).
  virtual std::pair<int64_t, int64_t> state_range(int64_t total) const { return {0, total}; }
  // Rank 0 receives every worker's bytes, rank-ordered; the others get nothing.
  virtual std::vector<std::string> gather_bytes(std::string mine) = 0;
  // Rank 0 gives parts[r] to worker r (the others pass nothing); each returns its part.
  virtual std::string scatter_bytes(std::vector<std::string> parts) = 0;
};

class LocalSync : public ParameterSync {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string describe() const override { return "1 worker"; }
  void start(nn::FlatParameters&) override {}
  void step(nn::FlatParameters& flat, OptimMethod& method) override {
    method.set_context({&flat.slots, 0, nullptr});
    method.step(flat.weights.span_f32(), flat.grads.span_f32());
  }
  void sum(std::span<double>) override {}
  void min(std::span<double>) override {}
  std::vector<std::string> gather_bytes(std::string mine) override { return {std::move(mine)}; }
  std::string scatter_bytes(std::vector<std::string> parts) override {
    return std::move(parts.at(0));
  }
};

}  // namespace bdl::optim
