#pragma once

#include <string>
#include <utility>
#include <vector>

#include "bdl/job/train.h"

namespace bdl::job {

// The settings every worker of a job must share, as (field, value) text: not
// paths (machines may hold the data at other places), threads or progress.
std::vector<std::pair<std::string, std::string>> shared_settings(const TrainSpec& spec);

// Collective: fails on every worker when any setting differs between workers,
// rank 0 naming the field and each rank's value.
void check_workers_agree(const TrainSpec& spec, dist::Communicator& comm);

// Collective: fails when the workers' models differ in parameter count or
// tensors (the same settings, other model files).
void check_same_model(nn::Module& model, dist::Communicator& comm, const FieldNames& names);

}  // namespace bdl::job
