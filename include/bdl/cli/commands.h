#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace bdl::cli {

struct TrainArgs {
  std::string model = "lenet5";
  std::string data = "fashion-mnist";  // or a directory of IDX files
  int64_t epochs = 5;
  int64_t batch_size = 128;
  double lr = 0.05;
  double momentum = 0.9;          // SGD's and LARS's
  std::string optimizer = "sgd";  // sgd, adam, adamw, adagrad, rmsprop, lars
  double weight_decay = 0.0;
  double trust_coefficient = 0.001;  // LARS's eta
  // none, step:EPOCHS:GAMMA, multistep:E1,E2,...:GAMMA, exp:GAMMA, poly:POWER, cosine,
  // plateau:FACTOR:PATIENCE; after the warm-up, over the remaining epochs.
  std::string schedule = "none";
  int64_t warmup_epochs = 0;             // linear warm-up, per iteration, from lr / 10
  std::optional<int64_t> scale_lr_from;  // linear scaling: lr * batch / this reference batch
  // Random data of the model's input shape instead of --data, for benchmarks.
  bool synthetic = false;
  std::optional<int64_t> image_size;  // height and width of synthetic images
  int64_t synthetic_samples = 0;      // 0: 8 batches (at least 256)
  uint64_t seed = 1;
  int threads = 0;  // 0: one per core
  std::optional<int64_t> max_iteration;
  std::optional<int64_t> train_samples;  // use only the first N training samples
  std::optional<int64_t> test_samples;
  std::string precision = "fp32";  // fp32, or bf16 convolutions (fp32 master weights)
  std::string report;              // JSON report path, empty for none
  std::string progress = "auto";   // auto, bar, lines, quiet
  // Data-parallel training when started by mpirun or srun.
  std::string sync = "sharded";     // sharded, allreduce, driver
  std::string compress = "none";    // none, fp16, bf16 (sharded only)
  int64_t sync_every = 50;          // iterations between group boundaries
  int64_t comm_timeout_ms = 60000;  // a peer silent this long is reported lost
  // Checkpoints: a directory, written every N iterations (0: every epoch) and at
  // the end; --resume continues from the newest one there.
  std::string checkpoint;
  int64_t checkpoint_every = 0;
  int checkpoint_keep = 2;
  bool resume = false;
  std::string save;  // the trained model in bdl's format
};

// Checks every argument, naming the flag at fault; throws bdl::Error.
void validate(const TrainArgs& args);

// Trains as `bdl train` does: progress on stderr, one line per epoch on out.
// Returns the process exit code; throws bdl::Error on bad input.
int run_train(const TrainArgs& args, std::ostream& out);

struct InfoArgs {
  std::string model;  // a zoo name or a model file; empty: library information only
  int threads = 0;
  std::optional<int64_t> image_size;  // input height and width for image models
};

int run_info(const InfoArgs& args, std::ostream& out);

struct PredictArgs {
  std::string model;   // a model file (bdl's format)
  std::string input;   // .npy array: a batch of samples
  std::string output;  // .npy array of the outputs
  std::string data;    // or a dataset: prints the top-k classes per sample
  int64_t top_k = 1;
  int64_t limit = 0;  // samples of --data to predict (0: all)
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
  int64_t limit = 0;
  int threads = 0;
};
// Top-1 and top-5 accuracy and loss of a model file on a dataset's test split.
int run_eval(const EvalArgs& args, std::ostream& out);

struct SplitArgs {
  std::string data = "fashion-mnist";  // or a directory of IDX files
  int64_t parts = 4;
  std::string output;
};

// Writes a partitioned dataset directory (data::write_partitioned) for training
// where each machine holds only its own parts.
int run_split(const SplitArgs& args, std::ostream& out);

}  // namespace bdl::cli
