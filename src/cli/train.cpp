#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "bdl/cli/commands.h"
#include "bdl/core/file.h"
#include "bdl/core/random.h"
#include "bdl/core/threads.h"
#include "bdl/data/dataset.h"
#include "bdl/dist/communicator.h"
#include "bdl/dist/sync.h"
#include "bdl/io/model_file.h"
#include "bdl/kernels/backend.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/cross_entropy.h"
#include "bdl/optim/optimizer.h"
#include "bdl/optim/sgd.h"
#include "cli/load.h"
#include "cli/recipe.h"

namespace bdl::cli {
namespace {

optim::ProgressStyle progress_style(const std::string& name) {
  if (name == "auto") return optim::ProgressStyle::automatic;
  if (name == "bar") return optim::ProgressStyle::bar;
  if (name == "lines") return optim::ProgressStyle::lines;
  if (name == "quiet") return optim::ProgressStyle::quiet;
  fail("--progress: '", name, "' is not one of auto, bar, lines, quiet");
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Written atomically (AtomicFile), so a reader never sees half a report.
void write_report(const std::string& path, const nlohmann::json& report) {
  const std::string text = report.dump(2) + "\n";
  AtomicFile file(path);
  file.write(text.data(), text.size());
  file.commit();
}

}  // namespace

void validate(const TrainArgs& a) {
  BDL_CHECK(a.epochs > 0, "--epochs: must be a positive integer, got ", a.epochs);
  BDL_CHECK(a.batch_size > 0, "--batch-size: must be a positive integer, got ", a.batch_size);
  BDL_CHECK(a.lr > 0 && std::isfinite(a.lr), "--lr: must be a positive number, got ", a.lr);
  BDL_CHECK(a.momentum >= 0 && a.momentum < 1, "--momentum: must be in [0, 1), got ", a.momentum);
  BDL_CHECK(a.threads >= 0 && a.threads <= 1024, "--threads: must be 0 (all cores) to 1024, got ",
            a.threads);
  BDL_CHECK(!a.max_iteration || *a.max_iteration > 0,
            "--max-iteration: must be a positive integer, got ", a.max_iteration.value_or(0));
  BDL_CHECK(!a.train_samples || *a.train_samples > 0,
            "--train-samples: must be a positive integer");
  BDL_CHECK(!a.test_samples || *a.test_samples > 0, "--test-samples: must be a positive integer");
  progress_style(a.progress);
  const auto strategy = dist::parse_sync_strategy(a.sync);
  const auto format = dist::parse_wire_format(a.compress);
  BDL_CHECK(format == dist::WireFormat::fp32 || strategy == dist::SyncStrategy::sharded,
            "--compress ", a.compress, " needs --sync sharded");
  BDL_CHECK(a.sync_every > 0, "--sync-every: must be a positive integer, got ", a.sync_every);
  BDL_CHECK(a.comm_timeout_ms >= 100, "--comm-timeout-ms: must be at least 100, got ",
            a.comm_timeout_ms);
  // A zoo name (checked here, listing the zoo when unknown), or a model file.
  const bool from_file = std::filesystem::is_regular_file(a.model);
  const models::ModelInfo no_info{};
  const auto& info = from_file ? no_info : models::find(a.model);
  BDL_CHECK(!from_file || !a.image_size, "--image-size: not with a model file (", a.model, ")");
  make_method(a);    // checks --optimizer and its options
  make_schedule(a);  // checks --schedule and --warmup-epochs
  BDL_CHECK(!a.scale_lr_from || *a.scale_lr_from > 0,
            "--scale-lr-from: must be a positive batch size");
  BDL_CHECK(!a.image_size || (*a.image_size >= 8 && *a.image_size <= 4096),
            "--image-size: must be between 8 and 4096, got ", a.image_size.value_or(0));
  BDL_CHECK(!a.image_size || a.synthetic, "--image-size: only with --synthetic");
  BDL_CHECK(!a.image_size || info.sample.size() == 3, "--image-size: model ", a.model,
            " does not take images");
  BDL_CHECK(a.synthetic_samples >= 0, "--synthetic-samples: must be non-negative");
  BDL_CHECK(a.precision == "fp32" || a.precision == "bf16", "--precision: '", a.precision,
            "' is not one of fp32, bf16");
  BDL_CHECK(!a.resume || !a.checkpoint.empty(), "--resume: needs --checkpoint DIR");
  BDL_CHECK(a.checkpoint_every >= 0, "--checkpoint-every: must be non-negative, got ",
            a.checkpoint_every);
  BDL_CHECK(a.checkpoint_keep >= 1, "--checkpoint-keep: must be at least 1, got ",
            a.checkpoint_keep);
  if (!a.save.empty()) {
    const auto parent = std::filesystem::absolute(a.save).parent_path();
    BDL_CHECK(std::filesystem::is_directory(parent), "--save: directory ", parent.string(),
              " does not exist");
  }
  if (!a.report.empty()) {
    const auto parent = std::filesystem::absolute(a.report).parent_path();
    BDL_CHECK(std::filesystem::is_directory(parent), "--report: directory ", parent.string(),
              " does not exist");
  }
}

namespace {
// Training on this worker of the job described by comm.
int train_on(const TrainArgs& a, dist::Communicator& comm, std::ostream& all_out) {
  // Only rank 0 talks to the user.
  std::ostream null_stream(nullptr);
  std::ostream& out = comm.rank() == 0 ? all_out : null_stream;
  set_num_threads(a.threads);
  kernels::set_compute_precision(a.precision == "bf16" ? kernels::Precision::bf16
                                                       : kernels::Precision::fp32);
  manual_seed(a.seed);

  // The model: a zoo architecture with fresh weights, or a model file (bdl's
  // format or ONNX) to train further, such as an imported pre-trained network.
  const bool from_file = std::filesystem::is_regular_file(a.model);
  models::ModelInfo info{};
  std::unique_ptr<nn::Module> loaded;
  if (from_file) {
    io::LoadedModel m = load_model_file(a.model);
    BDL_CHECK(!m.info.input_shape.empty(), a.model,
              ": the file does not record its input shape, so it cannot be trained here");
    info.name = a.model;
    info.description = m.info.description.empty() ? "a saved model" : m.info.description;
    info.sample = m.info.input_shape;
    Shape in = info.sample;
    in.insert(in.begin(), 1);
    const Shape out = m.model->output_shape(in);
    BDL_CHECK(out.size() == 2, a.model, ": output of shape ", shape_str(out),
              " is not (batch, classes)");
    info.default_classes = out[1];
    loaded = std::move(m.model);
  } else {
    info = models::find(a.model);
  }
  data::Dataset train, test;
  int64_t classes = 10;
  std::string source;
  if (a.synthetic) {
    // Random images of the model's input shape: every worker makes the same set.
    Shape sample = info.sample;
    if (a.image_size) sample[1] = sample[2] = *a.image_size;
    classes = info.default_classes;
    const int64_t n =
        a.synthetic_samples > 0 ? a.synthetic_samples : std::max<int64_t>(256, 8 * a.batch_size);
    train = info.vocabulary > 0
                ? data::synthetic_sequences(sample[0], n, info.vocabulary, classes, a.seed)
                : data::synthetic(sample, n, classes, a.seed);
    source = detail::concat("synthetic ", shape_str(sample), " data");
  } else {
    BDL_CHECK(info.vocabulary == 0, "--data: model ", a.model,
              " takes token sequences, not images; train it with --synthetic");
    // A partitioned directory gives each worker its own parts; a plain one is
    // read whole by every worker and cut by index ranges.
    const bool partitioned = data::is_partitioned_dir(data::resolve_data_dir(a.data));
    auto load = [&](data::Split split) {
      return (partitioned ? data::partitioned_idx(a.data, split, comm.rank(), comm.size())
                          : data::mnist_like(a.data, split))
          .map(data::kFashionMnistNormalize);
    };
    train = load(data::Split::train);
    test = load(data::Split::test);
    source = data::resolve_data_dir(a.data);
  }
  if (a.train_samples) train = train.take(*a.train_samples);
  if (a.test_samples && test.size() > 0) test = test.take(*a.test_samples);
  BDL_CHECK(train.size() >= a.batch_size, "--batch-size: ", a.batch_size, " exceeds the ",
            train.size(), " training samples");

  BDL_CHECK(a.batch_size % comm.size() == 0, "--batch-size: ", a.batch_size,
            " is not divisible by the ", comm.size(), " workers");
  if (from_file) {
    BDL_CHECK(train.sample_shape() == info.sample, a.model, ": the model takes samples of shape ",
              shape_str(info.sample), ", the data has ", shape_str(train.sample_shape()));
    BDL_CHECK(classes <= info.default_classes, a.model, ": the model has ", info.default_classes,
              " outputs for ", classes, " classes");
  }
  auto model = from_file ? std::move(loaded) : models::make(a.model, classes);
  if (a.image_size) {
    Shape in = train.sample_shape();
    in.insert(in.begin(), 1);
    try {
      model->output_shape(in);
    } catch (const Error& e) {
      fail("--image-size: model ", a.model, " does not take ", *a.image_size, "x", *a.image_size,
           " images (", e.what(), ")");
    }
  }
  nn::CrossEntropy criterion;
  auto sync =
      dist::make_sync(dist::parse_sync_strategy(a.sync), comm, dist::parse_wire_format(a.compress));
  auto method = make_method(a);
  auto schedule = make_schedule(a);
  out << "bdl train: " << a.model << " on " << source << " (" << train.size() << " train, "
      << test.size() << " test samples), batch " << a.batch_size << ", " << num_threads()
      << " threads per worker, " << sync->describe() << "\n"
      << "  " << method->describe() << (schedule ? ", " + schedule->describe() : "")
      << (a.precision == "bf16" ? ", bf16 convolutions" : "") << "\n"
      << std::flush;

  optim::Trigger end = optim::max_epoch(a.epochs);
  if (a.max_iteration) end = optim::any_of(end, optim::max_iteration(*a.max_iteration));

  io::ModelInfo model_info{train.sample_shape(), info.description, 0.f, 0.f};
  if (!a.synthetic) {
    model_info.input_mean = data::kFashionMnistNormalize.mean;
    model_info.input_std = data::kFashionMnistNormalize.std;
  }

  optim::Optimizer optimizer(*model, train, criterion);
  if (!a.checkpoint.empty()) {
    // Only rank 0 writes; every worker takes part in gathering the state.
    std::shared_ptr<io::CheckpointDirectory> dir;
    if (comm.rank() == 0)
      dir = std::make_shared<io::CheckpointDirectory>(a.checkpoint, a.checkpoint_keep);
    const optim::Trigger when = a.checkpoint_every > 0
                                    ? optim::several_iteration(a.checkpoint_every)
                                    : optim::every_epoch();
    optimizer.checkpoint(
        when, [dir, model_info, &out](nn::Module& m, const optim::TrainingState& s) {
          const std::string path = dir->save(m, s, model_info);
          out << "checkpoint: " << path << " (iteration " << s.iteration << ")\n" << std::flush;
        });
  }
  if (a.resume) {
    std::optional<optim::TrainingState> state;
    if (comm.rank() == 0) {
      // The newest checkpoint that loads; a damaged one is reported and skipped.
      const auto all = io::CheckpointDirectory(a.checkpoint, a.checkpoint_keep).list();
      for (auto it = all.rbegin(); it != all.rend() && !state; ++it) {
        try {
          state = io::restore_checkpoint(*model, *it);
          out << "resuming from " << *it << ": epoch " << state->epoch << ", iteration "
              << state->iteration << "\n"
              << std::flush;
        } catch (const Error& e) {
          std::cerr << "bdl: warning: skipping checkpoint " << *it << ": " << e.what() << "\n";
        }
      }
      if (!state) out << "no checkpoint in " << a.checkpoint << ": starting afresh\n";
    }
    optimizer.resume(std::move(state));
  }
  optimizer.method(std::move(method))
      .schedule(std::move(schedule))
      .batch_size(a.batch_size)
      .end_when(end)
      .seed(a.seed)
      .sync(*sync)
      .sync_every(a.sync_every)
      .progress(progress_style(a.progress))
      .on_epoch([&](const optim::EpochRecord& r) {
        char line[256];
        std::snprintf(line, sizeof line, "epoch %lld: train loss %.4f, %.0f samples/s",
                      static_cast<long long>(r.epoch), r.train_loss, r.samples_per_sec);
        out << line;
        if (r.validation) {
          std::snprintf(line, sizeof line, ", test top-1 %.4f, test loss %.4f",
                        r.validation->top1(), r.validation->loss());
          out << line;
        }
        out << "\n" << std::flush;
      });
  if (test.size() > 0) optimizer.validate(optim::every_epoch(), test);
  const optim::TrainResult result = optimizer.optimize();
  if (!a.save.empty() && comm.rank() == 0) {
    io::save_model(*model, a.save, model_info);
    out << "saved " << a.save << "\n";
  }

  if (!a.report.empty() && comm.rank() == 0) {
    nlohmann::json report = {
        {"workers", comm.size()},
        {"sync", a.sync},
        {"compress", a.compress},
        {"model", a.model},
        {"optimizer", a.optimizer},
        {"precision", a.precision},
        {"lr", effective_lr(a)},
        {"schedule", a.schedule},
        {"warmup_epochs", a.warmup_epochs},
        {"synthetic", a.synthetic},
        {"batch_size", a.batch_size},
        {"threads", num_threads()},
        {"seed", a.seed},
        {"iterations", result.iterations},
        {"epochs", result.epochs},
        {"train_loss", result.last_loss},
        {"train_samples_per_sec", result.samples_per_sec()},
        {"train_seconds", result.train_seconds},
        {"sync_seconds", result.sync_seconds},
        {"peak_rss_mib", peak_rss_mib()},
    };
    if (result.last_validation) {
      report["test_top1"] = result.last_validation->top1();
      report["test_loss"] = result.last_validation->loss();
      report["test_samples"] = result.last_validation->samples;
    }
    nlohmann::json history = nlohmann::json::array();
    for (const auto& r : result.history) {
      nlohmann::json e = {{"epoch", r.epoch},
                          {"iterations", r.iterations},
                          {"train_loss", r.train_loss},
                          {"samples_per_sec", r.samples_per_sec}};
      if (r.validation) {
        e["test_top1"] = r.validation->top1();
        e["test_loss"] = r.validation->loss();
      }
      history.push_back(e);
    }
    report["history"] = history;
    write_report(a.report, report);
  }
  return 0;
}

}  // namespace

int run_train(const TrainArgs& a, std::ostream& out) {
  validate(a);
  auto comm = dist::world();
  comm->set_timeout(std::chrono::milliseconds(a.comm_timeout_ms));
  try {
    return train_on(a, *comm, out);
  } catch (const Error& e) {
    if (comm->size() == 1) throw;
    // One worker failing must end the whole job, naming this worker; the others
    // would otherwise wait for it until their own timeout.
    const std::string what = e.what();
    const std::string rank = "rank " + std::to_string(comm->rank()) + ": ";
    std::cerr << "bdl: error: " << (what.rfind(rank, 0) == 0 ? "" : rank) << what << std::endl;
    comm->abort(1);
  }
  return 1;  // not reached: abort() ends every process of the job
}

}  // namespace bdl::cli
