// Every worker of a job must run the same settings: a rank started with another
// model, batch size or learning rate would crash in the sync, time out waiting
// for a peer, or train silently wrong. Workers compare a digest of each setting
// at start-up, and the first difference is named with every rank's value.
#include "job/agreement.h"

#include <charconv>
#include <cmath>

#include "bdl/core/file.h"
#include "job/checks.h"

namespace bdl::job {
namespace {

constexpr size_t kShownBytes = 48;  // of each rank's value in the message

// The shortest text that reads back as the same double (0.05, not 0.05000000000000000277).
std::string text(double v) {
  char buffer[64];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;
  return std::string(buffer, end);
}

template <typename T>
std::string text(const std::optional<T>& v) {
  return v ? std::to_string(*v) : "unset";
}

// A value's digest, exact as a double (52 bits), for min/max collectives.
double digest(const std::string& value) {
  return static_cast<double>(checksum(value.data(), value.size()) >> 12);
}

// Rank 0 gets every rank's value of one setting (bytes as floats, cut to
// kShownBytes), and lists them.
std::string values_of_all(const std::string& mine, dist::Communicator& comm) {
  std::vector<float> send(kShownBytes + 1, 0.f);
  const size_t n = std::min(mine.size(), kShownBytes);
  send[0] = static_cast<float>(mine.size());
  for (size_t i = 0; i < n; ++i) send[i + 1] = static_cast<unsigned char>(mine[i]);
  std::vector<float> all(comm.rank() == 0 ? send.size() * static_cast<size_t>(comm.size()) : 0);
  comm.gather(send, all, 0);
  std::string out;
  for (int r = 0; r < comm.size() && comm.rank() == 0; ++r) {
    const float* v = all.data() + static_cast<size_t>(r) * send.size();
    const auto size = static_cast<size_t>(v[0]);
    std::string value;
    for (size_t i = 0; i < std::min(size, kShownBytes); ++i)
      value += static_cast<char>(static_cast<unsigned char>(v[i + 1]));
    if (size > kShownBytes) value += "...";
    out += (r ? ", rank " : "rank ") + std::to_string(r) + " has '" + value + "'";
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> shared_settings(const TrainSpec& s) {
  const MethodSpec& m = s.optimizer;
  std::string metrics;
  for (const auto& name : s.metrics) metrics += name + ",";
  std::vector<std::pair<std::string, std::string>> out = {
      {"model", s.model.module ? "(built module)" : s.model.name},
      {"classes", std::to_string(s.model.classes)},
      {"image_size", text(s.model.image_size)},
      {"loss", s.criterion ? s.criterion->type() : s.loss},
      {"metrics", metrics},
      {"optimizer", m.method ? m.method->describe() : m.name},
      {"lr", text(m.lr)},
      {"momentum", text(m.momentum)},
      {"weight_decay", text(m.weight_decay)},
      {"trust_coefficient", text(m.trust_coefficient)},
      {"schedule", m.custom_schedule ? "(built schedule)" : m.schedule},
      {"warmup_epochs", std::to_string(m.warmup_epochs)},
      {"scale_lr_from", text(m.scale_lr_from)},
      {"epochs", std::to_string(s.epochs)},
      {"max_iterations", text(s.max_iterations)},
      {"batch_size", std::to_string(s.batch_size)},
      {"sync", s.sync.strategy},
      {"compress", s.sync.compress},
      {"sync_every", std::to_string(s.sync.every)},
      {"comm_timeout_ms", std::to_string(s.sync.timeout_ms)},
      {"checkpoint_every", std::to_string(s.checkpoint.every)},
      {"resume", s.checkpoint.resume ? "true" : "false"},
      {"seed", std::to_string(s.seed)},
      {"precision", s.precision},
      {"train_samples", text(s.data.train_samples)},
      {"test_samples", text(s.data.validation_samples)},
      {"synthetic_samples", text(s.data.synthetic_samples)},
      {"skip_bad_records", s.data.skip_bad_records ? "true" : "false"},
      {"label_column", s.data.label_column},
      {"augment", s.data.augment},
      {"missing", s.data.missing},
      {"class_weight", s.data.class_weight},
      {"standardize", s.data.standardize ? "true" : "false"},
      {"one_hot", s.data.one_hot ? "true" : "false"},
      {"data", s.data.train                   ? "(datasets in memory)"
               : s.data.source == "synthetic" ? "synthetic"
                                              : "a source"},
  };
  return out;
}

void check_workers_agree(const TrainSpec& spec, dist::Communicator& comm) {
  if (comm.size() == 1) return;
  const auto settings = shared_settings(spec);
  // One collective: per setting the least digest and the least negated one.
  std::vector<double> least(2 * settings.size());
  for (size_t i = 0; i < settings.size(); ++i) {
    least[2 * i] = digest(settings[i].second);
    least[2 * i + 1] = -least[2 * i];
  }
  comm.allreduce(least, dist::AllreduceOp::min);
  for (size_t i = 0; i < settings.size(); ++i) {
    if (least[2 * i] == -least[2 * i + 1]) continue;
    const std::string field = field_name(spec.field_names, settings[i].first);
    const std::string values = values_of_all(settings[i].second, comm);
    // Rank 0 names every value; the others wait for its abort rather than
    // ending the job before it has spoken.
    if (comm.rank() != 0) comm.barrier();
    fail("the workers were started with different settings: ", field, ": ", values,
         " (every worker must run the same job)");
  }
}

void check_same_model(nn::Module& model, dist::Communicator& comm, const FieldNames& names) {
  if (comm.size() == 1) return;
  const auto params = model.parameters();
  double count = 0;
  for (const auto& p : params) count += static_cast<double>(p.value->numel());
  double least[4] = {count, -count, static_cast<double>(params.size()),
                     -static_cast<double>(params.size())};
  comm.allreduce(least, dist::AllreduceOp::min);
  if (least[0] == -least[1] && least[2] == -least[3]) return;
  const std::string values =
      values_of_all(std::to_string(static_cast<int64_t>(count)) + " parameters in " +
                        std::to_string(params.size()) + " tensors",
                    comm);
  if (comm.rank() != 0) comm.barrier();
  fail("the workers built different models (", field_name(names, "model"), "): ", values);
}

}  // namespace bdl::job
