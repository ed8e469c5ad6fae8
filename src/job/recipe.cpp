#include <cmath>
#include <sstream>

#include "bdl/core/error.h"
#include "bdl/job/train.h"
#include "bdl/optim/adam.h"
#include "bdl/optim/methods.h"
#include "bdl/optim/sgd.h"
#include "job/checks.h"

namespace bdl::job {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep)) parts.push_back(part);
  return parts;
}

double number(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  fail(flag, ": '", text, "' is not a finite number");
}

// A schedule's factor: a multiplier of the rate, in (0, 1].
double factor(const std::string& flag, const std::string& text) {
  const double v = number(flag, text);
  BDL_CHECK(v > 0 && v <= 1, flag, ": factor ", text, " must be in (0, 1]");
  return v;
}

int64_t integer(const std::string& flag, const std::string& text) {
  const double v = number(flag, text);
  BDL_CHECK(v == static_cast<double>(static_cast<int64_t>(v)) && v > 0, flag, ": '", text,
            "' is not a positive integer");
  return static_cast<int64_t>(v);
}

constexpr const char* kScheduleForms =
    "none, step:EPOCHS:GAMMA, multistep:E1,E2,...:GAMMA, exp:GAMMA, poly:POWER, cosine, "
    "plateau:FACTOR:PATIENCE";

}  // namespace

double effective_lr(const MethodSpec& a, int64_t batch_size) {
  return a.scale_lr_from ? optim::scale_learning_rate(a.lr, batch_size, *a.scale_lr_from) : a.lr;
}

std::shared_ptr<optim::OptimMethod> make_method(const MethodSpec& a, int64_t batch_size,
                                                const FieldNames& names) {
  if (a.method) return a.method;
  check_field(a.lr > 0 && std::isfinite(a.lr), names, "lr", "must be a positive number, got ",
              a.lr);
  check_field(a.momentum >= 0 && a.momentum < 1, names, "momentum", "must be in [0, 1), got ",
              a.momentum);
  check_field(!a.scale_lr_from || *a.scale_lr_from > 0, names, "scale_lr_from",
              "must be a positive batch size");
  const double lr = effective_lr(a, batch_size);
  const double wd = a.weight_decay;
  check_field(wd >= 0 && std::isfinite(wd), names, "weight_decay", "must be non-negative, got ",
              wd);
  check_field(a.trust_coefficient > 0 && std::isfinite(a.trust_coefficient), names,
              "trust_coefficient", "must be a positive number, got ", a.trust_coefficient);
  if (a.name == "sgd") {
    return std::make_shared<optim::SGD>(
        optim::SGDOptions{.lr = lr, .momentum = a.momentum, .weight_decay = wd});
  }
  if (a.name == "adam") {
    return std::make_shared<optim::Adam>(optim::AdamOptions{.lr = lr, .weight_decay = wd});
  }
  if (a.name == "adamw") {
    return std::make_shared<optim::AdamW>(optim::AdamOptions{.lr = lr, .weight_decay = wd});
  }
  if (a.name == "adagrad") {
    return std::make_shared<optim::Adagrad>(optim::AdagradOptions{.lr = lr, .weight_decay = wd});
  }
  if (a.name == "rmsprop") {
    return std::make_shared<optim::RMSprop>(optim::RMSpropOptions{.lr = lr, .weight_decay = wd});
  }
  if (a.name == "lars") {
    return std::make_shared<optim::LARS>(
        optim::LARSOptions{.lr = lr,
                           .momentum = a.momentum,
                           .weight_decay = wd,
                           .trust_coefficient = a.trust_coefficient});
  }
  fail(field_name(names, "optimizer"), ": '", a.name,
       "' is not one of sgd, adam, adamw, adagrad, rmsprop, lars");
}

std::shared_ptr<optim::Schedule> make_schedule(const MethodSpec& a, int64_t epochs,
                                               const FieldNames& names) {
  if (a.custom_schedule) return a.custom_schedule;
  check_field(a.warmup_epochs >= 0 && a.warmup_epochs < epochs, names, "warmup_epochs",
              "must be in [0, ", epochs, "), got ", a.warmup_epochs);
  const std::string flag = field_name(names, "schedule");
  const auto parts = split(a.schedule, ':');
  const std::string kind = parts.empty() ? "" : parts[0];
  const int64_t rest = epochs - a.warmup_epochs;  // epochs the main schedule spans
  auto arity = [&](size_t n) {
    BDL_CHECK(parts.size() == n, flag, ": '", a.schedule, "' is not one of ", kScheduleForms);
  };
  std::unique_ptr<optim::Schedule> main;
  if (kind == "none") {
    arity(1);
  } else if (kind == "step") {
    arity(3);
    main = optim::step_lr(integer(flag, parts[1]), factor(flag, parts[2]));
  } else if (kind == "multistep") {
    arity(3);
    std::vector<int64_t> milestones;
    for (const auto& m : split(parts[1], ',')) milestones.push_back(integer(flag, m));
    main = optim::multi_step_lr(milestones, factor(flag, parts[2]));
  } else if (kind == "exp") {
    arity(2);
    main = optim::exponential_lr(factor(flag, parts[1]));
  } else if (kind == "poly") {
    arity(2);
    const double power = number(flag, parts[1]);
    BDL_CHECK(power > 0 && power <= 100, flag, ": power ", parts[1], " must be in (0, 100]");
    main = optim::polynomial_lr(rest, power);
  } else if (kind == "cosine") {
    arity(1);
    main = optim::cosine_lr(rest);
  } else if (kind == "plateau") {
    arity(3);
    main = optim::reduce_on_plateau(factor(flag, parts[1]), integer(flag, parts[2]));
  } else {
    fail(flag, ": '", a.schedule, "' is not one of ", kScheduleForms);
  }
  if (a.warmup_epochs == 0) return main;
  auto sequence = std::make_shared<optim::SequentialSchedule>();
  sequence->then(optim::linear_warmup(a.warmup_epochs, 0.1), a.warmup_epochs);
  // After the warm-up: the schedule, or the base rate held.
  sequence->then(main ? std::move(main) : optim::step_lr(1, 1.0));
  return sequence;
}

}  // namespace bdl::job
