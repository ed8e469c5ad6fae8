// Writes a record-shard dataset bigger than memory for the streaming benchmark
// (BENCHMARKS.md, "Bigger than memory"): Fashion-MNIST's training images
// repeated COPIES times, each copy shifted by a different (dx, dy) in [-2, 2]
// (edges filled with 0), as record shards of about 64 MB; its test split as it
// is.
//   big_shards OUT_DIR COPIES
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bdl/data/dataset.h"
#include "bdl/data/record_shards.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: big_shards OUT_DIR COPIES\n");
    return 2;
  }
  const std::string out = argv[1];
  const int64_t copies = std::atoll(argv[2]);
  using namespace bdl;
  const data::Dataset train = data::mnist_like("fashion-mnist", data::Split::train);
  const int64_t n = train.size(), h = 28, w = 28;
  Tensor images = Tensor::empty({n * copies, 1, h, w}, DType::u8);
  Tensor labels = Tensor::empty({n * copies}, DType::i64);
  const uint8_t* src = train.features().data<uint8_t>();
  uint8_t* dst = images.data<uint8_t>();
  for (int64_t c = 0; c < copies; ++c) {
    const int64_t dx = c % 5 - 2, dy = (c / 5) % 5 - 2;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t at = c * n + i;
      labels.data<int64_t>()[at] = train.targets().data<int64_t>()[i];
      for (int64_t y = 0; y < h; ++y) {
        for (int64_t x = 0; x < w; ++x) {
          const int64_t sy = y - dy, sx = x - dx;
          dst[(at * h + y) * w + x] =
              sy >= 0 && sy < h && sx >= 0 && sx < w ? src[(i * h + sy) * w + sx] : 0;
        }
      }
    }
  }
  const data::Dataset big(images, labels, "fashion-mnist x" + std::to_string(copies));
  const int64_t bytes = n * copies * (h * w + 40);
  const int64_t shards = std::max<int64_t>(1, bytes / (64 << 20));
  data::write_record_shards(big, out, data::Split::train, shards);
  data::write_record_shards(data::mnist_like("fashion-mnist", data::Split::test), out,
                            data::Split::test, 1);
  const auto info = data::describe_record_shards(out, data::Split::train);
  std::printf("%s/train: %lld samples in %lld shards, %.1f MB\n", out.c_str(),
              static_cast<long long>(info.samples), static_cast<long long>(info.shards),
              static_cast<double>(info.bytes) / 1e6);
  return 0;
}
