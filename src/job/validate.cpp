// Every setting of a training job checked before any work starts, each error
// naming the field as the front end calls it (job/checks.h).
#include <cmath>
#include <filesystem>

#include "bdl/core/file.h"
#include "bdl/dist/sync.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/losses/by_name.h"
#include "bdl/optim/metrics.h"
#include "job/checks.h"

namespace bdl::job {
namespace {

namespace fs = std::filesystem;

// Runs a parser and names the field in its error: "FIELD: ...", in place of the
// parser's own "field: " when it starts so.
template <typename F>
void parsed(const FieldNames& names, const std::string& field, F&& parse) {
  try {
    parse();
  } catch (const Error& e) {
    const std::string what = e.what();
    const std::string own = field + ": ";
    fail(field_name(names, field), ": ", what.rfind(own, 0) == 0 ? what.substr(own.size()) : what);
  }
}

void validate_loop(const TrainSpec& s, const FieldNames& names) {
  check_field(s.epochs > 0, names, "epochs", "must be a positive integer, got ", s.epochs);
  check_field(s.batch_size > 0, names, "batch_size", "must be a positive integer, got ",
              s.batch_size);
  check_field(!s.max_iterations || *s.max_iterations > 0, names, "max_iterations",
              "must be a positive integer, got ", s.max_iterations.value_or(0));
  check_field(s.threads >= 0 && s.threads <= 1024, names, "threads",
              "must be 0 (one per core) to 1024, got ", s.threads);
  parsed(names, "progress", [&] { optim::parse_progress_style(s.progress); });
  check_field(s.precision == "fp32" || s.precision == "bf16", names, "precision", "'", s.precision,
              "' is not one of fp32, bf16");
  make_method(s.optimizer, s.batch_size, names);
  make_schedule(s.optimizer, s.epochs, names);
  if (!s.criterion) parsed(names, "loss", [&] { nn::make_criterion(s.loss); });
  for (const auto& m : s.metrics) {
    if (m != "loss") parsed(names, "metrics", [&] { optim::make_metric(m); });
  }
}

void validate_sync(const TrainSpec& s, const FieldNames& names) {
  dist::SyncStrategy strategy{};
  parsed(names, "sync", [&] { strategy = dist::parse_sync_strategy(s.sync.strategy); });
  dist::WireFormat format{};
  parsed(names, "compress", [&] { format = dist::parse_wire_format(s.sync.compress); });
  check_field(format == dist::WireFormat::fp32 || strategy == dist::SyncStrategy::sharded, names,
              "compress", s.sync.compress, " needs ", field_name(names, "sync"), " sharded");
  check_field(s.sync.every > 0, names, "sync_every", "must be a positive integer, got ",
              s.sync.every);
  check_field(s.sync.timeout_ms >= 100, names, "comm_timeout_ms", "must be at least 100, got ",
              s.sync.timeout_ms);
}

// An output must be writable without destroying anything (core/file.h).
void validate_output(const std::string& path, const FieldNames& names, const std::string& field) {
  if (path.empty()) return;
  check_output_path(path, field_name(names, field));
}

void validate_files(const TrainSpec& s, const FieldNames& names) {
  const CheckpointSpec& c = s.checkpoint;
  check_field(!c.resume || !c.dir.empty(), names, "resume", "needs ",
              field_name(names, "checkpoint"), " DIR");
  check_field(!c.fresh_if_unusable || c.resume, names, "fresh_if_unusable", "needs ",
              field_name(names, "resume"));
  check_field(c.every >= 0, names, "checkpoint_every", "must be non-negative, got ", c.every);
  check_field(c.every == 0 || !c.dir.empty(), names, "checkpoint_every", "needs ",
              field_name(names, "checkpoint"), " DIR");
  check_field(c.keep >= 1, names, "checkpoint_keep", "must be at least 1, got ", c.keep);
  validate_output(s.save, names, "save");
  std::error_code ec;
  check_field(c.dir.empty() || !fs::exists(c.dir, ec) || fs::is_directory(c.dir, ec), names,
              "checkpoint", c.dir, " exists and is not a directory");
  const SummarySpec& m = s.summary;
  check_field(m.dir.empty() || !fs::exists(m.dir, ec) || fs::is_directory(m.dir, ec), names,
              "summary", m.dir, " exists and is not a directory");
  check_field(m.every >= 1, names, "summary_every", "must be a positive integer, got ", m.every);
  check_field(!m.histograms || !m.dir.empty(), names, "summary_histograms", "needs ",
              field_name(names, "summary"), " DIR");
}

void validate_model_and_data(const TrainSpec& s, const FieldNames& names) {
  const DataSpec& d = s.data;
  check_field(!d.train_samples || *d.train_samples > 0, names, "train_samples",
              "must be a positive integer");
  check_field(!d.validation_samples || *d.validation_samples > 0, names, "test_samples",
              "must be a positive integer");
  check_field(!d.synthetic_samples || *d.synthetic_samples > 0, names, "synthetic_samples",
              "must be a positive integer");
  check_field(d.missing == "error" || d.missing == "zero" || d.missing == "mean", names, "missing",
              "error, zero or mean, got '", d.missing, "'");
  check_field(s.model.classes >= 0, names, "classes", "must be positive, got ", s.model.classes);
  if (s.model.module) return;
  const bool file = is_model_file(s.model.name);
  if (!file) models::find(s.model.name);  // lists the zoo when unknown
  if (!s.model.image_size) return;
  const int64_t size = *s.model.image_size;
  check_field(!file, names, "image_size", "not with a model file (", s.model.name, ")");
  check_field(size >= 8 && size <= 4096, names, "image_size", "must be between 8 and 4096, got ",
              size);
  check_field(d.source == "synthetic" && !d.train, names, "image_size", "only with ",
              field_name(names, "synthetic"));
  check_field(models::find(s.model.name).sample.size() == 3, names, "image_size", "model ",
              s.model.name, " does not take images");
}

}  // namespace

void validate(const TrainSpec& spec) {
  const FieldNames& names = spec.field_names;
  validate_loop(spec, names);
  validate_sync(spec, names);
  validate_files(spec, names);
  validate_model_and_data(spec, names);
}

}  // namespace bdl::job
