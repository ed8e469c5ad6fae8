#pragma once

// TensorBoard event files (BigDL's TrainSummary and ValidationSummary): scalars
// and histograms by tag and step, in the record format TensorBoard reads
// (events.out.tfevents.TIME.HOST files: Event messages in TFRecord framing,
// record_file.h).
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "bdl/data/record_file.h"

namespace bdl::io {

class EventFile {
 public:
  // Creates `dir` (and its parents) when missing and a new event file in it.
  // Errors name the directory.
  explicit EventFile(const std::string& dir);
  ~EventFile();
  EventFile(const EventFile&) = delete;
  EventFile& operator=(const EventFile&) = delete;

  void scalar(const std::string& tag, int64_t step, double value);
  // A histogram of `values` in TensorBoard's exponential buckets (edges at
  // +-1e-12 * 1.1^k, as TensorFlow's summary ops use).
  void histogram(const std::string& tag, int64_t step, std::span<const float> values);
  // Makes what was written visible to readers (TensorBoard polls the file).
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& bytes);
  std::string path_;
  std::unique_ptr<data::RecordWriter> writer_;
};

}  // namespace bdl::io
