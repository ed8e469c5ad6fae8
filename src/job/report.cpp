// A training job's report as JSON: the settings it ran with, its results, and
// one entry per epoch. Validation metrics appear as test_<name> (test_top1,
// test_loss, test_auc, ...).
#include <nlohmann/json.hpp>

#include "bdl/core/file.h"
#include "bdl/job/train.h"

namespace bdl::job {
namespace {

void add_validation(nlohmann::json& j, const optim::Evaluation& e) {
  j["test_samples"] = e.samples;
  j["test_loss"] = e.loss;
  for (const auto& [name, value] : e.metrics) {
    if (std::isfinite(value)) {
      j["test_" + name] = value;
    } else {
      j["test_" + name] = nullptr;  // JSON has no NaN: a metric without a value
    }
  }
}

}  // namespace

std::string report_json(const TrainReport& r) {
  const optim::TrainResult& result = r.result;
  nlohmann::json report = {
      {"workers", r.workers},
      {"sync", r.sync},
      {"compress", r.compress},
      {"model", r.model},
      {"loss", r.loss},
      {"optimizer", r.optimizer},
      {"precision", r.precision},
      {"lr", r.lr},
      {"schedule", r.schedule},
      {"warmup_epochs", r.warmup_epochs},
      {"synthetic", r.synthetic},
      {"batch_size", r.batch_size},
      {"threads", r.threads},
      {"seed", r.seed},
      {"iterations", result.iterations},
      {"epochs", result.epochs},
      {"stopped_by_callback", result.stopped_by_callback},
      {"train_loss", result.last_loss},
      {"train_samples_per_sec", result.samples_per_sec()},
      {"train_seconds", result.train_seconds},
      {"sync_seconds", result.sync_seconds},
      {"input_wait_seconds", result.input_wait_seconds},
      {"skipped_records", result.skipped_records},
      {"peak_rss_mib", r.peak_rss_mib},
  };
  if (!r.saved.empty()) report["saved"] = r.saved;
  if (result.last_validation) add_validation(report, *result.last_validation);
  nlohmann::json history = nlohmann::json::array();
  for (const auto& e : result.history) {
    nlohmann::json entry = {{"epoch", e.epoch},
                            {"iterations", e.iterations},
                            {"train_loss", e.train_loss},
                            {"samples_per_sec", e.samples_per_sec}};
    if (e.validation) add_validation(entry, *e.validation);
    history.push_back(entry);
  }
  report["history"] = history;
  return report.dump(2) + "\n";
}

void write_report(const TrainReport& report, const std::string& path) {
  const std::string text = report_json(report);
  AtomicFile file(path);
  file.write(text.data(), text.size());
  file.commit();
}

}  // namespace bdl::job
