#pragma once

// The losses by name, for the command line, the job API and Python.
#include <memory>
#include <string>

#include "bdl/nn/losses/criterion.h"

namespace bdl::nn {

// cross_entropy, nll, mse, l1, smooth_l1, bce, bce_with_logits, kl_div (the
// defaults of each; build the classes directly for class weights, label
// smoothing, pos_weight or other reductions). An unknown name is an error that
// lists them.
std::unique_ptr<Criterion> make_criterion(const std::string& name);
std::string criterion_names();

}  // namespace bdl::nn
