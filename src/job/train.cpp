#include "bdl/job/train.h"

#include <sys/resource.h>

#include <cmath>
#include <iostream>

#include "bdl/core/random.h"
#include "bdl/core/threads.h"
#include "bdl/dist/sync.h"
#include "bdl/io/model_file.h"
#include "bdl/kernels/backend.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/losses/by_name.h"
#include "job/agreement.h"
#include "job/checks.h"
#include "job/summaries.h"

namespace bdl::job {
namespace {

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

void configure_process(const TrainSpec& spec) {
  set_num_threads(spec.threads);
  kernels::set_compute_precision(spec.precision == "bf16" ? kernels::Precision::bf16
                                                          : kernels::Precision::fp32);
  manual_seed(spec.seed);
}

// What loading the data needs from the model, before a zoo model is built (its
// class count may come from the data).
DataNeeds needs_of(const TrainSpec& spec, const std::optional<Model>& loaded) {
  DataNeeds needs;
  needs.seed = spec.seed;
  needs.batch_size = spec.batch_size;
  if (loaded) {
    needs.sample_shape = loaded->sample_shape;
    needs.classes = std::max<int64_t>(loaded->outputs, 1);
    needs.normalize = loaded->normalize;
  } else {
    const models::ZooEntry& entry = models::find(spec.model.name);
    needs.sample_shape = entry.sample;
    if (spec.model.image_size)
      needs.sample_shape[1] = needs.sample_shape[2] = *spec.model.image_size;
    needs.vocabulary = entry.vocabulary;
    needs.classes = spec.model.classes > 0 ? spec.model.classes : entry.default_classes;
  }
  return needs;
}

// Class indices span the same classes on every worker (a worker's shard may
// lack the highest one), in training and validation data.
int64_t classes_of(const Data& d, dist::Communicator& comm) {
  double classes = static_cast<double>(d.train.num_classes());
  if (d.validation) classes = std::max(classes, static_cast<double>(d.validation->num_classes()));
  comm.allreduce(std::span(&classes, 1), dist::AllreduceOp::max);
  return static_cast<int64_t>(classes);
}

// The training samples of the whole job: each worker's share summed when each
// loaded only its own.
int64_t samples_of_all_workers(const data::Source& train, dist::Communicator& comm) {
  double n = static_cast<double>(train.size());
  if (train.is_worker_shard()) comm.allreduce(std::span(&n, 1), dist::AllreduceOp::sum);
  return static_cast<int64_t>(n);
}

// Class indices need outputs (batch, classes).
void check_classifier(const Model& model) {
  Shape in = model.sample_shape;
  in.insert(in.begin(), 1);
  const Shape out = model.module->output_shape(in);
  BDL_CHECK(out.size() == 2, model.name, ": output of shape ", shape_str(out),
            " is not (batch, classes)");
}

// Samples of the model's input shape, and value targets of its output shape:
// checked before training, not found at the first validation.
void check_fits(const Model& model, const data::Source& d, const nn::Criterion& loss,
                const char* which) {
  BDL_CHECK(d.sample_shape() == model.sample_shape, model.name,
            ": the model takes samples of shape ", shape_str(model.sample_shape), ", the ", which,
            " data (", d.name(), ") has ", shape_str(d.sample_shape()));
  // (A loss on class indices meeting values is named by the training loop.)
  if (d.target_kind() != data::TargetKind::values || loss.takes_class_indices()) return;
  Shape in = model.sample_shape;
  in.insert(in.begin(), 1);
  Shape out = model.module->output_shape(in);
  out.erase(out.begin());
  const auto elements = [](const Shape& s) {
    int64_t n = 1;
    for (int64_t v : s) n *= v;
    return n;
  };
  BDL_CHECK(elements(d.target_shape()) == elements(out), model.name,
            ": the model's outputs per sample have shape ", shape_str(out), ", the ", which,
            " data's targets (", d.name(), ") have ", shape_str(d.target_shape()));
}

// The model and the data of this worker, fitted to each other and to the loss:
// shapes checked, class indices checked against the outputs and one-hot encoded
// for a loss on values.
std::pair<Model, Data> model_and_data(const TrainSpec& spec, const nn::Criterion& loss,
                                      dist::Communicator& comm) {
  std::optional<Model> model;
  if (spec.model.module || is_model_file(spec.model.name)) model = build_model(spec.model);
  if (model && model->sample_shape.empty()) {
    fail(model->name, ": the file does not record its input shape, so it cannot be trained here");
  }
  DataNeeds needs = model ? needs_of(spec, model) : needs_of(spec, std::nullopt);
  Data data = load_data(spec.data, needs, comm.rank(), comm.size());
  const bool class_targets = data.train.target_kind() == data::TargetKind::classes;
  if (!model) {
    ModelSpec zoo = spec.model;
    zoo.image_size_name = field_name(spec.field_names, "image_size");
    const int64_t classes = data.synthetic  ? needs.classes
                            : class_targets ? classes_of(data, comm)
                                            : data.train.num_classes();
    model = build_model(zoo, classes);
  }
  if (class_targets) check_classifier(*model);
  check_field(class_targets || spec.data.class_weight.empty(), spec.field_names, "class_weight",
              "needs class indices; the training data has values");
  check_fits(*model, data.train, loss, "training");
  if (data.validation) check_fits(*model, *data.validation, loss, "validation");
  if (class_targets) {
    data.train = data.train.with_classes(model->outputs);
    if (data.validation) data.validation = data.validation->with_classes(model->outputs);
    data.train = weigh_classes(data.train, spec.data.class_weight, model->outputs,
                               field_name(spec.field_names, "class_weight"));
    if (!loss.takes_class_indices()) {
      data.train = data.train.one_hot(model->outputs);
      if (data.validation) data.validation = data.validation->one_hot(model->outputs);
    }
  }
  if (!model->normalize) model->normalize = data.normalize;
  return {std::move(*model), std::move(data)};
}

std::string describe_job(const TrainSpec& spec, const Model& model, const Data& data,
                         int64_t train_samples, const optim::ParameterSync& sync,
                         const optim::OptimMethod& method, const optim::Schedule* schedule,
                         const nn::Criterion& loss) {
  // A worker that loaded only its own share describes that share: add the job's.
  const std::string all =
      data.train.is_worker_shard() && sync.size() > 1
          ? ", " + std::to_string(train_samples) + " training samples on all workers"
          : "";
  return "bdl train: " + model.name + " on " + data.description + all + ", batch " +
         std::to_string(spec.batch_size) + ", " + std::to_string(num_threads()) +
         " threads per worker, " + sync.describe() + "\n  " + method.describe() +
         (schedule ? ", " + schedule->describe() : "") + ", loss " + loss.type() +
         (spec.precision == "bf16" ? ", bf16 convolutions" : "");
}

// Checkpoints every `every` iterations or every epoch, written by rank 0 into
// `dir` (null on the other ranks).
void add_checkpoints(optim::Optimizer& optimizer, const TrainSpec& spec, const Model& model,
                     const std::shared_ptr<io::CheckpointDirectory>& dir) {
  const CheckpointSpec& c = spec.checkpoint;
  const optim::Trigger when =
      c.every > 0 ? optim::several_iteration(c.every) : optim::every_epoch();
  auto message = spec.on_message;
  optimizer.checkpoint(when, [dir, metadata = model.metadata(), message](
                                 nn::Module& m, const optim::TrainingState& s) {
    if (!dir) return;
    const std::string path = dir->save(m, s, metadata);
    if (message)
      message("checkpoint: " + path + " (iteration " + std::to_string(s.iteration) + ")");
  });
}

// The model's weights and buffers, to put back when no checkpoint could be
// read into it (a failed read may have filled some of them).
std::vector<Tensor> snapshot(nn::Module& model) {
  std::vector<Tensor> values;
  for (const auto& p : model.parameters()) values.push_back(p.value->clone());
  for (const auto& b : model.buffers()) values.push_back(b.value->clone());
  return values;
}

void put_back(nn::Module& model, const std::vector<Tensor>& values) {
  size_t i = 0;
  for (const auto& p : model.parameters()) p.value->copy_from(values[i++]);
  for (const auto& b : model.buffers()) b.value->copy_from(values[i++]);
}

// Rank 0's newest checkpoint that loads, read into the model (a damaged one is
// reported and skipped); nothing when the directory has none. When there are
// checkpoints and none loads, the job fails, or starts afresh when asked to.
std::optional<optim::TrainingState> newest_usable(const TrainSpec& spec, nn::Module& model,
                                                  io::CheckpointDirectory& dir) {
  const auto& message = spec.on_message;
  const auto all = dir.list();
  if (all.empty()) {
    if (message) message("no checkpoint in " + spec.checkpoint.dir + ": starting afresh");
    return std::nullopt;
  }
  const std::vector<Tensor> initial =
      spec.checkpoint.fresh_if_unusable ? snapshot(model) : std::vector<Tensor>{};
  std::string reasons;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      optim::TrainingState state = io::restore_checkpoint(model, *it);
      dir.continue_lineage_of(*it);
      if (message) {
        message("resuming from " + *it + ": epoch " + std::to_string(state.epoch) + ", iteration " +
                std::to_string(state.iteration));
      }
      return state;
    } catch (const Error& e) {
      std::cerr << "bdl: warning: skipping checkpoint " << *it << ": " << e.what() << "\n";
      reasons += std::string(reasons.empty() ? "" : "; ") + e.what();
    }
  }
  const std::string resume = field_name(spec.field_names, "resume");
  BDL_CHECK(spec.checkpoint.fresh_if_unusable, resume, ": none of the ", all.size(),
            " checkpoints in ", spec.checkpoint.dir, " can be used (", reasons,
            "); nothing was changed. Point ", field_name(spec.field_names, "checkpoint"),
            " at another directory, or pass ", field_name(spec.field_names, "fresh_if_unusable"),
            " to start afresh beside them");
  put_back(model, initial);
  if (message) {
    message("no usable checkpoint in " + spec.checkpoint.dir +
            ": starting afresh (the unusable ones are left as they are)");
  }
  return std::nullopt;
}

// Rank 0 reads the checkpoint to resume from; the others receive what they
// need from it.
void add_resume(optim::Optimizer& optimizer, const TrainSpec& spec, nn::Module& model,
                io::CheckpointDirectory* dir) {
  std::optional<optim::TrainingState> state;
  if (dir) state = newest_usable(spec, model, *dir);
  optimizer.resume(std::move(state));
}

optim::Trigger end_trigger(const TrainSpec& spec) {
  if (spec.end_when) return *spec.end_when;
  optim::Trigger end = optim::max_epoch(spec.epochs);
  if (spec.max_iterations) end = optim::any_of(end, optim::max_iteration(*spec.max_iterations));
  return end;
}

TrainReport report_of(const TrainSpec& spec, const Model& model, const Data& data,
                      dist::Communicator& comm, const nn::Criterion& loss) {
  TrainReport r;
  r.workers = comm.size();
  r.model = spec.model.module ? model.name : spec.model.name;
  r.sync = spec.sync.strategy;
  r.compress = spec.sync.compress;
  r.optimizer = spec.optimizer.method ? spec.optimizer.method->describe() : spec.optimizer.name;
  r.loss = spec.criterion ? loss.type() : spec.loss;
  r.schedule = spec.optimizer.schedule;
  r.precision = spec.precision;
  r.lr = effective_lr(spec.optimizer, spec.batch_size);
  r.warmup_epochs = spec.optimizer.warmup_epochs;
  r.synthetic = data.synthetic;
  r.batch_size = spec.batch_size;
  r.threads = num_threads();
  r.seed = spec.seed;
  r.trained = model.module;
  return r;
}

TrainReport train_on(const TrainSpec& spec, dist::Communicator& comm) {
  check_workers_agree(spec, comm);
  configure_process(spec);
  const std::shared_ptr<nn::Criterion> loss =
      spec.criterion ? spec.criterion
                     : std::shared_ptr<nn::Criterion>(nn::make_criterion(spec.loss));
  auto [model, data] = model_and_data(spec, *loss, comm);
  check_same_model(*model.module, comm, spec.field_names);
  auto sync = dist::make_sync(dist::parse_sync_strategy(spec.sync.strategy), comm,
                              dist::parse_wire_format(spec.sync.compress));
  const auto method = make_method(spec.optimizer, spec.batch_size);
  const auto schedule = make_schedule(spec.optimizer, spec.epochs);
  const int64_t train_samples = samples_of_all_workers(data.train, comm);
  if (spec.on_message && comm.rank() == 0) {
    spec.on_message(
        describe_job(spec, model, data, train_samples, *sync, *method, schedule.get(), *loss));
  }
  optim::Optimizer optimizer(*model.module, data.train, *loss);
  std::shared_ptr<io::CheckpointDirectory> dir;  // rank 0's
  if (!spec.checkpoint.dir.empty() && comm.rank() == 0) {
    dir = std::make_shared<io::CheckpointDirectory>(spec.checkpoint.dir, spec.checkpoint.keep);
  }
  if (!spec.checkpoint.dir.empty()) add_checkpoints(optimizer, spec, model, dir);
  if (spec.checkpoint.resume) add_resume(optimizer, spec, *model.module, dir.get());
  optimizer.method(method)
      .schedule(schedule)
      .batch_size(spec.batch_size)
      .end_when(end_trigger(spec))
      .seed(spec.seed)
      .sync(*sync)
      .sync_every(spec.sync.every)
      .progress(optim::parse_progress_style(spec.progress));
  for (const auto& f : spec.on_iteration) optimizer.on_iteration(f);
  for (const auto& f : spec.on_epoch) optimizer.on_epoch(f);
  if (!spec.summary.dir.empty() && comm.rank() == 0) {
    add_summaries(optimizer, spec.summary, *model.module);
  }
  if (data.validation && data.validation->size() > 0) {
    std::vector<std::string> metrics = spec.metrics;
    if (metrics.empty()) metrics = optim::default_metrics(*loss, model.outputs);
    if (std::find(metrics.begin(), metrics.end(), "loss") == metrics.end())
      metrics.emplace_back("loss");
    optimizer.validate(spec.validate_when, *data.validation, metrics);
  }
  TrainReport report = report_of(spec, model, data, comm, *loss);
  report.result = optimizer.optimize();
  if (!spec.save.empty() && comm.rank() == 0) {
    io::save_model(*model.module, spec.save, model.metadata());
    report.saved = spec.save;
    if (spec.on_message) spec.on_message("saved " + spec.save);
  }
  report.peak_rss_mib = peak_rss_mib();
  return report;
}

}  // namespace

TrainReport train(const TrainSpec& spec, dist::Communicator& comm) {
  validate(spec);
  comm.set_timeout(std::chrono::milliseconds(spec.sync.timeout_ms));
  try {
    return train_on(spec, comm);
  } catch (const Error& e) {
    if (comm.size() == 1) throw;
    // One worker failing must end the whole job, naming this worker; the others
    // would otherwise wait for it until their own timeout.
    const std::string what = e.what();
    const std::string rank = "rank " + std::to_string(comm.rank()) + ": ";
    const std::string said = (what.rfind(rank, 0) == 0 ? "" : rank) + what;
    if (comm.ends_job_on_error()) {
      std::cerr << "bdl: error: " << said << std::endl;
      comm.abort(1);  // never returns: ends every process of the job
    }
    comm.abandon();
    throw Error(said);
  }
}

TrainReport train(const TrainSpec& spec) { return train(spec, dist::process_world()); }

}  // namespace bdl::job
