// Trains LeNet-5 on Fashion-MNIST with the bdl library (no command-line tool), and
// prints the test accuracy after each epoch. Build: it is part of the CMake
// project (target fashion_mnist_example); run: build/examples/fashion_mnist_example.
#include <cstdio>

#include "bdl/core/random.h"
#include "bdl/core/threads.h"
#include "bdl/data/dataset.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/cross_entropy.h"
#include "bdl/optim/optimizer.h"
#include "bdl/optim/sgd.h"

int main(int argc, char** argv) {
  using namespace bdl;
  const std::string data_dir = argc > 1 ? argv[1] : "fashion-mnist";
  try {
    set_num_threads(0);  // one per core
    manual_seed(1);
    auto train = data::mnist_like(data_dir, data::Split::train).map(data::kFashionMnistNormalize);
    auto test = data::mnist_like(data_dir, data::Split::test).map(data::kFashionMnistNormalize);
    auto model = models::lenet5(10);
    nn::CrossEntropy loss;
    const optim::TrainResult result =
        optim::Optimizer(*model, train, loss)
            .method(optim::SGD({.lr = 0.05, .momentum = 0.9}))
            .batch_size(128)
            .end_when(optim::max_epoch(3))
            .validate(optim::every_epoch(), test)
            .on_epoch([](const optim::EpochRecord& r) {
              std::printf("epoch %lld: test top-1 %.4f\n", static_cast<long long>(r.epoch),
                          r.validation->top1());
            })
            .optimize();
    std::printf("%.0f samples/s\n", result.samples_per_sec());
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
