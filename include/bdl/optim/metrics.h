#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bdl/data/source.h"
#include "bdl/nn/losses/criterion.h"
#include "bdl/nn/module.h"
#include "bdl/optim/parameter_sync.h"

namespace bdl::optim {

// What a metric is computed on: the model's outputs as the loss reads them
// (OutputKind: logits, probabilities...), and targets that are class indices or
// values, with one sample's shapes.
struct MetricInput {
  nn::OutputKind outputs = nn::OutputKind::logits;
  Shape output_shape = {};  // one sample's
  Shape target_shape = {};  // one sample's; {} for class indices
  bool class_targets = true;
};

// A validation metric, exact over the whole validation set and all workers:
// batches add to its state, and the states of the workers are combined before
// the value is read (counts summed; the scores that ranking metrics sort are
// gathered to rank 0). BigDL's distributed AUC averaged per-worker AUCs, which
// is not the AUC of the whole set; this is.
class Metric {
 public:
  virtual ~Metric() = default;
  // The canonical name: top1, top5, loss, mae, mse, rmse, auc,
  // average_precision, precision, recall, f1 (the last three with @threshold
  // when not 0.5).
  virtual std::string name() const = 0;
  // Before the first batch: checks the metric fits the outputs and targets,
  // naming what does not, and sizes its state.
  virtual void start(const MetricInput& input) = 0;
  // One batch: outputs (batch, ...) and targets as the dataset holds them.
  virtual void add(const Tensor& output, const Tensor& target) = 0;
  // A metric that counts returns its counts, which are summed element-wise over
  // the workers before value(). One that does not (it ranks, or keeps extremes)
  // returns null here: its scores() are gathered on rank 0 and merged there, and
  // rank 0's value goes to every worker.
  virtual std::vector<double>* counts() { return nullptr; }
  virtual std::string scores() const { return {}; }
  virtual void merge_scores(const std::vector<std::string>& /*all*/) {}
  virtual double value() const = 0;
};

// A metric by name: top<k> (top1, top5), mae, mse, rmse, auc,
// average_precision, precision, recall, f1, the last three optionally with a
// threshold on the probability, precision@0.3. An unknown name is an error
// listing the known ones. "loss" is not a Metric: evaluate() always computes it.
std::unique_ptr<Metric> make_metric(const std::string& name);
// The names make_metric takes, for help texts.
std::string metric_names();
// How people write a metric's name: top-5 for top5; other names as they are.
std::string metric_display_name(const std::string& name);

// Adds a metric of the caller's own under a name that make_metric (and so the
// job API, `bdl train --metrics` and validation) then takes. Its counts() are
// summed over workers and its scores() gathered, as for the built-in ones. A
// name already taken is an error.
void register_metric(const std::string& name, std::function<std::unique_ptr<Metric>()> make);

// Validation results: the number of samples, the mean loss (weighted by the
// samples' weights when the data has them) and the metrics asked for, in order.
struct Evaluation {
  int64_t samples = 0;
  double loss = 0;
  std::vector<std::pair<std::string, double>> metrics = {};
  // A metric's value by name ("loss" included); an error when it was not computed.
  double operator[](std::string_view name) const;
  std::optional<double> find(std::string_view name) const;
};

// Runs the model in evaluation mode over this worker's share of the data (its
// shard of an in-memory dataset, or its record shards), restoring the mode it
// found, and combines loss and metrics over the workers of `sync`: every
// worker gets the same Evaluation.
Evaluation evaluate(nn::Module& model, nn::Criterion& criterion, const data::Source& data,
                    int64_t batch_size, const std::vector<std::string>& metrics,
                    ParameterSync& sync);
// On this process alone.
Evaluation evaluate(nn::Module& model, nn::Criterion& criterion, const data::Source& data,
                    int64_t batch_size, const std::vector<std::string>& metrics);

// The metrics that fit a loss's targets when none are asked for: top1 and top5
// for class indices (top1 alone with fewer than 6 classes), mae and rmse for values.
std::vector<std::string> default_metrics(const nn::Criterion& criterion, int64_t outputs);

}  // namespace bdl::optim
