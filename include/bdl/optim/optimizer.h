#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "bdl/data/dataset.h"
#include "bdl/nn/criterion.h"
#include "bdl/nn/module.h"
#include "bdl/optim/checkpoint.h"
#include "bdl/optim/metrics.h"
#include "bdl/optim/optim_method.h"
#include "bdl/optim/parameter_sync.h"
#include "bdl/optim/progress.h"
#include "bdl/optim/schedule.h"
#include "bdl/optim/trigger.h"

namespace bdl::optim {

struct EpochRecord {
  int64_t epoch = 0;
  int64_t iterations = 0;    // in this epoch
  double train_loss = 0;     // mean over this epoch's iterations and all workers
  double train_seconds = 0;  // forward, backward, update and batching; no validation
  double samples_per_sec = 0;
  std::optional<Evaluation> validation;
};

struct TrainResult {
  int64_t iterations = 0;
  int64_t epochs = 0;    // epochs completed
  double last_loss = 0;  // loss of the last iteration
  double train_seconds = 0;
  int64_t train_samples = 0;  // over all workers
  double sync_seconds = 0;    // in ParameterSync::step (exchange and update), on rank 0
  double samples_per_sec() const { return train_seconds > 0 ? train_samples / train_seconds : 0; }
  std::vector<EpochRecord> history;
  std::optional<Evaluation> last_validation;
};

// The training loop (BigDL's Optimizer): a model, a dataset and a criterion, a
// method, triggers for when to stop and validate. Each iteration is forward,
// backward and update of the flat parameter buffers; buffers are planned at the
// first iteration and reused.
//
// The same loop runs data-parallel when given a ParameterSync of N workers: the
// batch size is global (each worker takes 1/N of it from its own partitions,
// shuffled by a stream derived from seed, rank and epoch), the only
// communication per iteration is the sync's gradient and weight exchange, and
// losses are combined, progress shown and validation run at group boundaries
// every sync_every() iterations and at epoch ends. Validation is distributed:
// each worker scores its share of the validation set and the counts are summed.
// Module buffers (BatchNorm's running statistics) are averaged over the workers
// before validation and at the end, so every worker holds the same model.
class Optimizer {
 public:
  Optimizer(nn::Module& model, const data::Dataset& train, nn::Criterion& criterion);

  template <typename Method>
  Optimizer& method(Method m) {
    method_ = std::make_unique<Method>(std::move(m));
    return *this;
  }
  Optimizer& method(std::unique_ptr<OptimMethod> m) {
    method_ = std::move(m);
    return *this;
  }
  Optimizer& batch_size(int64_t size);
  // Learning rate per iteration from the method's rate as given (its base).
  Optimizer& schedule(std::unique_ptr<Schedule> schedule);
  Optimizer& end_when(Trigger trigger);
  // Validation batch 0 means the training batch size (whose buffers exist already).
  Optimizer& validate(Trigger when, const data::Dataset& dataset, int64_t batch_size = 0);
  Optimizer& seed(uint64_t seed);
  // Data-parallel training through this sync (not owned); LocalSync by default.
  Optimizer& sync(ParameterSync& sync);
  // Group boundary every k iterations (and at every epoch end).
  Optimizer& sync_every(int64_t k);
  Optimizer& progress(ProgressStyle style);
  // Called after every epoch with its record (validation included when it ran).
  Optimizer& on_epoch(std::function<void(const EpochRecord&)> callback);
  // Checkpoints when the trigger fires (asked after every iteration and at epoch
  // ends) and when training ends. All workers take part; rank 0 calls write with
  // the model (weights as their owners hold them, buffers averaged over the
  // workers) and the training state, every worker's slice of the optimizer state
  // included. Writing to storage is the caller's (bdl::io::CheckpointDirectory).
  using CheckpointWriter = std::function<void(nn::Module&, const TrainingState&)>;
  Optimizer& checkpoint(Trigger when, CheckpointWriter write);
  // Continues from a checkpoint. Every worker calls it; rank 0 passes the state
  // it read and has loaded the checkpoint's weights and buffers into the model,
  // the others pass nothing. With rank 0 passing nothing too, training starts
  // afresh. Resumed with the same workers, seed and settings, training reaches
  // the weights of the uninterrupted run bit for bit.
  Optimizer& resume(std::optional<TrainingState> state);

  TrainResult optimize();

 private:
  nn::Module& model_;
  const data::Dataset& train_;
  nn::Criterion& criterion_;
  std::unique_ptr<OptimMethod> method_;
  std::unique_ptr<Schedule> schedule_;
  int64_t batch_size_ = 128;
  std::optional<Trigger> end_when_;
  std::optional<Trigger> validate_when_;
  const data::Dataset* validation_set_ = nullptr;
  int64_t validation_batch_ = 0;  // 0: the training batch size
  uint64_t seed_ = 1;
  LocalSync local_sync_;
  ParameterSync* sync_ = &local_sync_;
  int64_t sync_every_ = 50;
  ProgressStyle progress_style_ = ProgressStyle::automatic;
  std::function<void(const EpochRecord&)> on_epoch_;
  std::optional<Trigger> checkpoint_when_;
  CheckpointWriter checkpoint_write_;
  bool resume_requested_ = false;
  std::optional<TrainingState> resume_state_;
};

}  // namespace bdl::optim
