// bdl train: flags to a job::TrainSpec, run by job::train.
#include <cstdio>
#include <iomanip>
#include <map>
#include <ostream>

#include "bdl/cli/commands.h"

namespace bdl::cli {

std::string flag_name(const std::string& field) {
  static const std::map<std::string, std::string> renamed = {
      {"max_iterations", "--max-iteration"},
      {"optimizer", "--optimizer"},
      {"checkpoint", "--checkpoint"},
      {"model", "--model"},
      {"data", "--data"},
  };
  const auto it = renamed.find(field);
  if (it != renamed.end()) return it->second;
  std::string flag = "--" + field;
  for (char& c : flag) c = c == '_' ? '-' : c;
  return flag;
}

namespace {

job::TrainSpec spec_of(const TrainArgs& a) {
  job::TrainSpec spec = a.spec;
  if (a.synthetic) spec.data.source = "synthetic";
  spec.field_names = flag_name;
  return spec;
}

}  // namespace

namespace {

// One line per epoch: training loss and speed, and the validation metrics.
std::string epoch_line(const optim::EpochRecord& r) {
  char line[256];
  std::snprintf(line, sizeof line, "epoch %lld: train loss %.4f, %.0f samples/s",
                static_cast<long long>(r.epoch), r.train_loss, r.samples_per_sec);
  std::string text = line;
  if (r.validation) {
    for (const auto& [name, value] : r.validation->metrics) {
      std::snprintf(line, sizeof line, ", test %s %.4f", optim::metric_display_name(name).c_str(),
                    value);
      text += line;
    }
  }
  return text;
}

}  // namespace

int run_train(const TrainArgs& args, std::ostream& all_out) {
  validate(args);
  job::TrainSpec spec = spec_of(args);
  // A worker that never starts must not hang the others in MPI's start-up.
  dist::set_start_timeout(std::chrono::milliseconds(std::max<int64_t>(spec.sync.timeout_ms, 100)));
  dist::Communicator& comm = dist::process_world();
  // Only rank 0 talks to the user.
  std::ostream null_stream(nullptr);
  std::ostream& out = comm.rank() == 0 ? all_out : null_stream;
  spec.on_message = [&out](const std::string& line) { out << line << "\n" << std::flush; };
  spec.on_epoch.emplace_back([&out](const optim::EpochRecord& r) {
    out << epoch_line(r) << "\n" << std::flush;
    return optim::Decision::proceed;
  });
  const job::TrainReport report = job::train(spec, comm);
  if (report.result.skipped_records > 0) {
    out << "skipped " << report.result.skipped_records
        << " damaged records (--skip-bad-records); the first: " << report.result.first_skipped
        << "\n";
  }
  // Training that waited for its data a tenth of its time or more: say so,
  // with what to change.
  const optim::TrainResult& r = report.result;
  if (r.train_seconds > 1 && r.input_wait_seconds > 0.1 * r.train_seconds) {
    out << "training waited " << std::fixed << std::setprecision(1) << r.input_wait_seconds
        << " s of " << r.train_seconds << std::defaultfloat
        << " s for its input: decoding is the bottleneck (more --decode-threads for an image "
           "folder, or fewer --threads)\n";
  }
  if (!args.report.empty() && comm.rank() == 0) {
    try {
      job::write_report(report, args.report);
    } catch (const Error& e) {
      fail("--report: ", e.what());
    }
  }
  return 0;
}

}  // namespace bdl::cli
