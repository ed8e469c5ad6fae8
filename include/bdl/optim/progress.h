#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace bdl::optim {

enum class ProgressStyle { automatic, bar, lines, quiet };

// auto, bar, lines or quiet; an error naming the others for any other name.
ProgressStyle parse_progress_style(const std::string& name);

// Training progress on a stream: a live bar with rate and ETA redrawn in place on
// a terminal, or plain lines (about ten per epoch) when the stream is a file or
// pipe. `automatic` picks by isatty.
class Progress {
 public:
  explicit Progress(ProgressStyle style = ProgressStyle::automatic, std::FILE* out = stderr);

  void start_epoch(int64_t epoch, int64_t total_epochs, int64_t iterations);
  void update(int64_t iteration_in_epoch, double loss, double samples_per_sec);
  void end_epoch();
  void message(const std::string& line);

 private:
  void draw(int64_t done, double loss, double rate);

  ProgressStyle style_;
  std::FILE* out_;
  int64_t epoch_ = 0, total_epochs_ = 0, iterations_ = 0, last_line_ = -1;
  bool bar_open_ = false;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

}  // namespace bdl::optim
