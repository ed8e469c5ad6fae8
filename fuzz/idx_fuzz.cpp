// libFuzzer target: bdl::data::parse_idx on arbitrary bytes, plain or gzip (see fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <span>

#include "bdl/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const bdl::Tensor t =
        bdl::data::parse_idx(std::span(reinterpret_cast<const std::byte*>(data), size), "input");
    (void)t.numel();
  } catch (const bdl::Error&) {
  }
  return 0;
}
