#pragma once

// A whole training job in one call: the model, the data, the loss, the method
// and schedule, the sync, checkpoints and resume, the end, validation metrics,
// callbacks, and a report of what happened. `bdl train`, the examples and the
// Python package all run jobs through train().
//
//   bdl::job::TrainSpec spec;
//   spec.model.name = "lenet5";
//   spec.data.source = "fashion-mnist";
//   spec.epochs = 5;
//   const bdl::job::TrainReport report = bdl::job::train(spec);
//   std::cout << report.result.last_validation->operator[]("top1");
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bdl/dist/communicator.h"
#include "bdl/job/data_source.h"
#include "bdl/job/model_source.h"
#include "bdl/nn/losses/criterion.h"
#include "bdl/optim/optim_method.h"
#include "bdl/optim/optimizer.h"
#include "bdl/optim/schedule.h"

namespace bdl::job {

// The optimisation method and its learning-rate schedule, by name or built.
struct MethodSpec {
  std::string name = "sgd";  // sgd, adam, adamw, adagrad, rmsprop, lars
  double lr = 0.05;
  double momentum = 0.9;  // SGD's and LARS's
  double weight_decay = 0;
  double trust_coefficient = 0.001;  // LARS's eta
  // none, step:EPOCHS:GAMMA, multistep:E1,E2,...:GAMMA, exp:GAMMA, poly:POWER,
  // cosine, plateau:FACTOR:PATIENCE; after the warm-up, over the remaining epochs.
  std::string schedule = "none";
  int64_t warmup_epochs = 0;                  // linear warm-up per iteration from lr / 10
  std::optional<int64_t> scale_lr_from = {};  // linear scaling: lr * batch / this reference batch
  // Built ones, which take the place of the names above.
  std::shared_ptr<optim::OptimMethod> method = {};
  std::shared_ptr<optim::Schedule> custom_schedule = {};
};

struct SyncSpec {
  std::string strategy = "sharded";  // sharded, allreduce, driver
  std::string compress = "none";     // none, fp16, bf16 (sharded only)
  int64_t every = 50;                // iterations between group boundaries
  int64_t timeout_ms = 60000;        // a peer silent this long is reported lost
};

struct CheckpointSpec {
  std::string dir = {};  // empty: no checkpoints
  int64_t every = 0;     // iterations between checkpoints; 0: every epoch
  int keep = 2;          // the newest ones of this run's lineage kept (io::CheckpointDirectory)
  // Continue from the newest checkpoint in dir that loads. A directory without
  // checkpoints starts afresh; one whose checkpoints all fail to load (damaged,
  // another model's) is an error unless fresh_if_unusable.
  bool resume = false;
  bool fresh_if_unusable = false;
};

// TensorBoard summaries (BigDL's TrainSummary and ValidationSummary), written
// by rank 0: DIR/train holds loss and learning_rate per iteration (step: the
// iteration), throughput at group boundaries, and epoch_loss and
// epoch_throughput per epoch (step: the epoch, from 1); DIR/validation holds
// every validation metric, loss included, twice: by the iteration it ran at
// (loss, top1, ...: beside training's loss) and by epoch (epoch_loss,
// epoch_top1, ...: beside training's epoch_loss). With histograms, DIR/train
// also holds the weights and gradients of every parameter at each epoch's end
// (weights/NAME, gradients/NAME).
struct SummarySpec {
  std::string dir = {};  // empty: none
  int64_t every = 1;     // iterations between the per-iteration scalars
  bool histograms = false;
};

// How a front end calls a spec's fields in messages: `bdl train` says
// "--batch-size" for "batch_size", Python its keyword. Unset: the field's name.
using FieldNames = std::function<std::string(const std::string& field)>;

struct TrainSpec {
  ModelSpec model = {};
  DataSpec data = {};
  // The loss by name (nn::make_criterion), or built. Class indices meet a loss
  // on values (mse, bce...) as one-hot rows.
  std::string loss = "cross_entropy";
  std::shared_ptr<nn::Criterion> criterion = {};
  MethodSpec optimizer = {};
  int64_t epochs = 5;
  std::optional<int64_t> max_iterations = {};  // stops earlier, mid-epoch if need be
  // Any other end (in place of the two above; epochs still sets the length of
  // the schedule), and when to validate (at every epoch's end by default).
  std::optional<optim::Trigger> end_when = {};
  optim::Trigger validate_when = optim::every_epoch();
  int64_t batch_size = 128;  // global: split evenly across the workers
  // Validation metrics (optim::make_metric names); empty: the loss's defaults.
  // The loss is always reported.
  std::vector<std::string> metrics = {};
  SyncSpec sync = {};
  CheckpointSpec checkpoint = {};
  SummarySpec summary = {};
  uint64_t seed = 1;
  int threads = 0;                 // kernel threads per worker; 0: one per core
  std::string precision = "fp32";  // fp32, or bf16 convolutions (fp32 master weights)
  std::string save;                // the trained model's file (bdl's format), written by rank 0
  // Called on every worker; a callback may return optim::Decision::stop.
  std::vector<std::function<optim::Decision(const optim::IterationRecord&)>> on_iteration;
  std::vector<std::function<optim::Decision(const optim::EpochRecord&)>> on_epoch;
  // Lines for the user (rank 0 only): what is trained on what, checkpoints
  // written, resumption.
  std::function<void(const std::string&)> on_message;
  // auto (a bar on a terminal, lines otherwise), bar, lines or quiet.
  std::string progress = "auto";
  // How errors name the fields above (validate() lists them).
  FieldNames field_names = {};
};

// What a job did: its settings as they ran, and its results. report_json()
// writes it as `bdl train --report` does.
struct TrainReport {
  int workers = 1;
  std::string model, sync, compress, optimizer, loss, schedule, precision = {};
  double lr = 0;  // after the linear scaling rule
  int64_t warmup_epochs = 0;
  bool synthetic = false;
  int64_t batch_size = 0;
  int threads = 0;
  uint64_t seed = 0;
  optim::TrainResult result = {};
  double peak_rss_mib = 0;
  std::string saved = {};               // the model file written, if any
  std::shared_ptr<nn::Module> trained;  // the model, trained (every worker holds the same)
};

// Checks every setting of a spec before any work, with one error naming the
// field and what it accepts. Fields: epochs, batch_size, max_iterations, model,
// image_size, classes, loss, metrics, optimizer, lr, momentum, weight_decay,
// trust_coefficient, schedule, warmup_epochs,
// summary, summary_every, scale_lr_from, threads, precision,
// progress, seed, sync, compress, sync_every, comm_timeout_ms, checkpoint,
// checkpoint_every, checkpoint_keep, resume, save, data, train_samples,
// test_samples, synthetic_samples.
void validate(const TrainSpec& spec);

// Runs the job as one worker of `comm`. With more than one worker, an error on
// any worker ends the whole job (comm.abort) after printing it with its rank, so
// that no worker waits for a peer that failed.
TrainReport train(const TrainSpec& spec, dist::Communicator& comm);
// On this process's world: MPI when started by mpirun or srun, else alone.
TrainReport train(const TrainSpec& spec);

std::string report_json(const TrainReport& report);
// Writes report_json atomically (a reader never sees half a report).
void write_report(const TrainReport& report, const std::string& path);

// The learning rate after the linear scaling rule.
double effective_lr(const MethodSpec& spec, int64_t batch_size);
std::shared_ptr<optim::OptimMethod> make_method(const MethodSpec& spec, int64_t batch_size,
                                                const FieldNames& names = {});
// Null when there is neither a schedule nor a warm-up.
std::shared_ptr<optim::Schedule> make_schedule(const MethodSpec& spec, int64_t epochs,
                                               const FieldNames& names = {});

}  // namespace bdl::job
