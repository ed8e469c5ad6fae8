#pragma once

// The training recipe of `bdl train` from its flags: the optimisation method and
// the learning-rate schedule.

#include <memory>

#include "bdl/cli/commands.h"
#include "bdl/optim/optim_method.h"
#include "bdl/optim/schedule.h"

namespace bdl::cli {

// The learning rate after --scale-lr-from (the linear scaling rule).
double effective_lr(const TrainArgs& args);
std::unique_ptr<optim::OptimMethod> make_method(const TrainArgs& args);
// Null when there is neither a schedule nor a warm-up.
std::unique_ptr<optim::Schedule> make_schedule(const TrainArgs& args);

}  // namespace bdl::cli
