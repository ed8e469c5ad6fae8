#include "bdl/optim/optimizer.h"

#include "optim/training_run.h"

namespace bdl::optim {

Optimizer::Optimizer(nn::Module& model, data::Source train, nn::Criterion& criterion)
    : model_(model), train_(std::move(train)), criterion_(criterion) {}

Optimizer::~Optimizer() = default;

Optimizer& Optimizer::method(std::shared_ptr<OptimMethod> m) {
  settings_.method = std::move(m);
  return *this;
}

Optimizer& Optimizer::batch_size(int64_t size) {
  BDL_CHECK(size > 0, "batch size must be positive, got ", size);
  settings_.batch_size = size;
  return *this;
}

Optimizer& Optimizer::schedule(std::shared_ptr<Schedule> schedule) {
  settings_.schedule = std::move(schedule);
  return *this;
}

Optimizer& Optimizer::end_when(Trigger trigger) {
  settings_.end_when = std::move(trigger);
  return *this;
}

Optimizer& Optimizer::validate(Trigger when, data::Source dataset, std::vector<std::string> metrics,
                               int64_t batch_size) {
  BDL_CHECK(batch_size >= 0, "validation batch size must be non-negative, got ", batch_size);
  for (const auto& m : metrics) {
    if (m != "loss") make_metric(m);  // an unknown name fails here, before training
  }
  settings_.validate_when = std::move(when);
  settings_.validation_set = std::move(dataset);
  settings_.metrics = std::move(metrics);
  settings_.validation_batch = batch_size;
  return *this;
}

Optimizer& Optimizer::seed(uint64_t seed) {
  settings_.seed = seed;
  return *this;
}

Optimizer& Optimizer::shuffle(bool on) {
  settings_.shuffle = on;
  return *this;
}

Optimizer& Optimizer::input_pipeline(data::StreamOptions options) {
  BDL_CHECK(
      options.shuffle_buffer > 0 && options.prefetch_batches > 0 && options.decode_threads > 0,
      "input pipeline: shuffle buffer, prefetch and decode threads must be positive, got ",
      options.shuffle_buffer, ", ", options.prefetch_batches, " and ", options.decode_threads);
  settings_.input = options;
  return *this;
}

Optimizer& Optimizer::sync(ParameterSync& sync) {
  sync_ = &sync;
  return *this;
}

Optimizer& Optimizer::sync_every(int64_t k) {
  BDL_CHECK(k > 0, "sync_every: must be positive, got ", k);
  settings_.sync_every = k;
  return *this;
}

Optimizer& Optimizer::progress(ProgressStyle style) {
  settings_.progress = style;
  return *this;
}

Optimizer& Optimizer::checkpoint(Trigger when, CheckpointWriter write) {
  settings_.checkpoint_when = std::move(when);
  settings_.checkpoint_write = std::move(write);
  return *this;
}

Optimizer& Optimizer::resume(std::optional<TrainingState> state) {
  settings_.resume_requested = true;
  settings_.resume_state = std::move(state);
  return *this;
}

TrainResult Optimizer::optimize() {
  if (settings_.validation_set && settings_.metrics.empty()) {
    Shape one = train_.sample_shape();
    one.insert(one.begin(), 1);
    settings_.metrics = default_metrics(criterion_, shape_numel(model_.output_shape(one)));
    settings_.metrics.emplace_back("loss");
  }
  return TrainingRun(model_, train_, criterion_, *sync_, settings_).run();
}

}  // namespace bdl::optim
