#pragma once

// What a checkpoint needs from a running job, and how a resumed job gets it
// back: every worker's optimizer state, module buffers and random streams, and
// where in the data and the schedule training stands. Everything here is
// collective: every worker calls each function.
#include <optional>
#include <span>
#include <vector>

#include "bdl/nn/flat_parameters.h"
#include "bdl/nn/module.h"
#include "bdl/optim/checkpoint.h"
#include "bdl/optim/optim_method.h"
#include "bdl/optim/parameter_sync.h"
#include "bdl/optim/trigger.h"

namespace bdl::optim {

// Where a resumed run continues: its position, the first batch of the epoch in
// progress not trained on yet, the method's base rate and the schedule's state.
struct ResumePoint {
  Position position;
  int64_t next_batch = 0;
  double base_lr = 0;
  std::vector<double> schedule;
};

// Rank 0's resume point (read from its checkpoint) on every worker. The others
// pass nothing; `schedule_size` is the length of this run's schedule state.
ResumePoint share_resume_point(ParameterSync& sync, const std::optional<TrainingState>& saved,
                               size_t schedule_size);

// Every worker's state, gathered on rank 0 (empty elsewhere).
std::vector<WorkerState> gather_worker_states(ParameterSync& sync, nn::Module& model,
                                              nn::FlatParameters& flat, const OptimMethod& method);

// Rank 0 cuts the checkpoint's per-worker optimizer state along the ranges the
// workers hold now and hands each its part, with its buffers and random streams
// when the worker count is unchanged.
void restore_worker_states(ParameterSync& sync, nn::Module& model, nn::FlatParameters& flat,
                           OptimMethod& method, const std::optional<TrainingState>& saved);

// Every worker's module buffers (BatchNorm's statistics) replaced by their mean.
void average_buffers(nn::Module& model, ParameterSync& sync);

// All of a model's buffers, one after the other, and back.
std::vector<float> buffer_values(nn::Module& model);
void set_buffer_values(nn::Module& model, std::span<const float> values);

}  // namespace bdl::optim
