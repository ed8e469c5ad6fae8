#include "bdl/io/event_file.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <vector>

#include "bdl/core/error.h"
#include "src/io/tensorboard_event.pb.h"

namespace bdl::io {
namespace {

double wall_time() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(now).count();
}

std::string host_name() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return "localhost";
  return name.data();
}

// TensorFlow's default histogram bucket limits: -DBL_MAX, the negative edges,
// 0, the positive edges 1e-12 * 1.1^k below 1e20, and DBL_MAX.
const std::vector<double>& bucket_limits() {
  static const std::vector<double> limits = [] {
    std::vector<double> positive;
    for (double v = 1e-12; v < 1e20; v *= 1.1) positive.push_back(v);
    positive.push_back(std::numeric_limits<double>::max());
    std::vector<double> all;
    all.reserve(2 * positive.size() + 1);
    for (auto it = positive.rbegin(); it != positive.rend(); ++it) all.push_back(-*it);
    all.push_back(0.0);
    all.insert(all.end(), positive.begin(), positive.end());
    return all;
  }();
  return limits;
}

void fill_histogram(tensorboard::HistogramProto& h, std::span<const float> values) {
  const std::vector<double>& limits = bucket_limits();
  std::vector<double> counts(limits.size(), 0.0);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0, squares = 0, num = 0;
  for (float f : values) {
    if (!std::isfinite(f)) continue;  // TensorBoard's buckets hold finite values
    const double v = f;
    // The bucket whose limit is the first one at least v (limits are upper edges).
    const auto at = std::lower_bound(limits.begin(), limits.end(), v);
    counts[static_cast<size_t>(at - limits.begin())] += 1;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
    squares += v * v;
    num += 1;
  }
  h.set_min(num > 0 ? lo : 0.0);
  h.set_max(num > 0 ? hi : 0.0);
  h.set_num(num);
  h.set_sum(sum);
  h.set_sum_squares(squares);
  // Empty buckets are merged into runs, each stored by its last limit, as
  // TensorFlow encodes them.
  for (size_t i = 0; i < limits.size(); ++i) {
    const bool empty_run_continues = counts[i] == 0 && i + 1 < limits.size() && counts[i + 1] == 0;
    if (empty_run_continues) continue;
    h.add_bucket_limit(limits[i]);
    h.add_bucket(counts[i]);
  }
}

}  // namespace

EventFile::EventFile(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  BDL_CHECK(!ec, dir, ": cannot create the summary directory: ", ec.message());
  // Several files may be opened in one second (a run restarted, two writers):
  // the process id keeps their names apart.
  const auto seconds = static_cast<int64_t>(wall_time());
  path_ = (std::filesystem::path(dir) / ("events.out.tfevents." + std::to_string(seconds) + "." +
                                         host_name() + "." + std::to_string(getpid())))
              .string();
  writer_ = std::make_unique<data::RecordWriter>(path_, data::RecordWriter::Mode::append);
  tensorboard::Event event;
  event.set_wall_time(wall_time());
  event.set_file_version("brain.Event:2");
  write_record(event.SerializeAsString());
  flush();
}

EventFile::~EventFile() = default;

void EventFile::write_record(const std::string& bytes) { writer_->write(bytes); }

void EventFile::scalar(const std::string& tag, int64_t step, double value) {
  tensorboard::Event event;
  event.set_wall_time(wall_time());
  event.set_step(step);
  auto* v = event.mutable_summary()->add_value();
  v->set_tag(tag);
  v->set_simple_value(static_cast<float>(value));
  write_record(event.SerializeAsString());
}

void EventFile::histogram(const std::string& tag, int64_t step, std::span<const float> values) {
  tensorboard::Event event;
  event.set_wall_time(wall_time());
  event.set_step(step);
  auto* v = event.mutable_summary()->add_value();
  v->set_tag(tag);
  fill_histogram(*v->mutable_histo(), values);
  write_record(event.SerializeAsString());
}

void EventFile::flush() { writer_->flush(); }

}  // namespace bdl::io
