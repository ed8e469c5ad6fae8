// bdl predict and bdl eval: a saved model (bdl or ONNX) run through job's
// inference API.
#include <cstdio>
#include <ostream>

#include "bdl/cli/commands.h"
#include "bdl/core/threads.h"
#include "bdl/data/npy.h"
#include "bdl/job/inference.h"

namespace bdl::cli {
namespace {

// One line per sample: its index (from `first`), its label (-1 without class
// labels) and the k most probable classes.
void print_top_classes(const Tensor& outputs, const Tensor& labels, int64_t first, int64_t k,
                       std::ostream& out) {
  BDL_CHECK(outputs.dim() == 2, "predict: outputs of shape ", outputs.shape_str(),
            " are not (batch, classes)");
  const int64_t classes = outputs.size(1);
  const bool labelled = labels.defined() && labels.dtype() == DType::i64 && labels.dim() == 1;
  char text[64];
  for (int64_t i = 0; i < outputs.size(0); ++i) {
    const job::TopClasses top = job::top_classes(outputs.f32() + i * classes, classes, k);
    const int64_t index = first + i;
    std::snprintf(text, sizeof text, "%lld %lld:", static_cast<long long>(index),
                  labelled ? static_cast<long long>(labels.data<int64_t>()[i]) : -1LL);
    out << text;
    for (size_t j = 0; j < top.classes.size(); ++j) {
      std::snprintf(text, sizeof text, " %lld (%.4f)", static_cast<long long>(top.classes[j]),
                    top.probabilities[j]);
      out << text;
    }
    out << "\n";
  }
}

}  // namespace

int run_predict(const PredictArgs& a, std::ostream& out) {
  validate(a);
  set_num_threads(a.threads, "--threads");
  job::Model model = job::load_model(a.model);
  if (!a.input.empty()) {
    const Tensor x = data::read_npy(a.input);
    const Tensor y = job::predict(model, x, a.batch_size, a.input);
    data::write_npy(y, a.output);
    out << "predict: " << x.size(0) << " samples " << x.shape_str() << " -> " << a.output << " "
        << y.shape_str() << "\n";
    return 0;
  }
  job::DataSpec spec;
  spec.source = a.data;
  data::Source test = job::test_data(spec, model);
  if (a.limit && *a.limit < test.size()) test = test.take(*a.limit);
  // Batch by batch as the source streams them: memory does not grow with the
  // data (an image folder of a million files).
  data::StreamOptions options;
  options.batch_size = a.batch_size;
  options.drop_last = false;
  options.shuffle = false;
  const auto stream = test.open(0, 1, options);
  stream->start_epoch(0, 0, stream->num_batches());
  out << "sample label: top-" << a.top_k << " classes (probability)\n";
  int64_t first = 0;
  while (const data::MiniBatch* batch = stream->next()) {
    const Tensor outputs = job::predict(model, batch->input, a.batch_size, a.data);
    print_top_classes(outputs, batch->target, first, a.top_k, out);
    first += batch->size();
  }
  return 0;
}

int run_eval(const EvalArgs& a, std::ostream& out) {
  validate(a);
  job::EvalSpec spec;
  spec.model = a.model;
  spec.data.source = a.data;
  spec.batch_size = a.batch_size;
  spec.limit = a.limit.value_or(0);
  spec.loss = a.loss;
  spec.metrics = a.metrics;
  spec.threads = a.threads;
  const optim::Evaluation e = job::evaluate(spec);
  out << "eval: " << e.samples << " samples";
  char text[96];
  for (const auto& [name, value] : e.metrics) {
    std::snprintf(text, sizeof text, ", %s %.4f", optim::metric_display_name(name).c_str(), value);
    out << text;
  }
  std::snprintf(text, sizeof text, ", loss %.4f\n", e.loss);
  out << text;
  return 0;
}

}  // namespace bdl::cli
