#include "bdl/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>

#include "bdl/core/error.h"

namespace bdl::optim {
namespace {

double time_of(const ScheduleClock& c, ScheduleUnit unit) {
  return static_cast<double>(unit == ScheduleUnit::epoch ? c.epoch : c.iteration);
}

const char* unit_name(ScheduleUnit unit) {
  return unit == ScheduleUnit::epoch ? "epochs" : "iterations";
}

// A schedule that is a function of time alone.
class Formula : public Schedule {
 public:
  template <typename F>
  Formula(std::string description, ScheduleUnit unit, F&& f)
      : description_(std::move(description)), unit_(unit), f_(std::forward<F>(f)) {}
  double rate(double base, const ScheduleClock& clock) override {
    return f_(base, time_of(clock, unit_));
  }
  std::string describe() const override { return description_; }

 private:
  std::string description_;
  ScheduleUnit unit_;
  std::function<double(double, double)> f_;
};

class LinearWarmup : public Schedule {
 public:
  LinearWarmup(int64_t length, double start, ScheduleUnit unit, bool smooth)
      : length_(length), start_(start), unit_(unit), smooth_(smooth) {}
  double rate(double base, const ScheduleClock& clock) override {
    double t = time_of(clock, unit_);
    double total = static_cast<double>(length_);
    if (unit_ == ScheduleUnit::epoch && smooth_) {
      t = static_cast<double>(clock.iteration);
      total *= static_cast<double>(clock.iterations_per_epoch);
    }
    if (t >= total) return base;
    return base * (start_ + (1.0 - start_) * t / total);
  }
  std::string describe() const override {
    return detail::concat("linear warm-up over ", length_, " ", unit_name(unit_), " from ", start_,
                          " x");
  }

 private:
  int64_t length_;
  double start_;
  ScheduleUnit unit_;
  bool smooth_;
};

class Plateau : public Schedule {
 public:
  Plateau(double factor, int64_t patience, double threshold, double min_lr)
      : factor_(factor), patience_(patience), threshold_(threshold), min_lr_(min_lr) {}
  double rate(double base, const ScheduleClock&) override {
    return std::max(base * scale_, std::min(base, min_lr_));
  }
  void on_validation(double loss) override {
    if (loss < best_ * (1.0 - threshold_)) {
      best_ = loss;
      bad_ = 0;
    } else if (++bad_ > patience_) {
      scale_ *= factor_;
      bad_ = 0;
    }
  }
  std::vector<double> state() const override { return {best_, static_cast<double>(bad_), scale_}; }
  void set_state(std::span<const double> state) override {
    BDL_CHECK(state.size() == 3, "reduce-on-plateau state: expected 3 values, got ", state.size());
    best_ = state[0];
    bad_ = static_cast<int64_t>(state[1]);
    scale_ = state[2];
  }
  std::string describe() const override {
    return detail::concat("reduce on plateau (x", factor_, " after ", patience_,
                          " validations without improvement)");
  }

 private:
  double factor_;
  int64_t patience_;
  double threshold_, min_lr_;
  double best_ = INFINITY;
  int64_t bad_ = 0;
  double scale_ = 1.0;
};

}  // namespace

std::unique_ptr<Schedule> step_lr(int64_t step_size, double gamma, ScheduleUnit unit) {
  BDL_CHECK(step_size > 0, "step schedule: step size must be positive, got ", step_size);
  return std::make_unique<Formula>(
      detail::concat("step (x", gamma, " every ", step_size, " ", unit_name(unit), ")"), unit,
      [=](double base, double t) {
        return base * std::pow(gamma, std::floor(t / static_cast<double>(step_size)));
      });
}

std::unique_ptr<Schedule> multi_step_lr(std::vector<int64_t> milestones, double gamma,
                                        ScheduleUnit unit) {
  std::sort(milestones.begin(), milestones.end());
  return std::make_unique<Formula>(
      detail::concat("multi-step (x", gamma, " at ", milestones.size(), " milestones)"), unit,
      [=](double base, double t) {
        const auto passed =
            std::upper_bound(milestones.begin(), milestones.end(), static_cast<int64_t>(t)) -
            milestones.begin();
        return base * std::pow(gamma, static_cast<double>(passed));
      });
}

std::unique_ptr<Schedule> exponential_lr(double gamma, ScheduleUnit unit) {
  return std::make_unique<Formula>(
      detail::concat("exponential (x", gamma, " per ", unit_name(unit), ")"), unit,
      [=](double base, double t) { return base * std::pow(gamma, t); });
}

std::unique_ptr<Schedule> polynomial_lr(int64_t total, double power, ScheduleUnit unit) {
  BDL_CHECK(total > 0, "polynomial schedule: length must be positive, got ", total);
  return std::make_unique<Formula>(
      detail::concat("polynomial (power ", power, " over ", total, " ", unit_name(unit), ")"), unit,
      [=](double base, double t) {
        const double left =
            1.0 - std::min(t, static_cast<double>(total)) / static_cast<double>(total);
        return base * std::pow(left, power);
      });
}

std::unique_ptr<Schedule> cosine_lr(int64_t total, double min_lr, ScheduleUnit unit) {
  BDL_CHECK(total > 0, "cosine schedule: length must be positive, got ", total);
  return std::make_unique<Formula>(
      detail::concat("cosine (over ", total, " ", unit_name(unit), ")"), unit,
      [=](double base, double t) {
        // Past total the rate rises again, as PyTorch's (periodic) form does.
        const double x = t / static_cast<double>(total);
        return min_lr + (base - min_lr) * (1.0 + std::cos(std::numbers::pi * x)) / 2.0;
      });
}

std::unique_ptr<Schedule> linear_warmup(int64_t length, double start_factor, ScheduleUnit unit,
                                        bool smooth) {
  BDL_CHECK(length > 0, "warm-up: length must be positive, got ", length);
  BDL_CHECK(start_factor >= 0 && start_factor <= 1, "warm-up: start factor ", start_factor,
            " is not in [0, 1]");
  return std::make_unique<LinearWarmup>(length, start_factor, unit, smooth);
}

SequentialSchedule& SequentialSchedule::then(std::unique_ptr<Schedule> phase, int64_t length,
                                             ScheduleUnit unit) {
  BDL_CHECK(phase != nullptr, "sequential schedule: null phase");
  phases_.push_back({std::move(phase), length, unit});
  return *this;
}

double SequentialSchedule::rate(double base, const ScheduleClock& clock) {
  BDL_CHECK(!phases_.empty(), "sequential schedule: no phases");
  ScheduleClock local = clock;
  for (size_t i = 0; i + 1 < phases_.size(); ++i) {
    const auto& p = phases_[i];
    const int64_t iterations =
        p.unit == ScheduleUnit::iteration ? p.length : p.length * clock.iterations_per_epoch;
    if (local.iteration < iterations) return p.schedule->rate(base, local);
    local.iteration -= iterations;
    if (p.unit == ScheduleUnit::epoch) {
      local.epoch -= p.length;
    } else {
      local.epoch = local.iteration / std::max<int64_t>(1, clock.iterations_per_epoch);
    }
  }
  return phases_.back().schedule->rate(base, local);
}

void SequentialSchedule::on_validation(double loss) {
  for (auto& p : phases_) p.schedule->on_validation(loss);
}

// Each phase's state preceded by its length.
std::vector<double> SequentialSchedule::state() const {
  std::vector<double> out;
  for (const auto& p : phases_) {
    const auto s = p.schedule->state();
    out.push_back(static_cast<double>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

void SequentialSchedule::set_state(std::span<const double> state) {
  size_t k = 0;
  for (auto& p : phases_) {
    BDL_CHECK(k < state.size(), "sequential schedule state: too short");
    const auto n = static_cast<size_t>(state[k++]);
    BDL_CHECK(n <= state.size() - k, "sequential schedule state: too short");
    p.schedule->set_state(state.subspan(k, n));
    k += n;
  }
  BDL_CHECK(k == state.size(), "sequential schedule state: ", state.size() - k, " values too many");
}

std::string SequentialSchedule::describe() const {
  std::string s;
  for (size_t i = 0; i < phases_.size(); ++i) {
    if (i > 0) s += ", then ";
    s += phases_[i].schedule->describe();
  }
  return s;
}

std::unique_ptr<Schedule> reduce_on_plateau(double factor, int64_t patience, double threshold,
                                            double min_lr) {
  BDL_CHECK(factor > 0 && factor < 1, "reduce on plateau: factor ", factor, " is not in (0, 1)");
  BDL_CHECK(patience >= 0, "reduce on plateau: patience must be non-negative");
  return std::make_unique<Plateau>(factor, patience, threshold, min_lr);
}

double scale_learning_rate(double base_lr, int64_t global_batch, int64_t reference_batch) {
  BDL_CHECK(global_batch > 0 && reference_batch > 0,
            "linear scaling: batch sizes must be positive");
  return base_lr * static_cast<double>(global_batch) / static_cast<double>(reference_batch);
}

}  // namespace bdl::optim
