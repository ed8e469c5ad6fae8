// A model file larger than 2 GiB (protobuf's limit for one message) saves and
// loads bit-exact: the weights live outside the protobuf header. Labelled
// "large" (2.3 GB on disk, about 10 GB of memory at the peak).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "bdl/io/model_file.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/sequential.h"

namespace bdl::io {
namespace {

TEST(LargeModelFile, OverTwoGibibytesRoundTrips) {
  namespace fs = std::filesystem;
  const fs::path path =
      fs::temp_directory_path() / ("bdl_large_" + std::to_string(::getpid()) + ".bdl");
  auto model = std::make_unique<nn::Sequential>();
  // 24000 x 24000 floats: 2.30 GB, over 2^31 bytes.
  auto& fc = model->add(std::make_unique<nn::Linear>(24000, 24000, false), "fc");
  auto& small = model->add(std::make_unique<nn::Linear>(24000, 3), "head");
  float* w = fc.weight().f32();
  const int64_t n = fc.weight().numel();
  ASSERT_GT(n * 4, int64_t{1} << 31);
  for (int64_t i = 0; i < n; ++i) w[i] = static_cast<float>(i % 1000003) * 1e-3f;
  save_model(*model, path.string(), {{24000}, "large"});
  EXPECT_GT(fs::file_size(path), uintmax_t{1} << 31);
  {
    auto loaded = load_model(path.string());
    auto params = loaded.model->parameters();
    ASSERT_EQ(params.size(), 3u);
    EXPECT_EQ(params[0].name, "fc.weight");
    const float* got = params[0].value->f32();
    EXPECT_EQ(std::memcmp(got, w, static_cast<size_t>(n) * 4), 0);
    EXPECT_EQ(params[1].value->to_vector(), small.weight().to_vector());
  }
  // The last bytes of the file are part of the weights: damage there is caught.
  {
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, static_cast<long>(fs::file_size(path) - 4 * 3 * 24000 - 16), SEEK_SET);
    std::fputc(0x55, f);
    std::fclose(f);
    EXPECT_THROW(load_model(path.string()), Error);
  }
  fs::remove(path);
}

}  // namespace
}  // namespace bdl::io
