#pragma once

// The `bdl` commands: each takes its flags as parsed by tools/bdl/main.cpp,
// translates them into the library's API (bdl/job) and prints. Errors are
// bdl::Error naming the flag at fault.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "bdl/job/train.h"

namespace bdl::cli {

struct TrainArgs {
  job::TrainSpec spec;     // most flags set its fields directly
  bool synthetic = false;  // --synthetic: random data of the model's input shape
  std::string report;      // --report FILE: the job's report as JSON
};

// A job field as the flag that sets it ("batch_size" -> "--batch-size").
std::string flag_name(const std::string& field);

// Trains as `bdl train` does: progress on stderr, one line per epoch on out.
// Returns the process exit code.
int run_train(const TrainArgs& args, std::ostream& out);

struct InfoArgs {
  std::string model;  // a zoo name or a model file; empty: library information only
  std::string data;   // a dataset to describe (what bdl train --data takes)
  int threads = 0;
  std::optional<int64_t> image_size;  // input height and width for image models
};
int run_info(const InfoArgs& args, std::ostream& out);

struct PredictArgs {
  std::string model;   // a model file (bdl's format or ONNX)
  std::string input;   // .npy array: a batch of samples
  std::string output;  // .npy array of the outputs
  std::string data;    // or a dataset: prints the top-k classes per sample
  int64_t top_k = 1;
  std::optional<int64_t> limit;  // samples of --data to predict (default: all)
  int64_t batch_size = 64;
  int threads = 0;
};
int run_predict(const PredictArgs& args, std::ostream& out);

struct ImportArgs {
  std::string input;   // model.onnx
  std::string output;  // model.bdl
};
// Converts an ONNX model to bdl's format.
int run_import(const ImportArgs& args, std::ostream& out);

struct ExportArgs {
  std::string model;                 // bdl's format (or ONNX)
  std::string output;                // model.onnx
  std::vector<int64_t> input_shape;  // one sample's; default: recorded in the file
};
int run_export(const ExportArgs& args, std::ostream& out);

struct EvalArgs {
  std::string model;
  std::string data = "fashion-mnist";
  int64_t batch_size = 256;
  std::optional<int64_t> limit;
  std::string loss = "cross_entropy";
  std::vector<std::string> metrics;
  int threads = 0;
};
// Metrics and loss of a model file on a dataset's test split.
int run_eval(const EvalArgs& args, std::ostream& out);

struct SplitArgs {
  std::string data = "fashion-mnist";  // or a directory of IDX files
  int64_t parts = 4;
  std::string output;
};

// Writes a partitioned dataset directory (data::write_partitioned) for training
// where each machine holds only its own parts.
int run_split(const SplitArgs& args, std::ostream& out);

struct ConvertArgs {
  std::string data = "fashion-mnist";  // what `bdl train --data` reads
  int64_t shards = 0;                  // shards per split; 0: from shard_size
  int64_t shard_size = 64 << 20;       // bytes per shard (about), when shards is 0
  std::string output;
  // Tables: as bdl train takes them.
  std::string label_column, missing = "error";
  std::vector<std::string> feature_columns;
  bool standardize = false, one_hot = false;
  // Image folders: the samples' size and channels (1 grey, 3 RGB).
  int64_t image_size = 224;
  int channels = 3;
};

// Writes a dataset as TFRecord shards of tf.train.Example records
// (data::write_record_shards), train and test, and describes what it wrote by
// reading it back.
int run_convert(const ConvertArgs& args, std::ostream& out);

// Each command's flags checked before any work (src/cli/validate.cpp), each
// error naming the flag at fault; throws bdl::Error. The run_ functions call them.
void validate(const TrainArgs& args);
void validate(const ConvertArgs& args);
void validate(const PredictArgs& args);
void validate(const EvalArgs& args);
void validate(const InfoArgs& args);
void validate(const ImportArgs& args);
void validate(const ExportArgs& args);
void validate(const SplitArgs& args);

}  // namespace bdl::cli
