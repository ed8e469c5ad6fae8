// Commands that run a saved model (bdl or ONNX): predict and eval.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <ostream>

#include "bdl/cli/commands.h"
#include "bdl/core/threads.h"
#include "bdl/data/batcher.h"
#include "bdl/data/dataset.h"
#include "bdl/data/npy.h"
#include "bdl/io/model_file.h"
#include "bdl/nn/cross_entropy.h"
#include "bdl/optim/metrics.h"
#include "cli/load.h"

namespace bdl::cli {
namespace {

io::LoadedModel load_for_inference(const std::string& path) {
  BDL_CHECK(!path.empty(), "--model: a model file is required");
  io::LoadedModel loaded = load_model_file(path);
  loaded.model->eval();
  loaded.model->set_needs_input_grad(false);
  return loaded;
}

// The test split of --data, normalised as the model was in training.
data::Dataset test_data(const std::string& spec, const io::ModelInfo& info, int64_t limit) {
  data::Dataset d = data::mnist_like(spec, data::Split::test);
  if (info.input_std > 0) {
    d = d.map(data::Normalize{info.input_mean, info.input_std});
  } else {
    d = d.map(data::kFashionMnistNormalize);
  }
  if (limit > 0 && limit < d.size()) d = d.take(limit);
  return d;
}

void check_input_shape(const io::LoadedModel& m, const Shape& batch_shape,
                       const std::string& what) {
  if (m.info.input_shape.empty()) return;
  Shape expected = m.info.input_shape;
  expected.insert(expected.begin(), batch_shape.empty() ? 0 : batch_shape[0]);
  BDL_CHECK(batch_shape == expected, what, ": samples of shape ",
            shape_str(std::span(batch_shape).subspan(batch_shape.empty() ? 0 : 1)),
            ", the model takes ", shape_str(m.info.input_shape));
}

}  // namespace

int run_predict(const PredictArgs& a, std::ostream& out) {
  set_num_threads(a.threads);
  BDL_CHECK(a.batch_size > 0, "--batch-size: must be positive, got ", a.batch_size);
  BDL_CHECK(a.top_k > 0, "--top-k: must be positive, got ", a.top_k);
  BDL_CHECK(a.input.empty() != a.data.empty(), "predict: give either --input x.npy or --data");
  BDL_CHECK(a.input.empty() || !a.output.empty(), "--input: --output y.npy is required with it");
  io::LoadedModel m = load_for_inference(a.model);
  nn::Module& model = *m.model;

  if (!a.input.empty()) {
    Tensor x = data::read_npy(a.input);
    BDL_CHECK(x.dim() >= 1, a.input, ": a scalar is not a batch");
    if (x.dtype() == DType::i64) {  // token ids: the layers take them as f32 values
      Tensor f(x.shape());
      const int64_t* src = x.data<int64_t>();
      float* dst = f.f32();
      for (int64_t i = 0; i < x.numel(); ++i) dst[i] = static_cast<float>(src[i]);
      x = f;
    }
    check_input_shape(m, x.shape(), a.input);
    const int64_t n = x.size(0);
    Shape sample(x.shape().begin() + 1, x.shape().end());
    Shape in_shape = x.shape();
    in_shape[0] = 1;
    Shape out_shape = model.output_shape(in_shape);
    out_shape[0] = n;
    Tensor y(out_shape);
    const int64_t per_out = n == 0 ? 0 : y.numel() / n;
    for (int64_t first = 0; first < n; first += a.batch_size) {
      const int64_t count = std::min(a.batch_size, n - first);
      const Tensor& o = model.forward(x.narrow(0, first, count).contiguous()).contiguous();
      std::copy(o.f32(), o.f32() + count * per_out, y.f32() + first * per_out);
    }
    data::write_npy(y, a.output);
    out << "predict: " << n << " samples " << shape_str(x.shape()) << " -> " << a.output << " "
        << shape_str(y.shape()) << "\n";
    return 0;
  }

  const data::Dataset d = test_data(a.data, m.info, a.limit);
  check_input_shape(
      m,
      [&] {
        Shape s = d.sample_shape();
        s.insert(s.begin(), 1);
        return s;
      }(),
      a.data);
  data::Batcher batcher(d, a.batch_size, /*drop_last=*/false);
  std::vector<int64_t> order(static_cast<size_t>(d.size()));
  std::iota(order.begin(), order.end(), 0);
  batcher.set_order(order);
  int64_t index = 0;
  out << "sample label: top-" << a.top_k << " classes (probability)\n";
  for (int64_t b = 0; b < batcher.num_batches(); ++b) {
    const data::MiniBatch& batch = batcher.batch(b);
    const Tensor o = model.forward(batch.input).contiguous();
    BDL_CHECK(o.dim() == 2, a.model, ": output of shape ", o.shape_str(),
              " is not (batch, classes)");
    const int64_t classes = o.size(1);
    const int64_t k = std::min(a.top_k, classes);
    for (int64_t i = 0; i < o.size(0); ++i, ++index) {
      const float* row = o.f32() + i * classes;
      // Probabilities by a softmax of the outputs (the zoo's models end in logits).
      const float top = *std::max_element(row, row + classes);
      double z = 0;
      for (int64_t c = 0; c < classes; ++c) z += std::exp(static_cast<double>(row[c] - top));
      std::vector<int64_t> idx(static_cast<size_t>(classes));
      std::iota(idx.begin(), idx.end(), 0);
      std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                        [row](int64_t l, int64_t r) { return row[l] > row[r]; });
      char line[64];
      std::snprintf(line, sizeof line, "%lld %lld:", static_cast<long long>(index),
                    static_cast<long long>(batch.target.data<int64_t>()[i]));
      out << line;
      for (int64_t j = 0; j < k; ++j) {
        const int64_t c = idx[static_cast<size_t>(j)];
        std::snprintf(line, sizeof line, " %lld (%.4f)", static_cast<long long>(c),
                      std::exp(static_cast<double>(row[c] - top)) / z);
        out << line;
      }
      out << "\n";
    }
  }
  return 0;
}

int run_eval(const EvalArgs& a, std::ostream& out) {
  set_num_threads(a.threads);
  BDL_CHECK(a.batch_size > 0, "--batch-size: must be positive, got ", a.batch_size);
  io::LoadedModel m = load_for_inference(a.model);
  const data::Dataset d = test_data(a.data, m.info, a.limit);
  nn::CrossEntropy criterion;
  const optim::Evaluation e = optim::evaluate(*m.model, criterion, d, a.batch_size);
  char line[256];
  std::snprintf(line, sizeof line, "eval: %lld samples, top-1 %.4f, top-5 %.4f, loss %.4f\n",
                static_cast<long long>(e.samples), e.top1(), e.top5(), e.loss());
  out << line;
  return 0;
}

}  // namespace bdl::cli
