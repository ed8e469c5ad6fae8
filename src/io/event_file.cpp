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

constexpr std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrc32cTable = make_crc32c_table();

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

uint32_t crc32c(std::span<const uint8_t> bytes) {
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t b : bytes) c = kCrc32cTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(std::span<const uint8_t> bytes) {
  const uint32_t c = crc32c(bytes);
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

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
  file_ = std::fopen(path_.c_str(), "ab");
  BDL_CHECK(file_ != nullptr, path_, ": cannot open for writing: ", std::strerror(errno));
  tensorboard::Event event;
  event.set_wall_time(wall_time());
  event.set_file_version("brain.Event:2");
  write_record(event.SerializeAsString());
  flush();
}

EventFile::~EventFile() {
  if (file_ != nullptr) std::fclose(file_);
}

void EventFile::write_record(const std::string& bytes) {
  uint8_t header[12];
  const uint64_t length = bytes.size();
  std::memcpy(header, &length, 8);  // little-endian on the machines bdl builds for
  const uint32_t length_crc = masked_crc32c({header, 8});
  std::memcpy(header + 8, &length_crc, 4);
  const uint32_t data_crc =
      masked_crc32c({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  const bool ok = std::fwrite(header, 1, sizeof header, file_) == sizeof header &&
                  std::fwrite(bytes.data(), 1, bytes.size(), file_) == bytes.size() &&
                  std::fwrite(&data_crc, 1, 4, file_) == 4;
  BDL_CHECK(ok, path_, ": cannot write: ", std::strerror(errno));
}

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

void EventFile::flush() {
  BDL_CHECK(std::fflush(file_) == 0, path_, ": cannot write: ", std::strerror(errno));
}

}  // namespace bdl::io
