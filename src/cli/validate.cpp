// Every flag of every command checked in one place, before any work starts:
// each error names the flag and what it accepts. The training job's own fields
// are checked by job::validate (with the flags' names); this adds what only the
// command line has (outputs such as --report, and the commands that are not a
// training job).
#include <filesystem>

#include "bdl/cli/commands.h"
#include "bdl/core/file.h"
#include "bdl/core/threads.h"

namespace bdl::cli {
namespace {

void check_threads(int threads) {
  BDL_CHECK(threads >= 0 && threads <= kMaxThreads, "--threads: must be 0 (one per core) to ",
            kMaxThreads, ", got ", threads);
}

void check_positive(int64_t value, const char* flag) {
  BDL_CHECK(value > 0, flag, ": must be a positive integer, got ", value);
}

void check_limit(const std::optional<int64_t>& limit) {
  BDL_CHECK(!limit || *limit > 0,
            "--limit: must be a positive integer (leave it out for all), got ", limit.value_or(0));
}

// An input named by a flag must be there before anything runs.
void check_input(const std::string& path, const char* flag) {
  BDL_CHECK(!path.empty(), flag, ": required");
  std::error_code ec;
  BDL_CHECK(std::filesystem::exists(path, ec), flag, ": ", path, ": no such file");
}

}  // namespace

void validate(const TrainArgs& a) {
  job::TrainSpec spec = a.spec;
  if (a.synthetic) spec.data.source = "synthetic";
  spec.field_names = flag_name;
  job::validate(spec);
  if (!a.report.empty()) {
    check_output_path(a.report, "--report");
    BDL_CHECK(a.spec.save.empty() || std::filesystem::path(a.spec.save).lexically_normal() !=
                                         std::filesystem::path(a.report).lexically_normal(),
              "--report: ", a.report, " is also --save's file");
  }
  if (!a.spec.save.empty() && job::is_model_file(a.spec.model.name)) {
    check_not_input(a.spec.save, "--save", a.spec.model.name, "--model");
  }
}

void validate(const PredictArgs& a) {
  check_threads(a.threads);
  check_positive(a.batch_size, "--batch-size");
  check_positive(a.top_k, "--top-k");
  check_limit(a.limit);
  BDL_CHECK(a.input.empty() != a.data.empty(), "predict: give either --input x.npy or --data");
  BDL_CHECK(a.input.empty() || !a.output.empty(), "--input: --output y.npy is required with it");
  BDL_CHECK(a.output.empty() || !a.input.empty(), "--output: only with --input (with --data, ",
            "predict prints the top classes)");
  check_input(a.model, "--model");
  if (!a.input.empty()) check_input(a.input, "--input");
  if (!a.output.empty()) {
    check_output_path(a.output, "--output");
    check_not_input(a.output, "--output", a.input, "--input");
    check_not_input(a.output, "--output", a.model, "--model");
  }
}

void validate(const EvalArgs& a) {
  check_threads(a.threads);
  check_positive(a.batch_size, "--batch-size");
  check_limit(a.limit);
  check_input(a.model, "--model");
}

void validate(const InfoArgs& a) {
  check_threads(a.threads);
  BDL_CHECK(a.data.empty() || a.model.empty(),
            "--data: describes a dataset, --model a model: give one of them");
  if (!a.image_size) return;
  BDL_CHECK(*a.image_size >= 8 && *a.image_size <= 4096,
            "--image-size: must be between 8 and 4096, got ", *a.image_size);
  BDL_CHECK(!a.model.empty() && !job::is_model_file(a.model),
            "--image-size: only with a zoo --model (", a.model.empty() ? "none" : a.model,
            " given)");
}

void validate(const ImportArgs& a) {
  check_input(a.input, "input");
  BDL_CHECK(!a.output.empty(), "-o/--output: a model file to write is required");
  check_output_path(a.output, "-o/--output");
  check_not_input(a.output, "-o/--output", a.input, "the input");
}

void validate(const ExportArgs& a) {
  check_input(a.model, "model");
  BDL_CHECK(!a.output.empty(), "-o/--output: an ONNX file to write is required");
  check_output_path(a.output, "-o/--output");
  check_not_input(a.output, "-o/--output", a.model, "the model");
  for (size_t i = 0; i < a.input_shape.size(); ++i) {
    BDL_CHECK(a.input_shape[i] > 0 && a.input_shape[i] <= (int64_t{1} << 24),
              "--input-shape: dimension ", i, " is ", a.input_shape[i],
              "; each must be between 1 and 16777216");
  }
}

void validate(const ConvertArgs& a) {
  BDL_CHECK(a.shards >= 0 && a.shards <= 99999, "--shards: between 1 and 99999, got ", a.shards);
  check_positive(a.shard_size, "--shard-size");
  BDL_CHECK(a.image_size > 0 && a.image_size <= 65500, "--image-size: between 1 and 65500, got ",
            a.image_size);
  BDL_CHECK(a.channels == 1 || a.channels == 3, "--channels: 1 (grey) or 3 (RGB), got ",
            a.channels);
  BDL_CHECK(!a.output.empty(), "-o/--output: a directory to write is required");
  std::error_code ec;
  BDL_CHECK(!std::filesystem::exists(a.output, ec) || std::filesystem::is_directory(a.output, ec),
            "-o/--output: ", a.output, " exists and is not a directory");
}

void validate(const SplitArgs& a) {
  check_positive(a.parts, "--parts");
  BDL_CHECK(a.parts <= 99999, "--parts: at most 99999, got ", a.parts);
  BDL_CHECK(!a.output.empty(), "-o/--output: a directory to write is required");
  std::error_code ec;
  BDL_CHECK(!std::filesystem::exists(a.output, ec) || std::filesystem::is_directory(a.output, ec),
            "-o/--output: ", a.output, " exists and is not a directory");
}

}  // namespace bdl::cli
