#pragma once

// A fresh directory under the system's temporary directory for one test (or
// one fixture), removed with everything in it when it goes out of scope.
#include <unistd.h>

#include <filesystem>
#include <string>

namespace bdl::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "bdl_test") {
    path_ = std::filesystem::temp_directory_path() /
            (prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

}  // namespace bdl::testing
