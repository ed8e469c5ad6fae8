#include "bdl/optim/optimizer.h"

#include <chrono>
#include <cmath>
#include <numeric>

#include "bdl/core/random.h"
#include "bdl/data/batcher.h"
#include "bdl/nn/flat_parameters.h"

namespace bdl::optim {
namespace {

// Partitions p with p % size == rank: each worker reads only its own.
std::vector<int64_t> owned_partitions(const data::Dataset& d, int rank, int size) {
  std::vector<int64_t> owned;
  for (int64_t p = rank; p < static_cast<int64_t>(d.partitions().size()); p += size) {
    owned.push_back(p);
  }
  return owned;
}

}  // namespace

Optimizer::Optimizer(nn::Module& model, const data::Dataset& train, nn::Criterion& criterion)
    : model_(model), train_(train), criterion_(criterion) {}

Optimizer& Optimizer::batch_size(int64_t size) {
  BDL_CHECK(size > 0, "batch size must be positive, got ", size);
  batch_size_ = size;
  return *this;
}

Optimizer& Optimizer::schedule(std::unique_ptr<Schedule> schedule) {
  schedule_ = std::move(schedule);
  return *this;
}

namespace {

// Workers update their BatchNorm statistics from their own batches: averaging
// them gives every worker the same model (the statistics of the global batch,
// up to the variance of the means).
void average_buffers(nn::Module& model, ParameterSync& sync) {
  if (sync.size() == 1) return;
  auto buffers = model.buffers();
  std::vector<double> values;
  for (auto& b : buffers) {
    for (float v : b.value->span_f32()) values.push_back(v);
  }
  if (values.empty()) return;
  sync.sum(values);
  size_t k = 0;
  const double n = sync.size();
  for (auto& b : buffers) {
    for (float& v : b.value->span_f32()) v = static_cast<float>(values[k++] / n);
  }
}

}  // namespace

Optimizer& Optimizer::end_when(Trigger trigger) {
  end_when_ = std::move(trigger);
  return *this;
}

Optimizer& Optimizer::validate(Trigger when, const data::Dataset& dataset, int64_t batch_size) {
  validate_when_ = std::move(when);
  validation_set_ = &dataset;
  validation_batch_ = batch_size;
  return *this;
}

Optimizer& Optimizer::seed(uint64_t seed) {
  seed_ = seed;
  return *this;
}

Optimizer& Optimizer::sync(ParameterSync& sync) {
  sync_ = &sync;
  return *this;
}

Optimizer& Optimizer::sync_every(int64_t k) {
  BDL_CHECK(k > 0, "sync_every: must be positive, got ", k);
  sync_every_ = k;
  return *this;
}

Optimizer& Optimizer::progress(ProgressStyle style) {
  progress_style_ = style;
  return *this;
}

Optimizer& Optimizer::on_epoch(std::function<void(const EpochRecord&)> callback) {
  on_epoch_ = std::move(callback);
  return *this;
}

TrainResult Optimizer::optimize() {
  BDL_CHECK(method_ != nullptr, "Optimizer: no optimisation method set");
  BDL_CHECK(end_when_.has_value(), "Optimizer: no end trigger set");
  const int rank = sync_->rank();
  const int workers = sync_->size();
  BDL_CHECK(batch_size_ % workers == 0, "batch size ", batch_size_, " is not divisible by the ",
            workers, " workers (each takes an equal share)");
  const int64_t local_batch = batch_size_ / workers;

  // Each worker owns partitions rank, rank + N, ...; a dataset with fewer
  // partitions than workers is cut by index ranges.
  // A worker's shard (loaded from a partitioned directory) is all this worker's.
  data::Dataset train = train_;
  if (!train.is_worker_shard() && static_cast<int>(train.partitions().size()) < workers) {
    train = train.partitioned(workers);
  }
  const std::vector<int64_t> owned = train.is_worker_shard()
                                         ? owned_partitions(train, 0, 1)
                                         : owned_partitions(train, rank, workers);
  std::optional<data::Dataset> validation;
  std::vector<int64_t> validation_owned;
  if (validation_set_ && validation_set_->is_worker_shard()) {
    validation = *validation_set_;
    validation_owned = owned_partitions(*validation, 0, 1);
  } else if (validation_set_) {
    validation = validation_set_->partitioned(
        std::max<int64_t>(workers, static_cast<int64_t>(validation_set_->partitions().size())));
    validation_owned = owned_partitions(*validation, rank, workers);
  }

  nn::FlatParameters flat = nn::compact(model_);
  sync_->start(flat);
  model_.train();
  // The network input needs no gradient: the first layer skips that work.
  model_.set_needs_input_grad(false);

  data::Batcher batcher(train, local_batch, /*drop_last=*/true);
  const uint64_t worker_seed = Rng::derive(seed_, static_cast<uint64_t>(rank));
  // Dropout masks: reproducible per (seed, rank), different across workers.
  model_.seed(Rng::derive(worker_seed, 0xD50));
  const double base_lr = method_->learning_rate();
  Progress progress(rank == 0 ? progress_style_ : ProgressStyle::quiet);

  // Epoch count for display: known when the end trigger is max_epoch, else unknown (0).
  int64_t shown_epochs = 0;
  if (end_when_->name.rfind("max_epoch(", 0) == 0) {
    shown_epochs = std::stoll(end_when_->name.substr(10));
  }

  TrainResult result;
  TrainState state;
  bool done = false;
  using Clock = std::chrono::steady_clock;
  while (!done) {
    batcher.set_order(data::epoch_order(train, owned, worker_seed, state.epoch, true));
    // Workers may own a few samples more or less: all run the smallest count.
    double batches_d = static_cast<double>(batcher.num_batches());
    sync_->min(std::span(&batches_d, 1));
    const auto batches = static_cast<int64_t>(batches_d);
    BDL_CHECK(batches > 0, "worker ", rank, " has fewer than ", local_batch,
              " training samples: lower the batch size");
    progress.start_epoch(state.epoch, shown_epochs, batches);
    EpochRecord record;
    record.epoch = state.epoch;
    double group[2] = {0, 0};  // loss sum and iterations since the last boundary
    double epoch_loss = 0, epoch_iterations = 0;
    const auto epoch_start = Clock::now();
    for (int64_t b = 0; b < batches; ++b) {
      const data::MiniBatch& batch = batcher.batch(b);
      if (schedule_) {
        method_->set_learning_rate(
            schedule_->rate(base_lr, ScheduleClock{state.iteration, state.epoch, batches}));
      }
      model_.zero_grad();
      const Tensor& output = model_.forward(batch.input);
      const float loss = criterion_.forward(output, batch.target);
      BDL_CHECK(std::isfinite(loss), "training diverged: loss is ", loss, " at iteration ",
                state.iteration + 1, " on worker ", rank, " (lower the learning rate)");
      model_.backward(batch.input, criterion_.backward(output, batch.target));
      const auto sync_start = Clock::now();
      sync_->step(flat, *method_);
      result.sync_seconds += std::chrono::duration<double>(Clock::now() - sync_start).count();

      ++state.iteration;
      ++record.iterations;
      group[0] += loss;
      group[1] += 1;
      result.train_samples += batch_size_;
      // Iteration-based triggers fire on every worker at the same iteration.
      done = end_when_->fires(state);
      if (done || b + 1 == batches || state.iteration % sync_every_ == 0) {
        sync_->sum(group);  // a group boundary: the only metric exchange
        result.last_loss = group[0] / group[1];
        epoch_loss += group[0];
        epoch_iterations += group[1];
        group[0] = group[1] = 0;
        const double elapsed = std::chrono::duration<double>(Clock::now() - epoch_start).count();
        progress.update(b + 1, result.last_loss,
                        static_cast<double>(record.iterations * batch_size_) / elapsed);
      }
      if (done) break;
    }
    record.train_seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    record.train_loss = epoch_iterations > 0 ? epoch_loss / epoch_iterations : 0;
    record.samples_per_sec = record.iterations * batch_size_ / record.train_seconds;
    result.train_seconds += record.train_seconds;
    progress.end_epoch();

    if (record.iterations == batches) {
      ++state.epochs_completed;
      state.epoch_end = true;
    }
    const bool validate_now =
        validation && (done || (validate_when_ && validate_when_->fires(state)));
    if (validate_now) average_buffers(model_, *sync_);
    if (validate_now) {
      const Evaluation local =
          evaluate(model_, criterion_, *validation,
                   validation_batch_ > 0 ? validation_batch_ : local_batch, validation_owned);
      double counts[3] = {static_cast<double>(local.samples), static_cast<double>(local.correct),
                          local.loss_sum};
      sync_->sum(counts);
      record.validation =
          Evaluation{static_cast<int64_t>(counts[0]), static_cast<int64_t>(counts[1]), counts[2]};
      result.last_validation = record.validation;
      if (schedule_ && record.validation->samples > 0) {
        schedule_->on_validation(record.validation->loss_sum /
                                 static_cast<double>(record.validation->samples));
      }
    }
    result.history.push_back(record);
    if (on_epoch_ && rank == 0) on_epoch_(record);
    if (!done && end_when_->fires(state)) done = true;
    state.epoch_end = false;
    ++state.epoch;
  }
  average_buffers(model_, *sync_);
  result.iterations = state.iteration;
  result.epochs = state.epochs_completed;
  return result;
}

}  // namespace bdl::optim
