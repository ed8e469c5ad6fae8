#include "bdl/optim/trigger.h"

#include "bdl/core/error.h"

namespace bdl::optim {

Trigger max_epoch(int64_t epochs) {
  BDL_CHECK(epochs > 0, "max_epoch: epochs must be positive, got ", epochs);
  return {"max_epoch(" + std::to_string(epochs) + ")",
          [epochs](const TrainState& s) { return s.epochs_completed >= epochs; }};
}

Trigger max_iteration(int64_t iterations) {
  BDL_CHECK(iterations > 0, "max_iteration: iterations must be positive, got ", iterations);
  return {"max_iteration(" + std::to_string(iterations) + ")",
          [iterations](const TrainState& s) { return s.iteration >= iterations; }};
}

Trigger every_epoch() {
  return {"every_epoch", [](const TrainState& s) { return s.epoch_end; }};
}

Trigger several_iteration(int64_t interval) {
  BDL_CHECK(interval > 0, "several_iteration: interval must be positive, got ", interval);
  return {"several_iteration(" + std::to_string(interval) + ")", [interval](const TrainState& s) {
            return s.iteration > 0 && s.iteration % interval == 0;
          }};
}

Trigger any_of(const Trigger& a, const Trigger& b) {
  return {a.name + " or " + b.name,
          [a, b](const TrainState& s) { return a.fires(s) || b.fires(s); }};
}

}  // namespace bdl::optim
