// Images per second that bdl's image-folder stream delivers (decode, transform
// and batch, no training), the figure bench/data/decode_bench.py sets beside
// PyTorch's DataLoader.
// Usage: image_decode DIR AUGMENT SIZE THREADS [EPOCHS] [BATCH]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bdl/core/error.h"
#include "bdl/data/image_folder.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: image_decode DIR AUGMENT SIZE THREADS [EPOCHS] [BATCH]\n");
    return 2;
  }
  try {
    const std::string dir = argv[1], augment = argv[2];
    const int64_t size = std::atoll(argv[3]);
    const int threads = std::atoi(argv[4]);
    const int epochs = argc > 5 ? std::atoi(argv[5]) : 2;
    const int64_t batch = argc > 6 ? std::atoll(argv[6]) : 64;
    bdl::data::ImageFolderOptions options;
    options.transform = bdl::data::image_transform(augment, size, size, 3);
    const bdl::data::Source source = bdl::data::image_folder(dir, bdl::data::Split::train, options);
    bdl::data::StreamOptions stream;
    stream.batch_size = batch;
    stream.decode_threads = threads;
    stream.drop_last = false;
    const auto s = source.open(0, 1, stream);
    // Epoch 0 warms the page cache and the buffers; the others are timed.
    int64_t images = 0;
    double checksum = 0, seconds = 0;
    for (int e = 0; e <= epochs; ++e) {
      const auto start = std::chrono::steady_clock::now();
      s->start_epoch(e, 0, s->num_batches());
      while (const bdl::data::MiniBatch* b = s->next()) {
        if (e > 0) images += b->size();
        checksum += b->input.f32()[0];
      }
      if (e > 0) {
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
    }
    std::printf(
        "{\"images\": %lld, \"seconds\": %.4f, \"images_per_s\": %.2f, \"checksum\": %.3f}\n",
        static_cast<long long>(images), seconds, static_cast<double>(images) / seconds, checksum);
  } catch (const bdl::Error& e) {
    std::fprintf(stderr, "image_decode: %s\n", e.what());
    return 1;
  }
  return 0;
}
