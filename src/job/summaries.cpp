#include "job/summaries.h"

#include <filesystem>
#include <memory>
#include <vector>

#include "bdl/io/event_file.h"

namespace bdl::job {
namespace {

struct Summaries {
  io::EventFile train, validation;
  SummarySpec spec;
  nn::Module* model;
  int64_t last_iteration = 0;
  Summaries(const SummarySpec& s, nn::Module& m)
      : train((std::filesystem::path(s.dir) / "train").string()),
        validation((std::filesystem::path(s.dir) / "validation").string()),
        spec(s),
        model(&m) {}

  void iteration(const optim::IterationRecord& r) {
    last_iteration = r.iteration;
    if (r.iteration % spec.every == 0) {
      train.scalar("loss", r.iteration, r.loss);
      train.scalar("learning_rate", r.iteration, r.learning_rate);
    }
    // Throughput is known at group boundaries (every sync_every iterations).
    if (r.mean_loss) {
      train.scalar("throughput", r.iteration, r.samples_per_sec);
      train.flush();
    }
  }

  void epoch(const optim::EpochRecord& r) {
    const int64_t step = r.epoch;
    train.scalar("epoch_loss", step, r.train_loss);
    train.scalar("epoch_throughput", step, r.samples_per_sec);
    if (spec.histograms) {
      for (const nn::Parameter& p : model->parameters()) {
        const Tensor weights = p.value->contiguous();
        train.histogram("weights/" + p.name, step, weights.span_f32());
        if (p.grad->defined() && p.grad->numel() == p.value->numel()) {
          const Tensor grads = p.grad->contiguous();
          train.histogram("gradients/" + p.name, step, grads.span_f32());
        }
      }
    }
    train.flush();
    if (r.validation) {
      // By iteration, beside training's per-iteration loss (BigDL's
      // ValidationSummary), and by epoch, beside training's epoch_ scalars.
      validation.scalar("loss", last_iteration, r.validation->loss);
      validation.scalar("epoch_loss", step, r.validation->loss);
      for (const auto& [name, value] : r.validation->metrics) {
        if (name == "loss") continue;
        validation.scalar(name, last_iteration, value);
        validation.scalar("epoch_" + name, step, value);
      }
      validation.flush();
    }
  }
};

}  // namespace

void add_summaries(optim::Optimizer& optimizer, const SummarySpec& spec, nn::Module& model) {
  auto s = std::make_shared<Summaries>(spec, model);
  optimizer.on_iteration([s](const optim::IterationRecord& r) {
    s->iteration(r);
    return optim::Decision::proceed;
  });
  optimizer.on_epoch([s](const optim::EpochRecord& r) {
    s->epoch(r);
    return optim::Decision::proceed;
  });
}

}  // namespace bdl::job
