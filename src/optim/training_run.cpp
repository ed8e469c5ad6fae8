#include "optim/training_run.h"

#include <cmath>
#include <iostream>
#include <utility>

#include "bdl/core/random.h"
#include "optim/checkpointing.h"

namespace bdl::optim {

TrainingRun::TrainingRun(nn::Module& model, const data::Source& train, nn::Criterion& criterion,
                         ParameterSync& sync, Optimizer::Settings& settings)
    : model_(model), train_set_(train), criterion_(criterion), sync_(sync), settings_(settings) {}

TrainResult TrainingRun::run() {
  check_settings();
  prepare();
  if (settings_.resume_requested) resume();
  // A run resumed from a checkpoint taken at its end has nothing left to do.
  done_ = position_.iteration > 0 && settings_.end_when->fires(position_);
  while (!done_) done_ = run_epoch();
  average_buffers(model_, sync_);
  const data::StreamReport input = stream_->report();
  double skipped = static_cast<double>(input.skipped);
  sync_.sum(std::span(&skipped, 1));
  result_.skipped_records = static_cast<int64_t>(skipped);
  result_.first_skipped = input.first_skipped;
  result_.input_wait_seconds = input.wait_seconds;
  result_.iterations = position_.iteration;
  result_.epochs = position_.epochs_completed;
  return std::move(result_);
}

void TrainingRun::check_settings() const {
  BDL_CHECK(settings_.method != nullptr, "Optimizer: no optimisation method set");
  BDL_CHECK(settings_.end_when.has_value(), "Optimizer: no end trigger set");
  BDL_CHECK(settings_.batch_size % sync_.size() == 0, "batch size ", settings_.batch_size,
            " is not divisible by the ", sync_.size(), " workers (each takes an equal share)");
  BDL_CHECK(
      criterion_.takes_class_indices() == (train_set_.target_kind() == data::TargetKind::classes),
      criterion_.type(), " takes ",
      criterion_.takes_class_indices() ? "class indices" : "targets that are values",
      ", the training data ", train_set_.name(), " has ",
      train_set_.target_kind() == data::TargetKind::classes ? "class indices" : "values",
      " (one-hot encode class indices for a loss on values)");
}

// Each worker's stream of its share of the data, the flat parameters every
// worker starts from, and the random streams.
void TrainingRun::prepare() {
  const int rank = sync_.rank();
  local_batch_ = settings_.batch_size / sync_.size();
  worker_seed_ = Rng::derive(settings_.seed, static_cast<uint64_t>(rank));
  data::StreamOptions input = settings_.input;
  input.batch_size = local_batch_;
  input.drop_last = true;
  input.shuffle = settings_.shuffle;
  input.seed = worker_seed_;
  stream_ = train_set_.open(rank, sync_.size(), input);
  validation_ = settings_.validation_set;
  flat_ = nn::compact(model_);
  sync_.start(flat_);
  model_.train();
  // The network input needs no gradient: the first layer skips that work.
  model_.set_needs_input_grad(false);
  // Dropout masks: reproducible per (seed, rank), different across workers.
  model_.seed(Rng::derive(worker_seed_, 0xD50));
  base_lr_ = settings_.method->learning_rate();
  method_name_ = settings_.method->describe();
  progress_.emplace(rank == 0 ? settings_.progress : ProgressStyle::quiet);
}

void TrainingRun::resume() {
  double found = settings_.resume_state.has_value() ? 1.0 : 0.0;
  if (sync_.rank() != 0) found = 0;
  sync_.sum(std::span(&found, 1));
  if (found == 0) return;  // no checkpoint on rank 0: start afresh
  if (sync_.rank() == 0) check_checkpoint(*settings_.resume_state);
  auto& schedule = settings_.schedule;
  const ResumePoint p =
      share_resume_point(sync_, settings_.resume_state, schedule ? schedule->state().size() : 0);
  position_ = p.position;
  first_batch_ = p.next_batch;
  base_lr_ = p.base_lr;
  settings_.method->set_learning_rate(base_lr_);
  if (schedule) schedule->set_state(p.schedule);
  restore_worker_states(sync_, model_, flat_, *settings_.method, settings_.resume_state);
  settings_.resume_state.reset();
}

void TrainingRun::check_checkpoint(const TrainingState& s) const {
  BDL_CHECK(s.parameter_count == flat_.numel(), "checkpoint: ", s.parameter_count,
            " parameters, the model has ", flat_.numel());
  BDL_CHECK(s.method == method_name_, "checkpoint: trained with ", s.method, ", this run uses ",
            method_name_);
  BDL_CHECK(s.seed == settings_.seed, "checkpoint: trained with seed ", s.seed, ", this run has ",
            settings_.seed, " (the data order depends on it)");
  BDL_CHECK(s.batch_size == settings_.batch_size, "checkpoint: trained with batch size ",
            s.batch_size, ", this run has ", settings_.batch_size);
  BDL_CHECK(!s.workers.empty(), "checkpoint: no optimizer state");
}

// Workers may own a few samples more or less: all run the smallest count. When
// shares differ by more than a batch, the larger ones are partly left out of
// every epoch: said once, on rank 0.
int64_t TrainingRun::batches_every_worker_has() {
  const auto own = static_cast<double>(stream_->num_batches());
  double least[2] = {own, -own};  // one collective: the fewest and (negated) the most
  sync_.min(std::span(least, 2));
  const double fewest = least[0], most = -least[1];
  BDL_CHECK(fewest > 0, "worker ", sync_.rank(), " has fewer than ", local_batch_,
            " training samples: lower the batch size");
  if (most - fewest > 1 && !warned_unequal_ && sync_.rank() == 0) {
    std::cerr << "bdl: warning: the workers hold unequal shares of the training data (" << fewest
              << " to " << most << " batches of " << local_batch_ << "): every epoch trains on "
              << fewest << " batches per worker and leaves the rest of the larger shares out\n";
  }
  warned_unequal_ = true;
  return static_cast<int64_t>(fewest);
}

bool TrainingRun::run_epoch() {
  Epoch epoch;
  epoch.batches = batches_every_worker_has();
  epoch.record.epoch = position_.epoch;
  epoch.start = Clock::now();
  const int64_t start_batch = std::exchange(first_batch_, 0);
  BDL_CHECK(start_batch <= epoch.batches, "checkpoint: resumes at batch ", start_batch,
            " of an epoch of ", epoch.batches);
  epoch.next_batch = start_batch;
  stream_->start_epoch(position_.epoch, start_batch, epoch.batches);
  progress_->start_epoch(position_.epoch, settings_.end_when->epochs().value_or(0), epoch.batches);
  const auto& checkpoint_when = settings_.checkpoint_when;
  for (int64_t b = start_batch; b < epoch.batches && !done_; ++b) {
    IterationRecord record;
    const data::MiniBatch* batch = stream_->next();
    BDL_CHECK(batch != nullptr, train_set_.name(), ": the stream ended at batch ", b, " of ",
              epoch.batches);
    record.loss = train_iteration(*batch, epoch);
    record.epoch = position_.epoch;
    record.iteration = position_.iteration;
    record.batch = b + 1;
    record.batches = epoch.batches;
    record.learning_rate = settings_.method->learning_rate();
    ++epoch.record.iterations;
    epoch.next_batch = b + 1;
    // Iteration-based triggers fire on every worker at the same iteration.
    done_ = settings_.end_when->fires(position_);
    const bool boundary =
        done_ || b + 1 == epoch.batches || position_.iteration % settings_.sync_every == 0;
    if (boundary) group_boundary(epoch, record);
    call_iteration_callbacks(record);
    // Alone, a stop asked by a callback (Ctrl-C in Python) ends training after
    // this iteration; workers agree on it at the next group boundary.
    if (!boundary && group_.stop_requests > 0 && sync_.size() == 1) group_boundary(epoch, record);
    if (!done_ && checkpoint_when && b + 1 < epoch.batches && checkpoint_when->fires(position_)) {
      write_checkpoint(position_.epoch, b + 1);
    }
  }
  end_epoch(epoch);
  return done_;
}

double TrainingRun::train_iteration(const data::MiniBatch& batch, const Epoch& epoch) {
  auto& method = *settings_.method;
  if (settings_.schedule) {
    // Schedules count epochs from 0 (as PyTorch's schedulers do); the loop's
    // position counts them from 1.
    method.set_learning_rate(settings_.schedule->rate(
        base_lr_, ScheduleClock{position_.iteration, position_.epoch - 1, epoch.batches}));
  }
  model_.zero_grad();
  const Tensor& output = model_.forward(batch.input);
  const float loss = criterion_.weighted_forward(output, batch.target, batch.weight);
  BDL_CHECK(std::isfinite(loss), "training diverged: loss is ", loss, " at iteration ",
            position_.iteration + 1, " on worker ", sync_.rank(), " (lower the learning rate)");
  model_.backward(batch.input, criterion_.weighted_backward(output, batch.target, batch.weight));
  const auto sync_start = Clock::now();
  sync_.step(flat_, method);
  result_.sync_seconds += std::chrono::duration<double>(Clock::now() - sync_start).count();
  ++position_.iteration;
  group_.loss_sum += loss;
  group_.iterations += 1;
  result_.train_samples += settings_.batch_size;
  return loss;
}

void TrainingRun::call_iteration_callbacks(const IterationRecord& record) {
  for (const auto& callback : settings_.iteration_callbacks) {
    if (callback(record) == Decision::stop) group_.stop_requests = 1;
  }
}

// A group boundary: the only metric exchange, a stop asked by any worker's
// iteration callback since the previous one included.
void TrainingRun::group_boundary(Epoch& epoch, IterationRecord& record) {
  double sums[3] = {group_.loss_sum, group_.iterations, group_.stop_requests};
  sync_.sum(sums);
  group_ = {};
  result_.last_loss = sums[0] / sums[1];
  epoch.loss_sum += sums[0];
  epoch.iterations += sums[1];
  const double elapsed = std::chrono::duration<double>(Clock::now() - epoch.start).count();
  record.mean_loss = result_.last_loss;
  record.samples_per_sec =
      static_cast<double>(epoch.record.iterations * settings_.batch_size) / elapsed;
  progress_->update(record.batch, result_.last_loss, record.samples_per_sec);
  if (sums[2] > 0) {
    done_ = true;
    result_.stopped_by_callback = true;
  }
}

void TrainingRun::end_epoch(Epoch& epoch) {
  EpochRecord& record = epoch.record;
  record.train_seconds = std::chrono::duration<double>(Clock::now() - epoch.start).count();
  record.train_loss = epoch.iterations > 0 ? epoch.loss_sum / epoch.iterations : 0;
  record.samples_per_sec =
      static_cast<double>(record.iterations * settings_.batch_size) / record.train_seconds;
  result_.train_seconds += record.train_seconds;
  progress_->end_epoch();
  const bool finished = epoch.next_batch == epoch.batches;
  if (finished) {
    ++position_.epochs_completed;
    position_.epoch_end = true;
  }
  // The schedule hears only the validations its trigger asks for: the one at
  // the end of training is a report, and a run stopped there to be resumed
  // must continue as if it had not stopped.
  const bool scheduled = settings_.validate_when && settings_.validate_when->fires(position_);
  if (validation_ && (done_ || scheduled)) validate(record, scheduled);
  result_.history.push_back(record);
  bool stop = false;
  for (const auto& callback : settings_.epoch_callbacks) stop |= callback(record) == Decision::stop;
  // A stop asked by an iteration callback since the last boundary counts too.
  if (any_worker_stops(stop || group_.stop_requests > 0) && !done_) {
    done_ = true;
    result_.stopped_by_callback = true;
  }
  if (!done_ && settings_.end_when->fires(position_)) done_ = true;
  const auto& checkpoint_when = settings_.checkpoint_when;
  if (checkpoint_when && (done_ || checkpoint_when->fires(position_))) {
    if (finished) {
      write_checkpoint(position_.epoch + 1, 0);
    } else {
      write_checkpoint(position_.epoch, epoch.next_batch);
    }
  }
  position_.epoch_end = false;
  ++position_.epoch;
}

void TrainingRun::validate(EpochRecord& record, bool scheduled) {
  average_buffers(model_, sync_);
  const int64_t batch = settings_.validation_batch > 0 ? settings_.validation_batch : local_batch_;
  record.validation = evaluate(model_, criterion_, *validation_, batch, settings_.metrics, sync_);
  result_.last_validation = record.validation;
  if (settings_.schedule && scheduled && record.validation->samples > 0) {
    settings_.schedule->on_validation(record.validation->loss);
  }
}

bool TrainingRun::any_worker_stops(bool mine) {
  double stops = mine ? 1.0 : 0.0;
  sync_.sum(std::span(&stops, 1));
  return stops > 0;
}

void TrainingRun::write_checkpoint(int64_t epoch, int64_t next_batch) {
  std::vector<WorkerState> workers = gather_worker_states(sync_, model_, flat_, *settings_.method);
  if (sync_.rank() != 0) return;
  TrainingState s;
  s.iteration = position_.iteration;
  s.epoch = epoch;
  s.next_batch = next_batch;
  s.epochs_completed = position_.epochs_completed;
  s.seed = settings_.seed;
  s.batch_size = settings_.batch_size;
  s.base_lr = base_lr_;
  s.method = method_name_;
  if (settings_.schedule) s.schedule = settings_.schedule->state();
  s.parameter_count = flat_.numel();
  // The model is written with its buffers averaged over the workers (as at the
  // end of training); rank 0's own are put back afterwards, so checkpointing
  // does not change the run.
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
    settings_.checkpoint_write(model_, s);
  } catch (...) {
    set_buffer_values(model_, own_buffers);
    throw;
  }
  set_buffer_values(model_, own_buffers);
}

}  // namespace bdl::optim
