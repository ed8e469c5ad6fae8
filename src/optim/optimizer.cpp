#include "bdl/optim/optimizer.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <tuple>
#include <utility>

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

Optimizer& Optimizer::checkpoint(Trigger when, CheckpointWriter write) {
  checkpoint_when_ = std::move(when);
  checkpoint_write_ = std::move(write);
  return *this;
}

Optimizer& Optimizer::resume(std::optional<TrainingState> state) {
  resume_requested_ = true;
  resume_state_ = std::move(state);
  return *this;
}

namespace {

// Rank 0's values to every worker (the others pass zeros of the same length).
void share_from_root(ParameterSync& sync, std::span<double> values) {
  if (sync.rank() != 0) std::fill(values.begin(), values.end(), 0.0);
  sync.sum(values);
}

std::vector<float> buffer_values(nn::Module& model) {
  std::vector<float> out;
  for (auto& b : model.buffers()) {
    const auto v = b.value->span_f32();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

void set_buffer_values(nn::Module& model, std::span<const float> values) {
  auto buffers = model.buffers();
  size_t at = 0;
  for (auto& b : buffers) {
    auto v = b.value->span_f32();
    BDL_CHECK(at + v.size() <= values.size(), "checkpoint: buffers do not match the model");
    std::copy(values.begin() + static_cast<std::ptrdiff_t>(at),
              values.begin() + static_cast<std::ptrdiff_t>(at + v.size()), v.begin());
    at += v.size();
  }
  BDL_CHECK(at == values.size(), "checkpoint: buffers do not match the model");
}

// Every worker's state for a checkpoint, gathered on rank 0 (empty elsewhere).
std::vector<WorkerState> gather_worker_states(ParameterSync& sync, nn::Module& model,
                                              nn::FlatParameters& flat, const OptimMethod& method) {
  WorkerState mine;
  std::tie(mine.offset, mine.length) = sync.state_range(flat.numel());
  mine.method = method.state();
  for (Rng* r : model.random_streams()) mine.random_streams.push_back(r->state());
  mine.buffers = buffer_values(model);
  std::vector<WorkerState> all;
  for (const auto& bytes : sync.gather_bytes(encode(mine))) {
    all.push_back(decode_worker_state(bytes));
  }
  return all;
}

// Rank 0 cuts the checkpoint's per-worker optimizer state along the ranges the
// workers hold now (the same ranges when the worker count is unchanged) and hands
// each its part. With the same workers, each also gets back its own BatchNorm
// statistics and random-stream positions; otherwise every worker takes the
// statistics rank 0 read from the file (their mean) and keeps its fresh streams.
// The weights need no handing out: every worker holds the same ones (the sync's
// start() broadcasts rank 0's).
void restore_worker_states(ParameterSync& sync, nn::Module& model, nn::FlatParameters& flat,
                           OptimMethod& method, const std::optional<TrainingState>& saved) {
  WorkerState range;
  std::tie(range.offset, range.length) = sync.state_range(flat.numel());
  const auto ranges = sync.gather_bytes(encode(range));
  std::vector<std::string> parts;
  if (sync.rank() == 0) {
    const auto& workers = saved->workers;
    const bool same_workers = static_cast<int>(workers.size()) == sync.size();
    const std::vector<float> file_buffers = buffer_values(model);
    const WorkerState& first = workers.front();
    for (size_t w = 0; w < ranges.size(); ++w) {
      WorkerState part = decode_worker_state(ranges[w]);
      const int64_t begin = part.offset, end = part.offset + part.length;
      // Method vectors from the pieces of the saved slices that overlap [begin,
      // end); those of a method that had not stepped yet are empty and stay so.
      for (size_t k = 0; k < first.method.vectors.size(); ++k) {
        const std::string& name = first.method.vectors[k].first;
        const bool stepped = std::any_of(workers.begin(), workers.end(), [k](const WorkerState& s) {
          return k < s.method.vectors.size() && !s.method.vectors[k].second.empty();
        });
        std::vector<float> sliced;
        if (stepped && part.length > 0) {
          sliced.assign(static_cast<size_t>(part.length), 0.f);
          for (const auto& s : workers) {
            BDL_CHECK(k < s.method.vectors.size() && s.method.vectors[k].first == name,
                      "checkpoint: a worker has no '", name, "' optimizer state");
            const std::vector<float>& src = s.method.vectors[k].second;
            BDL_CHECK(static_cast<int64_t>(src.size()) == s.length, "checkpoint: '", name,
                      "' holds ", src.size(), " values for a slice of ", s.length);
            const int64_t lo = std::max(begin, s.offset);
            const int64_t hi = std::min(end, s.offset + s.length);
            for (int64_t i = lo; i < hi; ++i) {
              sliced[static_cast<size_t>(i - begin)] = src[static_cast<size_t>(i - s.offset)];
            }
          }
        }
        part.method.vectors.emplace_back(name, std::move(sliced));
      }
      part.method.scalars = first.method.scalars;
      if (same_workers) {
        part.random_streams = workers[w].random_streams;
        part.buffers = workers[w].buffers;
      } else {
        part.buffers = file_buffers;
      }
      parts.push_back(encode(part));
    }
  }
  WorkerState mine = decode_worker_state(sync.scatter_bytes(std::move(parts)));
  method.set_state(std::move(mine.method));
  if (!mine.buffers.empty()) set_buffer_values(model, mine.buffers);
  auto streams = model.random_streams();
  if (!mine.random_streams.empty()) {
    BDL_CHECK(mine.random_streams.size() == streams.size(),
              "checkpoint: ", mine.random_streams.size(), " random streams saved, the model has ",
              streams.size());
    for (size_t i = 0; i < streams.size(); ++i) streams[i]->set_state(mine.random_streams[i]);
  }
}

}  // namespace

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
  double base_lr = method_->learning_rate();
  const std::string method_name = method_->describe();
  Progress progress(rank == 0 ? progress_style_ : ProgressStyle::quiet);

  TrainResult result;
  TrainState state;
  int64_t first_batch = 0;  // where the first epoch starts (a resumed one mid-way)
  if (resume_requested_) {
    double found = resume_state_.has_value() ? 1.0 : 0.0;
    share_from_root(*sync_, std::span(&found, 1));
    if (found != 0) {
      if (rank == 0) {
        const TrainingState& s = *resume_state_;
        BDL_CHECK(s.parameter_count == flat.numel(), "checkpoint: ", s.parameter_count,
                  " parameters, the model has ", flat.numel());
        BDL_CHECK(s.method == method_name, "checkpoint: trained with ", s.method,
                  ", this run uses ", method_name);
        BDL_CHECK(s.seed == seed_, "checkpoint: trained with seed ", s.seed, ", this run has ",
                  seed_, " (the data order depends on it)");
        BDL_CHECK(s.batch_size == batch_size_, "checkpoint: trained with batch size ", s.batch_size,
                  ", this run has ", batch_size_);
        BDL_CHECK(!s.workers.empty(), "checkpoint: no optimizer state");
      }
      std::vector<double> scalars(5 + (schedule_ ? schedule_->state().size() : 0));
      if (rank == 0) {
        const TrainingState& s = *resume_state_;
        BDL_CHECK(s.schedule.size() + 5 == scalars.size(), "checkpoint: schedule state of ",
                  s.schedule.size(), " values, this run's schedule has ", scalars.size() - 5);
        scalars[0] = static_cast<double>(s.iteration);
        scalars[1] = static_cast<double>(s.epoch);
        scalars[2] = static_cast<double>(s.next_batch);
        scalars[3] = static_cast<double>(s.epochs_completed);
        scalars[4] = s.base_lr;
        std::copy(s.schedule.begin(), s.schedule.end(), scalars.begin() + 5);
      }
      share_from_root(*sync_, scalars);
      state.iteration = static_cast<int64_t>(scalars[0]);
      state.epoch = static_cast<int64_t>(scalars[1]);
      first_batch = static_cast<int64_t>(scalars[2]);
      state.epochs_completed = static_cast<int64_t>(scalars[3]);
      base_lr = scalars[4];
      method_->set_learning_rate(base_lr);
      if (schedule_) schedule_->set_state(std::span(scalars).subspan(5));
      restore_worker_states(*sync_, model_, flat, *method_, resume_state_);
      resume_state_.reset();
    }
  }

  // A checkpoint of where training stands: (epoch, next_batch) is the position
  // in the data to continue from.
  auto write_checkpoint = [&](int64_t epoch, int64_t next_batch) {
    std::vector<WorkerState> workers = gather_worker_states(*sync_, model_, flat, *method_);
    if (rank != 0) return;
    TrainingState s;
    s.iteration = state.iteration;
    s.epoch = epoch;
    s.next_batch = next_batch;
    s.epochs_completed = state.epochs_completed;
    s.seed = seed_;
    s.batch_size = batch_size_;
    s.base_lr = base_lr;
    s.method = method_name;
    if (schedule_) s.schedule = schedule_->state();
    s.parameter_count = flat.numel();
    // The model is written with its buffers averaged over the workers (as at
    // the end of training); rank 0's own are put back afterwards, so
    // checkpointing does not change the run.
    const std::vector<float> own_buffers = buffer_values(model_);
    std::vector<double> sum(own_buffers.size(), 0.0);
    for (const auto& w : workers) {
      for (size_t i = 0; i < sum.size() && i < w.buffers.size(); ++i) sum[i] += w.buffers[i];
    }
    std::vector<float> mean(sum.size());
    for (size_t i = 0; i < sum.size(); ++i) {
      mean[i] = static_cast<float>(sum[i] / static_cast<double>(workers.size()));
    }
    set_buffer_values(model_, mean);
    s.workers = std::move(workers);
    try {
      checkpoint_write_(model_, s);
    } catch (...) {
      set_buffer_values(model_, own_buffers);
      throw;
    }
    set_buffer_values(model_, own_buffers);
  };

  // Epoch count for display: known when the end trigger is max_epoch, else unknown (0).
  int64_t shown_epochs = 0;
  if (end_when_->name.rfind("max_epoch(", 0) == 0) {
    shown_epochs = std::stoll(end_when_->name.substr(10));
  }

  // A run resumed from a checkpoint taken at its end has nothing left to do.
  bool done = state.iteration > 0 && end_when_->fires(state);
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
    const int64_t start_batch = std::exchange(first_batch, 0);
    BDL_CHECK(start_batch <= batches, "checkpoint: resumes at batch ", start_batch,
              " of an epoch of ", batches);
    int64_t next_batch = start_batch;
    for (int64_t b = start_batch; b < batches; ++b) {
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
      next_batch = b + 1;
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
      if (checkpoint_when_ && b + 1 < batches && checkpoint_when_->fires(state)) {
        write_checkpoint(state.epoch, b + 1);
      }
    }
    record.train_seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    record.train_loss = epoch_iterations > 0 ? epoch_loss / epoch_iterations : 0;
    record.samples_per_sec = record.iterations * batch_size_ / record.train_seconds;
    result.train_seconds += record.train_seconds;
    progress.end_epoch();

    const bool epoch_finished = next_batch == batches;
    if (epoch_finished) {
      ++state.epochs_completed;
      state.epoch_end = true;
    }
    // The schedule hears only the validations its trigger asks for: the one at
    // the end of training is a report, and a run stopped there to be resumed
    // must continue as if it had not stopped.
    const bool scheduled_validation = validate_when_ && validate_when_->fires(state);
    const bool validate_now = validation && (done || scheduled_validation);
    if (validate_now) average_buffers(model_, *sync_);
    if (validate_now) {
      const Evaluation local =
          evaluate(model_, criterion_, *validation,
                   validation_batch_ > 0 ? validation_batch_ : local_batch, validation_owned);
      double counts[4] = {static_cast<double>(local.samples), static_cast<double>(local.correct),
                          local.loss_sum, static_cast<double>(local.correct_top5)};
      sync_->sum(counts);
      record.validation =
          Evaluation{static_cast<int64_t>(counts[0]), static_cast<int64_t>(counts[1]), counts[2],
                     static_cast<int64_t>(counts[3])};
      result.last_validation = record.validation;
      if (schedule_ && scheduled_validation && record.validation->samples > 0) {
        schedule_->on_validation(record.validation->loss_sum /
                                 static_cast<double>(record.validation->samples));
      }
    }
    result.history.push_back(record);
    if (on_epoch_ && rank == 0) on_epoch_(record);
    if (!done && end_when_->fires(state)) done = true;
    if (checkpoint_when_ && (done || checkpoint_when_->fires(state))) {
      if (epoch_finished) {
        write_checkpoint(state.epoch + 1, 0);
      } else {
        write_checkpoint(state.epoch, next_batch);
      }
    }
    state.epoch_end = false;
    ++state.epoch;
  }
  average_buffers(model_, *sync_);
  result.iterations = state.iteration;
  result.epochs = state.epochs_completed;
  return result;
}

}  // namespace bdl::optim
