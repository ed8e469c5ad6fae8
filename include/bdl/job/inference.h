#pragma once

// Running trained models: predictions for arrays, the most probable classes,
// and evaluation on a data source.
#include <cstdint>
#include <string>
#include <vector>

#include "bdl/job/data_source.h"
#include "bdl/job/model_source.h"
#include "bdl/optim/metrics.h"

namespace bdl::job {

// Puts a model in evaluation form for inference: evaluation mode and no input
// gradient, so layers use their inference kernels and keep nothing for backward.
void prepare_for_inference(nn::Module& model);

// The model's outputs for a batch of inputs (N, sample...), run in chunks of
// batch_size, as one tensor (N, outputs...). Integer token ids (i64) are taken
// as the f32 values the layers read. A sample shape other than the model's
// recorded one is an error naming `what` (the input's file or argument), and
// so is a NaN or an infinity among the inputs (named by sample and element).
Tensor predict(Model& model, const Tensor& inputs, int64_t batch_size = 64,
               const std::string& what = "inputs");

// The same for every sample of a dataset, in storage order, batched as training
// batches it (features converted and normalised on the way).
Tensor predict(Model& model, const data::Dataset& dataset, int64_t batch_size = 64);

// The k most probable classes of one row of outputs (logits: a softmax gives
// the probabilities), most probable first.
struct TopClasses {
  std::vector<int64_t> classes = {};
  std::vector<double> probabilities = {};
};
TopClasses top_classes(const float* logits, int64_t classes, int64_t k);

struct EvalSpec {
  std::string model;  // a model file (bdl's format or ONNX)
  DataSpec data;      // its test split (IDX, NumPy or record-shard directories)
  int64_t batch_size = 256;
  int64_t limit = 0;  // only the first N samples (0: all)
  std::string loss = "cross_entropy";
  std::vector<std::string> metrics = {};  // empty: top1 and top5 for classes
  int threads = 0;
};

// A data source's test split as the model was trained on it: image bytes
// normalised as the model file records (Fashion-MNIST's otherwise). Record
// shards stream.
data::Source test_data(const DataSpec& spec, const Model& model);

optim::Evaluation evaluate(const EvalSpec& spec);

}  // namespace bdl::job
