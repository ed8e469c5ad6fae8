#pragma once

// One run of the training loop, split into its steps: preparing the data and
// parameters, resuming, epochs of iterations with group boundaries, the end of
// an epoch (validation, callbacks, checkpoint) and checkpoints. Optimizer
// (include/bdl/optim/optimizer.h) collects the settings and runs one of these.
#include <chrono>
#include <optional>
#include <string>

#include "bdl/data/source.h"
#include "bdl/nn/flat_parameters.h"
#include "bdl/optim/optimizer.h"

namespace bdl::optim {

class TrainingRun {
 public:
  TrainingRun(nn::Module& model, const data::Source& train, nn::Criterion& criterion,
              ParameterSync& sync, Optimizer::Settings& settings);
  TrainResult run();

 private:
  using Clock = std::chrono::steady_clock;

  // The losses of the iterations since the last group boundary, and whether a
  // callback asked to stop; summed over the workers at the boundary.
  struct Group {
    double loss_sum = 0, iterations = 0, stop_requests = 0;
  };
  // The epoch in progress.
  struct Epoch {
    EpochRecord record;
    int64_t batches = 0;
    int64_t next_batch = 0;  // the first batch not trained on yet
    double loss_sum = 0, iterations = 0;
    Clock::time_point start;
  };

  void check_settings() const;
  void prepare();
  void resume();
  void check_checkpoint(const TrainingState& saved) const;
  // Runs one epoch (or what is left of it); true when training is done.
  bool run_epoch();
  int64_t batches_every_worker_has();
  // One iteration on a batch: forward, backward, the sync's exchange and update.
  double train_iteration(const data::MiniBatch& batch, const Epoch& epoch);
  void call_iteration_callbacks(const IterationRecord& record);
  // Combines the group's losses over the workers: progress, records, stops.
  void group_boundary(Epoch& epoch, IterationRecord& record);
  void end_epoch(Epoch& epoch);
  void validate(EpochRecord& record, bool scheduled);
  bool any_worker_stops(bool mine);
  // A checkpoint of where training stands: (epoch, next_batch) is the position
  // in the data to continue from.
  void write_checkpoint(int64_t epoch, int64_t next_batch);

  nn::Module& model_;
  const data::Source& train_set_;
  nn::Criterion& criterion_;
  ParameterSync& sync_;
  Optimizer::Settings& settings_;

  std::unique_ptr<data::BatchStream> stream_;  // this worker's training batches
  std::optional<data::Source> validation_;
  int64_t local_batch_ = 0;
  uint64_t worker_seed_ = 0;
  nn::FlatParameters flat_;
  double base_lr_ = 0;
  std::string method_name_;
  std::optional<Progress> progress_;
  Position position_;
  int64_t first_batch_ = 0;      // where the first epoch starts (a resumed one mid-way)
  bool warned_unequal_ = false;  // unequal shares of the data are reported once
  Group group_;
  bool done_ = false;
  TrainResult result_;
};

}  // namespace bdl::optim
