#include "bdl/job/inference.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "bdl/core/threads.h"
#include "bdl/data/batcher.h"
#include "bdl/data/image_folder.h"
#include "bdl/data/record_shards.h"
#include "bdl/data/source.h"
#include "bdl/nn/losses/by_name.h"

namespace bdl::job {
namespace {

Tensor as_f32(const Tensor& x) {
  if (x.dtype() == DType::f32) return x;
  BDL_CHECK(x.dtype() == DType::i64, "inputs must be f32 values or i64 token ids, got ",
            dtype_name(x.dtype()));
  Tensor f(x.shape());
  const int64_t* src = x.data<int64_t>();
  for (int64_t i = 0; i < x.numel(); ++i) f.f32()[i] = static_cast<float>(src[i]);
  return f;
}

}  // namespace

void prepare_for_inference(nn::Module& model) {
  model.eval();
  model.set_inference(true);
  model.set_needs_input_grad(false);
}

Tensor predict(Model& model, const Tensor& inputs, int64_t batch_size, const std::string& what) {
  BDL_CHECK(batch_size > 0, "batch size must be positive, got ", batch_size);
  BDL_CHECK(inputs.dim() >= 1, what, ": a scalar is not a batch");
  const Tensor x = as_f32(inputs).contiguous();
  data::check_finite(x, what);
  const Shape sample(x.shape().begin() + 1, x.shape().end());
  BDL_CHECK(model.sample_shape.empty() || sample == model.sample_shape, what, ": samples of shape ",
            shape_str(sample), ", the model takes ", shape_str(model.sample_shape));
  prepare_for_inference(*model.module);
  const int64_t n = x.size(0);
  Shape one = x.shape();
  one[0] = 1;
  Shape out_shape = model.module->output_shape(one);
  out_shape[0] = n;
  Tensor y(out_shape);
  const int64_t per_sample = n == 0 ? 0 : y.numel() / n;
  for (int64_t first = 0; first < n; first += batch_size) {
    const int64_t count = std::min(batch_size, n - first);
    const Tensor o = model.module->forward(x.narrow(0, first, count).contiguous()).contiguous();
    std::copy(o.f32(), o.f32() + count * per_sample, y.f32() + first * per_sample);
  }
  return y;
}

Tensor predict(Model& model, const data::Dataset& dataset, int64_t batch_size) {
  BDL_CHECK(batch_size > 0, "batch size must be positive, got ", batch_size);
  BDL_CHECK(model.sample_shape.empty() || dataset.sample_shape() == model.sample_shape,
            dataset.name(), ": samples of shape ", shape_str(dataset.sample_shape()),
            ", the model takes ", shape_str(model.sample_shape));
  prepare_for_inference(*model.module);
  data::Batcher batcher(dataset, batch_size, /*drop_last=*/false);
  batcher.set_order(data::epoch_order(dataset, 0, 0, /*shuffle=*/false));
  Tensor y;
  int64_t next = 0;
  for (int64_t b = 0; b < batcher.num_batches(); ++b) {
    const data::MiniBatch& batch = batcher.batch(b);
    const Tensor o = model.module->forward(batch.input).contiguous();
    if (!y.defined()) {
      Shape shape = o.shape();
      shape[0] = dataset.size();
      y = Tensor(shape);
    }
    y.narrow(0, next, o.size(0)).copy_from(o);
    next += o.size(0);
  }
  return y;
}

TopClasses top_classes(const float* logits, int64_t classes, int64_t k) {
  k = std::min(k, classes);
  const float top = *std::max_element(logits, logits + classes);
  double z = 0;
  for (int64_t c = 0; c < classes; ++c) z += std::exp(static_cast<double>(logits[c] - top));
  std::vector<int64_t> order(static_cast<size_t>(classes));
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [logits](int64_t l, int64_t r) { return logits[l] > logits[r]; });
  TopClasses out;
  for (int64_t j = 0; j < k; ++j) {
    const int64_t c = order[static_cast<size_t>(j)];
    out.classes.push_back(c);
    out.probabilities.push_back(std::exp(static_cast<double>(logits[c] - top)) / z);
  }
  return out;
}

data::Source test_data(const DataSpec& spec, const Model& model) {
  if (is_numpy_dir(spec.source)) return numpy_dataset(spec.source, "test");
  const data::Normalize normalize = model.normalize.value_or(data::kFashionMnistNormalize);
  data::Source d;
  if (data::is_record_shard_dir(spec.source)) {
    data::RecordShardOptions options;
    options.skip_bad_records = spec.skip_bad_records;
    d = data::record_shards(spec.source, data::Split::test, options);
    if (d.feature_dtype() == DType::u8) d = d.map(normalize);
  } else if (data::is_image_folder(spec.source)) {
    // Test images at the model's input shape, with the training folder's
    // classes when it has one beside them.
    const Shape& shape = model.sample_shape;
    BDL_CHECK(shape.size() == 3 && (shape[0] == 1 || shape[0] == 3), spec.source,
              ": an image folder gives images of 1 or 3 channels x height x width; the model "
              "takes samples of ",
              shape_str(shape));
    data::ImageFolderOptions options;
    options.transform =
        data::image_transform("none", shape[1], shape[2], static_cast<int>(shape[0]));
    options.skip_bad_records = spec.skip_bad_records;
    options.decode_threads = spec.decode_threads;
    const bool split = data::image_split_directory(spec.source, data::Split::test).has_value();
    std::vector<std::string> classes;
    if (split) classes = data::describe_image_folder(spec.source, data::Split::train).classes;
    d = data::image_folder(spec.source, split ? data::Split::test : data::Split::train, options,
                           split ? &classes : nullptr);
  } else {
    d = data::mnist_like(spec.source, data::Split::test).map(normalize);
  }
  BDL_CHECK(model.sample_shape.empty() || d.sample_shape() == model.sample_shape, spec.source,
            ": samples of shape ", shape_str(d.sample_shape()), ", the model takes ",
            shape_str(model.sample_shape));
  return d;
}

optim::Evaluation evaluate(const EvalSpec& spec) {
  BDL_CHECK(spec.batch_size > 0, "batch size must be positive, got ", spec.batch_size);
  set_num_threads(spec.threads);
  Model model = load_model(spec.model);
  prepare_for_inference(*model.module);
  data::Source d = test_data(spec.data, model);
  if (spec.limit > 0 && spec.limit < d.size()) d = d.take(spec.limit);
  auto loss = nn::make_criterion(spec.loss);
  if (d.target_kind() == data::TargetKind::classes) d = d.with_classes(model.outputs);
  if (d.target_kind() == data::TargetKind::classes && !loss->takes_class_indices()) {
    d = d.one_hot(model.outputs);
  }
  std::vector<std::string> metrics = spec.metrics;
  if (metrics.empty()) {
    metrics = loss->takes_class_indices() ? std::vector<std::string>{"top1", "top5"}
                                          : optim::default_metrics(*loss, model.outputs);
  }
  return optim::evaluate(*model.module, *loss, d, spec.batch_size, metrics);
}

}  // namespace bdl::job
