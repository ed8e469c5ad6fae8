#include "cli/recipe.h"

#include <sstream>

#include "bdl/core/error.h"
#include "bdl/optim/adam.h"
#include "bdl/optim/methods.h"
#include "bdl/optim/sgd.h"

namespace bdl::cli {
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
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  fail(flag, ": '", text, "' is not a number");
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

double effective_lr(const TrainArgs& a) {
  return a.scale_lr_from ? optim::scale_learning_rate(a.lr, a.batch_size, *a.scale_lr_from) : a.lr;
}

std::unique_ptr<optim::OptimMethod> make_method(const TrainArgs& a) {
  const double lr = effective_lr(a);
  const double wd = a.weight_decay;
  BDL_CHECK(wd >= 0, "--weight-decay: must be non-negative, got ", wd);
  if (a.optimizer == "sgd") {
    return std::make_unique<optim::SGD>(
        optim::SGDOptions{.lr = lr, .momentum = a.momentum, .weight_decay = wd});
  }
  if (a.optimizer == "adam") {
    return std::make_unique<optim::Adam>(optim::AdamOptions{.lr = lr, .weight_decay = wd});
  }
  if (a.optimizer == "adamw") {
    return std::make_unique<optim::AdamW>(optim::AdamOptions{.lr = lr, .weight_decay = wd});
  }
  if (a.optimizer == "adagrad") {
    return std::make_unique<optim::Adagrad>(optim::AdagradOptions{.lr = lr, .weight_decay = wd});
  }
  if (a.optimizer == "rmsprop") {
    return std::make_unique<optim::RMSprop>(optim::RMSpropOptions{.lr = lr, .weight_decay = wd});
  }
  if (a.optimizer == "lars") {
    BDL_CHECK(a.trust_coefficient > 0, "--trust-coefficient: must be positive, got ",
              a.trust_coefficient);
    return std::make_unique<optim::LARS>(
        optim::LARSOptions{.lr = lr,
                           .momentum = a.momentum,
                           .weight_decay = wd,
                           .trust_coefficient = a.trust_coefficient});
  }
  fail("--optimizer: '", a.optimizer, "' is not one of sgd, adam, adamw, adagrad, rmsprop, lars");
}

std::unique_ptr<optim::Schedule> make_schedule(const TrainArgs& a) {
  BDL_CHECK(a.warmup_epochs >= 0 && a.warmup_epochs < a.epochs, "--warmup-epochs: must be in [0, ",
            a.epochs, "), got ", a.warmup_epochs);
  const auto parts = split(a.schedule, ':');
  const std::string kind = parts.empty() ? "" : parts[0];
  const int64_t rest = a.epochs - a.warmup_epochs;  // epochs the main schedule spans
  auto arity = [&](size_t n) {
    BDL_CHECK(parts.size() == n, "--schedule: '", a.schedule, "' is not one of ", kScheduleForms);
  };
  std::unique_ptr<optim::Schedule> main;
  if (kind == "none") {
    arity(1);
  } else if (kind == "step") {
    arity(3);
    main = optim::step_lr(integer("--schedule", parts[1]), number("--schedule", parts[2]));
  } else if (kind == "multistep") {
    arity(3);
    std::vector<int64_t> milestones;
    for (const auto& m : split(parts[1], ',')) milestones.push_back(integer("--schedule", m));
    main = optim::multi_step_lr(milestones, number("--schedule", parts[2]));
  } else if (kind == "exp") {
    arity(2);
    main = optim::exponential_lr(number("--schedule", parts[1]));
  } else if (kind == "poly") {
    arity(2);
    main = optim::polynomial_lr(rest, number("--schedule", parts[1]));
  } else if (kind == "cosine") {
    arity(1);
    main = optim::cosine_lr(rest);
  } else if (kind == "plateau") {
    arity(3);
    main =
        optim::reduce_on_plateau(number("--schedule", parts[1]), integer("--schedule", parts[2]));
  } else {
    fail("--schedule: '", a.schedule, "' is not one of ", kScheduleForms);
  }
  if (a.warmup_epochs == 0) return main;
  auto sequence = std::make_unique<optim::SequentialSchedule>();
  sequence->then(optim::linear_warmup(a.warmup_epochs, 0.1), a.warmup_epochs);
  // After the warm-up: the schedule, or the base rate held.
  sequence->then(main ? std::move(main) : optim::step_lr(1, 1.0));
  return sequence;
}

}  // namespace bdl::cli
