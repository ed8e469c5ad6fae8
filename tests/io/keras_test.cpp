// Keras models in: every fixture of tools/fixtures/gen_keras.py (Keras 3.15 on
// its PyTorch backend) in both file formats gives Keras's outputs; bad files and
// layers bdl lacks are named; an imported model trains.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "bdl/data/npy.h"
#include "bdl/keras/import.h"
#include "bdl/nn/losses/cross_entropy.h"
#include "support/errors.h"
#include "support/fixtures.h"

namespace bdl::testing {
namespace {

namespace fs = std::filesystem;

fs::path fixture_dir() { return fs::path(BDL_FIXTURE_DIR) / "keras"; }

double relative_error(const Tensor& got, const Tensor& want) {
  const auto g = got.contiguous().to_vector();
  const auto w = want.contiguous().to_vector();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    diff = std::max(diff, std::fabs(double{g[i]} - w[i]));
    scale = std::max(scale, std::fabs(double{w[i]}));
  }
  return diff / std::max(scale, 1e-12);
}

// Token ids arrive as int64 .npy; bdl's graphs take them as float32.
Tensor as_float(const Tensor& t) {
  if (t.dtype() == DType::f32) return t;
  std::vector<float> v;
  for (int64_t i = 0; i < t.numel(); ++i) v.push_back(static_cast<float>(t.data<int64_t>()[i]));
  return Tensor::from_vector(std::span<const float>(v), t.shape());
}

class KerasFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(KerasFixture, BothFormatsGiveKerasOutputs) {
  const std::string name = GetParam();
  const Tensor x = as_float(data::read_npy((fixture_dir() / (name + "_input.npy")).string()));
  const Tensor want = data::read_npy((fixture_dir() / (name + "_output.npy")).string());
  for (const char* ext : {".keras", ".h5"}) {
    const std::string path = (fixture_dir() / (name + ext)).string();
    ASSERT_TRUE(keras::looks_like_keras(path)) << path;
    keras::ImportedModel m = keras::import_model(path);
    EXPECT_EQ(m.name, name);
    EXPECT_EQ(m.keras_version, "3.15.1") << path;
    Shape sample(x.shape().begin() + 1, x.shape().end());
    EXPECT_EQ(m.input_shape, sample) << path;
    m.graph->eval();
    const Tensor& got = m.graph->forward(x);
    ASSERT_EQ(got.shape(), want.shape()) << path;
    EXPECT_LE(relative_error(got, want), 1e-4) << path;
  }
}

INSTANTIATE_TEST_SUITE_P(Keras, KerasFixture,
                         ::testing::Values("mlp", "cnn", "functional", "text_lstm", "text_gru"),
                         [](const auto& info) { return info.param; });

TEST(KerasImport, LayersBdlLacksAreNamedAtOnce) {
  for (const char* ext : {".keras", ".h5"}) {
    const std::string path = (fixture_dir() / (std::string("unsupported") + ext)).string();
    const std::string e = error_of([&] { keras::import_model(path); });
    EXPECT_THAT(e, ::testing::HasSubstr(path + ": unsupported layers: Conv2DTranspose (x2), "
                                               "UpSampling2D"));
    EXPECT_THROW(keras::import_model(path), keras::Unsupported);
  }
}

TEST(KerasImport, DamagedAndForeignFilesAreNamed) {
  const fs::path dir = fs::temp_directory_path() / "bdl_keras_test";
  fs::create_directories(dir);
  auto cut = [&](const std::string& name, size_t bytes) {
    std::ifstream in(fixture_dir() / name, std::ios::binary);
    std::string data(bytes, '\0');
    in.read(data.data(), static_cast<std::streamsize>(bytes));
    const fs::path out = dir / ("cut_" + name);
    std::ofstream(out, std::ios::binary).write(data.data(), static_cast<std::streamsize>(bytes));
    return out.string();
  };
  const std::string keras_cut = cut("mlp.keras", 3000);
  EXPECT_THAT(error_of([&] { keras::import_model(keras_cut); }),
              ::testing::HasSubstr(keras_cut + ": not a readable zip archive"));
  const std::string h5_cut = cut("mlp.h5", 5000);
  EXPECT_THAT(error_of([&] { keras::import_model(h5_cut); }),
              ::testing::HasSubstr(h5_cut + ": cannot open the HDF5 file"));
  const fs::path text = dir / "notes.keras";
  std::ofstream(text) << "not a model\n";
  EXPECT_THAT(error_of([&] { keras::import_model(text.string()); }),
              ::testing::HasSubstr("not a Keras model file"));
  EXPECT_FALSE(keras::looks_like_keras(text.string()));
  EXPECT_THAT(error_of([&] { keras::import_model((dir / "missing.h5").string()); }),
              ::testing::HasSubstr("missing.h5: cannot open the file"));
  fs::remove_all(dir);
}

TEST(KerasImport, AnImportedModelTrains) {
  // The weights are parameters: steps on the CNN's logits lower the loss.
  keras::ImportedModel m = keras::import_model((fixture_dir() / "cnn.h5").string());
  const Tensor x = data::read_npy((fixture_dir() / "cnn_input.npy").string());
  Tensor y({3}, DType::i64);
  for (int64_t i = 0; i < 3; ++i) y.data<int64_t>()[i] = i;
  m.graph->train();
  m.graph->set_needs_input_grad(false);
  nn::CrossEntropy ce;
  auto params = m.graph->parameters();
  ASSERT_EQ(params.size(), 9u);  // 3 convolutions (one without bias), BatchNorm, Dense
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    m.graph->zero_grad();
    const Tensor& out = m.graph->forward(x);
    const double loss = ce.forward(out, y);
    if (step == 0) first = loss;
    last = loss;
    m.graph->backward(x, ce.backward(out, y));
    for (auto& p : params) {
      auto v = p.value->span_f32();
      const auto g = p.grad->contiguous().to_vector();
      for (size_t i = 0; i < v.size(); ++i) v[i] -= 0.02f * g[i];
    }
  }
  EXPECT_LT(last, 0.5 * first);
}

}  // namespace
}  // namespace bdl::testing
