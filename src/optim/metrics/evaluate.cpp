#include <cstdlib>
#include <map>

#include "bdl/data/batcher.h"
#include "optim/metrics/kinds.h"

namespace bdl::optim {
namespace {

// "precision@0.3" -> 0.3; "precision" -> 0.5.
double threshold_of(const std::string& name, size_t base_length) {
  if (name.size() == base_length) return 0.5;
  const std::string text = name.substr(base_length + 1);
  char* end = nullptr;
  const double t = std::strtod(text.c_str(), &end);
  BDL_CHECK(name[base_length] == '@' && !text.empty() && end == text.c_str() + text.size() &&
                t >= 0 && t <= 1,
            "metric '", name, "': the threshold after @ must be a number in [0, 1]");
  return t;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0 && (s.size() == prefix.size() || s[prefix.size()] == '@');
}

// Sums every metric's counts over the workers, gathers the ranking metrics'
// scores on rank 0, and hands rank 0's values to everyone.
std::vector<double> combine(std::vector<std::unique_ptr<Metric>>& metrics, ParameterSync& sync) {
  std::vector<double> counts;
  for (auto& m : metrics) {
    if (auto* c = m->counts()) counts.insert(counts.end(), c->begin(), c->end());
  }
  if (!counts.empty()) sync.sum(counts);
  size_t at = 0;
  for (auto& m : metrics) {
    if (auto* c = m->counts()) {
      std::copy(counts.begin() + static_cast<std::ptrdiff_t>(at),
                counts.begin() + static_cast<std::ptrdiff_t>(at + c->size()), c->begin());
      at += c->size();
    }
    if (m->counts() == nullptr) {  // a ranking metric, the same kind on every worker
      const auto all = sync.gather_bytes(m->scores());
      if (sync.rank() == 0) m->merge_scores(all);
    }
  }
  std::vector<double> values(metrics.size(), 0.0);
  if (sync.rank() == 0) {
    for (size_t i = 0; i < metrics.size(); ++i) values[i] = metrics[i]->value();
  }
  if (!values.empty()) sync.sum(values);  // the others contribute zeros
  return values;
}

}  // namespace

namespace {

std::map<std::string, std::function<std::unique_ptr<Metric>()>>& custom_metrics() {
  static std::map<std::string, std::function<std::unique_ptr<Metric>()>> metrics;
  return metrics;
}

}  // namespace

void register_metric(const std::string& name, std::function<std::unique_ptr<Metric>()> make) {
  BDL_CHECK(!name.empty() && name != "loss" && make != nullptr,
            "register_metric: a name and a "
            "factory are needed");
  bool taken = custom_metrics().count(name) > 0;
  if (!taken) {
    try {
      make_metric(name);
      taken = true;
    } catch (const Error&) {
    }
  }
  BDL_CHECK(!taken, "register_metric: '", name, "' is taken");
  custom_metrics().emplace(name, std::move(make));
}

std::unique_ptr<Metric> make_metric(const std::string& name) {
  if (const auto it = custom_metrics().find(name); it != custom_metrics().end()) {
    return it->second();
  }
  if (name.size() > 3 && name.rfind("top", 0) == 0) {
    char* end = nullptr;
    const long k = std::strtol(name.c_str() + 3, &end, 10);
    BDL_CHECK(*end == '\0' && k >= 1 && k <= 1000, "metric '", name,
              "': top-k accuracy is top1, top5, ... (k from 1 to 1000)");
    return metrics::top_k(k);
  }
  if (name == "mae") return metrics::error(metrics::ErrorKind::mae);
  if (name == "mse") return metrics::error(metrics::ErrorKind::mse);
  if (name == "rmse") return metrics::error(metrics::ErrorKind::rmse);
  if (name == "auc") return metrics::auc();
  if (name == "average_precision") return metrics::average_precision();
  if (starts_with(name, "precision")) return metrics::precision(threshold_of(name, 9));
  if (starts_with(name, "recall")) return metrics::recall(threshold_of(name, 6));
  if (starts_with(name, "f1")) return metrics::f1(threshold_of(name, 2));
  fail("unknown metric '", name, "' (known: ", metric_names(), ")");
}

std::string metric_names() {
  std::string names =
      "loss, top1, top5 (top<k>), mae, mse, rmse, auc, average_precision, precision, recall, "
      "f1 (the last three at a threshold: precision@0.3)";
  for (const auto& [name, make] : custom_metrics()) names += ", " + name;
  return names;
}

std::string metric_display_name(const std::string& name) {
  const bool top_k = name.size() > 3 && name.rfind("top", 0) == 0 &&
                     name.find_first_not_of("0123456789", 3) == std::string::npos;
  return top_k ? "top-" + name.substr(3) : name;
}

std::optional<double> Evaluation::find(std::string_view name) const {
  if (name == "loss") return loss;
  for (const auto& [n, v] : metrics) {
    if (n == name) return v;
  }
  return std::nullopt;
}

double Evaluation::operator[](std::string_view name) const {
  const auto v = find(name);
  BDL_CHECK(v.has_value(), "evaluation: metric '", name, "' was not computed");
  return *v;
}

std::vector<std::string> default_metrics(const nn::Criterion& criterion, int64_t outputs) {
  if (!criterion.takes_class_indices()) return {"mae", "rmse"};
  if (outputs < 6) return {"top1"};
  return {"top1", "top5"};
}

Evaluation evaluate(nn::Module& model, nn::Criterion& criterion, const data::Source& dataset,
                    int64_t batch_size, const std::vector<std::string>& names,
                    ParameterSync& sync) {
  std::vector<std::unique_ptr<Metric>> metrics;
  for (const auto& n : names) {
    if (n != "loss") metrics.push_back(make_metric(n));
  }
  MetricInput input;
  input.outputs = criterion.output_kind();
  Shape one = dataset.sample_shape();
  one.insert(one.begin(), 1);
  const Shape out = model.output_shape(one);
  input.output_shape.assign(out.begin() + 1, out.end());
  input.target_shape = dataset.target_shape();
  input.class_targets = dataset.target_kind() == data::TargetKind::classes;
  for (auto& m : metrics) m->start(input);

  const bool was_training = model.is_training();
  const bool was_inference = model.is_inference();
  model.eval();
  model.set_inference(true);
  data::StreamOptions options;
  options.batch_size = batch_size;
  options.drop_last = false;
  options.shuffle = false;
  const auto stream = dataset.open(sync.rank(), sync.size(), options);
  stream->start_epoch(0, 0, stream->num_batches());
  double totals[2] = {0, 0};  // loss times batch size, samples
  while (const data::MiniBatch* next = stream->next()) {
    const data::MiniBatch& batch = *next;
    const Tensor& output = model.forward(batch.input);
    const double n = static_cast<double>(batch.size());
    totals[0] +=
        static_cast<double>(criterion.weighted_forward(output, batch.target, batch.weight)) * n;
    totals[1] += n;
    for (auto& m : metrics) m->add(output, batch.target);
  }
  model.train(was_training);
  model.set_inference(was_inference);

  sync.sum(totals);
  Evaluation result;
  result.samples = static_cast<int64_t>(totals[1]);
  result.loss = totals[1] > 0 ? totals[0] / totals[1] : 0.0;
  const std::vector<double> values = combine(metrics, sync);
  size_t next = 0;
  for (const auto& n : names) {
    result.metrics.emplace_back(n == "loss" ? n : metrics[next]->name(),
                                n == "loss" ? result.loss : values[next]);
    if (n != "loss") ++next;
  }
  return result;
}

Evaluation evaluate(nn::Module& model, nn::Criterion& criterion, const data::Source& dataset,
                    int64_t batch_size, const std::vector<std::string>& metrics) {
  LocalSync local;
  return evaluate(model, criterion, dataset, batch_size, metrics, local);
}

}  // namespace bdl::optim
