// libFuzzer target: bytes as an image file (see fuzz/README.md), through what
// an image folder does with each file: the header's size, a decode of a region
// at a reduced scale, and the transforms (random resized crop and jitter to
// RGB, centre crop to grey). Nothing may crash or run past the sanitizers;
// every failure must be a bdl::Error naming the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "bdl/core/error.h"
#include "bdl/data/image.h"
#include "bdl/data/image_transform.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bdl::data;
  const std::span<const uint8_t> bytes(data, size);
  static ImageTransformer strong(image_transform("strong", 24, 32, 3));
  static ImageTransformer grey(image_transform("none", 16, 16, 1));
  static ImageDecoder decoder;
  static std::vector<float> out(3 * 24 * 32);
  const std::string where = "fuzz.img";
  try {
    const ImageSize s = decoder.size(bytes, where);
    if (s.width <= 0 || s.height <= 0) std::abort();
    const Region half{s.width / 4.0, s.height / 3.0, s.width / 2.0, s.height / 2.0};
    const ImageView v = decoder.decode(bytes, where, 3, half, {8, 8});
    if (v.width <= 0 || v.height <= 0 || v.pixels == nullptr) std::abort();
  } catch (const bdl::Error& e) {
    if (std::string(e.what()).find(where) == std::string::npos) std::abort();
  }
  for (ImageTransformer* t : {&strong, &grey}) {
    try {
      t->apply(bytes, where, size, out.data());
    } catch (const bdl::Error& e) {
      if (std::string(e.what()).find(where) == std::string::npos) std::abort();
    }
  }
  return 0;
}
