// Loading a model file against reading the same file from the page cache, side by
// side in one process (BENCHMARKS.md, "Model loading"). Every round: read the
// file into a fresh buffer (what any loader must at least do), read it into a
// reused buffer (the copy alone), bdl::io::load_model, and bdl::onnx::import_model
// of the same model exported to ONNX. Medians of the rounds.
//
//   load_bench [--model resnet50] [--rounds 7] [--file PATH]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bdl/core/tensor.h"
#include "bdl/io/model_file.h"
#include "bdl/models/zoo.h"
#include "bdl/onnx/export.h"
#include "bdl/onnx/import.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void read_into(const std::string& path, char* dst, size_t bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  size_t at = 0;
  while (at < bytes) {
    const ssize_t n = ::read(fd, dst + at, bytes - at);
    if (n <= 0) break;
    at += static_cast<size_t>(n);
  }
  ::close(fd);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_name = "resnet50";
  int rounds = 7;
  std::string path = (std::filesystem::temp_directory_path() / "bdl_load_bench.bdl").string();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--model") model_name = argv[i + 1];
    if (flag == "--rounds") rounds = std::stoi(argv[i + 1]);
    if (flag == "--file") path = argv[i + 1];
  }
  {
    auto model = bdl::models::make(model_name, 1000);
    bdl::io::save_model(*model, path, {bdl::models::find(model_name).sample, model_name});
    bdl::onnx::ExportOptions options;
    options.input_shape = bdl::models::find(model_name).sample;
    model->eval();
    bdl::onnx::export_model(*model, path + ".onnx", options);
  }
  const size_t bytes = std::filesystem::file_size(path);
  std::vector<char> reused(bytes);
  read_into(path, reused.data(), bytes);  // page cache warm, reused buffer touched
  std::vector<double> fresh_s, reused_s, load_s, onnx_s;
  for (int r = 0; r < rounds; ++r) {
    {
      // A fresh buffer, allocated as bdl allocates tensors (huge pages when large).
      const auto t = Clock::now();
      bdl::Storage fresh(bytes);
      read_into(path, static_cast<char*>(fresh.data()), bytes);
      fresh_s.push_back(seconds_since(t));
    }
    {
      const auto t = Clock::now();
      read_into(path, reused.data(), bytes);
      reused_s.push_back(seconds_since(t));
    }
    {
      const auto t = Clock::now();
      auto loaded = bdl::io::load_model(path);
      load_s.push_back(seconds_since(t));
    }
    {
      const auto t = Clock::now();
      auto imported = bdl::onnx::import_model(path + ".onnx");
      onnx_s.push_back(seconds_since(t));
    }
  }
  const double f = median(fresh_s), u = median(reused_s), l = median(load_s);
  std::printf("model %s: %.1f MB file, medians of %d rounds\n", model_name.c_str(),
              static_cast<double>(bytes) / 1e6, rounds);
  std::printf("  read into a fresh buffer   %8.1f ms  %6.2f GB/s\n", f * 1e3, bytes / f / 1e9);
  std::printf("  read into a reused buffer  %8.1f ms  %6.2f GB/s\n", u * 1e3, bytes / u / 1e9);
  std::printf("  bdl::io::load_model        %8.1f ms  %6.2f GB/s\n", l * 1e3, bytes / l / 1e9);
  std::printf("  load / fresh read %.2fx, load / reused read %.2fx\n", l / f, l / u);
  const double o = median(onnx_s);
  std::printf("  bdl::onnx::import_model    %8.1f ms  (%.1f MB ONNX file, %.2fx the fresh read)\n",
              o * 1e3, static_cast<double>(std::filesystem::file_size(path + ".onnx")) / 1e6,
              o / f);
  std::filesystem::remove(path);
  std::filesystem::remove(path + ".onnx");
  return 0;
}
