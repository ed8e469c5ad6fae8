#include "bdl/optim/trigger.h"

#include <algorithm>

#include "bdl/core/error.h"

namespace bdl::optim {

bool Trigger::fires(const Position& p) const {
  switch (kind) {
    case Kind::max_epoch:
      return p.epochs_completed >= count;
    case Kind::max_iteration:
      return p.iteration >= count;
    case Kind::every_epoch:
      return p.epoch_end;
    case Kind::several_iteration:
      return p.iteration > 0 && p.iteration % count == 0;
    case Kind::any_of:
      return std::any_of(any.begin(), any.end(), [&](const Trigger& t) { return t.fires(p); });
  }
  return false;
}

std::string Trigger::describe() const {
  switch (kind) {
    case Kind::max_epoch:
      return "max_epoch(" + std::to_string(count) + ")";
    case Kind::max_iteration:
      return "max_iteration(" + std::to_string(count) + ")";
    case Kind::every_epoch:
      return "every_epoch";
    case Kind::several_iteration:
      return "several_iteration(" + std::to_string(count) + ")";
    case Kind::any_of: {
      std::string s;
      for (const auto& t : any) s += (s.empty() ? "" : " or ") + t.describe();
      return s;
    }
  }
  return "?";
}

std::optional<int64_t> Trigger::epochs() const {
  if (kind == Kind::max_epoch) return count;
  std::optional<int64_t> fewest;
  if (kind == Kind::any_of) {
    for (const auto& t : any) {
      const auto e = t.epochs();
      if (e && (!fewest || *e < *fewest)) fewest = e;
    }
  }
  return fewest;
}

Trigger max_epoch(int64_t epochs) {
  BDL_CHECK(epochs > 0, "max_epoch: epochs must be positive, got ", epochs);
  return {Trigger::Kind::max_epoch, epochs, {}};
}

Trigger max_iteration(int64_t iterations) {
  BDL_CHECK(iterations > 0, "max_iteration: iterations must be positive, got ", iterations);
  return {Trigger::Kind::max_iteration, iterations, {}};
}

Trigger every_epoch() { return {Trigger::Kind::every_epoch, 0, {}}; }

Trigger several_iteration(int64_t interval) {
  BDL_CHECK(interval > 0, "several_iteration: interval must be positive, got ", interval);
  return {Trigger::Kind::several_iteration, interval, {}};
}

Trigger any_of(const Trigger& a, const Trigger& b) { return {Trigger::Kind::any_of, 0, {a, b}}; }

}  // namespace bdl::optim
