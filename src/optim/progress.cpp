#include "bdl/optim/progress.h"

#include <unistd.h>

#include <algorithm>
#include <string>

#include "bdl/core/error.h"

namespace bdl::optim {

ProgressStyle parse_progress_style(const std::string& name) {
  if (name == "auto") return ProgressStyle::automatic;
  if (name == "bar") return ProgressStyle::bar;
  if (name == "lines") return ProgressStyle::lines;
  if (name == "quiet") return ProgressStyle::quiet;
  fail("progress: '", name, "' is not one of auto, bar, lines, quiet");
}

Progress::Progress(ProgressStyle style, std::FILE* out) : style_(style), out_(out) {
  if (style_ == ProgressStyle::automatic) {
    style_ = isatty(fileno(out_)) ? ProgressStyle::bar : ProgressStyle::lines;
  }
}

void Progress::start_epoch(int64_t epoch, int64_t total_epochs, int64_t iterations) {
  epoch_ = epoch;
  total_epochs_ = total_epochs;
  iterations_ = iterations;
  last_line_ = -1;
  epoch_start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::update(int64_t done, double loss, double rate) {
  if (style_ == ProgressStyle::quiet) return;
  const auto now = std::chrono::steady_clock::now();
  if (style_ == ProgressStyle::bar) {
    if (done < iterations_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    draw(done, loss, rate);
    return;
  }
  const int64_t tenth = std::max<int64_t>(iterations_ / 10, 1);
  if (done / tenth == last_line_ && done != iterations_) return;
  last_line_ = done / tenth;
  std::fprintf(out_, "epoch %lld/%lld  iteration %lld/%lld  loss %.4f  %.0f samples/s\n",
               static_cast<long long>(epoch_), static_cast<long long>(total_epochs_),
               static_cast<long long>(done), static_cast<long long>(iterations_), loss, rate);
  std::fflush(out_);
}

void Progress::draw(int64_t done, double loss, double rate) {
  constexpr int kWidth = 30;
  const int filled = iterations_ ? static_cast<int>(kWidth * done / iterations_) : kWidth;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start_).count();
  const double eta = done ? elapsed * static_cast<double>(iterations_ - done) / done : 0.0;
  std::string bar(filled, '=');
  if (filled < kWidth) bar += '>' + std::string(kWidth - filled - 1, ' ');
  std::fprintf(out_,
               "\repoch %lld/%lld [%s] %lld/%lld  loss %.4f  %.0f samples/s  ETA %.0fs \x1b[K",
               static_cast<long long>(epoch_), static_cast<long long>(total_epochs_), bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(iterations_), loss, rate, eta);
  std::fflush(out_);
  bar_open_ = true;
}

void Progress::end_epoch() {
  if (bar_open_) std::fputc('\n', out_);
  bar_open_ = false;
}

void Progress::message(const std::string& line) {
  if (style_ == ProgressStyle::quiet) return;
  if (bar_open_) std::fputc('\n', out_);
  bar_open_ = false;
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

}  // namespace bdl::optim
