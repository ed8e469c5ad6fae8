#include "bdl/optim/optimizer.h"

#include "optim/training_run.h"

namespace bdl::optim {

Optimizer::Optimizer(nn::Module& model, const data::Dataset& train, nn::Criterion& criterion)
    : model_(model), train_(train), criterion_(criterion) {}

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

Optimizer& Optimizer::validate(Trigger when, const data::Dataset& dataset,
                               std::vector<std::string> metrics, int64_t batch_size) {
  BDL_CHECK(batch_size >= 0, "validation batch size must be non-negative, got ", batch_size);
  for (const auto& m : metrics) {
    if (m != "loss") make_metric(m);  // an unknown name fails here, before training
  }
  settings_.validate_when = std::move(when);
  settings_.validation_set = &dataset;
  settings_.metrics = std::move(metrics);
  settings_.validation_batch = batch_size;
  return *this;
}

Optimizer& Optimizer::seed(uint64_t seed) {
  settings_.seed = seed;
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
  if (settings_.validation_set != nullptr && settings_.metrics.empty()) {
    Shape one = train_.sample_shape();
    one.insert(one.begin(), 1);
    settings_.metrics = default_metrics(criterion_, shape_numel(model_.output_shape(one)));
    settings_.metrics.emplace_back("loss");
  }
  return TrainingRun(model_, train_, criterion_, *sync_, settings_).run();
}

}  // namespace bdl::optim
