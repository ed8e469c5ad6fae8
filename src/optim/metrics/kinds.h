#pragma once

// The metric kinds make_metric() builds, one family per file of this folder.
#include <cstdint>
#include <memory>

#include "bdl/optim/metrics.h"

namespace bdl::optim::metrics {

std::unique_ptr<Metric> top_k(int64_t k);
std::unique_ptr<Metric> precision(double threshold);
std::unique_ptr<Metric> recall(double threshold);
std::unique_ptr<Metric> f1(double threshold);
enum class ErrorKind { mae, mse, rmse };
std::unique_ptr<Metric> error(ErrorKind kind);
std::unique_ptr<Metric> auc();
std::unique_ptr<Metric> average_precision();

}  // namespace bdl::optim::metrics
