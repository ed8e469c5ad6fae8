// libFuzzer target: bdl::io::load_model on arbitrary bytes. Any input must load or
// throw bdl::Error; a crash, a sanitizer report, a leak or a hang is a bug.
// See fuzz/README.md.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "bdl/io/model_file.h"

namespace {
std::string scratch_path() {
  return "/dev/shm/bdl_fuzz_model_" + std::to_string(::getpid()) + ".bdl";
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = scratch_path();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    auto loaded = bdl::io::load_model(path);
    // A model that loads must also describe itself without failing.
    (void)loaded.model->parameters();
    (void)loaded.model->describe();
  } catch (const bdl::Error&) {
  }
  return 0;
}
