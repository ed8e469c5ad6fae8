// libFuzzer target: bdl::data::parse_npy on arbitrary bytes (see fuzz/README.md).
#include <cstdint>
#include <string>

#include "bdl/data/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const bdl::Tensor t =
        bdl::data::parse_npy(std::string(reinterpret_cast<const char*>(data), size), "input.npy");
    (void)t.numel();
  } catch (const bdl::Error&) {
  }
  return 0;
}
