// Training, prediction and evaluation from Python: a job::TrainSpec from the
// keyword settings the package collects, arrays as datasets without copies,
// Python callbacks called from the loop, Ctrl-C honoured at the end of an
// iteration, the GIL released while the library computes.
#include <nanobind/stl/function.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <optional>

#include "arrays.h"
#include "bdl/data/csv.h"
#include "bdl/data/image_folder.h"
#include "bdl/data/record_shards.h"
#include "bdl/job/inference.h"
#include "bdl/job/train.h"
#include "bdl/nn/losses/by_name.h"
#include "bdl/optim/metrics.h"
#include "bindings.h"

namespace bdl::python {
namespace {

// Reads a settings dict, taking each key once: keys left over are a mistake of
// the caller's, reported by finish().
class Settings {
 public:
  Settings(nb::dict d, std::string where) : d_(std::move(d)), where_(std::move(where)) {}
  template <typename T>
  void get(const char* key, T& into) {
    if (!d_.contains(key)) return;
    nb::handle v = d_[key];
    if (!v.is_none()) {
      try {
        into = nb::cast<T>(v);
      } catch (const nb::cast_error&) {
        fail(where_, key, ": ", nb::cast<std::string>(nb::repr(v)), " has the wrong type");
      }
    }
    PyDict_DelItemString(d_.ptr(), key);
  }
  Settings sub(const char* key) {
    nb::dict inner;
    if (d_.contains(key)) {
      inner = nb::cast<nb::dict>(d_[key]);
      PyDict_DelItemString(d_.ptr(), key);
    }
    return Settings(nb::dict(inner), where_ + key + ".");
  }
  void finish() const {
    for (auto [key, value] : d_) fail(where_, nb::cast<std::string>(key), ": unknown setting");
  }

 private:
  nb::dict d_;
  std::string where_;
};

// A schedule given as a Python function (epoch from 0, base rate) -> rate,
// asked once per epoch.
class PythonSchedule : public optim::Schedule {
 public:
  explicit PythonSchedule(nb::callable fn) : fn_(std::move(fn)) {}
  ~PythonSchedule() override {
    nb::gil_scoped_acquire gil;
    fn_.reset();
  }
  double rate(double base, const optim::ScheduleClock& clock) override {
    if (clock.epoch != epoch_) {
      nb::gil_scoped_acquire gil;
      rate_ = nb::cast<double>(fn_(clock.epoch, base));
      epoch_ = clock.epoch;
    }
    return rate_;
  }
  std::string describe() const override { return "python"; }

 private:
  nb::callable fn_;
  int64_t epoch_ = -1;
  double rate_ = 0;
};

void read_settings(job::TrainSpec& spec, Settings s) {
  s.get("epochs", spec.epochs);
  s.get("batch_size", spec.batch_size);
  s.get("max_iterations", spec.max_iterations);
  s.get("loss", spec.loss);
  s.get("metrics", spec.metrics);
  s.get("seed", spec.seed);
  s.get("threads", spec.threads);
  s.get("precision", spec.precision);
  s.get("save", spec.save);
  Settings o = s.sub("optimizer");
  o.get("name", spec.optimizer.name);
  o.get("lr", spec.optimizer.lr);
  o.get("momentum", spec.optimizer.momentum);
  o.get("weight_decay", spec.optimizer.weight_decay);
  o.get("trust_coefficient", spec.optimizer.trust_coefficient);
  o.get("schedule", spec.optimizer.schedule);
  o.get("warmup_epochs", spec.optimizer.warmup_epochs);
  nb::object fn;
  o.get("schedule_function", fn);
  if (fn.is_valid() && !fn.is_none())
    spec.optimizer.custom_schedule = std::make_shared<PythonSchedule>(nb::cast<nb::callable>(fn));
  o.finish();
  Settings y = s.sub("sync");
  y.get("strategy", spec.sync.strategy);
  y.get("compress", spec.sync.compress);
  y.get("every", spec.sync.every);
  y.get("timeout_ms", spec.sync.timeout_ms);
  y.finish();
  Settings c = s.sub("checkpoint");
  c.get("dir", spec.checkpoint.dir);
  c.get("every", spec.checkpoint.every);
  c.get("keep", spec.checkpoint.keep);
  c.get("resume", spec.checkpoint.resume);
  c.get("fresh_if_unusable", spec.checkpoint.fresh_if_unusable);
  c.finish();
  Settings d = s.sub("data");
  d.get("source", spec.data.source);
  d.get("train_samples", spec.data.train_samples);
  d.get("validation_samples", spec.data.validation_samples);
  d.get("skip_bad_records", spec.data.skip_bad_records);
  d.get("label_column", spec.data.label_column);
  d.get("feature_columns", spec.data.feature_columns);
  d.get("missing", spec.data.missing);
  d.get("class_weight", spec.data.class_weight);
  d.get("standardize", spec.data.standardize);
  d.get("one_hot", spec.data.one_hot);
  d.get("augment", spec.data.augment);
  d.get("decode_threads", spec.data.decode_threads);
  d.finish();
  Settings m = s.sub("summary");
  m.get("dir", spec.summary.dir);
  m.get("every", spec.summary.every);
  m.get("histograms", spec.summary.histograms);
  m.finish();
  s.finish();
}

data::Dataset dataset_of(const Array& x, const Array& y, const std::optional<Array>& w,
                         const std::string& x_name, const std::string& y_name) {
  Tensor features = borrow(x, x_name), targets = borrow(y, y_name);
  BDL_CHECK(features.dim() >= 1 && targets.dim() >= 1 && features.size(0) == targets.size(0),
            x_name, " has ", features.dim() >= 1 ? features.size(0) : 0, " samples but ", y_name,
            " has ", targets.dim() >= 1 ? targets.size(0) : 0);
  data::Dataset d(std::move(features), std::move(targets), x_name);
  if (w) d = d.with_weights(borrow(*w, "sample_weight"));
  return d;
}

nb::dict iteration_dict(const optim::IterationRecord& r) {
  nb::dict d;
  d["epoch"] = r.epoch;
  d["iteration"] = r.iteration;
  d["batch"] = r.batch;
  d["batches"] = r.batches;
  d["loss"] = r.loss;
  d["learning_rate"] = r.learning_rate;
  d["mean_loss"] = r.mean_loss ? nb::cast(*r.mean_loss) : nb::none();
  d["samples_per_sec"] = r.samples_per_sec;
  return d;
}

nb::object evaluation_dict(const std::optional<optim::Evaluation>& e) {
  if (!e) return nb::none();
  nb::dict d;
  d["loss"] = e->loss;
  for (const auto& [name, value] : e->metrics) d[name.c_str()] = value;
  d["samples"] = e->samples;
  return d;
}

nb::dict epoch_dict(const optim::EpochRecord& r) {
  nb::dict d;
  d["epoch"] = r.epoch;
  d["iterations"] = r.iterations;
  d["train_loss"] = r.train_loss;
  d["train_seconds"] = r.train_seconds;
  d["samples_per_sec"] = r.samples_per_sec;
  d["validation"] = evaluation_dict(r.validation);
  return d;
}

// What the loop's callbacks share: the Python functions and the first error
// one raised (Ctrl-C included), raised again once the loop has ended.
struct Callbacks {
  nb::object on_iteration, on_epoch, on_message;
  std::optional<nb::python_error> error;

  template <typename F>
  optim::Decision call(F&& f) {
    nb::gil_scoped_acquire gil;
    if (error) return optim::Decision::stop;
    try {
      // The callbacks of this iteration first, then Ctrl-C: the iteration is
      // complete either way, and what the callbacks saw is what ran.
      const bool stop = f();
      if (PyErr_CheckSignals() != 0) throw nb::python_error();
      return stop ? optim::Decision::stop : optim::Decision::proceed;
    } catch (nb::python_error& e) {
      error.emplace(std::move(e));
      return optim::Decision::stop;
    }
  }
};

void hook(job::TrainSpec& spec, const std::shared_ptr<Callbacks>& cb) {
  spec.on_iteration.emplace_back([cb](const optim::IterationRecord& r) {
    return cb->call([&] {
      return !cb->on_iteration.is_none() && nb::cast<bool>(cb->on_iteration(iteration_dict(r)));
    });
  });
  spec.on_epoch.emplace_back([cb](const optim::EpochRecord& r) {
    return cb->call(
        [&] { return !cb->on_epoch.is_none() && nb::cast<bool>(cb->on_epoch(epoch_dict(r))); });
  });
  spec.on_message = [cb](const std::string& line) {
    nb::gil_scoped_acquire gil;
    if (!cb->on_message.is_none() && !cb->error) cb->on_message(line);
  };
}

std::string train(job::Model& net, nb::dict settings, const std::optional<Array>& x,
                  const std::optional<Array>& y, const std::optional<Array>& w,
                  const std::optional<Array>& val_x, const std::optional<Array>& val_y,
                  const std::optional<Array>& val_w, nb::object on_iteration, nb::object on_epoch,
                  nb::object on_message) {
  job::TrainSpec spec;
  spec.progress = "quiet";  // Python draws its own progress bar
  // worker_data: the arrays are this worker's own share (a Spark partition),
  // not the whole set that every worker holds and cuts by rank.
  bool worker_data = false;
  if (settings.contains("worker_data")) {
    worker_data = nb::cast<bool>(settings["worker_data"]);
    nb::del(settings["worker_data"]);
  }
  read_settings(spec, Settings(std::move(settings), ""));
  spec.model.module = net.module;
  spec.model.sample_shape = net.sample_shape;
  spec.model.description = net.description;
  auto own = [worker_data](const data::Dataset& d) {
    return worker_data ? d.as_worker_shard() : d;
  };
  if (x && y) spec.data.train = own(dataset_of(*x, *y, w, "x", "y"));  // else spec.data.source
  spec.data.worker_share = worker_data && !(x && y);
  if (val_x && val_y) {
    spec.data.validation =
        own(dataset_of(*val_x, *val_y, val_w, "validation_data x", "validation_data y"));
  }
  auto cb = std::make_shared<Callbacks>();
  cb->on_iteration = std::move(on_iteration);
  cb->on_epoch = std::move(on_epoch);
  cb->on_message = std::move(on_message);
  hook(spec, cb);
  std::string report;
  {
    nb::gil_scoped_release released;
    report = job::report_json(job::train(spec));
    spec = {};  // drops the borrowed arrays and Python callables before the GIL returns
  }
  if (cb->error) {
    nb::python_error e = std::move(*cb->error);
    cb->error.reset();
    throw e;
  }
  return report;
}

// Inference form for the scope of a predict or evaluate call, and the model's
// training form back afterwards: a model is often trained again after either.
class InferenceScope {
 public:
  explicit InferenceScope(nn::Module& m)
      : m_(m), training_(m.is_training()), input_grad_(m.needs_input_grad()) {
    job::prepare_for_inference(m);
  }
  ~InferenceScope() {
    m_.set_inference(false);
    m_.train(training_);
    m_.set_needs_input_grad(input_grad_);
  }
  InferenceScope(const InferenceScope&) = delete;
  InferenceScope& operator=(const InferenceScope&) = delete;

 private:
  nn::Module& m_;
  bool training_, input_grad_;
};

nb::object predict(job::Model& net, const Array& x, int64_t batch_size) {
  BDL_CHECK(batch_size > 0, "batch_size: must be a positive integer, got ", batch_size);
  const Tensor inputs = borrow(x, "x");
  Tensor out;
  {
    nb::gil_scoped_release released;
    const InferenceScope scope(*net.module);
    out = job::predict(net, inputs, batch_size, "x");
  }
  return to_numpy(std::move(out));
}

nb::dict evaluate(job::Model& net, const Array& x, const Array& y, const std::optional<Array>& w,
                  const std::string& loss, const std::vector<std::string>& metrics,
                  int64_t batch_size) {
  BDL_CHECK(batch_size > 0, "batch_size: must be a positive integer, got ", batch_size);
  const data::Dataset d = dataset_of(x, y, w, "x", "y");
  std::unique_ptr<nn::Criterion> criterion = nn::make_criterion(loss);
  std::optional<optim::Evaluation> e;
  {
    nb::gil_scoped_release released;
    std::vector<std::string> names = metrics;
    if (names.empty()) names = optim::default_metrics(*criterion, net.outputs);
    const InferenceScope scope(*net.module);
    e = optim::evaluate(*net.module, *criterion, d, batch_size, names);
  }
  return nb::cast<nb::dict>(evaluation_dict(e));
}

}  // namespace

void bind_training(nb::module_& m) {
  m.def("train", &train, nb::arg("net"), nb::arg("settings"), nb::arg("x").none(),
        nb::arg("y").none(), nb::arg("sample_weight").none(), nb::arg("val_x").none(),
        nb::arg("val_y").none(), nb::arg("val_sample_weight").none(),
        nb::arg("on_iteration").none(), nb::arg("on_epoch").none(), nb::arg("on_message").none(),
        "Trains net in place; returns the job's report as JSON.");
  m.def(
      "write_record_shards",
      [](const Array& x, const Array& y, const std::optional<Array>& w,
         const std::string& directory, const std::string& split, int64_t shards) {
        BDL_CHECK(split == "train" || split == "test", "split: \"train\" or \"test\", got \"",
                  split, "\"");
        const data::Dataset d = dataset_of(x, y, w, "x", "y");
        nb::gil_scoped_release released;
        data::write_record_shards(
            d, directory, split == "train" ? data::Split::train : data::Split::test, shards);
      },
      nb::arg("x"), nb::arg("y"), nb::arg("sample_weight").none(), nb::arg("directory"),
      nb::arg("split"), nb::arg("shards"));
  m.def(
      "write_image_folder",
      [](const Array& x, const Array& y, const std::vector<std::string>& classes,
         const std::string& directory, const std::string& format, int quality, int64_t height,
         int64_t width, int threads) {
        const Tensor images = borrow(x, "x");
        const Tensor labels = borrow(y, "y");
        data::ImageWriteOptions options;
        options.format = format;
        options.quality = quality;
        options.out_height = height;
        options.out_width = width;
        options.threads = threads;
        nb::gil_scoped_release released;
        data::write_image_folder(images, labels, classes, directory, options);
      },
      nb::arg("x"), nb::arg("y"), nb::arg("classes"), nb::arg("directory"), nb::arg("format"),
      nb::arg("quality"), nb::arg("height"), nb::arg("width"), nb::arg("threads"));
  m.def(
      "read_csv",
      [](const std::string& path, const std::string& label_column,
         const std::vector<std::string>& feature_columns, const std::string& missing,
         bool standardize, bool one_hot, int threads) {
        data::CsvOptions options;
        options.label_column = label_column;
        options.feature_columns = feature_columns;
        options.missing = missing == "zero"   ? data::Missing::zero
                          : missing == "mean" ? data::Missing::mean
                                              : data::Missing::error;
        options.threads = threads;
        options.standardize = standardize;
        options.one_hot = one_hot;
        data::Dataset d;
        data::CsvSchema schema;
        {
          nb::gil_scoped_release released;
          d = data::read_csv(path, options, &schema);
        }
        nb::dict categories;
        for (const auto& [name, values] : schema.categories) categories[name.c_str()] = values;
        return nb::make_tuple(to_numpy(d.features()), to_numpy(d.targets()), schema.features,
                              categories, schema.label_classes);
      },
      nb::arg("path"), nb::arg("label_column"), nb::arg("feature_columns"), nb::arg("missing"),
      nb::arg("standardize"), nb::arg("one_hot") = false, nb::arg("threads") = 0);
  m.def("predict", &predict, nb::arg("net"), nb::arg("x"), nb::arg("batch_size") = 256);
  m.def("evaluate", &evaluate, nb::arg("net"), nb::arg("x"), nb::arg("y"),
        nb::arg("sample_weight").none(), nb::arg("loss"), nb::arg("metrics"),
        nb::arg("batch_size") = 256);
}

}  // namespace bdl::python
