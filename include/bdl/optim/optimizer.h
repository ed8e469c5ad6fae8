#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "bdl/data/source.h"
#include "bdl/nn/losses/criterion.h"
#include "bdl/nn/module.h"
#include "bdl/optim/checkpoint.h"
#include "bdl/optim/metrics.h"
#include "bdl/optim/optim_method.h"
#include "bdl/optim/parameter_sync.h"
#include "bdl/optim/progress.h"
#include "bdl/optim/schedule.h"
#include "bdl/optim/trigger.h"

namespace bdl::optim {

// One iteration, as every worker's iteration callback sees it.
struct IterationRecord {
  int64_t epoch = 0;
  int64_t iteration = 0;  // iterations completed in all, this one included
  int64_t batch = 0;      // in the epoch, from 1
  int64_t batches = 0;    // in the epoch
  double loss = 0;        // this worker's loss on its share of the batch
  double learning_rate = 0;
  // At group boundaries (every sync_every() iterations and at epoch ends): the
  // mean loss over all workers since the previous boundary, and the epoch's
  // throughput so far in samples per second over all workers.
  std::optional<double> mean_loss = {};
  double samples_per_sec = 0;
};

struct EpochRecord {
  int64_t epoch = 0;
  int64_t iterations = 0;    // in this epoch
  double train_loss = 0;     // mean over this epoch's iterations and all workers
  double train_seconds = 0;  // forward, backward, update and batching; no validation
  double samples_per_sec = 0;
  std::optional<Evaluation> validation = {};
};

struct TrainResult {
  int64_t iterations = 0;
  int64_t epochs = 0;    // epochs completed
  double last_loss = 0;  // mean loss of the last group of iterations
  double train_seconds = 0;
  int64_t train_samples = 0;  // over all workers
  double sync_seconds = 0;    // in ParameterSync::step (exchange and update), on rank 0
  bool stopped_by_callback = false;
  // Streamed training data: records skipped as damaged (skip_bad_records) on
  // all workers, and the seconds rank 0 waited for its batches.
  int64_t skipped_records = 0;
  std::string first_skipped;
  double input_wait_seconds = 0;
  double samples_per_sec() const { return train_seconds > 0 ? train_samples / train_seconds : 0; }
  std::vector<EpochRecord> history = {};
  std::optional<Evaluation> last_validation = {};
};

// What a callback tells the loop. A stop asked by any worker stops all of them
// together, at the next group boundary (iteration callbacks) or at once (epoch
// callbacks, which run at the epoch's end).
enum class Decision { proceed, stop };

// The training loop (BigDL's Optimizer): a model, a dataset and a criterion, a
// method, triggers for when to stop and validate. Each iteration is forward,
// backward and update of the flat parameter buffers; buffers are planned at the
// first iteration and reused.
//
// The same loop runs data-parallel when given a ParameterSync of N workers: the
// batch size is global (each worker takes 1/N of it from its own shard of the
// data, Dataset::shard or its own record shards, shuffled by a stream derived
// from seed, rank and epoch),
// the only communication per iteration is the sync's gradient and weight
// exchange, and losses are combined, progress shown and validation run at group
// boundaries every sync_every() iterations and at epoch ends. Validation is
// distributed: each worker scores its shard of the validation set and the
// metrics are combined exactly. Module buffers (BatchNorm's running statistics)
// are averaged over the workers before validation and at the end, so every
// worker holds the same model.
class Optimizer {
 public:
  // `train` is a Dataset in memory or a source streamed from disk
  // (data::record_shards).
  Optimizer(nn::Module& model, data::Source train, nn::Criterion& criterion);
  ~Optimizer();

  template <typename Method>
  Optimizer& method(Method m) {
    settings_.method = std::make_shared<Method>(std::move(m));
    return *this;
  }
  Optimizer& method(std::shared_ptr<OptimMethod> m);
  Optimizer& batch_size(int64_t size);
  // Learning rate per iteration from the method's rate as given (its base).
  Optimizer& schedule(std::shared_ptr<Schedule> schedule);
  Optimizer& end_when(Trigger trigger);
  // Validation on `dataset` with these metrics (default_metrics() when empty;
  // the loss is always computed). Batch 0 means the training batch size, whose
  // buffers exist already.
  Optimizer& validate(Trigger when, data::Source dataset, std::vector<std::string> metrics = {},
                      int64_t batch_size = 0);
  Optimizer& seed(uint64_t seed);
  // Visit the training data in storage order instead of shuffling it every epoch.
  Optimizer& shuffle(bool on);
  // How streamed sources are read: the shuffle buffer, batches decoded ahead,
  // decoding threads (batch size, seed and order are the loop's).
  Optimizer& input_pipeline(data::StreamOptions options);
  // Data-parallel training through this sync (not owned); LocalSync by default.
  Optimizer& sync(ParameterSync& sync);
  // Group boundary every k iterations (and at every epoch end).
  Optimizer& sync_every(int64_t k);
  Optimizer& progress(ProgressStyle style);
  // Called on every worker after every iteration, and after every epoch with
  // its record (validation included when it ran). A callback may return a
  // Decision to stop training early.
  template <typename F>
  Optimizer& on_iteration(F callback) {
    settings_.iteration_callbacks.push_back(decides(std::move(callback)));
    return *this;
  }
  template <typename F>
  Optimizer& on_epoch(F callback) {
    settings_.epoch_callbacks.push_back(decides(std::move(callback)));
    return *this;
  }
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

  // What the loop runs with, as the calls above set it.
  struct Settings {
    std::shared_ptr<OptimMethod> method;
    std::shared_ptr<Schedule> schedule;
    int64_t batch_size = 128;
    std::optional<Trigger> end_when;
    std::optional<Trigger> validate_when;
    std::optional<data::Source> validation_set;
    std::vector<std::string> metrics;
    int64_t validation_batch = 0;  // 0: the training batch size
    uint64_t seed = 1;
    bool shuffle = true;
    data::StreamOptions input;
    int64_t sync_every = 50;
    ProgressStyle progress = ProgressStyle::automatic;
    std::vector<std::function<Decision(const IterationRecord&)>> iteration_callbacks;
    std::vector<std::function<Decision(const EpochRecord&)>> epoch_callbacks;
    std::optional<Trigger> checkpoint_when;
    CheckpointWriter checkpoint_write;
    bool resume_requested = false;
    std::optional<TrainingState> resume_state;
  };

 private:
  template <typename Record, typename F>
  static std::function<Decision(const Record&)> decides_impl(F f) {
    if constexpr (std::is_same_v<std::invoke_result_t<F, const Record&>, void>) {
      return [f = std::move(f)](const Record& r) {
        f(r);
        return Decision::proceed;
      };
    } else {
      return f;
    }
  }
  template <typename F>
  static auto decides(F f) {
    if constexpr (std::is_invocable_v<F, const IterationRecord&>) {
      return decides_impl<IterationRecord>(std::move(f));
    } else {
      return decides_impl<EpochRecord>(std::move(f));
    }
  }

  nn::Module& model_;
  data::Source train_;
  nn::Criterion& criterion_;
  LocalSync local_sync_;
  ParameterSync* sync_ = &local_sync_;
  Settings settings_;
};

}  // namespace bdl::optim
