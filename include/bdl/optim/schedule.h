#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace bdl::optim {

// Where training stands when a schedule is asked for the learning rate: the
// iteration about to run (0-based), the epoch it belongs to, and the iterations
// per epoch (known once the data is partitioned).
struct ScheduleClock {
  int64_t iteration = 0;
  int64_t epoch = 0;
  int64_t iterations_per_epoch = 1;
};

// Counts a schedule's time in epochs (PyTorch's schedulers stepped once per
// epoch) or in iterations (BigDL's).
enum class ScheduleUnit { epoch, iteration };

// A learning-rate schedule: the rate for the coming iteration from the method's
// base rate. The training loop asks before every iteration; every worker gets
// the same answer, so no communication is needed.
class Schedule {
 public:
  virtual ~Schedule() = default;
  virtual double rate(double base, const ScheduleClock& clock) = 0;
  // After each validation, with its mean loss (reduce-on-plateau listens).
  virtual void on_validation(double /*loss*/) {}
  // What the schedule has learned from validations (reduce-on-plateau's best loss),
  // for checkpoints; empty for schedules that are functions of the clock alone.
  virtual std::vector<double> state() const { return {}; }
  virtual void set_state(std::span<const double> /*state*/) {}
  virtual std::string describe() const = 0;
  // How long the schedule lasts in iterations when it is a phase of a sequence
  // (0: open-ended).
  virtual int64_t duration(const ScheduleClock& /*clock*/) const { return 0; }
};

// base * gamma^floor(t / step_size), as StepLR.
std::unique_ptr<Schedule> step_lr(int64_t step_size, double gamma,
                                  ScheduleUnit unit = ScheduleUnit::epoch);
// base * gamma^(milestones passed), as MultiStepLR.
std::unique_ptr<Schedule> multi_step_lr(std::vector<int64_t> milestones, double gamma,
                                        ScheduleUnit unit = ScheduleUnit::epoch);
// base * gamma^t, as ExponentialLR.
std::unique_ptr<Schedule> exponential_lr(double gamma, ScheduleUnit unit = ScheduleUnit::epoch);
// base * (1 - min(t, total) / total)^power, as PolynomialLR.
std::unique_ptr<Schedule> polynomial_lr(int64_t total, double power,
                                        ScheduleUnit unit = ScheduleUnit::epoch);
// min + (base - min) (1 + cos(pi t / total)) / 2, as CosineAnnealingLR (which
// rises again after total).
std::unique_ptr<Schedule> cosine_lr(int64_t total, double min_lr = 0.0,
                                    ScheduleUnit unit = ScheduleUnit::epoch);
// Linear warm-up from start_factor * base to base over `length` units (LinearLR):
// per iteration when the unit is iteration; with epochs, per epoch as PyTorch, or
// per iteration spread over the epochs when smooth (Goyal et al.'s recipe).
std::unique_ptr<Schedule> linear_warmup(int64_t length, double start_factor = 0.0,
                                        ScheduleUnit unit = ScheduleUnit::epoch,
                                        bool smooth = true);
// Phases one after another, each seeing time from its own start (SequentialLR):
// every phase but the last lasts its given length in its unit.
class SequentialSchedule : public Schedule {
 public:
  // length in the phase's unit; ignored for the last phase.
  SequentialSchedule& then(std::unique_ptr<Schedule> phase, int64_t length = 0,
                           ScheduleUnit unit = ScheduleUnit::epoch);
  double rate(double base, const ScheduleClock& clock) override;
  void on_validation(double loss) override;
  std::vector<double> state() const override;
  void set_state(std::span<const double> state) override;
  std::string describe() const override;

 private:
  struct Phase {
    std::unique_ptr<Schedule> schedule;
    int64_t length;
    ScheduleUnit unit;
  };
  std::vector<Phase> phases_;
};
// Multiplies the rate by factor when the validation loss has not improved (by
// more than threshold, relative) for `patience` validations, as ReduceLROnPlateau
// in mode min; never below min_lr.
std::unique_ptr<Schedule> reduce_on_plateau(double factor = 0.1, int64_t patience = 10,
                                            double threshold = 1e-4, double min_lr = 0.0);

// The linear scaling rule (Goyal et al.): lr = base_lr * global_batch / reference_batch.
double scale_learning_rate(double base_lr, int64_t global_batch, int64_t reference_batch);

}  // namespace bdl::optim
