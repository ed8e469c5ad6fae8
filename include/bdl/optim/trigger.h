#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bdl::optim {

// Where training stands when a trigger is asked.
struct Position {
  int64_t epoch = 1;      // the epoch in progress, from 1
  int64_t iteration = 0;  // iterations completed in all
  int64_t epochs_completed = 0;
  bool epoch_end = false;  // asked right after an epoch's last iteration
};

// When to stop, validate or checkpoint (BigDL's Trigger), as plain data: a kind
// and its count, or several triggers of which any may fire.
struct Trigger {
  enum class Kind { max_epoch, max_iteration, every_epoch, several_iteration, any_of };
  Kind kind = Kind::every_epoch;
  int64_t count = 0;         // epochs, iterations or the interval
  std::vector<Trigger> any;  // any_of's triggers

  bool fires(const Position& p) const;
  std::string describe() const;  // "max_epoch(5) or max_iteration(100)"
  // The epochs after which it has surely fired (max_epoch; the fewest of an
  // any_of that has one), for progress displays.
  std::optional<int64_t> epochs() const;
};

Trigger max_epoch(int64_t epochs);
Trigger max_iteration(int64_t iterations);
Trigger every_epoch();
Trigger several_iteration(int64_t interval);
// Fires when either fires.
Trigger any_of(const Trigger& a, const Trigger& b);

}  // namespace bdl::optim
