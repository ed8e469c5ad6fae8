#pragma once

// TensorBoard summaries of a training job (TrainSpec::summary), hooked into the
// loop's callbacks on rank 0.
#include "bdl/job/train.h"
#include "bdl/optim/optimizer.h"

namespace bdl::job {

// Adds the callbacks that write spec.summary's event files for `model`.
void add_summaries(optim::Optimizer& optimizer, const SummarySpec& spec, nn::Module& model);

}  // namespace bdl::job
