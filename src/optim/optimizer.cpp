#include "bdl/optim/optimizer.h"

#include <chrono>
#include <cmath>
#include <numeric>

#include "bdl/data/batcher.h"
#include "bdl/nn/flat_parameters.h"

namespace bdl::optim {

Optimizer::Optimizer(nn::Module& model, const data::Dataset& train, nn::Criterion& criterion)
    : model_(model), train_(train), criterion_(criterion) {}

Optimizer& Optimizer::batch_size(int64_t size) {
  BDL_CHECK(size > 0, "batch size must be positive, got ", size);
  batch_size_ = size;
  return *this;
}

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
  BDL_CHECK(train_.size() >= batch_size_, "Optimizer: batch size ", batch_size_, " exceeds the ",
            train_.size(), " training samples of ", train_.name());

  nn::FlatParameters flat = nn::compact(model_);
  model_.train();
  // The network input needs no gradient: the first layer skips that work.
  model_.set_needs_input_grad(false);

  std::vector<int64_t> partitions(train_.partitions().size());
  std::iota(partitions.begin(), partitions.end(), 0);
  data::Batcher batcher(train_, batch_size_, /*drop_last=*/true);
  Progress progress(progress_style_);

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
    batcher.set_order(data::epoch_order(train_, partitions, seed_, state.epoch, true));
    const int64_t batches = batcher.num_batches();
    progress.start_epoch(state.epoch, shown_epochs, batches);
    EpochRecord record;
    record.epoch = state.epoch;
    double loss_sum = 0;
    const auto epoch_start = Clock::now();
    for (int64_t b = 0; b < batches; ++b) {
      const data::MiniBatch& batch = batcher.batch(b);
      model_.zero_grad();
      const Tensor& output = model_.forward(batch.input);
      const float loss = criterion_.forward(output, batch.target);
      BDL_CHECK(std::isfinite(loss), "training diverged: loss is ", loss, " at iteration ",
                state.iteration + 1, " (lower the learning rate)");
      model_.backward(batch.input, criterion_.backward(output, batch.target));
      method_->step(flat.weights.span_f32(), flat.grads.span_f32());

      ++state.iteration;
      ++record.iterations;
      loss_sum += loss;
      result.last_loss = loss;
      result.train_samples += batch.size();
      const double elapsed = std::chrono::duration<double>(Clock::now() - epoch_start).count();
      progress.update(b + 1, loss, static_cast<double>(record.iterations * batch_size_) / elapsed);
      if (end_when_->fires(state)) {
        done = true;
        break;
      }
    }
    record.train_seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    record.train_loss = record.iterations ? loss_sum / record.iterations : 0;
    record.samples_per_sec = record.iterations * batch_size_ / record.train_seconds;
    result.train_seconds += record.train_seconds;
    progress.end_epoch();

    const bool epoch_complete = record.iterations == batches;
    if (epoch_complete) {
      ++state.epochs_completed;
      state.epoch_end = true;
    }
    if (validation_set_ && (done || (validate_when_ && validate_when_->fires(state)))) {
      record.validation = evaluate(model_, criterion_, *validation_set_,
                                   validation_batch_ > 0 ? validation_batch_ : batch_size_);
      result.last_validation = record.validation;
    }
    result.history.push_back(record);
    if (on_epoch_) on_epoch_(record);
    if (!done && end_when_->fires(state)) done = true;
    state.epoch_end = false;
    ++state.epoch;
  }
  result.iterations = state.iteration;
  result.epochs = state.epochs_completed;
  return result;
}

}  // namespace bdl::optim
