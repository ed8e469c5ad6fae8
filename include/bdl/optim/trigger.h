#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace bdl::optim {

// Where training stands when a trigger is asked.
struct TrainState {
  int64_t epoch = 1;      // the epoch in progress, from 1
  int64_t iteration = 0;  // iterations completed in all
  int64_t epochs_completed = 0;
  bool epoch_end = false;  // asked right after an epoch's last iteration
};

// A named condition on the training state (BigDL's Trigger): when to stop, to
// validate, to checkpoint.
struct Trigger {
  std::string name;
  std::function<bool(const TrainState&)> fires;
};

Trigger max_epoch(int64_t epochs);
Trigger max_iteration(int64_t iterations);
Trigger every_epoch();
Trigger several_iteration(int64_t interval);
// Fires when either fires.
Trigger any_of(const Trigger& a, const Trigger& b);

}  // namespace bdl::optim
