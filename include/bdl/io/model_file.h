#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bdl/core/tensor.h"
#include "bdl/nn/module.h"
#include "bdl/optim/checkpoint.h"

namespace bdl::io {

// What a model file says besides the modules and their weights.
struct ModelMetadata {
  Shape input_shape;  // one sample's shape (without the batch), when known
  std::string description;
  // Normalisation of [0, 1] inputs used in training, (x - mean) / std; std 0 when
  // not recorded. predict and eval apply it to datasets.
  float input_mean = 0.f;
  float input_std = 0.f;
};

// Saves a model in bdl's native format (src/io/bdl_format.proto): its modules
// with their attributes, parameters and buffers. Written to a temporary file,
// flushed to disk and renamed, so `path` holds either the old file or the whole
// new one.
void save_model(nn::Module& model, const std::string& path, const ModelMetadata& metadata = {});

struct LoadedModel {
  std::unique_ptr<nn::Module> model;
  ModelMetadata metadata;
  bool is_checkpoint = false;
};
// Loads a model saved by save_model (or the model in a checkpoint). Save then
// load is bit-exact. A file that is not a bdl model, truncated, corrupt, or that
// names an unknown layer gets a bdl::Error naming the file and what is wrong.
LoadedModel load_model(const std::string& path);

// A checkpoint: the model plus the training state (optimizer state of every
// worker's slice, schedule, position in the data, random streams).
void save_checkpoint(nn::Module& model, const optim::TrainingState& state, const std::string& path,
                     const ModelMetadata& metadata = {});
struct LoadedCheckpoint {
  LoadedModel model;
  optim::TrainingState training;
};
LoadedCheckpoint load_checkpoint(const std::string& path);
// Reads a checkpoint's weights and buffers into a model of the same structure
// (names and shapes must match) and returns its training state.
optim::TrainingState restore_checkpoint(nn::Module& model, const std::string& path);

// The checkpoints of training runs in a directory, named by iteration and
// lineage (checkpoint-000000001200-3f2a9c0d11e4b7a5.bdl). A lineage is one run
// and every run resumed from it: a fresh run draws a new one, a resumed run
// takes over the one it resumed from. Each checkpoint is written atomically;
// the newest `keep` of this lineage are kept, and nothing else in the directory
// is ever removed (another run's checkpoints, files of older versions without
// a lineage). A crash while writing leaves the previous checkpoint intact.
class CheckpointDirectory {
 public:
  explicit CheckpointDirectory(std::string dir, int keep = 2);
  // Writes a checkpoint and removes this lineage's beyond `keep`; returns its path.
  std::string save(nn::Module& model, const optim::TrainingState& state,
                   const ModelMetadata& metadata = {});
  // The newest checkpoint's path, or empty when there is none.
  std::string latest() const;
  // Every checkpoint in the directory, of any lineage, oldest (by iteration) first.
  std::vector<std::string> list() const;
  const std::string& dir() const { return dir_; }
  // Continue the lineage of a checkpoint (resume); one without a lineage (an
  // older version's) keeps this directory's fresh one.
  void continue_lineage_of(const std::string& checkpoint);
  uint64_t lineage() const { return lineage_; }

 private:
  std::string dir_;
  int keep_;
  uint64_t lineage_;
};

// The magic bytes a native model file starts with.
bool looks_like_native_model(const std::string& path);

}  // namespace bdl::io
