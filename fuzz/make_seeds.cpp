// Writes the seed corpus of the fuzz targets: small valid files of each kind.
//   make_seeds DIR   (writes DIR/model_file/*.bdl, DIR/npy/*.npy, DIR/onnx/*.onnx, DIR/idx/*
//                     DIR/example/*.pb and DIR/image/*.{jpg,png})
#include <filesystem>
#include <memory>
#include <vector>

#include "bdl/core/random.h"
#include "bdl/data/example.h"
#include "bdl/data/idx.h"
#include "bdl/data/image.h"
#include "bdl/data/npy.h"
#include "bdl/io/model_file.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/elementwise.h"
#include "bdl/nn/graph.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/pad.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/recurrent.h"
#include "bdl/nn/reduce.h"
#include "bdl/nn/reshape.h"
#include "bdl/nn/sequential.h"
#include "bdl/nn/slice.h"
#include "bdl/nn/transpose.h"
#include "bdl/onnx/export.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  using namespace bdl::nn;
  const fs::path dir = argc > 1 ? argv[1] : "fuzz/corpus";
  fs::create_directories(dir / "model_file");
  fs::create_directories(dir / "npy");
  fs::create_directories(dir / "onnx");
  fs::create_directories(dir / "idx");
  fs::create_directories(dir / "example");
  fs::create_directories(dir / "image");
  auto write_onnx = [&](Module& m, bdl::Shape sample, const char* name) {
    bdl::onnx::ExportOptions options;
    options.input_shape = std::move(sample);
    m.eval();
    bdl::onnx::export_model(m, (dir / "onnx" / name).string(), options);
  };
  bdl::manual_seed(1);
  {
    Sequential s;
    s.add(
        std::make_unique<Conv2d>(Conv2dOptions{.in_channels = 1, .out_channels = 2, .kernel = 3}));
    s.add(std::make_unique<BatchNorm>(2));
    s.add(std::make_unique<ReLU>());
    s.add(std::make_unique<MaxPool2d>(2));
    s.add(std::make_unique<Flatten>());
    s.add(std::make_unique<Dropout>(0.1f));
    s.add(std::make_unique<Linear>(8, 3));
    bdl::io::save_model(s, (dir / "model_file" / "cnn.bdl").string(), {{1, 6, 6}, "tiny cnn"});
    write_onnx(s, {1, 6, 6}, "cnn.onnx");
  }
  {
    Graph g;
    auto x = g.add_input();
    auto a = g.add(std::make_unique<Linear>(3, 3), {x}, "fc");
    auto t = g.add(std::make_unique<Tanh>(), {a});
    g.add(std::make_unique<Add>(), {t, x});
    bdl::io::save_model(g, (dir / "model_file" / "graph.bdl").string(), {{3}, "residual"});
    write_onnx(g, {3}, "graph.onnx");
  }
  {
    // The tensor layers ONNX import builds on.
    Graph g;
    auto x = g.add_input();
    auto t = g.add(std::make_unique<Transpose>(std::vector<int64_t>{0, 2, 1}), {x});
    auto p =
        g.add(std::make_unique<Pad>(std::vector<int64_t>{0, 1, 0, 0, 1, 0}, PadMode::reflect), {t});
    auto s = g.add(std::make_unique<Slice>(std::vector<int64_t>{1}, std::vector<int64_t>{0},
                                           std::vector<int64_t>{4}, std::vector<int64_t>{2}),
                   {p});
    auto b = g.add(std::make_unique<Binary>(BinaryOp::mul, bdl::Shape{1, 4}, false, true), {s});
    auto r = g.add(std::make_unique<Reduce>(ReduceOp::mean, std::vector<int64_t>{1}, true), {b});
    auto u = g.add(std::make_unique<Unary>(UnaryOp::exp), {r});
    g.add(std::make_unique<Binary>(BinaryOp::sub), {b, u});
    write_onnx(g, {4, 3}, "tensor_ops.onnx");
  }
  {
    LSTM lstm(RecurrentOptions{2, 2, true, true});
    bdl::io::save_model(lstm, (dir / "model_file" / "lstm.bdl").string());
  }
  bdl::data::write_npy(bdl::Tensor::full({2, 3}, 1.5f), (dir / "npy" / "f32.npy").string());
  bdl::data::write_npy(bdl::Tensor::from_vector(std::vector<int64_t>{1, 2, 3}, {3}),
                       (dir / "npy" / "i64.npy").string());
  bdl::Tensor images = bdl::Tensor::zeros({2, 3, 4}, bdl::DType::u8);
  for (int64_t i = 0; i < images.numel(); ++i) images.data<uint8_t>()[i] = static_cast<uint8_t>(i);
  bdl::data::write_idx((dir / "idx" / "images-idx3-ubyte").string(), images);
  bdl::data::write_idx((dir / "idx" / "images-idx3-ubyte.gz").string(), images);
  bdl::data::write_idx((dir / "idx" / "labels-idx1-ubyte.gz").string(),
                       bdl::Tensor::zeros({5}, bdl::DType::u8));
  // Records as bdl convert writes them: image bytes with a class, floats with
  // values and a weight.
  auto write_record = [&](const bdl::data::Example& e, const char* name) {
    const std::string bytes = bdl::data::encode_example(e);
    std::FILE* f = std::fopen((dir / "example" / name).string().c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  };
  using bdl::data::Feature;
  write_record({{"features", Feature::of_bytes(std::string(12, '\x07'))},
                {"shape", Feature::of_ints({1, 3, 4})},
                {"label", Feature::of_ints({3})}},
               "image.pb");
  write_record({{"features", Feature::of_floats({0.5f, -1.f, 2.f, 8.f})},
                {"shape", Feature::of_ints({2, 2})},
                {"label", Feature::of_floats({1.f, 0.25f})},
                {"weight", Feature::of_floats({0.5f})}},
               "values.pb");
  // Small images of each kind the decoders take: colour and grey, JPEG
  // (4:2:0, as libjpeg writes colour) and PNG.
  std::vector<uint8_t> pixels(40 * 30 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>((i * 37) % 251);
  const std::string image_dir = (dir / "image").string();
  bdl::data::write_jpeg(image_dir + "/colour.jpg", pixels.data(), 40, 30, 3, 75);
  bdl::data::write_jpeg(image_dir + "/grey.jpg", pixels.data(), 20, 12, 1, 90);
  bdl::data::write_png(image_dir + "/colour.png", pixels.data(), 17, 9, 3);
  bdl::data::write_png(image_dir + "/grey.png", pixels.data(), 9, 5, 1);
  return 0;
}
