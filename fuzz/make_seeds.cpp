// Writes the seed corpus of the fuzz targets: small valid files of each kind.
//   make_seeds DIR   (writes DIR/model_file/*.bdl and DIR/npy/*.npy)
#include <filesystem>
#include <memory>

#include "bdl/core/random.h"
#include "bdl/io/model_file.h"
#include "bdl/io/npy.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/graph.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/recurrent.h"
#include "bdl/nn/reshape.h"
#include "bdl/nn/sequential.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  using namespace bdl::nn;
  const fs::path dir = argc > 1 ? argv[1] : "fuzz/corpus";
  fs::create_directories(dir / "model_file");
  fs::create_directories(dir / "npy");
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
  }
  {
    Graph g;
    auto x = g.add_input();
    auto a = g.add(std::make_unique<Linear>(3, 3), {x}, "fc");
    auto t = g.add(std::make_unique<Tanh>(), {a});
    g.add(std::make_unique<Add>(), {t, x});
    bdl::io::save_model(g, (dir / "model_file" / "graph.bdl").string(), {{3}, "residual"});
  }
  {
    LSTM lstm(RecurrentOptions{2, 2, true, true});
    bdl::io::save_model(lstm, (dir / "model_file" / "lstm.bdl").string());
  }
  bdl::io::write_npy(bdl::Tensor::full({2, 3}, 1.5f), (dir / "npy" / "f32.npy").string());
  bdl::io::write_npy(bdl::Tensor::from_vector(std::vector<int64_t>{1, 2, 3}, {3}),
                     (dir / "npy" / "i64.npy").string());
  return 0;
}
